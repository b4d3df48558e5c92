// CNI network configuration, loaded the way libcni does: the first file by name in the config
// directory ending in .conflist, .conf or .json; a .conf/.json holds one plugin and is wrapped into
// a list of one. Config files are written by the node's administrator or a CNI daemonset, so they
// are trusted to say what to run, but still parsed defensively (no exceptions, types checked).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::cni {

// One plugin of a network: its executable name and its config object exactly as written (fields
// the runtime does not know are the plugin's business and are passed through untouched).
struct PluginConfig {
  std::string type;
  // Capabilities the plugin declared true ("portMappings", "ipRanges", ...); only these are given
  // to it in runtimeConfig (CNI CONVENTIONS.md).
  std::vector<std::string> capabilities;
  nlohmann::json raw;
};

struct NetworkList {
  std::string name;
  std::string cni_version;  // the version berth speaks with this network's plugins
  bool disable_check = false;
  std::vector<PluginConfig> plugins;
  std::string source;  // the file it came from, for messages
  // The list in .conflist form with the chosen cniVersion, so a cached copy re-parses the same.
  nlohmann::json ToJson() const;
};

// The spec versions berth executes plugins with, oldest first. 0.3.x is kept because many
// deployed configs still name it; it has no CHECK and no prevResult on DEL.
const std::vector<std::string>& SupportedCniVersions();
// Compares dotted versions numerically ("1.10.0" > "1.9.0"); unparsable parts count as 0.
int CompareCniVersions(std::string_view a, std::string_view b);

// A .conflist document.
Result<NetworkList> ParseNetworkList(std::string_view text, const std::string& source);
// A .conf/.json document: one plugin, promoted to a list of one.
Result<NetworkList> ParseSinglePluginNetwork(std::string_view text, const std::string& source);
// By the file's extension.
Result<NetworkList> ParseNetworkFile(std::string_view text, const std::string& path);

// Config files in `dir` with a CNI extension, sorted by name (full paths). A missing directory is
// an empty list.
Result<std::vector<std::string>> ListNetworkFiles(const std::string& dir);

// What the loader saw of the directory: changes when a config file is added, removed, renamed or
// rewritten, so a caller can skip re-parsing on every readiness check.
struct DirFingerprint {
  struct Entry {
    std::string path;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
  };
  bool dir_exists = false;
  std::vector<Entry> entries;
  bool operator==(const DirFingerprint& other) const;
};
bool operator==(const DirFingerprint::Entry& a, const DirFingerprint::Entry& b);
DirFingerprint FingerprintNetworkDir(const std::string& dir);

// The first valid network in `dir`. Invalid files are skipped (and named in the error when none is
// valid), as kubelet's and CRI-O's loaders did, so one half-written file does not take the node's
// network down while a good one sits beside it.
Result<NetworkList> LoadFirstNetwork(const std::string& dir);

}  // namespace berth::cni
