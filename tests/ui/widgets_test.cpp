// The small pieces: pixel conversions, the log slider, the preview's zoom and
// split, the rate meter.
#include <QSignalSpy>
#include <QSlider>
#include <gtest/gtest.h>

#include "core/util/error.h"
#include "ui/image_convert.h"
#include "ui/log_slider.h"
#include "ui/preview_widget.h"
#include "ui/rate_meter.h"
#include "ui/scientific_spin_box.h"
#include "tests/ui/ui_test_support.h"

namespace impasto {
namespace {

TEST(ImageConvertTest, FloatAndByteImagesRoundTripThroughQImage) {
  const cv::Mat rgb = uitest::makePicture(17, 9, 1);
  const QImage image = toQImage(rgb);
  ASSERT_EQ(image.size(), QSize(17, 9));
  const QColor pixel = image.pixelColor(3, 4);
  const cv::Vec3f expected = rgb.at<cv::Vec3f>(4, 3);
  EXPECT_NEAR(pixel.red(), expected[0] * 255.0, 0.51);
  EXPECT_NEAR(pixel.green(), expected[1] * 255.0, 0.51);
  EXPECT_NEAR(pixel.blue(), expected[2] * 255.0, 0.51);

  const cv::Mat back = toRgb32f(image);
  ASSERT_EQ(back.type(), CV_32FC3);
  EXPECT_LT(cv::norm(back, rgb, cv::NORM_INF), 1.0 / 255.0 + 1e-6);

  cv::Mat rgb8;
  rgb.convertTo(rgb8, CV_8UC3, 255.0);
  EXPECT_EQ(cv::norm(toRgb8(toQImage(rgb8)), rgb8, cv::NORM_INF), 0.0);
}

TEST(ImageConvertTest, TheQImageOwnsItsPixels) {
  cv::Mat rgb(4, 4, CV_8UC3, cv::Scalar(10, 20, 30));
  const QImage image = toQImage(rgb);
  rgb.setTo(cv::Scalar(0, 0, 0));
  EXPECT_EQ(image.pixelColor(1, 1), QColor(10, 20, 30));
}

TEST(ImageConvertTest, TransparencyIsCompositedOverWhite) {
  QImage image(2, 2, QImage::Format_ARGB32);
  image.fill(QColor(0, 0, 0, 0));
  const cv::Mat rgb = toRgb8(image);
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
}

TEST(ImageConvertTest, ActivationMapsBecomeFalseColour) {
  cv::Mat map(3, 5, CV_32F);
  for (int x = 0; x < 5; ++x) map.col(x).setTo(x / 4.0);
  const QImage image = mapToQImage(map);
  ASSERT_EQ(image.size(), QSize(5, 3));
  EXPECT_NE(image.pixelColor(0, 0), image.pixelColor(4, 0));
}

TEST(LogSliderTest, TheSliderIsLogarithmicAndTheSpinBoxExact) {
  LogSlider slider(1e-2, 1e4);
  QSignalSpy changed(&slider, &LogSlider::valueChanged);
  slider.setValue(1.0);
  EXPECT_EQ(changed.count(), 0) << "setValue is programmatic: no signal";
  const int one = slider.slider()->value();
  slider.setValue(100.0);
  const int hundred = slider.slider()->value();
  slider.setValue(1e4);
  const int tenThousand = slider.slider()->value();
  EXPECT_EQ(hundred - one, tenThousand - hundred) << "equal ratios, equal distances";

  slider.spinBox()->setValue(1234.5);
  ASSERT_EQ(changed.count(), 1);
  EXPECT_DOUBLE_EQ(changed.last().at(0).toDouble(), 1234.5);
  EXPECT_DOUBLE_EQ(slider.value(), 1234.5) << "the spin box keeps the exact value";

  slider.slider()->setValue(one);
  ASSERT_EQ(changed.count(), 2);
  EXPECT_NEAR(changed.last().at(0).toDouble(), 1.0, 1e-9);
}

TEST(LogSliderTest, ZeroIsAllowedWhereAsked) {
  LogSlider slider(1e-6, 1e2, true);
  slider.slider()->setValue(slider.slider()->minimum());
  EXPECT_EQ(slider.value(), 0.0);
}

TEST(ScientificSpinBoxTest, ReadsAndWritesScientificNotation) {
  ScientificSpinBox box;
  box.setRange(0.0, 1e9);
  EXPECT_DOUBLE_EQ(box.valueFromText(QStringLiteral("1e6")), 1e6);
  EXPECT_EQ(box.textFromValue(2.5e7), QStringLiteral("2.50e+07"));
  EXPECT_EQ(box.textFromValue(0.5), QStringLiteral("0.5"));
  box.setValue(100.0);
  box.stepBy(10);
  EXPECT_NEAR(box.value(), 1000.0, 1e-6) << "ten steps make a decade";
}

TEST(PreviewWidgetTest, FitActualSizeZoomAndSplit) {
  PreviewWidget preview;
  preview.resize(400, 300);
  QImage image(800, 600, QImage::Format_RGB888);
  image.fill(Qt::red);
  preview.setImage(image);
  preview.fitToWindow();
  EXPECT_TRUE(preview.isFitting());
  EXPECT_LT(preview.zoom(), 0.5);
  EXPECT_LE(preview.imageRect().width(), 400.0);
  preview.actualSize();
  EXPECT_DOUBLE_EQ(preview.zoom(), 1.0);
  EXPECT_DOUBLE_EQ(preview.imageRect().width(), 800.0);
  preview.zoomIn();
  EXPECT_GT(preview.zoom(), 1.0);
  QSignalSpy split(&preview, &PreviewWidget::splitChanged);
  preview.setSplit(true);
  EXPECT_TRUE(preview.isSplit());
  EXPECT_EQ(split.count(), 1);
  preview.setSplitPosition(2.0);
  EXPECT_DOUBLE_EQ(preview.splitPosition(), 1.0);
  // Painting with a before image must work at any zoom.
  preview.setBeforeImage(image);
  EXPECT_FALSE(preview.grab().isNull());
}

TEST(RateMeterTest, RateAndTimeLeft) {
  RateMeter meter(5.0);
  EXPECT_FALSE(meter.rate());
  meter.add(0.0, 0);
  meter.add(2.0, 10);
  ASSERT_TRUE(meter.rate());
  EXPECT_DOUBLE_EQ(*meter.rate(), 5.0);
  EXPECT_DOUBLE_EQ(*meter.secondsLeft(30), 4.0);
  // Old samples fall out of the window: the rate follows the recent pace.
  meter.add(10.0, 20);
  meter.add(12.0, 40);
  EXPECT_NEAR(*meter.rate(), 20.0 / 10.0 * 1.0, 10.0);
  EXPECT_EQ(durationText(65), QStringLiteral("1 min 05 s"));
  EXPECT_EQ(durationText(3725), QStringLiteral("1 h 02 min"));
  EXPECT_EQ(byteText(1.5e6), QStringLiteral("1.5 MB"));
}

}  // namespace
}  // namespace impasto
