// The projected L-BFGS: bound-held pixels, sufficient decrease, J at accepted
// points only, and a state that survives a checkpoint bit for bit.
#include "core/engine/lbfgs.h"

#include <ATen/ops/equal.h>
#include <ATen/ops/full_like.h>
#include <ATen/ops/linspace.h>
#include <ATen/ops/sin.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "core/engine/cost_function.h"
#include "core/engine/render.h"
#include "core/engine/stepper.h"
#include "core/engine/tensor_convert.h"
#include "core/io/image_io.h"
#include "tests/support/test_images.h"
#include "tests/support/test_models.h"
#include "tests/support/test_paths.h"

namespace impasto {
namespace {

// J(x) = ½ Σ a_i (x_i − c_i)², ill-conditioned (a from 1 to 1000), with half
// the targets c outside [0, 1]: the box's minimiser is clamp(c), with those
// pixels held at a bound by a gradient that points outward.
struct BoxQuadratic {
  at::Tensor a, c;
  explicit BoxQuadratic(std::int64_t n) {
    const at::Tensor t = at::linspace(0.0, 1.0, n, at::kFloat);
    a = (t * 3.0).exp() * 50.0 / std::exp(3.0) + 1.0;
    c = at::sin(t * 40.0) * 1.5 + 0.5;  // from −1 to 2
  }
  double loss(const at::Tensor& x) const {
    return 0.5 * (a * (x - c) * (x - c)).sum(at::kDouble).item<double>();
  }
  at::Tensor grad(const at::Tensor& x) const { return a * (x - c); }
};

TEST(ProjectedLbfgs, ConvergesToTheBoxMinimiserWithPixelsHeldAtTheBounds) {
  const BoxQuadratic f(4000);
  const at::Tensor target = f.c.clamp(0.0, 1.0);
  const double held = (f.c.lt(0.0) | f.c.gt(1.0)).to(at::kDouble).mean().item<double>();
  ASSERT_GT(held, 0.3);
  Lbfgs lbfgs;
  at::Tensor x = at::full_like(f.c, 0.5);
  double accepted = f.loss(x);
  int evaluations = 0, mostRetries = 0;
  for (; evaluations < 150; ++evaluations) {
    const double j = f.loss(x);
    const Lbfgs::Outcome outcome = lbfgs.step(x, f.grad(x), j);
    mostRetries = std::max(mostRetries, outcome.retries);
    if (outcome.accepted) {
      EXPECT_LE(j, accepted) << "J rose between accepted points at evaluation " << evaluations;
      accepted = j;
    }
    EXPECT_GE(x.min().item<float>(), 0.0f);
    EXPECT_LE(x.max().item<float>(), 1.0f);
    if ((x - target).abs().max().item<double>() < 1e-4) break;
  }
  EXPECT_LT(evaluations, 150) << "not at clamp(c) after 150 evaluations: max error "
                              << (x - target).abs().max().item<double>();
  EXPECT_LE(mostRetries, 3);
}

// A photo with large clipped areas, as a saturated real photo has: Tübingen
// from ../shared when there, else a synthetic one; contrast x4 about 0.5.
cv::Mat clippedPhoto(int longest) {
  const auto tubingen = test::sharedDir() / "images" / "tubingen.jpg";
  cv::Mat photo;
  if (!test::sharedDir().empty() && std::filesystem::exists(tubingen)) {
    photo = resizeToLongest(loadImage(tubingen), longest);
  } else {
    photo = cv::Mat(longest * 3 / 4, longest, CV_32FC3);
    for (int y = 0; y < photo.rows; ++y)
      for (int x = 0; x < photo.cols; ++x)
        photo.at<cv::Vec3f>(y, x) = {0.5f + 0.5f * std::sin(0.11f * float(x)), float(y) / float(photo.rows),
                                     0.5f + 0.5f * std::cos(0.07f * float(x + 2 * y))};
  }
  cv::Mat clipped = (photo - 0.5) * 4.0 + 0.5;
  cv::min(cv::max(clipped, 0.0), 1.0, clipped);
  return clipped;
}

TEST(ProjectedLbfgs, AClippedPhotoNeverStallsAndJNeverRisesBetweenAcceptedSteps) {
  struct Case {
    ModelPtr model;
    int size;
  };
  std::vector<Case> cases{{test::makeTinyModel(), 64}};
  const auto darknet = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  if (!test::sharedDir().empty() && std::filesystem::exists(darknet))
    cases.push_back({loadModelFile(darknet), 128});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.model->manifest().name);
    RenderSettings settings;
    settings.size = c.size;
    settings.alphaFromModel = settings.betaFromModel = true;
    settings = resolveSettings(settings, *c.model);
    const at::Tensor content = imageToTensor(clippedPhoto(c.size));
    const double atBound = (content.eq(0.0) | content.eq(1.0)).to(at::kDouble).mean().item<double>();
    ASSERT_GT(atBound, 0.4) << "the photo must have large clipped areas";
    CostFunction cost(c.model, content, {imageToTensor(test::stripedPainting(c.size, c.size))}, {},
                      settings.contentLayer, settings.weights, at::kCPU);
    at::Tensor g = content.clone();
    Stepper stepper(Optimizer::Lbfgs, 1.0, g);
    double first = 0.0, reported = 0.0;
    int mostRetries = 0, rejected = 0;
    for (int i = 0; i < 60; ++i) {
      const double j = stepper.step(cost).total.item<double>();
      if (i == 0)
        first = j;
      else
        EXPECT_LE(j, reported) << "the reported J rose at step " << i + 1;
      if (stepper.accepted())
        EXPECT_EQ(j, stepper.evaluatedLoss());
      else
        EXPECT_GT(stepper.evaluatedLoss(), j) << "a rejected point is reported as the last accepted one";
      reported = j;
      rejected += stepper.accepted() ? 0 : 1;
      mostRetries = std::max(mostRetries, stepper.retries());
    }
    EXPECT_LE(mostRetries, 3) << "a step was retried more than a few times";
    EXPECT_LE(rejected, 15) << "more than a quarter of the evaluations wasted";
    EXPECT_LT(reported, 0.2 * first);
    EXPECT_GE(g.min().item<float>(), 0.0f);
    EXPECT_LE(g.max().item<float>(), 1.0f);
  }
}

