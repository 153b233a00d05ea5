#include "core/library/downloader.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "core/io/private_file.h"
#include "core/library/sha256.h"
#include "core/util/error.h"
#include "core/util/text.h"
#include "core/util/version.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kWorthwhileBytes = 64 * 1024;
constexpr int kMaxTriesPerUrl = 100;

void initialiseCurlOnce() {
  // curl_global_init is not thread-safe and must run once per process; it is
  // never undone, because other threads may still hold easy handles at exit.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw Error(ErrorKind::Internal, "libcurl could not be initialised; downloads are unavailable.");
  });
}

bool cancelRequested(const std::atomic<bool>* cancel) { return cancel != nullptr && cancel->load(); }

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::string fileNameOf(const fs::path& path) { return path.filename().string(); }

// Reports progress at most every 100 ms, with a rate averaged over the last
// few seconds so the ETA does not jump with every packet.
class ProgressTracker {
 public:
  explicit ProgressTracker(const DownloadProgressFn& fn) : fn_(fn) { samples_.emplace_back(Clock::now(), 0); }

  void set(std::int64_t done, std::int64_t total) {
    done_ = done;
    if (total > 0) total_ = total;
  }
  void addReceived(std::int64_t bytes) { received_ += bytes; }
  std::int64_t done() const { return done_; }

  void report(bool force) {
    if (!fn_) return;
    const auto now = Clock::now();
    if (!force && now - lastReport_ < std::chrono::milliseconds(100)) return;
    lastReport_ = now;
    samples_.emplace_back(now, received_);
    while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(5))
      samples_.pop_front();
    const double span = std::chrono::duration<double>(now - samples_.front().first).count();
    const double rate = span > 0.05 ? double(received_ - samples_.front().second) / span : 0.0;
    const double eta =
        total_ > 0 && rate > 0 ? double(std::max<std::int64_t>(total_ - done_, 0)) / rate : -1.0;
    fn_(done_, total_, rate, eta);
  }

 private:
  const DownloadProgressFn& fn_;
  std::deque<std::pair<Clock::time_point, std::int64_t>> samples_;
  Clock::time_point lastReport_{};
  std::int64_t done_ = 0;
  std::int64_t total_ = 0;
  std::int64_t received_ = 0;
};

// The state of one HTTP request, shared with libcurl's callbacks.
struct Transfer {
  CURL* curl = nullptr;
  fs::path part;
  FilePtr file;
  bool http = true;
  std::int64_t offset = 0;  // bytes in the .part when the request was sent
  std::int64_t written = 0;
  std::int64_t expectedSize = 0;
  std::int64_t limit = 0;  // most bytes the whole file may have; 0: no limit
  bool bodyStarted = false;
  bool restartedFromZero = false;
  std::int64_t rangeStart = -1;     // from Content-Range
  std::int64_t announcedTotal = 0;  // full size from Content-Range / Content-Length
  std::int64_t contentLength = -1;
  std::string failure;       // why a callback stopped the transfer
  bool writeFailed = false;  // our disk, not the server, is the problem
  bool tooLarge = false;     // the server sent (or announced) more than limit
  ProgressTracker* progress = nullptr;
  const std::atomic<bool>* cancel = nullptr;
};

std::size_t onHeader(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  const std::string line(buffer, bytes);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect): forget the last one
    t.rangeStart = -1;
    t.announcedTotal = 0;
    t.contentLength = -1;
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return bytes;
  const std::string name = lowerCase(line.substr(0, colon));
  const std::string value = trim(line.substr(colon + 1));
  try {
    if (name == "content-range" && value.rfind("bytes ", 0) == 0) {
      // "bytes START-END/TOTAL"
      t.rangeStart = std::stoll(value.substr(6));
      const auto slash = value.find('/');
      if (slash != std::string::npos && value.compare(slash + 1, 1, "*") != 0)
        t.announcedTotal = std::stoll(value.substr(slash + 1));
    } else if (name == "content-length") {
      t.contentLength = std::stoll(value);
    }
  } catch (const std::exception&) {
    // A malformed header only costs us the size hint; the checks after the
    // download still catch a bad file.
  }
  return bytes;
}

