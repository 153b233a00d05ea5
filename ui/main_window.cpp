#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QImageReader>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "core/util/version.h"
#include "core/util/error.h"
#include "core/io/image_io.h"
#include "ui/background_task.h"
#include "ui/image_convert.h"
#include "ui/image_drop_zone.h"
#include "ui/layer_viewer_dialog.h"
#include "ui/loss_chart.h"
#include "ui/message_bar.h"
#include "ui/model_catalog.h"
#include "ui/model_manager_dialog.h"
#include "ui/parameter_panel.h"
#include "ui/preview_widget.h"
#include "ui/render_controller.h"
#include "ui/style_list.h"

// The resources live in this static library: without a reference the linker
// would drop them from the executable. Q_INIT_RESOURCE must be called outside
// any namespace.
static void initImpastoResources() { Q_INIT_RESOURCE(impasto); }

namespace impasto {

namespace {

double monotonicSeconds() {
  static QElapsedTimer timer;
  if (!timer.isValid()) timer.start();
  return double(timer.nsecsElapsed()) * 1e-9;
}

// The preview compares against the content at this size at most: a 24 MP
// photo would make every repaint slow for no visible gain.
constexpr int kBeforeImageSide = 2048;

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), catalog_(std::make_unique<ModelCatalog>()), controller_(new RenderController(this)),
      modelLoader_(new BackgroundTask(this)), recent_(new RecentFiles(this)) {
  initImpastoResources();
  setWindowTitle(QStringLiteral("Impasto"));
  setWindowIcon(QIcon(QStringLiteral(":/icons/impasto.png")));
  buildWidgets();
  buildActions();
  buildMenus();
  connectController();
  restoreSettings();
  refreshModelChoices();
  updateActions();

  if (!catalog_->anyUsable()) showNoModelAdvice();
  // Deferred: a model named on the command line, asked for right after
  // construction, must win over the one from the last session.
  QTimer::singleShot(0, this, [this] {
    if (model_ || !loadingModelId_.isEmpty()) return;
    const QString preferred = QSettings().value(QStringLiteral("model")).toString();
    const QString first =
        catalog_->defaultChoice(preferred.isEmpty() ? QString::fromLatin1(kDefaultModelName) : preferred);
    if (!first.isEmpty()) useModel(first);
  });
}

MainWindow::~MainWindow() {
  // Children are deleted after members, but these threads use catalog_ (a
  // member): join them first. The controller cancels and joins the render.
  delete modelManager_;
  delete layerViewer_;
  delete modelLoader_;
  delete controller_;
}

// --- construction ---------------------------------------------------------

void MainWindow::buildWidgets() {
  messages_ = new MessageBar(this);
  contentZone_ = new ImageDropZone(tr("Drop a content photo here,\npaste it (Ctrl+V)\nor click to choose"), this);
  styles_ = new StyleList(this);
  preview_ = new PreviewWidget(this);
  preview_->setPlaceholderText(
      tr("1. Drop a photo on Content and a painting on Style (left).\n2. Check the model on the right.\n"
         "3. Press Start (Ctrl+Return) and tune α, β and λ while it paints."));
  chart_ = new LossChart(this);
  panel_ = new ParameterPanel(this);

  auto* inputs = new QWidget(this);
  auto* inputsLayout = new QVBoxLayout(inputs);
  inputsLayout->setContentsMargins(4, 4, 4, 4);
  auto* contentGroup = new QGroupBox(tr("Content"), inputs);
  auto* contentLayout = new QVBoxLayout(contentGroup);
  contentLayout->addWidget(contentZone_);
  contentZone_->setMinimumHeight(190);
  auto* styleGroup = new QGroupBox(tr("Style"), inputs);
  auto* styleLayout = new QVBoxLayout(styleGroup);
  styleLayout->addWidget(styles_);
  inputsLayout->addWidget(contentGroup);
  inputsLayout->addWidget(styleGroup);
  inputsLayout->addStretch(1);
  auto* inputsScroll = new QScrollArea(this);
  inputsScroll->setWidget(inputs);
  inputsScroll->setWidgetResizable(true);
  inputsScroll->setMinimumWidth(220);

  auto* panelScroll = new QScrollArea(this);
  panelScroll->setWidget(panel_);
  panelScroll->setWidgetResizable(true);
  panelScroll->setMinimumWidth(300);

  centreSplitter_ = new QSplitter(Qt::Vertical, this);
  centreSplitter_->addWidget(preview_);
  centreSplitter_->addWidget(chart_);
  centreSplitter_->setStretchFactor(0, 3);
  centreSplitter_->setStretchFactor(1, 1);
  centreSplitter_->setSizes({600, 260});

  mainSplitter_ = new QSplitter(Qt::Horizontal, this);
  mainSplitter_->addWidget(inputsScroll);
  mainSplitter_->addWidget(centreSplitter_);
  mainSplitter_->addWidget(panelScroll);
  mainSplitter_->setStretchFactor(0, 0);
  mainSplitter_->setStretchFactor(1, 1);
  mainSplitter_->setStretchFactor(2, 0);
  mainSplitter_->setSizes({250, 800, 360});

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(messages_);
  layout->addWidget(mainSplitter_, 1);
  setCentralWidget(central);

  stepLabel_ = new QLabel(this);
  rateLabel_ = new QLabel(this);
  etaLabel_ = new QLabel(this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(260);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  statusBar()->addPermanentWidget(stepLabel_);
  statusBar()->addPermanentWidget(rateLabel_);
  statusBar()->addPermanentWidget(etaLabel_);
  statusBar()->addPermanentWidget(progress_);

  connect(contentZone_, &ImageDropZone::filesDropped, this, [this](const QStringList& paths) {
    if (!paths.isEmpty()) loadContent(paths.first());
  });
  connect(contentZone_, &ImageDropZone::imageDropped, this,
          [this](const QImage& image) { setContentData(image, tr("dropped image")); });
  connect(contentZone_, &ImageDropZone::browseRequested, this, &MainWindow::openContentDialog);
  ImageDropZone* styleZone = styles_->dropZone();
  connect(styleZone, &ImageDropZone::filesDropped, this, [this](const QStringList& paths) {
    for (const QString& path : paths)
      if (!addStyle(path)) break;
  });
  connect(styleZone, &ImageDropZone::imageDropped, this,
          [this](const QImage& image) { addStyleData(image, tr("dropped image")); });
  connect(styleZone, &ImageDropZone::browseRequested, this, &MainWindow::addStyleDialog);
  connect(styles_, &StyleList::changed, this, &MainWindow::updateActions);

  connect(panel_, &ParameterPanel::weightsEdited, this, &MainWindow::onWeightsEdited);
  connect(panel_, &ParameterPanel::modelChosen, this, &MainWindow::useModel);
  connect(panel_, &ParameterPanel::manageModelsRequested, this, &MainWindow::showModelManager);
  connect(modelLoader_, &BackgroundTask::idle, this, &MainWindow::updateActions);
  connect(recent_, &RecentFiles::openRequested, this, &MainWindow::openRecent);
}

void MainWindow::buildActions() {
  auto make = [this](const QString& text, const QKeySequence& key, auto slot) {
    auto* action = new QAction(text, this);
    if (!key.isEmpty()) action->setShortcut(key);
    action->setShortcutContext(Qt::WindowShortcut);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    return action;
  };
  startAction_ = make(tr("&Start"), QKeySequence(Qt::CTRL | Qt::Key_Return), [this] { startRender(); });
  startAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
  startAction_->setToolTip(tr("Start rendering (Ctrl+Return)"));
  pauseAction_ = make(tr("&Pause"), QKeySequence(Qt::CTRL | Qt::Key_P), [this] { setPaused(!controller_->isPaused()); });
  pauseAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
  pauseAction_->setToolTip(tr("Pause or resume (Ctrl+P)"));
  stopAction_ = make(tr("S&top"), QKeySequence(Qt::Key_Escape), [this] { stopRender(); });
  stopAction_->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
  stopAction_->setToolTip(tr("Stop after the current step (Esc)"));
  exportAction_ = make(tr("&Export…"), QKeySequence(Qt::CTRL | Qt::Key_E), [this] { exportDialog(); });
  exportAction_->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  exportAction_->setToolTip(tr("Export the render as PNG, JPEG or TIFF (Ctrl+E)"));
  splitAction_ = make(tr("&Before/after split"), QKeySequence(Qt::CTRL | Qt::Key_B), [this] {
    preview_->setSplit(splitAction_->isChecked());
  });
  splitAction_->setCheckable(true);
  splitAction_->setToolTip(tr("Compare with the content image: drag the divider (Ctrl+B)"));
  connect(preview_, &PreviewWidget::splitChanged, splitAction_, &QAction::setChecked);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  auto add = [this](QMenu* menu, const QString& text, const QKeySequence& key, auto slot) {
    QAction* action = menu->addAction(text);
    if (!key.isEmpty()) action->setShortcut(key);
    connect(action, &QAction::triggered, this, slot);
    return action;
  };
  add(file, tr("&Open content image…"), QKeySequence::Open, [this] { openContentDialog(); });
  add(file, tr("&Add style image…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), [this] { addStyleDialog(); });
  add(file, tr("&Paste as content"), QKeySequence::Paste, [this] { pasteContent(); });
  add(file, tr("Paste as st&yle"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V), [this] { pasteStyle(); });
  recentMenu_ = file->addMenu(tr("Open &recent"));
  connect(recentMenu_, &QMenu::aboutToShow, this, [this] { recent_->fillMenu(recentMenu_); });
  file->addSeparator();
  file->addAction(exportAction_);
  file->addSeparator();
  add(file, tr("&Load preset…"), QKeySequence(Qt::CTRL | Qt::Key_L), [this] { loadPresetDialog(); });
  add(file, tr("&Save preset…"), QKeySequence::Save, [this] { savePresetDialog(); });
  presetsMenu_ = file->addMenu(tr("&Built-in presets"));
  for (const QFileInfo& info : QDir(QStringLiteral(":/presets")).entryInfoList({QStringLiteral("*.json")}, QDir::Files)) {
    const QString path = info.filePath();
    QAction* action = presetsMenu_->addAction(info.completeBaseName().replace(QLatin1Char('-'), QLatin1Char(' ')));
    connect(action, &QAction::triggered, this, [this, path] { loadPreset(path); });
  }
  file->addSeparator();
  add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });

  QMenu* render = menuBar()->addMenu(tr("&Render"));
  render->addAction(startAction_);
  render->addAction(pauseAction_);
  render->addAction(stopAction_);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* fit = add(view, tr("&Fit to window"), QKeySequence(Qt::CTRL | Qt::Key_0), [this] { preview_->fitToWindow(); });
  QAction* actual = add(view, tr("&Actual size (1:1)"), QKeySequence(Qt::CTRL | Qt::Key_1), [this] { preview_->actualSize(); });
  QAction* zoomIn = add(view, tr("Zoom &in"), QKeySequence::ZoomIn, [this] { preview_->zoomIn(); });
  QAction* zoomOut = add(view, tr("Zoom &out"), QKeySequence::ZoomOut, [this] { preview_->zoomOut(); });
  view->addAction(splitAction_);
  view->addSeparator();
  add(view, tr("&Layer viewer…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L), [this] { showLayerViewer(); });

  QMenu* models = menuBar()->addMenu(tr("&Models"));
  add(models, tr("&Manage models…"), QKeySequence(Qt::CTRL | Qt::Key_M), [this] { showModelManager(); });
  add(models, tr("&Open model file…"), QKeySequence(), [this] { openModelFileDialog(); });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  add(help, tr("&About Impasto"), QKeySequence(), [this] {
    QMessageBox::about(this, tr("About Impasto"),
                       tr("<h3>Impasto %1</h3><p>Neural style transfer (Gatys et al.): "
                          "J(G) = α·J<sub>content</sub> + β·Σ λ<sub>l</sub>·J<sub>style</sub><sup>l</sup>, "
                          "minimised over the pixels of G.</p><p>Compute device: %2</p>")
                           .arg(QString::fromLatin1(version()), QString::fromStdString(computeDeviceName())));
  });

  QToolBar* tools = addToolBar(tr("Render"));
  tools->setObjectName(QStringLiteral("renderToolBar"));
  tools->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  tools->addAction(startAction_);
  tools->addAction(pauseAction_);
  tools->addAction(stopAction_);
  tools->addSeparator();
  tools->addAction(exportAction_);
  tools->addSeparator();
  tools->addAction(fit);
  tools->addAction(actual);
  tools->addAction(zoomIn);
  tools->addAction(zoomOut);
  tools->addAction(splitAction_);
}

void MainWindow::connectController() {
  connect(controller_, &RenderController::frameReady, this,
          [this](int, const QImage& frame) { preview_->setImage(frame); });
  connect(controller_, &RenderController::stepsReported, this, &MainWindow::onSteps);
  connect(controller_, &RenderController::runningChanged, this, &MainWindow::onRunningChanged);
  connect(controller_, &RenderController::pausedChanged, this, [this](bool paused) {
    rate_.reset();
    updateActions();
    statusBar()->showMessage(paused ? tr("Paused") : tr("Resumed"), 3000);
  });
  connect(controller_, &RenderController::finished, this, &MainWindow::onFinished);
  connect(controller_, &RenderController::failed, this, [this](const QString& message) {
    showError(message);
    updateActions();
  });
}

// --- settings --------------------------------------------------------------

void MainWindow::restoreSettings() {
  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1440, 900);
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  const QByteArray splitter = settings.value(QStringLiteral("window/splitter")).toByteArray();
  if (!splitter.isEmpty()) mainSplitter_->restoreState(splitter);
  const QByteArray centre = settings.value(QStringLiteral("window/centreSplitter")).toByteArray();
  if (!centre.isEmpty()) centreSplitter_->restoreState(centre);
  const QByteArray last = settings.value(QStringLiteral("lastPreset")).toByteArray();
  if (!last.isEmpty()) {
    Preset preset;
    try {
      applyPresetJson(last.toStdString(), preset, tr("(last session)").toStdString());
      panel_->setSettings(preset.settings);
      panel_->setPooling(preset.pooling);
    } catch (const std::exception&) {
      // A preset from an older version that no longer parses: start from defaults.
    }
  }
}

void MainWindow::saveSettings() const {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  settings.setValue(QStringLiteral("window/splitter"), mainSplitter_->saveState());
  settings.setValue(QStringLiteral("window/centreSplitter"), centreSplitter_->saveState());
  settings.setValue(QStringLiteral("lastPreset"), QByteArray::fromStdString(presetToJson(currentPreset())));
  if (!modelId_.isEmpty()) settings.setValue(QStringLiteral("model"), modelId_);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  // Stop asking the engine for more; the controller's destructor joins the thread.
  controller_->stop();
  event->accept();
}

// --- messages ----------------------------------------------------------------

void MainWindow::showError(const QString& text) {
  messages_->showMessage(MessageBar::Level::Error, text);
  statusBar()->showMessage(text, 8000);
}

void MainWindow::showError(const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  if (error && (error->kind() == ErrorKind::Model)) {
    messages_->showMessage(MessageBar::Level::Error, QString::fromStdString(e.what()), tr("Manage models…"),
                           [this] { showModelManager(); });
    return;
  }
  showError(QString::fromStdString(e.what()));
}

void MainWindow::showNoModelAdvice() {
  messages_->showMessage(
      MessageBar::Level::Info,
      tr("No model is installed yet. Impasto measures content and style with a pretrained network: open "
         "Manage models… to download VGG-19 (best quality) or Darknet Reference (1.6 MB, fast previews), "
         "or import a model file you already have (.onnx, .pth, model.json, .caffemodel)."),
      tr("Manage models…"), [this] { showModelManager(); });
  panel_->setModelState(tr("No model installed: use Manage models…"));
}

// --- images -------------------------------------------------------------------

QString MainWindow::imageFilter() const {
  return tr("Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;All files (*)");
}

bool MainWindow::loadContent(const QString& path) {
  try {
    LoadedImage image = loadImageFile(path);
    content_ = std::move(image);
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  contentZone_->setPreview(content_.thumbnail, QStringLiteral("%1\n%2").arg(content_.name, sizeText(content_.size())));
  preview_->setBeforeImage(toQImage(resizeToLongest(content_.rgb, std::min(kBeforeImageSide, std::max(content_.rgb.cols, content_.rgb.rows)))));
  recent_->add(RecentFiles::Role::Content, path);
  QSettings().setValue(QStringLiteral("dirs/images"), QFileInfo(path).absolutePath());
  messages_->dismiss();
  updateActions();
  updateTitle();
  return true;
}

bool MainWindow::setContentData(const QImage& data, const QString& name) {
  try {
    content_ = loadImageData(data, name);
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  contentZone_->setPreview(content_.thumbnail, QStringLiteral("%1\n%2").arg(content_.name, sizeText(content_.size())));
  preview_->setBeforeImage(toQImage(resizeToLongest(content_.rgb, std::min(kBeforeImageSide, std::max(content_.rgb.cols, content_.rgb.rows)))));
  updateActions();
  updateTitle();
  return true;
}

bool MainWindow::addStyle(const QString& path) {
  try {
    styles_->addImage(loadImageFile(path));
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  recent_->add(RecentFiles::Role::Style, path);
  QSettings().setValue(QStringLiteral("dirs/images"), QFileInfo(path).absolutePath());
  return true;
}

bool MainWindow::addStyleData(const QImage& data, const QString& name) {
  try {
    styles_->addImage(loadImageData(data, name));
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  return true;
}

void MainWindow::openImages(const QStringList& paths) {
  if (paths.isEmpty()) return;
  loadContent(paths.first());
  for (int i = 1; i < paths.size(); ++i) addStyle(paths[i]);
}

void MainWindow::openContentDialog() {
  const QString dir = QSettings().value(QStringLiteral("dirs/images")).toString();
  const QString path = QFileDialog::getOpenFileName(this, tr("Open content image"), dir, imageFilter());
  if (!path.isEmpty()) loadContent(path);
}

void MainWindow::addStyleDialog() {
  if (controller_->isRunning()) return;
  const QString dir = QSettings().value(QStringLiteral("dirs/images")).toString();
  const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Add style images"), dir, imageFilter());
  for (const QString& path : paths)
    if (!addStyle(path)) break;
}

void MainWindow::pasteContent() {
  // Ctrl+V lands here whichever zone has focus: respect the style zone's.
  if (styles_->dropZone()->hasFocus()) {
    pasteStyle();
    return;
  }
  const QMimeData* data = QApplication::clipboard()->mimeData();
  if (!ImageDropZone::canAccept(data)) {
    showError(tr("The clipboard holds no image or image file. Copy an image first."));
    return;
  }
  contentZone_->accept(data);
}

void MainWindow::pasteStyle() {
  if (controller_->isRunning()) return;
  const QMimeData* data = QApplication::clipboard()->mimeData();
  if (!ImageDropZone::canAccept(data)) {
    showError(tr("The clipboard holds no image or image file. Copy an image first."));
    return;
  }
  styles_->dropZone()->accept(data);
}

void MainWindow::openRecent(RecentFiles::Role role, const QString& path) {
  switch (role) {
    case RecentFiles::Role::Content: loadContent(path); break;
    case RecentFiles::Role::Style:
      if (!controller_->isRunning()) addStyle(path);
      break;
    case RecentFiles::Role::Preset: loadPreset(path); break;
  }
}

// --- models ---------------------------------------------------------------------

void MainWindow::refreshModelChoices() {
  try {
    panel_->setModelChoices(catalog_->choices(), loadingModelId_.isEmpty() ? modelId_ : loadingModelId_);
  } catch (const std::exception& e) {
    showError(e);
  }
}

bool MainWindow::isModelLoading() const { return modelLoader_->isBusy(); }

void MainWindow::useModelArgument(const QString& nameOrPath) {
  useModel(catalog_->idForArgument(nameOrPath));
  refreshModelChoices();
}

void MainWindow::useModel(const QString& id) {
  if (id.isEmpty() || controller_->isRunning()) return;
  loadingModelId_ = id;
  panel_->setModelState(tr("Loading…"));
  refreshModelChoices();
  updateActions();
  struct Outcome {
    ModelPtr model;
    QString error;
  };
  auto outcome = std::make_shared<Outcome>();
  const ModelCatalog* catalog = catalog_.get();
  modelLoader_->run(
      [catalog, id, outcome] {
        try {
          // Pooling is applied per render (withPooling is cheap); load the model as trained.
          outcome->model = catalog->load(id, Pooling::AsTrained);
        } catch (const std::exception& e) {
          outcome->error = QString::fromStdString(e.what());
        }
      },
      [this, id, outcome] { onModelLoaded(id, outcome->model, outcome->error); });
}

void MainWindow::onModelLoaded(const QString& id, ModelPtr model, const QString& error) {
  // The user picked another model while this one loaded: that one comes next.
  if (id != loadingModelId_) return;
  loadingModelId_.clear();
  if (!error.isEmpty() || !model) {
    const QString message = error.isEmpty() ? tr("The model could not be loaded.") : error;
    messages_->showMessage(MessageBar::Level::Error, message, tr("Manage models…"), [this] { showModelManager(); });
    panel_->setModelState(model_ ? tr("Still using %1").arg(QString::fromStdString(model_->manifest().name))
                                 : tr("No model loaded"));
    refreshModelChoices();
    startWhenReady_ = false;
    emit modelReady(false);
    updateActions();
    return;
  }
  setModel(std::move(model), id);
  emit modelReady(true);
  if (startWhenReady_) {
    startWhenReady_ = false;
    startRender();
  }
}

void MainWindow::setModel(ModelPtr model, const QString& id) {
  model_ = std::move(model);
  modelId_ = id;
  const ModelManifest& manifest = model_->manifest();
  RenderSettings defaults;
  defaults.weights.alpha = manifest.defaultAlpha.value_or(kDefaultAlpha);
  defaults.weights.beta = manifest.defaultBeta.value_or(kDefaultBeta);
  try {
    defaults = resolveSettings(defaults, *model_);
  } catch (const std::exception&) {
    // A bare model file names no default layers: the user picks them in the table.
    const auto names = model_->layerNames();
    if (!names.empty()) defaults.contentLayer = names.back();
    messages_->showMessage(MessageBar::Level::Info,
                           tr("This model names no default layers: check the style layers and choose a content "
                              "layer in the Layers table."));
  }
  panel_->setModelLayers(model_->layerNames(), defaults);
  const QString title = QString::fromStdString(manifest.title.empty() ? manifest.name : manifest.title);
  panel_->setModelState(tr("Ready: %1 layers").arg(model_->layerNames().size()));
  panel_->modelCombo()->setToolTip(title);
  refreshModelChoices();
  if (layerViewer_) layerViewer_->setModel(model_);
  if (messages_->text().startsWith(tr("No model is installed"))) messages_->dismiss();
  updateActions();
}

void MainWindow::openModelFileDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a model file"), QString(),
                                                    tr("Model files (*.onnx *.pth *.json *.caffemodel);;All files (*)"));
  if (path.isEmpty()) return;
  useModelArgument(path);
}

void MainWindow::showModelManager() {
  if (!modelManager_) {
    modelManager_ = new ModelManagerDialog(catalog_->library(), this);
    connect(modelManager_, &ModelManagerDialog::modelInstalled, this, [this](const QString& name) {
      refreshModelChoices();
      if (!model_ && !isModelLoading()) useModel(name);
    });
  }
  modelManager_->refresh();
  modelManager_->show();
  modelManager_->raise();
  modelManager_->activateWindow();
}

QString MainWindow::modelArgumentFor(const QString& id) const {
  return ModelCatalog::isFileId(id) ? id.mid(5) : id;
}

// --- rendering ------------------------------------------------------------------

bool MainWindow::isRendering() const { return controller_->isRunning(); }

void MainWindow::startWhenReady() {
  if (model_ && !isModelLoading()) {
    startRender();
    return;
  }
  startWhenReady_ = true;
}

bool MainWindow::startRender() {
  if (controller_->isRunning()) return false;
  if (content_.isNull()) {
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("Add a content photo first: drop it on the Content box, paste it or click the box."));
    return false;
  }
  if (styles_->count() == 0) {
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("Add at least one style painting: drop it on the Style box, or click the box."));
    return false;
  }
  if (!model_) {
    if (isModelLoading()) {
      startWhenReady_ = true;
      statusBar()->showMessage(tr("The render starts when the model has loaded…"));
      return false;
    }
    showNoModelAdvice();
    return false;
  }
  RenderJob job;
  job.content = content_.rgb;
  for (int i = 0; i < styles_->count(); ++i) job.styles.push_back(styles_->image(i).rgb);
  job.styleBlend = styles_->weights();
  double blendSum = 0.0;
  for (double w : job.styleBlend) blendSum += w;
  if (!(blendSum > 0.0)) {
    showError(tr("All style blend weights are 0: give at least one style image a weight above 0."));
    return false;
  }
  job.model = withPooling(model_, panel_->pooling());
  job.settings = panel_->settings();
  job.settings.frameEvery = 1;  // the controller throttles frames to what the screen can show
  // Leave one core to the GUI thread: OpenMP workers spin while they wait, and
  // a render on every core starves the window (and itself, when oversubscribed).
  job.settings.threads = std::max(1, QThread::idealThreadCount() - 1);
  if (job.settings.weights.styleLayers.empty()) {
    showError(tr("No style layer is checked: check at least one layer in the Layers table."));
    return false;
  }
  try {
    job.settings = resolveSettings(job.settings, *job.model);
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  renderPreset_ = currentPreset();
  renderPreset_.settings = job.settings;
  weightHistory_.clear();
  chart_->reset(job.settings.iterations);
  progress_->setRange(0, job.settings.iterations);
  progress_->setValue(0);
  rate_.reset();
  renderStart_ = monotonicSeconds();
  messages_->dismiss();
  controller_->start(std::move(job));
  statusBar()->showMessage(tr("Rendering on %1…").arg(QString::fromStdString(computeDeviceName())));
  return true;
}

void MainWindow::setPaused(bool paused) { controller_->setPaused(paused); }

void MainWindow::stopRender() { controller_->stop(); }

void MainWindow::onWeightsEdited() {
  if (!controller_->isRunning()) return;
  const LossWeights weights = panel_->weights();
  controller_->submitWeights(weights);
  const int at = controller_->lastReport().iteration;
  weightHistory_.emplace_back(at, weights);
  chart_->markWeightChange(at);
  statusBar()->showMessage(tr("New weights apply from the next step"), 3000);
}

void MainWindow::onRunningChanged(bool running) {
  panel_->setRunning(running);
  styles_->setEditable(!running);
  updateActions();
  updateRateLabels();
}

void MainWindow::onSteps(const QList<StepReport>& reports) {
  if (reports.isEmpty()) return;
  chart_->addReports(reports);
  const StepReport& last = reports.back();
  progress_->setRange(0, std::max(1, last.iterations));
  progress_->setValue(last.iteration);
  if (!controller_->isPaused()) rate_.add(monotonicSeconds(), last.iteration);
  updateRateLabels();
}

void MainWindow::onFinished(bool cancelled) {
  const cv::Mat& result = controller_->result();
  if (!result.empty()) preview_->setImage(toQImage(result));
  const StepReport& last = controller_->lastReport();
  const QString took = durationText(monotonicSeconds() - renderStart_);
  statusBar()->showMessage(cancelled ? tr("Stopped at iteration %1 after %2").arg(last.iteration).arg(took)
                                     : tr("Finished %1 iterations in %2").arg(last.iteration).arg(took));
  updateActions();
  updateRateLabels();
}

QString MainWindow::rateText() const { return rateLabel_->text(); }

void MainWindow::updateRateLabels() {
  const StepReport& last = controller_->lastReport();
  stepLabel_->setText(last.iteration > 0 ? tr("step %1 / %2").arg(last.iteration).arg(last.iterations) : QString());
  if (!controller_->isRunning()) {
    rateLabel_->clear();
    etaLabel_->clear();
    return;
  }
  if (controller_->isPaused()) {
    rateLabel_->setText(tr("paused"));
    etaLabel_->clear();
    return;
  }
  const auto rate = rate_.rate();
  rateLabel_->setText(rate ? tr("%1 steps/s").arg(*rate, 0, 'f', *rate < 10 ? 2 : 1) : tr("… steps/s"));
  const auto left = rate_.secondsLeft(double(last.iterations));
  etaLabel_->setText(left ? tr("ETA %1").arg(durationText(*left)) : QString());
}

void MainWindow::updateActions() {
  const bool running = controller_->isRunning();
  const bool paused = controller_->isPaused();
  startAction_->setEnabled(!running);
  pauseAction_->setEnabled(running);
  pauseAction_->setText(paused ? tr("&Resume") : tr("&Pause"));
  pauseAction_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  stopAction_->setEnabled(running);
  exportAction_->setEnabled(canExport());
}

void MainWindow::updateTitle() {
  setWindowTitle(content_.isNull() ? QStringLiteral("Impasto") : QStringLiteral("%1 — Impasto").arg(content_.name));
}

// --- export -----------------------------------------------------------------------

bool MainWindow::canExport() const { return !controller_->result().empty() || !preview_->image().isNull(); }

cv::Mat MainWindow::exportPixels() const {
  // The float G at the end of a render; while one runs, the latest frame.
  if (!controller_->isRunning() && !controller_->result().empty()) return controller_->result();
  return toRgb8(preview_->image());
}

void MainWindow::exportDialog() {
  if (!canExport()) {
    showError(tr("Nothing to export yet: start a render first."));
    return;
  }
  QSettings settings;
  const QString dir = settings.value(QStringLiteral("dirs/export"), QDir::homePath()).toString();
  const QString base = content_.isNull() ? QStringLiteral("impasto") : QFileInfo(content_.name).completeBaseName();
  QString filter = settings.value(QStringLiteral("export/filter")).toString();
  // QFileDialog asks before replacing a file, so what comes back is confirmed.
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Export image"), QDir(dir).filePath(base + QStringLiteral("-impasto.png")),
      tr("PNG, settings embedded (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)"), &filter);
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("export/filter"), filter);
  QString target = path;
  if (QFileInfo(target).suffix().isEmpty())
    target += filter.startsWith(QLatin1String("JPEG")) ? QStringLiteral(".jpg")
              : filter.startsWith(QLatin1String("TIFF")) ? QStringLiteral(".tif")
                                                         : QStringLiteral(".png");
  exportImage(target, target == path ? Overwrite::Yes : Overwrite::Ask);
}

bool MainWindow::exportImage(const QString& path, Overwrite overwrite) {
  if (!canExport()) {
    showError(tr("Nothing to export yet: start a render first."));
    return false;
  }
  if (!isSupportedOutputExtension(path.toStdString())) {
    showError(tr("Cannot export to %1: use a .png, .jpg or .tif name.").arg(QFileInfo(path).fileName()));
    return false;
  }
  if (QFileInfo::exists(path)) {
    if (overwrite == Overwrite::Never) {
      showError(tr("%1 exists already; it was left as it is. Choose another name.").arg(QDir::toNativeSeparators(path)));
      return false;
    }
    if (overwrite == Overwrite::Ask &&
        QMessageBox::question(this, tr("Replace file?"),
                              tr("%1 exists already. Replace it?").arg(QDir::toNativeSeparators(path)),
                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No) != QMessageBox::Yes)
      return false;
  }
  SaveOptions options;
  options.jpegQuality = 100;
  Preset preset = currentPreset();
  if (!renderPreset_.settings.contentLayer.empty()) {
    // What the render used, with the weights it ended with: live changes are part of the result.
    preset = renderPreset_;
    preset.settings.weights = controller_->settings().weights;
  }
  for (const auto& [iteration, weights] : weightHistory_) preset.settings.weightChanges.push_back({iteration + 1, weights});
  options.pngText[kSettingsPngKey] = presetToJson(preset, JsonStyle::Compact);
  options.pngText["Software"] = std::string("Impasto ") + version();
  try {
    saveImage(exportPixels(), path.toStdString(), options);
  } catch (const std::exception& e) {
    showError(tr("Export failed: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  QSettings().setValue(QStringLiteral("dirs/export"), QFileInfo(path).absolutePath());
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
  return true;
}

// --- presets ------------------------------------------------------------------------

Preset MainWindow::currentPreset() const {
  Preset preset;
  preset.settings = panel_->settings();
  preset.pooling = panel_->pooling();
  preset.model = modelArgumentFor(modelId_.isEmpty() ? loadingModelId_ : modelId_).toStdString();
  preset.styleBlend = styles_->weights();
  return preset;
}

void MainWindow::applyPreset(const Preset& preset) {
  for (int i = 0; i < styles_->count() && i < int(preset.styleBlend.size()); ++i)
    styles_->setWeight(i, preset.styleBlend[std::size_t(i)]);
  panel_->setPooling(preset.pooling);
  QString switchTo;
  const QString presetModel = QString::fromStdString(preset.model);
  if (!presetModel.isEmpty() && modelArgumentFor(modelId_) != presetModel) {
    const QString id = catalog_->idForArgument(presetModel);
    bool usable = false;
    for (const ModelChoice& c : catalog_->choices())
      if (c.id == id) usable = c.usable;
    if (usable)
      switchTo = id;
    else
      messages_->showMessage(MessageBar::Level::Warning,
                             tr("The preset was made with model '%1', which is not installed; the current model "
                                "is kept.")
                                 .arg(presetModel),
                             tr("Manage models…"), [this] { showModelManager(); });
  }
  if (!switchTo.isEmpty()) {
    // The preset's layers belong to the other model: the panel holds them until its layers arrive.
    model_.reset();
    modelId_.clear();
    panel_->clearModelLayers();
    panel_->setSettings(preset.settings);
    useModel(switchTo);
    return;
  }
  QStringList unknown;
  if (model_) {
    for (const auto& [name, lambda] : preset.settings.weights.styleLayers)
      if (!model_->hasLayer(name)) unknown << QString::fromStdString(name);
    if (!preset.settings.contentLayer.empty() && !model_->hasLayer(preset.settings.contentLayer))
      unknown << QString::fromStdString(preset.settings.contentLayer);
  }
  panel_->setSettings(preset.settings);
  if (!unknown.isEmpty())
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("The preset names layers that %1 does not have (%2); they were skipped.")
                               .arg(QString::fromStdString(model_->manifest().name), unknown.join(QStringLiteral(", "))));
}

bool MainWindow::savePreset(const QString& path) {
  try {
    savePresetFile(currentPreset(), path);
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  recent_->add(RecentFiles::Role::Preset, path);
  statusBar()->showMessage(tr("Saved preset %1").arg(QFileInfo(path).fileName()), 5000);
  return true;
}

bool MainWindow::loadPreset(const QString& path) {
  if (controller_->isRunning()) {
    showError(tr("Stop the render before loading a preset."));
    return false;
  }
  Preset preset = currentPreset();
  try {
    loadPresetFile(path, preset);
  } catch (const std::exception& e) {
    showError(e);
    return false;
  }
  applyPreset(preset);
  if (!path.startsWith(QLatin1String(":/"))) recent_->add(RecentFiles::Role::Preset, path);
  statusBar()->showMessage(tr("Loaded preset %1").arg(QFileInfo(path).fileName()), 5000);
  return true;
}

void MainWindow::savePresetDialog() {
  QSettings settings;
  const QString dir = settings.value(QStringLiteral("dirs/presets"), QDir::homePath()).toString();
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Save preset"), QDir(dir).filePath(QStringLiteral("preset.json")),
                                   tr("Impasto presets (*.json)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("dirs/presets"), QFileInfo(path).absolutePath());
  savePreset(path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive) ? path : path + QStringLiteral(".json"));
}

void MainWindow::loadPresetDialog() {
  QSettings settings;
  const QString dir = settings.value(QStringLiteral("dirs/presets"), QDir::homePath()).toString();
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Load preset"), dir, tr("Presets and exported PNGs (*.json *.png);;All files (*)"));
  if (path.isEmpty()) return;
  settings.setValue(QStringLiteral("dirs/presets"), QFileInfo(path).absolutePath());
  loadPreset(path);
}

// --- layer viewer -----------------------------------------------------------------

LayerViewerDialog* MainWindow::showLayerViewer() {
  if (!layerViewer_) layerViewer_ = new LayerViewerDialog(this);
  QList<LayerViewerDialog::Source> sources;
  if (!preview_->image().isNull()) sources.append({tr("Current render"), toRgb32f(preview_->image())});
  if (!content_.isNull()) sources.append({tr("Content: %1").arg(content_.name), content_.rgb});
  for (int i = 0; i < styles_->count(); ++i)
    sources.append({tr("Style: %1").arg(styles_->image(i).name), styles_->image(i).rgb});
  layerViewer_->setSources(sources);
  layerViewer_->setModel(model_ ? withPooling(model_, panel_->pooling()) : model_);
  layerViewer_->show();
  layerViewer_->raise();
  return layerViewer_;
}

}  // namespace impasto
