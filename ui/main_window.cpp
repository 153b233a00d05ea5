#include "ui/main_window.h"

#include <QAction>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDir>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

#include "core/io/image_io.h"
#include "core/library/face_model_location.h"
#include "core/util/version.h"
#include "ui/file_dialogs.h"
#include "ui/final_render.h"
#include "ui/image_convert.h"
#include "ui/image_drop_zone.h"
#include "ui/inputs_panel.h"
#include "ui/layer_viewer_dialog.h"
#include "ui/loss_chart.h"
#include "ui/message_bar.h"
#include "ui/model_catalog.h"
#include "ui/model_manager_dialog.h"
#include "ui/parameter_panel.h"
#include "ui/portrait_watch.h"
#include "ui/preview_widget.h"
#include "ui/render_status.h"
#include "ui/studio_session.h"
#include "ui/style_list.h"

// The resources live in this static library: without a reference the linker
// would drop them from the executable. Q_INIT_RESOURCE must be called outside
// any namespace.
static void initImpastoResources() { Q_INIT_RESOURCE(impasto); }

namespace impasto {

namespace {

// The preview compares against the content at this size at most: a 24 MP
// photo would make every repaint slow for no visible gain.
constexpr int kBeforeImageSide = 2048;

}  // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), session_(new StudioSession(this)), recent_(new RecentFiles(this)) {
  initImpastoResources();
  setWindowTitle(QStringLiteral("Impasto"));
  setWindowIcon(QIcon(QStringLiteral(":/icons/impasto.png")));
  buildWidgets();
  buildActions();
  buildFinalRender();
  buildMenus();
  connectSession();
  buildPortraitGuard();
  restoreSettings();
  refreshModelChoices();
  updateActions();

  if (!session_->catalog().anyUsable()) showNoModelAdvice();
  // Deferred: a model named on the command line, asked for right after
  // construction, must win over the one from the last session.
  QTimer::singleShot(
      0, this, [this] { session_->useDefaultModel(QSettings().value(QStringLiteral("model")).toString()); });
}

MainWindow::~MainWindow() {
  // Children are deleted after members, and in no set order: the model
  // manager's thread uses the session's catalog, so join it first. The
  // session cancels and joins the render and the model loader.
  delete modelManager_;
  delete layerViewer_;
  delete session_;
}

void MainWindow::buildWidgets() {
  messages_ = new MessageBar(this);
  inputs_ = new InputsPanel(*session_, this);
  contentZone_ = inputs_->contentZone();
  styles_ = inputs_->styleList();
  preview_ = new PreviewWidget(this);
  preview_->setPlaceholderText(
      tr("1. Drop a photo on Content and a painting on Style (left).\n2. Check the model on the right.\n"
         "3. Press Start (Ctrl+Return) and tune α, β and λ while it paints."));
  chart_ = new LossChart(this);
  panel_ = new ParameterPanel(this);
  auto* panelScroll = new QScrollArea(this);
  panelScroll->setWidget(panel_);
  panelScroll->setWidgetResizable(true);
  panelScroll->setMinimumWidth(300);

  auto split = [this](Qt::Orientation orientation, const QList<QWidget*>& parts, const QList<int>& stretch,
                      const QList<int>& sizes) {
    auto* splitter = new QSplitter(orientation, this);
    for (int i = 0; i < parts.size(); ++i) {
      splitter->addWidget(parts[i]);
      splitter->setStretchFactor(i, stretch[i]);
    }
    splitter->setSizes(sizes);
    return splitter;
  };
  centreSplitter_ = split(Qt::Vertical, {preview_, chart_}, {3, 1}, {600, 260});
  mainSplitter_ = split(Qt::Horizontal, {inputs_, centreSplitter_, panelScroll}, {0, 1, 0}, {250, 800, 360});

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(messages_);
  layout->addWidget(mainSplitter_, 1);
  setCentralWidget(central);

  status_ = new RenderStatus(*session_, this);
  statusBar()->addPermanentWidget(status_);

  connect(contentZone_, &ImageDropZone::filesDropped, this, [this](const QStringList& paths) {
    if (!paths.isEmpty()) loadContent(paths.first());
  });
  connect(contentZone_, &ImageDropZone::browseRequested, this, &MainWindow::openContentDialog);
  ImageDropZone* styleZone = styles_->dropZone();
  connect(styleZone, &ImageDropZone::filesDropped, this, [this](const QStringList& paths) {
    for (const QString& path : paths)
      if (!addStyle(path)) break;
  });
  connect(styleZone, &ImageDropZone::browseRequested, this, &MainWindow::addStyleDialog);

  connect(panel_, &ParameterPanel::weightsEdited, this,
          [this] { session_->submitWeights(panel_->weights()); });
  connect(panel_, &ParameterPanel::modelChosen, this, &MainWindow::useModel);
  connect(panel_, &ParameterPanel::manageModelsRequested, this, &MainWindow::showModelManager);
  connect(recent_, &RecentFiles::openRequested, this, &MainWindow::openRecent);
}

