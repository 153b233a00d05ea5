// The studio's document without any widget: images and blend weights, the
// model and its loading, job building, a real render with the tiny model,
// the export (the float result, not what a view shows) and the weight history.
#include "ui/studio_session.h"

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <QWidget>

#include "core/engine/render.h"
#include "core/io/image_io.h"
#include "core/util/error.h"
#include "tests/support/test_paths.h"
#include "tests/ui/ui_test_support.h"
#include "ui/model_catalog.h"
#include "ui/render_controller.h"

namespace impasto {
namespace {

using uitest::makeTinyModel;
using uitest::waitUntil;
using uitest::writePicture;
using uitest::writeScratchFile;

// Small, quick settings for the tiny model.
RenderSettings tinySettings(int iterations, Optimizer optimizer = Optimizer::Lbfgs) {
  RenderSettings s;
  s.size = 48;
  s.iterations = iterations;
  s.optimizer = optimizer;
  s.init = InitKind::Content;
  s.weights.alpha = 1.0;
  s.weights.beta = 1000.0;
  s.weights.styleLayers = {{"relu1", 1.0}, {"relu2", 1.0}};
  s.contentLayer = "relu2";
  return s;
}

// A session with the tiny model, a 64x48 content and one style.
std::unique_ptr<StudioSession> readySession() {
  auto session = std::make_unique<StudioSession>();
  session->setModel(makeTinyModel(), QStringLiteral("file:/nonexistent/tiny.onnx"));
  EXPECT_TRUE(session->loadContent(writePicture(QStringLiteral("session-content.png"), 64, 48, 0)));
  EXPECT_TRUE(session->addStyle(writePicture(QStringLiteral("session-style.png"), 64, 48, 1)));
  return session;
}

// The largest difference in 8-bit levels between two RGB images of the same size.
double maxLevelDifference(const cv::Mat& a8, const cv::Mat& b8) {
  EXPECT_EQ(a8.size(), b8.size());
  EXPECT_EQ(a8.type(), CV_8UC3);
  EXPECT_EQ(b8.type(), CV_8UC3);
  if (a8.size() != b8.size() || a8.type() != b8.type()) return 1e9;
  double largest = 0.0;
  cv::minMaxLoc(cv::abs(a8.reshape(1) - b8.reshape(1)), nullptr, &largest);
  return largest;
}

TEST(StudioSessionTest, IsNotAWidget) {
  StudioSession session;
  EXPECT_EQ(qobject_cast<QWidget*>(&session), nullptr);
  EXPECT_EQ(session.findChildren<QWidget*>().size(), 0);
}

TEST(StudioSessionTest, LoadsContentAndStylesAndABadFileChangesNothing) {
  StudioSession session;
  QSignalSpy content(&session, &StudioSession::contentChanged);
  QSignalSpy styles(&session, &StudioSession::stylesChanged);
  QSignalSpy errors(&session, &StudioSession::error);

  ASSERT_TRUE(session.loadContent(writePicture(QStringLiteral("c64.png"), 64, 48, 0)));
  EXPECT_EQ(content.count(), 1);
  EXPECT_EQ(session.content().size(), QSize(64, 48));
  EXPECT_EQ(session.content().name, QStringLiteral("c64.png"));

  const QString bad = writeScratchFile(QStringLiteral("bad.png"), "not a PNG at all");
  EXPECT_FALSE(session.loadContent(bad));
  EXPECT_EQ(errors.count(), 1);
  EXPECT_FALSE(errors.first().at(0).toString().isEmpty());
  EXPECT_EQ(content.count(), 1) << "a failed load announces no change";
  EXPECT_EQ(session.content().size(), QSize(64, 48)) << "the old content stays";
  EXPECT_FALSE(session.loadContent(uitest::scratchPath(QStringLiteral("missing.jpg"))));
  EXPECT_EQ(errors.count(), 2);

  ASSERT_TRUE(session.addStyle(writePicture(QStringLiteral("s1.png"), 30, 20, 1)));
  ASSERT_TRUE(session.addStyleData(QImage(12, 10, QImage::Format_RGB32), QStringLiteral("pasted")));
  EXPECT_FALSE(session.addStyle(bad));
  EXPECT_EQ(errors.count(), 3);
  EXPECT_FALSE(session.setContentData(QImage(), QStringLiteral("empty")));
  EXPECT_EQ(errors.count(), 4);
  ASSERT_EQ(session.styleCount(), 2);
  EXPECT_EQ(styles.count(), 2);
  EXPECT_EQ(session.styles()[0].image.size(), QSize(30, 20));
  EXPECT_EQ(session.styles()[1].image.name, QStringLiteral("pasted"));
  EXPECT_EQ(session.content().size(), QSize(64, 48));
}

TEST(StudioSessionTest, BlendWeightsFollowTheStyles) {
  StudioSession session;
  ASSERT_TRUE(session.addStyle(writePicture(QStringLiteral("w1.png"), 20, 20, 1)));
  ASSERT_TRUE(session.addStyle(writePicture(QStringLiteral("w2.png"), 20, 20, 2)));
  ASSERT_TRUE(session.addStyle(writePicture(QStringLiteral("w3.png"), 20, 20, 3)));
  EXPECT_EQ(session.styleWeights(), (std::vector<double>{1.0, 1.0, 1.0})) << "new styles weigh 1";
  QSignalSpy changed(&session, &StudioSession::styleWeightChanged);
  session.setStyleWeight(1, 0.25);
  session.setStyleWeight(1, 0.25);  // no change, no signal
  session.setStyleWeight(7, 3.0);   // no such style: ignored
  ASSERT_EQ(changed.count(), 1);
  EXPECT_EQ(changed.first().at(0).toInt(), 1);
  EXPECT_DOUBLE_EQ(changed.first().at(1).toDouble(), 0.25);
  EXPECT_EQ(session.styleWeights(), (std::vector<double>{1.0, 0.25, 1.0}));
  session.removeStyle(0);
  EXPECT_EQ(session.styleWeights(), (std::vector<double>{0.25, 1.0})) << "weights stay with their images";
  EXPECT_EQ(session.styles()[0].image.name, QStringLiteral("w2.png"));
  session.clearStyles();
  EXPECT_EQ(session.styleCount(), 0);
}

TEST(StudioSessionTest, TheJobCopiesTheImagesAndTheSettings) {
  auto session = readySession();
  ASSERT_TRUE(session->addStyle(writePicture(QStringLiteral("session-style2.png"), 40, 30, 2)));
  session->setStyleWeight(1, 0.5);
  RenderSettings settings = tinySettings(17);
  settings.weights.beta = 4321.0;
  settings.seed = 99;

  const RenderJob job = session->buildJob(settings, Pooling::Avg);
  ASSERT_EQ(job.styles.size(), 2u);
  EXPECT_EQ(job.styleBlend, (std::vector<double>{1.0, 0.5}));
  EXPECT_EQ(job.content.size(), cv::Size(64, 48));
  EXPECT_EQ(job.styles[1].size(), cv::Size(40, 30));
  EXPECT_EQ(cv::norm(job.content, session->content().rgb, cv::NORM_INF), 0.0);
  EXPECT_EQ(job.settings.size, 48);
  EXPECT_EQ(job.settings.iterations, 17);
  EXPECT_EQ(job.settings.seed, 99u);
  EXPECT_DOUBLE_EQ(job.settings.weights.beta, 4321.0);
  EXPECT_EQ(job.settings.weights.styleLayers, settings.weights.styleLayers);
  EXPECT_EQ(job.settings.contentLayer, "relu2");
  EXPECT_EQ(job.settings.frameEvery, 1);
  EXPECT_GE(job.settings.threads, 1);
  ASSERT_NE(job.model, nullptr);
  EXPECT_NE(job.model, session->model()) << "the job has the model with the chosen pooling";

  // Changing the session afterwards leaves the job as it was.
  const cv::Mat contentBefore = job.content.clone();
  ASSERT_TRUE(session->loadContent(writePicture(QStringLiteral("session-other.png"), 50, 50, 3)));
  session->setStyleWeight(1, 3.0);
  session->removeStyle(0);
  EXPECT_EQ(job.content.size(), cv::Size(64, 48));
  EXPECT_EQ(cv::norm(job.content, contentBefore, cv::NORM_INF), 0.0);
  EXPECT_EQ(job.styles.size(), 2u);
  EXPECT_EQ(job.styleBlend, (std::vector<double>{1.0, 0.5}));
}

TEST(StudioSessionTest, JobsThatCannotRenderAreRefusedWithAReason) {
  auto session = readySession();
  session->setStyleWeight(0, 0.0);
  EXPECT_THROW(session->buildJob(tinySettings(5), Pooling::AsTrained), Error);
  QSignalSpy errors(session.get(), &StudioSession::error);
  EXPECT_EQ(session->start(tinySettings(5), Pooling::AsTrained), StudioSession::StartResult::Refused);
  ASSERT_EQ(errors.count(), 1);
  EXPECT_TRUE(errors.first().at(0).toString().contains(QStringLiteral("blend")))
      << errors.first().at(0).toString().toStdString();
  session->setStyleWeight(0, 1.0);

  RenderSettings noLayers = tinySettings(5);
  noLayers.weights.styleLayers.clear();
  EXPECT_EQ(session->start(noLayers, Pooling::AsTrained), StudioSession::StartResult::Refused);
  EXPECT_TRUE(errors.last().at(0).toString().contains(QStringLiteral("layer")));
  EXPECT_FALSE(session->isRendering());

  StudioSession empty;
  EXPECT_EQ(empty.start(tinySettings(5), Pooling::AsTrained), StudioSession::StartResult::NoContent);
  ASSERT_TRUE(empty.loadContent(writePicture(QStringLiteral("e.png"), 20, 20, 0)));
  EXPECT_EQ(empty.start(tinySettings(5), Pooling::AsTrained), StudioSession::StartResult::NoStyle);
  ASSERT_TRUE(empty.addStyle(writePicture(QStringLiteral("e2.png"), 20, 20, 1)));
  EXPECT_EQ(empty.start(tinySettings(5), Pooling::AsTrained), StudioSession::StartResult::NoModel);
  EXPECT_THROW(empty.buildJob(tinySettings(5), Pooling::AsTrained), Error);
}

TEST(StudioSessionTest, AShortRenderEndsWithTheFloatResultAndExportsIt) {
  auto session = readySession();
  QSignalSpy frames(session.get(), &StudioSession::frameReady);
  QSignalSpy finished(session.get(), &StudioSession::finished);
  EXPECT_FALSE(session->hasOutput());
  ASSERT_EQ(session->start(tinySettings(12), Pooling::AsTrained), StudioSession::StartResult::Started);
  EXPECT_TRUE(session->isRendering());
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));
  EXPECT_FALSE(finished.first().at(0).toBool()) << "ran to the end";
  EXPECT_GE(frames.count(), 1);
  EXPECT_EQ(session->lastReport().iteration, 12);

