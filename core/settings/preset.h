#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/settings/render_settings.h"

namespace impasto {

// Everything needed to reproduce a render apart from its images: the studio
// saves it as a preset file, every export embeds it, and `impasto-cli
// --preset` reads either back. This module is the one JSON format for it.
struct Preset {
  RenderSettings settings;
  std::string model;  // registry name, or a model file path
  Pooling pooling = Pooling::AsTrained;
  std::vector<double> styleBlend;  // one weight per style image; empty: equal
  std::string initImage;           // the file behind InitKind::Image, when there is one
};

// A preset from a stranger must not make us read an arbitrary local file as a
// model: a model named by a path (anything with a '/') is loaded only when the
// user confirms it (the studio asks; the CLI wants --model after --preset).
bool namesModelFile(const Preset& preset);

// The PNG text key under which exports embed the preset.
inline constexpr const char* kSettingsPngKey = "impasto:settings";

// Every field, indented (files) or on one line (PNG text).
enum class JsonStyle { Indented, Compact };
std::string presetToJson(const Preset& preset, JsonStyle style = JsonStyle::Indented);

// Overwrites the fields the JSON names and keeps the rest of `into`, so a
// partial preset (only weights, say) applies on top of current settings. All
// or nothing: on a bad field `into` is untouched. Throws Error(Usage) naming
// origin and the field.
void applyPresetJson(std::string_view json, Preset& into, const std::string& origin);

// A .json preset, or the preset embedded in a PNG we exported. Throws
// Error(Input) when the file cannot be read or holds none, Error(Usage) when
// a field is bad.
void loadPresetFile(const std::filesystem::path& path, Preset& into);

// Writes atomically; throws Error(Output).
void savePresetFile(const Preset& preset, const std::filesystem::path& path);

// The weights alone, in the preset's spelling (checkpoints keep the weights in effect).
std::string lossWeightsToJson(const LossWeights& weights);
LossWeights lossWeightsFromJson(std::string_view json, const std::string& origin);

}  // namespace impasto
