#include "core/io/image_io.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "core/io/atomic_file.h"
#include "core/util/error.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReadableFormats = "JPEG, PNG, TIFF, WebP, BMP";
constexpr const char* kPngSignature = "\x89PNG\r\n\x1a\n";
// Our settings are a few KB; text chunks beyond these bounds are not read.
constexpr std::uint32_t kMaxPngTextChunkBytes = 4u << 20;
constexpr std::size_t kMaxPngTextBytes = 16u << 20;

enum class Format { Jpeg, Png, Tiff, WebP, Bmp };

const char* formatName(Format format) {
  switch (format) {
    case Format::Jpeg:
      return "JPEG";
    case Format::Png:
      return "PNG";
    case Format::Tiff:
      return "TIFF";
    case Format::WebP:
      return "WebP";
    case Format::Bmp:
      return "BMP";
  }
  return "image";
}

// What the header tells before any pixel is decoded.
struct Header {
  Format format = Format::Png;
  ImageSize stored;     // as the pixels are stored
  int orientation = 1;  // EXIF/TIFF orientation 1-8
  // Where a TIFF's orientation value sits and its byte order, so the decoder
  // can be shown an upright file (see loadImage).
  std::optional<std::uint64_t> tiffOrientationAt;
  bool tiffBigEndian = false;
  ImageSize displayed() const { return orientation >= 5 ? ImageSize{stored.height, stored.width} : stored; }
};

// ---------------------------------------------------------------- byte access

// Random access to the start of a file or a buffer, so the header parsers can
// follow offsets (TIFF IFDs, JPEG segments) without reading whole files.
class Source {
 public:
  virtual ~Source() = default;
  // Up to n bytes from offset; fewer (or none) past the end.
  virtual std::string read(std::uint64_t offset, std::size_t n) = 0;
};

class FileSource : public Source {
 public:
  explicit FileSource(const fs::path& path) : in_(path, std::ios::binary) {}
  bool good() const { return in_.is_open(); }
  std::string read(std::uint64_t offset, std::size_t n) override {
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    std::string out(n, '\0');
    in_.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(std::max<std::streamsize>(in_.gcount(), 0)));
    return out;
  }

 private:
  std::ifstream in_;
};

class MemorySource : public Source {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  std::string read(std::uint64_t offset, std::size_t n) override {
    if (offset >= data_.size()) return {};
    return std::string(data_.substr(static_cast<std::size_t>(offset), n));
  }

 private:
  std::string_view data_;
};

// Thrown inside the parsers when a header ends early or contradicts itself;
// the caller turns it into a message naming the file.
struct Corrupt {
  std::string why;
};

// Thrown inside the parsers for a valid file Impasto does not handle; the
// caller prefixes the file name.
struct Unsupported {
  std::string what;
};

std::string need(Source& source, std::uint64_t offset, std::size_t n, const char* what) {
  std::string bytes = source.read(offset, n);
  if (bytes.size() < n) throw Corrupt{std::string("the file ends inside the ") + what};
  return bytes;
}

std::uint32_t byteAt(std::string_view b, std::size_t i) { return static_cast<unsigned char>(b[i]); }
std::uint32_t be16(std::string_view b, std::size_t i) { return byteAt(b, i) << 8 | byteAt(b, i + 1); }
std::uint32_t le16(std::string_view b, std::size_t i) { return byteAt(b, i + 1) << 8 | byteAt(b, i); }
std::uint32_t be32(std::string_view b, std::size_t i) { return be16(b, i) << 16 | be16(b, i + 2); }
std::uint32_t le32(std::string_view b, std::size_t i) { return le16(b, i + 2) << 16 | le16(b, i); }
std::uint64_t le64(std::string_view b, std::size_t i) {
  return std::uint64_t(le32(b, i + 4)) << 32 | le32(b, i);
}
std::uint64_t be64(std::string_view b, std::size_t i) {
  return std::uint64_t(be32(b, i)) << 32 | be32(b, i + 4);
}

// ---------------------------------------------------------------- TIFF / EXIF

struct TiffTags {
  std::optional<std::uint64_t> width, height;
  int orientation = 1;
  std::optional<std::uint64_t> orientationAt;  // file offset of the orientation value
  bool bigEndian = false;
};