  const cv::Mat& result = session->result();
  ASSERT_EQ(result.type(), CV_32FC3);
  EXPECT_EQ(result.size(), cv::Size(48, 36));
  ASSERT_EQ(session->latestFrame().type(), CV_8UC3);
  EXPECT_LE(maxLevelDifference(session->latestFrame(), toRgb8(result)), 1.0)
      << "the last frame is the result";
  EXPECT_EQ(cv::norm(session->exportPixels(), result, cv::NORM_INF), 0.0) << "export writes the float G";
  EXPECT_EQ(cv::norm(session->currentRender(), result, cv::NORM_INF), 0.0);

  const QString png = uitest::scratchPath(QStringLiteral("session-export.png"));
  QFile::remove(png);
  session->exportImage(png);
  EXPECT_LE(maxLevelDifference(toRgb8(loadImage(png.toStdString())), toRgb8(result)), 1.0);
  const auto text = readPngText(png.toStdString());
  ASSERT_EQ(text.count(kSettingsPngKey), 1u);
  Preset preset;
  loadPresetFile(png, preset);
  EXPECT_EQ(preset.settings.iterations, 12);
  EXPECT_EQ(preset.settings.contentLayer, "relu2");
  EXPECT_EQ(preset.model, "/nonexistent/tiny.onnx");
  EXPECT_TRUE(preset.settings.weightChanges.empty()) << "no live changes, no history";
}