void MainWindow::buildActions() {
  auto make = [this](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
    auto* action = new QAction(text, this);
    action->setShortcut(key);
    action->setShortcutContext(Qt::WindowShortcut);
    action->setToolTip(tip);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
    return action;
  };
  startAction_ = make(tr("&Start"), QKeySequence(Qt::CTRL | Qt::Key_Return),
                      tr("Start rendering (Ctrl+Return)"), [this] { startRender(); });
  startAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
  pauseAction_ = make(tr("&Pause"), QKeySequence(Qt::CTRL | Qt::Key_P), tr("Pause or resume (Ctrl+P)"),
                      [this] { setPaused(!session_->isPaused()); });
  pauseAction_->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
  stopAction_ = make(tr("S&top"), QKeySequence(Qt::Key_Escape),
                     tr("Stop the render; the last finished step is kept (Esc)"), [this] { stopRender(); });
  stopAction_->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
  exportAction_ = make(tr("&Export…"), QKeySequence(Qt::CTRL | Qt::Key_E),
                       tr("Export the render as PNG, JPEG or TIFF (Ctrl+E)"), [this] { exportDialog(); });
  exportAction_->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
  splitAction_ = make(tr("&Before/after split"), QKeySequence(Qt::CTRL | Qt::Key_B),
                      tr("Compare with the content image: drag the divider (Ctrl+B)"),
                      [this] { preview_->setSplit(splitAction_->isChecked()); });
  splitAction_->setCheckable(true);
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
  add(file, tr("&Add style image…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
      [this] { addStyleDialog(); });
  add(file, tr("&Paste as content"), QKeySequence::Paste, [this] { paste(false); });
  add(file, tr("Paste as st&yle"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V), [this] { paste(true); });
  recentMenu_ = file->addMenu(tr("Open &recent"));
  connect(recentMenu_, &QMenu::aboutToShow, this, [this] { recent_->fillMenu(recentMenu_); });
  file->addSeparator();
  file->addAction(exportAction_);
  file->addSeparator();
  add(file, tr("&Load preset…"), QKeySequence(Qt::CTRL | Qt::Key_L), [this] {
    if (const QString path = fileDialogs::presetToLoad(this); !path.isEmpty()) loadPreset(path);
  });
  add(file, tr("&Save preset…"), QKeySequence::Save, [this] {
    if (const QString path = fileDialogs::presetToSave(this); !path.isEmpty()) savePreset(path);
  });
  presetsMenu_ = file->addMenu(tr("&Built-in presets"));
  for (const QFileInfo& info :
       QDir(QStringLiteral(":/presets")).entryInfoList({QStringLiteral("*.json")}, QDir::Files)) {
    const QString path = info.filePath();
    QAction* action =
        presetsMenu_->addAction(info.completeBaseName().replace(QLatin1Char('-'), QLatin1Char(' ')));
    connect(action, &QAction::triggered, this, [this, path] { loadPreset(path); });
  }
  file->addSeparator();
  add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });

  QMenu* renderMenu = menuBar()->addMenu(tr("&Render"));
  renderMenu->addActions({startAction_, pauseAction_, stopAction_});
  renderMenu->addSeparator();
  renderMenu->addAction(finalAction_);

  QMenu* view = menuBar()->addMenu(tr("&View"));
  QAction* fit = add(view, tr("&Fit to window"), QKeySequence(Qt::CTRL | Qt::Key_0),
                     [this] { preview_->fitToWindow(); });
  QAction* actual = add(view, tr("&Actual size (1:1)"), QKeySequence(Qt::CTRL | Qt::Key_1),
                        [this] { preview_->actualSize(); });
  QAction* zoomIn = add(view, tr("Zoom &in"), QKeySequence::ZoomIn, [this] { preview_->zoomIn(); });
  QAction* zoomOut = add(view, tr("Zoom &out"), QKeySequence::ZoomOut, [this] { preview_->zoomOut(); });
  view->addAction(splitAction_);
  view->addSeparator();
  add(view, tr("&Layer viewer…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
      [this] { showLayerViewer(); });

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
  tools->addActions({startAction_, pauseAction_, stopAction_});
  tools->addSeparator();
  tools->addAction(exportAction_);
  tools->addSeparator();
  tools->addActions({fit, actual, zoomIn, zoomOut, splitAction_});
}

