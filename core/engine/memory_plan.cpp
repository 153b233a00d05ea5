#include "core/engine/memory_plan.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "core/engine/feature_extractor.h"
#include "core/engine/network_geometry.h"
#include "core/models/layers.h"
#include "core/util/error.h"

namespace impasto {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kHistoryBytes = 192.0 * kMiB;
constexpr int kMaxHistory = 20, kMinHistory = 5;

// Fitted to peaks measured with `impasto-bench --render` (VGG-19, 512 to
// 4096 px) and the CLI (darknet at 6000 px): a step's peak is the process's
// own footprint (LibTorch, the weights, the images: kBaseBytes) plus about
// 0.55-0.65 times the bytes of all the truncated network's layer outputs.
// 0.7 errs towards tiling: a render that tiles needlessly is slower, one
// that does not fit swaps or dies.
constexpr double kActivationFactor = 0.7;
constexpr double kBaseBytes = 400.0 * kMiB;
// Copies of G a step keeps beside the L-BFGS pairs: G, ∇J, the previous x
// and gradient, the direction, and temporaries.
constexpr double kImageCopies = 8.0;

struct Shape {
  std::int64_t height, width;
};

// Bytes of every layer output up to the deepest layer the render uses, and
// the content layer's output alone.
struct NetworkBytes {
  double activations = 0.0;
  double contentLayer = 0.0;
};

NetworkBytes networkBytes(const Model& model, const RenderSettings& settings, Shape in) {
  std::vector<std::string> used{settings.contentLayer};
  for (const auto& [name, lambda] : settings.weights.styleLayers) used.push_back(name);
  const std::size_t last = deepestLayerIndex(model, used);
  const NetworkGeometry geometry = networkGeometry(model, last);
  NetworkBytes bytes;
  for (std::size_t i = 0; i <= last; ++i) {
    const LayerSpec& layer = model.layers()[i];
    in = {layerOutputSize(layer, in.height), layerOutputSize(layer, in.width)};
    const double output = double(geometry.layers[i].channels) * double(in.height * in.width) * sizeof(float);
    bytes.activations += output;
    if (layer.name == settings.contentLayer) bytes.contentLayer = output;
  }
  return bytes;
}

double weightBytes(const Model& model) {
  double bytes = 0.0;
  for (const LayerSpec& layer : model.layers()) {
    if (layer.weight.defined()) bytes += double(layer.weight.numel()) * sizeof(float);
    if (layer.bias.defined()) bytes += double(layer.bias.numel()) * sizeof(float);
  }
  return bytes;
}

}  // namespace

int lbfgsHistorySize(std::int64_t values) {
  const double pairBytes = 2.0 * double(std::max<std::int64_t>(1, values)) * sizeof(float);
  return int(std::clamp(std::floor(kHistoryBytes / pairBytes), double(kMinHistory), double(kMaxHistory)));
}

double estimateRenderBytes(const Model& model, const RenderSettings& settings, int width, int height,
                           int tile) {
  const double imageBytes = 3.0 * double(width) * double(height) * sizeof(float);
  const double images = (2.0 * lbfgsHistorySize(3LL * width * height) + kImageCopies) * imageBytes;
  const double fixed = kBaseBytes + weightBytes(model);
  if (tile <= 0)
    return fixed + images + kActivationFactor * networkBytes(model, settings, {height, width}).activations;
  std::vector<std::string> used{settings.contentLayer};
  for (const auto& [name, lambda] : settings.weights.styleLayers) used.push_back(name);
  const NetworkGeometry geometry = networkGeometry(model, deepestLayerIndex(model, used));
  const int core = (tile + geometry.totalStride - 1) / geometry.totalStride * geometry.totalStride;
  const int span = core + 2 * geometry.halo;
  const Shape crop{std::min<std::int64_t>(height, span), std::min<std::int64_t>(width, span)};
  // One tile's step, plus the whole image's content target.
  return fixed + images + kActivationFactor * networkBytes(model, settings, crop).activations +
         networkBytes(model, settings, {height, width}).contentLayer;
}

double defaultMemoryBudget() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0.0;
    if (fields >> key >> kib && key == "MemAvailable:") return 0.85 * kib * 1024.0;
  }
  return 4096.0 * kMiB;  // no /proc: a size every machine that runs us has
}

MemoryPlan planMemory(const Model& model, const RenderSettings& settings, int width, int height,
                      int forcedTile, double maxMemoryBytes) {
  MemoryPlan plan;
  plan.width = width;
  plan.height = height;
  plan.budgetBytes = maxMemoryBytes > 0.0 ? maxMemoryBytes : defaultMemoryBudget();
  plan.untiledBytes = estimateRenderBytes(model, settings, width, height, 0);
  plan.plannedBytes = plan.untiledBytes;
  const int longest = std::max(width, height);
  if (forcedTile > 0) {
    if (forcedTile < longest) {
      plan.tile = forcedTile;
      plan.plannedBytes = estimateRenderBytes(model, settings, width, height, forcedTile);
    }
    return plan;
  }
  if (plan.untiledBytes <= plan.budgetBytes) return plan;
  // The largest tile that fits: halving from the image's size.
  for (int tile = longest / 2; tile >= kMinAutoTile; tile /= 2) {
    const double bytes = estimateRenderBytes(model, settings, width, height, tile);
    if (bytes <= plan.budgetBytes) {
      plan.tile = tile;
      plan.plannedBytes = bytes;
      return plan;
    }
  }
  // Nothing fits with the process's own footprint counted. A machine that
  // short of memory (or a small --max-memory) may still run the render if
  // what the image itself needs fits: try, with the least memory.
  const double smallest = estimateRenderBytes(model, settings, width, height, kMinAutoTile);
  const double fixed = kBaseBytes + weightBytes(model);
  if (plan.untiledBytes - fixed <= plan.budgetBytes) return plan;
  if (smallest - fixed <= plan.budgetBytes) {
    plan.tile = kMinAutoTile;
    plan.plannedBytes = smallest;
    return plan;
  }
  std::ostringstream message;
  message.precision(1);
  message << std::fixed << "A " << width << " x " << height << " render needs about "
          << smallest / (1024 * kMiB) << " GB even in tiles, but only " << plan.budgetBytes / (1024 * kMiB)
          << " GB may be used: choose a smaller size, or raise --max-memory if the machine has more";
  throw Error(ErrorKind::Input, message.str());
}

}  // namespace impasto