TEST(StudioSessionTest, MidRenderTheExportIsTheNewestEngineFrame) {
  auto session = readySession();
  ASSERT_EQ(session->start(tinySettings(1000000, Optimizer::Adam), Pooling::AsTrained),
            StudioSession::StartResult::Started);
  ASSERT_TRUE(
      waitUntil([&] { return session->lastReport().iteration >= 5 && !session->latestFrame().empty(); }));
  session->setPaused(true);
  QTest::qWait(200);  // what was in flight arrives
  const cv::Mat frame = session->latestFrame().clone();
  EXPECT_EQ(frame.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(session->exportPixels(), frame, cv::NORM_INF), 0.0);
  const QString png = uitest::scratchPath(QStringLiteral("session-mid.png"));
  session->exportImage(png);
  EXPECT_EQ(maxLevelDifference(toRgb8(loadImage(png.toStdString())), frame), 0.0) << "PNG is lossless";
  const cv::Mat render = session->currentRender();
  EXPECT_EQ(render.type(), CV_32FC3) << "the layer viewer gets floats";
  EXPECT_LE(maxLevelDifference(toRgb8(render), frame), 0.0);
  session->stop();
  ASSERT_TRUE(waitUntil([&] { return !session->isRendering(); }));
}

TEST(StudioSessionTest, WeightChangesMidRenderAreRecordedAndExported) {
  auto session = readySession();
  EXPECT_FALSE(session->submitWeights(tinySettings(1).weights)) << "nothing runs";
  EXPECT_TRUE(session->weightChanges().empty());

  QSignalSpy submitted(session.get(), &StudioSession::weightsSubmitted);
  ASSERT_EQ(session->start(tinySettings(1000000, Optimizer::Adam), Pooling::AsTrained),
            StudioSession::StartResult::Started);
  ASSERT_TRUE(waitUntil([&] { return session->lastReport().iteration >= 5; }));
  LossWeights louder = tinySettings(1).weights;
  louder.beta = 1e6;
  const int at = session->lastReport().iteration;
  ASSERT_TRUE(session->submitWeights(louder));
  ASSERT_TRUE(waitUntil([&] { return session->lastReport().iteration >= at + 5; }));
  LossWeights quieter = louder;
  quieter.styleLayers["relu3"] = 2.0;
  const int at2 = session->lastReport().iteration;
  ASSERT_TRUE(session->submitWeights(quieter));
  // The engine may be steps ahead of the reports seen here: wait for the step
  // that used the new weights (a stop cuts a step short, and its change with it).
  ASSERT_TRUE(waitUntil([&] { return session->weightChanges().size() == 2; }));
  session->stop();
  ASSERT_TRUE(waitUntil([&] { return !session->isRendering(); }));

  // Recorded from the step the engine first used them on: after the submit.
  const std::vector<WeightChange> changes = session->weightChanges();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_GT(changes[0].fromIteration, at);
  EXPECT_LE(changes[0].fromIteration, at2);
  EXPECT_DOUBLE_EQ(changes[0].weights.beta, 1e6);
  EXPECT_GT(changes[1].fromIteration, at2);
  EXPECT_EQ(changes[1].weights.styleLayers.count("relu3"), 1u);
  ASSERT_EQ(submitted.count(), 2);
  EXPECT_EQ(submitted.first().at(0).toInt(), at);

  // The export embeds them; the preset it loads back replays them.
  const QString png = uitest::scratchPath(QStringLiteral("session-history.png"));
  session->exportImage(png);
  Preset back;
  loadPresetFile(png, back);
  ASSERT_EQ(back.settings.weightChanges.size(), 2u);
  EXPECT_EQ(back.settings.weightChanges[0].fromIteration, changes[0].fromIteration);
  EXPECT_DOUBLE_EQ(back.settings.weightChanges[0].weights.beta, 1e6);
  EXPECT_DOUBLE_EQ(back.settings.weights.beta, tinySettings(1).weights.beta) << "the weights it started with";
  EXPECT_DOUBLE_EQ(finalWeights(back.settings).beta, 1e6) << "the weights it ended with";
  EXPECT_EQ(back.settings.iterations, session->lastReport().iteration) << "stopped there";

  // Replaying that preset through the engine gives the exported pixels exactly.
  RenderJob replay;
  replay.content = session->content().rgb;
  for (const auto& style : session->styles()) replay.styles.push_back(style.image.rgb);
  replay.styleBlend = back.styleBlend;
  replay.model = withPooling(session->model(), back.pooling);
  replay.settings = back.settings;
  RenderObserver quiet;
  RenderControl control;
  const cv::Mat replayed = toRgb8(render(replay, quiet, control).image);
  EXPECT_EQ(cv::norm(replayed, toRgb8(loadImage(png.toStdString())), cv::NORM_INF), 0.0);
  // Without the weight changes it is another picture: the check can fail.
  replay.settings.weightChanges.clear();
  EXPECT_GT(cv::norm(toRgb8(render(replay, quiet, control).image), replayed, cv::NORM_INF), 0.0);

  // A new render starts a new history.
  ASSERT_EQ(session->start(tinySettings(2), Pooling::AsTrained), StudioSession::StartResult::Started);
  EXPECT_TRUE(session->weightChanges().empty());
  ASSERT_TRUE(waitUntil([&] { return !session->isRendering(); }, 30000));
}

