#pragma once

#include "core/engine/aten.h"

namespace impasto {

// a · b for 2-D tensors, used for the style gradient D · F (n_C x n_C times
// n_C x n_H·n_W). On the CPU in float32 it runs on oneDNN's sgemm (the library
// LibTorch's convolutions use), which picks the widest vector unit the CPU has;
// at::mm goes to the system BLAS, which may be held to older kernels (this
// machine pins OpenBLAS to AVX2). Measured here: D · F twice as fast; the Gram
// F · Fᵀ itself, a long reduction, is not faster on oneDNN and stays on at::mm.
// Anything else (double, CUDA, non-contiguous) uses at::mm.
at::Tensor matrixProduct(const at::Tensor& a, const at::Tensor& b);

}  // namespace impasto
