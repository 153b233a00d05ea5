#include "ui/render_controller.h"

#include <QMetaObject>

#include "core/settings/pyramid.h"
#include "core/util/error.h"
#include "ui/image_convert.h"

namespace impasto {

// What the worker has produced and the GUI thread has not yet taken. One
// queued call drains it, however many steps arrived meanwhile, so a fast
// render cannot flood the event queue.
struct RenderController::Mailbox {
  struct Pending {
    QList<StepReport> steps;
    QImage frame;  // null: no new frame to show
    int frameIteration = 0;
    cv::Mat latest;  // the newest frame, shown or not: what an export mid-render writes
    int latestIteration = 0;
    bool started = false;
    int width = 0;
    int height = 0;
  };

  std::mutex mutex;
  Pending pending;
  bool deliveryPosted = false;
};

class RenderController::Observer : public RenderObserver {
 public:
  Observer(RenderController& controller, std::chrono::steady_clock::duration minFrameInterval, int iterations)
      : controller_(controller),
        mailbox_(*controller.mailbox_),
        minFrameInterval_(minFrameInterval),
        iterations_(iterations) {}

  void onStarted(int width, int height) override {
    std::lock_guard<std::mutex> lock(mailbox_.mutex);
    mailbox_.pending.started = true;
    mailbox_.pending.width = width;
    mailbox_.pending.height = height;
    postLocked();
  }

  void onStep(const StepReport& report) override {
    std::lock_guard<std::mutex> lock(mailbox_.mutex);
    mailbox_.pending.steps.push_back(report);
    postLocked();
  }

  void onFrame(int iteration, const cv::Mat& frame) override {
    cv::Mat latest = frame.clone();
    const auto now = std::chrono::steady_clock::now();
    const bool last = iteration >= iterations_;
    QImage image;
    if (last || !lastFrame_ || now - *lastFrame_ >= minFrameInterval_) {
      lastFrame_ = now;
      image = toQImage(frame);  // deep copy, made here so the GUI thread does no conversion
    }
    std::lock_guard<std::mutex> lock(mailbox_.mutex);
    mailbox_.pending.latest = std::move(latest);
    mailbox_.pending.latestIteration = iteration;
    if (!image.isNull()) {
      mailbox_.pending.frame = std::move(image);
      mailbox_.pending.frameIteration = iteration;
    }
    postLocked();
  }

  void onCheckpoint(const RenderState& state) override {
    if (controller_.checkpointSink_) controller_.checkpointSink_(state);
  }

 private:
  void postLocked() {
    if (mailbox_.deliveryPosted) return;
    mailbox_.deliveryPosted = true;
    RenderController* controller = &controller_;
    QMetaObject::invokeMethod(
        controller, [controller] { controller->deliverPending(); }, Qt::QueuedConnection);
  }

  RenderController& controller_;
  Mailbox& mailbox_;
  std::chrono::steady_clock::duration minFrameInterval_;
  int iterations_;
  std::optional<std::chrono::steady_clock::time_point> lastFrame_;
};

RenderController::RenderController(QObject* parent)
    : QObject(parent),
      mailbox_(std::make_shared<Mailbox>()),
      minFrameInterval_(std::chrono::milliseconds(66)) {
  qRegisterMetaType<impasto::StepReport>();
  qRegisterMetaType<QList<impasto::StepReport>>();
}

RenderController::~RenderController() {
  if (worker_.joinable()) {
    control_->cancel();
    control_->setPaused(false);
    worker_.join();
  }
  // Calls the worker queued for this object die with it (QObject removes posted events).
}

void RenderController::setMaxFramesPerSecond(double fps) {
  minFrameInterval_ = fps > 0 ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    std::chrono::duration<double>(1.0 / fps))
                              : std::chrono::steady_clock::duration::zero();
}

bool RenderController::start(RenderJob job) {
  if (running_) return false;
  // The previous worker has posted its last call and ended; reap it.
  if (worker_.joinable()) worker_.join();
  control_ = std::make_unique<RenderControl>();
  {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    mailbox_->pending = {};
    mailbox_->deliveryPosted = false;
  }
  settings_ = job.settings;
  lastReport_ = {};
  latestFrame_.release();
  latestFrameIteration_ = 0;
  running_ = true;
  paused_ = false;
  worker_ = std::thread([this, job = std::move(job)]() mutable { runOnWorker(std::move(job)); });
  emit runningChanged(true);
  return true;
}

void RenderController::stop() {
  if (!running_) return;
  control_->cancel();
  // A paused engine must wake up to see the cancel.
  control_->setPaused(false);
  if (std::exchange(paused_, false)) emit pausedChanged(false);
}

void RenderController::setPaused(bool paused) {
  if (!running_ || paused == paused_) return;
  paused_ = paused;
  control_->setPaused(paused);
  emit pausedChanged(paused);
}

void RenderController::submitWeights(const LossWeights& weights) {
  settings_.weights = weights;
  if (running_) control_->submitWeights(weights);
}

void RenderController::runOnWorker(RenderJob job) {
  // Iterations count over all pyramid levels: the last frame is the last level's last.
  int total = 0;
  for (const PyramidLevel& level : pyramidLevels(job.settings)) total += level.iterations;
  Observer observer(*this, minFrameInterval_, total);
  RenderResult result;
  QString error;
  try {
    result = render(job, observer, *control_);
  } catch (const Error& e) {
    error = QString::fromStdString(e.what());
  } catch (const std::exception& e) {
    error = tr("The render failed unexpectedly: %1").arg(QString::fromStdString(e.what()));
  } catch (...) {
    error = tr("The render failed unexpectedly.");
  }
  QMetaObject::invokeMethod(
      this, [this, result = std::move(result), error] { workerDone(result, error); }, Qt::QueuedConnection);
}

void RenderController::deliverPending() {
  Mailbox::Pending taken;
  {
    std::lock_guard<std::mutex> lock(mailbox_->mutex);
    taken = std::exchange(mailbox_->pending, {});
    mailbox_->deliveryPosted = false;
  }
  if (taken.started) emit started(taken.width, taken.height);
  if (!taken.latest.empty()) {
    latestFrame_ = std::move(taken.latest);
    latestFrameIteration_ = taken.latestIteration;
  }
  if (!taken.steps.isEmpty()) {
    lastReport_ = taken.steps.back();
    emit stepsReported(taken.steps);
  }
  if (!taken.frame.isNull()) emit frameReady(taken.frameIteration, taken.frame);
}

void RenderController::workerDone(const RenderResult& result, const QString& error) {
  // Every delivery the worker queued has run: it posted them before this call.
  if (worker_.joinable()) worker_.join();
  running_ = false;
  paused_ = false;
  if (!result.image.empty()) result_ = result.image;
  if (result.last.iteration > 0) lastReport_ = result.last;
  emit runningChanged(false);
  if (!error.isEmpty())
    emit failed(error);
  else
    emit finished(result.cancelled);
}

}  // namespace impasto
