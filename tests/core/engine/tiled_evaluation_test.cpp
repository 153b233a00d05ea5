#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/engine/cost_function.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/memory_plan.h"
#include "core/engine/network_geometry.h"
#include "core/engine/render.h"
#include "core/engine/tile_grid.h"
#include "core/models/layers.h"
#include "core/util/error.h"
#include "tests/support/aten_ops.h"
#include "tests/support/test_models.h"

namespace impasto {
namespace {

// The tiny model with ceil-mode pooling (TensorFlow's 'same', as darknet has
// it) and leaky ReLUs: odd sizes then give partial windows at the far edges.
ModelPtr makeCeilModel() {
  const ModelPtr tiny = test::makeTinyModel(3);
  std::vector<LayerSpec> layers = tiny->layers();
  for (auto& layer : layers) {
    if (layer.kind == LayerKind::MaxPool) layer.ceilMode = true;
    if (layer.kind == LayerKind::ReLU) {
      layer.kind = LayerKind::LeakyReLU;
      layer.negativeSlope = 0.1;
    }
  }
  return std::make_shared<const Model>(tiny->manifest(), std::move(layers));
}

LossWeights allLayers(double tv) {
  LossWeights w;
  w.alpha = 2.0;
  w.beta = 1e3;
  w.styleLayers = {{"relu1", 0.5}, {"relu2", 1.0}, {"relu3", 2.0}};
  w.tv = tv;
  return w;
}

struct Evaluation {
  double loss, content, style;
  at::Tensor gradient;
};

Evaluation evaluate(const ModelPtr& model, const at::Tensor& content, const at::Tensor& style,
                    const at::Tensor& generated, int tile, double tv = 0.0) {
  CostFunction cost(model, content, {style}, {}, "relu2", allLayers(tv), at::kCPU, at::kFloat, {}, tile);
  at::Tensor gradient;
  const CostTerms terms = cost.valueAndGradient(generated, gradient);
  return {terms.total.item<double>(), terms.content, terms.style, gradient};
}

void expectSameEvaluation(const Evaluation& tiled, const Evaluation& whole) {
  EXPECT_NEAR(tiled.loss, whole.loss, 1e-5 * whole.loss);
  EXPECT_NEAR(tiled.content, whole.content, 1e-5 * whole.content);
  EXPECT_NEAR(tiled.style, whole.style, 1e-5 * whole.style);
  const double scale = whole.gradient.abs().max().item<double>();
  ASSERT_GT(scale, 0.0);
  EXPECT_LT((tiled.gradient - whole.gradient).abs().max().item<double>(), 1e-4 * scale);
}

TEST(NetworkGeometry, StrideAndHaloFollowTheLayers) {
  const ModelPtr tiny = test::makeTinyModel();
  const NetworkGeometry g = networkGeometry(*tiny, tiny->layers().size() - 1);
  EXPECT_EQ(g.totalStride, 4);
  // conv1 reaches 1 pixel, conv2 1 position at stride 2, conv3 1 at stride 4: 7, rounded to the stride.
  EXPECT_EQ(g.halo, 8);
  EXPECT_EQ(g.layers.back().channels, 24);
  // Up to relu1 only: one 3x3 convolution.
  EXPECT_EQ(networkGeometry(*tiny, 1).halo, 1);
}

TEST(NetworkGeometry, OutputSizesMatchTheForward) {
  for (const ModelPtr& model : {test::makeTinyModel(), makeCeilModel()}) {
    FeatureExtractor extractor(*model, {"relu3"});
    for (int size : {16, 17, 23, 30, 31}) {
      const auto out = extractor.forward(at::rand({1, 3, size, size + 3})).at("relu3");
      std::int64_t h = size, w = size + 3;
      for (const LayerSpec& layer : model->layers()) {
        h = layerOutputSize(layer, h);
        w = layerOutputSize(layer, w);
      }
      EXPECT_EQ(out.size(2), h) << model->layers()[2].ceilMode << " " << size;
      EXPECT_EQ(out.size(3), w) << model->layers()[2].ceilMode << " " << size;
    }
  }
}

TEST(NetworkGeometry, ImagesTooSmallForTheNetworkAreRefusedUpFront) {
  const ModelPtr tiny = test::makeTinyModel();
  // Two 2x2 poolings: 4 px give relu3 one position, 3 px give none.
  EXPECT_EQ(minimumInputSize(*tiny, tiny->layers().size() - 1), 4);
  EXPECT_EQ(minimumInputSize(*tiny, 1), 1);

  RenderJob job;
  job.content = cv::Mat(4, 40, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));  // a panorama strip
  job.styles = {cv::Mat(30, 30, CV_32FC3, cv::Scalar(0.2, 0.5, 0.8))};
  job.model = tiny;
  job.settings.size = 16;  // 16 x 2
  job.settings.iterations = 2;
  RenderObserver observer;
  RenderControl control;
  try {
    render(job, observer, control);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("needs at least 4 px"), std::string::npos) << e.what();
  }
}

