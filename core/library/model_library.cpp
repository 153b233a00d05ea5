#include "core/library/model_library.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/private_file.h"
#include "core/library/sha256.h"
#include "core/models/embedded_files.h"
#include "core/models/layers.h"
#include "core/models/model.h"
#include "core/util/error.h"
#include "core/util/json_depth.h"
#include "core/util/text.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

const char* const kImportCommand = "impasto-cli models import";
const char* const kDownloadCommand = "impasto-cli models download";

std::int64_t fileSizeOr(const fs::path& path, std::int64_t fallback) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? fallback : std::int64_t(size);
}

fs::path weightsPathOf(const ModelManifest& manifest, const fs::path& directory) {
  if (!manifest.weightsFile.empty())
    return pathInside(directory, manifest.weightsFile, "The manifest's \"weights_file\"");
  return manifest.files.empty() ? fs::path() : directory / manifest.files.front().name;
}

// True when an installed file is complete. Files only reach their final name
// after verification, so presence with the right size is enough here; verify()
// re-hashes on request.
bool filePresent(const ModelFile& file, const fs::path& path) {
  if (!isRegularFile(path)) return false;
  return file.size <= 0 || fileSizeOr(path, -1) == file.size;
}

std::string sizeText(std::int64_t bytes, bool exact) {
  if (bytes <= 0) return "size unknown";
  return (exact ? "" : "about ") + formatByteSize(bytes);
}

// Model names become folder names: keep them plain.
bool isPlainName(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.size() > 100) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

[[noreturn]] void throwCannotCreate(const fs::path& dir, const std::error_code& ec) {
  throw Error(ErrorKind::Output, "Cannot create the model folder " + dir.string() + ": " + ec.message() +
                                     ". Set IMPASTO_MODEL_DIR to a folder you can write to.");
}

void createDirectories(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throwCannotCreate(dir, ec);
}

// An exclusive lock on <dir>/.lock for the lifetime of the object, so two
// processes never write the same .part or the same files at once.
class FolderLock {
 public:
  FolderLock(const fs::path& dir, const std::string& model) {
    const fs::path path = dir / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw Error(ErrorKind::Output, "Cannot write in the model folder " + dir.string() + ": " +
                                         std::strerror(errno) +
                                         ". Set IMPASTO_MODEL_DIR to a folder you can write to.");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error(ErrorKind::Network, "Another impasto process is installing '" + model +
                                          "' right now. Wait for it to finish, then try again.");
    }
  }
  ~FolderLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

// A scratch folder inside the cache (same file system, so its files can be
// renamed into place) that is removed whatever happens. Made by mkdtemp: a
// predictable name could be planted beforehand to redirect the copies.
class StagingFolder : public PrivateTempDir {
 public:
  StagingFolder(const fs::path& cacheDir, const std::string& name)
      : PrivateTempDir(cacheDir, ".import-" + name + "-") {}
};

// Why a file of `size` bytes cannot be `file`, or "" when it can be.
std::string sizeProblem(const ModelFile& file, std::int64_t size) {
  if (file.size > 0 && size != file.size)
    return "wrong size: " + std::to_string(size) + " bytes, expected " + std::to_string(file.size);
  if (file.maxSize > 0 && size > file.maxSize)
    return "too large: " + std::to_string(size) + " bytes, more than the stated bound of " +
           std::to_string(file.maxSize);
  return {};
}

void copyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec)
    throw Error(ErrorKind::Output,
                "Cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
}

void moveInto(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec)
    throw Error(ErrorKind::Output,
                "Cannot move " + from.string() + " to " + to.string() + ": " + ec.message());
}

// Puts the files `names` from `staged` into `dir` in place of everything dir
// holds now (but its .lock). The old files wait in `aside` until all the new
// ones are in, and go back if one cannot be moved: a failure never leaves the
// model folder empty or half replaced.
void replaceFolderContents(const fs::path& dir, const fs::path& staged, const std::vector<std::string>& names,
                           const fs::path& aside) {
  std::vector<fs::path> old;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() != ".lock") old.push_back(it->path().filename());
  if (ec)
    throw Error(ErrorKind::Output, "Cannot read the model folder " + dir.string() + ": " + ec.message());
  std::vector<fs::path> movedAside, movedIn;
  try {
    for (const auto& entry : old) {
      moveInto(dir / entry, aside / entry);
      movedAside.push_back(entry);
    }
    for (const auto& name : names) {
      moveInto(staged / name, dir / name);
      movedIn.push_back(name);
    }
  } catch (const Error&) {
    std::error_code ignored;
    for (const auto& entry : movedIn) fs::remove_all(dir / entry, ignored);
    for (const auto& entry : movedAside) fs::rename(aside / entry, dir / entry, ignored);
    throw;
  }
}

