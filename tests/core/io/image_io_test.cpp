#include "core/io/image_io.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/util/error.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

// Bitwise CRC-32 (PNG, ISO 3309), written independently of the table-driven
// one in image_io.cpp so a mistake there cannot cancel out here.
std::uint32_t referenceCrc32(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const char ch : bytes) {
    crc ^= static_cast<unsigned char>(ch);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(std::uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string pngChunk(const std::string& type, const std::string& data) {
  return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(referenceCrc32(type + data));
}

using test::captureError;
using test::readAll;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Smooth RGB float image whose channels differ, so swapped channels or flips show.
cv::Mat gradient(int width, int height) {
  cv::Mat image(height, width, CV_32FC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3f>(y, x) = {static_cast<float>(x) / std::max(1, width - 1),
                                   static_cast<float>(y) / std::max(1, height - 1), 0.25f};
    }
  }
  return image;
}

double maxAbsDiff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_INF); }

// Left half red, right half blue: tells every EXIF rotation and flip apart
// once the top-left corner is also checked.
cv::Mat redLeftBlueRightBgr(int width, int height) {
  cv::Mat bgr(height, width, CV_8UC3, cv::Scalar(255, 0, 0));
  bgr(cv::Rect(0, 0, width / 2, height)).setTo(cv::Scalar(0, 0, 255));
  bgr(cv::Rect(0, 0, 8, 8)).setTo(cv::Scalar(0, 255, 0));  // green top-left marker, one JPEG block
  return bgr;
}

// An APP1 EXIF segment holding only the orientation tag.
std::string exifApp1(int orientation, bool bigEndian) {
  auto u16 = [bigEndian](unsigned v) {
    return bigEndian ? std::string{char(v >> 8), char(v)} : std::string{char(v), char(v >> 8)};
  };
  auto u32 = [bigEndian](std::uint32_t v) {
    return bigEndian ? be32(v) : std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  };
  std::string tiff = (bigEndian ? std::string("MM") : std::string("II")) + u16(42) + u32(8);
  tiff += u16(1);                                                     // one entry
  tiff += u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0);  // orientation, SHORT
  tiff += u32(0);                                                     // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const auto length = static_cast<unsigned>(payload.size() + 2);
  return std::string("\xFF\xE1") + char(length >> 8) + char(length & 0xFF) + payload;
}

// A minimal uncompressed 8- or 16-bit RGB TIFF, so byte order and the
// orientation tag can be chosen (OpenCV writes neither big-endian files nor
// orientation).
std::string handMadeTiff(const cv::Mat& rgb, bool bigEndian, int orientation) {
  auto u16 = [bigEndian](unsigned v) {
    return bigEndian ? std::string{char(v >> 8), char(v)} : std::string{char(v), char(v >> 8)};
  };
  auto u32 = [bigEndian](std::uint32_t v) {
    return bigEndian ? be32(v) : std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  };
  struct Entry {
    unsigned tag, type;
    std::uint32_t count, value;
  };
  const auto width = static_cast<std::uint32_t>(rgb.cols);
  const auto height = static_cast<std::uint32_t>(rgb.rows);
  const unsigned bits = rgb.depth() == CV_16U ? 16 : 8;
  const std::uint32_t pixelBytes = width * height * 3 * bits / 8;
  const std::uint32_t entriesCount = 11;
  const std::uint32_t ifdSize = 2 + entriesCount * 12 + 4;
  const std::uint32_t bitsAt = 8 + ifdSize;
  const std::uint32_t pixelsAt = bitsAt + 6;
  const std::vector<Entry> entries = {
      {256, 4, 1, width},
      {257, 4, 1, height},
      {258, 3, 3, bitsAt},
      {259, 3, 1, 1},
      {262, 3, 1, 2},
      {273, 4, 1, pixelsAt},
      {274, 3, 1, std::uint32_t(orientation)},
      {277, 3, 1, 3},
      {278, 4, 1, height},
      {279, 4, 1, pixelBytes},
      {284, 3, 1, 1},
  };
  std::string file = (bigEndian ? std::string("MM") : std::string("II")) + u16(42) + u32(8);
  file += u16(entriesCount);
  for (const Entry& e : entries) {
    file += u16(e.tag) + u16(e.type) + u32(e.count);
    file += e.type == 3 && e.count == 1 ? u16(e.value) + u16(0) : u32(e.value);
  }
  file += u32(0);
  file += u16(bits) + u16(bits) + u16(bits);
  for (int y = 0; y < rgb.rows; ++y) {
    for (int x = 0; x < rgb.cols * 3; ++x) {
      if (bits == 8)
        file += rgb.ptr<char>(y)[x];
      else
        file += u16(rgb.ptr<std::uint16_t>(y)[x]);
    }
  }
  return file;
}

class ImageIoTest : public ::testing::Test {
 protected:
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path path = dir_ / name;
    test::writeAll(path, bytes);
    return path;
  }

  static std::string encode(const std::string& ext, const cv::Mat& bgr, const std::vector<int>& params = {}) {
    std::vector<uchar> buffer;
    EXPECT_TRUE(cv::imencode(ext, bgr, buffer, params));
    return std::string(buffer.begin(), buffer.end());
  }

  test::ScratchDir scratch_{"impasto-imageio"};
  const fs::path dir_ = scratch_.path();
};