// Reads tags 256 (width), 257 (height) and 274 (orientation) of the first IFD.
// Serves TIFF files and the TIFF structure inside a JPEG's EXIF segment. A
// directory that gives one of them twice is refused: decoders disagree on
// which copy wins, and the pixel limit must judge the size the decoder uses.
TiffTags parseTiffTags(Source& source) {
  const std::string head = need(source, 0, 8, "TIFF header");
  bool big;
  if (head.compare(0, 2, "II") == 0) {
    big = false;
  } else if (head.compare(0, 2, "MM") == 0) {
    big = true;
  } else {
    throw Corrupt{"the TIFF byte order mark is invalid"};
  }
  auto u16 = [big](std::string_view b, std::size_t i) { return big ? be16(b, i) : le16(b, i); };
  auto u32 = [big](std::string_view b, std::size_t i) { return big ? be32(b, i) : le32(b, i); };
  auto u64 = [big](std::string_view b, std::size_t i) { return big ? be64(b, i) : le64(b, i); };

  const std::uint32_t version = u16(head, 2);
  const bool bigTiff = version == 43;
  if (version != 42 && !bigTiff) throw Corrupt{"the TIFF version is invalid"};

  std::uint64_t ifd;
  std::uint64_t count;
  std::size_t entrySize;
  std::size_t countSize;
  if (bigTiff) {
    ifd = u64(need(source, 8, 8, "BigTIFF header"), 0);
    countSize = 8;
    entrySize = 20;
    count = u64(need(source, ifd, 8, "TIFF directory"), 0);
  } else {
    ifd = u32(head, 4);
    countSize = 2;
    entrySize = 12;
    count = u16(need(source, ifd, 2, "TIFF directory"), 0);
  }
  if (count > 65535) throw Corrupt{"the TIFF directory is too large"};
  const std::string entries =
      need(source, ifd + countSize, static_cast<std::size_t>(count) * entrySize, "TIFF directory");
  TiffTags tags;
  tags.bigEndian = big;
  constexpr std::uint32_t kCheckedTags[] = {256, 257, 274};
  constexpr const char* kCheckedNames[] = {"width", "height", "orientation"};
  bool seen[3] = {false, false, false};
  for (std::size_t e = 0; e < count; ++e) {
    const std::size_t at = e * entrySize;
    const std::uint32_t tag = u16(entries, at);
    const std::uint32_t type = u16(entries, at + 2);
    for (int k = 0; k < 3; ++k) {
      if (tag != kCheckedTags[k]) continue;
      if (seen[k])
        throw Corrupt{std::string("the TIFF directory gives the image ") + kCheckedNames[k] + " twice"};
      seen[k] = true;
    }
    const std::size_t valueAt = at + (bigTiff ? 12 : 8);
    // Values of one item sit in the entry itself, left-aligned.
    std::optional<std::uint64_t> value;
    if (type == 3)
      value = u16(entries, valueAt);  // SHORT
    else if (type == 4)
      value = u32(entries, valueAt);  // LONG
    else if (type == 16 && bigTiff)
      value = u64(entries, valueAt);  // LONG8
    if (!value) continue;
    if (tag == 256)
      tags.width = *value;
    else if (tag == 257)
      tags.height = *value;
    else if (tag == 274 && type == 3 && *value >= 1 && *value <= 8) {
      tags.orientation = static_cast<int>(*value);
      tags.orientationAt = ifd + countSize + valueAt;
    }
  }
  return tags;
}

Header probeTiff(Source& source) {
  const TiffTags tags = parseTiffTags(source);
  if (!tags.width || !tags.height) throw Corrupt{"the TIFF directory has no image width or height"};
  if (*tags.width > INT_MAX || *tags.height > INT_MAX) throw Corrupt{"the TIFF image size is out of range"};
  Header header;
  header.format = Format::Tiff;
  header.stored = {static_cast<int>(*tags.width), static_cast<int>(*tags.height)};
  header.orientation = tags.orientation;
  header.tiffOrientationAt = tags.orientationAt;
  header.tiffBigEndian = tags.bigEndian;
  return header;
}

// ---------------------------------------------------------------- JPEG

