#include "ui/portrait_watch.h"

#include <QTimer>
#include <algorithm>
#include <exception>

#include "core/library/face_model_location.h"
#include "core/library/model_library.h"
#include "ui/background_task.h"

namespace impasto {

QString portraitBadgeText(const std::vector<FaceIdentity>& faces) {
  if (faces.empty()) return {};
  double worst = 0.0;
  int drifting = 0;
  for (const FaceIdentity& face : faces) {
    worst = std::max(worst, face.distance);
    drifting += face.samePerson ? 0 : 1;
  }
  const QString d = QString::number(worst, 'f', 2);
  const int n = int(faces.size());
  if (drifting == 0)
    return n == 1 ? PortraitWatch::tr("same person ✓ d = %1").arg(d)
                  : PortraitWatch::tr("same person ✓ d = %1 (worst of %2 faces)").arg(d).arg(n);
  return n == 1
             ? PortraitWatch::tr("identity drifting ✗ d = %1").arg(d)
             : PortraitWatch::tr("identity drifting ✗ d = %1 (%2 of %3 faces)").arg(d).arg(drifting).arg(n);
}

bool portraitBadgeGood(const std::vector<FaceIdentity>& faces) {
  return std::all_of(faces.begin(), faces.end(), [](const FaceIdentity& f) { return f.samePerson; });
}

// The content's guard with the models it refers to. Used by one measure at a
// time (PortraitGuard is not reentrant): measures run one after another.
struct PortraitWatch::Guard {
  std::shared_ptr<const FaceModels> models;
  std::unique_ptr<PortraitGuard> guard;
};

PortraitWatch::PortraitWatch(const ModelLibrary& library, QObject* parent)
    : QObject(parent),
      library_(&library),
      loadedSlot_(std::make_shared<std::shared_ptr<const FaceModels>>()),
      analysis_(new BackgroundTask(this)),
      measure_(new BackgroundTask(this)),
      due_(new QTimer(this)) {
  due_->setSingleShot(true);
  connect(due_, &QTimer::timeout, this, &PortraitWatch::maybeMeasure);
  sinceMeasure_.start();
  relocate();
}

PortraitWatch::~PortraitWatch() {
  // The tasks join their threads; done callbacks queued for this object are dropped.
  delete measure_;
  delete analysis_;
}

void PortraitWatch::relocate() {
  if (models_) return;
  try {
    modelDir_ = locateFaceModels(*library_);
    unavailable_.clear();
  } catch (const std::exception& e) {
    unavailable_ = QString::fromStdString(e.what());
    emit modelsChanged();
    return;
  }
  loadModels();
  emit modelsChanged();
  if (!content_.empty()) setContent(content_);  // found later (the model manager installed them)
}

void PortraitWatch::loadModels() {
  auto slot = loadedSlot_;
  auto problem = std::make_shared<QString>();
  const std::filesystem::path dir = modelDir_;
  analysis_->run(
      [slot, problem, dir] {
        try {
          *slot = std::make_shared<const FaceModels>(dir);
        } catch (const std::exception& e) {
          *problem = QString::fromStdString(e.what());
        }
      },
      [this, slot, problem] {
        models_ = *slot;
        if (!models_) unavailable_ = *problem;
        emit modelsChanged();
      });
}

void PortraitWatch::setContent(const cv::Mat& rgb) {
  content_ = rgb;
  ++generation_;
  ++measureGeneration_;
  measureAtOnce_ = true;
  guard_.reset();
  faceBoxes_.clear();
  identities_.clear();
  pendingFrame_.release();
  analyzed_ = false;
  analyzing_ = !rgb.empty() && modelsAvailable();
  emit facesChanged();
  emit measured();
  if (!analyzing_) return;
  const cv::Mat content = rgb.clone();
  const int generation = generation_;
  auto slot = loadedSlot_;
  auto result = std::make_shared<std::shared_ptr<Guard>>();
  analysis_->run(
      [slot, content, result] {
        if (!*slot) return;  // the models failed to load
        auto guard = std::make_shared<Guard>();
        guard->models = *slot;
        guard->guard = std::make_unique<PortraitGuard>(*guard->models, content);
        *result = std::move(guard);
      },
      [this, generation, result, size = content.size()] {
        if (generation != generation_) return;  // the content changed meanwhile
        analyzing_ = false;
        analyzed_ = true;
        if (*result && (*result)->guard->hasFaces()) {
          guard_ = *result;
          for (const FaceAnalysis& face : guard_->guard->faces())
            faceBoxes_.append(QRectF(face.box.x / size.width, face.box.y / size.height,
                                     face.box.width / size.width, face.box.height / size.height));
        }
        emit facesChanged();
        maybeMeasure();
      });
}

void PortraitWatch::frameArrived(const cv::Mat& frame) {
  if (frame.empty() || !modelsAvailable()) return;
  pendingFrame_ = frame.clone();
  maybeMeasure();
}

void PortraitWatch::clearMeasure() {
  ++measureGeneration_;
  measureAtOnce_ = true;
  identities_.clear();
  pendingFrame_.release();
  emit measured();
}

void PortraitWatch::maybeMeasure() {
  if (!guard_ || pendingFrame_.empty() || measure_->isBusy()) return;
  const qint64 wait = minIntervalMs_ - sinceMeasure_.elapsed();
  if (wait > 0 && !measureAtOnce_) {
    if (!due_->isActive()) due_->start(int(wait));
    return;
  }
  cv::Mat frame = std::move(pendingFrame_);
  pendingFrame_.release();
  sinceMeasure_.restart();
  measureAtOnce_ = false;
  const int generation = measureGeneration_;
  auto guard = guard_;
  auto result = std::make_shared<std::vector<FaceIdentity>>();
  measure_->run(
      [guard, frame, result] {
        cv::Mat rgb = frame;
        if (rgb.depth() == CV_8U) frame.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
        *result = guard->guard->measure(rgb);
      },
      [this, generation, result] {
        if (generation == measureGeneration_ && !result->empty()) {
          identities_ = std::move(*result);
          ++measureCount_;
          emit measured();
        }
        maybeMeasure();  // a frame that came in meanwhile, when due
      });
}

}  // namespace impasto
