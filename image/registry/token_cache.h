// Bearer tokens shared by every pull of the daemon, so that pulling N images from one repository
// costs one round trip to the token server rather than N. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

namespace berth::image::registry {

struct TokenKey {
  std::string realm;
  std::string service;
  std::string scope;
  std::string identity;  // Credentials::CacheIdentity(): never the secret itself

  friend auto operator<=>(const TokenKey&, const TokenKey&) = default;
};

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;

  // At most this many tokens are kept; the ones closest to expiry go first.
  static constexpr size_t kMaxEntries = 1024;

  std::optional<std::string> Get(const TokenKey& key, Clock::time_point now = Clock::now());
  void Put(const TokenKey& key, std::string token, Clock::time_point expires);
  // Drops `token` for `key` (a registry refused it before its expiry); a newer token someone else
  // stored meanwhile stays.
  void Invalidate(const TokenKey& key, const std::string& token);
  size_t size() const;

 private:
  struct Entry {
    std::string token;
    Clock::time_point expires;
  };
  void EvictLocked(Clock::time_point now);

  mutable std::mutex mutex_;
  std::map<TokenKey, Entry> entries_;
};

}  // namespace berth::image::registry
