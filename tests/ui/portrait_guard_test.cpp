// The studio's portrait guard: the Keep identity controls (off, with how to
// get the models, when there are none), the live badge on the preview, the
// face boxes, and γ as a live weight dragged with the mouse. The tests with
// the real face models use ../shared and skip without it.
#include "core/faces/portrait_guard.h"

#include <gtest/gtest.h>

#include <QCheckBox>
#include <QDir>
#include <QLabel>
#include <QRegularExpression>
#include <QSlider>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "core/io/image_io.h"
#include "tests/support/test_images.h"
#include "tests/support/test_paths.h"
#include "tests/ui/ui_test_support.h"
#include "ui/log_slider.h"
#include "ui/main_window.h"
#include "ui/message_bar.h"
#include "ui/parameter_panel.h"
#include "ui/portrait_watch.h"
#include "ui/preview_widget.h"
#include "ui/render_controller.h"
#include "ui/studio_session.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using uitest::handleCentre;
using uitest::sendMouse;
using uitest::waitUntil;

// IMPASTO_FACE_MODELS for one test.
class FaceModelsEnv {
 public:
  explicit FaceModelsEnv(const QString& dir) { qputenv("IMPASTO_FACE_MODELS", dir.toUtf8()); }
  ~FaceModelsEnv() { qunsetenv("IMPASTO_FACE_MODELS"); }
};

fs::path sharedFaceModels() {
  const fs::path dir = test::sharedDir() / "models" / "face-api";
  return test::sharedDir().empty() || !fs::is_directory(dir) ? fs::path() : dir;
}

fs::path facePhoto(const std::string& name) { return test::sharedDir() / "images" / "faces" / name; }

cv::Mat paddedFace(const std::string& name) { return test::faceWithContext(loadImage(facePhoto(name))); }

QString writeImage(const QString& name, const cv::Mat& rgb) {
  const QString path = uitest::scratchPath(name);
  saveImage(rgb, path.toStdString());
  return path;
}

// The tiny model, a content and a style, small L-BFGS settings, γ off.
void prepare(MainWindow& window, const QString& content, int size) {
  uitest::prepareEndlessTinyRender(window, content, size, 1e4,
                                   [](RenderSettings& s) { s.weights.identity = 0.0; });
}

bool near(QColor a, QColor b) {
  return std::abs(a.red() - b.red()) < 40 && std::abs(a.green() - b.green()) < 40 &&
         std::abs(a.blue() - b.blue()) < 40;
}

TEST(PortraitGuardUi, WithoutFaceModelsKeepIdentityIsOffAndSaysHowToGetThem) {
  const QString empty = uitest::scratchPath(QStringLiteral("no-face-models"));
  QDir().mkpath(empty);
  const FaceModelsEnv env(empty);
  MainWindow window;
  ParameterPanel* panel = window.parameters();
  EXPECT_FALSE(panel->keepIdentityBox()->isEnabled());
  EXPECT_FALSE(panel->identitySlider()->isEnabled());
  EXPECT_FALSE(panel->faceBoxesBox()->isEnabled());
  EXPECT_TRUE(
      panel->keepIdentityBox()->toolTip().contains(QStringLiteral("impasto-cli models download face-api")))
      << panel->keepIdentityBox()->toolTip().toStdString();
  EXPECT_FALSE(window.portraitWatch()->modelsAvailable());

  // A render still runs (a preset's γ without the models is left out), and no badge appears.
  prepare(window, uitest::writePicture(QStringLiteral("content.png"), 96, 72, 0), 64);
  RenderSettings s = panel->settings();
  s.weights.identity = 500.0;
  panel->setSettings(s);
  EXPECT_EQ(panel->weights().identity, 500.0) << "the preset's γ is kept for when the models come";
  int frames = 0;
  QObject::connect(window.session(), &StudioSession::frameReady, &window, [&] { ++frames; });
  ASSERT_TRUE(window.startRender()) << window.messageBar()->text().toStdString();
  ASSERT_TRUE(waitUntil([&] { return frames >= 3; }));
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));
  EXPECT_TRUE(window.preview()->badgeText().isEmpty());
  EXPECT_TRUE(window.preview()->faces().isEmpty());
}

class PortraitGuardModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (sharedFaceModels().empty() || !fs::exists(facePhoto("penny1.png")))
      GTEST_SKIP() << "needs ../shared/models/face-api and ../shared/images/faces";
    env_ = std::make_unique<FaceModelsEnv>(QString::fromStdString(sharedFaceModels().string()));
  }
  std::unique_ptr<FaceModelsEnv> env_;
};

// The badge after frames arrive: "same person ✓ d = 0.xx" (green) for the
// render of a face photo, the d the guard measures; "identity drifting ✗"
// (red) for another person's face in the same place. The face box is drawn
// over the frame, scaled to it.
TEST_F(PortraitGuardModelsTest, TheBadgeSaysSamePersonForAFacePhotoAndDriftingForAnotherFace) {
  MainWindow window;
  PortraitWatch* watch = window.portraitWatch();
  watch->setMinInterval(200);
  const cv::Mat penny = paddedFace("penny1.png");
  prepare(window, writeImage(QStringLiteral("penny.png"), penny), 160);
  RenderSettings gentle = window.parameters()->settings();
  gentle.weights.beta = 1.0;  // a light touch of style: the face stays Penny's
  window.parameters()->setSettings(gentle);
  ASSERT_TRUE(waitUntil([&] { return watch->contentAnalyzed(); }, 30000));
  ASSERT_EQ(watch->faceBoxes().size(), 1) << "one face in the padded crop";
  EXPECT_EQ(window.parameters()->faceStateLabel()->text().toStdString(), "1 face in the content");
  EXPECT_TRUE(window.session()->faceModels()) << "renders of a portrait get the face models";

  window.resize(1400, 900);
  window.show();
  ASSERT_TRUE(window.startRender()) << window.messageBar()->text().toStdString();
  ASSERT_TRUE(waitUntil([&] { return !window.preview()->badgeText().isEmpty(); }, 30000));
  ASSERT_TRUE(waitUntil([&] { return watch->measureCount() >= 2; }, 30000))
      << "measured again as frames come";
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));

  const QString badge = window.preview()->badgeText();
  const QRegularExpressionMatch match =
      QRegularExpression(QStringLiteral("^same person ✓ d = (\\d\\.\\d\\d)$")).match(badge);
  ASSERT_TRUE(match.hasMatch()) << badge.toStdString();
  ASSERT_EQ(watch->identities().size(), 1u);
  EXPECT_EQ(match.captured(1), QString::number(watch->identities()[0].distance, 'f', 2));
  EXPECT_LT(watch->identities()[0].distance, kSamePersonThreshold);
  EXPECT_TRUE(window.preview()->badgeGood());

  // The face boxes, on request: drawn where the face is, in the measure's colour.
  PreviewWidget* preview = window.preview();
  EXPECT_FALSE(preview->showsFaceBoxes());
  window.parameters()->faceBoxesBox()->setChecked(true);
  EXPECT_TRUE(preview->showsFaceBoxes());
  ASSERT_EQ(preview->faces().size(), 1);
  EXPECT_EQ(preview->faces()[0].state, PreviewFace::State::Same);
  const QRectF image = preview->imageRect();
  const QRectF face = preview->faces()[0].box;
  const QImage shot = preview->grab().toImage();
  const int x = int(std::round(image.left() + face.left() * image.width()));
  const int y = int(std::round(image.top() + face.center().y() * image.height()));
  bool edge = false;
  for (int dx = -2; dx <= 2; ++dx) edge = edge || near(shot.pixelColor(x + dx, y), QColor(110, 230, 120));
  EXPECT_TRUE(edge) << "a green box edge at x = " << x;
  window.parameters()->faceBoxesBox()->setChecked(false);
  const QImage without = preview->grab().toImage();
  bool stillEdge = false;
  for (int dx = -2; dx <= 2; ++dx)
    stillEdge = stillEdge || near(without.pixelColor(x + dx, y), QColor(110, 230, 120));
  EXPECT_FALSE(stillEdge) << "the boxes go with the check box";

  // Another person's face where Penny's was: identity drifting.
  cv::Mat sheldon;
  cv::resize(paddedFace("sheldon1.png"), sheldon, penny.size());
  // The render's last frame may still be in measure: wait for the newest one.
  watch->frameArrived(sheldon);
  waitUntil([&] { return window.preview()->badgeText().startsWith(QStringLiteral("identity drifting")); },
            30000);
  const QString drifting = window.preview()->badgeText();
  EXPECT_TRUE(drifting.startsWith(QStringLiteral("identity drifting ✗ d = "))) << drifting.toStdString();
  EXPECT_GE(watch->identities()[0].distance, kSamePersonThreshold);
  EXPECT_FALSE(window.preview()->badgeGood());
}

