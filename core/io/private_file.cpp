#include "core/io/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/util/error.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throwCannotWrite(const fs::path& path, const std::string& why) {
  throw Error(ErrorKind::Output, "Cannot write " + path.string() + ": " + why +
                                     ". Check that the folder exists, is yours and is writable.");
}

FilePtr streamFor(int fd, const fs::path& path) {
  FilePtr file(::fdopen(fd, "ab"));
  if (!file) {
    const int error = errno;
    ::close(fd);
    throwCannotWrite(path, std::strerror(error));
  }
  return file;
}

}  // namespace

FilePtr createFileExclusively(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    throwCannotWrite(path, error == EEXIST ? "something is already there (a planted file or symlink?)"
                                           : std::strerror(error));
  }
  return streamFor(fd, path);
}

FilePtr openOwnFileForAppend(const fs::path& path) {
  // O_NONBLOCK: a FIFO planted at the name must not block the open.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throwCannotWrite(
        path, error == ELOOP ? "it is a symbolic link, which is never followed" : std::strerror(error));
  }
  struct stat info {};
  std::string problem;
  if (::fstat(fd, &info) != 0)
    problem = std::strerror(errno);
  else if (!S_ISREG(info.st_mode))
    problem = "it is not a regular file";
  else if (info.st_uid != ::geteuid())
    problem = "it belongs to another user";
  else if (::fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) != 0)
    problem = std::strerror(errno);
  if (!problem.empty()) {
    ::close(fd);
    throwCannotWrite(path, problem);
  }
  return streamFor(fd, path);
}

PrivateTempDir::PrivateTempDir(const fs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr)
    throwCannotWrite(parent, std::string("cannot create a private folder: ") + std::strerror(errno));
  path_ = buffer.data();
}

PrivateTempDir::~PrivateTempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace impasto
