// The one settings format: spellings, JSON both ways, validation, files.
#include "core/settings/preset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

#include "core/io/image_io.h"
#include "core/util/error.h"
#include "tests/support/test_models.h"
#include "tests/support/test_support.h"

namespace impasto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A preset with every field away from its default.
Preset unusualPreset() {
  Preset p;
  p.model = "darknet-reference";
  p.pooling = Pooling::Avg;
  p.styleBlend = {0.7, 0.3};
  p.initImage = "/photos/start.png";
  RenderSettings& s = p.settings;
  s.size = 777;
  s.iterations = 123;
  s.scales = 4;
  s.coarseIterations = 33;
  s.styleScale = 0.75;
  s.weights.alpha = 2.5;
  s.weights.beta = 3.25e5;
  s.weights.tv = 0.125;
  s.weights.identity = 250.0;
  s.weights.styleLayers = {{"relu1", 0.25}, {"relu2", 0.75}};
  s.contentLayer = "relu3";
  s.optimizer = Optimizer::Adam;
  s.learningRate = 0.05;
  s.init = InitKind::Image;
  s.seed = (std::uint64_t(1) << 40) + 7;
  s.threads = 3;
  s.preserveColors = PreserveColors::Histogram;
  s.average = Averaging::Ema;
  s.averageDecay = 0.75;
  LossWeights later = s.weights;
  later.beta = 10.0;
  LossWeights guardOff = later;
  guardOff.identity = 0.0;  // Keep identity unchecked mid-render
  s.weightChanges = {{5, later}, {7, guardOff}, {9, s.weights}};
  return p;
}

void expectSame(const Preset& a, const Preset& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.pooling, b.pooling);
  EXPECT_EQ(a.styleBlend, b.styleBlend);
  EXPECT_EQ(a.initImage, b.initImage);
  const RenderSettings &s = a.settings, &t = b.settings;
  EXPECT_EQ(s.size, t.size);
  EXPECT_EQ(s.iterations, t.iterations);
  EXPECT_EQ(s.scales, t.scales);
  EXPECT_EQ(s.coarseIterations, t.coarseIterations);
  EXPECT_EQ(s.styleScale, t.styleScale);
  EXPECT_TRUE(s.weights == t.weights);
  EXPECT_EQ(s.contentLayer, t.contentLayer);
  EXPECT_EQ(s.optimizer, t.optimizer);
  EXPECT_EQ(s.learningRate, t.learningRate);
  EXPECT_EQ(s.init, t.init);
  EXPECT_EQ(s.seed, t.seed);
  EXPECT_EQ(s.threads, t.threads);
  EXPECT_EQ(s.preserveColors, t.preserveColors);
  EXPECT_EQ(s.average, t.average);
  EXPECT_EQ(s.averageDecay, t.averageDecay);
  ASSERT_EQ(s.weightChanges.size(), t.weightChanges.size());
  for (std::size_t i = 0; i < s.weightChanges.size(); ++i) {
    EXPECT_EQ(s.weightChanges[i].fromIteration, t.weightChanges[i].fromIteration);
    EXPECT_TRUE(s.weightChanges[i].weights == t.weightChanges[i].weights);
  }
}

TEST(Spellings, RoundTripEveryValueAndNameTheChoicesWhenWrong) {
  for (auto v : {Optimizer::Lbfgs, Optimizer::Adam}) EXPECT_EQ(parseSpelling<Optimizer>(spelling(v), "x"), v);
  for (auto v : {InitKind::Content, InitKind::Noise, InitKind::Image})
    EXPECT_EQ(parseSpelling<InitKind>(spelling(v), "x"), v);
  for (auto v : {Pooling::AsTrained, Pooling::Max, Pooling::Avg})
    EXPECT_EQ(parseSpelling<Pooling>(spelling(v), "x"), v);
  EXPECT_EQ(spellings<Pooling>(), (std::vector<std::string>{"as-trained", "max", "avg"}));
  for (auto v : {PreserveColors::Off, PreserveColors::Luminance, PreserveColors::Histogram})
    EXPECT_EQ(parseSpelling<PreserveColors>(spelling(v), "x"), v);
  EXPECT_EQ(spellings<PreserveColors>(), (std::vector<std::string>{"off", "luminance", "histogram"}));
  for (auto v : {Averaging::Off, Averaging::Ema}) EXPECT_EQ(parseSpelling<Averaging>(spelling(v), "x"), v);
  const Error error = test::captureError([] { parseSpelling<Optimizer>("sgd", "--optimizer"); });
  EXPECT_EQ(error.kind(), ErrorKind::Usage);
  EXPECT_EQ(std::string(error.what()), "--optimizer must be lbfgs or adam, got 'sgd'");
}