TEST(StudioSessionTest, AModelThatFailsToLoadSaysSoAndCancelsAPendingStart) {
  auto session = readySession();
  const QString bad = writeScratchFile(QStringLiteral("broken.onnx"), "definitely not ONNX");
  QSignalSpy ready(session.get(), &StudioSession::modelReady);
  QSignalSpy problems(session.get(), &StudioSession::modelProblem);
  QSignalSpy startRequested(session.get(), &StudioSession::startRequested);
  session->useModelArgument(bad);
  EXPECT_TRUE(session->isModelLoading());
  EXPECT_EQ(session->shownModelId(), ModelCatalog::fileId(bad));
  EXPECT_FALSE(session->startWhenReady()) << "waits for the model";
  ASSERT_TRUE(waitUntil([&] { return ready.count() == 1; }, 60000));
  EXPECT_FALSE(ready.first().at(0).toBool());
  ASSERT_EQ(problems.count(), 1);
  EXPECT_FALSE(problems.first().at(0).toString().isEmpty());
  EXPECT_EQ(startRequested.count(), 0);
  EXPECT_EQ(session->modelId(), QStringLiteral("file:/nonexistent/tiny.onnx")) << "the old model stays";
  EXPECT_NE(session->model(), nullptr);
}

// The shared darknet model as a file, or empty without ../shared.
std::filesystem::path sharedDarknet() {
  const auto onnx = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  return !test::sharedDir().empty() && std::filesystem::exists(onnx) ? onnx : std::filesystem::path();
}

