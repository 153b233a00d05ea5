#pragma once

#include <QImage>
#include <opencv2/core.hpp>

namespace impasto {

// The one place where pixels cross between OpenCV and Qt (conventions §1).
// Every function returns an image that owns its pixels (a deep copy), so the
// result may outlive the source and travel between threads.

// CV_8UC3 RGB, or CV_32FC3 RGB in [0, 1] (clamped)  ->  QImage::Format_RGB888.
QImage toQImage(const cv::Mat& rgb);

// CV_32FC1 in [0, 1]  ->  a false-colour QImage (viridis), for activation maps.
QImage mapToQImage(const cv::Mat& map01);

// Any QImage  ->  CV_32FC3 RGB in [0, 1]; transparency is composited over white,
// as core::loadImage does for files.
cv::Mat toRgb32f(const QImage& image);

// Any QImage  ->  CV_8UC3 RGB.
cv::Mat toRgb8(const QImage& image);

}  // namespace impasto
