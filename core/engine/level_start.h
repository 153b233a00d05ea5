#pragma once

#include "core/engine/aten.h"

namespace impasto {

// Where G starts on the next, finer pyramid level: the photo at the new size
// plus what the coarser levels did to it, upsampled. Upsampling G alone would
// blur away the photo's detail finer than the coarse level could hold, and
// the fine level would spend its first steps finding it again.
// generated and coarseContent: [1, 3, h, w]; content: [1, 3, H, W], the
// content image at the new size. Returns [1, 3, H, W] in [0, 1] on
// generated's device.
at::Tensor nextLevelStart(const at::Tensor& generated, const at::Tensor& coarseContent,
                          const at::Tensor& content);

}  // namespace impasto
