#include "cni/plugin/result_cache.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>

#include "base/file_util.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

constexpr char kCacheKind[] = "berthCniCacheV1";
// A config plus a result; bigger than this is not something berth wrote.
constexpr size_t kMaxEntryBytes = 4 << 20;

Result<std::string> StringOf(const json& doc, const char* key, const std::string& source) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) {
    return InvalidArgument(source + ": missing \"" + key + "\"");
  }
  return it->get<std::string>();
}

}  // namespace

std::string CachePath(const std::string& cache_dir, const std::string& network_name,
                      const std::string& container_id) {
  return JoinPath(cache_dir, network_name + "-" + container_id);
}

std::string SerializeCacheEntry(const CacheEntry& entry) {
  json doc = {{"kind", kCacheKind},
              {"containerId", entry.container_id},
              {"ifName", entry.ifname},
              {"networkName", entry.network.name},
              {"configSource", entry.network.source},
              {"cniArgs", entry.cni_args},
              {"capabilityArgs", entry.capability_args},
              {"config", entry.network.ToJson()},
              {"result", entry.result}};
  return doc.dump(2);
}

Result<CacheEntry> ParseCacheEntry(const std::string& text, const std::string& source) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return InvalidArgument(source + ": not a JSON object");
  // Typed lookups throughout: json::value() throws on a field of another type, and a damaged
  // file must be an error, not an exception.
  auto kind = StringOf(doc, "kind", source);
  if (!kind.ok() || *kind != kCacheKind) return InvalidArgument(source + ": unknown cache kind");
  CacheEntry entry;
  BERTH_ASSIGN_OR_RETURN(entry.container_id, StringOf(doc, "containerId", source));
  BERTH_ASSIGN_OR_RETURN(entry.ifname, StringOf(doc, "ifName", source));
  BERTH_ASSIGN_OR_RETURN(entry.cni_args, StringOf(doc, "cniArgs", source));
  auto config = doc.find("config");
  if (config == doc.end() || !config->is_object()) {
    return InvalidArgument(source + ": missing \"config\"");
  }
  auto configured_source = StringOf(doc, "configSource", source);
  std::string config_source = configured_source.ok() ? *configured_source : source;
  BERTH_ASSIGN_OR_RETURN(entry.network, ParseNetworkList(config->dump(), config_source));
  if (auto args = doc.find("capabilityArgs"); args != doc.end() && args->is_object()) {
    entry.capability_args = *args;
  }
  if (auto result = doc.find("result"); result != doc.end() && result->is_object()) {
    entry.result = *result;
  }
  return entry;
}

Result<void> WriteCacheEntry(const std::string& cache_dir, const CacheEntry& entry) {
  BERTH_TRY(MakeDirs(cache_dir, 0700));
  // Results name addresses of pods; only root needs to read them.
  return WriteFileAtomic(CachePath(cache_dir, entry.network.name, entry.container_id),
                         SerializeCacheEntry(entry), 0600);
}

Result<std::vector<std::string>> CachedPodIds(const std::string& cache_dir) {
  std::vector<std::string> ids;
  DIR* stream = ::opendir(cache_dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return ids;
    return Error::FromErrno(errno, "open CNI cache directory " + cache_dir);
  }
  while (const dirent* dirent = ::readdir(stream)) {
    std::string_view name = dirent->d_name;
    if (name.size() <= 65 || name[name.size() - 65] != '-') continue;
    std::string id(name.substr(name.size() - 64));
    bool hex = std::all_of(id.begin(), id.end(),
                           [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
    if (hex && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  ::closedir(stream);
  return ids;
}

Result<std::vector<CachedPod>> FindCacheEntries(const std::string& cache_dir,
                                                const std::string& container_id) {
  std::vector<CachedPod> found;
  DIR* stream = ::opendir(cache_dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return found;
    return Error::FromErrno(errno, "open CNI cache directory " + cache_dir);
  }
  std::string suffix = "-" + container_id;
  while (const dirent* dirent = ::readdir(stream)) {
    std::string_view name = dirent->d_name;
    if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
    CachedPod pod;
    pod.path = JoinPath(cache_dir, name);
    auto text = ReadFile(pod.path, kMaxEntryBytes);
    auto entry = text.ok() ? ParseCacheEntry(*text, pod.path) : Result<CacheEntry>(text.error());
    if (entry.ok()) {
      // "net-a" + "-b" and "net" + "-a-b" share a suffix; the entry says whose it is.
      if (entry->container_id != container_id) continue;
      pod.entry = std::move(*entry);
    } else {
      pod.problem = entry.error().message();
    }
    found.push_back(std::move(pod));
  }
  ::closedir(stream);
  std::sort(found.begin(), found.end(),
            [](const CachedPod& a, const CachedPod& b) { return a.path < b.path; });
  return found;
}

}  // namespace berth::cni
