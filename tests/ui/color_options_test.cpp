// The studio's colour preservation and averaging choices: the combo boxes
// map to the settings, lock while a render runs, reach the render, and the
// preview shows the starting image the moment Start is pressed.
#include <gtest/gtest.h>

#include <QComboBox>
#include <QImage>
#include <QSignalSpy>

#include "core/io/color_transfer.h"
#include "core/io/image_io.h"
#include "tests/ui/ui_test_support.h"
#include "ui/main_window.h"
#include "ui/parameter_panel.h"
#include "ui/preview_widget.h"
#include "ui/render_controller.h"

namespace impasto {
namespace {

using uitest::waitUntil;

TEST(ColorOptionsTest, TheCombosMapToTheSettingsBothWays) {
  ParameterPanel panel;
  EXPECT_EQ(panel.settings().preserveColors, PreserveColors::Off);
  EXPECT_EQ(panel.settings().average, Averaging::Off);
  EXPECT_EQ(panel.settings().averageDecay, RenderSettings{}.averageDecay);
  QComboBox* colours = panel.preserveColorsCombo();
  colours->setCurrentIndex(colours->findData(int(PreserveColors::Luminance)));
  EXPECT_EQ(panel.settings().preserveColors, PreserveColors::Luminance);
  RenderSettings s = panel.settings();
  s.preserveColors = PreserveColors::Histogram;
  s.average = Averaging::Ema;
  s.averageDecay = 0.95;
  panel.setSettings(s);
  EXPECT_EQ(colours->currentData().toInt(), int(PreserveColors::Histogram));
  EXPECT_EQ(panel.settings().average, Averaging::Ema);
  EXPECT_DOUBLE_EQ(panel.settings().averageDecay, 0.95);
  panel.setRunning(true);
  EXPECT_FALSE(colours->isEnabled());
  EXPECT_FALSE(panel.averageCombo()->isEnabled());
  panel.setRunning(false);
  EXPECT_TRUE(colours->isEnabled());
}

std::unique_ptr<MainWindow> windowWith(PreserveColors mode, int iterations) {
  auto window = std::make_unique<MainWindow>();
  window->setModel(uitest::makeTinyModel(), QStringLiteral("file:/nonexistent/tiny.onnx"));
  EXPECT_TRUE(window->loadContent(uitest::writePicture(QStringLiteral("content.png"), 64, 48, 0)));
  EXPECT_TRUE(window->addStyle(uitest::writePicture(QStringLiteral("style.png"), 64, 48, 1)));
  RenderSettings s = window->parameters()->settings();
  s.size = 48;
  s.iterations = iterations;
  s.weights.beta = 1000.0;
  s.weights.styleLayers = {{"relu1", 1.0}, {"relu2", 1.0}};
  s.contentLayer = "relu2";
  s.preserveColors = mode;
  window->parameters()->setSettings(s);
  return window;
}

cv::Mat floatRgb(const QImage& image) {
  const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
  cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()), rgb.bytesPerLine());
  cv::Mat out;
  view.convertTo(out, CV_32FC3, 1.0 / 255);
  return out;
}

double chromaGap(const cv::Mat& a, const cv::Mat& b) {
  std::vector<cv::Mat> x, y;
  cv::split(rgbToYCbCr(a), x);
  cv::split(rgbToYCbCr(b), y);
  return (cv::norm(x[1], y[1], cv::NORM_L1) + cv::norm(x[2], y[2], cv::NORM_L1)) / (2.0 * double(a.total()));
}

TEST(ColorOptionsTest, ALuminanceRenderInTheStudioKeepsThePhotosColours) {
  auto window = windowWith(PreserveColors::Luminance, 30);
  QSignalSpy finished(window->controller(), &RenderController::finished);
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));
  EXPECT_EQ(window->controller()->settings().preserveColors, PreserveColors::Luminance);
  const cv::Mat photo = resizeToLongest(uitest::makePicture(64, 48, 0), 48);
  const cv::Mat shown = floatRgb(window->preview()->image());
  ASSERT_EQ(shown.size(), photo.size());
  EXPECT_LT(chromaGap(shown, photo), 3.0 / 255);
  // The same render without it takes on the painting's colours.
  auto plain = windowWith(PreserveColors::Off, 30);
  QSignalSpy plainFinished(plain->controller(), &RenderController::finished);
  ASSERT_TRUE(plain->startRender());
  ASSERT_TRUE(waitUntil([&] { return plainFinished.count() == 1; }, 30000));
  EXPECT_GT(chromaGap(floatRgb(plain->preview()->image()), photo), chromaGap(shown, photo));
}

TEST(ColorOptionsTest, ThePreviewShowsTheStartingImageBeforeTheFirstStep) {
  auto window = windowWith(PreserveColors::Off, 1000000);
  QSignalSpy frames(window->controller(), &RenderController::frameReady);
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return frames.count() >= 1; }));
  EXPECT_EQ(frames.first().at(0).toInt(), 0);
  window->stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }));
}

}  // namespace
}  // namespace impasto
