#include "core/engine/matmul.h"

#include <ATen/ops/empty.h>
#include <dnnl.h>

namespace impasto {

namespace {

bool suitsOneDnn(const at::Tensor& a, const at::Tensor& b) {
  for (const auto& t : {a, b})
    if (!t.device().is_cpu() || t.scalar_type() != at::kFloat || !t.is_contiguous()) return false;
  return true;
}

}  // namespace

at::Tensor matrixProduct(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "matrixProduct: shapes do not fit");
  if (suitsOneDnn(a, b)) {
    const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
    at::Tensor c = at::empty({m, n}, a.options());
    // Row-major, no transposes: c = a · b.
    if (dnnl_sgemm('N', 'N', m, n, k, 1.0f, a.data_ptr<float>(), k, b.data_ptr<float>(), n, 0.0f,
                   c.data_ptr<float>(), n) == dnnl_success)
      return c;
  }
  return a.mm(b);
}

}  // namespace impasto