void MainWindow::connectSession() {
  connect(session_, &StudioSession::contentChanged, this, &MainWindow::onContentChanged);
  connect(session_, &StudioSession::stylesChanged, this, &MainWindow::updateActions);
  connect(session_, &StudioSession::modelLoading, this, &MainWindow::onModelLoading);
  connect(session_, &StudioSession::modelChanged, this, &MainWindow::onModelChanged);
  connect(session_, &StudioSession::modelProblem, this, &MainWindow::showModelProblem);
  connect(session_, &StudioSession::modelReady, this, [this](bool ok) {
    const ModelPtr model = session_->model();
    if (!ok)
      panel_->setModelState(model ? tr("Still using %1").arg(QString::fromStdString(model->manifest().name))
                                  : tr("No model loaded"));
    if (!ok) refreshModelChoices();
    emit modelReady(ok);
  });
  connect(session_, &StudioSession::startRequested, this, [this] { startRender(); });
  connect(session_, &StudioSession::error, this, &MainWindow::showError);
  connect(session_, &StudioSession::frameReady, this, [this](int, const QImage& frame) {
    preview_->setImage(frame);
    portrait_->frameArrived(session_->latestFrame());
    if (!exportAction_->isEnabled()) updateActions();  // the first frame can be exported
  });
  connect(session_, &StudioSession::stepsReported, chart_, &LossChart::addReports);
  connect(session_, &StudioSession::weightsSubmitted, this, [this](int afterIteration) {
    chart_->markWeightChange(afterIteration);
    statusBar()->showMessage(tr("New weights apply from the next step"), 3000);
  });
  connect(session_, &StudioSession::runningChanged, this, [this](bool running) {
    if (running) portrait_->clearMeasure();  // the badge speaks of the new render's frames
    panel_->setRunning(running);
    updateActions();
  });
  connect(session_, &StudioSession::pausedChanged, this, [this](bool paused) {
    updateActions();
    statusBar()->showMessage(paused ? tr("Paused") : tr("Resumed"), 3000);
  });
  connect(session_, &StudioSession::finished, this, &MainWindow::onFinished);
}

void MainWindow::restoreSettings() {
  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1440, 900);
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  mainSplitter_->restoreState(settings.value(QStringLiteral("window/splitter")).toByteArray());
  centreSplitter_->restoreState(settings.value(QStringLiteral("window/centreSplitter")).toByteArray());
  panel_->faceBoxesBox()->setChecked(settings.value(QStringLiteral("view/faceBoxes"), false).toBool());
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
  settings.setValue(QStringLiteral("view/faceBoxes"), panel_->faceBoxesBox()->isChecked());
  settings.setValue(QStringLiteral("lastPreset"), QByteArray::fromStdString(presetToJson(currentPreset())));
  if (!session_->modelId().isEmpty()) settings.setValue(QStringLiteral("model"), session_->modelId());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  // Stop asking the engine for more; the controller's destructor joins the thread.
  session_->stop();
  event->accept();
}

void MainWindow::showError(const QString& text) {
  messages_->showMessage(MessageBar::Level::Error, text);
  statusBar()->showMessage(text, 8000);
}

