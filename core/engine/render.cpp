#include "core/engine/render.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/ops/rand.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/engine/cost_function.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/iterate_average.h"
#include "core/engine/level_start.h"
#include "core/engine/network_geometry.h"
#include "core/engine/stepper.h"
#include "core/engine/tensor_convert.h"
#include "core/faces/identity_term.h"
#include "core/faces/portrait_guard.h"
#include "core/io/color_transfer.h"
#include "core/io/image_io.h"
#include "core/settings/pyramid.h"
#include "core/util/error.h"

namespace impasto {

void RenderControl::submitWeights(const LossWeights& weights) {
  std::lock_guard<std::mutex> lock(mailboxMutex_);
  mailbox_ = weights;
}

std::optional<LossWeights> RenderControl::takeWeights() {
  std::lock_guard<std::mutex> lock(mailboxMutex_);
  std::optional<LossWeights> taken;
  taken.swap(mailbox_);
  return taken;
}

void RenderControl::throwIfCancelled(RenderPhase phase) {
  if (probe_) probe_(phase);
  if (cancelled_) throw RenderCancelled();
}

std::string computeDeviceName() { return torch::cuda::is_available() ? "cuda" : "cpu"; }

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kCheckpointPairBytes = 256.0 * 1024 * 1024;
// Faces below this many pixels a side at a coarse level are left out of its
// identity term: their 150 px encoding would be of a blur, not of a face.
constexpr double kMinIdentityFace = 24.0;

at::Tensor initialImage(const RenderJob& job, const RenderSettings& settings, const at::Tensor& content) {
  switch (settings.init) {
    case InitKind::Content:
      return content.clone();
    case InitKind::Noise: {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed);
      return at::rand(content.sizes(), generator, at::kFloat);
    }
    case InitKind::Image: {
      if (job.initImage.empty()) throw Error(ErrorKind::Usage, "No init image given");
      cv::Mat resized;
      cv::resize(job.initImage, resized, cv::Size(int(content.size(3)), int(content.size(2))), 0, 0,
                 cv::INTER_AREA);
      return imageToTensor(resized);
    }
  }
  return content.clone();
}

void applyThreads(int threads) {
  if (threads > 0)
    at::set_num_threads(threads);
  else
    at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
}

// The style image for a level: styleScale times G's size; by default G's size
// but never upscaled beyond its own pixels (Gram rescaling covers the rest).
at::Tensor styleForLevel(const cv::Mat& style, int levelSize, double styleScale) {
  const int native = std::max(style.cols, style.rows);
  int longest = styleScale > 0.0 ? int(std::lround(styleScale * levelSize)) : std::min(levelSize, native);
  longest = std::clamp(longest, kMinSize, kMaxSize);
  return imageToTensor(resizeToLongest(style, longest));
}

// The job the optimisation sees. Luminance: the photo, the paintings and an
// init image become grey (the paintings with the photo's luma mean and
// contrast), so that G takes the style's brushwork and none of its colours;
// the photo's chroma goes back on at every frame and on the result
// (RenderLoop::inPhotoColors). Histogram: the paintings get the photo's colour
// mean and covariance, and the transfer runs as usual.
RenderJob withColorPreservation(const RenderJob& job, PreserveColors mode) {
  RenderJob prepared = job;  // cv::Mat copies share their pixels
  if (mode == PreserveColors::Luminance) {
    prepared.content = lumaAsRgb(job.content);
    for (auto& style : prepared.styles) style = matchedLumaAsRgb(style, job.content);
    if (!job.initImage.empty()) prepared.initImage = lumaAsRgb(job.initImage);
  } else if (mode == PreserveColors::Histogram) {
    for (auto& style : prepared.styles) style = matchColorStatistics(style, job.content);
  }
  return prepared;
}

// The optimisation, level by level: owns what lives across levels (G, the
// weights, the iteration count, the clock) and runs one level's steps.
class RenderLoop {
 public:
  // photo: the content image as given, whose colours a luminance-only transfer puts back.
  RenderLoop(const RenderJob& job, const cv::Mat& photo, const RenderSettings& settings,
             RenderObserver& observer, RenderControl& control)
      : job_(job),
        photo_(photo),
        settings_(settings),
        observer_(observer),
        control_(control),
        levels_(pyramidLevels(settings)),
        shares_(levelWorkShares(levels_)),
        weights_(settings.weights),
        nextChange_(settings.weightChanges.begin()),
        average_(settings.averageDecay) {
    for (const auto& level : levels_) total_ += level.iterations;
  }

