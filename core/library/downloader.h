#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace impasto {

// Called on the downloading thread, at most every ~100 ms and once at the end.
// bytesTotal is 0 while unknown; bytesPerSecond is averaged over the last few
// seconds; etaSeconds is negative while unknown.
using DownloadProgressFn = std::function<void(std::int64_t bytesDone, std::int64_t bytesTotal,
                                              double bytesPerSecond, double etaSeconds)>;

struct DownloadOptions {
  DownloadProgressFn progress;
  // Set to true from any thread (or a signal handler) to stop; the .part file
  // stays for a later resume.
  std::atomic<bool>* cancel = nullptr;
  // Replaces scheme and host of every URL (see applyMirror). Empty: the
  // IMPASTO_MODEL_MIRROR environment variable, if set.
  std::string mirror;
  // Tries per URL that end without new bytes (a cut connection that delivered
  // data resumes without using one up).
  int attemptsPerUrl = 4;
  std::chrono::milliseconds retryDelay{1000};  // doubled after each failed try
  // A dead network must never hang: give up on a try that cannot connect, or
  // that stays below lowSpeedBytesPerSecond for lowSpeedSeconds.
  long connectTimeoutSeconds = 30;
  long lowSpeedBytesPerSecond = 1024;
  long lowSpeedSeconds = 60;
  // An upper bound on the file's size, for files whose exact size is not
  // published (only used when expectedSize is 0; 0: no bound).
  std::int64_t maxSize = 0;
};

// Downloads one file to `destination`, trying `urls` in order.
//
// Bytes go to "<destination>.part"; an existing .part is resumed with an HTTP
// Range request (a server that answers 200 instead of 206 restarts it from 0).
// A connection cut mid-body is resumed a few times; 404, 500, a refused
// connection or a checksum mismatch moves on to the next URL. When complete,
// the size (if expectedSize > 0) and the SHA-256 (full digest or prefix, if
// expectedSha256 is not empty) are checked, and the .part is renamed over
// destination, so destination only ever holds a verified file. A file that
// fails the check is deleted.
//
// A server cannot make the file larger than it can be: a transfer that would
// take the .part past expectedSize (or options.maxSize when the size is not
// known) is stopped at once, in the write callback, and the .part deleted.
// The .part is created with O_EXCL and resumed only when it is our own
// regular file: a symlink or another user's file at its name is refused
// (Error(Output)) and left as it is.
//
// Proxies: libcurl's defaults are kept, so http_proxy, https_proxy, ALL_PROXY
// and no_proxy from the environment are honoured.
//
// Throws Error(Cancelled) when cancelled (the .part is kept, destination is not
// created) and Error(Network) naming every URL and why it failed otherwise.
void downloadFile(const std::vector<std::string>& urls, std::int64_t expectedSize,
                  const std::string& expectedSha256, const std::filesystem::path& destination,
                  const DownloadOptions& options = {});

// Where downloadFile keeps the bytes received so far.
std::filesystem::path partialDownloadPath(const std::filesystem::path& destination);

// "https://host/a/b/file" with mirror "http://m:8080/base" -> "http://m:8080/base/a/b/file".
// The query string is kept; an empty mirror returns the URL unchanged.
std::string applyMirror(const std::string& url, const std::string& mirror);

// The explicit mirror when not empty, else $IMPASTO_MODEL_MIRROR, else "".
std::string effectiveMirror(const std::string& explicitMirror);

}  // namespace impasto
