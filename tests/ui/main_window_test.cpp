// The studio window end to end, offscreen: drops, a render with frames and
// chart points, live β, export with embedded settings, presets, closing
// mid-run, and the GUI thread's responsiveness during a render.
#include "ui/main_window.h"

#include <gtest/gtest.h>

#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QIcon>
#include <QMimeData>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>
#include <QUrl>
#include <filesystem>

#include "core/io/image_io.h"
#include "tests/support/test_paths.h"
#include "tests/ui/ui_test_support.h"
#include "ui/image_drop_zone.h"
#include "ui/layer_viewer_dialog.h"
#include "ui/log_slider.h"
#include "ui/loss_chart.h"
#include "ui/message_bar.h"
#include "ui/parameter_panel.h"
#include "ui/preview_widget.h"
#include "ui/render_controller.h"
#include "ui/scientific_spin_box.h"
#include "ui/studio_session.h"
#include "ui/style_list.h"

namespace impasto {
namespace {

using uitest::scratchDir;
using uitest::waitUntil;
using uitest::writePicture;

QString scratch(const QString& name) { return uitest::scratchPath(name); }

void drop(QWidget* target, QMimeData* data) {
  QDragEnterEvent enter(QPoint(5, 5), Qt::CopyAction, data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(target, &enter);
  ASSERT_TRUE(enter.isAccepted()) << "the zone must accept the drag";
  QDropEvent event(QPointF(5, 5), Qt::CopyAction, data, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(target, &event);
}

void dropFiles(QWidget* target, const QStringList& paths) {
  QMimeData data;
  QList<QUrl> urls;
  for (const QString& p : paths) urls << QUrl::fromLocalFile(p);
  data.setUrls(urls);
  drop(target, &data);
}

// A window with the tiny model, a content and a style, set to render small.
std::unique_ptr<MainWindow> readyWindow(int iterations, Optimizer optimizer = Optimizer::Adam,
                                        int size = 48) {
  auto window = std::make_unique<MainWindow>();
  uitest::prepareTinyRender(*window, writePicture(QStringLiteral("content.png"), 64, 48, 0),
                            writePicture(QStringLiteral("style.png"), 64, 48, 1), size, iterations, optimizer,
                            1000.0, [](RenderSettings& s) {
                              s.learningRate = 0.0;
                              s.weights.tv = 0.0;
                            });
  return window;
}

TEST(MainWindowTest, FirstStartWithoutAModelSaysWhatToDo) {
  MainWindow window;
  EXPECT_EQ(window.model(), nullptr);
  EXPECT_TRUE(window.messageBar()->text().contains(QStringLiteral("Manage models")))
      << window.messageBar()->text().toStdString();
  // Starting anyway explains instead of failing.
  EXPECT_FALSE(window.startRender());
  EXPECT_FALSE(window.messageBar()->text().isEmpty());
}

TEST(MainWindowTest, DroppedFilesLoadContentAndStyles) {
  MainWindow window;
  const QString content = writePicture(QStringLiteral("drop-content.png"), 64, 48, 0);
  dropFiles(window.contentZone(), {content});
  ASSERT_FALSE(window.content().isNull());
  EXPECT_EQ(window.content().size(), QSize(64, 48));
  EXPECT_TRUE(window.contentZone()->hasPreview());
  EXPECT_TRUE(window.contentZone()->caption().contains(QStringLiteral("64 × 48")));

  dropFiles(window.styleList()->dropZone(), {writePicture(QStringLiteral("s1.png"), 30, 20, 1),
                                             writePicture(QStringLiteral("s2.jpg"), 20, 30, 2)});
  ASSERT_EQ(window.styleList()->count(), 2);
  EXPECT_EQ(window.session()->styles()[0].image.size(), QSize(30, 20));
  EXPECT_EQ(window.session()->styles()[1].image.size(), QSize(20, 30));
  window.session()->removeStyle(0);
  ASSERT_EQ(window.styleList()->count(), 1);
  EXPECT_EQ(window.session()->styles()[0].image.size(), QSize(20, 30));
}

TEST(MainWindowTest, DroppedImageDataLoads) {
  MainWindow window;
  QImage image(33, 21, QImage::Format_ARGB32);
  image.fill(QColor(10, 200, 30, 128));
  QMimeData data;
  data.setImageData(image);
  drop(window.contentZone(), &data);
  ASSERT_FALSE(window.content().isNull());
  EXPECT_EQ(window.content().size(), QSize(33, 21));
}

TEST(MainWindowTest, ABadOrHugeDroppedFileGivesAMessageNotACrash) {
  MainWindow window;
  const QString bad = scratch(QStringLiteral("not-an-image.png"));
  {
    QFile f(bad);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("this is text, not a PNG");
  }
  window.messageBar()->dismiss();
  dropFiles(window.contentZone(), {bad});
  EXPECT_TRUE(window.content().isNull());
  EXPECT_EQ(window.messageBar()->level(), MessageBar::Level::Error);
  EXPECT_FALSE(window.messageBar()->text().isEmpty());

  // A PNG whose header claims 20000 x 20000 pixels: refused before decoding.
  const QString huge = scratch(QStringLiteral("huge.png"));
  {
    QByteArray png("\x89PNG\r\n\x1a\n", 8);
    QByteArray ihdr;
    QDataStream s(&ihdr, QIODevice::WriteOnly);
    s << quint32(13);
    s.writeRawData("IHDR", 4);
    s << quint32(20000) << quint32(20000) << quint8(8) << quint8(2) << quint8(0) << quint8(0) << quint8(0);
    s << quint32(0);  // CRC: the size check comes first
    QFile f(huge);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(png + ihdr);
  }
  window.messageBar()->dismiss();
  dropFiles(window.styleList()->dropZone(), {huge});
  EXPECT_EQ(window.styleList()->count(), 0);
  EXPECT_FALSE(window.messageBar()->text().isEmpty());

  window.messageBar()->dismiss();
  dropFiles(window.contentZone(), {scratch(QStringLiteral("does-not-exist.jpg"))});
  EXPECT_FALSE(window.messageBar()->text().isEmpty());
}

TEST(MainWindowTest, StartProducesFramesAndChartPoints) {
  auto window = readyWindow(30, Optimizer::Lbfgs);
  QSignalSpy frames(window->controller(), &RenderController::frameReady);
  QSignalSpy finished(window->controller(), &RenderController::finished);
  ASSERT_TRUE(window->startRender()) << window->messageBar()->text().toStdString();
  EXPECT_TRUE(window->isRendering());
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));
  EXPECT_GE(frames.count(), 1);
  EXPECT_EQ(window->lossChart()->pointCount(), 30);
  // The bar follows the work done (pyramid levels weighted by their pixels): full at the end.
  EXPECT_EQ(window->progressBar()->value(), window->progressBar()->maximum());
  EXPECT_EQ(window->preview()->image().size(), QSize(48, 36));
  EXPECT_TRUE(window->canExport());
}

TEST(MainWindowTest, ABetaChangeInThePanelAppliesLiveAndTheIterationsCountOn) {
  auto window = readyWindow(1000000);
  QList<StepReport> reports;
  QObject::connect(window->controller(), &RenderController::stepsReported, window.get(),
                   [&](const QList<StepReport>& r) { reports += r; });
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return reports.size() >= 10; }));
  const int changedAt = reports.back().iteration;
  const double jBefore = reports.back().loss;
  window->parameters()->betaSlider()->spinBox()->setValue(1e6);  // as if typed: emits valueChanged
  ASSERT_TRUE(waitUntil([&] { return reports.back().iteration >= changedAt + 20; }));
  EXPECT_TRUE(window->isRendering()) << "no restart";
  window->stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }));

  for (int i = 0; i < reports.size(); ++i) ASSERT_EQ(reports[i].iteration, i + 1);
  const StepReport& late = reports[changedAt + 10];
  EXPECT_NEAR(late.loss, 1.0 * late.contentLoss + 1e6 * late.styleLoss, 1e-4 * late.loss);
  EXPECT_GT(late.loss, 2.0 * jBefore);
  EXPECT_EQ(window->lossChart()->pointCount(), reports.size()) << "the chart continues";
}

