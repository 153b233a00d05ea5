// libFuzzer harness for the preset parser (applyPresetJson). A preset that
// applies must survive a round trip: presetToJson's output applies to a default
// preset and writes back the same JSON.

#include <string_view>

#include "core/settings/preset.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace impasto;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expectCleanFailure([&] {
    Preset preset;
    applyPresetJson(text, preset, "fuzz.json");
    const std::string json = presetToJson(preset);
    Preset again;
    try {
      applyPresetJson(json, again, "fuzz.json (written back)");
    } catch (const Error& e) {
      fuzz::violated(std::string("presetToJson wrote a preset applyPresetJson refuses: ") + e.what() + "\n" +
                     json);
    }
    if (presetToJson(again) != json) fuzz::violated("the preset changed in a round trip:\n" + json);
  });
  return 0;
}
