#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/engine/cost_function.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/level_start.h"
#include "core/engine/render.h"
#include "core/engine/tensor_convert.h"
#include "core/util/error.h"
#include "tests/support/aten_ops.h"
#include "tests/support/test_images.h"
#include "tests/support/test_jobs.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

// A smooth gradient "photo" and a striped "painting", both CV_32FC3 RGB [0, 1].
cv::Mat makeContent(int w = 32, int h = 24) {
  cv::Mat image(h, w, CV_32FC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) image.at<cv::Vec3f>(y, x) = {float(x) / w, float(y) / h, 0.5f};
  return image;
}

RenderJob tinyJob(int iterations = 20) {
  return test::tinyRenderJob(makeContent(), test::stripedPainting(), 32, iterations, 5);
}

struct Recorder : RenderObserver {
  std::vector<StepReport> steps;
  std::vector<int> frames;
  void onStep(const StepReport& r) override { steps.push_back(r); }
  void onFrame(int iteration, const cv::Mat& frame) override {
    EXPECT_EQ(frame.type(), CV_8UC3);
    frames.push_back(iteration);
  }
};

TEST(FeatureExtractor, TruncatesAfterDeepestRequestedLayer) {
  auto model = test::makeTinyModel();
  FeatureExtractor extractor(*model, std::vector<std::string>{"relu1", "conv2"});
  EXPECT_EQ(extractor.layerNames(), (std::vector<std::string>{"conv1", "relu1", "pool1", "conv2"}));
  auto out = extractor.forward(at::rand({1, 3, 16, 16}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out.at("relu1").sizes(), (std::vector<int64_t>{1, 8, 16, 16}));
  EXPECT_EQ(out.at("conv2").sizes(), (std::vector<int64_t>{1, 16, 8, 8}));
  // The weights are constants: only an input that asks for grad gets one.
  EXPECT_FALSE(out.at("conv2").requires_grad());
  EXPECT_TRUE(extractor.forward(at::rand({1, 3, 16, 16}).requires_grad_(true)).at("conv2").requires_grad());
}

TEST(FeatureExtractor, UnknownLayerNamesTheValidOnes) {
  auto model = test::makeTinyModel();
  try {
    FeatureExtractor extractor(*model, std::vector<std::string>{"relu9"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("relu9"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("conv1, relu1"), std::string::npos);
  }
}

TEST(FeatureExtractor, AppliesPreprocessing) {
  ModelManifest manifest = test::makeTinyModel()->manifest();
  manifest.input.bgr = true;
  manifest.input.scale = 255.f;
  manifest.input.mean = {100.f, 110.f, 120.f};
  Model model(manifest, test::makeTinyModel()->layers());
  FeatureExtractor extractor(model, std::vector<std::string>{"conv1"});
  at::Tensor rgb = at::rand({1, 3, 4, 4});
  at::Tensor x = extractor.preprocess(rgb);
  // Channel 0 of the input is blue (BGR), scaled to 0-255, minus its mean.
  EXPECT_TRUE(at::allclose(x[0][0], rgb[0][2] * 255 - 100, 1e-4, 1e-3));
  EXPECT_TRUE(at::allclose(x[0][2], rgb[0][0] * 255 - 120, 1e-4, 1e-3));
}

TEST(CostFunction, GradientMatchesFiniteDifferences) {
  at::manual_seed(5);
  auto model = test::makeTinyModel(2, 4);
  at::Tensor content = at::rand({1, 3, 12, 12}, at::kDouble);
  at::Tensor style = at::rand({1, 3, 12, 12}, at::kDouble);
  LossWeights weights;
  weights.alpha = 2.0;
  weights.beta = 50.0;
  weights.styleLayers = {{"relu1", 0.3}, {"relu2", 0.7}};
  weights.tv = 0.1;
  CostFunction cost(model, content, {style}, {}, "relu2", weights, at::kCPU, at::kDouble);

  at::Tensor g = at::rand({1, 3, 12, 12}, at::kDouble).requires_grad_(true);
  cost.evaluate(g).total.backward();
  at::Tensor analytic = g.grad().clone();

  at::NoGradGuard noGrad;
  const double h = 1e-6;
  // Pixels at random positions; the ReLUs make J piecewise smooth, so double
  // precision with a small step is needed.
  for (int k = 0; k < 12; ++k) {
    const int c = k % 3, y = (k * 5) % 12, x = (k * 7 + 3) % 12;
    at::Tensor plus = g.detach().clone(), minus = g.detach().clone();
    plus[0][c][y][x] += h;
    minus[0][c][y][x] -= h;
    const double numeric =
        (cost.evaluate(plus).total.item<double>() - cost.evaluate(minus).total.item<double>()) / (2 * h);
    const double exact = analytic[0][c][y][x].item<double>();
    EXPECT_NEAR(exact, numeric, 1e-5 * std::max(1.0, std::abs(numeric))) << "pixel " << k;
  }
}

TEST(CostFunction, ReportsWeightedParts) {
  auto model = test::makeTinyModel();
  at::Tensor content = at::rand({1, 3, 16, 16});
  at::Tensor style = at::rand({1, 3, 16, 16});
  LossWeights weights;
  weights.alpha = 3.0;
  weights.beta = 7.0;
  weights.styleLayers = {{"relu1", 0.25}, {"relu3", 0.75}};
  CostFunction cost(model, content, {style}, {}, "relu2", weights, at::kCPU);
  CostTerms terms = cost.evaluate(at::rand({1, 3, 16, 16}));
  EXPECT_NEAR(terms.style, 0.25 * terms.stylePerLayer.at("relu1") + 0.75 * terms.stylePerLayer.at("relu3"),
              1e-6 * terms.style);
  EXPECT_NEAR(terms.total.item<double>(), 3.0 * terms.content + 7.0 * terms.style,
              1e-4 * terms.total.item<double>());
  // On the content image itself the content cost vanishes.
  EXPECT_EQ(cost.evaluate(content).content, 0.0);
}

TEST(CostFunction, BlendOfIdenticalStylesEqualsOneStyle) {
  auto model = test::makeTinyModel();
  at::Tensor content = at::rand({1, 3, 16, 16});
  at::Tensor style = at::rand({1, 3, 16, 16});
  LossWeights weights;
  weights.styleLayers = {{"relu1", 1.0}};
  CostFunction one(model, content, {style}, {}, "relu2", weights, at::kCPU);
  CostFunction two(model, content, {style, style}, {3.0, 1.0}, "relu2", weights, at::kCPU);
  at::Tensor g = at::rand({1, 3, 16, 16});
  EXPECT_NEAR(one.evaluate(g).style, two.evaluate(g).style, 1e-5 * one.evaluate(g).style);
}

TEST(Render, SeededTinyRenderHalvesTheCostIn20Steps) {
  RenderJob job = tinyJob(20);
  Recorder recorder;
  RenderControl control;
  RenderResult result = render(job, recorder, control);
  ASSERT_EQ(recorder.steps.size(), 20u);
  EXPECT_LE(recorder.steps.back().loss, 0.5 * recorder.steps.front().loss);
  EXPECT_EQ(recorder.frames, (std::vector<int>{0, 5, 10, 15, 20}));  // 0: the starting image, at once
  EXPECT_EQ(result.image.type(), CV_32FC3);
  EXPECT_EQ(result.image.cols, 32);
  EXPECT_EQ(result.image.rows, 24);
  double lo, hi;
  cv::minMaxLoc(result.image.reshape(1), &lo, &hi);
  EXPECT_GE(lo, 0.0);  // G stays in gamut
  EXPECT_LE(hi, 1.0);
}

TEST(Render, AdamAlsoLowersTheCost) {
  RenderJob job = tinyJob(30);
  job.settings.optimizer = Optimizer::Adam;
  Recorder recorder;
  RenderControl control;
  render(job, recorder, control);
  EXPECT_LT(recorder.steps.back().loss, 0.8 * recorder.steps.front().loss);
}

TEST(Render, SameSeedSameOutputBitForBit) {
  for (InitKind init : {InitKind::Noise, InitKind::Content}) {
    RenderJob job = tinyJob(8);
    job.settings.init = init;
    job.settings.seed = 42;
    Recorder r1, r2;
    RenderControl c1, c2;
    cv::Mat a = render(job, r1, c1).image;
    cv::Mat b = render(job, r2, c2).image;
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  }
  RenderJob job = tinyJob(8);
  job.settings.init = InitKind::Noise;
  job.settings.seed = 1;
  Recorder r1, r2;
  RenderControl c1, c2;
  cv::Mat a = render(job, r1, c1).image;
  job.settings.seed = 2;
  cv::Mat b = render(job, r2, c2).image;
  EXPECT_GT(cv::norm(a, b, cv::NORM_INF), 0.0);
}

// Changes β from inside the observer, as a GUI thread would between steps.
struct BetaChanger : Recorder {
  RenderControl* control = nullptr;
  LossWeights weights;
  void onStep(const StepReport& r) override {
    Recorder::onStep(r);
    if (r.iteration == 5) {
      weights.beta *= 100.0;
      control->submitWeights(weights);
    }
  }
};

TEST(Render, NewWeightsTakeEffectAtTheNextStepWithoutRestart) {
  RenderJob job = tinyJob(10);
  BetaChanger observer;
  RenderControl control;
  observer.control = &control;
  observer.weights = resolveSettings(job.settings, *job.model).weights;
  render(job, observer, control);
  ASSERT_EQ(observer.steps.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(observer.steps[i].iteration, i + 1);
  const StepReport& before = observer.steps[4];
  const StepReport& after = observer.steps[5];
  // J = α·content + β·style: after the change β is 100x.
  EXPECT_NEAR(after.loss, 1.0 * after.contentLoss + 1e5 * after.styleLoss, 1e-3 * after.loss);
  EXPECT_NEAR(before.loss, 1.0 * before.contentLoss + 1e3 * before.styleLoss, 1e-3 * before.loss);
}

// A live-tuned render is reproduced by replaying its weight changes: the step
// that first used new weights reports them, and a job that schedules them at
// that iteration gives the same pixels.
TEST(Render, ReplayedWeightChangesReproduceALiveTunedRender) {
  RenderJob job = tinyJob(10);
  BetaChanger live;
  RenderControl control;
  live.control = &control;
  live.weights = resolveSettings(job.settings, *job.model).weights;
  const cv::Mat liveImage = render(job, live, control).image;
  std::vector<WeightChange> recorded;
  for (const StepReport& r : live.steps)
    if (r.newWeights) recorded.push_back({r.iteration, *r.newWeights});
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].fromIteration, 6);
  EXPECT_EQ(recorded[0].weights.beta, 1e5);

  job.settings.weightChanges = recorded;
  Recorder replay;
  RenderControl untouched;
  const cv::Mat replayed = render(job, replay, untouched).image;
  EXPECT_EQ(cv::norm(liveImage, replayed, cv::NORM_INF), 0.0);
  ASSERT_TRUE(replay.steps[5].newWeights);
  EXPECT_FALSE(replay.steps[4].newWeights);

  // Without the replay the picture is another one: the test can tell.
  job.settings.weightChanges.clear();
  Recorder plain;
  EXPECT_GT(cv::norm(liveImage, render(job, plain, untouched).image, cv::NORM_INF), 0.0);
}

struct Canceller : Recorder {
  RenderControl* control = nullptr;
  void onStep(const StepReport& r) override {
    Recorder::onStep(r);
    if (r.iteration == 3) control->cancel();
  }
};

TEST(Render, CancelStopsAtTheNextStepAndReturnsTheImage) {
  RenderJob job = tinyJob(100);
  Canceller observer;
  RenderControl control;
  observer.control = &control;
  RenderResult result = render(job, observer, control);
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.iterations, 3);
  EXPECT_EQ(observer.steps.size(), 3u);
  EXPECT_FALSE(result.image.empty());
}

TEST(Render, PauseHoldsTheLoopUntilResumed) {
  RenderJob job = tinyJob(6);
  Recorder recorder;
  RenderControl control;
  control.setPaused(true);
  std::thread worker([&] { render(job, recorder, control); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(recorder.steps.empty());
  control.setPaused(false);
  worker.join();
  EXPECT_EQ(recorder.steps.size(), 6u);
}

TEST(Render, RejectsUnknownLayersAndBadWeights) {
  RenderJob job = tinyJob(1);
  job.settings.contentLayer = "nope";
  Recorder recorder;
  RenderControl control;
  EXPECT_THROW(render(job, recorder, control), Error);
  job = tinyJob(1);
  job.settings.weights.beta = -1;
  EXPECT_THROW(render(job, recorder, control), Error);
}

// --- coarse to fine ------------------------------------------------------------

struct LevelRecorder : Recorder {
  std::vector<std::array<int, 4>> levels;  // level, levels, width, height
  void onLevel(int level, int count, int width, int height) override {
    levels.push_back({level, count, width, height});
  }
};

// 64 x 48 in three levels: 4 steps at 32 px, 4 at 45 px, 6 at 64 px.
RenderJob threeLevelJob() {
  RenderJob job = tinyJob(6);
  job.content = makeContent(64, 48);
  job.settings.size = 64;
  job.settings.scales = 3;
  job.settings.coarseIterations = 4;
  return job;
}

TEST(Pyramid, RunsEachLevelAndCountsIterationsAtTheFinalSize) {
  RenderJob job = threeLevelJob();
  LevelRecorder recorder;
  RenderControl control;
  const RenderResult result = render(job, recorder, control);
  using Level = std::array<int, 4>;
  EXPECT_EQ(recorder.levels, (std::vector<Level>{{1, 3, 32, 24}, {2, 3, 45, 34}, {3, 3, 64, 48}}));
  ASSERT_EQ(recorder.steps.size(), 4u + 4u + 6u);
  EXPECT_EQ(recorder.steps.back().iterations, 14);
  EXPECT_EQ(recorder.steps[3].level, 1);
  EXPECT_EQ(recorder.steps[4].level, 2);
  EXPECT_EQ(recorder.steps[4].width, 45);
  double progress = 0.0;
  for (const auto& r : recorder.steps) {
    EXPECT_GT(r.progress, progress);
    progress = r.progress;
  }
  EXPECT_DOUBLE_EQ(progress, 1.0);
  // Each level's last step sends a frame, so the preview shows what it found.
  EXPECT_NE(std::find(recorder.frames.begin(), recorder.frames.end(), 4), recorder.frames.end());
  EXPECT_NE(std::find(recorder.frames.begin(), recorder.frames.end(), 8), recorder.frames.end());
  EXPECT_EQ(result.image.size(), cv::Size(64, 48));
}

TEST(Pyramid, ACancelAtACoarseLevelStillReturnsTheFinalSize) {
  RenderJob job = threeLevelJob();
  struct CancelAt : Recorder {
    RenderControl* control = nullptr;
    void onStep(const StepReport& r) override {
      Recorder::onStep(r);
      if (r.iteration == 2) control->cancel();
    }
  } recorder;
  RenderControl control;
  recorder.control = &control;
  const RenderResult result = render(job, recorder, control);
  EXPECT_TRUE(result.cancelled);
  EXPECT_EQ(result.iterations, 2);
  EXPECT_EQ(result.image.size(), cv::Size(64, 48));
}

// G goes from level to level in float: no rounding to 8 bits on the way.
TEST(Pyramid, ResizingGKeepsFloatPrecisionAndTheGamut) {
  at::Tensor g = at::full({1, 3, 8, 8}, 0.50037f);
  g[0][0][0][0].fill_(1.0f);
  const at::Tensor up = resizeImageTensor(g, 11, 13);
  EXPECT_EQ(up.sizes(), (std::vector<int64_t>{1, 3, 11, 13}));
  EXPECT_NEAR(up[0][1][5][5].item<float>(), 0.50037f, 1e-6);  // not 128/255 = 0.50196
  EXPECT_LE(up.max().item<float>(), 1.0f);                    // bicubic overshoot clamped
  EXPECT_GE(up.min().item<float>(), 0.0f);
}

// A finer level starts from the photo at its size plus what the coarse levels
// changed: detail the coarse level could not hold is the photo's, not a blur.
TEST(Pyramid, ANewLevelStartsFromThePhotoPlusTheCoarseChange) {
  const at::Tensor fine = at::rand({1, 3, 12, 16}, at::TensorOptions().dtype(at::kFloat)) * 0.6f + 0.2f;
  const at::Tensor coarse = resizeImageTensor(fine, 6, 8);
  // Nothing changed at the coarse level: the start is the photo, detail and all.
  EXPECT_TRUE(at::allclose(nextLevelStart(coarse, coarse, fine), fine, 0.0, 1e-6));
  // A change the coarse level made (here: everything 0.1 brighter) carries over.
  const at::Tensor brighter = nextLevelStart(coarse + 0.1f, coarse, fine);
  EXPECT_TRUE(at::allclose(brighter, fine + 0.1f, 0.0, 1e-5));
  // And the start stays in the gamut.
  const at::Tensor saturated = nextLevelStart(coarse + 0.9f, coarse, fine);
  EXPECT_LE(saturated.max().item<float>(), 1.0f);
  EXPECT_EQ(saturated.sizes(), fine.sizes());
}

// By default a small style image is not upscaled to G's size: the render
// equals one with the style scale that keeps its own pixels; upscaling it
// (style scale 1) is another render.
TEST(Pyramid, AStyleImageIsNotUpscaledUnlessAsked) {
  auto renderWith = [](double styleScale) {
    RenderJob job = tinyJob(5);
    job.content = makeContent(64, 48);
    job.styles = {test::stripedPainting(16, 16)};
    job.settings.size = 64;
    job.settings.scales = 1;
    job.settings.styleScale = styleScale;
    Recorder recorder;
    RenderControl control;
    return render(job, recorder, control).image;
  };
  const cv::Mat automatic = renderWith(0.0);
  EXPECT_EQ(cv::norm(automatic, renderWith(0.25), cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(automatic, renderWith(1.0), cv::NORM_INF), 1e-4);
}

// --- checkpoints ---------------------------------------------------------------

struct CheckpointRecorder : Recorder {
  std::vector<RenderState> states;
  void onCheckpoint(const RenderState& state) override { states.push_back(state); }
};

RenderJob pyramidJob(Optimizer optimizer) {
  RenderJob job = tinyJob(8);
  job.content = makeContent(64, 48);
  job.settings.size = 64;
  job.settings.scales = 2;
  job.settings.coarseIterations = 6;
  job.settings.optimizer = optimizer;
  return job;
}

// The state a checkpoint keeps is the whole state: a render resumed from any
// checkpoint, at either level, ends with the same pixels as one never stopped.
TEST(Checkpoint, AResumedRenderEndsExactlyAsAnUninterruptedOne) {
  for (Optimizer optimizer : {Optimizer::Lbfgs, Optimizer::Adam}) {
    RenderJob job = pyramidJob(optimizer);
    job.checkpointEvery = 4;
    CheckpointRecorder recorder;
    RenderControl control;
    const RenderResult whole = render(job, recorder, control);
    ASSERT_EQ(recorder.states.size(), 3u);  // at steps 4, 8 and 12 of 14
    EXPECT_EQ(recorder.states[0].level, 0);
    EXPECT_EQ(recorder.states[1].level, 1);
    EXPECT_EQ(recorder.states[1].levelStep, 2);
    for (const RenderState& state : recorder.states) {
      RenderJob again = pyramidJob(optimizer);
      again.resumeFrom = state;
      Recorder second;
      RenderControl control2;
      const RenderResult resumed = render(again, second, control2);
      EXPECT_EQ(resumed.iterations, 14);
      ASSERT_FALSE(second.steps.empty());
      EXPECT_EQ(second.steps.front().iteration, state.iteration + 1);
      EXPECT_EQ(cv::norm(whole.image, resumed.image, cv::NORM_INF), 0.0)
          << "resumed at " << state.iteration << " with " << spelling(optimizer);
    }
  }
}

TEST(Checkpoint, AStateFromAnotherRenderIsRefused) {
  RenderJob job = pyramidJob(Optimizer::Lbfgs);
  job.checkpointEvery = 4;
  CheckpointRecorder recorder;
  RenderControl control;
  render(job, recorder, control);
  ASSERT_FALSE(recorder.states.empty());
  RenderJob bigger = pyramidJob(Optimizer::Lbfgs);
  bigger.settings.size = 96;  // other level sizes
  bigger.resumeFrom = recorder.states.front();
  Recorder second;
  try {
    render(bigger, second, control);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input) << e.what();
  }
  EXPECT_TRUE(second.steps.empty());
}

}  // namespace
}  // namespace impasto
