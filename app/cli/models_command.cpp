#include "models_command.h"

#include <unistd.h>

#include <CLI/App.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "core/library/downloader.h"
#include "core/library/model_library.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "exit_codes.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> interrupted{false};

void onInterrupt(int) { interrupted = true; }

// Ctrl-C (or a TERM) during a download stops it cleanly instead of killing
// the process mid-write; the previous handlers come back afterwards.
class InterruptGuard {
 public:
  InterruptGuard() {
    interrupted = false;
    struct sigaction action {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &oldInt_);
    sigaction(SIGTERM, &action, &oldTerm_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &oldInt_, nullptr);
    sigaction(SIGTERM, &oldTerm_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction oldInt_ {};
  struct sigaction oldTerm_ {};
};

const char* const kEnvironment =
    "Environment:\n"
    "  IMPASTO_MODEL_DIR     where models are kept (default ~/.cache/impasto/models)\n"
    "  IMPASTO_MODEL_MIRROR  a server or folder that replaces the download hosts,\n"
    "                        keeping the URL paths (same as --mirror)\n"
    "  https_proxy, http_proxy, no_proxy  are honoured for downloads\n";

// A one-line bar on a terminal: bytes, rate and ETA. Nothing in logs, where a
// line per update would bury the result.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label) : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) != 0) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::int64_t done, std::int64_t total, double rate, double eta) {
    if (!terminal_) return;
    std::ostringstream line;
    line << "\r" << label_ << " ";
    if (total > 0) {
      const double fraction = std::min(1.0, double(done) / double(total));
      const int width = 30;
      const int filled = int(fraction * width);
      line << "[" << std::string(filled, '#') << std::string(width - filled, '-') << "] " << std::setw(3)
           << int(fraction * 100) << "%  " << formatByteSize(done) << " of " << formatByteSize(total);
    } else {
      line << formatByteSize(done);
    }
    if (rate > 0) line << "  " << formatByteSize(std::int64_t(rate)) << "/s";
    if (eta >= 0) line << "  ETA " << formatDuration(eta);
    line << "\x1b[K";  // clear what a longer previous line left
    std::cerr << line.str() << std::flush;
    drawn_ = true;
  }

  void finish() {
    if (drawn_) std::cerr << "\n";
    drawn_ = false;
  }

 private:
  std::string label_;
  bool terminal_;
  bool drawn_ = false;
};

std::string stateText(const ModelStatus& status) {
  if (!status.builtIn) return "imported";
  switch (status.state) {
    case InstallState::Installed:
      return "installed";
    case InstallState::NotInstalled:
      return "not installed";
    case InstallState::Partial:
      if (status.downloadSize > 0)
        return "partial " +
               std::to_string(int(100.0 * double(status.bytesPresent) / double(status.downloadSize))) + "%";
      return "partial";
  }
  return "";
}

std::string sizeText(const ModelStatus& status) {
  if (status.downloadSize <= 0) return "?";
  return (status.downloadSizeExact ? "" : "~") + formatByteSize(status.downloadSize);
}

int listModels(const ModelLibrary& library) {
  const auto statuses = library.list();
  std::size_t nameWidth = 4;
  for (const auto& s : statuses) nameWidth = std::max(nameWidth, s.name.size());
  std::cout << "Models folder: " << library.cacheDir().string() << "\n\n";
  std::cout << "  " << std::left << std::setw(int(nameWidth) + 2) << "NAME" << std::setw(15) << "STATE"
            << std::setw(10) << "SIZE"
            << "TITLE\n";
  bool anyPrefixOnly = false;
  for (const auto& s : statuses) {
    std::cout << (s.name == kDefaultModelName ? "* " : "  ") << std::left << std::setw(int(nameWidth) + 2)
              << s.name << std::setw(15) << stateText(s) << std::setw(10) << sizeText(s) << s.title
              << (s.sha256PrefixOnly ? " [SHA-256 prefix only]" : "") << "\n";
    if (s.state == InstallState::Installed)
      std::cout << "  " << std::string(nameWidth + 2, ' ') << s.weightsPath.string() << "\n";
    anyPrefixOnly = anyPrefixOnly || s.sha256PrefixOnly;
  }
  std::cout << "\n* the default model. Install one with: impasto-cli models download NAME\n";
  // Users should know which files are only weakly pinned.
  if (anyPrefixOnly)
    std::cout << "[SHA-256 prefix only] the publisher gives only a prefix of the file's SHA-256: only that "
                 "prefix is checked, and a download larger than the stated size bound is refused.\n";
  return 0;
}

