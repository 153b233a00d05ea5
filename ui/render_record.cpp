#include "ui/render_record.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/util/version.h"

namespace impasto {

void RenderRecord::begin(Preset startedWith) {
  startedWith_ = std::move(startedWith);
  weightHistory_.clear();
}

void RenderRecord::addWeightChange(int afterIteration, const LossWeights& weights) {
  weightHistory_.emplace_back(afterIteration, weights);
}

std::map<std::string, std::string> RenderRecord::exportMetadata(const LossWeights& finalWeights) const {
  std::map<std::string, std::string> text;
  Preset preset = startedWith_;
  // Live changes are part of the result.
  preset.settings.weights = finalWeights;
  text[kSettingsKey] = presetToJson(preset).toStdString();
  text["Software"] = std::string("Impasto ") + version();
  if (!weightHistory_.empty()) {
    QJsonArray history;
    for (const auto& [iteration, weights] : weightHistory_) {
      QJsonObject layers;
      for (const auto& [name, lambda] : weights.styleLayers)
        layers.insert(QString::fromStdString(name), lambda);
      history.append(QJsonObject{{QStringLiteral("alpha"), weights.alpha},
                                 {QStringLiteral("beta"), weights.beta},
                                 {QStringLiteral("tv"), weights.tv},
                                 {QStringLiteral("style_layers"), layers},
                                 {QStringLiteral("from_iteration"), iteration + 1}});
    }
    text["impasto:weight-changes"] = QJsonDocument(history).toJson(QJsonDocument::Compact).toStdString();
  }
  return text;
}

}  // namespace impasto
