// Cancels renders at a hundred seeded random points: before the start (while
// the caller still loads the model), inside the targets' forwards, inside G's
// forward and backward, in the step and frame callbacks, and from another
// thread at a random moment. Every render must come back promptly, say it was
// cancelled, hold the G of its last completed step and leave no thread behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "core/engine/render.h"
#include "core/io/image_io.h"
#include "tests/support/test_models.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

// A joined thread can linger in /proc for a moment; wait for it to go.
int threadCountSettled(int expected) {
  int count = test::threadCount();
  for (int i = 0; i < 100 && count > expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    count = test::threadCount();
  }
  return count;
}

cv::Mat picture(int w, int h, int variant) {
  cv::Mat image(h, w, CV_32FC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float stripe = ((x + y * variant) / 3) % 2 ? 0.9f : 0.1f;
      image.at<cv::Vec3f>(y, x) =
          variant ? cv::Vec3f(stripe, 1.0f - stripe, 0.3f) : cv::Vec3f(float(x) / w, float(y) / h, 0.5f);
    }
  return image;
}

RenderJob stressJob(int iterations) {
  RenderJob job;
  job.content = picture(40, 30, 0);
  job.styles = {picture(32, 32, 1), picture(24, 36, 2)};  // two styles: two targets forwards
  job.model = test::makeTinyModel();
  job.settings.size = 32;
  job.settings.iterations = iterations;
  job.settings.init = InitKind::Content;
  job.settings.threads = 1;
  job.settings.frameEvery = 1;
  return job;
}

const char* phaseName(RenderPhase phase) {
  switch (phase) {
    case RenderPhase::Start:
      return "start";
    case RenderPhase::Targets:
      return "targets";
    case RenderPhase::Forward:
      return "forward";
    case RenderPhase::Backward:
      return "backward";
    case RenderPhase::Step:
      return "step";
  }
  return "?";
}

bool isLayerPhase(RenderPhase phase) {
  return phase == RenderPhase::Targets || phase == RenderPhase::Forward || phase == RenderPhase::Backward;
}

// Counts what the render does, and what it still does once cancel() was called.
struct Tally : RenderObserver {
  RenderControl* control = nullptr;
  std::map<RenderPhase, int> checkpoints;
  int steps = 0, frames = 0;
  bool started = false;
  RenderPhase lastPhase = RenderPhase::Start;  // after a cancel: where it was seen
  // After the cancel flag was set:
  int checkpointsAfter = 0, layerCheckpointsAfter = 0, stepsAfter = 0, framesAfter = 0;
  // Set by the test: cancel inside the callback of this iteration.
  // 0 is a real frame (the starting image), so "none" is -1.
  int cancelInStep = -1, cancelInFrame = -1;

  void probe(RenderPhase phase) {
    ++checkpoints[phase];
    lastPhase = phase;
    if (control->cancelled()) {
      ++checkpointsAfter;
      if (isLayerPhase(phase)) ++layerCheckpointsAfter;
    }
  }
  void onStarted(int, int) override { started = true; }
  void onStep(const StepReport& r) override {
    ++steps;
    if (control->cancelled()) ++stepsAfter;
    if (r.iteration == cancelInStep) control->cancel();
  }
  void onFrame(int iteration, const cv::Mat& frame) override {
    ASSERT_EQ(frame.type(), CV_8UC3);
    ++frames;
    if (control->cancelled()) ++framesAfter;
    if (iteration == cancelInFrame) control->cancel();
  }
};

// Runs the render on a worker thread; a render that does not come back within
// the watchdog's time is a hang, and the test process cannot go on past it.
RenderResult renderWithWatchdog(const RenderJob& job, Tally& tally, RenderControl& control, unsigned seed,
                                const std::function<void()>& whileRunning = {}) {
  std::packaged_task<RenderResult()> task([&] { return render(job, tally, control); });
  std::future<RenderResult> done = task.get_future();
  std::thread worker(std::move(task));
  if (whileRunning) whileRunning();
  if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    std::fprintf(stderr, "A cancelled render hung (IMPASTO_STRESS_SEED=%u); aborting\n", seed);
    std::abort();
  }
  worker.join();
  return done.get();
}

