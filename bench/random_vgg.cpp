#include "bench/random_vgg.h"

#include <torch/torch.h>

#include <cmath>

#include "core/engine/tensor_convert.h"
#include "core/models/layers.h"
#include "core/models/vgg.h"

namespace impasto::bench {

ModelPtr randomVgg19() {
  torch::manual_seed(0);
  std::vector<LayerSpec> layers;
  for (const VggLayer& v : vggTopology(VggDepth::Vgg19)) {
    LayerSpec spec;
    spec.kind = v.kind;
    spec.name = v.name;
    if (v.kind == LayerKind::Conv) {
      spec.weight = weightArray(torch::randn({v.outChannels, v.inChannels, 3, 3}) *
                                std::sqrt(2.0 / (9.0 * v.inChannels)));
      spec.bias = weightArray(torch::zeros({v.outChannels}));
      spec.padding = 1;
    } else if (v.kind == LayerKind::MaxPool) {
      spec.kernel = 2;
      spec.stride = 2;
    }
    layers.push_back(spec);
  }
  return std::make_shared<const Model>(vggManifest(VggDepth::Vgg19, VggWeights::Caffe), std::move(layers));
}

}  // namespace impasto::bench
