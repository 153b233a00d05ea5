// The worker controller: frames and reports arrive as signals on the GUI
// thread, live weights apply without a restart, pause, stop and destruction
// mid-run behave.
#include "ui/render_controller.h"

#include <gtest/gtest.h>

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include "core/engine/render.h"
#include "tests/ui/ui_test_support.h"

namespace impasto {
namespace {

using uitest::makePicture;
using uitest::makeTinyModel;
using uitest::waitUntil;

RenderJob tinyJob(int iterations, Optimizer optimizer = Optimizer::Adam, int size = 40) {
  RenderJob job;
  job.content = makePicture(size, size * 4 / 5, 0);
  job.styles = {makePicture(size, size * 4 / 5, 1)};
  job.model = makeTinyModel();
  job.settings.size = size;
  job.settings.iterations = iterations;
  job.settings.optimizer = optimizer;
  job.settings.frameEvery = 1;
  job.settings.threads = 1;
  job.settings.weights.alpha = 1.0;
  job.settings.weights.beta = 1000.0;
  job.settings = resolveSettings(job.settings, *job.model);
  return job;
}

// Collects every report the controller delivers, in order.
struct ReportLog {
  explicit ReportLog(RenderController& c) {
    QObject::connect(&c, &RenderController::stepsReported, &c,
                     [this](const QList<StepReport>& r) { all += r; });
  }
  int last() const { return all.isEmpty() ? 0 : all.back().iteration; }
  QList<StepReport> all;
};

void expectConsecutive(const QList<StepReport>& reports) {
  for (int i = 0; i < reports.size(); ++i)
    ASSERT_EQ(reports[i].iteration, i + 1) << "reports must count on, never restart";
}

TEST(RenderControllerTest, StartDeliversFramesReportsAndTheResultOnTheGuiThread) {
  RenderController controller;
  QSignalSpy started(&controller, &RenderController::started);
  QSignalSpy frames(&controller, &RenderController::frameReady);
  QSignalSpy finished(&controller, &RenderController::finished);
  ReportLog log(controller);
  bool onGuiThread = true;
  QObject::connect(&controller, &RenderController::frameReady, &controller,
                   [&] { onGuiThread = onGuiThread && QThread::currentThread() == controller.thread(); });

  ASSERT_TRUE(controller.start(tinyJob(25, Optimizer::Lbfgs)));
  EXPECT_TRUE(controller.isRunning());
  EXPECT_FALSE(controller.start(tinyJob(5))) << "a second start while running must be refused";
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));

  EXPECT_FALSE(controller.isRunning());
  EXPECT_FALSE(finished.first().at(0).toBool()) << "ran to the end, not cancelled";
  ASSERT_EQ(started.count(), 1);
  EXPECT_EQ(started.first().at(0).toInt(), 40);
  EXPECT_EQ(started.first().at(1).toInt(), 32);
  ASSERT_GE(frames.count(), 1);
  EXPECT_EQ(frames.last().at(0).toInt(), 25) << "the last frame always comes";
  const QImage frame = frames.last().at(1).value<QImage>();
  EXPECT_EQ(frame.size(), QSize(40, 32));
  EXPECT_TRUE(onGuiThread);
  ASSERT_EQ(log.all.size(), 25);
  expectConsecutive(log.all);
  EXPECT_EQ(controller.result().size(), cv::Size(40, 32));
  EXPECT_EQ(controller.result().type(), CV_32FC3);
}

// Runs the job with the preview throttled to 5 frames a second: one frame per
// step would be one per iteration; at most 5 a second plus the final one get through.
void expectFramesThrottled(const RenderJob& job, int lastIteration) {
  RenderController controller;
  controller.setMaxFramesPerSecond(5.0);
  QSignalSpy frames(&controller, &RenderController::frameReady);
  QSignalSpy finished(&controller, &RenderController::finished);
  QElapsedTimer timer;
  timer.start();
  ASSERT_TRUE(controller.start(job));
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 60000));
  const double seconds = double(timer.elapsed()) / 1000.0;
  EXPECT_LE(frames.count(), int(seconds * 5.0) + 3) << "over " << seconds << " s";
  EXPECT_EQ(frames.last().at(0).toInt(), lastIteration) << "the last frame always comes";
}

TEST(RenderControllerTest, FramesAreThrottled) { expectFramesThrottled(tinyJob(300), 300); }

// Iterations count over all pyramid levels: the throttle holds through the
// coarse levels too, not only up to the final level's step count.
TEST(RenderControllerTest, FramesAreThrottledThroughThePyramidsCoarseLevels) {
  RenderJob job = tinyJob(10, Optimizer::Adam, 362);
  job.settings.coarseIterations = 100;  // levels of 256 and 362 px: 110 steps, 100 of them coarse
  job.settings = resolveSettings(job.settings, *job.model);
  expectFramesThrottled(job, 110);
}

