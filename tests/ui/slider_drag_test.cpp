// Dragging a weight slider while a render runs: each value reaches the engine
// at its next step (the newest wins) and the picture keeps changing.
#include <gtest/gtest.h>

#include <QApplication>
#include <QImage>
#include <QSlider>
#include <cmath>

#include "tests/ui/ui_test_support.h"
#include "ui/log_slider.h"
#include "ui/main_window.h"
#include "ui/message_bar.h"
#include "ui/parameter_panel.h"
#include "ui/render_controller.h"

namespace impasto {
namespace {

using uitest::handleCentre;
using uitest::sendMouse;
using uitest::waitUntil;

// Mean absolute difference of two frames, in 8-bit levels.
double meanChange(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_RGB888), y = b.convertToFormat(QImage::Format_RGB888);
  double sum = 0.0;
  for (int row = 0; row < x.height(); ++row) {
    const uchar* p = x.constScanLine(row);
    const uchar* q = y.constScanLine(row);
    for (int i = 0; i < x.width() * 3; ++i) sum += std::abs(int(p[i]) - int(q[i]));
  }
  return sum / (double(x.width()) * x.height() * 3);
}

TEST(SliderDragTest, DraggingBetaChangesTheFrameAtEveryStep) {
  MainWindow window;
  ASSERT_NO_FATAL_FAILURE(uitest::prepareEndlessTinyRender(
      window, uitest::writePicture(QStringLiteral("content.png"), 96, 72, 0), 96, 1000.0));
  window.resize(1400, 900);
  window.show();
  window.controller()->setMaxFramesPerSecond(0);  // every frame the engine makes

  struct Frame {
    int iteration;
    QImage image;
  };
  std::vector<Frame> frames;
  QList<StepReport> reports;
  QObject::connect(window.controller(), &RenderController::frameReady, &window,
                   [&](int iteration, const QImage& image) {
                     frames.push_back({iteration, image.copy()});
                   });
  QObject::connect(window.controller(), &RenderController::stepsReported, &window,
                   [&](const QList<StepReport>& r) { reports += r; });
  ASSERT_TRUE(window.startRender()) << window.messageBar()->text().toStdString();
  ASSERT_TRUE(waitUntil([&] { return reports.size() >= 10 && !frames.empty(); }));

  QSlider* slider = window.parameters()->betaSlider()->slider();
  ASSERT_GT(slider->width(), 60) << "the slider needs room to be dragged";
  QPoint at = handleCentre(slider);
  const int valueBefore = slider->value();
  sendMouse(slider, QEvent::MouseButtonPress, at, Qt::LeftButton, Qt::LeftButton);
  ASSERT_TRUE(slider->isSliderDown()) << "the press must catch the handle";
  const std::size_t firstDragFrame = frames.size();
  // The step that first used a β: the report that carries it as new weights.
  const auto stepUsing = [&](double beta) {
    for (const StepReport& r : reports)
      if (r.newWeights && std::abs(r.newWeights->beta - beta) <= 1e-9 * beta) return r.iteration;
    return -1;
  };
  constexpr int kMoves = 12;
  std::vector<double> changes;
  for (int move = 0; move < kMoves; ++move) {
    const QImage before = frames.back().image;
    at.rx() += 3;
    sendMouse(slider, QEvent::MouseMove, at, Qt::NoButton, Qt::LeftButton);
    // On to the next position once a frame of the step that used this value
    // is on screen (a frame already under way may still show the last one).
    const double beta = window.parameters()->betaSlider()->value();
    ASSERT_TRUE(waitUntil([&] {
      const int step = stepUsing(beta);
      return step >= 0 && frames.back().iteration >= step;
    })) << "move "
        << move << ": β = " << beta << " never reached the engine";
    changes.push_back(meanChange(frames.back().image, before));
  }
  sendMouse(slider, QEvent::MouseButtonRelease, at, Qt::LeftButton, Qt::NoButton);
  EXPECT_GT(slider->value(), valueBefore) << "the drag moved the slider";
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));

  int weightChanges = 0;
  for (const StepReport& r : reports) {
    if (r.iteration > frames[firstDragFrame - 1].iteration && r.newWeights) ++weightChanges;
    EXPECT_TRUE(std::isfinite(r.loss));
  }
  EXPECT_GE(weightChanges, kMoves / 2) << "the dragged values reached the engine while it ran";
  EXPECT_GT(reports.back().loss, 0.0);
  // Every value of the drag changes what is on screen visibly.
  for (int move = 0; move < kMoves; ++move)
    EXPECT_GT(changes[std::size_t(move)], 0.2)
        << "move " << move << ": the picture barely changed: " << changes[std::size_t(move)] << " levels";
}

}  // namespace
}  // namespace impasto
