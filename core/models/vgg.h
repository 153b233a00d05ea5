#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/models/layers.h"
#include "core/models/manifest.h"
#include "core/models/state_dict.h"

namespace impasto {

// The VGG-16 and VGG-19 feature stacks (Simonyan & Zisserman), built in so a
// plain torchvision-style state_dict loads without a manifest.
enum class VggDepth { Vgg16 = 16, Vgg19 = 19 };

// Which training set-up the weights come from; it decides the preprocessing.
enum class VggWeights {
  Caffe,        // the original Caffe weights: BGR, 0-255, minus the ImageNet mean
  Torchvision,  // torchvision's: RGB, 0-1, mean/std normalised
};

struct VggLayer {
  std::string name;  // conv1_1, relu1_1, ..., pool5
  LayerKind kind;
  int featureIndex;     // N in torchvision's features.N (conv, relu and pool all count)
  int inChannels = 0;   // conv only
  int outChannels = 0;  // conv only
};

std::vector<VggLayer> vggTopology(VggDepth depth);

// "vgg16" / "vgg19" (as in a manifest's "architecture"); nullopt otherwise.
std::optional<VggDepth> parseVggArchitecture(const std::string& architecture);

// VGG-16 or VGG-19 from torchvision's feature keys, or nullopt when the
// state_dict is not a VGG.
std::optional<VggDepth> guessVggDepth(const StateDict& dict);

// The layer list, weights taken from features.N.weight/bias. Throws
// Error(Model) naming a missing key or a shape that does not fit.
std::vector<LayerSpec> vggLayers(VggDepth depth, const StateDict& dict, const std::string& origin);

// Name, preprocessing and the classic defaults (style relu1_1..relu5_1,
// content relu4_2) for a VGG without a manifest.
ModelManifest vggManifest(VggDepth depth, VggWeights weights);

// The Caffe-converted files (vgg19-d01eb7cb.pth, vgg16-00b39a1b.pth) are known
// by the hash prefix torchvision-style names carry; everything else is taken
// for torchvision's.
VggWeights guessVggWeights(const std::string& fileName);

}  // namespace impasto
