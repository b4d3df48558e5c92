#include "cri/streaming/token_store.h"

#include "base/random.h"

namespace berth::streaming {

TokenStore::TokenStore(std::chrono::seconds ttl, size_t max_pending, Clock clock)
    : ttl_(ttl), max_pending_(max_pending), clock_(std::move(clock)) {}

void TokenStore::DropExpired(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.expires <= now; });
}

Result<std::string> TokenStore::Insert(StreamingRequest request) {
  auto now = clock_();
  std::lock_guard lock(mu_);
  if (entries_.size() >= max_pending_) DropExpired(now);
  if (entries_.size() >= max_pending_) {
    return Error(ErrorCode::kResourceExhausted,
                 "streaming server: " + std::to_string(max_pending_) +
                     " requests already wait for a client");
  }
  std::string token;
  do {
    token = RandomHex(32);
  } while (entries_.count(token) != 0);
  entries_.emplace(token, Entry{std::move(request), now + ttl_});
  return token;
}

std::optional<StreamingRequest> TokenStore::Take(const std::string& token) {
  auto now = clock_();
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (entry.expires <= now) return std::nullopt;
  return std::move(entry.request);
}

size_t TokenStore::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace berth::streaming