  RenderResult run() {
    findFaces();
    const at::Device device(computeDeviceName() == "cuda" ? at::kCUDA : at::kCPU);
    const cv::Size finalSize = sizeForLongest(job_.content.size(), settings_.size);
    const RenderState* resume = job_.resumeFrom ? &*job_.resumeFrom : nullptr;
    const std::size_t firstLevel = resume ? resumePoint(*resume) : 0;
    at::Tensor generated;
    double doneShare = 0.0;
    for (std::size_t k = 0; k < firstLevel; ++k) doneShare += shares_[k];
    // A render too big even in tiles fails now, not after its coarse levels.
    planMemory(*job_.model, settings_, finalSize.width, finalSize.height, job_.tile, job_.maxMemoryBytes);
    try {
      control_.throwIfCancelled(RenderPhase::Start);
      observer_.onStarted(finalSize.width, finalSize.height);
      runLevels(firstLevel, resume, generated, device, doneShare);
    } catch (const RenderCancelled&) {
      // Thrown between layers: G still holds the last completed step.
      result_.cancelled = true;
    }
    if (!generated.defined())  // cancelled before the first level began
      generated = initialImage(job_, settings_, contentAt(levels_.front().size));
    at::Tensor shown = averaged(generated);
    // Stopped at a coarse level: the result still has the size asked for.
    if (shown.size(2) != finalSize.height || shown.size(3) != finalSize.width)
      shown = resizeImageTensor(shown, finalSize.height, finalSize.width);
    result_.image = inPhotoColors(tensorToImage(shown));
    return result_;
  }

 private:
  void runLevels(std::size_t firstLevel, const RenderState* resume, at::Tensor& generated,
                 const at::Device& device, double doneShare) {
    for (std::size_t k = firstLevel; k < levels_.size(); ++k) {
      const PyramidLevel& level = levels_[k];
      // The last level's blocks are the wrong sizes for this one: give them back.
      if (k > firstLevel) releaseCachedCpuMemory();
      at::Tensor content = contentAt(level.size);
      if (resume && k == firstLevel) {
        generated = imageToTensor(resume->generated);
        if (generated.sizes() != content.sizes())
          throw Error(ErrorKind::Input,
                      "The checkpoint's image is not the size of its level: it belongs to "
                      "another render");
      } else {
        generated = generated.defined() ? nextLevelStart(generated, contentAt(levels_[k - 1].size), content)
                                        : initialImage(job_, settings_, content);
      }
      generated = generated.to(device).contiguous();
      observer_.onLevel(int(k) + 1, int(levels_.size()), int(content.size(3)), int(content.size(2)));
      // The starting image at once, before the targets' forwards: the preview
      // shows something the moment Start is pressed.
      if (k == 0 && !resume) observer_.onFrame(iteration_, frameOf(generated));
      const bool resuming = resume && k == firstLevel;
      runLevel(int(k), std::move(content), generated, device, doneShare, resuming ? resume : nullptr);
      doneShare += shares_[k];
    }
  }

  // The content image (as the optimisation sees it) at a level's size.
  at::Tensor contentAt(int longest) const { return imageToTensor(resizeToLongest(job_.content, longest)); }

  // Where a resumed render picks up: its level, with the count, clock and
  // weights of the checkpoint. Returns the level.
  std::size_t resumePoint(const RenderState& state) {
    if (state.level < 0 || std::size_t(state.level) >= levels_.size() || state.levelStep < 0 ||
        state.levelStep > levels_[std::size_t(state.level)].iterations || state.generated.type() != CV_32FC3)
      throw Error(ErrorKind::Input,
                  "The checkpoint does not fit this render's levels: it belongs to another render");
    iteration_ = state.iteration;
    elapsedBefore_ = state.elapsedSeconds;
    weights_ = state.weights;
    while (nextChange_ != settings_.weightChanges.end() && nextChange_->fromIteration <= iteration_)
      ++nextChange_;
    return std::size_t(state.level);
  }

