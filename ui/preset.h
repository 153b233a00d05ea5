#pragma once

#include <vector>

#include <QByteArray>
#include <QString>

#include "core/models/model.h"
#include "core/engine/render.h"

namespace impasto {

// Everything needed to reproduce a render's look, apart from the images:
// saved as a JSON preset and embedded in exported PNGs under kSettingsKey.
// The keys are those of core's describeSettings, so images the CLI renders
// load as presets too.
struct Preset {
  RenderSettings settings;
  QString model;  // library name, or a model file path
  Pooling pooling = Pooling::AsTrained;
  std::vector<double> styleBlend;
};

// The PNG tEXt key that holds the settings (the CLI writes the same one).
inline constexpr const char* kSettingsKey = "impasto:settings";

QByteArray presetToJson(const Preset& preset);
// Overwrites the fields the JSON names and keeps the rest of `into`, so a
// partial preset (only weights, say) applies on top of the current settings.
// Throws Error(Usage) naming origin and the bad field.
void applyPresetJson(const QByteArray& json, Preset& into, const QString& origin);

// Writes atomically; throws Error(Output).
void savePresetFile(const Preset& preset, const QString& path);
// Reads a .json preset, or the settings embedded in a PNG. Throws Error(Usage/Input).
void loadPresetFile(const QString& path, Preset& into);

}  // namespace impasto