TEST(TileGrid, CoresPartitionTheImageAndCropsKeepTheGrid) {
  const ModelPtr tiny = test::makeTinyModel();
  const NetworkGeometry g = networkGeometry(*tiny, tiny->layers().size() - 1);
  const TileGrid grid(45, 61, 15, g);
  EXPECT_EQ(grid.core(), 16);  // rounded up to the total stride
  std::vector<int> owner(45 * 61, 0);
  for (const Tile& t : grid.tiles()) {
    EXPECT_EQ(t.cropY.begin % g.totalStride, 0);
    EXPECT_EQ(t.cropX.begin % g.totalStride, 0);
    EXPECT_EQ(t.cropY.begin, std::max<std::int64_t>(0, t.coreY.begin - g.halo));
    EXPECT_EQ(t.cropX.end, std::min<std::int64_t>(61, t.coreX.end + g.halo));
    for (auto y = t.coreY.begin; y < t.coreY.end; ++y)
      for (auto x = t.coreX.begin; x < t.coreX.end; ++x) ++owner[std::size_t(y * 61 + x)];
  }
  EXPECT_EQ(grid.tiles().size(), 3u * 4u);
  EXPECT_TRUE(std::all_of(owner.begin(), owner.end(), [](int n) { return n == 1; }));
}

TEST(TiledCost, ValueAndGradientEqualTheUntiledOnes) {
  at::manual_seed(5);
  const at::Tensor content = at::rand({1, 3, 45, 61});
  const at::Tensor style = at::rand({1, 3, 40, 36});
  const at::Tensor generated = at::rand({1, 3, 45, 61});
  for (const ModelPtr& model : {test::makeTinyModel(), makeCeilModel()}) {
    const Evaluation whole = evaluate(model, content, style, generated, 0, 0.5);
    for (int tile : {8, 16, 24}) {
      SCOPED_TRACE("tile " + std::to_string(tile));
      expectSameEvaluation(evaluate(model, content, style, generated, tile, 0.5), whole);
    }
  }
}

TEST(TiledCost, StyleImagesLargerThanATileGiveTheSameTargets) {
  at::manual_seed(6);
  const at::Tensor content = at::rand({1, 3, 33, 29});
  const at::Tensor style = at::rand({1, 3, 70, 90});  // tiled too, in more tiles than G
  const at::Tensor generated = at::rand({1, 3, 33, 29});
  const ModelPtr model = test::makeTinyModel();
  expectSameEvaluation(evaluate(model, content, style, generated, 12),
                       evaluate(model, content, style, generated, 0));
}

TEST(TiledCost, NewStyleLayersMidRenderGetTiledTargets) {
  at::manual_seed(7);
  const at::Tensor content = at::rand({1, 3, 40, 40}), style = at::rand({1, 3, 40, 40});
  const at::Tensor generated = at::rand({1, 3, 40, 40});
  const ModelPtr model = test::makeTinyModel();
  LossWeights first = allLayers(0.0);
  first.styleLayers = {{"relu1", 1.0}};
  CostFunction tiled(model, content, {style}, {}, "relu2", first, at::kCPU, at::kFloat, {}, 16);
  tiled.setWeights(allLayers(0.0));  // relu2 and relu3 need targets now
  at::Tensor gradient;
  const double loss = tiled.valueAndGradient(generated, gradient).total.item<double>();
  const Evaluation whole = evaluate(model, content, style, generated, 0);
  EXPECT_NEAR(loss, whole.loss, 1e-5 * whole.loss);
}

