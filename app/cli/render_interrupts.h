#pragma once

#include <signal.h>

#include "core/engine/render.h"

namespace impasto::cli {

// Ctrl-C (SIGINT) and TERM during a render command, from its first line on:
// the render stops at its next layer check and the current image is saved; a
// signal while the inputs or the model load ends the command before any
// output is made. Either way nothing is killed mid-write, so no partial or
// temporary file is left. A second signal of the same kind ends the program
// at once. One instance at a time; the previous handlers come back afterwards.
class RenderInterrupts {
 public:
  RenderInterrupts();
  ~RenderInterrupts();
  RenderInterrupts(const RenderInterrupts&) = delete;
  RenderInterrupts& operator=(const RenderInterrupts&) = delete;

  // Signals from now on cancel control (at once if one came already); nullptr detaches.
  void attach(RenderControl* control);
  // The signal that came, or 0.
  int signal() const;
  // 128 + the signal, as a shell reports a process it ended: 130 for SIGINT, 143 for TERM.
  int exitCode() const { return 128 + signal(); }

 private:
  struct sigaction oldInt_ {};
  struct sigaction oldTerm_ {};
};

}  // namespace impasto::cli
