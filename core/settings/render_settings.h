#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/model.h"

namespace impasto {

// The weights of J(G) = α·J_content + β·Σ_l λ_l·J_style^l + tv·J_tv + γ·J_identity.
// Layers with λ = 0 do not count; a layer missing from styleLayers is not used.
struct LossWeights {
  double alpha = 1.0;
  double beta = 1.0;
  std::map<std::string, double> styleLayers;  // λ per style layer
  double tv = 0.0;
  // γ, the portrait guard's weight: J_identity = Σ_faces ‖f(C_face) − f(G_face)‖²
  // (see RenderJob::faceModels). 0: off.
  double identity = 0.0;
  bool operator==(const LossWeights& other) const;
};

// Weights changed while a render ran (the studio's sliders): from this
// iteration on (1-based) the render used these. Replaying them reproduces
// a live-tuned render.
struct WeightChange {
  int fromIteration = 1;
  LossWeights weights;
};

enum class Optimizer { Lbfgs, Adam };
enum class InitKind { Content, Noise, Image };
// Keeping the photo's colours (Gatys et al. 2016, "Preserving color in neural
// artistic style transfer"): Luminance transfers on luma only and puts the
// photo's chroma back; Histogram gives the style images the photo's colour
// mean and covariance before an ordinary transfer.
enum class PreserveColors { Off, Luminance, Histogram };
// What the preview and the export show: G itself, or an exponential moving
// average of G over the steps (it smooths the last steps' high-frequency jitter).
enum class Averaging { Off, Ema };

struct RenderSettings {
  int size = 512;             // longest side of G, pixels
  int iterations = 500;       // at the final size (see pyramid.h)
  int scales = 0;             // pyramid levels; 0: automatic, 1: no pyramid
  int coarseIterations = 50;  // steps at each coarser level
  // The style image's longest side relative to G's. 0: the same as G's, but
  // never upscaled beyond the style's own pixels (a print-size render matches
  // the style's statistics at its native scale instead of blurring it).
  double styleScale = 0.0;
  LossWeights weights;
  // α and β nobody chose: resolveSettings takes them from the model's manifest.
  bool alphaFromModel = false;
  bool betaFromModel = false;
  std::string contentLayer;
  Optimizer optimizer = Optimizer::Lbfgs;
  double learningRate = 0.0;  // 0: the optimiser's default
  InitKind init = InitKind::Content;
  std::uint64_t seed = 0;
  std::vector<WeightChange> weightChanges;  // in order of fromIteration
  PreserveColors preserveColors = PreserveColors::Off;
  Averaging average = Averaging::Off;
  double averageDecay = 0.9;  // the EMA's weight of the previous average, in [0, 1)
  int frameEvery = 10;        // a frame to the observer every k steps (and the last)
  int threads = 0;            // 0: all cores
};

// α and β for models whose manifest does not name its own.
constexpr double kDefaultAlpha = 1.0;
constexpr double kDefaultBeta = 1.0e4;
// γ when the portrait guard is turned on without a value (--keep-identity,
// the studio's Keep identity); chosen on bench/identity_gamma.sh (README).
constexpr double kDefaultIdentity = 1000.0;

// The ranges every front end offers and resolveSettings enforces.
constexpr int kMinSize = 16;
constexpr int kMaxSize = 16384;
constexpr int kMaxIterations = 1000000;
constexpr int kMaxScales = 12;
constexpr double kMaxWeight = 1e12;  // α, β, λ, γ and the TV weight
constexpr double kMaxStyleScale = 8.0;
constexpr double kMaxAverageDecay = 0.9999;
constexpr std::uint64_t kMaxSeed = std::uint64_t(1) << 53;  // exact in every JSON reader

// The one spelling of each choice, in flags, presets and exported images.
std::string_view spelling(Optimizer value);
std::string_view spelling(InitKind value);
std::string_view spelling(Pooling value);
std::string_view spelling(PreserveColors value);
std::string_view spelling(Averaging value);
// Every spelling of E, in a fixed order (for help texts and combo boxes).
template <typename E>
std::vector<std::string> spellings();
// Throws Error(Usage) "<what> must be a, b or c, got 'x'".
template <typename E>
E parseSpelling(std::string_view text, std::string_view what);

// Fills unset settings from the model's manifest (content layer, style layers
// with equal λ, α and β where alphaFromModel/betaFromModel) and checks every
// value and layer name. Throws Error(Usage).
RenderSettings resolveSettings(RenderSettings settings, const Model& model);

// The weights a render ended with: its last weight change's, or the starting ones.
const LossWeights& finalWeights(const RenderSettings& settings);
// Whether γ > 0 anywhere in the render (its start or a weight change): the
// render needs the face models.
bool usesIdentity(const RenderSettings& settings);
// The settings as the render ended: its final weights, no changes left to
// replay (what the studio shows for an exported render).
RenderSettings endedSettings(RenderSettings settings);

// Checks what can be checked without a model (ranges, finite weights, the
// order of weight changes). Throws Error(Usage) naming the field.
void validateSettings(const RenderSettings& settings);

}  // namespace impasto
