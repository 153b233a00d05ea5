#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <string>

namespace impasto {

struct ImageSize {
  int width = 0;
  int height = 0;
  std::int64_t pixels() const { return std::int64_t(width) * height; }
};

// Reads width and height from the file header (JPEG, PNG, TIFF, WebP, BMP)
// without decoding pixels. Throws Error(Input) when the format is not recognised.
ImageSize probeImageSize(const std::filesystem::path& path);

constexpr std::int64_t kMaxImagePixels = 100'000'000;

// Decodes an image into CV_32FC3, RGB order, values in [0, 1]. Honours EXIF
// orientation, expands grey to RGB and composites alpha over white. Refuses
// images over maxPixels from the header, before decoding. Throws Error(Input).
cv::Mat loadImage(const std::filesystem::path& path, std::int64_t maxPixels = kMaxImagePixels);

// Scales so the longest side is `longest` pixels (area filter when shrinking).
cv::Mat resizeToLongest(const cv::Mat& image, int longest);
// The size resizeToLongest gives an image of this size.
cv::Size sizeForLongest(cv::Size size, int longest);

struct SaveOptions {
  int pngBitDepth = 8;                         // 8 or 16
  int jpegQuality = 95;                        // 0-100
  std::map<std::string, std::string> pngText;  // tEXt chunks, e.g. the render settings
};

// Encodes a CV_32FC3 RGB [0, 1] (or CV_8UC3 RGB) image by the path's extension
// (.png, .jpg/.jpeg, .tif/.tiff) and writes it atomically. Throws Error(Output).
void saveImage(const cv::Mat& rgb, const std::filesystem::path& path, const SaveOptions& options = {});

// True when the extension is one saveImage can write.
bool isSupportedOutputExtension(const std::filesystem::path& path);

// Reads the tEXt chunks of a PNG file (used to recover embedded settings).
std::map<std::string, std::string> readPngText(const std::filesystem::path& path);

// CV_32FC3 RGB [0, 1] -> CV_8UC3 RGB, rounded and clamped.
cv::Mat toRgb8(const cv::Mat& rgb);

}  // namespace impasto