void MainWindow::showModelProblem(const QString& text) {
  messages_->showMessage(MessageBar::Level::Error, text, tr("Manage models…"),
                         [this] { showModelManager(); });
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

void MainWindow::rememberImage(RecentFiles::Role role, const QString& path) {
  recent_->add(role, path);
  fileDialogs::rememberImageFolder(path);
}

bool MainWindow::loadContent(const QString& path) {
  if (!session_->loadContent(path)) return false;
  rememberImage(RecentFiles::Role::Content, path);
  messages_->dismiss();
  return true;
}

void MainWindow::onContentChanged() {
  const LoadedImage& content = session_->content();
  const int side = std::min(kBeforeImageSide, std::max(content.rgb.cols, content.rgb.rows));
  const cv::Mat before = resizeToLongest(content.rgb, side);
  preview_->setBeforeImage(toQImage(before));
  portrait_->setContent(before);
  updateActions();
  setWindowTitle(QStringLiteral("%1 — Impasto").arg(content.name));
}

bool MainWindow::addStyle(const QString& path) {
  if (!session_->addStyle(path)) return false;
  rememberImage(RecentFiles::Role::Style, path);
  return true;
}

void MainWindow::openImages(const QStringList& paths) {
  if (paths.isEmpty()) return;
  loadContent(paths.first());
  for (int i = 1; i < paths.size(); ++i) addStyle(paths[i]);
}

void MainWindow::openContentDialog() {
  const QString path = fileDialogs::contentImage(this);
  if (!path.isEmpty()) loadContent(path);
}

void MainWindow::addStyleDialog() {
  if (isRendering()) return;
  for (const QString& path : fileDialogs::styleImages(this))
    if (!addStyle(path)) break;
}

void MainWindow::paste(bool asStyle) {
  if (!inputs_->paste(asStyle))
    showError(tr("The clipboard holds no image or image file. Copy an image first."));
}

void MainWindow::openRecent(RecentFiles::Role role, const QString& path) {
  if (role == RecentFiles::Role::Content) loadContent(path);
  if (role == RecentFiles::Role::Style && !isRendering()) addStyle(path);
  if (role == RecentFiles::Role::Preset) loadPreset(path);
}

void MainWindow::refreshModelChoices() {
  try {
    panel_->setModelChoices(session_->catalog().choices(), session_->shownModelId());
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
  }
}

void MainWindow::useModelArgument(const QString& nameOrPath) {
  session_->useModelArgument(nameOrPath);
  refreshModelChoices();
}

void MainWindow::buildPortraitGuard() {
  portrait_ = new PortraitWatch(session_->catalog().library(), this);
  connect(portrait_, &PortraitWatch::modelsChanged, this, &MainWindow::showPortraitState);
  connect(portrait_, &PortraitWatch::facesChanged, this, &MainWindow::showPortraitState);
  connect(portrait_, &PortraitWatch::measured, this, &MainWindow::showPortraitMeasure);
  connect(panel_, &ParameterPanel::showFaceBoxesToggled, this,
          [this] { preview_->setShowFaceBoxes(panel_->showFaceBoxes()); });
  showPortraitState();
}

void MainWindow::showPortraitState() {
  const bool available = portrait_->modelsAvailable();
  panel_->setFaceModelsAvailable(available, portrait_->unavailableReason());
  preview_->setShowFaceBoxes(panel_->showFaceBoxes());
  // A content known to be faceless needs no face search at each pyramid level.
  const bool mayHaveFaces = portrait_->isAnalyzing() || portrait_->hasFaces();
  session_->setFaceModels(mayHaveFaces ? portrait_->models() : nullptr);
  if (startWhenFaceModelsLoad_ && (portrait_->models() || !available)) {
    startWhenFaceModelsLoad_ = false;
    startRender();
  }
  if (!available) {
    showPortraitMeasure();
    return;
  }
  const int faces = int(portrait_->faceBoxes().size());
  if (!portrait_->models())
    panel_->setFaceState(tr("Loading the face models…"));
  else if (portrait_->isAnalyzing())
    panel_->setFaceState(tr("Looking for faces…"));
  else if (!portrait_->contentAnalyzed())
    panel_->setFaceState(QString());
  else if (faces == 0)
    panel_->setFaceState(tr("No faces in the content"));
  else
    panel_->setFaceState(faces == 1 ? tr("1 face in the content") : tr("%1 faces in the content").arg(faces));
  showPortraitMeasure();
}

void MainWindow::showPortraitMeasure() {
  const std::vector<FaceIdentity>& measure = portrait_->identities();
  const QList<QRectF>& boxes = portrait_->faceBoxes();
  const bool measured = portrait_->hasFaces() && measure.size() == std::size_t(boxes.size());
  QList<PreviewFace> faces;
  for (int i = 0; i < boxes.size(); ++i) {
    PreviewFace face;
    face.box = boxes[i];
    if (measured) {
      const FaceIdentity& identity = measure[std::size_t(i)];
      face.state = identity.samePerson ? PreviewFace::State::Same : PreviewFace::State::Drifting;
      face.label = QStringLiteral("d = %1").arg(identity.distance, 0, 'f', 2);
    }
    faces.append(face);
  }
  preview_->setFaces(faces);
  preview_->setBadge(measured ? portraitBadgeText(measure) : QString(), portraitBadgeGood(measure));
}

void MainWindow::onModelLoading() {
  panel_->setModelState(tr("Loading…"));
  refreshModelChoices();
}

void MainWindow::onModelChanged() {
  const ModelPtr model = session_->model();
  bool namesLayers = true;
  const RenderSettings defaults = session_->modelDefaults(namesLayers);
  if (!namesLayers)
    messages_->showMessage(
        MessageBar::Level::Info,
        tr("This model names no default layers: check the style layers and choose a content "
           "layer in the Layers table."));
  panel_->showModel(*model, defaults);
  refreshModelChoices();
  if (layerViewer_) layerViewer_->setModel(model);
  if (messages_->text().startsWith(tr("No model is installed"))) messages_->dismiss();
}

void MainWindow::openModelFileDialog() {
  const QString path = fileDialogs::modelFile(this, tr("Open a model file"));
  if (!path.isEmpty()) useModelArgument(path);
}

void MainWindow::showModelManager() {
  if (!modelManager_) {
    modelManager_ = new ModelManagerDialog(session_->catalog().library(), this);
    connect(modelManager_, &ModelManagerDialog::modelInstalled, this, [this](const QString& name) {
      if (name == QLatin1String(kFaceModelName)) {
        portrait_->relocate();
        return;
      }
      refreshModelChoices();
      if (!session_->model() && !session_->isModelLoading()) useModel(name);
    });
  }
  modelManager_->refresh();
  modelManager_->show();
  modelManager_->raise();
  modelManager_->activateWindow();
}

void MainWindow::startWhenReady() {
  if (session_->startWhenReady()) startRender();
}

bool MainWindow::startRender() {
  using Start = StudioSession::StartResult;
  // The render takes the face models when it starts: one started while they
  // still load (a second or two after launch) would run without the guard.
  if (panel_->weights().identity > 0.0 && portrait_->modelsAvailable() && !portrait_->models()) {
    startWhenFaceModelsLoad_ = true;
    statusBar()->showMessage(tr("The render starts when the face models have loaded…"));
    return false;
  }
  const Start started = session_->start(panel_->settings(), panel_->pooling());
  if (started == Start::NoContent)
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("Add a content photo first: drop it on the Content box, "
                              "paste it or click the box."));
  else if (started == Start::NoStyle)
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("Add at least one style painting: drop it on the Style "
                              "box, or click the box."));
  else if (started == Start::WaitingForModel)
    statusBar()->showMessage(tr("The render starts when the model has loaded…"));
  else if (started == Start::NoModel)
    showNoModelAdvice();
  if (started != Start::Started) return false;
  chart_->reset(session_->renderSettings().iterations);
  messages_->dismiss();
  statusBar()->showMessage(tr("Rendering on %1…").arg(QString::fromStdString(computeDeviceName())));
  return true;
}