bool isJpegSof(std::uint32_t marker) {
  // C0-CF are start-of-frame markers except DHT (C4), JPG (C8) and DAC (CC).
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Orientation from an EXIF block (a TIFF structure).
int exifOrientation(std::string_view tiffBytes) {
  MemorySource tiff(tiffBytes);
  try {
    return parseTiffTags(tiff).orientation;
  } catch (const Corrupt&) {
    return 1;  // a broken EXIF block should not make a good photo unreadable
  }
}

int jpegExifOrientation(const std::string& app1) {
  static constexpr std::string_view kExif("Exif\0\0", 6);
  if (app1.size() < kExif.size() || std::string_view(app1).substr(0, kExif.size()) != kExif) return 1;
  return exifOrientation(std::string_view(app1).substr(kExif.size()));
}

Header probeJpeg(Source& source) {
  Header header;
  header.format = Format::Jpeg;
  std::uint64_t at = 2;
  bool sawExif = false;
  for (;;) {
    std::string marker = need(source, at, 2, "JPEG headers");
    if (byteAt(marker, 0) != 0xFF) throw Corrupt{"a JPEG marker is missing"};
    if (byteAt(marker, 1) == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    const std::uint32_t code = byteAt(marker, 1);
    at += 2;
    if (code == 0x01 || (code >= 0xD0 && code <= 0xD7)) continue;  // no length field
    if (code == 0xD9 || code == 0xDA) throw Corrupt{"the JPEG has no frame header before its image data"};
    const std::uint32_t length = be16(need(source, at, 2, "JPEG headers"), 0);
    if (length < 2) throw Corrupt{"a JPEG segment length is invalid"};
    if (code == 0xE1 && !sawExif) {
      const std::string app1 = need(source, at + 2, length - 2, "EXIF block");
      if (app1.compare(0, 4, "Exif") == 0) {
        sawExif = true;
        header.orientation = jpegExifOrientation(app1);
      }
    } else if (isJpegSof(code)) {
      const std::string sof = need(source, at + 2, 5, "JPEG frame header");
      header.stored = {static_cast<int>(be16(sof, 3)), static_cast<int>(be16(sof, 1))};
      if (header.stored.height == 0) throw Corrupt{"the JPEG gives its height only after the image data"};
      return header;
    }
    at += length;
  }
}

// True when the entropy-coded data runs to an EOI marker. A file cut short
// would otherwise decode "successfully" with grey bottom rows. Data after the
// EOI (motion photos append a video) is allowed.
bool jpegIsComplete(std::string_view data) {
  std::size_t at = 2;
  bool inScan = false;
  while (at + 1 < data.size()) {
    if (inScan) {
      const void* ff = std::memchr(data.data() + at, 0xFF, data.size() - at);
      if (!ff) return false;
      at = static_cast<std::size_t>(static_cast<const char*>(ff) - data.data());
      if (at + 1 >= data.size()) return false;
    }
    if (byteAt(data, at) != 0xFF) return false;
    const std::uint32_t code = byteAt(data, at + 1);
    if (code == 0xFF) {
      ++at;
      continue;
    }
    at += 2;
    if (code == 0xD9) return true;
    // Stuffed zero and restart markers belong to the scan data.
    if (code == 0x00 || code == 0x01 || (code >= 0xD0 && code <= 0xD7)) continue;
    if (at + 2 > data.size()) return false;
    at += be16(data, at);
    inScan = code == 0xDA;
  }
  return false;
}

// ---------------------------------------------------------------- PNG, WebP, BMP

Header probePng(Source& source) {
  const std::string ihdr = need(source, 8, 16, "PNG header");
  if (ihdr.compare(4, 4, "IHDR") != 0) throw Corrupt{"the PNG does not start with an IHDR chunk"};
  const std::uint32_t width = be32(ihdr, 8);
  const std::uint32_t height = be32(ihdr, 12);
  if (width > INT_MAX || height > INT_MAX) throw Corrupt{"the PNG image size is out of range"};
  Header header;
  header.format = Format::Png;
  header.stored = {static_cast<int>(width), static_cast<int>(height)};

  // An eXIf chunk may carry an orientation (browsers and OpenCV honour it).
  // Some writers put it after the image data, so walk every chunk header;
  // this seeks past the data and stays cheap.
  std::uint64_t at = 8;
  for (int chunks = 0; chunks < 1'000'000; ++chunks) {
    const std::string chunk = source.read(at, 8);
    if (chunk.size() < 8 || chunk.compare(4, 4, "IEND") == 0) break;
    const std::uint32_t length = be32(chunk, 0);
    if (chunk.compare(4, 4, "eXIf") == 0 && length <= (1u << 20)) {
      header.orientation = exifOrientation(source.read(at + 8, length));
      break;
    }
    at += 12 + std::uint64_t(length);
  }
  return header;
}

// True when the chunks run to an IEND chunk.
bool pngIsComplete(std::string_view data) {
  std::size_t at = 8;
  while (at + 8 <= data.size()) {
    const std::uint64_t length = be32(data, at);
    if (data.substr(at + 4, 4) == "IEND") return true;
    at += 12 + length;
  }
  return false;
}

Header probeWebP(Source& source) {
  const std::string chunk = need(source, 12, 18, "WebP header");
  const std::string_view fourcc = std::string_view(chunk).substr(0, 4);
  Header header;
  header.format = Format::WebP;
  if (fourcc == "VP8 ") {
    // Key-frame tag (3 bytes), start code 9D 01 2A, then 14-bit sizes with 2 scale bits.
    if (be16(chunk, 11) != 0x9D01 || byteAt(chunk, 13) != 0x2A)
      throw Corrupt{"the WebP VP8 frame is invalid"};
    header.stored = {static_cast<int>(le16(chunk, 14) & 0x3FFF), static_cast<int>(le16(chunk, 16) & 0x3FFF)};
  } else if (fourcc == "VP8L") {
    if (byteAt(chunk, 8) != 0x2F) throw Corrupt{"the WebP lossless signature is invalid"};
    const std::uint32_t bits = le32(chunk, 9);
    header.stored = {static_cast<int>((bits & 0x3FFF) + 1), static_cast<int>(((bits >> 14) & 0x3FFF) + 1)};
  } else if (fourcc == "VP8X") {
    if (byteAt(chunk, 8) & 0x02) {
      throw Unsupported{
          "is an animated WebP; Impasto reads still images only. "
          "Export one frame as PNG or JPEG and use that."};
    }
    const std::uint32_t width = le32(chunk, 12) & 0xFFFFFF;
    const std::uint32_t height = (le32(chunk, 14) >> 8) & 0xFFFFFF;
    header.stored = {static_cast<int>(width + 1), static_cast<int>(height + 1)};
  } else {
    throw Corrupt{"the WebP has an unknown first chunk"};
  }
  return header;
}

bool webpIsComplete(std::string_view data) { return data.size() >= 8 + std::uint64_t(le32(data, 4)); }

Header probeBmp(Source& source) {
  const std::string head = need(source, 14, 12, "BMP header");
  Header header;
  header.format = Format::Bmp;
  const std::uint32_t infoSize = le32(head, 0);
  if (infoSize == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    header.stored = {static_cast<int>(le16(head, 4)), static_cast<int>(le16(head, 6))};
  } else if (infoSize >= 40) {
    const auto width = static_cast<std::int32_t>(le32(head, 4));
    const auto height = static_cast<std::int32_t>(le32(head, 8));  // negative: rows stored top-down
    if (width <= 0 || height == INT32_MIN) throw Corrupt{"the BMP image size is invalid"};
    header.stored = {width, std::abs(height)};
  } else {
    throw Corrupt{"the BMP info header is invalid"};
  }
  return header;
}

// True unless an uncompressed bitmap is shorter than its rows require.
bool bmpIsComplete(std::string_view data) {
  if (data.size() < 34) return false;
  const std::uint32_t infoSize = le32(data, 14);
  if (infoSize < 40) return true;
  const std::uint32_t compression = le32(data, 30);
  if (compression != 0 && compression != 3) return true;  // RLE sizes are not predictable
  const std::uint64_t width = static_cast<std::uint32_t>(std::abs(static_cast<std::int32_t>(le32(data, 18))));
  const std::uint64_t height =
      static_cast<std::uint32_t>(std::abs(static_cast<std::int32_t>(le32(data, 22))));
  const std::uint64_t bitsPerPixel = le16(data, 28);
  const std::uint64_t rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
  return data.size() >= le32(data, 10) + rowBytes * height;
}

// ---------------------------------------------------------------- probing

std::optional<Format> sniff(std::string_view head) {
  if (head.size() >= 3 && byteAt(head, 0) == 0xFF && byteAt(head, 1) == 0xD8 && byteAt(head, 2) == 0xFF)
    return Format::Jpeg;
  if (head.substr(0, 8) == std::string_view(kPngSignature, 8)) return Format::Png;
  if (head.substr(0, 4) == std::string_view("II*\0", 4) ||
      head.substr(0, 4) == std::string_view("MM\0*", 4) ||
      head.substr(0, 4) == std::string_view("II+\0", 4) || head.substr(0, 4) == std::string_view("MM\0+", 4))
    return Format::Tiff;
  if (head.size() >= 12 && head.substr(0, 4) == "RIFF" && head.substr(8, 4) == "WEBP") return Format::WebP;
  if (head.substr(0, 2) == "BM") return Format::Bmp;
  return std::nullopt;
}

std::string notAnImage(const fs::path& path) {
  return path.string() + " is not an image Impasto can read (" + kReadableFormats + ").";
}

std::string truncatedOrCorrupt(const fs::path& path, Format format, const std::string& why) {
  return path.string() + " is truncated or corrupt (" + why + "). Re-export or re-download the " +
         formatName(format) + " file and try again.";
}

Header probeHeader(const fs::path& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw Error(ErrorKind::Input, "No such file: " + path.string());
  if (fs::is_directory(status)) {
    throw Error(ErrorKind::Input, "Cannot read " + path.string() + ": it is a directory, not an image.");
  }
  FileSource source(path);
  if (!source.good()) {
    throw Error(ErrorKind::Input, "Cannot read " + path.string() + ": " + std::strerror(errno) + ".");
  }
  const std::string head = source.read(0, 12);
  if (head.empty()) {
    throw Error(ErrorKind::Input, path.string() +
                                      " is empty (0 bytes), so it is not an image Impasto can read (" +
                                      kReadableFormats + ").");
  }
  const std::optional<Format> format = sniff(head);
  if (!format) throw Error(ErrorKind::Input, notAnImage(path));
  Header header;
  try {
    switch (*format) {
      case Format::Jpeg:
        header = probeJpeg(source);
        break;
      case Format::Png:
        header = probePng(source);
        break;
      case Format::Tiff:
        header = probeTiff(source);
        break;
      case Format::WebP:
        header = probeWebP(source);
        break;
      case Format::Bmp:
        header = probeBmp(source);
        break;
    }
  } catch (const Corrupt& corrupt) {
    throw Error(ErrorKind::Input, truncatedOrCorrupt(path, *format, corrupt.why));
  } catch (const Unsupported& unsupported) {
    throw Error(ErrorKind::Input, path.string() + " " + unsupported.what);
  }
  if (header.stored.width <= 0 || header.stored.height <= 0) {
    throw Error(ErrorKind::Input,
                truncatedOrCorrupt(path, *format, "its header gives an image size of zero"));
  }
  return header;
}

// ---------------------------------------------------------------- decoding

// OpenCV logs warnings to stderr for things we already report as errors; keep
// them quiet unless the user asked OpenCV for logs explicitly.
void quietOpenCvLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("OPENCV_LOG_LEVEL")) return;
    if (cv::utils::logging::getLogLevel() > cv::utils::logging::LOG_LEVEL_ERROR)
      cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  });
}

