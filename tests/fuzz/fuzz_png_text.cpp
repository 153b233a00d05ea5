// libFuzzer harness for the PNG text reader (readPngText) and the settings an
// export embeds (loadPresetFile on a .png).

#include "core/io/image_io.h"
#include "core/settings/preset.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace impasto;
  const auto path = fuzz::writeScratch("export.png", reinterpret_cast<const char*>(data), size);
  fuzz::expectCleanFailure([&] {
    for (const auto& [key, value] : readPngText(path))
      if (key.empty() || key.find('\0') != std::string::npos)
        fuzz::violated("a PNG text key is empty or holds NUL");
  });
  fuzz::expectCleanFailure([&] {
    Preset preset;
    loadPresetFile(path, preset);
  });
  return 0;
}
