#pragma once

#include <QImage>
#include <QList>
#include <QObject>
#include <QStringList>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "core/engine/render.h"
#include "core/models/model.h"
#include "ui/loaded_image.h"
#include "ui/preset.h"
#include "ui/rate_meter.h"
#include "ui/render_record.h"

namespace impasto {

class FaceModels;
class ModelCatalog;
class ModelLoader;
class RenderController;

struct StyleImage {
  LoadedImage image;
  double weight = 1.0;  // blend weight; the engine normalises the weights to sum 1
};

// The studio's document, without widgets: the content image, the style images
// and their blend weights, the model and its loading, the render (job, live
// weights and their history, the latest frame, the final float G, rate and
// time left) and the export. The window shows it and passes the parameter
// panel's settings in; views update themselves from the signals.
class StudioSession : public QObject {
  Q_OBJECT

 public:
  // With the model library in its default folder.
  explicit StudioSession(QObject* parent = nullptr);
  StudioSession(std::unique_ptr<ModelCatalog> catalog, QObject* parent);
  // Cancels and joins the render and the model loader.
  ~StudioSession() override;

  // Images. Each returns false, changing nothing, after emitting error().
  bool loadContent(const QString& path);
  bool setContentData(const QImage& image, const QString& name);
  const LoadedImage& content() const { return content_; }
  bool addStyle(const QString& path);
  bool addStyleData(const QImage& image, const QString& name);
  void removeStyle(int index);
  void clearStyles();
  int styleCount() const { return int(styles_.size()); }
  const std::vector<StyleImage>& styles() const { return styles_; }
  void setStyleWeight(int index, double weight);
  std::vector<double> styleWeights() const;

  // The model. useModel loads on a worker thread; modelReady follows.
  ModelCatalog& catalog() { return *catalog_; }
  void useModel(const QString& id);
  // "--model NAME|FILE"
  void useModelArgument(const QString& nameOrPath);
  // At start-up, unless a model is loaded or loading already: the preferred
  // one (the last session's) if installed, else the default or any installed.
  void useDefaultModel(const QString& preferred);
  // Installs an already loaded model (tests, and the end of useModel).
  void setModel(ModelPtr model, const QString& id);
  ModelPtr model() const { return model_; }
  const QString& modelId() const { return modelId_; }
  // The model being loaded, else the current one: what the picker shows.
  QString shownModelId() const;
  bool isModelLoading() const;
  // The model's own defaults (manifest α, β, layers). namesLayers is false
  // for a bare model file that names none: the user picks them.
  RenderSettings modelDefaults(bool& namesLayers) const;
  // Starts as soon as the model is loaded: startRequested() follows, or
  // modelReady(false). Returns true when it is ready now.
  bool startWhenReady();

  // The face models for the identity term (γ, Keep identity): renders built
  // while they are set can use it, and turn γ up or down live. Null: none.
  void setFaceModels(std::shared_ptr<const FaceModels> models) { faceModels_ = std::move(models); }
  const std::shared_ptr<const FaceModels>& faceModels() const { return faceModels_; }

  // Rendering. settings and pooling come from the parameter panel.
  enum class StartResult { Started, AlreadyRunning, NoContent, NoStyle, WaitingForModel, NoModel, Refused };
  // Copies the images, the model and the settings into a job. Throws Error
  // with a message for the user when they cannot make a render.
  RenderJob buildJob(const RenderSettings& settings, Pooling pooling) const;
  // Refused: error() said why.
  StartResult start(const RenderSettings& settings, Pooling pooling);
  void setPaused(bool paused);
  void stop();
  bool isRendering() const;
  bool isPaused() const;
  // New weights for the running render, from its next step; recorded in the
  // weight history. Returns false when nothing runs.
  bool submitWeights(const LossWeights& weights);
  const std::vector<WeightChange>& weightChanges() const { return record_.weightChanges(); }
  RenderController* controller() const { return controller_; }
  // The settings of the current or last render, with the live weights.
  const RenderSettings& renderSettings() const;
  const StepReport& lastReport() const;
  std::optional<double> stepsPerSecond() const { return rate_.rate(); }
  std::optional<double> secondsLeft() const;
  double secondsSinceStart() const;

  // Results. The final G (CV_32FC3 RGB [0, 1]) once a render has ended, and
  // the newest frame (CV_8UC3 RGB) as the engine produced it.
  const cv::Mat& result() const;
  const cv::Mat& latestFrame() const;
  bool hasOutput() const { return !exportPixels().empty(); }
  // What an export writes: the final G, or while a render runs its newest frame.
  cv::Mat exportPixels() const { return output().pixels; }
  // exportPixels() and the iteration that made them.
  struct Output {
    cv::Mat pixels;
    int iteration = 0;
  };
  Output output() const;
  // The same as CV_32FC3 RGB [0, 1], for the layer viewer; empty before a render.
  cv::Mat currentRender() const;
  // Writes exportPixels() with the settings embedded; replaces an existing
  // file. Throws Error for the user.
  void exportImage(const QString& path) const;

  // Presets: the panel's settings plus the session's model and blend.
  Preset preset(const RenderSettings& settings, Pooling pooling) const;
  struct PresetFit {
    QString switchingTo;        // the preset's model, now loading
    QString missingModel;       // the preset's model, not installed: the current one is kept
    QStringList unknownLayers;  // layers the current model does not have
    QString declinedModel;      // the preset's model file, which the user did not confirm
  };
  // Applies the blend weights, and switches to the preset's model when it is
  // installed; the window applies the settings to its panel. A model named by
  // a file path is loaded only when confirmModelFile(path) says yes: a preset
  // from a stranger must not make us read any local file as a model.
  PresetFit applyPreset(const Preset& preset, const std::function<bool(const QString&)>& confirmModelFile);

 signals:
  void contentChanged();
  void stylesChanged();  // a style added or removed
  void styleWeightChanged(int index, double weight);
  void modelLoading(const QString& id);
  void modelChanged();
  void modelReady(bool ok);
  // A model problem the model manager can fix (missing, corrupt, failed to load).
  void modelProblem(const QString& message);
  // startWhenReady: the model has loaded; start with the panel's settings now.
  void startRequested();
  void runningChanged(bool running);
  void pausedChanged(bool paused);
  void stepsReported(const QList<impasto::StepReport>& reports);
  void frameReady(int iteration, const QImage& frame);
  void weightsSubmitted(int afterIteration);
  // The render ended: all its iterations, or stopped (cancelled = true). result() holds G.
  void finished(bool cancelled);
  void error(const QString& message);

 private:
  // Runs load, reporting what it throws as error().
  std::optional<LoadedImage> decode(const std::function<LoadedImage()>& load);
  bool takeContent(std::optional<LoadedImage> image);
  bool takeStyle(std::optional<LoadedImage> image);
  void report(const std::exception& e);
  void onModelLoaded(const QString& id, ModelPtr model);
  void onModelFailed(const QString& message);
  void onSteps(const QList<StepReport>& reports);

  std::unique_ptr<ModelCatalog> catalog_;
  ModelLoader* loader_;
  RenderController* controller_;
  LoadedImage content_;
  std::vector<StyleImage> styles_;
  ModelPtr model_;
  QString modelId_;
  std::shared_ptr<const FaceModels> faceModels_;
  bool startWhenReady_ = false;
  RenderRecord record_;
  RateMeter rate_;      // steps
  RateMeter workRate_;  // the share of the render's work (StepReport::progress)
  double renderStart_ = 0.0;
};

}  // namespace impasto
