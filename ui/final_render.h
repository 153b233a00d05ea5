#pragma once

#include <QObject>
#include <QString>
#include <chrono>
#include <optional>

#include "core/engine/render.h"
#include "core/settings/preset.h"
#include "ui/rate_meter.h"

namespace impasto {

class RenderController;

// The studio's final render: the tuned settings at print size, run on its own
// controller in the background, checkpointed to a folder of the app's data
// (the checkpoint, a copy of the inputs in float and a description of the
// render with their SHA-256), so that a crash or a cancel can be resumed with
// the render's own inputs, settings and output path. A finished render writes
// its file atomically, with its preset embedded as an export does, and
// removes its checkpoint.
class FinalRender : public QObject {
  Q_OBJECT

 public:
  // What a final render is: everything but the pixels and the model.
  struct Description {
    QString output;   // the file written at the end
    QString modelId;  // the model, as the studio names it (catalog id or file path)
    Preset preset;    // resolved settings at the final size, pooling, blend
  };
  // A checkpoint read back, ready to resume once its model is loaded.
  struct Saved {
    Description description;
    RenderJob job;  // content, styles, blend, settings and resumeFrom; no model
  };

  // folder: where the checkpoint lives (created when a render starts).
  explicit FinalRender(QString folder, QObject* parent = nullptr);
  ~FinalRender() override;

  // <AppDataLocation>/final-render, or $IMPASTO_DATA_DIR/final-render.
  static QString defaultFolder();
  const QString& folder() const { return folder_; }
  QString checkpointPath() const;

  // Starts job (settings resolved at the final size). Saves its inputs first.
  // Throws Error for the user when a render runs already or the folder cannot
  // be written.
  void start(RenderJob job, const Description& description);
  // Continues a saved render with model (the one saved.description names).
  void resume(Saved saved, ModelPtr model);
  // Stops at the next layer; the last checkpoint stays for a later resume.
  void cancel();
  bool isRunning() const;
  RenderController* controller() const { return controller_; }
  const Description& description() const { return description_; }
  std::optional<double> secondsLeft() const { return workRate_.secondsLeft(1.0); }
  int checkpointsSaved() const { return checkpointsSaved_; }
  // The step the current render resumed from; 0 when it started afresh.
  int resumedFrom() const { return resumedFrom_; }

  // Checkpoints: every checkpointEvery steps or checkpointSeconds, whichever is first.
  void setCheckpointInterval(int steps, double seconds);

  // A checkpoint file is in the folder (maybe damaged: loadSaved says).
  bool hasCheckpoint() const;
  // Reads the checkpoint and its inputs back. Throws Error(Input) saying what
  // is wrong when it is damaged or its inputs no longer match it.
  Saved loadSaved() const;
  // Removes the checkpoint and the saved inputs.
  void discard();

 signals:
  void checkpointSaved(int iteration);
  // Finished: the file is written (written = true) or a cancel kept the checkpoint.
  void finished(bool cancelled, const QString& output);
  void failed(const QString& message);

 private:
  void run(RenderJob job);
  void saveInputs(const RenderJob& job);
  void onFinished(bool cancelled);
  void onCheckpointOnWorker(const RenderState& state);

  QString folder_;
  RenderController* controller_;
  Description description_;
  std::string identity_;  // the checkpoint's description of its render (JSON)
  int checkpointEvery_ = 25;
  double checkpointSeconds_ = 60.0;
  int checkpointsSaved_ = 0;
  int resumedFrom_ = 0;
  RateMeter workRate_;
};

}  // namespace impasto