cv::Vec3f pixel(const cv::Mat& rgb, int x, int y) { return rgb.at<cv::Vec3f>(y, x); }

void expectColour(const cv::Vec3f& actual, const cv::Vec3f& expected, float tolerance,
                  const std::string& where) {
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(actual[c], expected[c], tolerance) << where << " channel " << c;
}

// ------------------------------------------------------------- round trips

TEST_F(ImageIoTest, Png8RoundTripKeepsPixelsAndChannelOrder) {
  const cv::Mat original = gradient(37, 23);
  const fs::path path = dir_ / "out.png";
  saveImage(original, path);
  const cv::Mat loaded = loadImage(path);
  ASSERT_EQ(loaded.type(), CV_32FC3);
  ASSERT_EQ(loaded.size(), original.size());
  EXPECT_LE(maxAbsDiff(loaded, original), 0.5 / 255 + 1e-6);
  EXPECT_EQ(readAll(path)[24], 8) << "IHDR bit depth";

  // Read back with OpenCV directly: the file itself must hold R in the red channel.
  const cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(bgr.type(), CV_8UC3);
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 36)[2], 255);  // right edge: full red
  EXPECT_EQ(bgr.at<cv::Vec3b>(0, 36)[0], 64);   // blue 0.25 * 255 = 63.75 -> 64
}

TEST_F(ImageIoTest, Png16RoundTripKeepsSixteenBitPrecision) {
  cv::Mat original = gradient(50, 40);
  original *= 0.999;  // values between the 8-bit steps
  const fs::path path = dir_ / "out16.png";
  SaveOptions options;
  options.pngBitDepth = 16;
  saveImage(original, path, options);
  EXPECT_EQ(readAll(path)[24], 16) << "IHDR bit depth";
  const cv::Mat loaded = loadImage(path);
  EXPECT_LE(maxAbsDiff(loaded, original), 0.5 / 65535 + 1e-6);
}

TEST_F(ImageIoTest, Rgb8InputSavesLosslesslyToPng) {
  cv::Mat rgb8(5, 7, CV_8UC3, cv::Scalar(10, 200, 30));
  saveImage(rgb8, dir_ / "eight.png");
  const cv::Mat loaded = loadImage(dir_ / "eight.png");
  expectColour(pixel(loaded, 3, 2), {10 / 255.f, 200 / 255.f, 30 / 255.f}, 1e-6f, "pixel");
}

TEST_F(ImageIoTest, JpegRoundTripIsCloseAndQualityControlsSize) {
  const cv::Mat original = gradient(64, 48);
  SaveOptions high;
  high.jpegQuality = 95;
  SaveOptions low;
  low.jpegQuality = 10;
  saveImage(original, dir_ / "high.jpg", high);
  saveImage(original, dir_ / "low.JPEG", low);
  const cv::Mat loaded = loadImage(dir_ / "high.jpg");
  ASSERT_EQ(loaded.size(), original.size());
  EXPECT_LT(cv::norm(loaded, original, cv::NORM_L1) / (original.total() * 3), 0.02);
  EXPECT_LT(fs::file_size(dir_ / "low.JPEG"), fs::file_size(dir_ / "high.jpg"));
  expectColour(pixel(loaded, 63, 0), {1.f, 0.f, 0.25f}, 0.06f, "top right");
}

TEST_F(ImageIoTest, TiffRoundTripsIn8And16Bits) {
  cv::Mat original = gradient(33, 21);
  original *= 0.999;
  saveImage(original, dir_ / "eight.tif");
  SaveOptions sixteen;
  sixteen.pngBitDepth = 16;
  saveImage(original, dir_ / "sixteen.tiff", sixteen);
  EXPECT_LE(maxAbsDiff(loadImage(dir_ / "eight.tif"), original), 0.5 / 255 + 1e-6);
  EXPECT_LE(maxAbsDiff(loadImage(dir_ / "sixteen.tiff"), original), 0.5 / 65535 + 1e-6);
  EXPECT_EQ(cv::imread((dir_ / "sixteen.tiff").string(), cv::IMREAD_UNCHANGED).depth(), CV_16U);
}

TEST_F(ImageIoTest, LoadsLosslessWebP) {
  const cv::Mat bgr = redLeftBlueRightBgr(20, 10);
  const fs::path path = write("in.webp", encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 101}));
  const cv::Mat loaded = loadImage(path);
  ASSERT_EQ(loaded.size(), cv::Size(20, 10));
  expectColour(pixel(loaded, 5, 8), {1, 0, 0}, 1e-6f, "left");
  expectColour(pixel(loaded, 15, 8), {0, 0, 1}, 1e-6f, "right");
}

TEST_F(ImageIoTest, LoadsBmp) {
  const cv::Mat bgr = redLeftBlueRightBgr(21, 9);
  const cv::Mat loaded = loadImage(write("in.bmp", encode(".bmp", bgr)));
  ASSERT_EQ(loaded.size(), cv::Size(21, 9));
  expectColour(pixel(loaded, 2, 8), {1, 0, 0}, 1e-6f, "left");
  expectColour(pixel(loaded, 19, 8), {0, 0, 1}, 1e-6f, "right");
  expectColour(pixel(loaded, 0, 0), {0, 1, 0}, 1e-6f, "marker");
}

