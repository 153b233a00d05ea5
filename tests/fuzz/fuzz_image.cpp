// libFuzzer harness for the image reader: the header probe (probeImageSize)
// and the decoder (loadImage). A decoded image must be what the probe
// announced: CV_32FC3 of the probed size, every value finite and in [0, 1].

#include <cmath>

#include "core/io/image_io.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// Big enough for every format's code paths, small enough to decode fast.
constexpr std::int64_t kMaxPixels = 1 << 18;

void checkDecoded(const cv::Mat& rgb, const impasto::ImageSize& probed) {
  using impasto::fuzz::violated;
  if (rgb.type() != CV_32FC3) violated("loadImage returned a matrix that is not CV_32FC3");
  if (rgb.cols != probed.width || rgb.rows != probed.height)
    violated("loadImage returned " + std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows) +
             " pixels, the probe said " + std::to_string(probed.width) + "x" + std::to_string(probed.height));
  for (int y = 0; y < rgb.rows; ++y) {
    const float* row = rgb.ptr<float>(y);
    for (int x = 0; x < rgb.cols * 3; ++x)
      if (!std::isfinite(row[x]) || row[x] < 0.f || row[x] > 1.f + 1e-6f)
        violated("loadImage returned the value " + std::to_string(row[x]) + ", outside [0, 1]");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace impasto;
  const auto path = fuzz::writeScratch("image", reinterpret_cast<const char*>(data), size);
  fuzz::expectCleanFailure([&] {
    const ImageSize probed = probeImageSize(path);
    if (probed.width <= 0 || probed.height <= 0) fuzz::violated("probeImageSize returned an empty size");
    checkDecoded(loadImage(path, kMaxPixels), probed);
  });
  return 0;
}
