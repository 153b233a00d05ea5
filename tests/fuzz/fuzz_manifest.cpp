// libFuzzer harness for the model manifest parser. A manifest that parses must
// survive a round trip: manifestToJson's output parses to the same manifest.

#include "core/models/manifest.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace impasto;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::expectCleanFailure([&] {
    const ModelManifest manifest = parseManifest(text, "fuzz.json");
    const std::string json = manifestToJson(manifest);
    ModelManifest again;
    try {
      again = parseManifest(json, "fuzz.json (written back)");
    } catch (const Error& e) {
      fuzz::violated(std::string("manifestToJson wrote a manifest parseManifest refuses: ") + e.what() +
                     "\n" + json);
    }
    if (manifestToJson(again) != json) fuzz::violated("the manifest changed in a round trip:\n" + json);
  });
  return 0;
}
