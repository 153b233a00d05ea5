// torch first: Qt's `slots` keyword macro breaks torch's headers otherwise.
#include <torch/torch.h>

#include "ui_test_support.h"

#include <cmath>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QThread>

#include "core/image_io.h"
#include "core/layers.h"

namespace impasto::uitest {

ModelPtr makeTinyModel(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<LayerSpec> layers;
  int channels = 3;
  const int width = 8;
  for (int block = 1; block <= 3; ++block) {
    const int out = width * block;
    LayerSpec conv;
    conv.kind = LayerKind::Conv;
    conv.name = "conv" + std::to_string(block);
    conv.weight = torch::randn({out, channels, 3, 3}) * std::sqrt(2.0 / (9.0 * channels));
    conv.bias = torch::randn({out}) * 0.01;
    conv.padding = 1;
    layers.push_back(conv);
    LayerSpec relu;
    relu.kind = LayerKind::ReLU;
    relu.name = "relu" + std::to_string(block);
    layers.push_back(relu);
    if (block < 3) {
      LayerSpec pool;
      pool.kind = LayerKind::MaxPool;
      pool.name = "pool" + std::to_string(block);
      pool.kernel = 2;
      pool.stride = 2;
      layers.push_back(pool);
    }
    channels = out;
  }
  ModelManifest manifest;
  manifest.name = "tiny";
  manifest.title = "Tiny test network";
  for (const auto& l : layers) manifest.layers.push_back(l.name);
  manifest.defaultStyleLayers = {"relu1", "relu2", "relu3"};
  manifest.defaultContentLayer = "relu2";
  manifest.defaultAlpha = 1.0;
  manifest.defaultBeta = 1000.0;
  return std::make_shared<const Model>(manifest, std::move(layers));
}

cv::Mat makePicture(int width, int height, int variant) {
  cv::Mat image(height, width, CV_32FC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float u = float(x) / float(std::max(1, width - 1));
      const float v = float(y) / float(std::max(1, height - 1));
      const float dx = u - 0.5f, dy = v - 0.5f;
      const bool disc = dx * dx + dy * dy < 0.09f;
      cv::Vec3f c;
      if (variant == 0) c = {u, v, disc ? 1.0f : 0.2f};
      else c = {0.5f + 0.5f * std::sin(12.0f * u + 3.0f * variant), disc ? 0.1f : 0.8f * v, 0.5f + 0.5f * std::cos(9.0f * v)};
      image.at<cv::Vec3f>(y, x) = c;
    }
  }
  return image;
}

QString scratchDir() {
  return QDir::temp().filePath(QStringLiteral("impasto-ui-tests-%1").arg(QCoreApplication::applicationPid()));
}

QString writePicture(const QString& name, int width, int height, int variant) {
  const QString path = QDir(scratchDir()).filePath(name);
  saveImage(makePicture(width, height, variant), path.toStdString());
  return path;
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

}  // namespace impasto::uitest
