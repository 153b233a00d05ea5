#pragma once

#include <QString>

#include "core/settings/preset.h"

namespace impasto {

// The studio's side of core's preset format (core/settings/preset.h): paths
// as QString, and the built-in presets, which live in Qt resources
// (":/presets/…").
void loadPresetFile(const QString& path, Preset& into);
void savePresetFile(const Preset& preset, const QString& path);

}  // namespace impasto