void clampToUnit(cv::Mat& image) {
  cv::max(image, cv::Scalar::all(0.0), image);
  cv::min(image, cv::Scalar::all(1.0), image);
}

// Decoded float samples (TIFF) may be NaN, which the clamp passes on; they
// become 0 first. Expects CV_32F.
void clampFloatSamples(cv::Mat& image) {
  cv::patchNaNs(image, 0.0);
  clampToUnit(image);
}

void applyOrientation(cv::Mat& image, int orientation) {
  switch (orientation) {
    case 2:
      cv::flip(image, image, 1);
      break;
    case 3:
      cv::rotate(image, image, cv::ROTATE_180);
      break;
    case 4:
      cv::flip(image, image, 0);
      break;
    case 5:
      cv::transpose(image, image);
      break;
    case 6:
      cv::rotate(image, image, cv::ROTATE_90_CLOCKWISE);
      break;
    case 7:
      cv::transpose(image, image);
      cv::rotate(image, image, cv::ROTATE_180);
      break;
    case 8:
      cv::rotate(image, image, cv::ROTATE_90_COUNTERCLOCKWISE);
      break;
    default:
      break;
  }
}

// Any decoded depth and channel layout -> CV_32FC3 RGB [0, 1], alpha over white.
cv::Mat toFloatRgb(const cv::Mat& decoded, const fs::path& path) {
  double scale;
  switch (decoded.depth()) {
    case CV_8U:
      scale = 1.0 / 255.0;
      break;
    case CV_16U:
      scale = 1.0 / 65535.0;
      break;
    case CV_32F:
    case CV_64F:
      scale = 1.0;
      break;
    default:
      throw Error(ErrorKind::Input, path.string() +
                                        " stores its pixels in a sample format Impasto cannot read. "
                                        "Convert it to an 8- or 16-bit PNG and try again.");
  }
  const int channels = decoded.channels();
  if (channels < 1 || channels > 4) {
    throw Error(ErrorKind::Input, path.string() + " has " + std::to_string(channels) +
                                      " colour channels; Impasto reads grey, RGB and RGBA images.");
  }
  const bool floating = decoded.depth() == CV_32F || decoded.depth() == CV_64F;
  cv::Mat rgb;
  if (channels == 1 || channels == 3) {
    // Reorder at the decoded depth first: at 100 megapixels every float copy costs 1.2 GB.
    cv::Mat source = decoded;
    if (decoded.depth() == CV_64F) decoded.convertTo(source, CV_32F);  // cvtColor has no 64-bit path
    cv::cvtColor(source, rgb, channels == 1 ? cv::COLOR_GRAY2RGB : cv::COLOR_BGR2RGB);
    rgb.convertTo(rgb, CV_32FC3, scale);
    if (floating) clampFloatSamples(rgb);
    return rgb;
  }
  cv::Mat withAlpha;
  decoded.convertTo(withAlpha, CV_MAKETYPE(CV_32F, channels), scale);
  if (floating) clampFloatSamples(withAlpha);
  rgb.create(decoded.size(), CV_32FC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const float* in = withAlpha.ptr<float>(y);
    auto* out = rgb.ptr<cv::Vec3f>(y);
    for (int x = 0; x < rgb.cols; ++x, in += channels) {
      const float alpha = in[channels - 1];
      const float white = 1.f - alpha;
      // Grey+alpha has one colour sample; BGRA has three in reverse order.
      const float r = channels == 2 ? in[0] : in[2];
      const float g = channels == 2 ? in[0] : in[1];
      const float b = in[0];
      out[x] = {r * alpha + white, g * alpha + white, b * alpha + white};
    }
  }
  return rgb;
}