// The shard files a TensorFlow.js model.json names (weightsManifest[].paths[]).
std::vector<std::string> tfjsShardNames(const fs::path& modelJson) {
  std::vector<std::string> names;
  try {
    const std::string text = readFileBytes(modelJson);
    if (jsonNestingDepth(text) > kMaxJsonDepth) return names;  // the loader says what is wrong
    const auto doc = nlohmann::json::parse(text);
    for (const auto& group : doc.value("weightsManifest", nlohmann::json::array()))
      for (const auto& path : group.value("paths", nlohmann::json::array()))
        if (path.is_string()) names.push_back(fs::path(path.get<std::string>()).filename().string());
  } catch (const nlohmann::json::exception&) {
    // Not a TensorFlow.js model: the loader reports that better than we can.
  }
  return names;
}

bool isTfjsModel(const fs::path& weights) { return weights.extension() == ".json"; }

std::string advice(const RegistryEntry& entry, const fs::path& dir) {
  const auto& files = entry.manifest.files;
  std::ostringstream out;
  if (files.size() == 1) {
    out << "\nIf this computer cannot reach these addresses, download " << files[0].name
        << " on another one and install it with:\n  " << kImportCommand << " /path/to/" << files[0].name
        << "\nor copy it to " << (dir / files[0].name).string() << ".";
  } else {
    std::vector<std::string> names;
    for (const auto& f : files) names.push_back(f.name);
    const fs::path weights = weightsPathOf(entry.manifest, fs::path("FOLDER"));
    out << "\nIf this computer cannot reach these addresses, download the " << files.size() << " files of '"
        << entry.manifest.name << "' (" << joined(names) << ") into one folder on another computer"
        << " and install them with:\n  " << kImportCommand << " " << weights.string()
        << "\nor copy them into " << dir.string() << "/.";
  }
  out << "\nBehind a proxy, set https_proxy (and http_proxy); to use a mirror, pass --mirror URL or set "
         "IMPASTO_MODEL_MIRROR.";
  return out.str();
}

fs::path homeDirectory() {
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') return home;
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  return fs::temp_directory_path();
}

}  // namespace

std::string verificationSummary(const ModelManifest& manifest) {
  const auto& files = manifest.files;
  if (files.empty()) return "No files are listed, so nothing is checked.";
  const bool full = std::all_of(files.begin(), files.end(),
                                [](const ModelFile& f) { return f.size > 0 && f.sha256.size() == 64; });
  if (full) return "Checked: the exact size and the full SHA-256 of every file.";
  std::string text = "Checked:";
  for (const auto& f : files) {
    text += (&f == &files.front() ? " " : "; ") + f.name + ": ";
    if (f.sha256.empty())
      text += "no checksum";
    else if (f.sha256PrefixOnly())
      text += "only the SHA-256 prefix " + f.sha256 + " (all the publisher gives)";
    else
      text += "the full SHA-256";
    if (f.size > 0)
      text += ", exact size";
    else if (f.maxSize > 0)
      text += ", at most " + formatByteSize(f.maxSize) + " (a larger download is refused)";
    else
      text += ", size not bounded";
  }
  return text + ".";
}