void MainWindow::onFinished(bool cancelled) {
  const cv::Mat& result = session_->result();
  if (!result.empty()) preview_->setImage(toQImage(result));
  portrait_->frameArrived(result);
  const StepReport& last = session_->lastReport();
  const QString took = durationText(session_->secondsSinceStart());
  statusBar()->showMessage(cancelled ? tr("Stopped at iteration %1 after %2").arg(last.iteration).arg(took)
                                     : tr("Finished %1 iterations in %2").arg(last.iteration).arg(took));
  updateActions();
}

QString MainWindow::rateText() const { return status_->rateText(); }

QProgressBar* MainWindow::progressBar() const { return status_->progressBar(); }

void MainWindow::updateActions() {
  const bool running = session_->isRendering();
  const bool paused = session_->isPaused();
  // A final render has the engine to itself.
  const bool finalRunning = finalRender_ && finalRender_->isRunning();
  startAction_->setEnabled(!running && !finalRunning);
  if (finalAction_) finalAction_->setEnabled(!finalRunning);
  pauseAction_->setEnabled(running);
  pauseAction_->setText(paused ? tr("&Resume") : tr("&Pause"));
  pauseAction_->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
  stopAction_->setEnabled(running);
  exportAction_->setEnabled(canExport());
}

void MainWindow::exportDialog() {
  if (!canExport()) {
    showError(tr("Nothing to export yet: start a render first."));
    return;
  }
  const fileDialogs::ExportTarget target = fileDialogs::exportImage(this, content().name);
  if (!target.path.isEmpty()) exportImage(target.path, target.confirmed ? Overwrite::Yes : Overwrite::Ask);
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
      showError(tr("%1 exists already; it was left as it is. Choose another name.")
                    .arg(QDir::toNativeSeparators(path)));
      return false;
    }
    if (overwrite == Overwrite::Ask &&
        QMessageBox::question(this, tr("Replace file?"),
                              tr("%1 exists already. Replace it?").arg(QDir::toNativeSeparators(path)),
                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No) != QMessageBox::Yes)
      return false;
  }
  try {
    session_->exportImage(path);
  } catch (const std::exception& e) {
    showError(tr("Export failed: %1").arg(QString::fromStdString(e.what())));
    return false;
  }
  fileDialogs::rememberExportFolder(path);
  statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 8000);
  return true;
}

