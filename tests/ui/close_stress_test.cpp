// Closes the studio window at seeded random moments of its work: while a model
// loads, while a render computes its targets and first steps, mid-render,
// paused, and right after an export. Every close must come back promptly, join
// the render and loader threads, and leave no partial file behind.
#include <gtest/gtest.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTest>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "core/io/image_io.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"
#include "tests/ui/ui_test_support.h"
#include "ui/main_window.h"
#include "ui/render_controller.h"

namespace impasto {
namespace {

using uitest::waitUntil;

// A joined thread can linger in /proc for a moment; wait (with the event loop running) for it to go.
int threadCountSettled(int expected) {
  waitUntil([&] { return test::threadCount() <= expected; }, 3000);
  return test::threadCount();
}

// Aborts the test program when a close does not come back: a hang cannot be
// recovered from in-process, and ctest would otherwise wait for its timeout.
class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string what) : what_(std::move(what)) {
    thread_ = std::thread([this, limit] {
      std::unique_lock<std::mutex> lock(mutex_);
      if (!done_.wait_for(lock, limit, [this] { return finished_; })) {
        std::fprintf(stderr, "Hung: %s\n", what_.c_str());
        std::abort();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    done_.notify_one();
    thread_.join();
  }

 private:
  std::string what_;
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  std::thread thread_;
};

// The shared darknet model when there is one (a real load takes a while), else the tiny ONNX.
QString modelToLoad() {
  const auto onnx = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  if (!test::sharedDir().empty() && std::filesystem::exists(onnx))
    return QString::fromStdString(onnx.string());
  const QString path = uitest::scratchPath(QStringLiteral("close-stress-tiny.onnx"));
  test::writeTinyOnnx(path.toStdString(), 5, 16);
  return path;
}

std::unique_ptr<MainWindow> readyWindow(int iterations) {
  auto window = std::make_unique<MainWindow>();
  uitest::prepareTinyRender(*window, uitest::writePicture(QStringLiteral("close-content.png"), 64, 48, 0),
                            uitest::writePicture(QStringLiteral("close-style.png"), 64, 48, 1), 64,
                            iterations, Optimizer::Lbfgs, 1000.0);
  return window;
}

// The export folder may hold complete exports only: no temporary, no partial file.
void expectOnlyCompleteExports(const QString& folder) {
  for (const QFileInfo& entry :
       QDir(folder).entryInfoList(QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot | QDir::System)) {
    SCOPED_TRACE(entry.fileName().toStdString());
    EXPECT_TRUE(entry.fileName().startsWith(QStringLiteral("export-"))) << "left behind";
    EXPECT_NO_THROW(loadImage(entry.filePath().toStdString())) << "an incomplete export";
  }
}

TEST(CloseStress, ClosingTheWindowAtRandomMomentsIsQuickCleanAndLeavesNoThread) {
  const unsigned seed = test::stressSeed();
  std::printf("[ seed     ] IMPASTO_STRESS_SEED=%u\n", seed);
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const QString model = modelToLoad();
  const QString exports = uitest::scratchPath(QStringLiteral("close-stress-exports"));
  QDir().mkpath(exports);

  // Warm-up: a whole model load and render, so lazily made threads (LibTorch's,
  // Qt's) exist before the count is taken; and how long each takes here.
  qint64 loadMs = 0, renderMs = 0;
  {
    auto window = readyWindow(5);
    QElapsedTimer timer;
    timer.start();
    ASSERT_TRUE(window->startRender());
    ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }, 30000));
    renderMs = timer.restart();
    window->useModelArgument(model);
    ASSERT_TRUE(waitUntil([&] { return !window->isModelLoading(); }, 60000));
    loadMs = timer.elapsed();
    window->close();
  }
  QTest::qWait(20);
  const int baselineThreads = test::threadCount();
  std::printf("[ measured ] model load %lld ms, a 5-step render %lld ms, %d threads\n",
              static_cast<long long>(loadMs), static_cast<long long>(renderMs), baselineThreads);

  enum class When { LoadingModel, Starting, MidRender, Paused, AfterExport };
  const char* const whenNames[] = {"loading the model", "starting", "mid-render", "paused",
                                   "after an export"};
  qint64 slowestClose = 0;
  for (int trial = 0; trial < 25; ++trial) {
    const auto when = When(trial % 5);
    std::string point = whenNames[int(when)];
    auto window = readyWindow(1000000);
    window->show();
    switch (when) {
      case When::LoadingModel: {
        // The render starts once the model has loaded: the close may fall in either.
        const int ms = pick(0, int(2 * loadMs) + 5);
        point += " +" + std::to_string(ms) + " ms";
        window->useModelArgument(model);
        window->startWhenReady();
        QTest::qWait(ms);
        break;
      }
      case When::Starting: {
        // The thread's start, the targets and the first steps.
        const int ms = pick(0, int(renderMs / 10) + 2);
        point += " +" + std::to_string(ms) + " ms";
        ASSERT_TRUE(window->startRender());
        QTest::qWait(ms);
        break;
      }
      case When::MidRender: {
        const int step = pick(1, 8), ms = pick(0, int(renderMs / 5) + 1);
        point += " after step " + std::to_string(step) + " +" + std::to_string(ms) + " ms";
        ASSERT_TRUE(window->startRender());
        ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= step; }));
        QTest::qWait(ms);
        break;
      }
      case When::Paused: {
        const int step = pick(1, 4), ms = pick(0, 50);
        point += " after step " + std::to_string(step) + " +" + std::to_string(ms) + " ms";
        ASSERT_TRUE(window->startRender());
        ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= step; }));
        window->setPaused(true);
        QTest::qWait(ms);
        break;
      }
      case When::AfterExport: {
        const int step = pick(1, 4);
        point += " after step " + std::to_string(step);
        ASSERT_TRUE(window->startRender());
        ASSERT_TRUE(waitUntil([&] { return window->canExport(); }));
        ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= step; }));
        const QString path = QDir(exports).filePath(QStringLiteral("export-%1.png").arg(trial));
        ASSERT_TRUE(window->exportImage(path, MainWindow::Overwrite::Yes));
        break;
      }
    }
    SCOPED_TRACE("trial " + std::to_string(trial) + ": close " + point +
                 " (IMPASTO_STRESS_SEED=" + std::to_string(seed) + ")");
    const std::string state =
        window->isModelLoading() ? "model loading"
        : window->isRendering()
            ? "rendering, step " + std::to_string(window->controller()->lastReport().iteration)
            : "idle";
    QElapsedTimer timer;
    timer.start();
    {
      Watchdog watchdog(std::chrono::seconds(30), "closing the window " + point);
      EXPECT_TRUE(window->close());
      window.reset();  // the session joins the render and the model loader here
    }
    slowestClose = std::max(slowestClose, timer.elapsed());
    std::printf("[ trial    ] %2d close %-36s (%s): %lld ms\n", trial, point.c_str(), state.c_str(),
                static_cast<long long>(timer.elapsed()));
    QTest::qWait(10);  // nothing queued for the dead window may run
    EXPECT_EQ(threadCountSettled(baselineThreads), baselineThreads) << "a thread was left behind";
    expectOnlyCompleteExports(exports);
    if (::testing::Test::HasFailure()) break;
  }
  std::printf("[ measured ] slowest close %lld ms\n", static_cast<long long>(slowestClose));
}

}  // namespace
}  // namespace impasto