// The state saved mid-line-search, after a halving and a weight change, loads
// into a fresh optimiser that then proposes exactly the same points.
TEST(ProjectedLbfgs, SaveAndLoadRoundTripBitForBit) {
  const BoxQuadratic f(500);
  Lbfgs original;
  at::Tensor x = at::full_like(f.c, 0.5);
  bool sawRejection = false;
  for (int i = 0; i < 12; ++i) {
    // Every fourth J is inflated: a rejection, then a retry at half the length.
    const double j = f.loss(x) * (i % 4 == 3 ? 10.0 : 1.0);
    sawRejection |= !original.step(x, f.grad(x), j).accepted;
    if (i == 6) original.costChanged(2.0 * original.acceptedLoss());
  }
  ASSERT_TRUE(sawRejection);
  OptimizerState saved;
  original.save(saved, 20);
  Lbfgs restored;
  restored.load(saved, f.c.numel());
  OptimizerState again;
  restored.save(again, 20);
  EXPECT_EQ(again.numbers, saved.numbers);
  EXPECT_EQ(again.arrays, saved.arrays);
  at::Tensor y = x.clone();
  for (int i = 0; i < 10; ++i) {
    original.step(x, f.grad(x), f.loss(x));
    restored.step(y, f.grad(y), f.loss(y));
    ASSERT_TRUE(at::equal(x, y)) << "diverged at step " << i;
  }
}

}  // namespace
}  // namespace impasto
