// The Prometheus endpoint: a small HTTP/1.x server that answers GET /metrics with the registry's
// text, one connection at a time (a scraper is one client; each request is bounded in size and
// time, so a stuck one holds the next for at most a few seconds). Off unless metrics.address is
// set; meant for loopback or a node-local scraper.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"
#include "metrics/registry.h"

namespace berth::metrics {

class HttpEndpoint {
 public:
  // `address`: "host:port" (IPv4 or a name-free IPv6 "[::1]:port"); port 0 picks a free one.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const std::string& address,
                                                     Registry& registry);
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // "http://127.0.0.1:9464/metrics", with the port actually bound.
  const std::string& url() const { return url_; }

 private:
  HttpEndpoint(UniqueFd listener, UniqueFd stop, std::string url, Registry& registry);
  void Serve();
  void Answer(int connection);

  UniqueFd listener_;
  UniqueFd stop_;  // an eventfd: written once to end Serve
  std::string url_;
  Registry& registry_;
  std::thread thread_;
};

// Splits "host:port" / "[v6]:port"; InvalidArgument when it is neither.
Result<std::pair<std::string, int>> SplitHostPort(const std::string& address);

}  // namespace berth::metrics