TEST(MainWindowTest, ALayerCheckboxChangeAppliesLive) {
  auto window = readyWindow(1000000);
  QList<StepReport> reports;
  QObject::connect(window->controller(), &RenderController::stepsReported, window.get(),
                   [&](const QList<StepReport>& r) { reports += r; });
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return reports.size() >= 5; }));
  EXPECT_EQ(reports.back().styleLossPerLayer.count("relu3"), 0u);
  const int changedAt = reports.back().iteration;
  window->parameters()->setStyleLayer("relu3", true, 2.0);
  ASSERT_TRUE(waitUntil([&] { return reports.back().iteration >= changedAt + 10; }));
  window->stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }));
  EXPECT_EQ(reports.back().styleLossPerLayer.count("relu3"), 1u) << "a newly checked layer joins the cost";
}

TEST(MainWindowTest, PauseAndResumeFromTheWindow) {
  auto window = readyWindow(1000000);
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= 3; }));
  window->setPaused(true);
  QTest::qWait(150);
  const int held = window->controller()->lastReport().iteration;
  QTest::qWait(300);
  EXPECT_LE(window->controller()->lastReport().iteration, held + 1);
  EXPECT_EQ(window->rateText(), QStringLiteral("paused"));
  window->setPaused(false);
  ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= held + 5; }));
  window->stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }));
}

