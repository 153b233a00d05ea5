// libFuzzer harness for the TensorFlow.js reader. The input is model.json, a
// NUL byte, then the bytes of the one weight shard, written as "shard.bin"
// (the seeds' weightsManifest names it); without a NUL there is no shard.
// The layers read must be a chain the engine can build: every convolution's
// weight [out, in, kh, kw] takes the previous one's channels, its bias has
// `out` values, and strides and windows are positive.

#include <cstring>

#include "core/models/tfjs_model.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace impasto;

void checkChain(const std::vector<LayerSpec>& layers) {
  std::int64_t channels = -1;
  for (const LayerSpec& layer : layers) {
    if (layer.stride < 1) fuzz::violated(layer.name + " has a stride below 1");
    if (layer.kind == LayerKind::MaxPool || layer.kind == LayerKind::AvgPool) {
      if (layer.kernel < 1 || layer.padding < 0 || layer.padAfter < 0)
        fuzz::violated(layer.name + " has an impossible pooling window");
    }
    if (layer.kind != LayerKind::Conv) continue;
    const WeightArray& w = layer.weight;
    if (w.dim() != 4 || static_cast<std::uint64_t>(w.numel()) != w.values().size())
      fuzz::violated(layer.name + " has a malformed weight");
    for (std::int64_t d : w.shape())
      if (d < 1) fuzz::violated(layer.name + " has an empty weight dimension");
    if (channels >= 0 && w.size(1) != channels) fuzz::violated(layer.name + " breaks the channel chain");
    if (layer.bias.defined() && (layer.bias.dim() != 1 || layer.bias.size(0) != w.size(0)))
      fuzz::violated(layer.name + " has a bias of the wrong length");
    if (layer.padding < 0) fuzz::violated(layer.name + " has negative padding");
    channels = w.size(0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const char*>(data);
  const auto* nul = static_cast<const char*>(std::memchr(bytes, '\0', size));
  const std::size_t jsonSize = nul ? static_cast<std::size_t>(nul - bytes) : size;
  const auto modelJson = fuzz::writeScratch("model.json", bytes, jsonSize);
  const std::filesystem::path shard = modelJson.parent_path() / "shard.bin";
  if (nul)
    fuzz::writeScratch("shard.bin", nul + 1, size - jsonSize - 1);
  else
    std::filesystem::remove(shard);
  fuzz::expectCleanFailure([&] { checkChain(readTfjsLayers(modelJson)); });
  return 0;
}