RegistryEntry makeRegistryEntry(const std::string& json, const std::string& origin) {
  RegistryEntry entry;
  entry.manifest = parseManifest(json, origin);
  entry.json = json;
  if (!isPlainName(entry.manifest.name))
    throw Error(ErrorKind::Model, "Model manifest " + origin +
                                      ": field \"name\" must be a plain name (letters, digits, - _ .)");
  // "approximate_size" is a registry-only hint for files whose exact size is
  // not published; manifest.cpp has no use for it.
  const auto doc = nlohmann::json::parse(json);
  const auto& files = doc.value("files", nlohmann::json::array());
  for (std::size_t i = 0; i < entry.manifest.files.size(); ++i) {
    const ModelFile& file = entry.manifest.files[i];
    if (file.size > 0) {
      entry.downloadSize += file.size;
      continue;
    }
    entry.downloadSizeExact = false;
    if (i < files.size() && files[i].contains("approximate_size") &&
        files[i]["approximate_size"].is_number_integer())
      entry.downloadSize += files[i]["approximate_size"].get<std::int64_t>();
  }
  return entry;
}

std::vector<RegistryEntry> builtinRegistry() {
  std::vector<RegistryEntry> entries;
  for (const auto& source : builtinManifestSources()) {
    RegistryEntry entry =
        makeRegistryEntry(std::string(source.bytes), "resources/models/" + std::string(source.fileName));
    if (!entry.manifest.files.empty()) entries.push_back(std::move(entry));
  }
  return entries;
}

fs::path manifestPathFor(const fs::path& weightsPath) {
  // model.json is the TensorFlow.js graph itself, so its manifest needs another name.
  if (isTfjsModel(weightsPath)) return weightsPath.parent_path() / "impasto.json";
  fs::path manifest = weightsPath;
  return manifest.replace_extension(".json");
}

ModelLibrary::ModelLibrary(fs::path cacheDir, std::vector<RegistryEntry> registry)
    : cacheDir_(cacheDir.empty() ? defaultCacheDir() : std::move(cacheDir)), registry_(std::move(registry)) {
  std::sort(registry_.begin(), registry_.end(),
            [](const RegistryEntry& a, const RegistryEntry& b) { return a.manifest.name < b.manifest.name; });
}

fs::path ModelLibrary::defaultCacheDir() {
  if (const char* dir = std::getenv("IMPASTO_MODEL_DIR"); dir != nullptr && *dir != '\0') return dir;
  // The XDG spec says to ignore relative values.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && fs::path(xdg).is_absolute())
    return fs::path(xdg) / "impasto" / "models";
  return homeDirectory() / ".cache" / "impasto" / "models";
}

const RegistryEntry* ModelLibrary::find(const std::string& name) const {
  for (const auto& entry : registry_)
    if (entry.manifest.name == name) return &entry;
  return nullptr;
}

std::vector<ModelLibrary::Imported> ModelLibrary::importedModels() const {
  std::vector<Imported> models;
  std::error_code ec;
  for (fs::directory_iterator it(cacheDir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_directory(ec) || name.empty() || name.front() == '.' || find(name) != nullptr) continue;
    std::error_code inner;
    for (fs::directory_iterator file(it->path(), inner), fileEnd; !inner && file != fileEnd;
         file.increment(inner)) {
      if (file->path().extension() != ".json") continue;
      try {
        ModelManifest manifest = readManifest(file->path());
        if (manifest.weightsFile.empty() || !isRegularFile(it->path() / manifest.weightsFile)) continue;
        models.push_back({std::move(manifest), it->path()});
        break;
      } catch (const Error&) {
        continue;  // model.json and other files that are not our manifests
      }
    }
  }
  std::sort(models.begin(), models.end(),
            [](const Imported& a, const Imported& b) { return a.manifest.name < b.manifest.name; });
  return models;
}

