#pragma once

#include <memory>
#include <vector>

#include <QMainWindow>
#include <QPointer>

#include "core/models/model.h"
#include "core/engine/render.h"
#include "ui/loaded_image.h"
#include "ui/preset.h"
#include "ui/rate_meter.h"
#include "ui/recent_files.h"

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QSplitter;

namespace impasto {

class BackgroundTask;
class ImageDropZone;
class LayerViewerDialog;
class LossChart;
class MessageBar;
class ModelCatalog;
class ModelManagerDialog;
class ParameterPanel;
class PreviewWidget;
class RenderController;
class StyleList;

// The studio: content and style drop zones on the left, the live preview and
// the loss chart in the middle, the parameters on the right, a status bar with
// progress, steps per second and time left. Errors appear in a message bar,
// never as a crash; nothing the user made is overwritten without asking.
class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loading. Each returns false after showing what went wrong in the window.
  bool loadContent(const QString& path);
  bool addStyle(const QString& path);
  bool setContentData(const QImage& image, const QString& name);
  bool addStyleData(const QImage& image, const QString& name);
  // Command line and "open with": the first image is the content, the rest styles.
  void openImages(const QStringList& paths);

  // The model: loaded on a worker thread; modelReady follows.
  void useModel(const QString& id);
  // "--model NAME|FILE"
  void useModelArgument(const QString& nameOrPath);
  // Installs an already loaded model (tests, and the end of useModel).
  void setModel(ModelPtr model, const QString& id);
  ModelPtr model() const { return model_; }
  bool isModelLoading() const;

  // Rendering.
  bool startRender();
  // Starts as soon as the model is loaded (command line --start).
  void startWhenReady();
  void setPaused(bool paused);
  void stopRender();
  bool isRendering() const;

  // Export. Overwrite::Ask asks in a dialog; Never refuses with a message.
  enum class Overwrite { Ask, Never, Yes };
  bool exportImage(const QString& path, Overwrite overwrite = Overwrite::Ask);
  bool canExport() const;

  // Presets.
  Preset currentPreset() const;
  void applyPreset(const Preset& preset);
  bool savePreset(const QString& path);
  bool loadPreset(const QString& path);

  // Parts, for tests and the command line.
  RenderController* controller() const { return controller_; }
  ParameterPanel* parameters() const { return panel_; }
  LossChart* lossChart() const { return chart_; }
  PreviewWidget* preview() const { return preview_; }
  ImageDropZone* contentZone() const { return contentZone_; }
  StyleList* styleList() const { return styles_; }
  MessageBar* messageBar() const { return messages_; }
  QProgressBar* progressBar() const { return progress_; }
  QString rateText() const;
  const LoadedImage& content() const { return content_; }
  LayerViewerDialog* showLayerViewer();

 signals:
  void modelReady(bool ok);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildWidgets();
  void buildActions();
  void buildMenus();
  void connectController();
  void restoreSettings();
  void saveSettings() const;
  void refreshModelChoices();
  void showNoModelAdvice();
  void showError(const QString& text);
  void showError(const std::exception& e);
  void onModelLoaded(const QString& id, ModelPtr model, const QString& error);
  void onWeightsEdited();
  void onRunningChanged(bool running);
  void onSteps(const QList<StepReport>& reports);
  void onFinished(bool cancelled);
  void updateActions();
  void updateRateLabels();
  void updateTitle();
  void openContentDialog();
  void addStyleDialog();
  void pasteContent();
  void pasteStyle();
  void exportDialog();
  void savePresetDialog();
  void loadPresetDialog();
  void openModelFileDialog();
  void showModelManager();
  void openRecent(RecentFiles::Role role, const QString& path);
  QString imageFilter() const;
  cv::Mat exportPixels() const;
  QString modelArgumentFor(const QString& id) const;

  std::unique_ptr<ModelCatalog> catalog_;
  RenderController* controller_ = nullptr;
  BackgroundTask* modelLoader_ = nullptr;
  RecentFiles* recent_ = nullptr;

  MessageBar* messages_ = nullptr;
  ImageDropZone* contentZone_ = nullptr;
  StyleList* styles_ = nullptr;
  PreviewWidget* preview_ = nullptr;
  LossChart* chart_ = nullptr;
  ParameterPanel* panel_ = nullptr;
  QSplitter* mainSplitter_ = nullptr;
  QSplitter* centreSplitter_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* stepLabel_ = nullptr;
  QLabel* rateLabel_ = nullptr;
  QLabel* etaLabel_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QMenu* presetsMenu_ = nullptr;
  QPointer<ModelManagerDialog> modelManager_;
  QPointer<LayerViewerDialog> layerViewer_;

  QAction* startAction_ = nullptr;
  QAction* pauseAction_ = nullptr;
  QAction* stopAction_ = nullptr;
  QAction* exportAction_ = nullptr;
  QAction* splitAction_ = nullptr;

  LoadedImage content_;
  ModelPtr model_;
  QString modelId_;
  QString loadingModelId_;
  bool startWhenReady_ = false;
  RateMeter rate_;
  double renderStart_ = 0.0;
  // Weights submitted during the render, by iteration: exported with the
  // settings so a live-tuned render can be reproduced.
  std::vector<std::pair<int, LossWeights>> weightHistory_;
  Preset renderPreset_;  // the settings the current or last render started with
};

}  // namespace impasto
