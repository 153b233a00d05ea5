#include "checkpointing.h"

#include <nlohmann/json.hpp>

#include "core/library/sha256.h"
#include "core/util/error.h"

namespace impasto::cli {
namespace {

using Json = nlohmann::json;

Json fileEntry(const std::string& path) { return Json{{"path", path}, {"sha256", sha256File(path)}}; }

Json filesOf(const CliOptions& o) {
  Json styles = Json::array();
  for (const auto& style : o.styles) styles.push_back(fileEntry(style));
  Json files{{"content", fileEntry(o.content)}, {"styles", styles}};
  if (!o.preset.initImage.empty()) files["init_image"] = fileEntry(o.preset.initImage);
  return files;
}

}  // namespace

RenderIdentity::RenderIdentity(const CliOptions& o, const std::filesystem::path& modelFile) {
  Json settings = Json::parse(presetToJson(o.preset, JsonStyle::Compact));
  settings.erase("impasto_version");  // a newer build may continue an older one's render
  json_ = Json{{"settings", settings},
               {"files", filesOf(o)},
               {"model_sha256", sha256File(modelFile)},
               {"output", o.output}}
              .dump();
}

void RenderIdentity::requireSameAs(const Checkpoint& checkpoint) const {
  const Json mine = Json::parse(json_);
  const Json theirs = Json::parse(checkpoint.render, nullptr, false);
  auto refuse = [](const std::string& what) {
    throw Error(ErrorKind::Input,
                "The checkpoint belongs to another render: " + what +
                    ". Give the same inputs and settings, or start again without --resume.");
  };
  if (theirs.is_discarded() || !theirs.is_object()) refuse("it does not say which");
  if (theirs.value("settings", Json()) != mine["settings"]) refuse("the settings differ");
  if (theirs.value("model_sha256", Json()) != mine["model_sha256"]) refuse("the model file differs");
  const Json files = theirs.value("files", Json::object());
  if (files.value("content", Json::object()).value("sha256", Json()) != mine["files"]["content"]["sha256"])
    refuse("the content image differs");
  Json styles = Json::array(), myStyles = Json::array();
  for (const Json& s : files.value("styles", Json::array())) styles.push_back(s.value("sha256", Json()));
  for (const Json& s : mine["files"]["styles"]) myStyles.push_back(s["sha256"]);
  if (styles != myStyles) refuse("the style images differ");
  if (files.value("init_image", Json::object()).value("sha256", Json()) !=
      mine["files"].value("init_image", Json::object()).value("sha256", Json()))
    refuse("the init image differs");
}

void applyCheckpointRender(const Checkpoint& checkpoint, CliOptions& o) {
  const Json render = Json::parse(checkpoint.render, nullptr, false);
  if (!render.is_object() || !render.contains("settings") || !render.contains("files"))
    throw Error(ErrorKind::Input, "The checkpoint does not say which render it belongs to");
  try {
    o.preset = CliOptions::defaultPreset();
    applyPresetJson(render.at("settings").dump(), o.preset, "in the checkpoint");
    const Json& files = render.at("files");
    if (o.content.empty()) o.content = files.at("content").at("path").get<std::string>();
    if (o.styles.empty())
      for (const Json& s : files.at("styles")) o.styles.push_back(s.at("path").get<std::string>());
    if (o.output.empty()) o.output = render.at("output").get<std::string>();
  } catch (const Json::exception&) {
    throw Error(ErrorKind::Input, "The checkpoint's description of its render is damaged");
  }
}

}  // namespace impasto::cli