std::string megapixels(std::int64_t pixels) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", static_cast<double>(pixels) / 1e6);
  return text;
}

// ---------------------------------------------------------------- PNG text chunks

// The CRC-32 a PNG chunk carries over its type and data (zlib's).
std::uint32_t pngCrc(std::string_view bytes) {
  return std::uint32_t(::crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), uInt(bytes.size())));
}

void appendBe32(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

std::string pngChunk(std::string_view type, std::string_view data) {
  std::string chunk;
  appendBe32(chunk, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body.append(data);
  chunk += body;
  appendBe32(chunk, pngCrc(body));
  return chunk;
}

bool isAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// tEXt is Latin-1 only; UTF-8 values (paths, names) go into uncompressed iTXt.
std::string textChunk(const std::string& key, const std::string& value) {
  const bool keyOk = !key.empty() && key.size() <= 79 &&
                     std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
  if (!keyOk || value.find('\0') != std::string::npos) {
    throw Error(ErrorKind::Internal, "Cannot embed the PNG text entry '" + key +
                                         "': keys must be 1-79 printable ASCII characters and values "
                                         "must not contain NUL bytes.");
  }
  if (isAscii(value)) return pngChunk("tEXt", key + '\0' + value);
  // keyword, NUL, compression flag 0, method 0, empty language, NUL, empty translated keyword, NUL, text
  return pngChunk("iTXt", key + std::string("\0\0\0\0\0", 5) + value);
}

std::string latin1ToUtf8(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::string lowerExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

ImageSize probeImageSize(const fs::path& path) { return probeHeader(path).displayed(); }

cv::Mat loadImage(const fs::path& path, std::int64_t maxPixels) {
  quietOpenCvLogs();
  const Header header = probeHeader(path);
  const ImageSize size = header.displayed();
  if (size.pixels() > maxPixels) {
    throw Error(ErrorKind::Input, path.string() + " is " + std::to_string(size.width) + " x " +
                                      std::to_string(size.height) + " pixels (" + megapixels(size.pixels()) +
                                      " megapixels), over the limit of " + megapixels(maxPixels) +
                                      " megapixels. Downscale it first (for example to 4000 pixels "
                                      "on the longest side) and try again.");
  }
  // Even uncompressed 16-bit RGBA needs 8 bytes a pixel; metadata gets room on
  // top. Anything beyond is not read (a small picture padded with gigabytes).
  const std::uintmax_t maxBytes = std::uintmax_t(size.pixels()) * 8 + (64u << 20);
  std::string bytes = readFileBytes(path, maxBytes);
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw Error(ErrorKind::Input, path.string() +
                                      " is larger than 2 GB; Impasto cannot decode it. "
                                      "Downscale or recompress it first.");
  }
  bool complete = true;
  switch (header.format) {
    case Format::Jpeg:
      complete = jpegIsComplete(bytes);
      break;
    case Format::Png:
      complete = pngIsComplete(bytes);
      break;
    case Format::WebP:
      complete = webpIsComplete(bytes);
      break;
    case Format::Bmp:
      complete = bmpIsComplete(bytes);
      break;
    case Format::Tiff:
      break;  // strips may lie anywhere; the decoder checks them
  }
  if (!complete)
    throw Error(ErrorKind::Input, truncatedOrCorrupt(path, header.format, "the data ends early"));

  // OpenCV applies a TIFF's orientation on some decoding paths (8-bit) and not
  // on others (16-bit), differently across versions; mark the file upright and
  // apply the orientation below, as for JPEG, so that probeImageSize and
  // loadImage always agree.
  if (header.tiffOrientationAt && *header.tiffOrientationAt + 2 <= bytes.size()) {
    const auto at = static_cast<std::size_t>(*header.tiffOrientationAt);
    bytes[at] = header.tiffBigEndian ? '\0' : '\1';
    bytes[at + 1] = header.tiffBigEndian ? '\1' : '\0';
  }
  // JPEG has no alpha, so it can be decoded as colour.
  const int flags =
      header.format == Format::Jpeg ? cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION : cv::IMREAD_UNCHANGED;
  cv::Mat decoded;
  std::string reason = "the decoder rejected it";
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    reason = e.err.empty() ? e.what() : e.err;
  }
  if (decoded.empty()) throw Error(ErrorKind::Input, truncatedOrCorrupt(path, header.format, reason));
  if (decoded.cols != header.stored.width || decoded.rows != header.stored.height) {
    throw Error(ErrorKind::Input,
                truncatedOrCorrupt(path, header.format, "its header and data disagree on the size"));
  }
  cv::Mat rgb = toFloatRgb(decoded, path);
  applyOrientation(rgb, header.orientation);
  return rgb;
}

cv::Size sizeForLongest(cv::Size size, int longest) {
  const double scale = static_cast<double>(longest) / std::max(size.width, size.height);
  return {std::max(1, static_cast<int>(std::lround(size.width * scale))),
          std::max(1, static_cast<int>(std::lround(size.height * scale)))};
}

cv::Mat resizeToLongest(const cv::Mat& image, int longest) {
  if (longest < 1) {
    throw Error(ErrorKind::Usage,
                "The image size must be at least 1 pixel (got " + std::to_string(longest) + ").");
  }
  if (image.empty()) throw Error(ErrorKind::Internal, "resizeToLongest was given an empty image.");
  const int current = std::max(image.cols, image.rows);
  if (current == longest) return image.clone();
  const cv::Size size = sizeForLongest(image.size(), longest);
  cv::Mat out;
  if (longest < current) {
    cv::resize(image, out, size, 0, 0, cv::INTER_AREA);
  } else {
    cv::resize(image, out, size, 0, 0, cv::INTER_CUBIC);
    // Cubic overshoots at edges; floats would leave the [0, 1] range.
    if (out.depth() == CV_32F || out.depth() == CV_64F) clampToUnit(out);
  }
  return out;
}

bool isSupportedOutputExtension(const fs::path& path) {
  const std::string ext = lowerExtension(path);
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff";
}

void saveImage(const cv::Mat& rgb, const fs::path& path, const SaveOptions& options) {
  if (!isSupportedOutputExtension(path)) {
    const std::string ext = path.extension().string();
    throw Error(ErrorKind::Output, "Cannot save " + path.string() + ": " +
                                       (ext.empty() ? std::string("it has no file extension")
                                                    : "'" + ext + "' is not a supported format") +
                                       ". Use .png, .jpg, .jpeg, .tif or .tiff.");
  }
  if (rgb.empty() || (rgb.type() != CV_32FC3 && rgb.type() != CV_8UC3)) {
    throw Error(ErrorKind::Internal, "saveImage expects a non-empty CV_32FC3 or CV_8UC3 RGB image.");
  }
  if (options.pngBitDepth != 8 && options.pngBitDepth != 16) {
    throw Error(ErrorKind::Usage,
                "The bit depth must be 8 or 16 (got " + std::to_string(options.pngBitDepth) + ").");
  }
  if (options.jpegQuality < 0 || options.jpegQuality > 100) {
    throw Error(ErrorKind::Usage, "The JPEG quality must be between 0 and 100 (got " +
                                      std::to_string(options.jpegQuality) + ").");
  }
  const std::string ext = lowerExtension(path);
  const bool isPng = ext == ".png";
  const bool isJpeg = ext == ".jpg" || ext == ".jpeg";
  const bool sixteen = !isJpeg && options.pngBitDepth == 16;

  cv::Mat bgr;
  if (sixteen) {
    rgb.convertTo(bgr, CV_16UC3, rgb.depth() == CV_8U ? 257.0 : 65535.0);
  } else {
    bgr = toRgb8(rgb);
  }
  cv::cvtColor(bgr, bgr, cv::COLOR_RGB2BGR);

  std::vector<int> params;
  if (isJpeg) params = {cv::IMWRITE_JPEG_QUALITY, options.jpegQuality};
  std::vector<uchar> encoded;
  bool ok = false;
  std::string reason = "the encoder failed";
  try {
    ok = cv::imencode(ext, bgr, encoded, params);
  } catch (const cv::Exception& e) {
    reason = e.err.empty() ? e.what() : e.err;
  }
  if (!ok) throw Error(ErrorKind::Output, "Cannot save " + path.string() + ": " + reason + ".");

  std::string bytes(encoded.begin(), encoded.end());
  if (isPng && !options.pngText.empty()) {
    // Text goes right after IHDR so readers that stop at IDAT still see it.
    if (bytes.size() < 33 || bytes.compare(12, 4, "IHDR") != 0) {
      throw Error(ErrorKind::Internal, "The PNG encoder produced an unexpected header.");
    }
    const std::size_t afterIhdr = 8 + 12 + be32(bytes, 8);
    std::string chunks;
    for (const auto& [key, value] : options.pngText) chunks += textChunk(key, value);
    bytes.insert(afterIhdr, chunks);
  }
  writeFileAtomically(path, bytes);
}

std::map<std::string, std::string> readPngText(const fs::path& path) {
  // Chunk by chunk: only text chunks are read, the image data is skipped, so a
  // print-size PNG (or one padded with gigabytes) costs no memory.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::Input, "Cannot read " + path.string() + ".");
  std::string head(8, '\0');
  if (!in.read(head.data(), 8) || head != std::string_view(kPngSignature, 8))
    throw Error(ErrorKind::Input, path.string() + " is not a PNG file, so it has no embedded settings.");
  std::map<std::string, std::string> text;
  std::string chunkHead(8, '\0');
  std::size_t textBytes = 0;
  while (in.read(chunkHead.data(), 8)) {
    const std::uint32_t length = be32(chunkHead, 0);
    const std::string type = chunkHead.substr(4, 4);
    if (type == "IEND") break;
    const bool isText = type == "tEXt" || type == "iTXt";
    if (!isText || length > kMaxPngTextChunkBytes || textBytes + length > kMaxPngTextBytes) {
      if (!in.seekg(std::streamoff(length) + 4, std::ios::cur)) break;
      continue;
    }
    textBytes += length;
    std::string chunk(std::size_t(length) + 4, '\0');
    if (!in.read(chunk.data(), std::streamsize(chunk.size()))) break;  // truncated: keep what was read
    const std::string_view body = std::string_view(chunk).substr(0, length);
    if (pngCrc(type + std::string(body)) != be32(chunk, length)) continue;
    const std::size_t nul = body.find('\0');
    if (nul == std::string_view::npos || nul == 0) continue;
    const std::string key(body.substr(0, nul));
    if (type == "tEXt") {
      text[key] = latin1ToUtf8(body.substr(nul + 1));
      continue;
    }
    // iTXt: compression flag, method, language NUL, translated keyword NUL, text.
    if (body.size() < nul + 3 || body[nul + 1] != '\0') continue;  // compressed iTXt is not ours
    const std::size_t langEnd = body.find('\0', nul + 3);
    if (langEnd == std::string_view::npos) continue;
    const std::size_t transEnd = body.find('\0', langEnd + 1);
    if (transEnd == std::string_view::npos) continue;
    text[key] = std::string(body.substr(transEnd + 1));
  }
  return text;
}

cv::Mat toRgb8(const cv::Mat& rgb) {
  if (rgb.type() == CV_8UC3) return rgb.clone();
  if (rgb.type() != CV_32FC3) throw Error(ErrorKind::Internal, "toRgb8 expects a CV_32FC3 or CV_8UC3 image.");
  cv::Mat out;
  rgb.convertTo(out, CV_8UC3, 255.0);  // saturate_cast rounds and clamps
  return out;
}

}  // namespace impasto
