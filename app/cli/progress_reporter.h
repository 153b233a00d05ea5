#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/engine/render.h"
#include "core/faces/portrait_guard.h"

namespace impasto::cli {

// Prints render progress: a one-line bar on a terminal, or JSON lines on stdout.
class ProgressReporter : public RenderObserver {
 public:
  ProgressReporter(bool json, int reportEvery, int saveEvery, std::string output);

  void onStep(const StepReport& report) override;
  void onMemoryPlan(int level, const MemoryPlan& plan) override;
  void onFrame(int iteration, const cv::Mat& frame) override;
  void onCheckpoint(const RenderState& state) override;
  // Checkpoints go to path, with the render's description (see RenderIdentity).
  void saveCheckpointsTo(std::string path, std::string renderJson);
  // faces: the portrait guard's d(C, G) per face of the content (none: no faces, or no face models).
  void finish(const RenderResult& result, const std::string& output,
              const std::vector<FaceIdentity>& faces = {});

 private:
  bool json_;
  bool terminal_;
  int reportEvery_;
  int saveEvery_;
  std::string output_;
  std::string checkpointPath_;
  std::string checkpointRender_;
};

// OUTPUT-0042.ext for intermediate saves.
std::string snapshotPath(const std::string& output, int iteration);

}  // namespace impasto::cli
