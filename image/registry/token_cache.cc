#include "image/registry/token_cache.h"

#include <algorithm>

namespace berth::image::registry {

std::optional<std::string> TokenCache::Get(const TokenKey& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.token;
}

void TokenCache::Put(const TokenKey& key, std::string token, Clock::time_point expires) {
  std::lock_guard lock(mutex_);
  entries_[key] = Entry{std::move(token), expires};
  if (entries_.size() > kMaxEntries) EvictLocked(Clock::now());
}

void TokenCache::Invalidate(const TokenKey& key, const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.token == token) entries_.erase(it);
}

size_t TokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void TokenCache::EvictLocked(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) { return item.second.expires <= now; });
  while (entries_.size() > kMaxEntries) {
    auto soonest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    entries_.erase(soonest);
  }
}

}  // namespace berth::image::registry
