#pragma once

// The part of LibTorch every engine file needs: the tensor, its arithmetic
// operators and grad mode. Each .cpp adds the operators it calls
// (<ATen/ops/NAME.h>); with AT_PER_OPERATOR_HEADERS (set by the engine's
// CMake target) nothing pulls in all 2000 of them. A unit costs a few seconds
// to compile this way instead of ~20 s with <torch/torch.h>.
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