Preset MainWindow::currentPreset() const { return session_->preset(panel_->settings(), panel_->pooling()); }

void MainWindow::applyPreset(const Preset& preset) {
  const StudioSession::PresetFit fit = session_->applyPreset(preset, [this](const QString& file) {
    const QString text = tr("The preset asks for the model file %1. Load it?").arg(file);
    return QMessageBox::question(this, tr("Load this model file?"), text, QMessageBox::Yes | QMessageBox::No,
                                 QMessageBox::No) == QMessageBox::Yes;
  });
  panel_->setPooling(preset.pooling);
  if (!fit.missingModel.isEmpty())
    messages_->showMessage(
        MessageBar::Level::Warning,
        tr("The preset was made with model '%1', which is not installed; the current model is kept.")
            .arg(fit.missingModel),
        tr("Manage models…"), [this] { showModelManager(); });
  // Switching model: the panel holds the preset's layers until the new model's layers arrive.
  if (!fit.switchingTo.isEmpty()) panel_->clearModelLayers();
  panel_->setSettings(endedSettings(preset.settings));  // a live-tuned render as it ended
  if (!fit.unknownLayers.isEmpty())
    messages_->showMessage(MessageBar::Level::Warning,
                           tr("The preset names layers that %1 does not have (%2); they were skipped.")
                               .arg(QString::fromStdString(session_->model()->manifest().name),
                                    fit.unknownLayers.join(QStringLiteral(", "))));
}

bool MainWindow::savePreset(const QString& path) {
  try {
    savePresetFile(currentPreset(), path);
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    return false;
  }
  recent_->add(RecentFiles::Role::Preset, path);
  statusBar()->showMessage(tr("Saved preset %1").arg(QFileInfo(path).fileName()), 5000);
  return true;
}

bool MainWindow::loadPreset(const QString& path) {
  if (isRendering()) {
    showError(tr("Stop the render before loading a preset."));
    return false;
  }
  Preset preset = currentPreset();
  // Before the model's layers are known, α and β are the model's to give
  // unless the preset names them.
  if (!panel_->hasLayers()) preset.settings.alphaFromModel = preset.settings.betaFromModel = true;
  try {
    loadPresetFile(path, preset);
  } catch (const std::exception& e) {
    showError(QString::fromStdString(e.what()));
    return false;
  }
  applyPreset(preset);
  if (!path.startsWith(QLatin1String(":/"))) recent_->add(RecentFiles::Role::Preset, path);
  statusBar()->showMessage(tr("Loaded preset %1").arg(QFileInfo(path).fileName()), 5000);
  return true;
}

LayerViewerDialog* MainWindow::showLayerViewer() {
  if (!layerViewer_) layerViewer_ = new LayerViewerDialog(this);
  QList<LayerViewerDialog::Source> sources;
  const cv::Mat render = session_->currentRender();
  if (!render.empty()) sources.append({tr("Current render"), render});
  if (!content().isNull()) sources.append({tr("Content: %1").arg(content().name), content().rgb});
  for (const StyleImage& style : session_->styles())
    sources.append({tr("Style: %1").arg(style.image.name), style.image.rgb});
  layerViewer_->setSources(sources);
  const ModelPtr model = session_->model();
  layerViewer_->setModel(model ? withPooling(model, panel_->pooling()) : model);
  layerViewer_->show();
  layerViewer_->raise();
  return layerViewer_;
}

}  // namespace impasto