TEST(MainWindowTest, ExportWritesTheImageWithItsSettingsAndNeverOverwritesSilently) {
  auto window = readyWindow(12, Optimizer::Lbfgs);
  EXPECT_FALSE(window->canExport());
  QSignalSpy finished(window->controller(), &RenderController::finished);
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));

  const QString png = scratch(QStringLiteral("export.png"));
  QFile::remove(png);
  ASSERT_TRUE(window->exportImage(png, MainWindow::Overwrite::Never))
      << window->messageBar()->text().toStdString();
  const cv::Mat written = loadImage(png.toStdString());
  EXPECT_EQ(written.size(), cv::Size(48, 36));
  const auto text = readPngText(png.toStdString());
  ASSERT_EQ(text.count(kSettingsPngKey), 1u);
  // The embedded settings load back as a preset: what the render used.
  Preset preset;
  loadPresetFile(png, preset);
  EXPECT_EQ(preset.settings.size, 48);
  EXPECT_EQ(preset.settings.iterations, 12);
  EXPECT_DOUBLE_EQ(preset.settings.weights.beta, 1000.0);
  EXPECT_EQ(preset.settings.contentLayer, "relu2");
  EXPECT_EQ(preset.settings.optimizer, Optimizer::Lbfgs);
  EXPECT_EQ(preset.settings.weights.styleLayers.size(), 2u);

  // An existing file is left alone unless the user agrees.
  const QDateTime before = QFileInfo(png).lastModified();
  QTest::qWait(20);
  window->messageBar()->dismiss();
  EXPECT_FALSE(window->exportImage(png, MainWindow::Overwrite::Never));
  EXPECT_FALSE(window->messageBar()->text().isEmpty());
  EXPECT_EQ(QFileInfo(png).lastModified(), before);

  for (const QString& name : {QStringLiteral("export.jpg"), QStringLiteral("export.tif")}) {
    ASSERT_TRUE(window->exportImage(scratch(name), MainWindow::Overwrite::Yes)) << name.toStdString();
    EXPECT_EQ(loadImage(scratch(name).toStdString()).size(), cv::Size(48, 36));
  }

  // A failing export is a message, not a crash.
  window->messageBar()->dismiss();
  EXPECT_FALSE(
      window->exportImage(scratch(QStringLiteral("no/such/folder/x.png")), MainWindow::Overwrite::Yes));
  EXPECT_EQ(window->messageBar()->level(), MessageBar::Level::Error);
  EXPECT_FALSE(window->exportImage(scratch(QStringLiteral("x.gif")), MainWindow::Overwrite::Yes));
}

TEST(MainWindowTest, ExportAndTheLayerViewerTakeTheSessionsResultNotThePreviewsPixels) {
  auto window = readyWindow(10, Optimizer::Lbfgs);
  QSignalSpy finished(window->controller(), &RenderController::finished);
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return finished.count() == 1; }, 30000));
  const cv::Mat& result = window->session()->result();
  ASSERT_EQ(result.type(), CV_32FC3);
  // The view shows something else (as if zoomed, stale or converted for the screen).
  QImage shown(48, 36, QImage::Format_RGB888);
  shown.fill(Qt::black);
  window->preview()->setImage(shown);

  const QString png = scratch(QStringLiteral("export-not-preview.png"));
  QFile::remove(png);
  ASSERT_TRUE(window->exportImage(png, MainWindow::Overwrite::Never))
      << window->messageBar()->text().toStdString();
  const cv::Mat written = toRgb8(loadImage(png.toStdString()));
  double largest = 0.0;
  cv::minMaxLoc(cv::abs(written.reshape(1) - toRgb8(result).reshape(1)), nullptr, &largest);
  EXPECT_LE(largest, 1.0) << "the export is G in 8 bits";
  EXPECT_GT(cv::mean(written)[0], 10.0) << "not the black preview";

  LayerViewerDialog* viewer = window->showLayerViewer();
  ASSERT_FALSE(viewer->sources().isEmpty());
  EXPECT_EQ(viewer->sources().first().name, QStringLiteral("Current render"));
  EXPECT_EQ(cv::norm(viewer->sources().first().rgb, result, cv::NORM_INF), 0.0);
  ASSERT_TRUE(waitUntil([&] { return !viewer->isComputing(); }));
}

