// A tiny HTTP/1.1 server on 127.0.0.1 for the registry client's edge cases that a well-behaved
// docker-registry never produces: redirects to another host, lying digests, oversized or truncated
// bodies, stalls, 5xx, refresh-token grants. One request per connection (Connection: close).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace berth::testing {

struct FakeRequest {
  std::string method;
  std::string target;                          // "/v2/x/manifests/latest"
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wait this long before answering (the server's shutdown cuts it short).
  std::chrono::milliseconds stall{0};
  // Close the connection after this many body bytes, although Content-Length promised all.
  size_t truncate_at = std::string::npos;
};

class FakeHttpServer {
 public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + host(); }
  // Every HTTP request received so far (TLS handshakes are refused and not recorded).
  std::vector<FakeRequest> requests() const;

 private:
  void AcceptLoop();
  void Serve(int fd);
  void Answer(int fd, const FakeResponse& response);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<FakeRequest> requests_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

}  // namespace berth::testing