std::vector<ModelStatus> ModelLibrary::list() const {
  std::vector<ModelStatus> statuses;
  for (const auto& entry : registry_) {
    ModelStatus status;
    status.name = entry.manifest.name;
    status.title = entry.manifest.title;
    status.faceModel = entry.manifest.format == kFaceModelFormat;
    status.downloadSize = entry.downloadSize;
    status.downloadSizeExact = entry.downloadSizeExact;
    status.sha256PrefixOnly = std::any_of(entry.manifest.files.begin(), entry.manifest.files.end(),
                                          [](const ModelFile& f) { return f.sha256PrefixOnly(); });
    status.directory = modelDirectory(status.name);
    status.weightsPath = weightsPathOf(entry.manifest, status.directory);
    bool all = true;
    bool any = false;
    for (const auto& file : entry.manifest.files) {
      const fs::path path = status.directory / file.name;
      if (filePresent(file, path)) {
        any = true;
        status.bytesPresent += fileSizeOr(path, 0);
      } else {
        all = false;
        const std::int64_t partial = fileSizeOr(partialDownloadPath(path), 0);
        any = any || partial > 0;
        status.bytesPresent += partial;
      }
    }
    status.state = all ? InstallState::Installed : any ? InstallState::Partial : InstallState::NotInstalled;
    statuses.push_back(std::move(status));
  }
  for (const auto& model : importedModels()) {
    ModelStatus status;
    status.name = model.manifest.name;
    status.title = model.manifest.title;
    status.builtIn = false;
    status.state = InstallState::Installed;
    status.directory = model.directory;
    status.weightsPath = weightsPathOf(model.manifest, model.directory);
    for (const auto& file : model.manifest.files)
      status.bytesPresent += fileSizeOr(model.directory / file.name, 0);
    status.downloadSize = status.bytesPresent;
    statuses.push_back(std::move(status));
  }
  return statuses;
}

bool ModelLibrary::isInstalled(const std::string& name) const {
  if (const RegistryEntry* entry = find(name)) {
    const fs::path dir = modelDirectory(name);
    return std::all_of(entry->manifest.files.begin(), entry->manifest.files.end(),
                       [&](const ModelFile& file) { return filePresent(file, dir / file.name); });
  }
  const auto imported = importedModels();
  return std::any_of(imported.begin(), imported.end(),
                     [&](const Imported& m) { return m.manifest.name == name; });
}

void ModelLibrary::writeManifestIfChanged(const RegistryEntry& entry) const {
  const fs::path path = manifestPathFor(weightsPathOf(entry.manifest, modelDirectory(entry.manifest.name)));
  std::string current;
  const bool exists = isRegularFile(path);
  if (exists) {
    try {
      current = readFileBytes(path);
    } catch (const Error&) {
    }
  }
  if (current == entry.json) return;
  try {
    // Rewritten when this build's registry differs, so the installed manifest
    // always matches the program that reads it.
    writeFileAtomically(path, entry.json);
  } catch (const Error&) {
    if (!exists) throw;  // a read-only cache with an older manifest still works
  }
}

fs::path ModelLibrary::install(const std::string& name, const DownloadProgressFn& progress,
                               std::atomic<bool>* cancel, const std::string& mirror) const {
  const RegistryEntry* entry = find(name);
  if (entry == nullptr) throwUnknownModel(name);
  const fs::path dir = modelDirectory(name);
  createDirectories(dir);
  FolderLock lock(dir, name);

  std::vector<const ModelFile*> missing;
  std::int64_t completed = 0;
  std::int64_t remaining = 0;
  for (const auto& file : entry->manifest.files) {
    const fs::path path = dir / file.name;
    if (filePresent(file, path)) {
      completed += fileSizeOr(path, 0);
    } else {
      missing.push_back(&file);
      remaining += std::max<std::int64_t>(0, file.size - fileSizeOr(partialDownloadPath(path), 0));
    }
  }
  std::error_code ec;
  const auto space = fs::space(dir, ec);
  if (!ec && remaining > 0 && std::int64_t(space.available) < remaining + (16 << 20))
    throw Error(ErrorKind::Output,
                "Not enough disk space in " + dir.string() + ": '" + name + "' needs " +
                    formatByteSize(remaining) + ", " + formatByteSize(std::int64_t(space.available)) +
                    " is free. Free some space, or set IMPASTO_MODEL_DIR to a folder on another disk.");

  const std::int64_t grandTotal = entry->downloadSize;
  for (const ModelFile* file : missing) {
    const fs::path destination = dir / file->name;
    DownloadOptions options;
    options.cancel = cancel;
    options.mirror = mirror;
    options.maxSize = file->maxSize;
    if (progress) {
      options.progress = [&, completedBefore = completed](std::int64_t done, std::int64_t total, double rate,
                                                          double) {
        const std::int64_t overall = completedBefore + done;
        std::int64_t all =
            grandTotal > 0 ? std::max(grandTotal, overall) : (total > 0 ? completedBefore + total : 0);
        const double eta = rate > 0 && all > 0 ? double(all - overall) / rate : -1.0;
        progress(overall, all, rate, eta);
      };
    }
    try {
      downloadFile(file->urls, file->size, file->sha256, destination, options);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Network) throw;
      throw Error(ErrorKind::Network, std::string(e.what()) + advice(*entry, dir));
    }
    completed += fileSizeOr(destination, 0);
  }
  writeManifestIfChanged(*entry);
  return weightsPathOf(entry->manifest, dir);
}

