#include "tests/ui/ui_test_support.h"

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMouseEvent>
#include <QSlider>
#include <QStyle>
#include <QStyleOptionSlider>
#include <QThread>
#include <algorithm>
#include <cmath>

#include "core/io/image_io.h"
#include "ui/main_window.h"
#include "ui/parameter_panel.h"

namespace impasto::uitest {

cv::Mat makePicture(int width, int height, int variant) {
  cv::Mat image(height, width, CV_32FC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float u = float(x) / float(std::max(1, width - 1));
      const float v = float(y) / float(std::max(1, height - 1));
      const float dx = u - 0.5f, dy = v - 0.5f;
      const bool disc = dx * dx + dy * dy < 0.09f;
      cv::Vec3f c;
      if (variant == 0)
        c = {u, v, disc ? 1.0f : 0.2f};
      else
        c = {0.5f + 0.5f * std::sin(12.0f * u + 3.0f * variant), disc ? 0.1f : 0.8f * v,
             0.5f + 0.5f * std::cos(9.0f * v)};
      image.at<cv::Vec3f>(y, x) = c;
    }
  }
  return image;
}

QString scratchDir() {
  return QDir::temp().filePath(QStringLiteral("impasto-ui-tests-%1").arg(QCoreApplication::applicationPid()));
}

QString scratchPath(const QString& name) { return QDir(scratchDir()).filePath(name); }

QString writeScratchFile(const QString& name, const QByteArray& bytes) {
  const QString path = scratchPath(name);
  QFile file(path);
  if (file.open(QIODevice::WriteOnly)) file.write(bytes);
  return path;
}

QString writePicture(const QString& name, int width, int height, int variant) {
  const QString path = scratchPath(name);
  saveImage(makePicture(width, height, variant), path.toStdString());
  return path;
}

void sendMouse(QSlider* slider, QEvent::Type type, QPoint at, Qt::MouseButton button, Qt::MouseButtons held) {
  QMouseEvent event(type, QPointF(at), QPointF(slider->mapToGlobal(at)), button, held, Qt::NoModifier);
  QCoreApplication::sendEvent(slider, &event);
}

QPoint handleCentre(QSlider* slider) {
  QStyleOptionSlider option;
  option.initFrom(slider);
  option.orientation = slider->orientation();
  option.minimum = slider->minimum();
  option.maximum = slider->maximum();
  option.sliderPosition = slider->sliderPosition();
  option.sliderValue = slider->value();
  option.subControls = QStyle::SC_SliderHandle;
  return slider->style()
      ->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderHandle, slider)
      .center();
}

bool waitUntil(const std::function<bool()>& pred, int timeoutMs) {
  QElapsedTimer timer;
  timer.start();
  while (!pred()) {
    if (timer.elapsed() > timeoutMs) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    QThread::msleep(1);
  }
  return true;
}

void prepareTinyRender(MainWindow& window, const QString& content, const QString& style, int size,
                       int iterations, Optimizer optimizer, double beta,
                       const std::function<void(RenderSettings&)>& adjust) {
  window.setModel(makeTinyModel(), QStringLiteral("file:/nonexistent/tiny.onnx"));
  ASSERT_TRUE(window.loadContent(content));
  ASSERT_TRUE(window.addStyle(style));
  RenderSettings s = window.parameters()->settings();
  s.size = size;
  s.iterations = iterations;
  s.optimizer = optimizer;
  s.init = InitKind::Content;
  s.weights.alpha = 1.0;
  s.weights.beta = beta;
  s.weights.styleLayers = {{"relu1", 1.0}, {"relu2", 1.0}};
  s.contentLayer = "relu2";
  if (adjust) adjust(s);
  window.parameters()->setSettings(s);
}

void prepareEndlessTinyRender(MainWindow& window, const QString& content, int size, double beta,
                              const std::function<void(RenderSettings&)>& adjust) {
  prepareTinyRender(window, content, writePicture(QStringLiteral("style.png"), 96, 72, 1), size, kEndless,
                    Optimizer::Lbfgs, beta, [&adjust](RenderSettings& s) {
                      s.learningRate = 0.0;
                      s.weights.tv = 0.0;
                      if (adjust) adjust(s);
                    });
}

}  // namespace impasto::uitest
