#include "core/engine/level_start.h"

#include <ATen/ops/upsample_bicubic2d.h>

namespace impasto {

at::Tensor nextLevelStart(const at::Tensor& generated, const at::Tensor& coarseContent,
                          const at::Tensor& content) {
  at::NoGradGuard noGrad;
  const auto device = generated.device();
  const at::Tensor change = generated.detach() - coarseContent.to(device, generated.scalar_type());
  // Bicubic, as resizeImageTensor, but not clamped: the change is signed.
  const at::Tensor grown =
      at::upsample_bicubic2d(change, {content.size(2), content.size(3)}, /*align_corners=*/false);
  return (content.to(device, generated.scalar_type()) + grown).clamp_(0.0, 1.0);
}

}  // namespace impasto
