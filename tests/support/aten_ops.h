#pragma once

// The LibTorch operators the tests use, one header each (see core/engine/aten.h),
// so that a test file compiles in seconds.
#include <ATen/Context.h>
#include <ATen/ops/allclose.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/full.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/leaky_relu.h>
#include <ATen/ops/linalg_eigvalsh.h>
#include <ATen/ops/max_pool2d.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/sqrt.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <map>
#include <string>

#include "core/engine/aten.h"
#include "core/models/weights.h"

namespace impasto::test {

// The arrays a reader returns as tensors, to compare with what a test wrote.
std::map<std::string, at::Tensor> toTensors(const std::map<std::string, WeightArray>& arrays);

}  // namespace impasto::test
