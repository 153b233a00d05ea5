#pragma once

#include "core/engine/aten.h"

namespace impasto {

// The cost terms of DESIGN.md, on activations a of shape [1, n_C, n_H, n_W].

// G_kk' = Σ_ij a_ijk a_ijk'  (n_C x n_C, not normalised).
at::Tensor gramMatrix(const at::Tensor& activations);

// J_style^l = 1 / (2 n_H n_W n_C)^2 · Σ_kk' (G^(S)_kk' − G^(G)_kk')^2, where n_* are
// the sizes of the generated image's activations at layer l.
at::Tensor styleLayerCost(const at::Tensor& generatedActivations, const at::Tensor& styleGram);

// J_content = ½ ||a(C) − a(G)||² / (n_H n_W n_C): the notes' cost divided by the
// layer size so that α means the same at every image size.
at::Tensor contentCost(const at::Tensor& generatedActivations, const at::Tensor& contentActivations);

// J_tv = Σ (squared differences of horizontal and vertical neighbours) / (3 H W),
// on the image [1, 3, H, W]: an optional smoothness term, 0-weighted by default.
at::Tensor totalVariationCost(const at::Tensor& image);

// A style Gram computed on an image whose layer had `styleSize` = n_H·n_W positions,
// rescaled to what it would be on `generatedSize` positions, so that style
// images of another size or shape than G compare like for like.
at::Tensor rescaleGram(const at::Tensor& gram, double styleSize, double generatedSize);

}  // namespace impasto