TEST(StudioSessionTest, StartWhenReadyAsksToStartOnceTheModelHasLoaded) {
  const auto onnx = sharedDarknet();
  if (onnx.empty()) GTEST_SKIP() << "needs the shared darknet model";
  StudioSession session;
  QSignalSpy loading(&session, &StudioSession::modelLoading);
  QSignalSpy ready(&session, &StudioSession::modelReady);
  QSignalSpy startRequested(&session, &StudioSession::startRequested);
  session.useModelArgument(QString::fromStdString(onnx.string()));
  EXPECT_EQ(loading.count(), 1);
  EXPECT_FALSE(session.startWhenReady());
  ASSERT_TRUE(waitUntil([&] { return ready.count() == 1; }, 60000));
  EXPECT_TRUE(ready.first().at(0).toBool());
  EXPECT_EQ(startRequested.count(), 1);
  ASSERT_NE(session.model(), nullptr);
  EXPECT_FALSE(session.isModelLoading());
  EXPECT_TRUE(session.startWhenReady()) << "ready now";
  bool namesLayers = false;
  const RenderSettings defaults = session.modelDefaults(namesLayers);
  EXPECT_TRUE(namesLayers);
  EXPECT_FALSE(defaults.weights.styleLayers.empty());
}

// `impasto --model FILE --preset P`: the preset is applied while FILE still
// loads. The preset the window starts from names FILE, so nothing is asked
// and no second load starts.
TEST(StudioSessionTest, APresetNamingTheModelStillLoadingAsksNothing) {
  const auto onnx = sharedDarknet();
  if (onnx.empty()) GTEST_SKIP() << "needs the shared darknet model";
  StudioSession session;
  QSignalSpy loading(&session, &StudioSession::modelLoading);
  QSignalSpy ready(&session, &StudioSession::modelReady);
  session.useModelArgument(QString::fromStdString(onnx.string()));
  ASSERT_TRUE(session.isModelLoading());
  Preset preset = session.preset(tinySettings(3), Pooling::AsTrained);
  EXPECT_EQ(preset.model, onnx.string());
  const auto fit = session.applyPreset(preset, [&](const QString& path) {
    ADD_FAILURE() << "asked about " << path.toStdString();
    return false;
  });
  EXPECT_TRUE(fit.switchingTo.isEmpty());
  EXPECT_TRUE(fit.declinedModel.isEmpty());
  ASSERT_TRUE(waitUntil([&] { return ready.count() == 1; }, 60000));
  EXPECT_EQ(loading.count(), 1);
}

