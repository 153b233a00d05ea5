#pragma once

#include <string>

#include "core/engine/render.h"

namespace impasto::cli {

// Prints render progress: a one-line bar on a terminal, or JSON lines on stdout.
class ProgressReporter : public RenderObserver {
 public:
  ProgressReporter(bool json, int reportEvery, int saveEvery, std::string output);

  void onStep(const StepReport& report) override;
  void onFrame(int iteration, const cv::Mat& frame) override;
  void finish(const RenderResult& result, const std::string& output);

 private:
  bool json_;
  bool terminal_;
  int reportEvery_;
  int saveEvery_;
  std::string output_;
};

// OUTPUT-0042.ext for intermediate saves.
std::string snapshotPath(const std::string& output, int iteration);

}  // namespace impasto::cli