fs::path ModelLibrary::importFile(const fs::path& given, const fs::path& manifest) const {
  std::error_code ec;
  fs::path file = given;
  if (fs::is_directory(file, ec)) {
    if (!isRegularFile(file / "model.json"))
      throw Error(ErrorKind::Input, given.string() + " is a folder; give the model file inside it.");
    file = file / "model.json";
  }
  if (!isRegularFile(file)) throw Error(ErrorKind::Input, "No such file: " + given.string());
  createDirectories(cacheDir_);

  if (manifest.empty()) {
    const std::string fileName = file.filename().string();
    for (const auto& entry : registry_) {
      for (const auto& registered : entry.manifest.files) {
        if (registered.name != fileName) continue;
        // A registry file whose name carries its hash (vgg19-d01eb7cb.pth) that
        // does not match is a damaged copy; a generic name (model.json) that
        // does not match is simply another model.
        const bool nameCarriesHash = registered.sha256.size() >= 8 &&
                                     fileName.find(registered.sha256.substr(0, 8)) != std::string::npos;
        if (nameCarriesHash || registered.sha256.empty() ||
            sha256Matches(registered.sha256, sha256File(file)))
          return importRegistryFiles(entry, file);
      }
    }
  }
  return importCustom(file, manifest);
}

fs::path ModelLibrary::importRegistryFiles(const RegistryEntry& entry, const fs::path& file) const {
  const fs::path source = file.parent_path();
  std::vector<std::string> absent;
  for (const auto& f : entry.manifest.files)
    if (!isRegularFile(source / f.name)) absent.push_back(f.name);
  if (!absent.empty())
    throw Error(ErrorKind::Input, "'" + entry.manifest.name + "' also needs " + joined(absent) + " in " +
                                      (source.empty() ? fs::path(".") : source).string() +
                                      ". Put all its files in one folder and import again.");
  for (const auto& f : entry.manifest.files) {
    const fs::path path = source / f.name;
    if (const std::string problem = sizeProblem(f, fileSizeOr(path, -1)); !problem.empty())
      throw Error(ErrorKind::Model,
                  path.string() + " cannot be the file '" + entry.manifest.name + "' needs (" + problem +
                      "): the file is incomplete or a different one. Nothing was installed.");
    if (f.sha256.empty()) continue;
    const std::string digest = sha256File(path);
    if (!sha256Matches(f.sha256, digest))
      throw Error(ErrorKind::Model, path.string() + " is not the file '" + entry.manifest.name +
                                        "' needs: its SHA-256 is " + digest + ", expected " + f.sha256 +
                                        (f.sha256.size() < 64 ? "..." : "") +
                                        ". Download it again. Nothing was installed.");
  }

  const std::string& name = entry.manifest.name;
  const fs::path dir = modelDirectory(name);
  createDirectories(dir);
  FolderLock lock(dir, name);
  StagingFolder staging(cacheDir_, name);
  for (const auto& f : entry.manifest.files) copyFile(source / f.name, staging.path() / f.name);
  const fs::path stagedWeights = weightsPathOf(entry.manifest, staging.path());
  writeFileAtomically(manifestPathFor(stagedWeights), entry.json);
  // The face networks are no style model for the loader; their hashes were checked above.
  if (entry.manifest.format != kFaceModelFormat) validateModelFile(stagedWeights);

  for (const auto& f : entry.manifest.files) moveInto(staging.path() / f.name, dir / f.name);
  writeManifestIfChanged(entry);
  return weightsPathOf(entry.manifest, dir);
}