// Stops a server that sends more than the file can have: it would fill the
// disk, and the extra bytes can never pass the checks afterwards.
bool exceedsLimit(Transfer& t, std::int64_t total, const char* what) {
  if (t.limit <= 0 || total <= t.limit) return false;
  t.tooLarge = true;
  t.failure = "the server " + std::string(what) + " " + std::to_string(total) + " bytes, more than " +
              (t.expectedSize > 0 ? "the expected " : "the stated upper bound of ") +
              std::to_string(t.limit) + "; the download was stopped and its partial file deleted";
  return true;
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (!t.bodyStarted) {
    t.bodyStarted = true;
    long status = 0;
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
    if (t.offset > 0 && t.http) {
      if (status == 206) {
        if (t.rangeStart != t.offset) {
          t.failure = "the server resumed at byte " + std::to_string(t.rangeStart) + " instead of " +
                      std::to_string(t.offset);
          return 0;
        }
      } else {
        // The server ignored the Range header and sends the whole file: start
        // over in the same file (it appends, so writes go to the new end, 0).
        if (std::fflush(t.file.get()) != 0 || ::ftruncate(fileno(t.file.get()), 0) != 0) {
          t.failure = "cannot write " + t.part.string() + ": " + std::strerror(errno);
          t.writeFailed = true;
          return 0;
        }
        t.offset = 0;
        t.restartedFromZero = true;
        if (t.contentLength >= 0) t.announcedTotal = t.contentLength;
      }
    } else if (t.announcedTotal == 0 && t.contentLength >= 0) {
      t.announcedTotal = t.offset + t.contentLength;
    }
    // Only HTTP's announcement is reliable: for file:// with a range, libcurl
    // reports the whole file's length as Content-Length.
    if (t.http && exceedsLimit(t, t.announcedTotal, "announced")) return 0;
  }
  // Checked before writing, so the .part never holds more than the file can.
  if (exceedsLimit(t, t.offset + t.written + std::int64_t(bytes), "sent at least")) return 0;
  if (std::fwrite(data, 1, bytes, t.file.get()) != bytes) {
    t.failure = "cannot write " + t.part.string() + ": " + std::strerror(errno);
    t.writeFailed = true;
    return 0;
  }
  t.written += std::int64_t(bytes);
  t.progress->addReceived(std::int64_t(bytes));
  t.progress->set(t.offset + t.written, t.expectedSize > 0 ? t.expectedSize : t.announcedTotal);
  t.progress->report(false);
  return bytes;
}

int onTransferInfo(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  if (cancelRequested(t.cancel)) return 1;  // aborts curl_easy_perform
  t.progress->report(false);
  return 0;
}

enum class Outcome {
  Complete,  // the server sent the rest of the file
  Retry,     // a cut or a stall: resume from the same URL
  NextUrl,   // this URL will not work
  RestartFromZero,
  Cancelled,
};

struct AttemptResult {
  Outcome outcome = Outcome::NextUrl;
  std::string reason;
  std::int64_t received = 0;
};

bool isTransient(CURLcode code) {
  switch (code) {
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

std::string httpStatusText(long status) {
  switch (status) {
    case 401:
      return "HTTP 401 (authentication required)";
    case 403:
      return "HTTP 403 (forbidden)";
    case 404:
      return "HTTP 404 (not found)";
    case 410:
      return "HTTP 410 (gone)";
    case 429:
      return "HTTP 429 (too many requests)";
    case 500:
      return "HTTP 500 (server error)";
    case 502:
      return "HTTP 502 (bad gateway)";
    case 503:
      return "HTTP 503 (service unavailable)";
    default:
      return "HTTP " + std::to_string(status);
  }
}

void setProtocols(CURL* curl) {
  // file:// is allowed so a mirror can be a local folder; redirects stay on HTTP(S).
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

// The .part to write: a new one created exclusively, or our own earlier one to
// resume. Never a symlink or file someone planted at the name.
FilePtr openPart(const fs::path& part) {
  std::error_code ec;
  // symlink_status: a dangling symlink counts as something there. A name
  // planted between this check and the open makes the exclusive create fail.
  if (fs::exists(fs::symlink_status(part, ec))) return openOwnFileForAppend(part);
  return createFileExclusively(part);
}

// The bytes of a .part that is a plain file; 0 for anything else (a planted
// symlink is never followed, even to read its target's size).
std::int64_t partSize(const fs::path& part) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(part, ec))) return 0;
  const auto size = fs::file_size(part, ec);
  return ec ? 0 : std::int64_t(size);
}

std::int64_t sizeOf(std::FILE* file) {
  struct stat info {};
  return ::fstat(fileno(file), &info) == 0 ? std::int64_t(info.st_size) : 0;
}

// The most bytes the file may have: its exact size, else the stated bound.
std::int64_t sizeLimit(std::int64_t expectedSize, const DownloadOptions& options) {
  return expectedSize > 0 ? expectedSize : std::max<std::int64_t>(options.maxSize, 0);
}

