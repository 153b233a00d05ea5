#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "core/util/error.h"
#include "core/util/text.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;

std::string osReason(int err) { return std::strerror(err); }

fs::path parentOrCurrent(const fs::path& path) {
  const fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// A name no other writer (thread or process) picks at the same time, hidden so
// a crash between create and rename leaves nothing that looks like a result.
fs::path temporaryBeside(const fs::path& path, const char* purpose) {
  static std::atomic<unsigned> counter{0};
  const std::string name = "." + path.filename().string() + "." + purpose + "-" + std::to_string(::getpid()) +
                           "-" + std::to_string(counter.fetch_add(1));
  return parentOrCurrent(path) / name;
}

// Owns an open descriptor and the temporary file behind it until released, so
// every early exit removes the temporary file.
class TemporaryFile {
 public:
  explicit TemporaryFile(fs::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ < 0) error_ = errno;
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }

  bool opened() const { return fd_ >= 0; }
  int error() const { return error_; }
  int fd() const { return fd_; }
  const fs::path& path() const { return path_; }

  // Closes the descriptor, reporting the errno of a failed close (some file
  // systems only report write errors there), or 0.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  int fd_ = -1;
  int error_ = 0;
  bool kept_ = false;
};

int writeAll(int fd, const void* bytes, std::size_t size) {
  const char* data = static_cast<const char*>(bytes);
  std::size_t left = size;
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return 0;
}

[[noreturn]] void throwWriteError(const fs::path& path, int err) {
  std::string advice;
  if (err == ENOENT) {
    advice = " The directory " + parentOrCurrent(path).string() +
             " does not exist: create it or choose another path.";
  } else if (err == EACCES || err == EPERM || err == EROFS) {
    advice = " Choose a directory you can write to.";
  } else if (err == ENOSPC || err == EDQUOT) {
    advice = " Free some disk space and try again.";
  }
  throw Error(ErrorKind::Output, "Cannot write " + path.string() + ": " + osReason(err) + "." + advice);
}

}  // namespace

void writeFileAtomically(const fs::path& path, const std::string& bytes) {
  writeFileAtomically(path, [&](const ByteSink& sink) { sink(bytes.data(), bytes.size()); });
}

void writeFileAtomically(const fs::path& path, const std::function<void(const ByteSink&)>& produce) {
  TemporaryFile temp(temporaryBeside(path, "tmp"));
  if (!temp.opened()) throwWriteError(path, temp.error());
  produce([&](const void* data, std::size_t size) {
    if (const int err = writeAll(temp.fd(), data, size)) throwWriteError(path, err);
  });
  // Without fsync a crash soon after the rename can leave an empty file under
  // the final name on some file systems.
  if (::fsync(temp.fd()) != 0 && errno != EINVAL) throwWriteError(path, errno);
  if (const int err = temp.close()) throwWriteError(path, err);
  if (::rename(temp.path().c_str(), path.c_str()) != 0) throwWriteError(path, errno);
  temp.keep();

  // Makes the rename itself durable; failure here loses nothing already written.
  const int dir = ::open(parentOrCurrent(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void checkOutputWritable(const fs::path& path) {
  const fs::path dir = parentOrCurrent(path);
  std::error_code ec;
  const fs::file_status dirStatus = fs::status(dir, ec);
  if (!fs::exists(dirStatus)) {
    throw Error(ErrorKind::Output, "Cannot write " + path.string() + ": the directory " + dir.string() +
                                       " does not exist. Create it or choose another output path.");
  }
  if (!fs::is_directory(dirStatus)) {
    throw Error(ErrorKind::Output, "Cannot write " + path.string() + ": " + dir.string() +
                                       " is not a directory. Choose another output path.");
  }
  if (fs::is_directory(fs::status(path, ec))) {
    throw Error(ErrorKind::Output, "Cannot write " + path.string() +
                                       ": it is a directory. Give a file name, for example " +
                                       (path / "result.png").string() + ".");
  }
  // Permission bits do not tell the whole story (read-only mounts, ACLs, quotas),
  // so try what the real write will do.
  TemporaryFile probe(temporaryBeside(path, "probe"));
  if (!probe.opened()) {
    const int err = probe.error();
    throw Error(ErrorKind::Output, "Cannot write to the directory " + dir.string() + ": " + osReason(err) +
                                       ". Choose a directory you can write to, or fix its permissions.");
  }
}

std::string readFileBytes(const fs::path& path, std::uintmax_t maxBytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw Error(ErrorKind::Input, "No such file: " + path.string());
  if (fs::is_directory(status)) {
    throw Error(ErrorKind::Input, "Cannot read " + path.string() + ": it is a directory, not a file.");
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error(ErrorKind::Input, "Cannot read " + path.string() + ": " + osReason(errno) + ".");
  const auto tooLarge = [&](std::uintmax_t size) {
    std::fclose(file);
    return Error(ErrorKind::Input, path.string() + " is " + formatByteSize(std::int64_t(size)) +
                                       ", more than the " + formatByteSize(std::int64_t(maxBytes)) +
                                       " such a file can need: it was not opened (it may hide other data).");
  };
  std::string bytes;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > maxBytes) throw tooLarge(size);
  if (!ec) bytes.reserve(static_cast<std::size_t>(size));
  char buffer[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
    if (bytes.size() + got > maxBytes) throw tooLarge(bytes.size() + got);  // it grew while we read
    bytes.append(buffer, got);
  }
  const bool failed = std::ferror(file) != 0;
  const int err = errno;
  std::fclose(file);
  if (failed) throw Error(ErrorKind::Input, "Cannot read " + path.string() + ": " + osReason(err) + ".");
  return bytes;
}

}  // namespace impasto