fs::path ModelLibrary::importCustom(const fs::path& file, const fs::path& manifestFile) const {
  const fs::path besideManifest = manifestPathFor(file);
  const fs::path manifestPath = !manifestFile.empty()           ? manifestFile
                                : isRegularFile(besideManifest) ? besideManifest
                                                                : fs::path();
  ordered_json doc = ordered_json::object();
  if (!manifestPath.empty()) {
    const std::string text = readFileBytes(manifestPath);
    parseManifest(text, manifestPath.string());  // reports a bad manifest with its own messages
    doc = ordered_json::parse(text);
  } else {
    // A model.json is named after its folder; anything else after its stem.
    std::string name =
        isTfjsModel(file) ? fs::absolute(file).parent_path().filename().string() : file.stem().string();
    std::replace_if(
        name.begin(), name.end(),
        [](unsigned char c) { return !(std::isalnum(c) || c == '-' || c == '_' || c == '.'); }, '-');
    while (!name.empty() && name.front() == '.') name.erase(0, 1);
    doc["name"] = name;
  }
  const std::string name = doc["name"].get<std::string>();
  if (!isPlainName(name))
    throw Error(ErrorKind::Usage,
                "Cannot import under the name '" + name +
                    "': a model name may hold letters, digits, '-', '_' and '.', and must not start "
                    "with '.'. Set \"name\" in the manifest.");
  if (find(name) != nullptr)
    throw Error(ErrorKind::Usage, "'" + name + "' is a built-in model, and " + file.string() +
                                      " is not its file. Give the import a manifest with another \"name\".");

  std::vector<std::string> fileNames{file.filename().string()};
  if (isTfjsModel(file)) {
    for (const auto& shard : tfjsShardNames(file))
      if (isRegularFile(file.parent_path() / shard)) fileNames.push_back(shard);
  }

  const fs::path dir = modelDirectory(name);
  createDirectories(dir);
  FolderLock lock(dir, name);
  StagingFolder staging(cacheDir_, name);
  ordered_json files = ordered_json::array();
  for (const auto& fileName : fileNames) {
    const fs::path staged = staging.path() / fileName;
    copyFile(file.parent_path() / fileName, staged);
    // Recorded so verify() can tell later whether the copy is still intact.
    files.push_back({{"name", fileName}, {"size", fileSizeOr(staged, 0)}, {"sha256", sha256File(staged)}});
  }
  doc["files"] = files;
  doc["weights_file"] = file.filename().string();
  const fs::path stagedWeights = staging.path() / file.filename();
  const std::string manifestText = doc.dump(2) + "\n";
  parseManifest(manifestText, manifestPath.empty() ? file.string() : manifestPath.string());
  writeFileAtomically(manifestPathFor(stagedWeights), manifestText);
  validateModelFile(stagedWeights);

  // Replaces an earlier import of the same name completely (its stale files
  // must not linger beside the new ones), but only now that the new copy has
  // passed every check, and keeping the old one until the new one is in.
  fileNames.push_back(manifestPathFor(stagedWeights).filename().string());
  PrivateTempDir previous(cacheDir_, ".previous-" + name + "-");
  replaceFolderContents(dir, staging.path(), fileNames, previous.path());
  return dir / file.filename();
}

std::vector<FileCheck> ModelLibrary::verify() const {
  std::vector<FileCheck> checks;
  auto check = [&](const std::string& model, const ModelFile& file, const fs::path& path) {
    FileCheck result{model, path, false, {}};
    const std::int64_t size = fileSizeOr(path, -1);
    if (size < 0) {
      result.problem = "missing";
    } else if (std::string problem = sizeProblem(file, size); !problem.empty()) {
      result.problem = std::move(problem);
    } else if (!file.sha256.empty()) {
      const std::string digest = sha256File(path);
      if (!sha256Matches(file.sha256, digest))
        result.problem = "checksum mismatch: SHA-256 " + digest + ", expected " + file.sha256 +
                         (file.sha256.size() < 64 ? "..." : "");
    }
    result.ok = result.problem.empty();
    checks.push_back(std::move(result));
  };
  for (const auto& entry : registry_) {
    const fs::path dir = modelDirectory(entry.manifest.name);
    const bool any = std::any_of(entry.manifest.files.begin(), entry.manifest.files.end(),
                                 [&](const ModelFile& f) { return isRegularFile(dir / f.name); });
    if (!any) continue;  // not installed: nothing to check
    for (const auto& file : entry.manifest.files) check(entry.manifest.name, file, dir / file.name);
  }
  for (const auto& model : importedModels())
    for (const auto& file : model.manifest.files)
      check(model.manifest.name, file, model.directory / file.name);
  return checks;
}

