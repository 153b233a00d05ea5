#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/settings/preset.h"

namespace impasto {

// What a render started with and how it was tuned while it ran, exported with
// its image so that a live-tuned render can be reproduced (`impasto-cli
// --preset` replays the weight changes at the iterations they took effect).
class RenderRecord {
 public:
  // A new render: its resolved settings, model, pooling and blend. Clears the history.
  void begin(Preset startedWith);
  const Preset& startedWith() const { return startedWith_; }

  // Weights the engine took while the render ran, from the step it reported them on.
  void addWeightChange(const WeightChange& change) { weightChanges_.push_back(change); }
  const std::vector<WeightChange>& weightChanges() const { return weightChanges_; }

  // The PNG text chunks of an export made at `iteration`: the preset that
  // renders exactly those pixels (its iterations and weight changes up to
  // there), and the software.
  std::map<std::string, std::string> exportMetadata(int iteration) const;

 private:
  Preset startedWith_;
  std::vector<WeightChange> weightChanges_;
};

}  // namespace impasto
