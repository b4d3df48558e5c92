// The ADD result cache, one file per (network, pod): <cache_dir>/<network name>-<pod id>. The spec
// wants the DEL to carry the ADD's result as prevResult; keeping it on disk makes that true after
// a berthd restart. The entry also keeps the network config and runtime arguments the ADD used,
// so the DEL matches the ADD even when the config file changed in between (as libcni's cache does).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cni/plugin/network_list.h"

namespace berth::cni {

struct CacheEntry {
  std::string container_id;
  std::string ifname = "eth0";
  std::string cni_args;
  nlohmann::json capability_args = nlohmann::json::object();
  NetworkList network;
  nlohmann::json result;
};

std::string CachePath(const std::string& cache_dir, const std::string& network_name,
                      const std::string& container_id);

// Writes the entry atomically (a crash leaves the old entry or the new one).
Result<void> WriteCacheEntry(const std::string& cache_dir, const CacheEntry& entry);

// The entry file of one network of a pod, as read back. `entry` is empty when the file could not
// be read or parsed; the DEL then runs without it and the file is still removed afterwards.
struct CachedPod {
  std::string path;
  std::optional<CacheEntry> entry;
  std::string problem;
};

// Every entry of `container_id` in `cache_dir`, whatever its network name (the network may have
// been renamed since the ADD).
Result<std::vector<CachedPod>> FindCacheEntries(const std::string& cache_dir,
                                                const std::string& container_id);

// The pod (container) IDs that have entries in `cache_dir`: the 64-hex suffix of each name.
Result<std::vector<std::string>> CachedPodIds(const std::string& cache_dir);

// Parses an entry file's text; `source` names it in messages.
Result<CacheEntry> ParseCacheEntry(const std::string& text, const std::string& source);
std::string SerializeCacheEntry(const CacheEntry& entry);

}  // namespace berth::cni
