#include "core/library/face_model_location.h"

#include <cstdlib>

#include "core/library/model_library.h"
#include "core/util/error.h"

namespace impasto {
namespace {

// The first manifest missing from dir, or "" when all are there.
std::string firstMissingManifest(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const std::string& name : faceModelManifests())
    if (!std::filesystem::is_regular_file(dir / name, ec)) return name;
  return {};
}

}  // namespace

const std::vector<std::string>& faceModelManifests() {
  static const std::vector<std::string> names = {"tiny_face_detector_model-weights_manifest.json",
                                                 "face_landmark_68_model-weights_manifest.json",
                                                 "face_recognition_model-weights_manifest.json"};
  return names;
}

std::filesystem::path locateFaceModels(const ModelLibrary& library) {
  const std::string download = std::string("impasto-cli models download ") + kFaceModelName;
  if (const char* env = std::getenv("IMPASTO_FACE_MODELS"); env != nullptr && *env != '\0') {
    const std::filesystem::path dir(env);
    if (const std::string missing = firstMissingManifest(dir); !missing.empty())
      throw Error(ErrorKind::Model,
                  "IMPASTO_FACE_MODELS is '" + dir.string() + "', but it holds no " + missing +
                      ". Point it at a folder with the face-api.js weights, or unset it and "
                      "download the face models with: " +
                      download);
    return dir;
  }
  const std::filesystem::path dir = library.modelDirectory(kFaceModelName);
  if (!library.isInstalled(kFaceModelName) || !firstMissingManifest(dir).empty())
    throw Error(ErrorKind::Model,
                "The face models are not installed. Download them (6.8 MB) with: " + download +
                    " (or set IMPASTO_FACE_MODELS to a folder that holds them).");
  return dir;
}

std::filesystem::path locateFaceModels() { return locateFaceModels(ModelLibrary()); }

}  // namespace impasto