TEST_F(ImageIoTest, UnknownOutputExtensionIsRefusedAndListsTheSupportedOnes) {
  const Error error = captureError([&] { saveImage(gradient(4, 4), dir_ / "out.gif"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_TRUE(contains(error.what(), ".png")) << error.what();
  EXPECT_TRUE(contains(error.what(), ".tiff")) << error.what();
  EXPECT_FALSE(fs::exists(dir_ / "out.gif"));
  EXPECT_TRUE(isSupportedOutputExtension("a/b.PNG"));
  EXPECT_TRUE(isSupportedOutputExtension("x.jpeg"));
  EXPECT_TRUE(isSupportedOutputExtension("x.TIF"));
  EXPECT_FALSE(isSupportedOutputExtension("x.webp"));
  EXPECT_FALSE(isSupportedOutputExtension("png"));
}

TEST_F(ImageIoTest, SaveIntoAMissingDirectoryIsAnOutputError) {
  const Error error = captureError([&] { saveImage(gradient(4, 4), dir_ / "missing" / "out.png"); });
  EXPECT_EQ(error.kind(), ErrorKind::Output);
  EXPECT_TRUE(fs::is_empty(dir_));
}

// ------------------------------------------------------------- colour layouts

TEST_F(ImageIoTest, GreyBecomesEqualRgb) {
  const cv::Mat grey(6, 8, CV_8UC1, cv::Scalar(128));
  const cv::Mat loaded = loadImage(write("grey.png", encode(".png", grey)));
  ASSERT_EQ(loaded.type(), CV_32FC3);
  expectColour(pixel(loaded, 4, 3), cv::Vec3f::all(128 / 255.f), 1e-6f, "grey");

  const cv::Mat grey16(6, 8, CV_16UC1, cv::Scalar(1000));
  const cv::Mat loaded16 = loadImage(write("grey16.png", encode(".png", grey16)));
  expectColour(pixel(loaded16, 4, 3), cv::Vec3f::all(1000 / 65535.f), 1e-7f, "grey16");
}

TEST_F(ImageIoTest, AlphaIsCompositedOverWhite) {
  cv::Mat bgra(2, 3, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = {0, 0, 255, 0};    // transparent red -> white
  bgra.at<cv::Vec4b>(0, 1) = {0, 0, 255, 255};  // opaque red
  bgra.at<cv::Vec4b>(0, 2) = {0, 0, 0, 51};     // 20 % black -> 80 % white
  bgra.at<cv::Vec4b>(1, 0) = {255, 0, 0, 0};
  bgra.at<cv::Vec4b>(1, 1) = {255, 0, 0, 255};
  bgra.at<cv::Vec4b>(1, 2) = {255, 0, 0, 255};
  for (const std::string ext : {".png", ".webp", ".tiff"}) {
    std::vector<int> params;
    if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};
    const cv::Mat loaded = loadImage(write("alpha" + ext, encode(ext, bgra, params)));
    ASSERT_EQ(loaded.size(), cv::Size(3, 2)) << ext;
    expectColour(pixel(loaded, 0, 0), {1, 1, 1}, 1e-6f, ext + " transparent");
    expectColour(pixel(loaded, 1, 0), {1, 0, 0}, 1e-6f, ext + " opaque");
    expectColour(pixel(loaded, 2, 0), cv::Vec3f::all(1 - 51 / 255.f), 1e-6f, ext + " partial");
    expectColour(pixel(loaded, 1, 1), {0, 0, 1}, 1e-6f, ext + " opaque blue");
  }
}

// OpenCV cannot write grey+alpha PNGs, so build one: IDAT holds a zlib stream
// with a single stored (uncompressed) deflate block.
std::string greyAlphaPng(const std::vector<std::pair<unsigned char, unsigned char>>& row) {
  std::string raw(1, '\0');  // filter type: none
  for (const auto& [grey, alpha] : row) raw += {char(grey), char(alpha)};
  std::uint32_t a = 1, b = 0;  // Adler-32
  for (const char ch : raw) {
    a = (a + static_cast<unsigned char>(ch)) % 65521;
    b = (b + a) % 65521;
  }
  const auto n = static_cast<unsigned>(raw.size());
  const std::string zlib = std::string("\x78\x01\x01", 3) + char(n & 0xFF) + char(n >> 8) + char(~n & 0xFF) +
                           char((~n >> 8) & 0xFF) + raw + be32(b << 16 | a);
  const std::string ihdr =
      be32(static_cast<std::uint32_t>(row.size())) + be32(1) + std::string("\x08\x04\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IDAT", zlib) +
         pngChunk("IEND", "");
}

TEST_F(ImageIoTest, GreyAlphaIsCompositedOverWhite) {
  const cv::Mat loaded =
      loadImage(write("grey-alpha.png", greyAlphaPng({{0, 0}, {0, 255}, {200, 255}, {0, 102}})));
  ASSERT_EQ(loaded.size(), cv::Size(4, 1));
  expectColour(pixel(loaded, 0, 0), {1, 1, 1}, 1e-6f, "transparent");
  expectColour(pixel(loaded, 1, 0), {0, 0, 0}, 1e-6f, "opaque black");
  expectColour(pixel(loaded, 2, 0), cv::Vec3f::all(200 / 255.f), 1e-6f, "opaque grey");
  expectColour(pixel(loaded, 3, 0), cv::Vec3f::all(0.6f), 1e-6f, "40 % black");
}

TEST_F(ImageIoTest, SixteenBitAlphaIsCompositedOverWhite) {
  cv::Mat bgra(1, 2, CV_16UC4);
  bgra.at<cv::Vec<std::uint16_t, 4>>(0, 0) = {0, 0, 0, 0};
  bgra.at<cv::Vec<std::uint16_t, 4>>(0, 1) = {0, 65535, 0, 65535};
  const cv::Mat loaded = loadImage(write("alpha16.png", encode(".png", bgra)));
  expectColour(pixel(loaded, 0, 0), {1, 1, 1}, 1e-6f, "transparent");
  expectColour(pixel(loaded, 1, 0), {0, 1, 0}, 1e-6f, "opaque green");
}

// Found by tests/fuzz/fuzz_image: a float TIFF's NaN samples went through the
// clamp to [0, 1] and on into the render. NaN counts as 0 (black, or a
// transparent alpha), infinities clamp.
TEST_F(ImageIoTest, NonFiniteFloatTiffSamplesBecomeValuesInTheUnitRange) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  cv::Mat grey(1, 4, CV_32FC1);
  grey.at<float>(0, 0) = nan;
  grey.at<float>(0, 1) = inf;
  grey.at<float>(0, 2) = -inf;
  grey.at<float>(0, 3) = 0.5f;
  cv::Mat bgra(1, 2, CV_32FC4);
  bgra.at<cv::Vec4f>(0, 0) = {nan, 0.5f, 0.25f, 1.f};  // blue is NaN, opaque
  bgra.at<cv::Vec4f>(0, 1) = {0.f, 0.f, 0.f, nan};     // alpha is NaN
  for (const auto& [name, image] : {std::pair{"grey.tiff", grey}, std::pair{"bgra.tiff", bgra}}) {
    const cv::Mat loaded = loadImage(write(name, encode(".tiff", image)));
    ASSERT_EQ(loaded.type(), CV_32FC3) << name;
    for (int x = 0; x < loaded.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = pixel(loaded, x, 0)[c];
        EXPECT_TRUE(std::isfinite(v) && v >= 0.f && v <= 1.f) << name << " pixel " << x << ": " << v;
      }
  }
  const cv::Mat loadedGrey = loadImage(dir_ / "grey.tiff");
  expectColour(pixel(loadedGrey, 0, 0), {0, 0, 0}, 0.f, "NaN");
  expectColour(pixel(loadedGrey, 1, 0), {1, 1, 1}, 0.f, "infinity");
  expectColour(pixel(loadedGrey, 2, 0), {0, 0, 0}, 0.f, "-infinity");
  expectColour(pixel(loadedGrey, 3, 0), cv::Vec3f::all(0.5f), 0.f, "0.5");
  const cv::Mat loadedBgra = loadImage(dir_ / "bgra.tiff");
  expectColour(pixel(loadedBgra, 0, 0), {0.25f, 0.5f, 0.f}, 1e-6f, "NaN blue");
  expectColour(pixel(loadedBgra, 1, 0), {1, 1, 1}, 1e-6f, "NaN alpha");
}

// ------------------------------------------------------------- orientation

struct OrientationCase {
  int orientation;
  bool bigEndian;
  // Expected size and colours of the decoded image's corners for a 40 x 20
  // source whose left half is red, right half blue, with a green top-left mark.
  int width, height;
  cv::Vec3f topLeft, bottomRight;
};

void PrintTo(const OrientationCase& c, std::ostream* out) {
  *out << "orientation " << c.orientation << (c.bigEndian ? " big-endian" : " little-endian");
}

class ImageIoOrientationTest : public ImageIoTest, public ::testing::WithParamInterface<OrientationCase> {};

const cv::Vec3f kRed{1, 0, 0}, kBlue{0, 0, 1}, kGreen{0, 1, 0};

TEST_P(ImageIoOrientationTest, JpegExifOrientationIsApplied) {
  const OrientationCase c = GetParam();
  const std::string jpeg = encode(".jpg", redLeftBlueRightBgr(40, 20), {cv::IMWRITE_JPEG_QUALITY, 100});
  const std::string withExif = jpeg.substr(0, 2) + exifApp1(c.orientation, c.bigEndian) + jpeg.substr(2);
  const fs::path path = write("oriented.jpg", withExif);

  const ImageSize probed = probeImageSize(path);
  EXPECT_EQ(probed.width, c.width);
  EXPECT_EQ(probed.height, c.height);
  const cv::Mat loaded = loadImage(path);
  ASSERT_EQ(loaded.cols, c.width);
  ASSERT_EQ(loaded.rows, c.height);
  expectColour(pixel(loaded, 1, 1), c.topLeft, 0.1f, "top left");
  expectColour(pixel(loaded, loaded.cols - 2, loaded.rows - 2), c.bottomRight, 0.1f, "bottom right");
}

TEST_P(ImageIoOrientationTest, TiffOrientationTagIsApplied) {
  const OrientationCase c = GetParam();
  cv::Mat rgb8;
  cv::cvtColor(redLeftBlueRightBgr(40, 20), rgb8, cv::COLOR_BGR2RGB);
  cv::Mat rgb16;
  rgb8.convertTo(rgb16, CV_16U, 257);
  // OpenCV decodes 8- and 16-bit TIFFs on different paths.
  for (const cv::Mat& rgb : {rgb8, rgb16}) {
    const std::string depth = rgb.depth() == CV_8U ? "8-bit" : "16-bit";
    const fs::path path = write("oriented.tif", handMadeTiff(rgb, c.bigEndian, c.orientation));
    const ImageSize probed = probeImageSize(path);
    EXPECT_EQ(probed.width, c.width) << depth;
    EXPECT_EQ(probed.height, c.height) << depth;
    const cv::Mat loaded = loadImage(path);
    ASSERT_EQ(loaded.cols, c.width) << depth;
    ASSERT_EQ(loaded.rows, c.height) << depth;
    expectColour(pixel(loaded, 0, 0), c.topLeft, 1e-6f, depth + " top left");
    expectColour(pixel(loaded, loaded.cols - 1, loaded.rows - 1), c.bottomRight, 1e-6f,
                 depth + " bottom right");
  }
}

INSTANTIATE_TEST_SUITE_P(ImageIo, ImageIoOrientationTest,
                         ::testing::Values(OrientationCase{1, true, 40, 20, kGreen, kBlue},
                                           OrientationCase{2, false, 40, 20, kBlue, kRed},
                                           OrientationCase{3, true, 40, 20, kBlue, kGreen},
                                           OrientationCase{4, false, 40, 20, kRed, kBlue},
                                           OrientationCase{5, true, 20, 40, kGreen, kBlue},
                                           OrientationCase{6, false, 20, 40, kRed, kBlue},
                                           OrientationCase{7, true, 20, 40, kBlue, kGreen},
                                           OrientationCase{8, false, 20, 40, kBlue, kRed}));

TEST_F(ImageIoTest, PngExifOrientationIsApplied) {
  // Some writers (libpng's own pngtest.png) put eXIf after the image data.
  const std::string png = encode(".png", redLeftBlueRightBgr(40, 20));
  const std::string app1 = exifApp1(6, true);
  const std::string exif = pngChunk("eXIf", app1.substr(4 + 6));  // drop marker, length, "Exif\0\0"
  const fs::path path =
      write("oriented.png", png.substr(0, png.size() - 12) + exif + png.substr(png.size() - 12));
  EXPECT_EQ(probeImageSize(path).width, 20);
  const cv::Mat loaded = loadImage(path);
  ASSERT_EQ(loaded.size(), cv::Size(20, 40));
  expectColour(pixel(loaded, 0, 0), kRed, 1e-6f, "top left");
  expectColour(pixel(loaded, 19, 39), kBlue, 1e-6f, "bottom right");
}

TEST_F(ImageIoTest, SharedPhotosLoadLikeOpenCv) {
  const fs::path images = test::sharedDir() / "images";
  if (!fs::is_directory(images)) GTEST_SKIP() << "no shared images here";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(images)) {
    if (entry.path().extension() != ".jpg") continue;
    const cv::Mat loaded = loadImage(entry.path());
    cv::Mat reference = cv::imread(entry.path().string(), cv::IMREAD_COLOR);
    cv::cvtColor(reference, reference, cv::COLOR_BGR2RGB);
    ASSERT_EQ(loaded.size(), reference.size()) << entry.path();
    const ImageSize probed = probeImageSize(entry.path());
    EXPECT_EQ(cv::Size(probed.width, probed.height), reference.size()) << entry.path();
    EXPECT_LE(cv::norm(toRgb8(loaded), reference, cv::NORM_INF), 1.0) << entry.path();
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no JPEGs in " << images;
}

// ------------------------------------------------------------- probing

TEST_F(ImageIoTest, ProbeReadsTheSizeOfEveryFormat) {
  const cv::Mat bgr = redLeftBlueRightBgr(37, 23);
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgra.at<cv::Vec4b>(22, 36)[3] = 0;  // libwebp drops an all-opaque alpha plane
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"a.png", encode(".png", bgr)},
      {"a.jpg", encode(".jpg", bgr)},
      {"progressive.jpg", encode(".jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"a.tif", encode(".tif", bgr)},
      {"big-endian.tif", handMadeTiff(rgb, true, 1)},
      {"lossy.webp", encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 80})},         // VP8
      {"lossless.webp", encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 101})},     // VP8L
      {"lossy-alpha.webp", encode(".webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 80})},  // VP8X
      {"a.bmp", encode(".bmp", bgr)},
  };
  for (const auto& [name, bytes] : files) {
    const ImageSize size = probeImageSize(write(name, bytes));
    EXPECT_EQ(size.width, 37) << name;
    EXPECT_EQ(size.height, 23) << name;
    EXPECT_EQ(loadImage(dir_ / name).size(), cv::Size(37, 23)) << name;
  }
  const std::string vp8x = files[7].second;
  EXPECT_EQ(vp8x.substr(12, 4), "VP8X") << "the fixture should exercise the extended WebP header";
}