TEST(PresetJson, EveryFieldSurvivesARoundTripInBothStyles) {
  const Preset original = unusualPreset();
  for (auto style : {JsonStyle::Indented, JsonStyle::Compact}) {
    Preset back;
    applyPresetJson(presetToJson(original, style), back, "test");
    expectSame(original, back);
  }
  EXPECT_THAT(presetToJson(original, JsonStyle::Compact), HasSubstr("\"pooling\":\"avg\""));
  EXPECT_THAT(presetToJson(original, JsonStyle::Compact), HasSubstr("\"style_blend\":[0.7,0.3]"));
}

TEST(PresetJson, APartialPresetKeepsTheRestAndMarksWeightsAsChosen) {
  Preset p = unusualPreset();
  p.settings.alphaFromModel = p.settings.betaFromModel = true;
  applyPresetJson(R"({"beta": 42, "pooling": "max"})", p, "partial.json");
  EXPECT_EQ(p.settings.weights.beta, 42.0);
  EXPECT_FALSE(p.settings.betaFromModel);
  EXPECT_TRUE(p.settings.alphaFromModel);  // not named: still the model's
  EXPECT_EQ(p.pooling, Pooling::Max);
  EXPECT_EQ(p.settings.size, 777);
  EXPECT_EQ(p.model, "darknet-reference");
}

// An export from before the pyramid replays as it was rendered: one level,
// the style at G's size. A hand-written preset keeps the defaults.
TEST(PresetJson, AnExportFromBeforeThePyramidReplaysWithOneLevel) {
  Preset p;
  applyPresetJson(R"({"size": 1024, "iterations": 50, "impasto_version": "0.4.0"})", p, "old.png");
  EXPECT_EQ(p.settings.scales, 1);
  EXPECT_EQ(p.settings.styleScale, 1.0);
  Preset q;
  applyPresetJson(R"({"size": 1024, "iterations": 50})", q, "mine.json");
  EXPECT_EQ(q.settings.scales, 0);
  EXPECT_EQ(q.settings.styleScale, 0.0);
}

// Colour preservation and averaging came later: an export from before them
// replays without them; a hand-written preset leaves the current choice alone.
TEST(PresetJson, AnExportFromBeforeColourPreservationReplaysWithoutItOrAveraging) {
  Preset p = unusualPreset();
  applyPresetJson(R"({"size": 1024, "scales": 2, "impasto_version": "0.5.0"})", p, "old.png");
  EXPECT_EQ(p.settings.preserveColors, PreserveColors::Off);
  EXPECT_EQ(p.settings.average, Averaging::Off);
  Preset q = unusualPreset();
  applyPresetJson(R"({"size": 1024})", q, "mine.json");
  EXPECT_EQ(q.settings.preserveColors, PreserveColors::Histogram);
  EXPECT_EQ(q.settings.average, Averaging::Ema);
  Preset fresh;
  EXPECT_EQ(fresh.settings.preserveColors, PreserveColors::Off);  // the defaults: neither
  EXPECT_EQ(fresh.settings.average, Averaging::Off);
}

