#include "cni/plugin/network_list.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>

#include "base/file_util.h"
#include "base/parse_number.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

// Config files are small; anything bigger is not a CNI config.
constexpr size_t kMaxConfigBytes = 1 << 20;

bool HasSuffix(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool IsSupported(const std::string& version) {
  const auto& all = SupportedCniVersions();
  return std::find(all.begin(), all.end(), version) != all.end();
}

// CNI 1.0 restricts network names to this alphabet; it also keeps the name safe to use in the
// result cache's file name.
bool IsValidNetworkName(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// The type names an executable looked up in the bin dirs; a path in it would escape them.
bool IsValidPluginType(const std::string& type) {
  return !type.empty() && type != "." && type != ".." && type.find('/') == std::string::npos &&
         type.find('\0') == std::string::npos;
}

Result<json> ParseObject(std::string_view text, const std::string& source) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument(source + ": not valid JSON");
  if (!doc.is_object()) return InvalidArgument(source + ": not a JSON object");
  return doc;
}

Result<std::string> StringField(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return InvalidArgument(where + ": missing \"" + key + "\"");
  if (!it->is_string()) return InvalidArgument(where + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

// libcni accepts both true and "true" here.
Result<bool> BoolField(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
  return InvalidArgument(where + ": \"" + key + "\" is not a boolean");
}

// cniVersion plus the 1.1 "cniVersions" list: the highest version both sides speak.
Result<std::string> ChooseVersion(const json& doc, const std::string& where) {
  std::vector<std::string> offered;
  if (auto it = doc.find("cniVersion"); it != doc.end()) {
    if (!it->is_string()) return InvalidArgument(where + ": \"cniVersion\" is not a string");
    offered.push_back(it->get<std::string>());
  }
  if (auto it = doc.find("cniVersions"); it != doc.end()) {
    if (!it->is_array()) return InvalidArgument(where + ": \"cniVersions\" is not a list");
    for (const auto& version : *it) {
      if (!version.is_string())
        return InvalidArgument(where + ": \"cniVersions\" holds a non-string");
      offered.push_back(version.get<std::string>());
    }
  }
  if (offered.empty()) return InvalidArgument(where + ": missing \"cniVersion\"");
  std::string best;
  for (const auto& version : offered) {
    if (IsSupported(version) && (best.empty() || CompareCniVersions(version, best) > 0)) {
      best = version;
    }
  }
  if (best.empty()) {
    return InvalidArgument(where + ": cniVersion \"" + offered.front() +
                           "\" is not supported (berth speaks 0.3.0 to 1.1.0)");
  }
  return best;
}

Result<PluginConfig> ParsePlugin(const json& raw, const std::string& where) {
  if (!raw.is_object()) return InvalidArgument(where + " is not a JSON object");
  PluginConfig plugin;
  BERTH_ASSIGN_OR_RETURN(plugin.type, StringField(raw, "type", where));
  if (!IsValidPluginType(plugin.type)) {
    return InvalidArgument(where + ": invalid type \"" + plugin.type + "\"");
  }
  if (auto it = raw.find("capabilities"); it != raw.end()) {
    if (!it->is_object()) return InvalidArgument(where + ": \"capabilities\" is not an object");
    for (const auto& [name, enabled] : it->items()) {
      if (enabled.is_boolean() && enabled.get<bool>()) plugin.capabilities.push_back(name);
    }
  }
  plugin.raw = raw;
  return plugin;
}

Result<std::string> NetworkName(const json& doc, const std::string& where) {
  BERTH_ASSIGN_OR_RETURN(std::string name, StringField(doc, "name", where));
  if (!IsValidNetworkName(name)) {
    return InvalidArgument(where + ": invalid network name \"" + name +
                           "\" (letters, digits, '_', '.', '-'; starting with a letter or digit)");
  }
  return name;
}

}  // namespace

const std::vector<std::string>& SupportedCniVersions() {
  static const std::vector<std::string> versions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return versions;
}

int CompareCniVersions(std::string_view a, std::string_view b) {
  auto next_part = [](std::string_view& text) {
    size_t dot = text.find('.');
    std::string_view part = text.substr(0, dot);
    text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    // Not a number ("0-rc1", "x") compares as 0.
    return ParseUint64(part, UINT32_MAX).value_or(0);
  };
  while (!a.empty() || !b.empty()) {
    unsigned left = next_part(a);
    unsigned right = next_part(b);
    if (left != right) return left < right ? -1 : 1;
  }
  return 0;
}

json NetworkList::ToJson() const {
  json plugin_list = json::array();
  for (const auto& plugin : plugins) plugin_list.push_back(plugin.raw);
  json doc = {{"cniVersion", cni_version}, {"name", name}, {"plugins", std::move(plugin_list)}};
  if (disable_check) doc["disableCheck"] = true;
  return doc;
}

Result<NetworkList> ParseNetworkList(std::string_view text, const std::string& source) {
  BERTH_ASSIGN_OR_RETURN(json doc, ParseObject(text, source));
  NetworkList list;
  list.source = source;
  BERTH_ASSIGN_OR_RETURN(list.name, NetworkName(doc, source));
  BERTH_ASSIGN_OR_RETURN(list.cni_version, ChooseVersion(doc, source));
  BERTH_ASSIGN_OR_RETURN(list.disable_check, BoolField(doc, "disableCheck", source));
  auto plugins = doc.find("plugins");
  if (plugins == doc.end()) return InvalidArgument(source + ": missing \"plugins\"");
  if (!plugins->is_array() || plugins->empty()) {
    return InvalidArgument(source + ": \"plugins\" must be a non-empty list");
  }
  for (size_t i = 0; i < plugins->size(); ++i) {
    std::string where = source + ": plugin " + std::to_string(i);
    BERTH_ASSIGN_OR_RETURN(PluginConfig plugin, ParsePlugin((*plugins)[i], where));
    list.plugins.push_back(std::move(plugin));
  }
  return list;
}

Result<NetworkList> ParseSinglePluginNetwork(std::string_view text, const std::string& source) {
  BERTH_ASSIGN_OR_RETURN(json doc, ParseObject(text, source));
  if (!doc.contains("type") && doc.contains("plugins")) {
    return InvalidArgument(source + ": a plugin list must be in a .conflist file");
  }
  NetworkList list;
  list.source = source;
  BERTH_ASSIGN_OR_RETURN(list.name, NetworkName(doc, source));
  BERTH_ASSIGN_OR_RETURN(list.cni_version, ChooseVersion(doc, source));
  BERTH_ASSIGN_OR_RETURN(PluginConfig plugin, ParsePlugin(doc, source));
  list.plugins.push_back(std::move(plugin));
  return list;
}

Result<NetworkList> ParseNetworkFile(std::string_view text, const std::string& path) {
  if (HasSuffix(path, ".conflist")) return ParseNetworkList(text, path);
  return ParseSinglePluginNetwork(text, path);
}

Result<std::vector<std::string>> ListNetworkFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* stream = ::opendir(dir.c_str());
  if (stream == nullptr) {
    if (errno == ENOENT) return files;
    return Error::FromErrno(errno, "open CNI config directory " + dir);
  }
  while (const dirent* entry = ::readdir(stream)) {
    std::string_view name = entry->d_name;
    if (name.front() == '.') continue;  // editors' and atomic writers' temp files
    if (HasSuffix(name, ".conflist") || HasSuffix(name, ".conf") || HasSuffix(name, ".json")) {
      files.push_back(JoinPath(dir, name));
    }
  }
  ::closedir(stream);
  std::sort(files.begin(), files.end());
  return files;
}

bool operator==(const DirFingerprint::Entry& a, const DirFingerprint::Entry& b) {
  return a.path == b.path && a.inode == b.inode && a.size == b.size && a.mtime_ns == b.mtime_ns;
}

bool DirFingerprint::operator==(const DirFingerprint& other) const {
  return dir_exists == other.dir_exists && entries == other.entries;
}

DirFingerprint FingerprintNetworkDir(const std::string& dir) {
  DirFingerprint fingerprint;
  struct stat st {};
  fingerprint.dir_exists = ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (!fingerprint.dir_exists) return fingerprint;
  auto files = ListNetworkFiles(dir);
  if (!files.ok()) return fingerprint;
  for (const auto& path : *files) {
    DirFingerprint::Entry entry;
    entry.path = path;
    if (::stat(path.c_str(), &st) == 0) {
      entry.inode = st.st_ino;
      entry.size = st.st_size;
      entry.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    }
    fingerprint.entries.push_back(std::move(entry));
  }
  return fingerprint;
}

Result<NetworkList> LoadFirstNetwork(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> files, ListNetworkFiles(dir));
  std::string skipped;
  for (const auto& path : files) {
    auto loaded = [&]() -> Result<NetworkList> {
      BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxConfigBytes));
      return ParseNetworkFile(text, path);
    }();
    if (loaded.ok()) return loaded;
    spdlog::warn("skipping CNI network config: {}", loaded.error().message());
    skipped += (skipped.empty() ? " (skipped: " : "; ") + loaded.error().message();
  }
  if (!skipped.empty()) skipped += ")";
  return FailedPrecondition("no CNI network config found in " + dir + skipped);
}

}  // namespace berth::cni
