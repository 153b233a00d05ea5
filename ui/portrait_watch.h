#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QRectF>
#include <QString>
#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "core/faces/portrait_guard.h"

class QTimer;

namespace impasto {

class BackgroundTask;
class ModelLibrary;

// The badge's words for a measure: "same person ✓ d = 0.41" while every face
// is below the threshold, else "identity drifting ✗ d = 0.73" (the worst
// face's d; with several faces, how many drift). Empty for no faces.
QString portraitBadgeText(const std::vector<FaceIdentity>& faces);
// Every face is the same person.
bool portraitBadgeGood(const std::vector<FaceIdentity>& faces);

// The studio's portrait guard. Finds the face models (IMPASTO_FACE_MODELS or
// the model library) and loads them, finds the content's faces, and measures
// d(C, G) on the newest frame: all of it off the GUI thread, the content's
// analysis newest-wins, a measure at most every minInterval on the newest
// frame (older ones are dropped), so neither the window nor the render waits.
class PortraitWatch : public QObject {
  Q_OBJECT

 public:
  // Locates the models now (cheap) and loads them in the background.
  explicit PortraitWatch(const ModelLibrary& library, QObject* parent = nullptr);
  // Waits for the running analysis or measure.
  ~PortraitWatch() override;

  // Looks for the models again (after the model manager installed them).
  void relocate();
  // Found on disk (loaded or loading); else unavailableReason() says how to get them.
  bool modelsAvailable() const { return unavailable_.isEmpty(); }
  const QString& unavailableReason() const { return unavailable_; }
  // Null until loaded.
  std::shared_ptr<const FaceModels> models() const { return models_; }

  // The content changed (CV_32FC3 RGB [0, 1]); an empty image clears it.
  void setContent(const cv::Mat& rgb);
  // The content's faces are being looked for (or wait for the models).
  bool isAnalyzing() const { return analyzing_; }
  // The analysis of the current content is done: hasFaces() tells.
  bool contentAnalyzed() const { return analyzed_; }
  bool hasFaces() const { return !faceBoxes_.isEmpty(); }
  // The content's faces (detector boxes) as fractions of the image, 0-1.
  const QList<QRectF>& faceBoxes() const { return faceBoxes_; }

  // A new frame of G (CV_8UC3 RGB or CV_32FC3 RGB [0, 1], copied): measured
  // when due, unless a newer one arrives first.
  void frameArrived(const cv::Mat& frame);
  // Forgets the last measure (a new render starts).
  void clearMeasure();
  // One entry per content face, in the order of faceBoxes(); empty until measured.
  const std::vector<FaceIdentity>& identities() const { return identities_; }
  int measureCount() const { return measureCount_; }
  void setMinInterval(int milliseconds) { minIntervalMs_ = milliseconds; }

 signals:
  void modelsChanged();  // located, loaded or failed to load
  void facesChanged();   // the content's analysis began or ended
  void measured();       // identities() holds a new measure

 private:
  struct Guard;
  void loadModels();
  void maybeMeasure();

  const ModelLibrary* library_;
  QString unavailable_;
  std::filesystem::path modelDir_;
  std::shared_ptr<const FaceModels> models_;
  // Filled on the analysis thread by the load, read by the analyses queued
  // behind it on the same task.
  std::shared_ptr<std::shared_ptr<const FaceModels>> loadedSlot_;
  BackgroundTask* analysis_;
  BackgroundTask* measure_;
  QTimer* due_;
  int generation_ = 0;         // of the content: results for an older one are dropped
  int measureGeneration_ = 0;  // of the measures: a measure begun before clearMeasure is dropped
  bool measureAtOnce_ = true;  // the first measure of a content or render does not wait
  bool analyzing_ = false;
  bool analyzed_ = false;
  cv::Mat content_;  // the last content given (shared pixels), analysed again when the models appear
  std::shared_ptr<Guard> guard_;
  QList<QRectF> faceBoxes_;
  cv::Mat pendingFrame_;  // the newest frame not measured yet
  QElapsedTimer sinceMeasure_;
  int minIntervalMs_ = 1500;
  std::vector<FaceIdentity> identities_;
  int measureCount_ = 0;
};

}  // namespace impasto
