#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/memory_plan.h"
#include "core/engine/optimizer_state.h"
#include "core/models/model.h"
#include "core/settings/render_settings.h"

namespace impasto {

class FaceModels;

// A render's progress in plain arrays, to save it and resume it later
// (checkpoints): where it is, G in float, and the optimiser's state.
struct RenderState {
  int iteration = 0;  // steps done, over all levels
  int level = 0;      // 0-based pyramid level G belongs to
  int levelStep = 0;  // steps done at that level
  double elapsedSeconds = 0.0;
  LossWeights weights;  // in effect at that point
  cv::Mat generated;    // G, CV_32FC3 RGB [0, 1], at the level's size
  OptimizerState optimizer;
};

// Everything a render needs, copied in before the worker starts (conventions §2).
struct RenderJob {
  cv::Mat content;                 // CV_32FC3 RGB [0, 1], any size (resized to settings.size)
  std::vector<cv::Mat> styles;     // one or more, same format
  std::vector<double> styleBlend;  // one weight per style; empty: equal
  cv::Mat initImage;               // for InitKind::Image
  ModelPtr model;
  RenderSettings settings;
  std::optional<RenderState> resumeFrom;  // continue a checkpointed render
  int checkpointEvery = 0;                // onCheckpoint every k steps (0: never)...
  double checkpointSeconds = 60.0;        // ...or after this long, whichever is first
  // Tiled evaluation (exact, for images larger than memory): the core size of
  // a tile in pixels, or 0 to tile only where the render's estimated memory
  // exceeds maxMemoryBytes (0: most of the memory available now).
  int tile = 0;
  double maxMemoryBytes = 0.0;
  // The portrait guard's identity term, γ · Σ_faces ‖f(C_face) − f(G_face)‖²
  // with γ = settings.weights.identity (live, like α and β): with faceModels
  // set, the faces are found once in C at its own size, their aligned
  // regions scaled to each level, and the term is evaluated whenever γ > 0.
  // Without faceModels γ has no effect; renders of images without faces are
  // unchanged.
  std::shared_ptr<const FaceModels> faceModels;
};

// The costs after one step. Costs are unweighted: J = α·content + β·Σ λ·style + tv·tvCost + γ·identity.
struct StepReport {
  int iteration = 0;   // 1-based, counted over all pyramid levels
  int iterations = 0;  // of all levels
  int level = 1;       // 1-based pyramid level (see core/settings/pyramid.h)
  int levels = 1;
  int width = 0;  // G's size at this level
  int height = 0;
  double progress = 0.0;  // share of the render's work done, 0..1 (levels weighted by their pixels)
  double loss = 0.0;
  double contentLoss = 0.0;
  double styleLoss = 0.0;                           // Σ_l λ_l·J_style^l
  std::map<std::string, double> styleLossPerLayer;  // J_style^l, unweighted
  double tvLoss = 0.0;
  double identityLoss = 0.0;    // Σ_faces ‖Δf‖², unweighted; 0 while γ = 0 or without faces
  double elapsedSeconds = 0.0;  // since the optimisation started
  // Set on the step that first used weights submitted through RenderControl
  // (or scheduled in settings.weightChanges): record {iteration, *newWeights}
  // to replay the render.
  std::optional<LossWeights> newWeights;
};

// Called on the render thread: keep the work short and copy what you keep.
class RenderObserver {
 public:
  virtual ~RenderObserver() = default;
  virtual void onStarted(int width, int height) {}  // the final size
  // A pyramid level begins (level 1-based): G has been resized to width x height.
  virtual void onLevel(int level, int levels, int width, int height) {}
  // Before each level: its estimated memory, and the tiles it will run in.
  virtual void onMemoryPlan(int level, const MemoryPlan& plan) {}
  virtual void onStep(const StepReport& report) {}
  // frame: CV_8UC3 RGB, owned by the caller for the duration of the call.
  virtual void onFrame(int iteration, const cv::Mat& frame) {}
  // The state to save, as RenderJob::checkpointEvery asks; valid during the call.
  virtual void onCheckpoint(const RenderState& state) {}
};

// Where a render looks for a cancel (RenderControl::throwIfCancelled).
enum class RenderPhase {
  Start,     // before any work
  Targets,   // after each layer of the content and style targets' forwards
  Forward,   // after each layer of G's forward
  Backward,  // as the backward reaches each layer
  Step,      // before each step (after a pause)
};

// Thrown by RenderControl::throwIfCancelled to unwind a cancelled render; render()
// catches it. A std::exception, so it crosses LibTorch's autograd engine.
class RenderCancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "The render was cancelled"; }
};

// Control that flows back into a running render without stopping it: cancel
// is checked between layers (a long forward or backward at print size stops
// within one layer), pause every step; new weights take effect at the next step.
class RenderControl {
 public:
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  // Called by the engine on the render thread; throws RenderCancelled once
  // cancel() was called.
  void throwIfCancelled(RenderPhase phase);
  // Sees every cancel check first, on the render thread: lets tests cancel at
  // exact points inside a step. Set it before the render starts.
  void setCancelProbe(std::function<void(RenderPhase)> probe) { probe_ = std::move(probe); }
  void setPaused(bool paused) { paused_ = paused; }
  bool paused() const { return paused_; }

  void submitWeights(const LossWeights& weights);
  // Returns the weights submitted since the last call, if any.
  std::optional<LossWeights> takeWeights();

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> paused_{false};
  std::function<void(RenderPhase)> probe_;
  std::mutex mailboxMutex_;
  std::optional<LossWeights> mailbox_;
};

struct RenderResult {
  cv::Mat image;  // CV_32FC3 RGB [0, 1], the final G
  int iterations = 0;
  bool cancelled = false;
  StepReport last;
};

// Runs the optimisation on the calling thread, coarse to fine. When
// cancelled, returns the G of the last completed step (a step cut short is
// dropped), at the final size. Throws Error for bad jobs; third-party failures
// are wrapped.
RenderResult render(const RenderJob& job, RenderObserver& observer, RenderControl& control);

// The device the engine uses: "cuda" when LibTorch has it, else "cpu".
std::string computeDeviceName();

}  // namespace impasto
