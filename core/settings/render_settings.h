#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace impasto {

class Model;

// The weights of J(G) = α·J_content + β·Σ_l λ_l·J_style^l + tv·J_tv.
// Layers with λ = 0 do not count; a layer missing from styleLayers is not used.
struct LossWeights {
  double alpha = 1.0;
  double beta = 1.0;
  std::map<std::string, double> styleLayers;  // λ per style layer
  double tv = 0.0;
};

enum class Optimizer { Lbfgs, Adam };
enum class InitKind { Content, Noise, Image };

struct RenderSettings {
  int size = 512;  // longest side of G, pixels
  int iterations = 500;
  LossWeights weights;
  std::string contentLayer;
  Optimizer optimizer = Optimizer::Lbfgs;
  double learningRate = 0.0;  // 0: the optimiser's default
  InitKind init = InitKind::Content;
  std::uint64_t seed = 0;
  int frameEvery = 10;  // a frame to the observer every k steps (and the last)
  int threads = 0;      // 0: all cores
};

// α and β for models whose manifest does not name its own.
constexpr double kDefaultAlpha = 1.0;
constexpr double kDefaultBeta = 1.0e4;

// The settings as one line of JSON, embedded in exported images so a render can
// be reproduced.
std::string describeSettings(const RenderSettings& settings, const std::string& modelName);

// Fills unset settings from the model's manifest (content layer, style layers
// with equal λ, α and β) and checks every layer name. Throws Error(Usage).
RenderSettings resolveSettings(RenderSettings settings, const Model& model);

}  // namespace impasto