TEST(CancelStress, AHundredRandomCancelPointsEndPromptlyCleanlyAndSayCancelled) {
  const unsigned seed = test::stressSeed();
  std::printf("[ seed     ] IMPASTO_STRESS_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  constexpr int kIterations = 5;

  // Reference images: G after exactly k steps, and how many checkpoints of
  // each phase a whole render passes (warms the thread pools up too).
  std::vector<cv::Mat> afterSteps;
  std::map<RenderPhase, int> perRender;
  std::chrono::steady_clock::duration renderTime{};
  for (int k = 0; k <= kIterations; ++k) {
    RenderControl control;
    Tally tally;
    tally.control = &control;
    control.setCancelProbe([&](RenderPhase p) { tally.probe(p); });
    const auto begin = std::chrono::steady_clock::now();
    RenderResult result = renderWithWatchdog(stressJob(k), tally, control, seed);
    renderTime = std::chrono::steady_clock::now() - begin;
    ASSERT_FALSE(result.cancelled);
    afterSteps.push_back(result.image);
    if (k == kIterations) perRender = tally.checkpoints;
  }
  const int targetsChecks = perRender[RenderPhase::Targets];
  const int forwardPerStep = perRender[RenderPhase::Forward] / kIterations;
  const int backwardPerStep = perRender[RenderPhase::Backward] / kIterations;
  ASSERT_GT(targetsChecks, 0);
  ASSERT_GT(forwardPerStep, 0);
  ASSERT_GT(backwardPerStep, 0) << "the backward must be checked between layers";
  EXPECT_EQ(perRender[RenderPhase::Step], kIterations);
  const int baselineThreads = test::threadCount();

  enum class Where { BeforeStart, Targets, Forward, Backward, StepCallback, FrameCallback, OtherThread };
  const char* const whereNames[] = {"before start (model loading)",
                                    "targets",
                                    "forward",
                                    "backward",
                                    "step callback",
                                    "frame callback",
                                    "other thread"};
  std::map<int, int> hits;
  std::map<RenderPhase, int> racedInto;  // where the other thread's cancels were seen
  for (int trial = 0; trial < 100; ++trial) {
    const auto where = Where(trial % 7);
    RenderControl control;
    Tally tally;
    tally.control = &control;
    std::string point = whereNames[int(where)];
    RenderPhase cancelPhase = RenderPhase::Start;
    int cancelAt = 0;  // the occurrence of cancelPhase that cancels
    int expectedSteps = -1;
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    int lastIteration = 0;
    int delayUs = 0;
    switch (where) {
      case Where::BeforeStart:
        control.cancel();
        expectedSteps = 0;
        break;
      case Where::Targets:
        cancelPhase = RenderPhase::Targets;
        cancelAt = pick(1, targetsChecks);
        expectedSteps = 0;
        break;
      case Where::Forward:
      case Where::Backward: {
        const int perStep = where == Where::Forward ? forwardPerStep : backwardPerStep;
        cancelPhase = where == Where::Forward ? RenderPhase::Forward : RenderPhase::Backward;
        cancelAt = pick(1, perStep * kIterations);
        expectedSteps = (cancelAt - 1) / perStep;  // the step it fell in is dropped
        break;
      }
      case Where::StepCallback:
        tally.cancelInStep = expectedSteps = pick(1, kIterations - 1);
        break;
      case Where::FrameCallback:
        tally.cancelInFrame = expectedSteps = pick(1, kIterations - 1);
        break;
      case Where::OtherThread: {
        // Up to twice a whole short render: targets and steps alike.
        const auto span = std::chrono::duration_cast<std::chrono::microseconds>(2 * renderTime).count();
        delayUs = pick(0, int(std::max<long long>(span, 1000)));
        point += " after " + std::to_string(delayUs) + " us";
        break;
      }
    }
    if (cancelAt > 0) point += " #" + std::to_string(cancelAt);
    if (expectedSteps >= 0) point += ", after " + std::to_string(expectedSteps) + " steps";
    SCOPED_TRACE("trial " + std::to_string(trial) + ": cancel at " + point +
                 " (IMPASTO_STRESS_SEED=" + std::to_string(seed) + ")");

    control.setCancelProbe([&](RenderPhase p) {
      tally.probe(p);
      if (cancelAt > 0 && p == cancelPhase && tally.checkpoints[p] == cancelAt) control.cancel();
    });

    RenderResult result;
    if (where == Where::OtherThread) {
      // A real race: any moment of a long render.
      result = renderWithWatchdog(stressJob(1000000), tally, control, seed, [&] {
        std::this_thread::sleep_for(std::chrono::microseconds(delayUs));
        control.cancel();
      });
      lastIteration = result.iterations;
      ++racedInto[tally.lastPhase];
      // A step may complete in the moment between its last check and the report.
      EXPECT_LE(tally.stepsAfter, 1);
      EXPECT_LE(tally.checkpointsAfter, 1) << "went on past the first check after the cancel";
    } else {
      result = renderWithWatchdog(stressJob(kIterations), tally, control, seed);
      lastIteration = result.iterations;
      EXPECT_EQ(result.iterations, expectedSteps);
      EXPECT_EQ(tally.steps, expectedSteps);
      EXPECT_EQ(tally.stepsAfter, 0);
      // The frame of a step whose report cancelled is still shown.
      EXPECT_EQ(tally.framesAfter, where == Where::StepCallback ? 1 : 0);
      // The check that saw the cancel threw at once: no layer ran after it.
      EXPECT_EQ(tally.layerCheckpointsAfter, 0);
      EXPECT_LE(tally.checkpointsAfter, 1);
      if (where == Where::BeforeStart) {
        EXPECT_EQ(tally.checkpoints[RenderPhase::Targets], 0) << "no work once cancelled";
        EXPECT_FALSE(tally.started);
      }
      // G is that of the last completed step, bit for bit.
      ASSERT_FALSE(result.image.empty());
      EXPECT_EQ(cv::norm(result.image, afterSteps[std::size_t(expectedSteps)], cv::NORM_INF), 0.0);
    }
    EXPECT_TRUE(result.cancelled);
    EXPECT_EQ(result.last.iteration, lastIteration);
    ASSERT_EQ(result.image.type(), CV_32FC3);
    EXPECT_EQ(result.image.size(), cv::Size(32, 24));
    double lo = 0, hi = 0;
    cv::minMaxLoc(result.image.reshape(1), &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_EQ(threadCountSettled(baselineThreads), baselineThreads) << "a thread was left behind";
    ++hits[int(where)];
    if (::testing::Test::HasFailure()) break;  // one point's story is enough
  }
  for (const auto& [where, count] : hits)
    std::printf("[ measured ] %s: %d cancels\n", whereNames[where], count);
  for (const auto& [phase, count] : racedInto)
    std::printf("[ measured ] other thread's cancels seen at a %s check: %d\n", phaseName(phase), count);
}

// At a real model's size a step is long: a cancel from another thread must end
// the render within a layer, not at the end of the step. Prints both times.
TEST(CancelStress, ARealModelStopsWithinALayerNotAStep) {
  const auto onnx = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  if (test::sharedDir().empty() || !std::filesystem::exists(onnx))
    GTEST_SKIP() << "needs the shared darknet model";
  const unsigned seed = test::stressSeed();
  std::printf("[ seed     ] IMPASTO_STRESS_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  RenderJob job = stressJob(1000000);
  job.model = loadModelFile(onnx);
  job.settings.size = 320;
  job.settings.frameEvery = 5;

  // Warm-up, and the time of a step.
  double stepSeconds = 0.0;
  {
    RenderControl control;
    Tally tally;
    tally.control = &control;
    tally.cancelInStep = 3;
    control.setCancelProbe([&](RenderPhase p) { tally.probe(p); });
    const auto begin = std::chrono::steady_clock::now();
    RenderResult result = renderWithWatchdog(job, tally, control, seed);
    ASSERT_TRUE(result.cancelled);
    stepSeconds = result.last.elapsedSeconds / 3;
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    std::printf("[ measured ] darknet at 320 px: %.3f s a step, %.3f s with targets and 3 steps\n",
                stepSeconds, total);
  }
  const int baselineThreads = test::threadCount();
  std::vector<double> latencies;
  for (int trial = 0; trial < 8; ++trial) {
    // Anywhere in the targets or the first three steps.
    const int delayMs = std::uniform_int_distribution<int>(0, int(4000 * stepSeconds))(rng);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": cancel after " + std::to_string(delayMs) +
                 " ms (IMPASTO_STRESS_SEED=" + std::to_string(seed) + ")");
    RenderControl control;
    Tally tally;
    tally.control = &control;
    control.setCancelProbe([&](RenderPhase p) { tally.probe(p); });
    std::chrono::steady_clock::time_point cancelledAt;
    RenderResult result = renderWithWatchdog(job, tally, control, seed, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delayMs));
      cancelledAt = std::chrono::steady_clock::now();
      control.cancel();
    });
    latencies.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelledAt).count());
    EXPECT_TRUE(result.cancelled);
    EXPECT_LE(tally.checkpointsAfter, 1);
    EXPECT_LE(tally.stepsAfter, 1);
    EXPECT_FALSE(result.image.empty());
    EXPECT_EQ(threadCountSettled(baselineThreads), baselineThreads) << "a thread was left behind";
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf("[ measured ] cancel to return: median %.4f s, max %.4f s (a step: %.3f s)\n",
              latencies[latencies.size() / 2], latencies.back(), stepSeconds);
}

}  // namespace
}  // namespace impasto
