#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/library/downloader.h"
#include "core/models/manifest.h"

namespace impasto {

// The model a render uses when none is named.
inline constexpr const char* kDefaultModelName = "vgg19";

// A model the program knows how to download: one of resources/models/*.json,
// compiled into the binary.
struct RegistryEntry {
  ModelManifest manifest;
  std::string json;  // the manifest as shipped; installed beside the weights
  // Bytes to download: exact when every file's size is known, else an estimate.
  std::int64_t downloadSize = 0;
  bool downloadSizeExact = true;
};

// Parses a registry manifest (see resources/models); throws Error(Model).
RegistryEntry makeRegistryEntry(const std::string& json, const std::string& origin);

// The built-in registry, parsed from the compiled-in manifests (those with "files").
std::vector<RegistryEntry> builtinRegistry();

enum class InstallState { NotInstalled, Partial, Installed };

struct ModelStatus {
  std::string name;
  std::string title;
  bool builtIn = true;     // false: a model the user imported
  bool faceModel = false;  // the face networks: installable here, but no style model
  InstallState state = InstallState::NotInstalled;
  std::int64_t downloadSize = 0;  // 0 when unknown
  bool downloadSizeExact = true;
  bool sha256PrefixOnly = false;  // a file's publisher gives only a hash prefix
  std::int64_t bytesPresent = 0;  // installed files plus partial downloads
  std::filesystem::path directory;
  std::filesystem::path weightsPath;  // what loadModelFile takes
};

// One installed file checked against its recorded size and SHA-256.
struct FileCheck {
  std::string model;
  std::filesystem::path path;
  bool ok = false;
  std::string problem;  // empty when ok
};

// The models on this computer. Each lives in <cacheDir>/<name>/: its files plus
// its manifest, named so loadModelFile finds it (impasto.json beside a
// TensorFlow.js model.json, <stem>.json beside any other weights file).
//
// Methods are const and hold no state beyond the folder: several objects (a
// CLI command, a GUI dialog) can look at the same cache. install() takes a
// lock file, so two processes never download into the same .part.
class ModelLibrary {
 public:
  // cacheDir empty: defaultCacheDir().
  explicit ModelLibrary(std::filesystem::path cacheDir = {},
                        std::vector<RegistryEntry> registry = builtinRegistry());

  // $IMPASTO_MODEL_DIR, else $XDG_CACHE_HOME/impasto/models, else ~/.cache/impasto/models.
  static std::filesystem::path defaultCacheDir();

  const std::filesystem::path& cacheDir() const { return cacheDir_; }
  const std::vector<RegistryEntry>& registry() const { return registry_; }
  const RegistryEntry* find(const std::string& name) const;

  // Registry entries (sorted by name) followed by imported models.
  std::vector<ModelStatus> list() const;
  bool isInstalled(const std::string& name) const;
  std::filesystem::path modelDirectory(const std::string& name) const { return cacheDir_ / name; }

  // Downloads the missing files of a registry model, verifies them and writes
  // its manifest; returns the weights path. progress covers all files
  // together. mirror: see applyMirror (empty: $IMPASTO_MODEL_MIRROR).
  // Throws Error(Model) for an unknown name, Error(Network) with offline advice,
  // Error(Cancelled) with the .part kept.
  std::filesystem::path install(const std::string& name, const DownloadProgressFn& progress = {},
                                std::atomic<bool>* cancel = nullptr, const std::string& mirror = {}) const;

  // Installs a model file the user has. A file named like a registry file (say
  // vgg19-d01eb7cb.pth, or the model.json of darknet-reference) is checked
  // against the registry and installs that model, taking its other files from
  // the same folder. Any other file becomes a model named after its manifest
  // (the one given, or <stem>.json / impasto.json beside it) or its file stem.
  // The copy is validated by loading it and running the network once; a file
  // that fails leaves nothing installed. Returns the installed weights path.
  std::filesystem::path importFile(const std::filesystem::path& file,
                                   const std::filesystem::path& manifest = {}) const;

  // Re-hashes every installed file (registry and imported models).
  std::vector<FileCheck> verify() const;

  // A model argument as users type it: an existing file path is used as is; a
  // model name resolves to its installed weights. Throws Error(Model) saying
  // how to download a known model that is missing, or listing the known names.
  std::filesystem::path resolveModelArgument(const std::string& nameOrPath) const;

 private:
  struct Imported {
    ModelManifest manifest;
    std::filesystem::path directory;
  };
  std::vector<Imported> importedModels() const;
  std::filesystem::path importRegistryFiles(const RegistryEntry& entry,
                                            const std::filesystem::path& file) const;
  std::filesystem::path importCustom(const std::filesystem::path& file,
                                     const std::filesystem::path& manifest) const;
  void writeManifestIfChanged(const RegistryEntry& entry) const;
  [[noreturn]] void throwUnknownModel(const std::string& name) const;

  std::filesystem::path cacheDir_;
  std::vector<RegistryEntry> registry_;
};

// The name that goes beside a weights file so loadModelFile reads it.
std::filesystem::path manifestPathFor(const std::filesystem::path& weightsPath);

// One sentence on what a download or import of this model is checked against:
// the exact size and full SHA-256, or only a SHA-256 prefix and a size bound
// (where the publisher gives no more). Shown by the model manager.
std::string verificationSummary(const ModelManifest& manifest);

// ModelLibrary().resolveModelArgument(nameOrPath), with the default cache.
std::filesystem::path resolveModelArgument(const std::string& nameOrPath);

// Loads a model file and checks its weights are all finite; throws
// Error(Model) saying what is wrong. Used after imports so a bad file is
// caught at once.
void validateModelFile(const std::filesystem::path& weightsPath);

}  // namespace impasto