// A preset from a stranger names a local file as its model: nothing is read,
// and the catalog is not touched, unless the user says yes.
TEST(StudioSessionTest, APresetsModelFileIsLoadedOnlyWhenTheUserConfirms) {
  auto session = readySession();
  const QString file = uitest::scratchPath(QStringLiteral("stranger-model.onnx"));
  {
    QFile f(file);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("not really a model");
  }
  Preset preset = session->preset(tinySettings(3), Pooling::AsTrained);
  preset.model = file.toStdString();
  QStringList asked;
  const auto fit = session->applyPreset(preset, [&](const QString& path) {
    asked << path;
    return false;
  });
  EXPECT_EQ(asked, QStringList{file});
  EXPECT_EQ(fit.declinedModel, file);
  EXPECT_TRUE(fit.switchingTo.isEmpty());
  EXPECT_EQ(session->modelId(), QStringLiteral("file:/nonexistent/tiny.onnx")) << "the model is kept";
  for (const auto& choice : session->catalog().choices())
    EXPECT_FALSE(choice.id.contains(QStringLiteral("stranger")));

  const auto yes = session->applyPreset(preset, [](const QString&) { return true; });
  EXPECT_FALSE(yes.switchingTo.isEmpty()) << "confirmed: the file is loaded";
  // A registry name is never asked about.
  preset.model = "darknet-reference";
  session->applyPreset(preset, [&](const QString& path) {
    ADD_FAILURE() << "asked about " << path.toStdString();
    return false;
  });
}

}  // namespace
}  // namespace impasto