  void runLevel(int k, at::Tensor content, at::Tensor& generated, const at::Device& device, double doneShare,
                const RenderState* resume) {
    const PyramidLevel& level = levels_[std::size_t(k)];
    const MemoryPlan plan = planMemory(*job_.model, settings_, int(generated.size(3)), int(generated.size(2)),
                                       job_.tile, job_.maxMemoryBytes);
    observer_.onMemoryPlan(k + 1, plan);
    std::vector<at::Tensor> styles;
    for (const auto& style : job_.styles)
      styles.push_back(styleForLevel(style, level.size, settings_.styleScale));
    requireLargeEnough(content, "content image");
    for (const auto& style : styles) requireLargeEnough(style, "style image");
    // The identity term keeps the faces found in C at full size (see
    // findFaces), scaled to this level; γ may be 0 now and turned up later.
    std::shared_ptr<const IdentityTerm> identity;
    if (job_.faceModels) {
      std::vector<FaceRect> regions;
      const cv::Size levelSize(int(content.size(3)), int(content.size(2)));
      for (const FaceRect& r : alignedRegionsAt(contentFaces_, photo_.size(), levelSize))
        if (std::min(r.width, r.height) >= kMinIdentityFace) regions.push_back(r);
      if (!regions.empty())
        identity = std::make_shared<const IdentityTerm>(*job_.faceModels, content, std::move(regions));
    }
    // Targets at this level's size: content activations and style Grams.
    CostFunction cost(
        job_.model, std::move(content), std::move(styles), job_.styleBlend, settings_.contentLayer, weights_,
        device, at::kFloat, [this](RenderPhase phase) { control_.throwIfCancelled(phase); }, plan.tile);
    if (identity) cost.setExtraTerm([identity](const at::Tensor& g) { return identity->evaluate(g); });
    Stepper stepper(settings_.optimizer, settings_.learningRate, generated);
    if (resume) stepper.load(resume->optimizer);
    average_.reset();
    if (resume) average_.load(resume->optimizer, generated);
    lastCheckpoint_ = Clock::now();
    for (int step = resume ? resume->levelStep + 1 : 1; step <= level.iterations; ++step) {
      waitWhilePaused();
      control_.throwIfCancelled(RenderPhase::Step);
      const int i = iteration_ + 1;
      StepReport report;  // result_.last only once the step is complete
      report.newWeights = takeNewWeights(i);
      if (report.newWeights) {
        cost.setWeights(*report.newWeights);
        // Not a reset: a restarted L-BFGS creeps for steps and a dragged
        // slider would freeze the picture. The history is kept and rescaled.
        stepper.costChanged(cost);
      }
      CostTerms terms = stepper.step(cost);
      if (settings_.average == Averaging::Ema) average_.add(generated);

      report.iteration = i;
      report.iterations = total_;
      report.level = k + 1;
      report.levels = int(levels_.size());
      report.width = int(generated.size(3));
      report.height = int(generated.size(2));
      report.progress = doneShare + shares_[std::size_t(k)] * step / level.iterations;
      report.loss = terms.total.item<double>();
      report.contentLoss = terms.content;
      report.styleLoss = terms.style;
      report.styleLossPerLayer = terms.stylePerLayer;
      report.tvLoss = terms.tv;
      report.identityLoss = terms.identity;
      report.elapsedSeconds = elapsedSeconds();
      iteration_ = i;
      result_.iterations = i;
      result_.last = std::move(report);
      observer_.onStep(result_.last);
      // Every k-th step, and each level's last, so the preview shows what a level found.
      if (i % settings_.frameEvery == 0 || step == level.iterations) observer_.onFrame(i, frameOf(generated));
      weights_ = cost.weights();
      if (checkpointDue(i)) checkpoint(k, step, generated, stepper);
    }
  }

  // The faces of C for the identity term, found once in the photo at its own
  // size: landmarks and the aligned regions are most precise there, a coarse
  // level keeps faces too small to detect in it, and every level keeps the
  // regions the portrait guard measures (core/faces/portrait_guard.h).
  void findFaces() {
    if (job_.faceModels) contentFaces_ = job_.faceModels->analyze(photo_);
  }

  // A network shrinks its input at each pooling: below its minimum LibTorch
  // would stop mid-render with a message about kernel sizes.
  void requireLargeEnough(const at::Tensor& image, const std::string& what) const {
    std::vector<std::string> used{settings_.contentLayer};
    for (const auto& [name, lambda] : weights_.styleLayers) used.push_back(name);
    const std::int64_t minimum = minimumInputSize(*job_.model, deepestLayerIndex(*job_.model, used));
    const std::int64_t shorter = std::min(image.size(2), image.size(3));
    if (shorter < minimum)
      throw Error(ErrorKind::Usage, "The " + what + " is " + std::to_string(shorter) +
                                        " px on its shorter side at this size, but " +
                                        job_.model->manifest().name + " needs at least " +
                                        std::to_string(minimum) + " px: choose a larger size");
  }

