#include "tests/support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace impasto::test {
namespace {

bool sendAll(int socket, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(socket, data, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data += sent;
    size -= std::size_t(sent);
  }
  return true;
}

std::string reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 404:
      return "Not Found";
    case 416:
      return "Range Not Satisfiable";
    case 500:
      return "Internal Server Error";
    default:
      return "Status";
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

}  // namespace

HttpTestServer::HttpTestServer() {
  listenSocket_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listenSocket_ < 0) throw std::runtime_error("socket() failed");
  const int yes = 1;
  ::setsockopt(listenSocket_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // ephemeral: tests run in parallel
  if (::bind(listenSocket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listenSocket_, 16) != 0) {
    ::close(listenSocket_);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t length = sizeof address;
  ::getsockname(listenSocket_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

HttpTestServer::~HttpTestServer() {
  stopping_ = true;
  acceptThread_.join();
  ::close(listenSocket_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers.swap(workers_);
  }
  for (auto& worker : workers) worker.join();
}

std::string HttpTestServer::baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::addFile(const std::string& path, std::string body) {
  std::lock_guard<std::mutex> lock(mutex_);
  files_[path] = std::move(body);
}

void HttpTestServer::setStatus(const std::string& path, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  statuses_[path] = status;
}

void HttpTestServer::cutOnce(const std::string& path, std::int64_t afterBytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  cuts_[path] = afterBytes;
}

void HttpTestServer::ignoreRange(const std::string& path, bool ignore) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ignore)
    ignoreRange_.insert(path);
  else
    ignoreRange_.erase(path);
}

void HttpTestServer::omitLength(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  omitLength_.insert(path);
}

void HttpTestServer::throttle(std::int64_t chunkBytes, int pauseMs) {
  std::lock_guard<std::mutex> lock(mutex_);
  throttleChunk_ = chunkBytes;
  throttlePauseMs_ = pauseMs;
}

std::vector<HttpTestServer::Request> HttpTestServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

std::vector<HttpTestServer::Request> HttpTestServer::finishedRequests(std::chrono::seconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  const bool allOver = responseOver_.wait_for(lock, timeout, [&] {
    return std::all_of(requests_.begin(), requests_.end(), [](const Request& r) { return r.finished; });
  });
  if (!allOver) throw std::runtime_error("HttpTestServer: a response did not end in time");
  return requests_;
}

int HttpTestServer::requestCount(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return int(
      std::count_if(requests_.begin(), requests_.end(), [&](const Request& r) { return r.path == path; }));
}

void HttpTestServer::acceptLoop() {
  while (!stopping_) {
    pollfd waiting{listenSocket_, POLLIN, 0};
    // A short poll so the destructor never waits long for this loop to notice.
    if (::poll(&waiting, 1, 20) <= 0) continue;
    const int client = ::accept(listenSocket_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    workers_.emplace_back([this, client] {
      handle(client);
      ::close(client);
    });
  }
}

void HttpTestServer::handle(int socket) {
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    pollfd waiting{socket, POLLIN, 0};
    if (::poll(&waiting, 1, 5000) <= 0) return;
    const ssize_t got = ::recv(socket, buffer, sizeof buffer, 0);
    if (got <= 0) return;
    head.append(buffer, std::size_t(got));
  }

  std::istringstream lines(head);
  std::string method, target, version;
  lines >> method >> target >> version;
  std::string line, range;
  std::getline(lines, line);
  while (std::getline(lines, line) && line != "\r") {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (lower(line.substr(0, colon)) == "range") {
      range = line.substr(colon + 1);
      range.erase(0, range.find_first_not_of(' '));
      range.erase(range.find_last_not_of("\r ") + 1);
    }
  }

  Request request{target, range, 0};
  std::string body;
  int status = 200;
  std::int64_t cutAfter = -1;
  bool honourRange = true;
  bool sendLength = true;
  std::int64_t chunk = 0;
  int pauseMs = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto s = statuses_.find(target); s != statuses_.end()) {
      status = s->second;
    } else if (auto f = files_.find(target); f != files_.end()) {
      body = f->second;
    } else {
      status = 404;
    }
    if (auto c = cuts_.find(target); c != cuts_.end() && status == 200) {
      cutAfter = c->second;
      cuts_.erase(c);
    }
    honourRange = ignoreRange_.count(target) == 0;
    sendLength = omitLength_.count(target) == 0;
    chunk = throttleChunk_;
    pauseMs = throttlePauseMs_;
  }

  std::ostringstream response;
  std::int64_t begin = 0;
  const std::int64_t total = std::int64_t(body.size());
  if (status == 200 && honourRange && range.rfind("bytes=", 0) == 0) {
    begin = std::stoll(range.substr(6));
    if (begin >= total) {
      status = 416;
      body.clear();
      response << "HTTP/1.1 416 " << reasonPhrase(416) << "\r\nContent-Range: bytes */" << total
               << "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else {
      status = 206;
      response << "HTTP/1.1 206 " << reasonPhrase(206) << "\r\nContent-Range: bytes " << begin << "-"
               << total - 1 << "/" << total << "\r\n";
    }
  } else if (status == 200) {
    response << "HTTP/1.1 200 OK\r\n";
  } else {
    body = reasonPhrase(status) + "\n";
    response << "HTTP/1.1 " << status << " " << reasonPhrase(status) << "\r\n";
  }
  if (status != 416) {
    if (sendLength) response << "Content-Length: " << std::int64_t(body.size()) - begin << "\r\n";
    response << "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
  }
  request.status = status;
  std::size_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    index = requests_.size();
    requests_.push_back(request);
  }
  std::int64_t sent = 0;
  // Recorded however the response ends, so tests can check how much a client took.
  struct RecordSent {
    HttpTestServer& server;
    std::size_t index;
    const std::int64_t& sent;
    ~RecordSent() {
      {
        std::lock_guard<std::mutex> lock(server.mutex_);
        server.requests_[index].bodyBytesSent = sent;
        server.requests_[index].finished = true;
      }
      server.responseOver_.notify_all();
    }
  } record{*this, index, sent};
  const std::string headers = response.str();
  if (!sendAll(socket, headers.data(), headers.size())) return;
  if (method == "HEAD" || status == 416) return;

  std::int64_t end = std::int64_t(body.size());
  if (cutAfter >= 0) end = std::min(end, begin + cutAfter);
  // Unthrottled bodies go in 64 KB pieces so bodyBytesSent stays accurate.
  const std::int64_t step = chunk > 0 ? chunk : 64 * 1024;
  for (std::int64_t at = begin; at < end && !stopping_; at += step) {
    const std::int64_t n = std::min(step, end - at);
    if (!sendAll(socket, body.data() + at, std::size_t(n))) return;
    sent += n;
    if (pauseMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
  }
  // A cut simply closes the connection early: the client sees a body shorter
  // than Content-Length, as when a network drops mid-download.
}

}  // namespace impasto::test