TEST_F(PortraitGuardModelsTest, AFacelessImageGetsNoBadgeAndNoFaceSearchInTheRender) {
  MainWindow window;
  PortraitWatch* watch = window.portraitWatch();
  watch->setMinInterval(100);
  prepare(window, uitest::writePicture(QStringLiteral("faceless.png"), 160, 120, 0), 96);
  ASSERT_TRUE(waitUntil([&] { return watch->contentAnalyzed(); }, 30000));
  EXPECT_FALSE(watch->hasFaces());
  EXPECT_EQ(window.parameters()->faceStateLabel()->text().toStdString(), "No faces in the content");
  EXPECT_FALSE(window.session()->faceModels()) << "no face search at each level of a faceless render";
  EXPECT_TRUE(window.parameters()->keepIdentityBox()->isEnabled());

  int frames = 0;
  QObject::connect(window.session(), &StudioSession::frameReady, &window, [&] { ++frames; });
  window.parameters()->faceBoxesBox()->setChecked(true);
  ASSERT_TRUE(window.startRender()) << window.messageBar()->text().toStdString();
  ASSERT_TRUE(waitUntil([&] { return frames >= 10; }));
  uitest::waitUntil([] { return false; }, 400);  // time for a measure, were there a face
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));
  EXPECT_TRUE(window.preview()->badgeText().isEmpty());
  EXPECT_TRUE(window.preview()->faces().isEmpty());
  EXPECT_EQ(watch->measureCount(), 0);
}

// Face models installed while the studio runs (the model manager downloads
// face-api): the controls come on and the content already loaded is searched.
TEST_F(PortraitGuardModelsTest, ModelsFoundLaterEnableTheControlsAndAnalyseTheContent) {
  const QString empty = uitest::scratchPath(QStringLiteral("no-face-models-yet"));
  QDir().mkpath(empty);
  env_.reset();  // before the next one: its destructor unsets the variable
  env_ = std::make_unique<FaceModelsEnv>(empty);
  MainWindow window;
  ASSERT_TRUE(window.loadContent(writeImage(QStringLiteral("penny.png"), paddedFace("penny1.png"))));
  EXPECT_FALSE(window.parameters()->keepIdentityBox()->isEnabled());
  EXPECT_FALSE(window.portraitWatch()->isAnalyzing());

  env_.reset();
  env_ = std::make_unique<FaceModelsEnv>(QString::fromStdString(sharedFaceModels().string()));
  window.portraitWatch()->relocate();
  EXPECT_TRUE(window.parameters()->keepIdentityBox()->isEnabled());
  ASSERT_TRUE(waitUntil([&] { return window.portraitWatch()->contentAnalyzed(); }, 30000));
  EXPECT_EQ(window.portraitWatch()->faceBoxes().size(), 1);
  EXPECT_TRUE(window.session()->faceModels());
}

// `impasto --start` with Keep identity on: the render is asked for while the
// face models still load. It waits for them rather than run without the
// guard, and its steps carry the identity term (0 at the first, where G is
// still the photo).
TEST_F(PortraitGuardModelsTest, ARenderStartedWhileTheFaceModelsLoadWaitsForThem) {
  MainWindow window;
  ASSERT_TRUE(window.portraitWatch()->modelsAvailable());
  ASSERT_FALSE(window.portraitWatch()->models()) << "they load in the background";
  uitest::prepareEndlessTinyRender(window, writeImage(QStringLiteral("penny.png"), paddedFace("penny1.png")),
                                   160, 1e4, [](RenderSettings& s) { s.weights.identity = 100.0; });
  QList<StepReport> reports;
  QObject::connect(window.controller(), &RenderController::stepsReported, &window,
                   [&](const QList<StepReport>& r) { reports += r; });
  EXPECT_FALSE(window.startRender()) << "not yet";
  EXPECT_FALSE(window.isRendering());
  ASSERT_TRUE(waitUntil([&] { return reports.size() >= 3; }, 30000)) << "it starts once they are in";
  EXPECT_TRUE(window.session()->faceModels());
  EXPECT_GT(reports.back().identityLoss, 0.0);
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));
}