AttemptResult attempt(const std::string& url, const fs::path& part, std::int64_t expectedSize,
                      const DownloadOptions& options, ProgressTracker& progress) {
  Transfer t;
  t.file = openPart(part);
  const std::int64_t existing = sizeOf(t.file.get());
  if (expectedSize > 0 && existing == expectedSize) return {Outcome::Complete, {}, 0};
  t.part = part;
  t.offset = existing;
  t.expectedSize = expectedSize;
  t.limit = sizeLimit(expectedSize, options);
  t.progress = &progress;
  t.cancel = options.cancel;
  t.http = lowerCase(url.substr(0, 4)) == "http";

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error(ErrorKind::Internal, "libcurl could not create a transfer.");
  t.curl = curl.get();
  char errorBuffer[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errorBuffer);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // we run on worker threads
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  const std::string userAgent = std::string("impasto/") + version();
  curl_easy_setopt(c, CURLOPT_USERAGENT, userAgent.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds);
  setProtocols(c);
  // No CURLOPT_PROXY: libcurl then reads http_proxy/https_proxy/no_proxy itself.
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, onTransferInfo);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  // CURLOPT_RANGE rather than CURLOPT_RESUME_FROM: with the latter libcurl
  // fails on a server that ignores ranges, where we prefer to start over.
  const std::string range = std::to_string(existing) + "-";
  if (existing > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());

  const CURLcode code = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

  // Flush before anything looks at the file; fsync so a rename after a crash
  // never exposes a file whose bytes are not on disk.
  bool flushed = std::fflush(t.file.get()) == 0;
  if (flushed) flushed = ::fsync(fileno(t.file.get())) == 0;
  t.file.reset();

  AttemptResult result;
  result.received = t.written;
  if (code == CURLE_ABORTED_BY_CALLBACK && cancelRequested(options.cancel)) {
    result.outcome = Outcome::Cancelled;
    return result;
  }
  if (t.writeFailed)
    throw Error(ErrorKind::Output,
                "Download of " + fileNameOf(part) + " stopped: " + t.failure +
                    ". Free some disk space or choose another folder (IMPASTO_MODEL_DIR).");
  if (t.tooLarge) {
    // Never resume from these bytes: they may not be a prefix of the real file.
    std::error_code ec;
    fs::remove(part, ec);
  }
  if (!t.failure.empty()) {
    result.outcome = Outcome::NextUrl;
    result.reason = t.failure;
    return result;
  }
  if (code == CURLE_OK) {
    if (!flushed) throw Error(ErrorKind::Output, "Cannot write " + part.string() + ": disk full?");
    if (t.restartedFromZero) result.reason = "server ignored the resume request";
    result.outcome = Outcome::Complete;
    return result;
  }
  if (code == CURLE_HTTP_RETURNED_ERROR && status == 416) {
    // Our .part is longer than the file on the server: it cannot be a prefix of it.
    result.outcome = Outcome::RestartFromZero;
    result.reason = "HTTP 416 (the partial file does not fit the server's file)";
    return result;
  }
  result.reason = code == CURLE_HTTP_RETURNED_ERROR
                      ? httpStatusText(status)
                      : std::string(curl_easy_strerror(code)) +
                            (errorBuffer[0] ? std::string(" (") + errorBuffer + ")" : "");
  // A connect timeout means the host is unreachable, not that a transfer broke.
  const bool neverConnected = code == CURLE_OPERATION_TIMEDOUT && status == 0 && t.written == 0;
  result.outcome = isTransient(code) && !neverConnected ? Outcome::Retry : Outcome::NextUrl;
  return result;
}