TEST(RenderControllerTest, ABetaChangeMidRunAppliesAtTheNextStepWithoutARestart) {
  RenderController controller;
  ReportLog log(controller);
  RenderJob job = tinyJob(1000000);
  const LossWeights before = job.settings.weights;
  ASSERT_TRUE(controller.start(std::move(job)));
  ASSERT_TRUE(waitUntil([&] { return log.last() >= 15; }));

  LossWeights after = before;
  after.beta = before.beta * 1000.0;
  const int submittedAt = log.last();
  controller.submitWeights(after);
  ASSERT_TRUE(waitUntil([&] { return log.last() >= submittedAt + 30; }));
  controller.stop();
  QSignalSpy finished(&controller, &RenderController::finished);
  ASSERT_TRUE(waitUntil([&] { return !controller.isRunning(); }));

  expectConsecutive(log.all);
  auto predicted = [](const StepReport& r, const LossWeights& w) {
    return w.alpha * r.contentLoss + w.beta * r.styleLoss;
  };
  // Before the change J is computed with the old β ...
  for (int i = 0; i < submittedAt; ++i) {
    const StepReport& r = log.all[i];
    EXPECT_NEAR(r.loss, predicted(r, before), 1e-4 * std::abs(r.loss) + 1e-9) << "iteration " << r.iteration;
  }
  // ... and a few steps later (the step in flight finishes with the old one) with the new β.
  for (int i = submittedAt + 5; i < log.all.size(); ++i) {
    const StepReport& r = log.all[i];
    EXPECT_NEAR(r.loss, predicted(r, after), 1e-4 * std::abs(r.loss) + 1e-9) << "iteration " << r.iteration;
  }
  const double jBefore = log.all[submittedAt - 1].loss;
  const double jAfter = log.all[submittedAt + 5].loss;
  EXPECT_GT(jAfter, 2.0 * jBefore) << "J must change with β";
  EXPECT_DOUBLE_EQ(controller.settings().weights.beta, after.beta);
}

TEST(RenderControllerTest, PauseHoldsTheIterationAndResumeContinues) {
  RenderController controller;
  ReportLog log(controller);
  QSignalSpy paused(&controller, &RenderController::pausedChanged);
  ASSERT_TRUE(controller.start(tinyJob(1000000)));
  ASSERT_TRUE(waitUntil([&] { return log.last() >= 5; }));

  controller.setPaused(true);
  EXPECT_TRUE(controller.isPaused());
  ASSERT_EQ(paused.count(), 1);
  QTest::qWait(150);  // the step in flight ends and is delivered
  const int held = log.last();
  QTest::qWait(400);
  EXPECT_LE(log.last(), held + 1) << "no steps while paused";

  controller.setPaused(false);
  EXPECT_FALSE(controller.isPaused());
  ASSERT_TRUE(waitUntil([&] { return log.last() >= held + 10; }));
  controller.stop();
  ASSERT_TRUE(waitUntil([&] { return !controller.isRunning(); }));
  expectConsecutive(log.all);
}

TEST(RenderControllerTest, StopReturnsWithinOneStep) {
  RenderController controller;
  ReportLog log(controller);
  QSignalSpy finished(&controller, &RenderController::finished);
  ASSERT_TRUE(controller.start(tinyJob(1000000, Optimizer::Adam, 96)));
  ASSERT_TRUE(waitUntil([&] { return log.last() >= 10; }));
  const double stepSeconds = log.all.back().elapsedSeconds / log.all.back().iteration;

  QElapsedTimer timer;
  timer.start();
  controller.stop();
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 10000));
  const double stopSeconds = double(timer.elapsed()) / 1000.0;

  EXPECT_TRUE(finished.first().at(0).toBool()) << "a stopped render reports cancelled";
  // The step in flight completes; no further one starts. Allow scheduling noise.
  EXPECT_LT(stopSeconds, 2.0 * stepSeconds + 0.25) << "one step takes " << stepSeconds << " s";
  EXPECT_FALSE(controller.result().empty()) << "the current G is kept";
}

TEST(RenderControllerTest, StopWhilePausedEndsTheRender) {
  RenderController controller;
  ReportLog log(controller);
  QSignalSpy finished(&controller, &RenderController::finished);
  ASSERT_TRUE(controller.start(tinyJob(1000000)));
  ASSERT_TRUE(waitUntil([&] { return log.last() >= 3; }));
  controller.setPaused(true);
  QTest::qWait(50);
  controller.stop();
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 5000));
  EXPECT_TRUE(finished.first().at(0).toBool());
}

TEST(RenderControllerTest, DestroyingMidRunCancelsAndJoinsQuickly) {
  auto controller = std::make_unique<RenderController>();
  ReportLog log(*controller);
  ASSERT_TRUE(controller->start(tinyJob(1000000, Optimizer::Lbfgs, 64)));
  ASSERT_TRUE(waitUntil([&] { return log.last() >= 3; }));
  controller->setPaused(true);  // the hardest case: the engine sleeps in its pause loop
  QElapsedTimer timer;
  timer.start();
  controller.reset();
  EXPECT_LT(timer.elapsed(), 2000);
  // Deliveries queued for the dead controller must not run.
  QTest::qWait(50);
}

TEST(RenderControllerTest, AFailingJobReportsFailedNotACrash) {
  RenderController controller;
  QSignalSpy failed(&controller, &RenderController::failed);
  RenderJob job = tinyJob(10);
  job.styles.clear();
  ASSERT_TRUE(controller.start(std::move(job)));
  ASSERT_TRUE(waitUntil([&] { return failed.count() == 1; }));
  EXPECT_FALSE(failed.first().at(0).toString().isEmpty());
  EXPECT_FALSE(controller.isRunning());
  // And the controller is usable again.
  QSignalSpy finished(&controller, &RenderController::finished);
  ASSERT_TRUE(controller.start(tinyJob(3)));
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }));
}

}  // namespace
}  // namespace impasto
