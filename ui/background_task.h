#pragma once

#include <QObject>
#include <QPointer>
#include <functional>
#include <thread>

namespace impasto {

// Runs slow work (loading a 550 MB model, importing or downloading one, a
// layer's activations) off the GUI thread, one job at a time. `done` runs on
// the owner's thread afterwards. A request made while busy waits, and a newer
// request replaces it: when the user picks three models in a row, only the
// last is loaded after the current one.
// The destructor waits for the running job; the waiting one is dropped.
class BackgroundTask : public QObject {
  Q_OBJECT

 public:
  explicit BackgroundTask(QObject* parent = nullptr);
  ~BackgroundTask() override;

  void run(std::function<void()> work, std::function<void()> done);
  bool isBusy() const { return busy_; }
  // A newer request waits behind the running one: what `done` shows is already stale.
  bool hasPending() const { return bool(pendingWork_); }

 signals:
  void idle();

 private:
  void start(std::function<void()> work, std::function<void()> done);
  void finished();

  std::thread thread_;
  bool busy_ = false;
  std::function<void()> doneFn_;
  std::function<void()> pendingWork_;
  std::function<void()> pendingDone_;
};

}  // namespace impasto