  bool checkpointDue(int iteration) const {
    if (job_.checkpointEvery <= 0) return false;
    return iteration % job_.checkpointEvery == 0 ||
           std::chrono::duration<double>(Clock::now() - lastCheckpoint_).count() >= job_.checkpointSeconds;
  }

  void checkpoint(int k, int step, const at::Tensor& generated, const Stepper& stepper) {
    RenderState state;
    state.iteration = iteration_;
    state.level = k;
    state.levelStep = step;
    state.elapsedSeconds = elapsedSeconds();
    state.weights = weights_;
    state.generated = tensorToImage(generated);
    // L-BFGS pairs are two copies of G each: a print-size checkpoint keeps
    // the newest that fit in kCheckpointPairBytes.
    const double pairBytes = 2.0 * double(generated.numel()) * sizeof(float);
    state.optimizer = stepper.save(int(kCheckpointPairBytes / pairBytes));
    average_.save(state.optimizer);
    observer_.onCheckpoint(state);
    lastCheckpoint_ = Clock::now();
  }

  // What the preview and the export show of G: its average, when averaging.
  at::Tensor averaged(const at::Tensor& generated) const {
    return settings_.average == Averaging::Ema ? average_.value(generated) : generated;
  }

  // A luma-only G with the photo's chroma put back (the same size as G's level or the result).
  cv::Mat inPhotoColors(cv::Mat image) {
    if (settings_.preserveColors != PreserveColors::Luminance) return image;
    if (photoAtSize_.size() != image.size())
      cv::resize(photo_, photoAtSize_, image.size(), 0, 0, cv::INTER_AREA);
    return withChromaOf(image, photoAtSize_);
  }

  cv::Mat frameOf(const at::Tensor& generated) {
    return toRgb8(inPhotoColors(tensorToImage(averaged(generated))));
  }

  double elapsedSeconds() const {
    return elapsedBefore_ + std::chrono::duration<double>(Clock::now() - start_ - pausedFor_).count();
  }

  // Returns when resumed or cancelled.
  void waitWhilePaused() {
    if (!control_.paused()) return;
    const auto pauseStart = Clock::now();
    while (control_.paused() && !control_.cancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    pausedFor_ += Clock::now() - pauseStart;
  }

  // The studio's sliders win over a change replayed from a preset.
  std::optional<LossWeights> takeNewWeights(int iteration) {
    std::optional<LossWeights> scheduled;
    for (; nextChange_ != settings_.weightChanges.end() && nextChange_->fromIteration <= iteration;
         ++nextChange_)
      scheduled = nextChange_->weights;
    std::optional<LossWeights> submitted = control_.takeWeights();
    return submitted ? submitted : scheduled;
  }

  const RenderJob& job_;
  const cv::Mat& photo_;
  std::vector<FaceAnalysis> contentFaces_;
  cv::Mat photoAtSize_;  // photo_ at the size of the last image inPhotoColors coloured
  const RenderSettings& settings_;
  RenderObserver& observer_;
  RenderControl& control_;
  const std::vector<PyramidLevel> levels_;
  const std::vector<double> shares_;
  LossWeights weights_;  // carried from level to level, with the live changes
  std::vector<WeightChange>::const_iterator nextChange_;
  int total_ = 0;
  int iteration_ = 0;
  const Clock::time_point start_ = Clock::now();
  double elapsedBefore_ = 0.0;  // of the render a checkpoint resumes
  Clock::time_point lastCheckpoint_ = start_;
  Clock::duration pausedFor_{};
  IterateAverage average_;  // of the current level's steps
  RenderResult result_;
};

}  // namespace

RenderResult render(const RenderJob& job, RenderObserver& observer, RenderControl& control) {
  if (!job.model) throw Error(ErrorKind::Usage, "No model loaded");
  if (job.content.empty()) throw Error(ErrorKind::Usage, "No content image");
  if (job.styles.empty()) throw Error(ErrorKind::Usage, "No style image");
  const RenderSettings settings = resolveSettings(job.settings, *job.model);

  // Once the render's tensors are gone, the memory kept for the next step is idle.
  struct ReleaseIdleMemory {
    ~ReleaseIdleMemory() { releaseCachedCpuMemory(); }
  } releaseIdleMemory;
  return wrapErrors(ErrorKind::Internal, "Rendering failed", [&] {
    applyThreads(settings.threads);
    const RenderJob prepared = withColorPreservation(job, settings.preserveColors);
    return RenderLoop(prepared, job.content, settings, observer, control).run();
  });
}

}  // namespace impasto
