#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/settings/render_settings.h"
#include "ui/preset.h"

namespace impasto {

// What a render started with and how it was tuned while it ran, exported with
// its image so that a live-tuned render can be reproduced.
class RenderRecord {
 public:
  // A new render: its resolved settings, model, pooling and blend. Clears the history.
  void begin(Preset startedWith);
  const Preset& startedWith() const { return startedWith_; }

  // Weights submitted while the render ran, after the given iteration.
  void addWeightChange(int afterIteration, const LossWeights& weights);
  const std::vector<std::pair<int, LossWeights>>& weightHistory() const { return weightHistory_; }

  // The PNG text chunks of an export: the settings with the weights the render
  // ended with (they load back as a preset), the software, and the weight changes.
  std::map<std::string, std::string> exportMetadata(const LossWeights& finalWeights) const;

 private:
  Preset startedWith_;
  std::vector<std::pair<int, LossWeights>> weightHistory_;
};

}  // namespace impasto
