#pragma once

#include <QMainWindow>
#include <QPointer>
#include <functional>

#include "core/engine/render.h"
#include "core/models/model.h"
#include "ui/loaded_image.h"
#include "ui/preset.h"
#include "ui/recent_files.h"
#include "ui/studio_session.h"

class QAction;
class QMenu;
class QProgressBar;
class QSplitter;

namespace impasto {

class FinalRender;
class ImageDropZone;
class InputsPanel;
class LayerViewerDialog;
class LossChart;
class MessageBar;
class ModelManagerDialog;
class ParameterPanel;
class PortraitWatch;
class PreviewWidget;
class RenderController;
class RenderStatus;
class StyleList;

// The studio: content and style drop zones on the left, the live preview and
// the loss chart in the middle, the parameters on the right, a status bar with
// progress, steps per second and time left. Errors appear in a message bar,
// never as a crash; nothing the user made is overwritten without asking.
// The document (images, model, render, results) is the StudioSession; the
// window lays it out, offers actions and dialogs, and shows what it reports.
class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loading. Each returns false after showing what went wrong in the window.
  bool loadContent(const QString& path);
  bool addStyle(const QString& path);
  bool setContentData(const QImage& image, const QString& name) {
    return session_->setContentData(image, name);
  }
  bool addStyleData(const QImage& image, const QString& name) { return session_->addStyleData(image, name); }
  // Command line and "open with": the first image is the content, the rest styles.
  void openImages(const QStringList& paths);

  // The model: loaded on a worker thread; modelReady follows.
  void useModel(const QString& id) { session_->useModel(id); }
  // "--model NAME|FILE"
  void useModelArgument(const QString& nameOrPath);
  // Installs an already loaded model (tests, and the end of useModel).
  void setModel(ModelPtr model, const QString& id) { session_->setModel(std::move(model), id); }
  ModelPtr model() const { return session_->model(); }
  bool isModelLoading() const { return session_->isModelLoading(); }

  // Rendering, with the parameter panel's settings.
  bool startRender();
  // Starts as soon as the model is loaded (command line --start).
  void startWhenReady();
  void setPaused(bool paused) { session_->setPaused(paused); }
  void stopRender() { session_->stop(); }
  bool isRendering() const { return session_->isRendering(); }

  // Export. Overwrite::Ask asks in a dialog; Never refuses with a message.
  enum class Overwrite { Ask, Never, Yes };
  bool exportImage(const QString& path, Overwrite overwrite = Overwrite::Ask);
  bool canExport() const { return session_->hasOutput(); }

  // Presets.
  Preset currentPreset() const;
  void applyPreset(const Preset& preset);
  bool savePreset(const QString& path);
  bool loadPreset(const QString& path);

  // Parts, for tests and the command line.
  StudioSession* session() const { return session_; }
  RenderController* controller() const { return session_->controller(); }
  ParameterPanel* parameters() const { return panel_; }
  LossChart* lossChart() const { return chart_; }
  PreviewWidget* preview() const { return preview_; }
  PortraitWatch* portraitWatch() const { return portrait_; }
  ImageDropZone* contentZone() const { return contentZone_; }
  StyleList* styleList() const { return styles_; }
  MessageBar* messageBar() const { return messages_; }
  QProgressBar* progressBar() const;
  QString rateText() const;
  const LoadedImage& content() const { return session_->content(); }
  LayerViewerDialog* showLayerViewer();

  // The final render (Render → Final render…), in main_window_final.cpp: the
  // current settings at print size, in the background with a checkpoint.
  void showFinalRenderDialog();
  // Stops the preview and starts it; false after showing why not.
  bool startFinalRender(int longestSide, const QString& output);
  // At start-up: when an unfinished final render left a checkpoint, offers to
  // resume or discard it (a damaged one is reported, and discarded on request).
  void offerFinalRenderResume();
  FinalRender* finalRender() const { return finalRender_; }
  // How the window asks a yes/no question: a message box, or a test's answer.
  using Question =
      std::function<bool(const QString& title, const QString& text, const QString& yes, const QString& no)>;
  void setQuestion(Question ask) { ask_ = std::move(ask); }

 signals:
  void modelReady(bool ok);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildWidgets();
  void buildActions();
  void buildMenus();
  void connectSession();
  void restoreSettings();
  void saveSettings() const;
  void refreshModelChoices();
  void showNoModelAdvice();
  void showError(const QString& text);
  void showModelProblem(const QString& text);
  void onContentChanged();
  void onModelLoading();
  void onModelChanged();
  void onFinished(bool cancelled);
  void buildPortraitGuard();
  // The face models, the content's faces and the last measure, into the panel,
  // the preview (boxes, badge) and the session (renders may use γ).
  void showPortraitState();
  void showPortraitMeasure();
  void updateActions();
  void openContentDialog();
  void addStyleDialog();
  void paste(bool asStyle);
  void exportDialog();
  void openModelFileDialog();
  void showModelManager();
  void openRecent(RecentFiles::Role role, const QString& path);
  void rememberImage(RecentFiles::Role role, const QString& path);
  void buildFinalRender();
  void resumeSavedFinalRender();
  void onFinalRenderFinished(bool cancelled, const QString& output);
  bool ask(const QString& title, const QString& text, const QString& yes, const QString& no);

  StudioSession* session_ = nullptr;
  RecentFiles* recent_ = nullptr;

  MessageBar* messages_ = nullptr;
  InputsPanel* inputs_ = nullptr;
  ImageDropZone* contentZone_ = nullptr;
  StyleList* styles_ = nullptr;
  PreviewWidget* preview_ = nullptr;
  PortraitWatch* portrait_ = nullptr;
  bool startWhenFaceModelsLoad_ = false;  // a Keep identity render waits for them
  LossChart* chart_ = nullptr;
  ParameterPanel* panel_ = nullptr;
  QSplitter* mainSplitter_ = nullptr;
  QSplitter* centreSplitter_ = nullptr;
  RenderStatus* status_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QMenu* presetsMenu_ = nullptr;
  QPointer<ModelManagerDialog> modelManager_;
  QPointer<LayerViewerDialog> layerViewer_;

  QAction* startAction_ = nullptr;
  QAction* pauseAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QAction* exportAction_ = nullptr;
  QAction* splitAction_ = nullptr;
  QAction* finalAction_ = nullptr;
  FinalRender* finalRender_ = nullptr;
  Question ask_;
};

}  // namespace impasto
