// The identity term of --keep-identity: Σ_faces ‖f(C_face) − f(G_face)‖²
// through FaceRecognitionNet (each face's the mean over its cuts), checked
// against finite differences.
#include "core/faces/identity_term.h"

#include <ATen/ops/full_like.h>
#include <ATen/ops/ones_like.h>
#include <ATen/ops/randn_like.h>
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/engine/tensor_convert.h"
#include "core/io/image_io.h"
#include "tests/support/test_paths.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

class IdentityTermTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path models = test::sharedDir() / "models" / "face-api";
    const fs::path image = test::sharedDir() / "images" / "faces" / "reference" / "faces.jpg";
    if (test::sharedDir().empty() || !fs::is_directory(models) || !fs::exists(image)) return;
    models_ = new FaceModels(models);
    content_ = new cv::Mat(loadImage(image));
  }
  static void TearDownTestSuite() {
    delete models_;
    delete content_;
    models_ = nullptr;
    content_ = nullptr;
  }
  void SetUp() override {
    if (models_ == nullptr) GTEST_SKIP() << "needs ../shared/models/face-api and ../shared/images/faces";
  }
  // The content at half size, which keeps a check quick; the faces are found in it.
  static cv::Mat halfContent() {
    cv::Mat small;
    cv::resize(*content_, small, cv::Size(content_->cols / 2, content_->rows / 2), 0, 0, cv::INTER_AREA);
    return small;
  }
  static FaceModels* models_;
  static cv::Mat* content_;
};

FaceModels* IdentityTermTest::models_ = nullptr;
cv::Mat* IdentityTermTest::content_ = nullptr;

TEST_F(IdentityTermTest, IsZeroAtTheContentAndTheSquaredDistancesElsewhere) {
  const IdentityTerm term(*models_, *content_);
  ASSERT_EQ(term.regions().size(), 6u);
  const at::Tensor c = imageToTensor(*content_);
  EXPECT_NEAR(term.evaluate(c).item<double>(), 0.0, 1e-8);

  at::manual_seed(3);
  const at::Tensor g = (c + 0.1 * at::randn_like(c)).clamp(0, 1);
  const std::vector<double> d = term.distances(g);
  double sum = 0;
  for (double v : d) sum += v * v;
  EXPECT_GT(sum, 0.0);
  EXPECT_NEAR(term.evaluate(g).item<double>(), sum, 1e-4 * sum);
}

// A pattern that fools the network at one exact crop is not enough: each
// face is also encoded through shifted and scaled cuts, so a G that keeps
// the aligned crops and changes what lies around them still costs.
TEST_F(IdentityTermTest, EncodesEachFaceThroughSeveralCutsNotOneExactCrop) {
  const IdentityTerm term(*models_, *content_);
  ASSERT_EQ(term.cuts().size(), term.regions().size());
  const at::Tensor c = imageToTensor(*content_);
  at::Tensor framed = at::full_like(c, 0.5);
  for (std::size_t i = 0; i < term.regions().size(); ++i) {
    const FaceRect& r = term.regions()[i];
    EXPECT_EQ(term.cuts()[i].size(), identityTermCuts().size());
    EXPECT_EQ(term.cuts()[i].front().x, r.x);
    EXPECT_EQ(term.cuts()[i].front().width, r.width);
    const auto rows = std::make_pair(std::int64_t(r.y), std::int64_t(r.bottom()));
    const auto cols = std::make_pair(std::int64_t(r.x), std::int64_t(r.right()));
    framed.slice(2, rows.first, rows.second).slice(3, cols.first, cols.second) =
        c.slice(2, rows.first, rows.second).slice(3, cols.first, cols.second);
  }
  for (double d : term.distances(framed)) EXPECT_GT(d, 0.05);
}

TEST_F(IdentityTermTest, GradientMatchesFiniteDifferences) {
  const cv::Mat small = halfContent();
  const IdentityTerm term(*models_, small);
  ASSERT_FALSE(term.empty());

  // In float64 (the network follows its input's type), so the differences
  // measure the gradient and not rounding.
  at::manual_seed(11);
  const at::Tensor c = imageToTensor(small).to(at::kDouble);
  const at::Tensor g = (c + 0.05 * at::randn_like(c)).detach().requires_grad_(true);
  const at::Tensor j = term.evaluate(g);
  j.backward();
  const at::Tensor grad = g.grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad.abs().sum().item<double>(), 0.0);

  // Directional derivatives along random directions: <∇J, v> against
  // (J(G + εv) − J(G − εv)) / 2ε.
  at::NoGradGuard noGrad;
  for (int trial = 0; trial < 3; ++trial) {
    const at::Tensor v = at::randn_like(c);
    // A ReLU network is piecewise smooth with kinks everywhere: steps of 1e-4
    // and more cross some and differ by percents; at 1e-8 (in float64) the
    // difference quotient is the derivative.
    const double eps = 1e-8;
    const double analytic = (grad * v).sum().item<double>();
    const double numeric = (term.evaluate(g.detach() + eps * v).item<double>() -
                            term.evaluate(g.detach() - eps * v).item<double>()) /
                           (2 * eps);
    EXPECT_NEAR(numeric, analytic, 1e-4 * std::abs(analytic) + 1e-6) << "trial " << trial;
  }
  // Pixels outside every cut of every face get no gradient: the term sees only the faces.
  at::Tensor outside = at::ones_like(grad);
  for (const std::vector<FaceRect>& cuts : term.cuts())
    for (const FaceRect& r : cuts)
      outside.slice(2, std::int64_t(r.y), std::int64_t(r.bottom()))
          .slice(3, std::int64_t(r.x), std::int64_t(r.right())) = 0;
  EXPECT_EQ((grad * outside).abs().sum().item<double>(), 0.0);
  EXPECT_GT((grad * (1 - outside)).abs().sum().item<double>(), 0.0);
}

TEST_F(IdentityTermTest, GradientStepsBringADriftedFaceBack) {
  const cv::Mat small = halfContent();
  const IdentityTerm term(*models_, small);
  ASSERT_FALSE(term.empty());
  at::manual_seed(5);
  const at::Tensor c = imageToTensor(small);
  at::Tensor g = (c + 0.2 * at::randn_like(c)).clamp(0, 1).detach();
  const double before = term.evaluate(g).item<double>();
  for (int step = 0; step < 5; ++step) {
    g.requires_grad_(true);
    const at::Tensor j = term.evaluate(g);
    j.backward();
    at::NoGradGuard noGrad;
    const at::Tensor grad = g.grad();
    g = (g - 0.5 * grad / (grad.abs().max() + 1e-12) * 0.02).detach();
  }
  EXPECT_LT(term.evaluate(g).item<double>(), before);
}

}  // namespace
}  // namespace impasto
