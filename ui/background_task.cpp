#include "ui/background_task.h"

#include <QMetaObject>

namespace impasto {

BackgroundTask::BackgroundTask(QObject* parent) : QObject(parent) {}

BackgroundTask::~BackgroundTask() {
  if (thread_.joinable()) thread_.join();
}

void BackgroundTask::run(std::function<void()> work, std::function<void()> done) {
  if (busy_) {
    pendingWork_ = std::move(work);
    pendingDone_ = std::move(done);
    return;
  }
  start(std::move(work), std::move(done));
}

void BackgroundTask::start(std::function<void()> work, std::function<void()> done) {
  if (thread_.joinable()) thread_.join();
  busy_ = true;
  doneFn_ = std::move(done);
  thread_ = std::thread([this, work = std::move(work)] {
    // The work reports its own errors through what it captures; never let one end the program.
    try {
      work();
    } catch (...) {
    }
    QMetaObject::invokeMethod(
        this, [this] { finished(); }, Qt::QueuedConnection);
  });
}

void BackgroundTask::finished() {
  if (thread_.joinable()) thread_.join();
  busy_ = false;
  auto done = std::move(doneFn_);
  doneFn_ = {};
  if (done) done();
  if (pendingWork_ && !busy_) {
    auto work = std::move(pendingWork_);
    auto next = std::move(pendingDone_);
    pendingWork_ = {};
    pendingDone_ = {};
    start(std::move(work), std::move(next));
  }
  if (!busy_) emit idle();
}

}  // namespace impasto