TEST(MainWindowTest, PresetsRoundTripThroughAFile) {
  auto window = readyWindow(77);
  ParameterPanel* panel = window->parameters();
  RenderSettings s = panel->settings();
  s.weights.alpha = 0.25;
  s.weights.beta = 12345.0;
  s.weights.tv = 0.5;
  s.weights.styleLayers = {{"relu1", 0.5}, {"relu3", 2.0}};
  s.contentLayer = "relu3";
  s.size = 333;
  s.init = InitKind::Noise;
  s.seed = 42;
  panel->setSettings(s);
  panel->setPooling(Pooling::Avg);
  const QString path = scratch(QStringLiteral("preset.json"));
  ASSERT_TRUE(window->savePreset(path));

  RenderSettings other = s;
  other.weights.alpha = 9.0;
  other.weights.styleLayers = {{"relu2", 1.0}};
  other.contentLayer = "relu1";
  other.size = 100;
  panel->setSettings(other);
  panel->setPooling(Pooling::Max);

  ASSERT_TRUE(window->loadPreset(path)) << window->messageBar()->text().toStdString();
  const RenderSettings back = panel->settings();
  EXPECT_DOUBLE_EQ(back.weights.alpha, 0.25);
  EXPECT_DOUBLE_EQ(back.weights.beta, 12345.0);
  EXPECT_DOUBLE_EQ(back.weights.tv, 0.5);
  EXPECT_EQ(back.weights.styleLayers, s.weights.styleLayers);
  EXPECT_EQ(back.contentLayer, "relu3");
  EXPECT_EQ(back.size, 333);
  EXPECT_EQ(back.iterations, 77);
  EXPECT_EQ(back.init, InitKind::Noise);
  EXPECT_EQ(back.seed, 42u);
  EXPECT_EQ(panel->pooling(), Pooling::Avg);

  // A broken preset is a message, and changes nothing.
  const QString broken = scratch(QStringLiteral("broken.json"));
  {
    QFile f(broken);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(R"({"size": "big"})");
  }
  EXPECT_FALSE(window->loadPreset(broken));
  EXPECT_EQ(panel->settings().size, 333);
  EXPECT_FALSE(window->messageBar()->text().isEmpty());
}

// `impasto --model FILE --preset P`: P is loaded while the model still
// loads. The α and β that P names survive the model's arrival; what P leaves
// out (the layers, and α here) comes from the model's defaults.
TEST(MainWindowTest, APresetLoadedWhileTheModelLoadsKeepsTheWeightsItNames) {
  const auto onnx = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  if (test::sharedDir().empty() || !std::filesystem::exists(onnx))
    GTEST_SKIP() << "needs the shared darknet model";
  const QString preset = scratch(QStringLiteral("beta-only.json"));
  {
    QFile f(preset);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(R"({"beta": 1e6, "size": 96})");
  }
  const auto settingsAfterLoading = [&](bool withPreset) {
    MainWindow window;
    QSignalSpy ready(&window, &MainWindow::modelReady);
    window.useModelArgument(QString::fromStdString(onnx.string()));
    EXPECT_FALSE(window.parameters()->hasLayers());
    if (withPreset) EXPECT_TRUE(window.loadPreset(preset));
    EXPECT_TRUE(uitest::waitUntil([&] { return ready.count() == 1; }, 60000));
    return window.parameters()->settings();
  };
  const RenderSettings defaults = settingsAfterLoading(false);
  const RenderSettings loaded = settingsAfterLoading(true);
  EXPECT_DOUBLE_EQ(loaded.weights.beta, 1e6);
  EXPECT_NE(defaults.weights.beta, 1e6);
  EXPECT_DOUBLE_EQ(loaded.weights.alpha, defaults.weights.alpha);
  EXPECT_FALSE(loaded.weights.styleLayers.empty());
  EXPECT_EQ(loaded.weights.styleLayers, defaults.weights.styleLayers);
  EXPECT_EQ(loaded.contentLayer, defaults.contentLayer);
  EXPECT_EQ(loaded.size, 96);
}

