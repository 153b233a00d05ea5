// Live weight changes keep the optimiser's momentum: a slider dragged across
// many steps must not freeze the picture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>

#include "core/engine/render.h"
#include "tests/support/test_images.h"
#include "tests/support/test_jobs.h"

namespace impasto {
namespace {

cv::Mat smoothPhoto(int w, int h) {
  cv::Mat image(h, w, CV_32FC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      image.at<cv::Vec3f>(y, x) = {float(x) / w, float(y) / h, 0.5f + 0.4f * std::sin(0.3f * float(x + y))};
  return image;
}

RenderJob liveJob(int iterations) {
  return test::tinyRenderJob(smoothPhoto(48, 36), test::stripedPainting(32, 32), 48, iterations, 1);
}

// Records every frame and, when drag is set, multiplies β by `factor` every
// second step, as a slider dragged across the steps does.
struct Dragger : RenderObserver {
  RenderControl* control = nullptr;
  LossWeights weights;
  bool drag = false;
  double factor = 2.0;
  std::vector<StepReport> steps;
  std::vector<cv::Mat> frames;
  void onStep(const StepReport& r) override {
    steps.push_back(r);
    if (drag && r.iteration % 2 == 0) {
      weights.beta *= factor;
      control->submitWeights(weights);
    }
  }
  // The steps' frames (frame 0, the starting image, comes before any step).
  void onFrame(int iteration, const cv::Mat& frame) override {
    if (iteration > 0) frames.push_back(frame.clone());
  }
};

// Mean absolute change between consecutive frames, in 8-bit levels.
std::vector<double> changesPerStep(const std::vector<cv::Mat>& frames) {
  std::vector<double> changes;
  for (std::size_t i = 1; i < frames.size(); ++i) {
    cv::Mat diff;
    cv::absdiff(frames[i], frames[i - 1], diff);
    const cv::Scalar m = cv::mean(diff);
    changes.push_back((m[0] + m[1] + m[2]) / 3.0);
  }
  return changes;
}

Dragger run(bool drag, double factor) {
  RenderJob job = liveJob(20);
  Dragger observer;
  RenderControl control;
  observer.control = &control;
  observer.drag = drag;
  observer.factor = factor;
  observer.weights = resolveSettings(job.settings, *job.model).weights;
  render(job, observer, control);
  return observer;
}

TEST(LiveWeights, ABetaChangeEveryTwoStepsKeepsThePictureMoving) {
  const Dragger still = run(false, 1.0);
  const std::vector<double> reference = changesPerStep(still.frames);
  ASSERT_EQ(reference.size(), 19u);
  // The floor: the pace of an undisturbed render (its slowest step from the
  // third on, after the first short steepest-descent steps), a quarter of it.
  const double floor = 0.25 * *std::min_element(reference.begin() + 2, reference.end());
  ASSERT_GT(floor, 0.0);
  for (double factor : {2.0, 0.5}) {  // dragged right, and left
    const Dragger dragged = run(true, factor);
    ASSERT_EQ(dragged.steps.size(), 20u);
    int changes = 0;
    for (const StepReport& r : dragged.steps) {
      EXPECT_TRUE(std::isfinite(r.loss)) << "step " << r.iteration;
      changes += r.newWeights ? 1 : 0;
    }
    EXPECT_EQ(changes, 9) << "β changed after every second step";
    const std::vector<double> moved = changesPerStep(dragged.frames);
    ASSERT_EQ(moved.size(), 19u);
    for (std::size_t i = 2; i < moved.size(); ++i)
      EXPECT_GT(moved[i], floor) << "frame " << i + 2 << " barely changed (β x" << factor
                                 << " every 2 steps)";
  }
}

}  // namespace
}  // namespace impasto
