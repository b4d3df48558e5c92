// The CNI protocol's pure parts: what a plugin is given (environment, CNI_ARGS, the config on
// stdin with name, cniVersion, prevResult and runtimeConfig injected) and what it prints (a result
// or an error object). A plugin's output is untrusted: every field is type-checked and bounded.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "cni/plugin/network_list.h"
#include "cni/pod_network.h"

namespace berth::cni {

// CNI requires a container ID that starts with a letter or digit and holds only letters, digits,
// '_', '.' and '-'; berth's pod IDs are hex. Checked before it names a cache file.
bool IsValidContainerId(std::string_view id);

// "IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;K8S_POD_INFRA_CONTAINER_ID=..;K8S_POD_UID=.."
// the keys kubelet's CNI callers have always passed; IgnoreUnknown keeps plugins that parse
// CNI_ARGS strictly from refusing them. A value holding ';' or '=' would corrupt the list.
Result<std::string> BuildCniArgs(const PodNetworkRequest& request);

// Everything a plugin's environment carries besides the inherited one.
struct Invocation {
  std::string command;  // ADD, DEL, CHECK, STATUS
  std::string container_id;
  std::string netns;  // empty when the namespace is gone (DEL) or not needed (STATUS)
  std::string ifname = "eth0";
  std::string cni_args;
  std::vector<std::string> bin_dirs;
};

// The inherited environment (plugins need PATH: portmap and bridge run iptables) without any
// CNI_* variable of berthd's own, plus the invocation's. Variables the spec leaves out for a
// command (STATUS has no container) are not set.
std::vector<std::string> BuildPluginEnv(const Invocation& invocation, char** inherited);

// The runtime-supplied values for capabilities, keyed by capability name ("portMappings",
// "ipRanges"); a key is present only when berth has a value for it.
nlohmann::json BuildCapabilityArgs(const std::vector<PortMapping>& port_mappings,
                                   const std::string& pod_cidr);

// The part of `capability_args` this plugin declared; null when it declared none of them.
nlohmann::json RuntimeConfigFor(const PluginConfig& plugin, const nlohmann::json& capability_args);

// The plugin's stdin: its config with the list's name and cniVersion, the runtimeConfig it asked
// for and, when given, prevResult.
std::string BuildPluginInput(const NetworkList& network, const PluginConfig& plugin,
                             const nlohmann::json& capability_args,
                             const nlohmann::json* prev_result);

// A CNI error object ({"code": 7, "msg": "...", "details": "..."}).
struct PluginError {
  int code = 0;
  std::string msg;
  std::string details;
};
// The error object on a failed plugin's stdout, when there is one.
std::optional<PluginError> ParsePluginError(std::string_view out);
// Well-known error codes: 11 ("try again later") and the STATUS codes 50/51 are Unavailable;
// everything else is Internal.
ErrorCode ErrorCodeForPlugin(int cni_code);

// An ADD result: a JSON object no bigger than the exec bound; it is passed on as prevResult.
Result<nlohmann::json> ParseAddResult(std::string_view out);

// The pod's addresses (no prefix length), IPv4 first: the IPs the result assigns to the sandbox
// interface named `ifname`. Results from 0.3.x/0.4.0 ("version": "4") and 1.x (version implied
// by the address) are both read. When the result does not tie IPs to that interface, all of them
// count (IPAM-style results carry no interface index).
Result<std::vector<std::string>> PodIpsFromResult(const nlohmann::json& result,
                                                  const std::string& ifname);

}  // namespace berth::cni