// γ (the portrait guard) came later still: a complete export without it had
// the guard off; a hand-written partial preset keeps the current γ; a weight
// change that turns it off says so, since changes inherit what they omit.
TEST(PresetJson, GammaRoundTripsAndAnOlderExportHasTheGuardOff) {
  Preset p = unusualPreset();
  applyPresetJson(R"({"size": 1024, "scales": 2, "preserve_colors": "off", "impasto_version": "0.6.0"})", p,
                  "old.png");
  EXPECT_EQ(p.settings.weights.identity, 0.0);
  Preset q = unusualPreset();
  applyPresetJson(R"({"beta": 1e6})", q, "mine.json");
  EXPECT_EQ(q.settings.weights.identity, 250.0);
  applyPresetJson(R"({"identity": 4000})", q, "mine.json");
  EXPECT_EQ(q.settings.weights.identity, 4000.0);

  // Settings with the guard off read exactly as before it existed.
  Preset off;
  EXPECT_THAT(presetToJson(off, JsonStyle::Compact), Not(HasSubstr("identity")));
  const std::string json = presetToJson(unusualPreset(), JsonStyle::Compact);
  EXPECT_THAT(json, HasSubstr("\"identity\":250.0"));
  Preset back;
  applyPresetJson(json, back, "test");
  ASSERT_EQ(back.settings.weightChanges.size(), 3u);
  EXPECT_EQ(back.settings.weightChanges[0].weights.identity, 250.0);
  EXPECT_EQ(back.settings.weightChanges[1].weights.identity, 0.0);
  EXPECT_EQ(back.settings.weightChanges[2].weights.identity, 250.0);
  EXPECT_TRUE(usesIdentity(back.settings));
  EXPECT_FALSE(usesIdentity(off.settings));

  // The checkpoints' spelling of the weights: γ there too, and absent is 0.
  EXPECT_EQ(lossWeightsFromJson(lossWeightsToJson(unusualPreset().settings.weights), "c").identity, 250.0);
  EXPECT_EQ(lossWeightsFromJson(R"({"alpha": 1, "beta": 2, "tv": 0, "style_layers": {}})", "c").identity,
            0.0);
}

TEST(PresetJson, ABadFieldIsNamedAndChangesNothing) {
  const Preset original = unusualPreset();
  const std::pair<const char*, const char*> cases[] = {
      {R"({"size": 8})", "'size'"},
      {R"({"size": 512.5})", "'size'"},
      {R"({"iterations": -1})", "'iterations'"},
      {R"({"alpha": "big"})", "'alpha'"},
      {R"({"beta": -3})", "between 0 and 1e12"},
      {R"({"optimizer": "sgd"})", "'optimizer' must be lbfgs or adam"},
      {R"({"pooling": 3})", "'pooling' must be a string"},
      {R"({"preserve_colors": "yes"})", "'preserve_colors' must be off, luminance or histogram"},
      {R"({"average": "mean"})", "'average' must be off or ema"},
      {R"({"average_decay": 1.5})", "average decay"},
      {R"({"style_layers": {"relu1": "x"}})", "relu1"},
      {R"({"style_blend": [1, "a"]})", "'style_blend'"},
      {R"({"seed": 1e300})", "'seed'"},
      {R"({"weight_changes": [{"beta": 1}]})", "from_iteration"},
      {R"({"weight_changes": [{"from_iteration": 9}, {"from_iteration": 3}]})", "order"},
      {R"([1, 2])", "expected a JSON object"},
      {R"({"size": )", "not valid JSON"},
  };
  for (const auto& [json, expected] : cases) {
    Preset p = original;
    const Error error = test::captureError([&] { applyPresetJson(json, p, "bad.json"); });
    EXPECT_EQ(error.kind(), ErrorKind::Usage) << json;
    EXPECT_THAT(std::string(error.what()), HasSubstr("bad.json")) << json;
    EXPECT_THAT(std::string(error.what()), HasSubstr(expected)) << json;
    expectSame(original, p);
  }
}

TEST(PresetJson, DeepNestingIsRefusedBeforeItIsBuilt) {
  const std::string deep = "{\"x\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  Preset p;
  const Error error = test::captureError([&] { applyPresetJson(deep, p, "deep.json"); });
  EXPECT_THAT(std::string(error.what()), HasSubstr("deep.json nests deeper than 64 levels"));
}

