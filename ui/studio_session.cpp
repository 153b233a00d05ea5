#include "ui/studio_session.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>

#include "core/io/image_io.h"
#include "core/util/error.h"
#include "ui/model_catalog.h"
#include "ui/model_loader.h"
#include "ui/render_controller.h"

namespace impasto {

namespace {

double monotonicSeconds() {
  static QElapsedTimer timer;
  if (!timer.isValid()) timer.start();
  return double(timer.nsecsElapsed()) * 1e-9;
}

}  // namespace

StudioSession::StudioSession(QObject* parent) : StudioSession(std::make_unique<ModelCatalog>(), parent) {}

StudioSession::StudioSession(std::unique_ptr<ModelCatalog> catalog, QObject* parent)
    : QObject(parent),
      catalog_(catalog ? std::move(catalog) : std::make_unique<ModelCatalog>()),
      loader_(new ModelLoader(*catalog_, this)),
      controller_(new RenderController(this)) {
  connect(loader_, &ModelLoader::loaded, this, &StudioSession::onModelLoaded);
  connect(loader_, &ModelLoader::failed, this,
          [this](const QString&, const QString& message) { onModelFailed(message); });

  connect(controller_, &RenderController::frameReady, this, &StudioSession::frameReady);
  connect(controller_, &RenderController::stepsReported, this, &StudioSession::onSteps);
  connect(controller_, &RenderController::runningChanged, this, &StudioSession::runningChanged);
  connect(controller_, &RenderController::pausedChanged, this, [this](bool paused) {
    rate_.reset();
    workRate_.reset();
    emit pausedChanged(paused);
  });
  connect(controller_, &RenderController::finished, this, &StudioSession::finished);
  connect(controller_, &RenderController::failed, this, &StudioSession::error);
}

StudioSession::~StudioSession() {
  // Children are deleted after members, but the loader's thread reads catalog_
  // (a member): join it first. The controller cancels and joins the render.
  delete loader_;
  delete controller_;
}

void StudioSession::report(const std::exception& e) {
  const auto* problem = dynamic_cast<const Error*>(&e);
  if (problem && problem->kind() == ErrorKind::Model)
    emit modelProblem(QString::fromStdString(e.what()));
  else
    emit error(QString::fromStdString(e.what()));
}

// --- images ------------------------------------------------------------------

std::optional<LoadedImage> StudioSession::decode(const std::function<LoadedImage()>& load) {
  try {
    return load();
  } catch (const std::exception& e) {
    report(e);
    return std::nullopt;
  }
}

bool StudioSession::takeContent(std::optional<LoadedImage> image) {
  if (!image) return false;
  content_ = std::move(*image);
  emit contentChanged();
  return true;
}

bool StudioSession::takeStyle(std::optional<LoadedImage> image) {
  if (!image) return false;
  styles_.push_back({std::move(*image), 1.0});
  emit stylesChanged();
  return true;
}

bool StudioSession::loadContent(const QString& path) {
  return takeContent(decode([&] { return loadImageFile(path); }));
}

bool StudioSession::setContentData(const QImage& image, const QString& name) {
  return takeContent(decode([&] { return loadImageData(image, name); }));
}

bool StudioSession::addStyle(const QString& path) {
  return takeStyle(decode([&] { return loadImageFile(path); }));
}

bool StudioSession::addStyleData(const QImage& image, const QString& name) {
  return takeStyle(decode([&] { return loadImageData(image, name); }));
}

void StudioSession::removeStyle(int index) {
  if (index < 0 || index >= styleCount()) return;
  styles_.erase(styles_.begin() + index);
  emit stylesChanged();
}

void StudioSession::clearStyles() {
  styles_.clear();
  emit stylesChanged();
}

void StudioSession::setStyleWeight(int index, double weight) {
  if (index < 0 || index >= styleCount() || styles_[std::size_t(index)].weight == weight) return;
  styles_[std::size_t(index)].weight = weight;
  emit styleWeightChanged(index, weight);
}

std::vector<double> StudioSession::styleWeights() const {
  std::vector<double> weights;
  for (const StyleImage& style : styles_) weights.push_back(style.weight);
  return weights;
}

// --- model -------------------------------------------------------------------

void StudioSession::useModel(const QString& id) {
  if (id.isEmpty() || isRendering()) return;
  loader_->load(id);
  emit modelLoading(id);
}

void StudioSession::useModelArgument(const QString& nameOrPath) {
  useModel(catalog_->idForArgument(nameOrPath));
}

void StudioSession::useDefaultModel(const QString& preferred) {
  if (model_ || isModelLoading()) return;
  useModel(catalog_->defaultChoice(preferred.isEmpty() ? QString::fromLatin1(kDefaultModelName) : preferred));
}

bool StudioSession::isModelLoading() const { return loader_->isBusy(); }

QString StudioSession::shownModelId() const {
  return loader_->loadingId().isEmpty() ? modelId_ : loader_->loadingId();
}

void StudioSession::setModel(ModelPtr model, const QString& id) {
  model_ = std::move(model);
  modelId_ = id;
  emit modelChanged();
}

void StudioSession::onModelLoaded(const QString& id, ModelPtr model) {
  setModel(std::move(model), id);
  emit modelReady(true);
  if (std::exchange(startWhenReady_, false)) emit startRequested();
}

void StudioSession::onModelFailed(const QString& message) {
  startWhenReady_ = false;
  emit modelProblem(message);
  emit modelReady(false);
}

bool StudioSession::startWhenReady() {
  if (model_ && !isModelLoading()) return true;
  startWhenReady_ = true;
  return false;
}

RenderSettings StudioSession::modelDefaults(bool& namesLayers) const {
  RenderSettings defaults;
  namesLayers = true;
  if (!model_) return defaults;
  const ModelManifest& manifest = model_->manifest();
  defaults.weights.alpha = manifest.defaultAlpha.value_or(kDefaultAlpha);
  defaults.weights.beta = manifest.defaultBeta.value_or(kDefaultBeta);
  try {
    return resolveSettings(defaults, *model_);
  } catch (const std::exception&) {
    namesLayers = false;
    const auto names = model_->layerNames();
    if (!names.empty()) defaults.contentLayer = names.back();
    return defaults;
  }
}

// --- rendering ---------------------------------------------------------------

RenderJob StudioSession::buildJob(const RenderSettings& settings, Pooling pooling) const {
  if (content_.isNull() || styles_.empty() || !model_)
    throw Error(ErrorKind::Usage, "A render needs a content image, a style image and a model.");
  RenderJob job;
  job.content = content_.rgb;
  for (const StyleImage& style : styles_) job.styles.push_back(style.image.rgb);
  job.styleBlend = styleWeights();
  double blendSum = 0.0;
  for (double w : job.styleBlend) blendSum += w;
  if (!(blendSum > 0.0))
    throw Error(
        ErrorKind::Usage,
        tr("All style blend weights are 0: give at least one style image a weight above 0.").toStdString());
  job.model = withPooling(model_, pooling);
  job.settings = settings;
  job.settings.frameEvery = 1;  // the controller throttles frames to what the screen can show
  // Leave one core to the GUI thread: OpenMP workers spin while they wait, and
  // a render on every core starves the window (and itself, when oversubscribed).
  job.settings.threads = std::max(1, QThread::idealThreadCount() - 1);
  if (job.settings.weights.styleLayers.empty())
    throw Error(ErrorKind::Usage,
                tr("No style layer is checked: check at least one layer in the Layers table.").toStdString());
  job.settings = resolveSettings(job.settings, *job.model);
  job.faceModels = faceModels_;
  return job;
}

StudioSession::StartResult StudioSession::start(const RenderSettings& settings, Pooling pooling) {
  if (isRendering()) return StartResult::AlreadyRunning;
  if (content_.isNull()) return StartResult::NoContent;
  if (styles_.empty()) return StartResult::NoStyle;
  if (!model_) {
    if (!isModelLoading()) return StartResult::NoModel;
    startWhenReady_ = true;
    return StartResult::WaitingForModel;
  }
  RenderJob job;
  try {
    job = buildJob(settings, pooling);
  } catch (const std::exception& e) {
    report(e);
    return StartResult::Refused;
  }
  Preset started = preset(job.settings, pooling);
  record_.begin(std::move(started));
  rate_.reset();
  workRate_.reset();
  renderStart_ = monotonicSeconds();
  controller_->start(std::move(job));
  return StartResult::Started;
}

void StudioSession::setPaused(bool paused) { controller_->setPaused(paused); }

void StudioSession::stop() { controller_->stop(); }

bool StudioSession::isRendering() const { return controller_->isRunning(); }

bool StudioSession::isPaused() const { return controller_->isPaused(); }

const RenderSettings& StudioSession::renderSettings() const { return controller_->settings(); }

const StepReport& StudioSession::lastReport() const { return controller_->lastReport(); }

bool StudioSession::submitWeights(const LossWeights& weights) {
  if (!isRendering()) return false;
  controller_->submitWeights(weights);
  emit weightsSubmitted(controller_->lastReport().iteration);
  return true;
}

void StudioSession::onSteps(const QList<StepReport>& reports) {
  if (reports.isEmpty()) return;
  // The engine says on which step new weights took effect: replaying them
  // there reproduces the render exactly.
  for (const StepReport& r : reports)
    if (r.newWeights) record_.addWeightChange({r.iteration, *r.newWeights});
  if (!controller_->isPaused()) {
    rate_.add(monotonicSeconds(), reports.back().iteration);
    workRate_.add(monotonicSeconds(), reports.back().progress);
  }
  emit stepsReported(reports);
}

std::optional<double> StudioSession::secondsLeft() const {
  // Later pyramid levels cost more per step: extrapolate the work, not the steps.
  return workRate_.secondsLeft(1.0);
}

double StudioSession::secondsSinceStart() const { return monotonicSeconds() - renderStart_; }

// --- results -----------------------------------------------------------------

const cv::Mat& StudioSession::result() const { return controller_->result(); }

const cv::Mat& StudioSession::latestFrame() const { return controller_->latestFrame(); }

StudioSession::Output StudioSession::output() const {
  if (!isRendering() && !result().empty()) return {result(), lastReport().iteration};
  if (!latestFrame().empty()) return {latestFrame(), controller_->latestFrameIteration()};
  return {result(), lastReport().iteration};
}

cv::Mat StudioSession::currentRender() const {
  const cv::Mat pixels = exportPixels();
  if (pixels.empty() || pixels.type() == CV_32FC3) return pixels;
  cv::Mat rgb;
  pixels.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  return rgb;
}

void StudioSession::exportImage(const QString& path) const {
  const Output out = output();
  if (out.pixels.empty())
    throw Error(ErrorKind::Usage, tr("Nothing to export yet: start a render first.").toStdString());
  SaveOptions options;
  options.jpegQuality = 100;
  options.pngText = record_.exportMetadata(out.iteration);
  saveImage(out.pixels, path.toStdString(), options);
}

// --- presets -----------------------------------------------------------------

Preset StudioSession::preset(const RenderSettings& settings, Pooling pooling) const {
  Preset preset;
  preset.settings = settings;
  preset.pooling = pooling;
  preset.model = ModelCatalog::argumentFor(shownModelId()).toStdString();
  preset.styleBlend = styleWeights();
  return preset;
}

StudioSession::PresetFit StudioSession::applyPreset(
    const Preset& preset, const std::function<bool(const QString&)>& confirmModelFile) {
  PresetFit fit;
  for (int i = 0; i < styleCount() && i < int(preset.styleBlend.size()); ++i)
    setStyleWeight(i, preset.styleBlend[std::size_t(i)]);
  const QString presetModel = QString::fromStdString(preset.model);
  // The model shown is the one loaded or, while it loads, the one on its way:
  // a preset naming it (as one saved meanwhile does) asks for nothing.
  const bool otherModel = !presetModel.isEmpty() && ModelCatalog::argumentFor(shownModelId()) != presetModel;
  if (otherModel && namesModelFile(preset) && QFileInfo(presetModel).isFile() &&
      !confirmModelFile(presetModel)) {
    fit.declinedModel = presetModel;
  } else if (otherModel) {
    const QString id = catalog_->idForArgument(presetModel);
    bool usable = false;
    for (const ModelChoice& c : catalog_->choices())
      if (c.id == id) usable = c.usable;
    if (!usable) {
      fit.missingModel = presetModel;
    } else {
      // The preset's layers belong to the other model.
      model_.reset();
      modelId_.clear();
      fit.switchingTo = id;
      useModel(id);
      return fit;
    }
  }
  if (model_) {
    for (const auto& [name, lambda] : finalWeights(preset.settings).styleLayers)
      if (!model_->hasLayer(name)) fit.unknownLayers << QString::fromStdString(name);
    if (!preset.settings.contentLayer.empty() && !model_->hasLayer(preset.settings.contentLayer))
      fit.unknownLayers << QString::fromStdString(preset.settings.contentLayer);
  }
  return fit;
}

}  // namespace impasto