TEST(MainWindowTest, BuiltInPresetsShipInTheResources) {
  auto window = readyWindow(10);
  const QStringList presets = QDir(QStringLiteral(":/presets")).entryList({QStringLiteral("*.json")});
  EXPECT_GE(presets.size(), 3) << "the resources must be linked in";
  ASSERT_TRUE(window->loadPreset(QStringLiteral(":/presets/quick-preview.json")))
      << window->messageBar()->text().toStdString();
  EXPECT_EQ(window->parameters()->settings().size, 256);
  EXPECT_EQ(window->parameters()->settings().iterations, 100);
  EXPECT_FALSE(QIcon(QStringLiteral(":/icons/impasto.png")).isNull());
}

TEST(MainWindowTest, ClosingMidRenderIsCleanAndQuick) {
  auto window = readyWindow(1000000, Optimizer::Lbfgs, 96);
  window->show();
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= 3; }));
  QElapsedTimer timer;
  timer.start();
  EXPECT_TRUE(window->close());
  window.reset();
  EXPECT_LT(timer.elapsed(), 2000);
  QTest::qWait(50);  // nothing queued for the dead window may run
}

TEST(MainWindowTest, TheGuiStaysResponsiveWhileRendering) {
  auto window = readyWindow(1000000, Optimizer::Lbfgs, 128);
  window->show();
  ASSERT_TRUE(window->startRender());
  ASSERT_TRUE(waitUntil([&] { return window->controller()->lastReport().iteration >= 2; }));

  QElapsedTimer clock;
  clock.start();
  qint64 last = clock.elapsed();
  qint64 largestGap = 0;
  int beats = 0;
  QTimer heartbeat;
  heartbeat.setTimerType(Qt::PreciseTimer);
  heartbeat.setInterval(10);
  QObject::connect(&heartbeat, &QTimer::timeout, [&] {
    const qint64 now = clock.elapsed();
    largestGap = std::max(largestGap, now - last);
    last = now;
    ++beats;
  });
  heartbeat.start();
  const int startIteration = window->controller()->lastReport().iteration;
  QEventLoop loop;
  QTimer::singleShot(2000, &loop, &QEventLoop::quit);
  loop.exec();
  heartbeat.stop();
  const int steps = window->controller()->lastReport().iteration - startIteration;
  window->stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window->isRendering(); }));

  std::printf("[ measured ] heartbeat: %d beats, largest gap %lld ms, %d render steps in 2 s\n", beats,
              static_cast<long long>(largestGap), steps);
  EXPECT_GT(steps, 0) << "the render must have been running";
  EXPECT_GT(window->lossChart()->pointCount(), 0);
  EXPECT_LT(largestGap, 100) << "the GUI thread stalled";
}

TEST(MainWindowTest, OpenImagesTakesContentThenStyles) {
  MainWindow window;
  window.openImages({writePicture(QStringLiteral("c.png"), 40, 30, 0),
                     writePicture(QStringLiteral("a.png"), 20, 20, 1),
                     writePicture(QStringLiteral("b.png"), 25, 20, 2)});
  EXPECT_EQ(window.content().size(), QSize(40, 30));
  EXPECT_EQ(window.styleList()->count(), 2);
}

TEST(MainWindowTest, StartWithoutAStyleOrLayersExplains) {
  auto window = readyWindow(10);
  window->session()->clearStyles();
  EXPECT_FALSE(window->startRender());
  EXPECT_TRUE(window->messageBar()->text().contains(QStringLiteral("style")));

  window->addStyle(writePicture(QStringLiteral("style.png"), 64, 48, 1));
  for (const char* layer : {"relu1", "relu2", "relu3"}) window->parameters()->setStyleLayer(layer, false);
  EXPECT_FALSE(window->startRender());
  EXPECT_TRUE(window->messageBar()->text().contains(QStringLiteral("layer")));
}

}  // namespace
}  // namespace impasto