// Keep identity and the γ slider, dragged with the mouse while a portrait
// renders: each new γ reaches the engine (the steps' new weights), and the
// identity term is in J from the step it is on; unchecking turns it off.
TEST_F(PortraitGuardModelsTest, DraggingGammaChangesTheWeightTheRenderUses) {
  MainWindow window;
  prepare(window, writeImage(QStringLiteral("penny.png"), paddedFace("penny1.png")), 160);
  ASSERT_TRUE(waitUntil([&] { return window.portraitWatch()->contentAnalyzed(); }, 30000));
  ParameterPanel* panel = window.parameters();
  panel->identitySlider()->setValue(10.0);
  window.resize(1400, 900);
  window.show();
  QList<StepReport> reports;
  QObject::connect(window.controller(), &RenderController::stepsReported, &window,
                   [&](const QList<StepReport>& r) { reports += r; });
  ASSERT_TRUE(window.startRender()) << window.messageBar()->text().toStdString();
  ASSERT_TRUE(waitUntil([&] { return reports.size() >= 3; }, 30000));
  for (const StepReport& r : reports) EXPECT_EQ(r.identityLoss, 0.0) << "γ is off: no identity term";

  EXPECT_FALSE(panel->identitySlider()->isEnabled()) << "γ waits for Keep identity";
  panel->keepIdentityBox()->click();
  ASSERT_TRUE(panel->identitySlider()->isEnabled());
  ASSERT_TRUE(waitUntil(
      [&] {
        for (const StepReport& r : reports)
          if (r.newWeights && r.newWeights->identity == 10.0 && r.identityLoss > 0.0) return true;
        return false;
      },
      30000))
      << "checking Keep identity puts γ = 10 into J";

  QSlider* slider = panel->identitySlider()->slider();
  ASSERT_GT(slider->width(), 60) << "the slider needs room to be dragged";
  QPoint at = handleCentre(slider);
  sendMouse(slider, QEvent::MouseButtonPress, at, Qt::LeftButton, Qt::LeftButton);
  ASSERT_TRUE(slider->isSliderDown()) << "the press must catch the handle";
  const int seenBeforeDrag = int(reports.size());
  for (int move = 0; move < 6; ++move) {
    at.rx() += 6;
    sendMouse(slider, QEvent::MouseMove, at, Qt::NoButton, Qt::LeftButton);
    const int seen = int(reports.size());
    ASSERT_TRUE(waitUntil([&] { return int(reports.size()) > seen; }, 30000));
  }
  sendMouse(slider, QEvent::MouseButtonRelease, at, Qt::LeftButton, Qt::NoButton);
  const double dragged = panel->identitySlider()->value();
  EXPECT_GT(dragged, 10.0) << "dragged right: a larger γ";
  ASSERT_TRUE(waitUntil(
      [&] {
        for (int i = seenBeforeDrag; i < reports.size(); ++i)
          if (reports[i].newWeights && reports[i].newWeights->identity == dragged) return true;
        return false;
      },
      30000))
      << "the released value reached the engine";
  int gammaChanges = 0;
  double previous = 10.0;
  for (int i = seenBeforeDrag; i < reports.size(); ++i) {
    if (!reports[i].newWeights) continue;
    EXPECT_GE(reports[i].newWeights->identity, previous) << "γ only grew while dragged right";
    gammaChanges += reports[i].newWeights->identity > previous ? 1 : 0;
    previous = reports[i].newWeights->identity;
  }
  EXPECT_GE(gammaChanges, 2) << "the dragged values reached the engine while it ran";

  panel->keepIdentityBox()->click();
  const int seenBeforeOff = int(reports.size());
  ASSERT_TRUE(waitUntil(
      [&] {
        for (int i = seenBeforeOff; i < reports.size(); ++i)
          if (reports[i].newWeights && reports[i].newWeights->identity == 0.0) return true;
        return false;
      },
      30000));
  const int offAt = int(reports.size());
  ASSERT_TRUE(waitUntil([&] { return int(reports.size()) > offAt + 1; }, 30000));
  EXPECT_EQ(reports.back().identityLoss, 0.0) << "unchecked: the term is out of J";
  window.stopRender();
  ASSERT_TRUE(waitUntil([&] { return !window.isRendering(); }));
  ASSERT_FALSE(window.session()->weightChanges().empty());
  EXPECT_EQ(window.session()->weightChanges().back().weights.identity, 0.0) << "the history ends with γ off";
}

}  // namespace
}  // namespace impasto