// Sleeps for `delay` unless cancelled meanwhile.
bool sleepUnlessCancelled(std::chrono::milliseconds delay, const std::atomic<bool>* cancel) {
  const auto until = Clock::now() + delay;
  while (Clock::now() < until) {
    if (cancelRequested(cancel)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !cancelRequested(cancel);
}

[[noreturn]] void throwCancelled(const fs::path& destination, const fs::path& part) {
  const std::int64_t kept = partSize(part);
  throw Error(ErrorKind::Cancelled, "Download of " + fileNameOf(destination) + " cancelled. The " +
                                        formatByteSize(kept) + " received so far are kept in " +
                                        part.string() + "; downloading again resumes from there.");
}

// Checks a complete .part; returns why it is wrong, or "" when it is right.
std::string checkDownloaded(const fs::path& part, std::int64_t expectedSize,
                            const std::string& expectedSha256) {
  std::error_code ec;
  const auto size = std::int64_t(fs::file_size(part, ec));
  if (ec) return "the downloaded file vanished: " + ec.message();
  if (expectedSize > 0 && size != expectedSize)
    return "wrong size: expected " + std::to_string(expectedSize) + " bytes, got " + std::to_string(size);
  if (!expectedSha256.empty()) {
    const std::string actual = sha256File(part);
    if (!sha256Matches(expectedSha256, actual))
      return "checksum mismatch: expected SHA-256 " + lowerCase(expectedSha256) +
             (expectedSha256.size() < 64 ? "..." : "") + ", got " + actual;
  }
  return {};
}

}  // namespace

fs::path partialDownloadPath(const fs::path& destination) {
  fs::path part = destination;
  part += ".part";
  return part;
}

std::string applyMirror(const std::string& url, const std::string& mirror) {
  if (mirror.empty()) return url;
  const auto schemeEnd = url.find("://");
  if (schemeEnd == std::string::npos) return url;
  const auto pathStart = url.find('/', schemeEnd + 3);
  const std::string path = pathStart == std::string::npos ? "/" : url.substr(pathStart);
  std::string base = mirror;
  // A bare folder is a local mirror.
  if (!base.empty() && base.front() == '/') base = "file://" + base;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

std::string effectiveMirror(const std::string& explicitMirror) {
  if (!explicitMirror.empty()) return explicitMirror;
  const char* env = std::getenv("IMPASTO_MODEL_MIRROR");
  return env != nullptr ? env : "";
}

void downloadFile(const std::vector<std::string>& urls, std::int64_t expectedSize,
                  const std::string& expectedSha256, const fs::path& destination,
                  const DownloadOptions& options) {
  if (urls.empty())
    throw Error(ErrorKind::Network, "No download address is known for " + fileNameOf(destination) + ".");
  initialiseCurlOnce();
  const fs::path part = partialDownloadPath(destination);
  if (cancelRequested(options.cancel)) throwCancelled(destination, part);

  std::error_code ec;
  if (!destination.parent_path().empty()) fs::create_directories(destination.parent_path(), ec);
  const std::int64_t limit = sizeLimit(expectedSize, options);
  if (limit > 0 && partSize(part) > limit)
    fs::remove(part, ec);  // longer than the file can be: not a prefix of it

  const std::string mirror = effectiveMirror(options.mirror);
  std::vector<std::string> candidates;
  for (const auto& url : urls) {
    std::string mirrored = applyMirror(url, mirror);
    if (std::find(candidates.begin(), candidates.end(), mirrored) == candidates.end())
      candidates.push_back(std::move(mirrored));
  }

  ProgressTracker progress(options.progress);
  std::vector<std::string> failures;
  for (const auto& url : candidates) {
    int fruitlessTries = 0;
    int tries = 0;
    auto delay = options.retryDelay;
    bool retriedFromZero = false;
    while (true) {
      const std::int64_t before = partSize(part);
      progress.set(before, expectedSize);
      AttemptResult result = attempt(url, part, expectedSize, options, progress);
      if (result.outcome == Outcome::Cancelled) throwCancelled(destination, part);

      if (result.outcome == Outcome::Complete) {
        const std::string problem = checkDownloaded(part, expectedSize, expectedSha256);
        if (problem.empty()) {
          progress.set(std::int64_t(fs::file_size(part)), std::int64_t(fs::file_size(part)));
          progress.report(true);
          fs::rename(part, destination, ec);
          if (ec)
            throw Error(ErrorKind::Output,
                        "Cannot move " + part.string() + " to " + destination.string() + ": " + ec.message());
          return;
        }
        fs::remove(part, ec);
        // Bytes from an earlier session or another URL may be what is wrong:
        // give this URL one clean try before blaming it.
        if (before > 0 && !retriedFromZero) {
          retriedFromZero = true;
          continue;
        }
        failures.push_back(url + ": " + problem);
        break;
      }
      if (result.outcome == Outcome::RestartFromZero && !retriedFromZero) {
        retriedFromZero = true;
        fs::remove(part, ec);
        continue;
      }
      if (result.outcome == Outcome::Retry) {
        // A try that brought a good chunk is a flaky link worth staying on; a
        // trickle (a stalled server) counts as a failure, so it cannot loop.
        if (result.received >= kWorthwhileBytes) {
          fruitlessTries = 0;
          delay = options.retryDelay;
        } else {
          ++fruitlessTries;
        }
        if (fruitlessTries < options.attemptsPerUrl && ++tries < kMaxTriesPerUrl) {
          if (!sleepUnlessCancelled(delay, options.cancel)) throwCancelled(destination, part);
          delay = std::min(delay * 2, std::chrono::milliseconds(30000));
          continue;
        }
      }
      failures.push_back(url + ": " + result.reason);
      break;
    }
    if (cancelRequested(options.cancel)) throwCancelled(destination, part);
  }

  // Nothing partial is worth keeping when every URL failed before sending a byte.
  if (fs::is_regular_file(fs::symlink_status(part, ec)) && partSize(part) == 0) fs::remove(part, ec);
  std::string message = "Could not download " + fileNameOf(destination) + ":";
  for (const auto& failure : failures) message += "\n  " + failure;
  throw Error(ErrorKind::Network, message);
}

}  // namespace impasto
