// The studio's final render: the dialog's memory estimate, a render at a
// small "print" size written with its checkpoint removed, a cancel that keeps
// the checkpoint and a next start that resumes it to the end with its own
// inputs, and damaged checkpoints refused with a message.
#include "ui/final_render.h"

#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>

#include "core/io/image_io.h"
#include "tests/ui/ui_test_support.h"
#include "ui/final_render_dialog.h"
#include "ui/main_window.h"
#include "ui/message_bar.h"
#include "ui/parameter_panel.h"
#include "ui/render_controller.h"
#include "ui/studio_session.h"

namespace impasto {
namespace {

using uitest::makeTinyModel;
using uitest::scratchPath;
using uitest::waitUntil;
using uitest::writePicture;

const QString kModelId = QStringLiteral("file:/nonexistent/tiny.onnx");

// A window with the tiny model, a 64 x 48 content and a style, tuned at 48 px.
std::unique_ptr<MainWindow> tunedWindow(int iterations) {
  auto window = std::make_unique<MainWindow>();
  uitest::prepareTinyRender(*window, writePicture(QStringLiteral("content.png"), 64, 48, 0),
                            writePicture(QStringLiteral("style.png"), 64, 48, 1), 48, iterations,
                            Optimizer::Adam, 1000.0, [](RenderSettings& s) {
                              s.weights.tv = 0.0;
                              s.scales = 2;
                            });
  window->finalRender()->setCheckpointInterval(2, 600.0);
  return window;
}

// Runs a final render to `output` and cancels it once a checkpoint past step 4 is saved.
void leaveCheckpoint(MainWindow& window, const QString& output) {
  FinalRender* render = window.finalRender();
  QObject::connect(render, &FinalRender::checkpointSaved, render, [render](int iteration) {
    if (iteration >= 4) render->cancel();
  });
  QSignalSpy finished(render, &FinalRender::finished);
  ASSERT_TRUE(window.startFinalRender(96, output));
  ASSERT_TRUE(waitUntil([&] { return !finished.isEmpty(); }, 60000));
  ASSERT_TRUE(finished.first().at(0).toBool()) << "the render must have been cancelled";
  ASSERT_TRUE(render->hasCheckpoint());
}

TEST(FinalRenderDialog, EstimateFollowsTheSize) {
  auto window = tunedWindow(10);
  RenderJob job =
      window->session()->buildJob(window->parameters()->settings(), window->parameters()->pooling());
  FinalRenderDialog dialog(job, scratchPath(QStringLiteral("out.png")));

  dialog.setLongestSide(2048);
  ASSERT_TRUE(dialog.plan().has_value()) << dialog.estimateText().toStdString();
  const MemoryPlan small = *dialog.plan();
  const QString smallText = dialog.estimateText();
  EXPECT_EQ(small.width, 2048);
  EXPECT_EQ(small.height, 1536);  // the content's 4:3

  dialog.setLongestSide(4096);
  ASSERT_TRUE(dialog.plan().has_value());
  EXPECT_EQ(dialog.longestSide(), 4096);
  EXPECT_GT(dialog.plan()->untiledBytes, 3.0 * small.untiledBytes);  // four times the pixels
  EXPECT_NE(dialog.estimateText(), smallText);

  dialog.setLongestSide(1000);  // not a preset: custom
  EXPECT_EQ(dialog.longestSide(), 1000);
  ASSERT_TRUE(dialog.plan().has_value());
  EXPECT_LT(dialog.plan()->untiledBytes, small.untiledBytes);
  EXPECT_EQ(dialog.plan()->width, 1000);
}

TEST(FinalRender, WritesTheFileAndRemovesItsCheckpoint) {
  auto window = tunedWindow(8);
  FinalRender* render = window->finalRender();
  ASSERT_EQ(window->startRender(), true);  // the preview runs...
  QSignalSpy finished(render, &FinalRender::finished);
  const QString output = scratchPath(QStringLiteral("final.png"));
  ASSERT_TRUE(window->startFinalRender(96, output));
  // ...and stops for the final render, which has the engine to itself.
  ASSERT_TRUE(waitUntil([&] { return render->isRunning(); }));
  EXPECT_FALSE(window->isRendering());
  ASSERT_TRUE(waitUntil([&] { return !finished.isEmpty(); }, 60000));
  EXPECT_FALSE(finished.first().at(0).toBool());

  const cv::Mat written = loadImage(output.toStdString());
  EXPECT_EQ(written.cols, 96);
  EXPECT_EQ(written.rows, 72);
  EXPECT_EQ(readPngText(output.toStdString()).count(kSettingsPngKey), 1u) << "the preset is embedded";
  EXPECT_GT(render->checkpointsSaved(), 0) << "it checkpointed on the way";
  EXPECT_FALSE(render->hasCheckpoint());
  EXPECT_FALSE(QFileInfo::exists(render->folder()));
}

TEST(FinalRender, ACancelKeepsTheCheckpointAndTheNextStartResumesIt) {
  const QString output = scratchPath(QStringLiteral("resumed.png"));
  int stoppedAt = 0;
  {
    auto window = tunedWindow(200);
    ASSERT_NO_FATAL_FAILURE(leaveCheckpoint(*window, output));
    stoppedAt = window->finalRender()->loadSaved().job.resumeFrom->iteration;
    EXPECT_GE(stoppedAt, 4);
    EXPECT_FALSE(QFileInfo::exists(output));
    EXPECT_TRUE(window->messageBar()->text().contains(QStringLiteral("resume")));
  }

  // The next start: another window with no images, the same model.
  MainWindow window;
  window.setModel(makeTinyModel(), kModelId);
  QString asked;
  window.setQuestion([&](const QString&, const QString& text, const QString& yes, const QString&) {
    asked = text;
    return yes == QStringLiteral("Resume");
  });
  FinalRender* render = window.finalRender();
  int firstStep = 0;
  QObject::connect(render->controller(), &RenderController::stepsReported, render,
                   [&](const QList<StepReport>& reports) {
                     if (firstStep == 0 && !reports.isEmpty()) firstStep = reports.front().iteration;
                   });
  QSignalSpy finished(render, &FinalRender::finished);
  window.offerFinalRenderResume();
  EXPECT_TRUE(asked.contains(QString::number(stoppedAt))) << asked.toStdString();
  ASSERT_TRUE(waitUntil([&] { return !finished.isEmpty(); }, 60000));
  EXPECT_FALSE(finished.first().at(0).toBool());
  EXPECT_EQ(firstStep, stoppedAt + 1) << "it continued, not started again";
  EXPECT_EQ(render->resumedFrom(), stoppedAt);
  EXPECT_EQ(render->controller()->lastReport().iteration, render->controller()->lastReport().iterations);
  const cv::Mat written = loadImage(output.toStdString());
  EXPECT_EQ(written.cols, 96) << "its own settings, not the new window's";
  EXPECT_EQ(written.rows, 72);
  EXPECT_FALSE(render->hasCheckpoint());
}

TEST(FinalRender, ClosingTheWindowMidRenderLeavesAResumableCheckpoint) {
  QString folder;
  {
    auto window = tunedWindow(5000);
    FinalRender* render = window->finalRender();
    folder = render->folder();
    ASSERT_TRUE(window->startFinalRender(96, scratchPath(QStringLiteral("closed.png"))));
    ASSERT_TRUE(waitUntil([&] { return render->checkpointsSaved() >= 2; }, 60000));
    EXPECT_TRUE(render->isRunning());
  }  // the window goes with the render still running: the engine is cancelled and joined
  FinalRender again(folder);
  ASSERT_TRUE(again.hasCheckpoint());
  const FinalRender::Saved saved = again.loadSaved();
  EXPECT_GE(saved.job.resumeFrom->iteration, 4);
  EXPECT_EQ(saved.description.output, scratchPath(QStringLiteral("closed.png")));
  EXPECT_EQ(saved.job.content.cols, 64) << "its own copy of the content";
  again.discard();
}

TEST(FinalRender, DiscardAtTheOfferRemovesTheCheckpoint) {
  {
    auto window = tunedWindow(200);
    ASSERT_NO_FATAL_FAILURE(leaveCheckpoint(*window, scratchPath(QStringLiteral("discarded.png"))));
  }
  MainWindow window;
  window.setQuestion([](const QString&, const QString&, const QString&, const QString&) { return false; });
  window.offerFinalRenderResume();
  EXPECT_FALSE(window.finalRender()->isRunning());
  EXPECT_FALSE(window.finalRender()->hasCheckpoint());
}

TEST(FinalRender, ResumeWaitsForItsModelAndKeepsTheCheckpointWhenItCannotLoad) {
  {
    auto window = tunedWindow(200);
    ASSERT_NO_FATAL_FAILURE(leaveCheckpoint(*window, scratchPath(QStringLiteral("nomodel.png"))));
  }
  MainWindow window;  // no model: the checkpoint's (a file that is gone) must load first
  window.setQuestion([](const QString&, const QString&, const QString&, const QString&) { return true; });
  window.offerFinalRenderResume();
  ASSERT_TRUE(waitUntil([&] { return window.messageBar()->text().contains(QStringLiteral("did not load")); }))
      << window.messageBar()->text().toStdString();
  EXPECT_FALSE(window.finalRender()->isRunning());
  EXPECT_TRUE(window.finalRender()->hasCheckpoint());
}

TEST(FinalRender, DamagedCheckpointIsRefusedWithAMessage) {
  QString checkpoint;
  {
    auto window = tunedWindow(200);
    ASSERT_NO_FATAL_FAILURE(leaveCheckpoint(*window, scratchPath(QStringLiteral("damaged.png"))));
    checkpoint = window->finalRender()->checkpointPath();
  }
  QFile file(checkpoint);
  ASSERT_TRUE(file.open(QIODevice::ReadWrite));
  file.seek(file.size() / 2);
  const char byte = file.peek(1).at(0);
  file.write(QByteArray(1, char(byte ^ 0x5a)));
  file.close();

  MainWindow window;
  window.setModel(makeTinyModel(), kModelId);
  QString asked, yesButton;
  window.setQuestion([&](const QString&, const QString& text, const QString& yes, const QString&) {
    asked = text;
    yesButton = yes;
    return false;  // keep it
  });
  window.offerFinalRenderResume();
  EXPECT_EQ(yesButton, QStringLiteral("Discard"));
  EXPECT_TRUE(window.messageBar()->text().contains(QStringLiteral("cannot be resumed")))
      << window.messageBar()->text().toStdString();
  EXPECT_TRUE(asked.contains(QStringLiteral("damaged"))) << asked.toStdString();
  EXPECT_FALSE(asked.contains(QStringLiteral("--resume")))
      << "no CLI advice in the studio: " << asked.toStdString();
  EXPECT_FALSE(window.finalRender()->isRunning());
  EXPECT_TRUE(window.finalRender()->hasCheckpoint()) << "kept, as the user asked";

  window.setQuestion([](const QString&, const QString&, const QString&, const QString&) { return true; });
  window.offerFinalRenderResume();
  EXPECT_FALSE(window.finalRender()->hasCheckpoint()) << "discarded on request";
}

TEST(FinalRender, ChangedInputIsRefused) {
  QString folder;
  {
    auto window = tunedWindow(200);
    ASSERT_NO_FATAL_FAILURE(leaveCheckpoint(*window, scratchPath(QStringLiteral("changed.png"))));
    folder = window->finalRender()->folder();
  }
  QFile content(QDir(folder).filePath(QStringLiteral("content.rgbf32")));
  ASSERT_TRUE(content.open(QIODevice::ReadWrite));
  content.seek(content.size() - 4);
  content.write(QByteArray(4, '\x3f'));
  content.close();

  MainWindow window;
  window.setModel(makeTinyModel(), kModelId);
  window.setQuestion([](const QString&, const QString&, const QString&, const QString&) { return false; });
  window.offerFinalRenderResume();
  EXPECT_TRUE(window.messageBar()->text().contains(QStringLiteral("does not match")))
      << window.messageBar()->text().toStdString();
  EXPECT_FALSE(window.finalRender()->isRunning());
}

}  // namespace
}  // namespace impasto
