#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace impasto {

class ModelLibrary;

// The registry entry that downloads the face networks.
inline constexpr const char* kFaceModelName = "face-api";

// The weight manifests a face model folder must hold (each names its shards).
const std::vector<std::string>& faceModelManifests();

// Where the face networks are: $IMPASTO_FACE_MODELS (a folder laid out like
// face-api.js's weights/, for tests and offline machines), else the installed
// face-api model of the library. Throws Error(Model) with the download
// command when they are not there.
std::filesystem::path locateFaceModels(const ModelLibrary& library);
std::filesystem::path locateFaceModels();  // with the default model cache

}  // namespace impasto
