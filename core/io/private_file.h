#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace impasto {

// Files the program writes at names another user (or a hostile archive) could
// guess: a .part in a shared cache, a scratch file in /tmp. A symlink or file
// planted at such a name must never redirect the write, so these helpers never
// follow a symlink and never take over a file they did not create or own.

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Creates `path` for writing (mode 0600) with O_CREAT | O_EXCL | O_NOFOLLOW:
// fails if anything, a symlink included, is already there. The stream appends.
// Throws Error(Output) naming the path.
FilePtr createFileExclusively(const std::filesystem::path& path);

// Opens an existing file to append to it (a download to resume), refusing a
// symlink (O_NOFOLLOW), anything but a regular file and a file owned by
// another user. Throws Error(Output) naming the path and the reason.
FilePtr openOwnFileForAppend(const std::filesystem::path& path);

// A folder only we can enter (mkdtemp, mode 0700) under `parent`, named
// "<prefix>XXXXXX"; removed with its contents when the object goes. Files
// inside it can be created by name without a race.
class PrivateTempDir {
 public:
  PrivateTempDir(const std::filesystem::path& parent, const std::string& prefix);
  ~PrivateTempDir();
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace impasto
