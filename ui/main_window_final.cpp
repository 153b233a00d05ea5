// MainWindow's final render: the menu action, the dialog, the progress
// window, and the offer to resume a checkpoint at start-up. Apart from
// main_window.cpp so the window's layout and its long renders stay readable.
#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QStatusBar>
#include <memory>

#include "core/io/image_io.h"
#include "core/util/error.h"
#include "ui/final_render.h"
#include "ui/final_render_dialog.h"
#include "ui/main_window.h"
#include "ui/message_bar.h"
#include "ui/model_catalog.h"
#include "ui/parameter_panel.h"
#include "ui/portrait_watch.h"
#include "ui/render_controller.h"

namespace impasto {

void MainWindow::buildFinalRender() {
  finalRender_ = new FinalRender(FinalRender::defaultFolder(), this);
  finalAction_ = new QAction(tr("&Final render…"), this);
  finalAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
  finalAction_->setToolTip(tr("Render the current settings at print size to a file, in the background"));
  connect(finalAction_, &QAction::triggered, this, [this] { showFinalRenderDialog(); });
  addAction(finalAction_);
  connect(finalRender_->controller(), &RenderController::runningChanged, this, &MainWindow::updateActions);
  connect(finalRender_, &FinalRender::finished, this, &MainWindow::onFinalRenderFinished);
  connect(finalRender_, &FinalRender::failed, this, &MainWindow::showError);
}

bool MainWindow::ask(const QString& title, const QString& text, const QString& yes, const QString& no) {
  if (ask_) return ask_(title, text, yes, no);
  QMessageBox box(QMessageBox::Question, title, text, QMessageBox::NoButton, this);
  QPushButton* yesButton = box.addButton(yes, QMessageBox::AcceptRole);
  box.addButton(no, QMessageBox::RejectRole);
  box.setDefaultButton(yesButton);
  box.exec();
  return box.clickedButton() == static_cast<QAbstractButton*>(yesButton);
}

void MainWindow::showFinalRenderDialog() {
  if (finalRender_->isRunning()) {
    showError(tr("A final render is running already: cancel it first."));
    return;
  }
  RenderJob job;
  try {
    job = session_->buildJob(panel_->settings(), panel_->pooling());
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    return;
  }
  QString folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
  if (!QFileInfo(folder).isDir()) folder = QDir::homePath();
  const QString name = content().name.isEmpty() ? tr("final") : QFileInfo(content().name).completeBaseName();
  FinalRenderDialog dialog(std::move(job), QDir(folder).filePath(name + QStringLiteral("-final.png")), this);
  if (dialog.exec() != QDialog::Accepted) return;
  startFinalRender(dialog.longestSide(), dialog.output());
}

bool MainWindow::startFinalRender(int longestSide, const QString& output) {
  if (finalRender_->isRunning()) {
    showError(tr("A final render is running already: cancel it first."));
    return false;
  }
  RenderSettings settings = panel_->settings();
  settings.size = longestSide;
  RenderJob job;
  FinalRender::Description description;
  QString memory;
  try {
    if (!isSupportedOutputExtension(output.toStdString()))
      throw Error(ErrorKind::Usage,
                  tr("Cannot render to %1: use a .png, .jpg or .tif name.").arg(output).toStdString());
    job = session_->buildJob(settings, panel_->pooling());
    const cv::Size size = sizeForLongest(job.content.size(), job.settings.size);
    memory =
        FinalRenderDialog::planText(planMemory(*job.model, job.settings, size.width, size.height, 0, 0.0));
    description.output = output;
    description.modelId = session_->modelId();
    description.preset = session_->preset(job.settings, panel_->pooling());
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    return false;
  }
  // The final render has the engine to itself: the preview stops first.
  auto begin = [this, job = std::move(job), description, memory]() mutable {
    try {
      finalRender_->start(std::move(job), description);
    } catch (const std::exception& e) {
      showError(QString::fromStdString(e.what()));
      return;
    }
    auto* progress = new FinalRenderProgress(finalRender_, memory, this);
    progress->show();
    statusBar()->showMessage(tr("Final render to %1…").arg(QDir::toNativeSeparators(description.output)));
  };
  if (session_->isRendering()) {
    connect(
        session_, &StudioSession::runningChanged, this,
        [begin](bool running) mutable {
          if (!running) begin();
        },
        Qt::SingleShotConnection);
    session_->stop();
  } else {
    begin();
  }
  return true;
}

void MainWindow::onFinalRenderFinished(bool cancelled, const QString& output) {
  const QString path = QDir::toNativeSeparators(output);
  statusBar()->clearMessage();
  if (cancelled && finalRender_->hasCheckpoint())
    messages_->showMessage(MessageBar::Level::Info,
                           tr("The final render to %1 was cancelled. Its checkpoint is kept: resume it now, "
                              "or Impasto offers it at the next start.")
                               .arg(path),
                           tr("Resume now"), [this] { resumeSavedFinalRender(); });
  else if (cancelled)
    messages_->showMessage(MessageBar::Level::Info,
                           tr("The final render to %1 was cancelled before its first checkpoint.").arg(path));
  else
    messages_->showMessage(MessageBar::Level::Info, tr("The final render is written to %1.").arg(path));
  if (cancelled && !finalRender_->hasCheckpoint()) finalRender_->discard();
  updateActions();
}

void MainWindow::offerFinalRenderResume() {
  if (finalRender_->isRunning() || !finalRender_->hasCheckpoint()) return;
  FinalRender::Saved saved;
  try {
    saved = finalRender_->loadSaved();
  } catch (const std::exception& e) {
    const QString problem = tr("The checkpoint of an unfinished final render cannot be resumed: %1")
                                .arg(QString::fromStdString(e.what()));
    showError(problem);
    if (ask(tr("Damaged checkpoint"), problem + tr("\n\nDiscard it?"), tr("Discard"), tr("Keep")))
      finalRender_->discard();
    return;
  }
  const RenderState& state = *saved.job.resumeFrom;
  const QString text = tr("A final render to %1 (%2 px) stopped at step %3, in pyramid level %4. Resume it?")
                           .arg(QDir::toNativeSeparators(saved.description.output))
                           .arg(saved.job.settings.size)
                           .arg(state.iteration)
                           .arg(state.level + 1);
  if (!ask(tr("Resume final render"), text, tr("Resume"), tr("Discard"))) {
    finalRender_->discard();
    return;
  }
  resumeSavedFinalRender();
}

void MainWindow::resumeSavedFinalRender() {
  FinalRender::Saved saved;
  try {
    saved = finalRender_->loadSaved();
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    return;
  }
  const QString modelId = saved.description.modelId;
  auto begin = [this] {
    FinalRender::Saved again;
    QString memory;
    try {
      again = finalRender_->loadSaved();
      const ModelPtr model = session_->model();
      RenderSettings settings = resolveSettings(again.job.settings, *model);
      const cv::Size size = sizeForLongest(again.job.content.size(), settings.size);
      memory = FinalRenderDialog::planText(planMemory(*model, settings, size.width, size.height, 0, 0.0));
      session_->stop();
      again.job.faceModels = portrait_->models();  // γ of the saved settings needs them
      finalRender_->resume(std::move(again), model);
    } catch (const std::exception& e) {
      showError(tr("Could not resume the final render: %1").arg(QString::fromStdString(e.what())));
      return;
    }
    (new FinalRenderProgress(finalRender_, memory, this))->show();
    statusBar()->showMessage(tr("Resuming the final render…"));
  };
  if (session_->model() && !session_->isModelLoading() && session_->modelId() == modelId) {
    begin();
    return;
  }
  // Another model (the last session's) may finish loading first; ours follows it.
  auto connection = std::make_shared<QMetaObject::Connection>();
  *connection =
      connect(session_, &StudioSession::modelReady, this, [this, begin, modelId, connection](bool ok) {
        if (ok && session_->modelId() != modelId) return;
        disconnect(*connection);
        if (ok)
          begin();
        else
          showError(tr("The final render needs the model %1, which did not load. Its checkpoint is kept.")
                        .arg(modelId));
      });
  session_->useModel(modelId);
}

}  // namespace impasto