TEST_F(ImageIoTest, ProbeReadsLargeSizesWithoutDecoding) {
  const std::string ihdr = be32(30000) + be32(30000) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IEND", "");
  const fs::path path = write("huge.png", png);
  const ImageSize size = probeImageSize(path);
  EXPECT_EQ(size.width, 30000);
  EXPECT_EQ(size.height, 30000);
  EXPECT_EQ(size.pixels(), 900'000'000);
}

TEST_F(ImageIoTest, ImageOverThePixelLimitIsRefusedFromTheHeader) {
  const std::string ihdr = be32(30000) + be32(30000) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + pngChunk("IEND", "");
  const fs::path path = write("huge.png", png);
  const auto start = std::chrono::steady_clock::now();
  const Error error = captureError([&] { loadImage(path); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  const std::string message = error.what();
  // A decode attempt would fail differently ("truncated or corrupt": there is no IDAT).
  EXPECT_TRUE(contains(message, "30000 x 30000")) << message;
  EXPECT_TRUE(contains(message, "900.0 megapixels")) << message;
  EXPECT_TRUE(contains(message, "limit of 100.0 megapixels")) << message;
  EXPECT_TRUE(contains(message, "Downscale")) << message;
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
}

// libtiff keeps the first of two ImageWidth tags; a probe that kept the last
// let a 100000-pixel-wide picture pass as 37 wide. Either order is refused.
TEST_F(ImageIoTest, TiffGivingItsWidthTwiceIsRefused) {
  const cv::Mat rgb(23, 37, CV_8UC3, cv::Scalar(10, 20, 30));
  const std::string valid = handMadeTiff(rgb, false, 1);
  auto le16 = [](unsigned v) { return std::string{char(v), char(v >> 8)}; };
  auto le32 = [](std::uint32_t v) {
    return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
  };
  // Entry 0 is ImageWidth; entry 10, PlanarConfiguration (which defaults to
  // the value it holds), is replaced by a LONG tag of our choice.
  auto withWidthAndLastTag = [&](std::uint32_t width, unsigned tag, std::uint32_t value) {
    std::string tiff = valid;
    const std::size_t entries = 8 + 2;
    tiff.replace(entries + 8, 4, le32(width));
    tiff.replace(entries + 10 * 12, 12, le16(tag) + le16(4) + le32(1) + le32(value));
    return tiff;
  };
  constexpr unsigned kPrivateTag = 0x8000;  // ignored by the decoder
  EXPECT_EQ(loadImage(write("one-width.tif", withWidthAndLastTag(37, kPrivateTag, 37))).size(),
            cv::Size(37, 23))
      << "without the second width the file is valid";
  for (const auto& [first, second] :
       {std::pair{100000u, 37u}, std::pair{37u, 100000u}, std::pair{37u, 37u}}) {
    SCOPED_TRACE(std::to_string(first) + " then " + std::to_string(second));
    const fs::path path = write("two-widths.tif", withWidthAndLastTag(first, 256, second));
    for (const auto& call :
         {+[](const fs::path& p) { loadImage(p); }, +[](const fs::path& p) { probeImageSize(p); }}) {
      const Error error = captureError([&] { call(path); });
      EXPECT_EQ(error.kind(), ErrorKind::Input);
      EXPECT_TRUE(contains(error.what(), "gives the image width twice")) << error.what();
      EXPECT_TRUE(contains(error.what(), "two-widths.tif")) << error.what();
    }
  }
}

TEST_F(ImageIoTest, MaxPixelsIsHonouredExactly) {
  const fs::path path = write("hundred.png", encode(".png", cv::Mat(100, 100, CV_8UC3, cv::Scalar::all(9))));
  EXPECT_EQ(loadImage(path, 10000).size(), cv::Size(100, 100));
  const Error error = captureError([&] { loadImage(path, 9999); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_TRUE(contains(error.what(), "100 x 100")) << error.what();
}

// ------------------------------------------------------------- bad inputs

TEST_F(ImageIoTest, MissingFileSaysNoSuchFile) {
  const fs::path path = dir_ / "absent.png";
  for (const auto& call :
       {+[](const fs::path& p) { loadImage(p); }, +[](const fs::path& p) { probeImageSize(p); }}) {
    const Error error = captureError([&] { call(path); });
    EXPECT_EQ(error.kind(), ErrorKind::Input);
    EXPECT_EQ(std::string(error.what()), "No such file: " + path.string());
  }
}

TEST_F(ImageIoTest, TextFileNamedJpgIsNotAnImage) {
  const fs::path path = write("notes.jpg", "These are my notes, not a photo.\n");
  const Error error = captureError([&] { loadImage(path); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_EQ(std::string(error.what()),
            path.string() + " is not an image Impasto can read (JPEG, PNG, TIFF, WebP, BMP).");
  EXPECT_EQ(captureError([&] { probeImageSize(path); }).kind(), ErrorKind::Input);
}

TEST_F(ImageIoTest, EmptyFileIsNotAnImage) {
  const fs::path path = write("empty.png", "");
  const Error error = captureError([&] { loadImage(path); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_TRUE(contains(error.what(), "empty")) << error.what();
  EXPECT_TRUE(contains(error.what(), "not an image Impasto can read")) << error.what();
}

TEST_F(ImageIoTest, DirectoryIsAnInputError) {
  const Error error = captureError([&] { loadImage(dir_); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_TRUE(contains(error.what(), "directory")) << error.what();
}

cv::Mat noise(int width, int height) {
  cv::Mat bgr(height, width, CV_8UC3);
  cv::randu(bgr, 0, 256);
  return bgr;
}

TEST_F(ImageIoTest, TruncatedJpegIsRefused) {
  const std::string jpeg = encode(".jpg", noise(64, 64));
  for (const double keep : {0.6, 0.98}) {
    const std::string cut = jpeg.substr(0, static_cast<std::size_t>(jpeg.size() * keep));
    // Trailing zeros and a stray EOI-less tail must not fool the check.
    const fs::path path = write("cut.jpg", cut + std::string(16, '\0'));
    const Error error = captureError([&] { loadImage(path); });
    EXPECT_EQ(error.kind(), ErrorKind::Input);
    EXPECT_TRUE(contains(error.what(), "truncated or corrupt")) << error.what();
  }
  // Cut inside the headers: even probing fails, with the same wording.
  const fs::path headerCut = write("header-cut.jpg", jpeg.substr(0, 30));
  const Error error = captureError([&] { probeImageSize(headerCut); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_TRUE(contains(error.what(), "truncated or corrupt")) << error.what();
}

TEST_F(ImageIoTest, JpegWithDataAfterTheEndMarkerStillLoads) {
  // Motion photos append a video after the JPEG's EOI marker.
  const std::string jpeg = encode(".jpg", noise(32, 16), {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  const fs::path path = write("motion.jpg", jpeg + "ftypmp42" + std::string(1000, '\x11'));
  EXPECT_EQ(loadImage(path).size(), cv::Size(32, 16));
}

TEST_F(ImageIoTest, TruncatedPngWebPAndBmpAreRefused) {
  const cv::Mat bgr = noise(48, 48);
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"cut.png", encode(".png", bgr)},
           {"cut.webp", encode(".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 90})},
           {"cut.bmp", encode(".bmp", bgr)},
           {"cut.tif", encode(".tif", bgr)}}) {
    const fs::path path = write(name, bytes.substr(0, bytes.size() * 2 / 3));
    const Error error = captureError([&] { loadImage(path); });
    EXPECT_EQ(error.kind(), ErrorKind::Input) << name;
    EXPECT_TRUE(contains(error.what(), "truncated or corrupt")) << name << ": " << error.what();
  }
}

// ------------------------------------------------------------- resizing

TEST_F(ImageIoTest, ResizeKeepsAspectAndHitsTheLongestSide) {
  EXPECT_EQ(resizeToLongest(gradient(400, 200), 100).size(), cv::Size(100, 50));
  EXPECT_EQ(resizeToLongest(gradient(200, 400), 100).size(), cv::Size(50, 100));
  EXPECT_EQ(resizeToLongest(gradient(30, 20), 90).size(), cv::Size(90, 60));
  EXPECT_EQ(resizeToLongest(gradient(1000, 3), 10).size(), cv::Size(10, 1));
  EXPECT_EQ(resizeToLongest(gradient(33, 33), 33).size(), cv::Size(33, 33));
  EXPECT_EQ(captureError([] { resizeToLongest(gradient(4, 4), 0); }).kind(), ErrorKind::Usage);
}

TEST_F(ImageIoTest, ShrinkingAveragesAreas) {
  // A one-pixel checkerboard shrunk 3x: an area filter gives 4/9 or 5/9 in
  // every pixel, a point-sampling filter would give 0 or 1.
  cv::Mat checker(6, 6, CV_32FC3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 6; ++x) checker.at<cv::Vec3f>(y, x) = cv::Vec3f::all(static_cast<float>((x + y) % 2));
  const cv::Mat small = resizeToLongest(checker, 2);
  ASSERT_EQ(small.size(), cv::Size(2, 2));
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) EXPECT_NEAR(small.at<cv::Vec3f>(y, x)[0], 0.5, 1.0 / 18 + 1e-5);
}

TEST_F(ImageIoTest, EnlargingStaysInsideTheUnitRange) {
  cv::Mat edge(8, 8, CV_32FC3, cv::Scalar::all(0.0));
  edge(cv::Rect(4, 0, 4, 8)).setTo(cv::Scalar::all(1.0));
  const cv::Mat big = resizeToLongest(edge, 64);
  ASSERT_EQ(big.size(), cv::Size(64, 64));
  double lo = 0, hi = 0;
  cv::minMaxLoc(big.reshape(1), &lo, &hi);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0);
  // Cubic, not nearest: there are values strictly between the two levels.
  EXPECT_GT(cv::countNonZero((big.reshape(1) > 0.1) & (big.reshape(1) < 0.9)), 0);
}

// ------------------------------------------------------------- PNG text and toRgb8

TEST_F(ImageIoTest, PngTextRoundTripsIncludingUtf8) {
  SaveOptions options;
  options.pngText = {{"impasto.settings", R"({"alpha": 1, "beta": 1000})"},
                     {"Software", "Impasto 0.1"},
                     {"Source", u8"Größe/café ☕.jpg"}};
  const fs::path path = dir_ / "settings.png";
  saveImage(gradient(16, 16), path, options);
  EXPECT_EQ(readPngText(path), options.pngText);

  // Each text chunk has a valid CRC, and sits before the image data.
  const std::string bytes = readAll(path);
  std::size_t at = 8;
  bool sawIdat = false;
  int textChunks = 0;
  while (at + 12 <= bytes.size()) {
    const std::uint32_t length =
        static_cast<unsigned char>(bytes[at]) << 24 | static_cast<unsigned char>(bytes[at + 1]) << 16 |
        static_cast<unsigned char>(bytes[at + 2]) << 8 | static_cast<unsigned char>(bytes[at + 3]);
    const std::string type = bytes.substr(at + 4, 4);
    if (type == "IDAT") sawIdat = true;
    if (type == "tEXt" || type == "iTXt") {
      ++textChunks;
      EXPECT_FALSE(sawIdat) << "text chunk after IDAT";
      EXPECT_EQ(bytes.substr(at + 8 + length, 4), be32(referenceCrc32(bytes.substr(at + 4, 4 + length))));
    }
    at += 12 + length;
  }
  EXPECT_EQ(textChunks, 3);
  EXPECT_LE(maxAbsDiff(loadImage(path), gradient(16, 16)), 0.5 / 255 + 1e-6);
}

TEST_F(ImageIoTest, ReadPngTextOfAPlainPngIsEmptyAndOfAJpegIsAnError) {
  saveImage(gradient(4, 4), dir_ / "plain.png");
  EXPECT_TRUE(readPngText(dir_ / "plain.png").empty());
  saveImage(gradient(4, 4), dir_ / "photo.jpg");
  EXPECT_EQ(captureError([&] { readPngText(dir_ / "photo.jpg"); }).kind(), ErrorKind::Input);
}

TEST_F(ImageIoTest, ReadPngTextDecodesLatin1Text) {
  const std::string ihdr = be32(1) + be32(1) + std::string("\x08\x00\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) +
                          pngChunk("tEXt", std::string("Author\0Ren\xe9", 11)) + pngChunk("IEND", "");
  const auto text = readPngText(write("latin1.png", png));
  ASSERT_EQ(text.count("Author"), 1u);
  EXPECT_EQ(text.at("Author"), u8"René");
}

TEST_F(ImageIoTest, ReadPngTextSkipsChunksWithABadCrc) {
  const std::string ihdr = be32(1) + be32(1) + std::string("\x08\x00\x00\x00\x00", 5);
  std::string damaged = pngChunk("tEXt", std::string("Damaged\0yes", 11));
  damaged[damaged.size() - 1] ^= 0x5A;
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + pngChunk("IHDR", ihdr) + damaged +
                          pngChunk("tEXt", std::string("Intact\0yes", 10)) + pngChunk("IEND", "");
  const auto text = readPngText(write("damaged.png", png));
  EXPECT_EQ(text.count("Damaged"), 0u);
  EXPECT_EQ(text.count("Intact"), 1u);
}

TEST_F(ImageIoTest, ToRgb8RoundsAndClamps) {
  cv::Mat rgb(1, 2, CV_32FC3);
  rgb.at<cv::Vec3f>(0, 0) = {0.f, 0.5f, 1.f};
  rgb.at<cv::Vec3f>(0, 1) = {-0.2f, 1.7f, 0.2f};
  const cv::Mat out = toRgb8(rgb);
  ASSERT_EQ(out.type(), CV_8UC3);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 128, 255));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 1), cv::Vec3b(0, 255, 51));
}

}  // namespace
}  // namespace impasto

namespace impasto {
namespace {

long maxRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// A small picture padded with 1.5 GB (a sparse file: no disk is used) used to
// be read whole before any check. Now the decoder refuses it by its size, and
// the settings reader skips what it does not need: memory stays flat.
TEST(HostileImageTest, APaddedPictureCostsNoMemory) {
  test::ScratchDir scratch("impasto-imageio-hostile");
  const fs::path padded = scratch.path() / "padded.png";
  SaveOptions options;
  options.pngText["impasto:settings"] = R"({"size": 256})";
  saveImage(cv::Mat(64, 64, CV_32FC3, cv::Scalar(0.2, 0.4, 0.6)), padded, options);
  const fs::path hiddenChunk = scratch.path() / "hidden-chunk.png";
  fs::copy_file(padded, hiddenChunk);
  fs::resize_file(padded, fs::file_size(padded) + (std::uintmax_t(3) << 29));

  const long before = maxRssKb();
  const Error e = test::captureError([&] { loadImage(padded); });
  EXPECT_EQ(e.kind(), ErrorKind::Input);
  EXPECT_NE(std::string(e.what()).find("it was not opened"), std::string::npos) << e.what();
  EXPECT_EQ(readPngText(padded).at("impasto:settings"), R"({"size": 256})");

  // A 1.5 GB chunk before the text: skipped, not read.
  std::string bytes = test::readAll(hiddenChunk);
  const std::string big = std::string("\x60\x00\x00\x00", 4) + "zzZz";  // length 1.5 GB, an unknown type
  bytes.insert(8, big);
  test::writeAll(hiddenChunk, bytes);
  fs::resize_file(hiddenChunk, fs::file_size(hiddenChunk) + (std::uintmax_t(3) << 29));
  EXPECT_TRUE(readPngText(hiddenChunk).empty())
      << "the text lies past the chunk, where the file has only zeros";
  EXPECT_LT(maxRssKb() - before, 100 * 1024) << "peak memory grew by more than 100 MB";
}

}  // namespace
}  // namespace impasto