TEST(TiledRender, EveryStepHasTheUntiledLoss) {
  auto job = [](int tile) {
    RenderJob j;
    at::manual_seed(8);
    j.content = cv::Mat(48, 64, CV_32FC3);
    cv::randu(j.content, 0.0, 1.0);
    j.styles = {cv::Mat(40, 40, CV_32FC3)};
    cv::randu(j.styles[0], 0.0, 1.0);
    j.model = test::makeTinyModel();
    j.settings.size = 64;
    j.settings.scales = 1;
    j.settings.iterations = 8;
    j.settings.threads = 1;
    j.tile = tile;
    return j;
  };
  struct Losses : RenderObserver {
    std::vector<double> values;
    int tile = -1;
    void onStep(const StepReport& r) override { values.push_back(r.loss); }
    void onMemoryPlan(int, const MemoryPlan& plan) override { tile = plan.tile; }
  } whole, tiled;
  RenderControl control;
  cv::theRNG().state = 1;
  render(job(0), whole, control);
  cv::theRNG().state = 1;
  render(job(20), tiled, control);
  EXPECT_EQ(whole.tile, 0);
  EXPECT_EQ(tiled.tile, 20);
  ASSERT_EQ(tiled.values.size(), whole.values.size());
  for (std::size_t i = 0; i < whole.values.size(); ++i)
    EXPECT_NEAR(tiled.values[i], whole.values[i], 1e-3 * whole.values[i]) << "step " << i + 1;
}

// ---- Memory plan --------------------------------------------------------------

RenderSettings tinySettings() {
  RenderSettings s;
  s.weights = allLayers(0.0);
  s.contentLayer = "relu2";
  return s;
}

TEST(MemoryPlan, EstimatesGrowWithThePixelsAndTilesCostLess) {
  const ModelPtr model = test::makeTinyModel();
  const RenderSettings s = tinySettings();
  // Large enough that both keep the smallest L-BFGS history.
  const double small = estimateRenderBytes(*model, s, 3000, 3000, 0);
  const double big = estimateRenderBytes(*model, s, 6000, 6000, 0);
  const double fixed = estimateRenderBytes(*model, s, 16, 16, 0);
  // Beyond the fixed part, four times the pixels cost four times the memory.
  EXPECT_NEAR((big - fixed) / (small - fixed), 4.0, 0.05);
  EXPECT_LT(estimateRenderBytes(*model, s, 2000, 2000, 256), big);
  EXPECT_LT(estimateRenderBytes(*model, s, 2000, 2000, 256), estimateRenderBytes(*model, s, 2000, 2000, 512));
}

TEST(MemoryPlan, TilesOnlyWhenTheRenderWouldNotFit) {
  const ModelPtr model = test::makeTinyModel();
  const RenderSettings s = tinySettings();
  const double untiled = estimateRenderBytes(*model, s, 3000, 2000, 0);
  EXPECT_EQ(planMemory(*model, s, 3000, 2000, 0, 2.0 * untiled).tile, 0);

  const double budget = estimateRenderBytes(*model, s, 3000, 2000, 768) * 1.01;
  const MemoryPlan tiled = planMemory(*model, s, 3000, 2000, 0, budget);
  EXPECT_EQ(tiled.tile, 750);  // the largest halving of 1500 that fits
  EXPECT_LE(tiled.plannedBytes, budget);
  EXPECT_DOUBLE_EQ(tiled.untiledBytes, untiled);

  EXPECT_EQ(planMemory(*model, s, 3000, 2000, 100, 2.0 * untiled).tile, 100);  // --tile wins
  EXPECT_EQ(planMemory(*model, s, 64, 48, 100, 0.0).tile, 0);                  // one tile is the whole image
}

TEST(MemoryPlan, ARenderThatCannotFitSaysHowMuchItNeeds) {
  const ModelPtr model = test::makeTinyModel();
  try {
    planMemory(*model, tinySettings(), 16000, 12000, 0, 64.0 * 1024 * 1024);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Input);
    EXPECT_NE(std::string(e.what()).find("needs about"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--max-memory"), std::string::npos) << e.what();
  }
}

TEST(MemoryPlan, ASmallRenderStillRunsWhenLittleMemoryIsFree) {
  const ModelPtr model = test::makeTinyModel();
  const double fixed = estimateRenderBytes(*model, tinySettings(), 16, 16, 0);
  // Less than the process's own footprint: the image's share fits, so it runs.
  const MemoryPlan plan = planMemory(*model, tinySettings(), 64, 48, 0, 0.5 * fixed);
  EXPECT_EQ(plan.tile, 0);
}

TEST(MemoryPlan, HistoryShrinksAtPrintSizes) {
  EXPECT_EQ(lbfgsHistorySize(3 * 512 * 384), 20);
  EXPECT_LT(lbfgsHistorySize(3 * 1024 * 768), 20);
  EXPECT_EQ(lbfgsHistorySize(3 * 6000 * 4500), 5);
}

}  // namespace
}  // namespace impasto
