#pragma once

#include <QImage>
#include <QSize>
#include <QString>
#include <opencv2/core.hpp>

namespace impasto {

// An image the user brought in (file, drop or paste), decoded once: the full
// pixels for the render job and a thumbnail for the window.
struct LoadedImage {
  QString source;   // file path, or empty when pasted
  QString name;     // what the window calls it
  cv::Mat rgb;      // CV_32FC3 RGB [0, 1], full size
  QImage thumbnail;
  QSize size() const { return {rgb.cols, rgb.rows}; }
  bool isNull() const { return rgb.empty(); }
};

constexpr int kThumbnailSide = 160;

// Decodes a file with core's loader (EXIF, 8/16-bit, alpha, size limit).
// Throws Error(Input) with a message for the user.
LoadedImage loadImageFile(const QString& path);

// Wraps pasted or dragged image data. Throws Error(Input) when it is empty or too large.
LoadedImage loadImageData(const QImage& image, const QString& name);

// "1920 × 1080"
QString sizeText(const QSize& size);

}  // namespace impasto
