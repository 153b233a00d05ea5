#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace impasto::test {

// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for download tests: it
// serves in-memory files, honours "Range: bytes=N-" and can misbehave on demand.
// One request per connection (Connection: close), one thread per connection.
class HttpTestServer {
 public:
  struct Request {
    std::string path;
    std::string range;               // the Range header, empty when absent
    int status = 0;                  // what the server answered
    std::int64_t bodyBytesSent = 0;  // known once the response is over
    bool finished = false;           // the response is over (sent or cut off)
  };

  HttpTestServer();
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" (no trailing slash).
  std::string baseUrl() const;
  std::string url(const std::string& path) const { return baseUrl() + path; }

  void addFile(const std::string& path, std::string body);
  // Answers this status (with a short body) for the path from now on.
  void setStatus(const std::string& path, int status);
  // The next response for path announces the full length, sends afterBytes of
  // the body and then closes the connection.
  void cutOnce(const std::string& path, std::int64_t afterBytes);
  // Answers 200 with the whole body even when a Range was asked for.
  void ignoreRange(const std::string& path, bool ignore = true);
  // Sends no Content-Length: the body ends when the connection closes, so only
  // the client can tell when it has had too much.
  void omitLength(const std::string& path);
  // Sends the body in chunks of chunkBytes with a pause after each one, so a
  // client sees several progress updates (and can be cancelled mid-body).
  void throttle(std::int64_t chunkBytes, int pauseMs);

  std::vector<Request> requests() const;
  // requests() once every response so far is over, so bodyBytesSent is final
  // (a worker may still be in send() when the client hangs up). Throws
  // std::runtime_error after the timeout.
  std::vector<Request> finishedRequests(std::chrono::seconds timeout = std::chrono::seconds(60)) const;
  int requestCount(const std::string& path) const;

 private:
  void acceptLoop();
  void handle(int socket);

  int listenSocket_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;

  mutable std::mutex mutex_;
  mutable std::condition_variable responseOver_;
  std::vector<std::thread> workers_;
  std::map<std::string, std::string> files_;
  std::map<std::string, int> statuses_;
  std::map<std::string, std::int64_t> cuts_;
  std::set<std::string> ignoreRange_;
  std::set<std::string> omitLength_;
  std::int64_t throttleChunk_ = 0;
  int throttlePauseMs_ = 0;
  std::vector<Request> requests_;
};

}  // namespace impasto::test
