#pragma once

#include <QImage>
#include <QList>
#include <QObject>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <thread>

#include "core/engine/render.h"

namespace impasto {

// Owns the render thread (the pattern of Qt's Mandelbrot example): the engine
// runs core::render on a std::thread, reports come back as queued calls and
// are re-emitted as signals on the controller's (GUI) thread, so receivers
// never see the worker thread. Frames are deep-copied QImages, throttled to a
// frame rate the GUI can paint; step reports are batched. Control flows the
// other way through RenderControl without stopping the loop.
class RenderController : public QObject {
  Q_OBJECT

 public:
  explicit RenderController(QObject* parent = nullptr);
  // Cancels a running render and joins its thread: the engine returns within a layer.
  ~RenderController() override;

  // Starts rendering job on the worker thread. Returns false, doing nothing,
  // while another render is still running.
  bool start(RenderJob job);
  // Asks the engine to stop at its next layer (the step in flight is dropped); finished(true) follows.
  void stop();
  void setPaused(bool paused);
  // New α, β, λ or TV weights; the engine applies them at its next step.
  void submitWeights(const LossWeights& weights);

  bool isRunning() const { return running_; }
  bool isPaused() const { return running_ && paused_; }
  void setMaxFramesPerSecond(double fps);
  // Called on the worker thread with each checkpoint the job asks for
  // (RenderJob::checkpointEvery), so a large G is saved without a copy to the
  // GUI thread. Set it before start(); it must not throw.
  void setCheckpointSink(std::function<void(const RenderState&)> sink) { checkpointSink_ = std::move(sink); }

  // The settings of the current or last job, and its latest report.
  const RenderSettings& settings() const { return settings_; }
  const StepReport& lastReport() const { return lastReport_; }
  // The final G of the last render (CV_32FC3 RGB [0, 1]); empty until one ends.
  const cv::Mat& result() const { return result_; }
  // The newest frame of the current or last render as the engine produced it
  // (CV_8UC3 RGB), throttling aside; empty until the first frame.
  const cv::Mat& latestFrame() const { return latestFrame_; }
  int latestFrameIteration() const { return latestFrameIteration_; }

 signals:
  void started(int width, int height);
  void stepsReported(const QList<impasto::StepReport>& reports);
  void frameReady(int iteration, const QImage& frame);
  void pausedChanged(bool paused);
  void runningChanged(bool running);
  // The render ended: ran all its iterations, or was stopped (cancelled = true).
  void finished(bool cancelled);
  void failed(const QString& message);

 private:
  class Observer;
  friend class Observer;
  struct Mailbox;

  void runOnWorker(RenderJob job);
  void deliverPending();
  void workerDone(const RenderResult& result, const QString& error);

  std::unique_ptr<RenderControl> control_;
  std::shared_ptr<Mailbox> mailbox_;
  std::thread worker_;
  bool running_ = false;
  bool paused_ = false;
  std::chrono::steady_clock::duration minFrameInterval_;
  RenderSettings settings_;
  StepReport lastReport_;
  cv::Mat result_;
  cv::Mat latestFrame_;
  int latestFrameIteration_ = 0;
  std::function<void(const RenderState&)> checkpointSink_;
};

}  // namespace impasto

Q_DECLARE_METATYPE(impasto::StepReport)
