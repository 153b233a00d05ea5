#include "render_interrupts.h"

#include <atomic>

namespace impasto::cli {
namespace {

// Lock-free atomics: all a signal handler may touch.
std::atomic<int> received{0};
std::atomic<RenderControl*> activeControl{nullptr};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<RenderControl*>::is_always_lock_free);

void onSignal(int number) {
  int none = 0;
  received.compare_exchange_strong(none, number);  // the first one names the exit code
  if (RenderControl* control = activeControl.load()) control->cancel();
}

}  // namespace

RenderInterrupts::RenderInterrupts() {
  received = 0;
  activeControl = nullptr;
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  // SA_RESETHAND: the default action is back for a second signal, which kills.
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &action, &oldInt_);
  sigaction(SIGTERM, &action, &oldTerm_);
}

RenderInterrupts::~RenderInterrupts() {
  sigaction(SIGINT, &oldInt_, nullptr);
  sigaction(SIGTERM, &oldTerm_, nullptr);
  activeControl = nullptr;
}

void RenderInterrupts::attach(RenderControl* control) {
  activeControl = control;
  // A signal that came before the control was attached still counts.
  if (control && received.load() != 0) control->cancel();
}

int RenderInterrupts::signal() const { return received.load(); }

}  // namespace impasto::cli