int downloadModel(const ModelLibrary& library, const std::string& name, const std::string& mirrorFlag) {
  const RegistryEntry* entry = library.find(name);
  if (entry == nullptr) {
    library.resolveModelArgument(name);  // explains an unknown name or an imported model
    throw Error(ErrorKind::Usage, "'" + name + "' is not a model that can be downloaded.");
  }
  if (library.isInstalled(name)) {
    const fs::path weights = library.resolveModelArgument(name);
    std::cout << "'" << name << "' is already installed: " << weights.string() << "\n";
    return 0;
  }
  const std::string mirror = effectiveMirror(mirrorFlag);
  std::cerr << "Downloading '" << name << "' ("
            << (entry->downloadSize > 0
                    ? (entry->downloadSizeExact ? "" : "about ") + formatByteSize(entry->downloadSize)
                    : std::string("size unknown"))
            << ") into " << library.modelDirectory(name).string()
            << (mirror.empty() ? "" : " from the mirror " + mirror) << "\n";
  fs::path weights;
  {
    InterruptGuard guard;
    ProgressBar bar(name);
    weights = library.install(
        name,
        [&](std::int64_t done, std::int64_t total, double rate, double eta) {
          bar.update(done, total, rate, eta);
        },
        &interrupted, mirrorFlag);
  }
  std::cout << "Installed '" << name << "': " << weights.string() << "\n";
  return 0;
}

int importModel(const ModelLibrary& library, const std::string& file, const std::string& manifest) {
  std::cerr << "Checking " << file << " (hash, then a test run)...\n";
  const fs::path weights = library.importFile(file, manifest);
  std::cout << "Installed '" << weights.parent_path().filename().string() << "': " << weights.string()
            << "\n";
  return 0;
}

int verifyModels(const ModelLibrary& library) {
  const auto checks = library.verify();
  if (checks.empty()) {
    std::cout << "No models are installed in " << library.cacheDir().string() << ".\n";
    return 0;
  }
  std::vector<std::string> damaged;
  for (const auto& check : checks) {
    std::cout << (check.ok ? "ok    " : "BAD   ") << check.model << "  " << check.path.string()
              << (check.ok ? "" : ": " + check.problem) << "\n";
    if (!check.ok && std::find(damaged.begin(), damaged.end(), check.model) == damaged.end())
      damaged.push_back(check.model);
  }
  if (damaged.empty()) return 0;
  std::cerr
      << "\nSome files are damaged or missing. Delete the bad files, then run 'impasto-cli models download "
         "NAME' again (or import the file)";
  for (const auto& name : damaged) std::cerr << (name == damaged.front() ? ": " : ", ") << name;
  std::cerr << ".\n";
  return 3;
}

}  // namespace

void addModelsCommand(CLI::App& app, std::function<int()>& command) {
  CLI::App* models = app.add_subcommand("models", "list, download, import and verify models");
  models->require_subcommand(1);
  models->footer(kEnvironment);
  // The arguments outlive parsing: the chosen command runs afterwards.
  auto args = std::make_shared<std::pair<std::string, std::string>>();

  models->add_subcommand("list", "the known models and whether they are installed")->callback([&command] {
    command = [] { return listModels(ModelLibrary()); };
  });

  CLI::App* download = models->add_subcommand(
      "download", "download, verify and install a model; an interrupted download resumes where it stopped");
  download->add_option("NAME", args->first, "a model name from 'impasto-cli models list'")->required();
  download->add_option("--mirror", args->second, "a server or folder with the same paths as the public hosts")
      ->type_name("URL");
  download->callback([&command, args] {
    command = [args] { return downloadModel(ModelLibrary(), args->first, args->second); };
  });

  CLI::App* import = models->add_subcommand(
      "import",
      "install a model file you already have (for example one downloaded on another computer); "
      "it is checked and copied");
  import->add_option("FILE", args->first, "the weights file (.pth, .onnx, .caffemodel or model.json)")
      ->required();
  import->add_option("--manifest", args->second, "a manifest naming its layers and preprocessing")
      ->type_name("M");
  import->callback([&command, args] {
    command = [args] { return importModel(ModelLibrary(), args->first, args->second);
};
}  // namespace impasto
);

models->add_subcommand("verify", "re-check the SHA-256 of every installed file")->callback([&command] {
  command = [] { return verifyModels(ModelLibrary()); };
});
}

}  // namespace impasto
