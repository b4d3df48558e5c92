// Single-use tokens for streaming URLs: the CRI Exec/Attach/PortForward RPC stores its request
// under a random token and returns the URL; the first HTTP request naming the token takes it.
// Tokens expire after a TTL and the store holds a bounded number of them.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "base/result.h"
#include "cri/streaming/streaming_runtime.h"

namespace berth::streaming {

using StreamingRequest = std::variant<ExecRequest, AttachRequest, PortForwardRequest>;

class TokenStore {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  TokenStore(std::chrono::seconds ttl, size_t max_pending,
             Clock clock = std::chrono::steady_clock::now);

  // A fresh 32-hex-character token for `request`. ResourceExhausted when `max_pending` unexpired
  // tokens are waiting.
  Result<std::string> Insert(StreamingRequest request);
  // The request stored under `token`, removing it; nullopt when unknown, used or expired.
  std::optional<StreamingRequest> Take(const std::string& token);
  size_t size() const;

 private:
  struct Entry {
    StreamingRequest request;
    std::chrono::steady_clock::time_point expires;
  };
  void DropExpired(std::chrono::steady_clock::time_point now);  // mu_ held

  const std::chrono::seconds ttl_;
  const size_t max_pending_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::streaming