TEST(PresetFile, SavesAtomicallyAndReadsBackFromJsonAndFromAnExportedPng) {
  test::ScratchDir dir("impasto-preset-test");
  const Preset original = unusualPreset();
  savePresetFile(original, dir.path() / "look.json");
  Preset fromJson;
  loadPresetFile(dir.path() / "look.json", fromJson);
  expectSame(original, fromJson);

  SaveOptions save;
  save.pngText[kSettingsPngKey] = presetToJson(original, JsonStyle::Compact);
  saveImage(cv::Mat(8, 8, CV_32FC3, cv::Scalar(0.5, 0.2, 0.1)), dir.path() / "render.png", save);
  Preset fromPng;
  loadPresetFile(dir.path() / "render.png", fromPng);
  expectSame(original, fromPng);
}

TEST(PresetFile, APngWithoutSettingsOrAHugeFileSaysWhatIsWrong) {
  test::ScratchDir dir("impasto-preset-test");
  saveImage(cv::Mat(8, 8, CV_32FC3, cv::Scalar(0.5, 0.2, 0.1)), dir.path() / "plain.png");
  Preset p;
  Error error = test::captureError([&] { loadPresetFile(dir.path() / "plain.png", p); });
  EXPECT_EQ(error.kind(), ErrorKind::Input);
  EXPECT_THAT(std::string(error.what()), HasSubstr("only PNGs exported by Impasto"));

  test::writeAll(dir.path() / "huge.json", std::string(3 << 20, ' '));
  error = test::captureError([&] { loadPresetFile(dir.path() / "huge.json", p); });
  EXPECT_THAT(std::string(error.what()), HasSubstr("such a file can need: it was not opened"));
}

TEST(ResolveSettings, TakesAlphaAndBetaFromTheManifestOnlyWhereNobodyChose) {
  const ModelPtr model = test::makeTinyModel();
  RenderSettings s;
  s.alphaFromModel = s.betaFromModel = true;
  s.weights.alpha = 7.0;  // ignored: from the model
  const RenderSettings resolved = resolveSettings(s, *model);
  ASSERT_TRUE(model->manifest().defaultBeta.has_value());
  EXPECT_EQ(resolved.weights.beta, *model->manifest().defaultBeta);
  EXPECT_EQ(resolved.weights.alpha, model->manifest().defaultAlpha.value_or(kDefaultAlpha));
  EXPECT_FALSE(resolved.alphaFromModel);
  EXPECT_FALSE(resolved.contentLayer.empty());
  EXPECT_FALSE(resolved.weights.styleLayers.empty());
  EXPECT_GT(resolved.threads, 0);  // recorded, so a replay splits its sums the same way

  s.betaFromModel = false;
  s.weights.beta = 5.0;
  EXPECT_EQ(resolveSettings(s, *model).weights.beta, 5.0);
}

TEST(ResolveSettings, RefusesUnknownLayersAlsoInWeightChanges) {
  const ModelPtr model = test::makeTinyModel();
  RenderSettings s;
  LossWeights change;
  change.styleLayers = {{"relu9", 1.0}};
  s.weightChanges = {{3, change}};
  const Error error = test::captureError([&] { resolveSettings(s, *model); });
  EXPECT_THAT(std::string(error.what()), HasSubstr("relu9"));
  EXPECT_THAT(std::string(error.what()), HasSubstr("Its layers are: conv1, relu1"));
}

// A weight of 1e308 used to pass and end mid-render in "try smaller α, β".
TEST(ValidateSettings, WeightsTooLargeForARenderAreRefusedUpFront) {
  RenderSettings s;
  EXPECT_NO_THROW(validateSettings(s));
  s.weights.beta = 1e308;
  EXPECT_THAT(test::captureError([&] { validateSettings(s); }).what(), HasSubstr("between 0 and 1e12"));
  s.weights.beta = kMaxWeight;
  s.weights.styleLayers["relu1"] = 2e12;
  EXPECT_THAT(test::captureError([&] { validateSettings(s); }).what(), HasSubstr("relu1"));
  s.weights.styleLayers["relu1"] = 1.0;
  for (double gamma : {-1.0, 2e12, std::nan("")}) {
    s.weights.identity = gamma;
    EXPECT_THAT(test::captureError([&] { validateSettings(s); }).what(), HasSubstr("γ")) << gamma;
  }
  s.weights.identity = kDefaultIdentity;
  EXPECT_NO_THROW(validateSettings(s));
}

}  // namespace
}  // namespace impasto