fs::path ModelLibrary::resolveModelArgument(const std::string& argument) const {
  const std::string nameOrPath = argument.empty() ? std::string(kDefaultModelName) : argument;
  std::error_code ec;
  const fs::path path(nameOrPath);
  if (fs::is_directory(path, ec) && isRegularFile(path / "model.json")) return path / "model.json";
  if (isRegularFile(path)) return path;

  if (const RegistryEntry* entry = find(nameOrPath)) {
    if (entry->manifest.format == kFaceModelFormat)
      throw Error(ErrorKind::Model,
                  "'" + nameOrPath +
                      "' holds the face networks (for 'impasto-cli faces' and the portrait guard); "
                      "it is not a style model. Pick a style model, e.g. " +
                      kDefaultModelName + ".");
    const fs::path dir = modelDirectory(nameOrPath);
    const auto statuses = list();
    const auto status = std::find_if(statuses.begin(), statuses.end(),
                                     [&](const ModelStatus& s) { return s.name == nameOrPath; });
    if (status->state == InstallState::Installed) {
      writeManifestIfChanged(*entry);
      return status->weightsPath;
    }
    const std::string size = sizeText(entry->downloadSize, entry->downloadSizeExact);
    if (status->state == InstallState::Partial)
      throw Error(ErrorKind::Model, "Model '" + nameOrPath + "' is only partly downloaded (" +
                                        formatByteSize(status->bytesPresent) + " of " + size +
                                        "). Resume with: " + kDownloadCommand + " " + nameOrPath);
    throw Error(ErrorKind::Model, "Model '" + nameOrPath + "' is not installed. Download it with: " +
                                      kDownloadCommand + " " + nameOrPath + " (" + size + ")");
  }
  for (const auto& model : importedModels())
    if (model.manifest.name == nameOrPath) return weightsPathOf(model.manifest, model.directory);

  static const std::set<std::string> kModelExtensions{".pth", ".pt", ".onnx", ".json", ".caffemodel"};
  if (nameOrPath.find('/') != std::string::npos || kModelExtensions.count(path.extension().string()) > 0)
    throw Error(ErrorKind::Model, "No such model file: " + nameOrPath);

  throwUnknownModel(nameOrPath);
}

void ModelLibrary::throwUnknownModel(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& entry : registry_)
    names.push_back(entry.manifest.name + (entry.manifest.name == kDefaultModelName ? " (default)" : ""));
  const auto imported = importedModels();
  if (find(name) == nullptr && std::any_of(imported.begin(), imported.end(),
                                           [&](const Imported& m) { return m.manifest.name == name; }))
    throw Error(ErrorKind::Model, "'" + name + "' is a model you imported; there is nothing to download.");
  for (const auto& model : imported) names.push_back(model.manifest.name);
  throw Error(ErrorKind::Model, "Unknown model '" + name + "'. Known models: " + joined(names) +
                                    ". Give one of these names or the path of a model file (.pth, .onnx, "
                                    "model.json, .caffemodel); see: impasto-cli models list");
}

fs::path resolveModelArgument(const std::string& nameOrPath) {
  return ModelLibrary().resolveModelArgument(nameOrPath);
}

void validateModelFile(const fs::path& weightsPath) {
  const ModelPtr model = loadModelFile(weightsPath);
  if (model->layers().empty())
    throw Error(ErrorKind::Model, weightsPath.string() + " holds no layers we can use.");
  // The loader has checked that the channels chain; damaged weights show as
  // NaN or infinite values, which would turn every render black.
  for (const LayerSpec& layer : model->layers())
    for (const WeightArray* w : {&layer.weight, &layer.bias})
      if (!std::all_of(w->values().begin(), w->values().end(), [](float v) { return std::isfinite(v); }))
        throw Error(ErrorKind::Model, weightsPath.string() + " has NaN or infinite weights in layer " +
                                          layer.name + ": the file is damaged. Download it again.");
}

}  // namespace impasto
