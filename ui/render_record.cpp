#include "ui/render_record.h"

#include <algorithm>

#include "core/util/version.h"

namespace impasto {

void RenderRecord::begin(Preset startedWith) {
  startedWith_ = std::move(startedWith);
  weightChanges_.clear();
}

std::map<std::string, std::string> RenderRecord::exportMetadata(int iteration) const {
  Preset preset = startedWith_;
  // A render stopped or exported midway: the replay stops there too.
  if (iteration > 0) preset.settings.iterations = std::min(preset.settings.iterations, iteration);
  for (const WeightChange& change : weightChanges_)
    if (change.fromIteration <= preset.settings.iterations) preset.settings.weightChanges.push_back(change);
  return {{kSettingsPngKey, presetToJson(preset, JsonStyle::Compact)},
          {"Software", std::string("Impasto ") + version()}};
}

}  // namespace impasto
