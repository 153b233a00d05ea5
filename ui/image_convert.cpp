#include "ui/image_convert.h"

#include <QPainter>
#include <opencv2/imgproc.hpp>

#include "core/util/error.h"

namespace impasto {

QImage toQImage(const cv::Mat& rgb) {
  if (rgb.empty()) return {};
  cv::Mat rgb8;
  if (rgb.type() == CV_8UC3) {
    rgb8 = rgb;
  } else if (rgb.type() == CV_32FC3) {
    rgb.convertTo(rgb8, CV_8UC3, 255.0);  // saturate_cast clamps and rounds
  } else {
    throw Error(ErrorKind::Internal, "toQImage expects CV_8UC3 or CV_32FC3 pixels");
  }
  QImage view(rgb8.data, rgb8.cols, rgb8.rows, int(rgb8.step), QImage::Format_RGB888);
  return view.copy();  // the Mat's buffer is not ours to keep
}

QImage mapToQImage(const cv::Mat& map01) {
  if (map01.empty()) return {};
  if (map01.type() != CV_32FC1) throw Error(ErrorKind::Internal, "mapToQImage expects CV_32FC1 pixels");
  cv::Mat grey;
  map01.convertTo(grey, CV_8UC1, 255.0);
  cv::Mat bgr;
  cv::applyColorMap(grey, bgr, cv::COLORMAP_VIRIDIS);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return toQImage(rgb);
}

cv::Mat toRgb8(const QImage& image) {
  if (image.isNull()) return {};
  QImage rgb;
  if (image.hasAlphaChannel()) {
    QImage flat(image.size(), QImage::Format_ARGB32_Premultiplied);
    flat.fill(Qt::white);
    {
      QPainter painter(&flat);
      painter.drawImage(0, 0, image);
    }
    rgb = flat.convertToFormat(QImage::Format_RGB888);
  } else {
    rgb = image.convertToFormat(QImage::Format_RGB888);
  }
  const cv::Mat view(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()), size_t(rgb.bytesPerLine()));
  return view.clone();
}

cv::Mat toRgb32f(const QImage& image) {
  const cv::Mat rgb8 = toRgb8(image);
  if (rgb8.empty()) return {};
  cv::Mat rgb;
  rgb8.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  return rgb;
}

}  // namespace impasto
