// The render's presentation options: colour preservation, iterate averaging,
// and the starting image as the first frame.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/engine/render.h"
#include "core/io/color_transfer.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
#include "tests/support/test_images.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

// A colourful "photo" (mid-range, so that putting its chroma back never clips)
// and a striped red-green "painting".
cv::Mat makePhoto(int w = 32, int h = 24) {
  cv::Mat image(h, w, CV_32FC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      image.at<cv::Vec3f>(y, x) = {0.3f + 0.4f * float(x) / float(w), 0.35f + 0.3f * float(y) / float(h),
                                   0.45f};
  return image;
}

RenderJob job(int iterations = 12) {
  RenderJob j;
  j.content = makePhoto();
  j.styles = {test::stripedPainting()};
  j.model = test::makeTinyModel();
  j.settings.size = 32;
  j.settings.iterations = iterations;
  j.settings.weights.beta = 1e3;
  j.settings.threads = 1;
  j.settings.frameEvery = 4;
  return j;
}

struct Events : RenderObserver {
  std::vector<std::string> order;  // "frame N" and "step N", as they came
  std::vector<cv::Mat> frames;
  std::vector<RenderState> states;
  void onStep(const StepReport& r) override { order.push_back("step " + std::to_string(r.iteration)); }
  void onFrame(int iteration, const cv::Mat& frame) override {
    order.push_back("frame " + std::to_string(iteration));
    frames.push_back(frame.clone());
  }
  void onCheckpoint(const RenderState& state) override { states.push_back(state); }
};

RenderResult run(const RenderJob& j, Events& events) {
  RenderControl control;
  return render(j, events, control);
}

std::vector<cv::Mat> channels(const cv::Mat& rgb) {
  std::vector<cv::Mat> c;
  cv::split(rgbToYCbCr(rgb), c);
  return c;
}

double meanAbsDifference(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / double(a.total());
}

TEST(FirstFrame, TheStartingImageComesBeforeTheFirstStep) {
  Events events;
  run(job(), events);
  ASSERT_GE(events.order.size(), 2u);
  EXPECT_EQ(events.order[0], "frame 0");
  EXPECT_EQ(events.order[1], "step 1");
  EXPECT_EQ(cv::norm(events.frames.front(), toRgb8(makePhoto()), cv::NORM_INF), 0.0);  // the photo, as is
  EXPECT_GT(cv::norm(events.frames.back(), events.frames.front(), cv::NORM_INF), 0.0);
}

TEST(FirstFrame, WithThePyramidItIsTheCoarsestLevelsStart) {
  RenderJob j = job(4);
  j.content = makePhoto(64, 48);
  j.settings.size = 64;
  j.settings.scales = 2;
  j.settings.coarseIterations = 4;
  Events events;
  run(j, events);
  ASSERT_FALSE(events.frames.empty());
  EXPECT_EQ(events.order.front(), "frame 0");
  EXPECT_EQ(events.frames.front().size(), cv::Size(45, 34));
}

// Luma-only transfer: the result has the photo's chroma, and its luma moved.
TEST(PreserveColors, LuminanceKeepsThePhotosChromaAndStylisesTheLuma) {
  RenderJob j = job(20);
  j.settings.preserveColors = PreserveColors::Luminance;
  Events events;
  const RenderResult result = run(j, events);
  const auto got = channels(result.image), photo = channels(makePhoto());
  EXPECT_LT(meanAbsDifference(got[1], photo[1]), 0.5 / 255);
  EXPECT_LT(meanAbsDifference(got[2], photo[2]), 0.5 / 255);
  EXPECT_GT(meanAbsDifference(got[0], photo[0]), 2.0 / 255);
  // The frames the preview shows are in the photo's colours too.
  const auto frame = channels([&] {
    cv::Mat f;
    events.frames.back().convertTo(f, CV_32FC3, 1.0 / 255);
    return f;
  }());
  EXPECT_LT(meanAbsDifference(frame[1], photo[1]), 1.0 / 255);
  // Without it, the red-green painting's colours come through.
  Events plain;
  const auto off = channels(run(job(20), plain).image);
  EXPECT_GT(meanAbsDifference(off[1], photo[1]) + meanAbsDifference(off[2], photo[2]), 2.0 / 255);
}

// Histogram matching is a change of the style images only: the same render
// as with paintings recoloured beforehand.
TEST(PreserveColors, HistogramRendersWithThePaintingRecolouredToThePhoto) {
  RenderJob j = job(8);
  j.settings.preserveColors = PreserveColors::Histogram;
  RenderJob by_hand = job(8);
  by_hand.styles = {matchColorStatistics(test::stripedPainting(), makePhoto())};
  Events a, b, c;
  const cv::Mat matched = run(j, a).image;
  EXPECT_EQ(cv::norm(matched, run(by_hand, b).image, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(matched, run(job(8), c).image, cv::NORM_INF), 0.0);
}

// The export is the bias-corrected EMA of the iterates G_1..G_n (not G_0).
TEST(Average, TheResultIsTheEmaOfTheIterates) {
  RenderJob plain = job(10);
  plain.checkpointEvery = 1;  // a checkpoint holds G in float after every step
  Events iterates;
  const cv::Mat last = run(plain, iterates).image;
  ASSERT_EQ(iterates.states.size(), 10u);
  const double d = 0.7;
  cv::Mat sum = cv::Mat::zeros(last.size(), CV_32FC3);
  double weight = 0.0;
  for (const RenderState& s : iterates.states) {
    sum = sum * d + s.generated * (1.0 - d);
    weight = weight * d + (1.0 - d);
  }
  const cv::Mat expected = sum / weight;

  RenderJob averaged = job(10);
  averaged.settings.average = Averaging::Ema;
  averaged.settings.averageDecay = d;
  Events events;
  const cv::Mat got = run(averaged, events).image;
  EXPECT_LT(cv::norm(got, expected, cv::NORM_INF), 1e-5);
  EXPECT_GT(cv::norm(got, last, cv::NORM_INF), 1e-3);  // not simply the last G
  // Decay 0 averages nothing.
  averaged.settings.averageDecay = 0.0;
  Events none;
  EXPECT_EQ(cv::norm(run(averaged, none).image, last, cv::NORM_INF), 0.0);
}

// Checkpoints keep the average, and colour preservation survives a resume.
TEST(Average, AResumedRenderAveragesOnExactly) {
  RenderJob j = job(6);
  j.content = makePhoto(64, 48);
  j.settings.size = 64;
  j.settings.scales = 2;
  j.settings.coarseIterations = 6;
  j.settings.average = Averaging::Ema;
  j.settings.preserveColors = PreserveColors::Luminance;
  j.checkpointEvery = 5;
  Events events;
  const cv::Mat whole = run(j, events).image;
  ASSERT_EQ(events.states.size(), 2u);  // after steps 5 (the coarse level) and 10 of 12
  for (const RenderState& state : events.states) {
    RenderJob again = j;
    again.checkpointEvery = 0;
    again.resumeFrom = state;
    Events second;
    EXPECT_EQ(cv::norm(run(again, second).image, whole, cv::NORM_INF), 0.0) << "from " << state.iteration;
    EXPECT_NE(second.order.front(), "frame 0");  // a resumed render starts at its step
  }
}

TEST(Average, BadDecaysAreRefused) {
  for (double decay : {-0.1, 1.0, 2.0}) {
    RenderJob j = job(2);
    j.settings.averageDecay = decay;
    Events events;
    EXPECT_THROW(run(j, events), Error) << decay;
  }
}

}  // namespace
}  // namespace impasto
