#include "cni/plugin/protocol.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace berth::cni {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxIps = 64;
constexpr size_t kMaxErrorText = 4096;

std::string Bounded(std::string text) {
  if (text.size() > kMaxErrorText) text.resize(kMaxErrorText);
  return text;
}

std::string Join(const std::vector<std::string>& parts, char separator) {
  std::string joined;
  for (const auto& part : parts) {
    if (!joined.empty()) joined += separator;
    joined += part;
  }
  return joined;
}

// Family of a textual IP ("10.0.0.1" -> 4), 0 when it is not an address.
int AddressFamily(const std::string& address) {
  unsigned char buffer[16];
  if (::inet_pton(AF_INET, address.c_str(), buffer) == 1) return 4;
  if (::inet_pton(AF_INET6, address.c_str(), buffer) == 1) return 6;
  return 0;
}

// The sandbox interface index the IPs of `ifname` point at; -1 when the result lists none.
int SandboxInterfaceIndex(const json& result, const std::string& ifname) {
  auto interfaces = result.find("interfaces");
  if (interfaces == result.end() || !interfaces->is_array()) return -1;
  for (size_t i = 0; i < interfaces->size(); ++i) {
    const json& entry = (*interfaces)[i];
    if (!entry.is_object()) continue;
    auto name = entry.find("name");
    auto sandbox = entry.find("sandbox");
    if (name != entry.end() && *name == ifname && sandbox != entry.end() && sandbox->is_string() &&
        !sandbox->get<std::string>().empty()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

struct ResultIp {
  std::string address;  // without prefix length
  int family = 0;
  int interface = -1;  // -1: not tied to an interface
};

Result<ResultIp> ParseResultIp(const json& entry) {
  if (!entry.is_object()) return InvalidArgument("an entry of \"ips\" is not an object");
  auto address = entry.find("address");
  if (address == entry.end() || !address->is_string()) {
    return InvalidArgument("an entry of \"ips\" has no address");
  }
  std::string cidr = address->get<std::string>();
  ResultIp ip;
  ip.address = cidr.substr(0, cidr.find('/'));
  ip.family = AddressFamily(ip.address);
  if (ip.family == 0) return InvalidArgument("invalid address \"" + Bounded(cidr) + "\" in result");
  if (auto version = entry.find("version"); version != entry.end()) {
    // 0.3.x/0.4.0 results name the family; it must agree with the address.
    if (!version->is_string() || *version != std::to_string(ip.family)) {
      return InvalidArgument("address \"" + cidr + "\" does not match its version field");
    }
  }
  if (auto index = entry.find("interface"); index != entry.end()) {
    if (!index->is_number_integer() || *index < 0 || *index > 1024) {
      return InvalidArgument("invalid interface index for address \"" + cidr + "\"");
    }
    ip.interface = index->get<int>();
  }
  return ip;
}

}  // namespace

bool IsValidContainerId(std::string_view id) {
  if (id.empty() || id.size() > 256 || !std::isalnum(static_cast<unsigned char>(id[0]))) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

Result<std::string> BuildCniArgs(const PodNetworkRequest& request) {
  const std::pair<const char*, const std::string*> pairs[] = {
      {"K8S_POD_NAMESPACE", &request.pod_namespace},
      {"K8S_POD_NAME", &request.pod_name},
      {"K8S_POD_INFRA_CONTAINER_ID", &request.pod_id},
      {"K8S_POD_UID", &request.pod_uid},
  };
  std::string args = "IgnoreUnknown=1";
  for (const auto& [key, value] : pairs) {
    if (value->find_first_of(";=") != std::string::npos) {
      return InvalidArgument(std::string(key) + " \"" + *value + "\" holds ';' or '='");
    }
    args += ';';
    args += key;
    args += '=';
    args += *value;
  }
  return args;
}

std::vector<std::string> BuildPluginEnv(const Invocation& invocation, char** inherited) {
  std::vector<std::string> env;
  for (char** entry = inherited; entry != nullptr && *entry != nullptr; ++entry) {
    if (std::string_view(*entry).starts_with("CNI_")) continue;
    env.emplace_back(*entry);
  }
  env.push_back("CNI_COMMAND=" + invocation.command);
  env.push_back("CNI_PATH=" + Join(invocation.bin_dirs, ':'));
  if (invocation.command == "STATUS") return env;  // STATUS concerns the network, not a container
  env.push_back("CNI_CONTAINERID=" + invocation.container_id);
  if (!invocation.netns.empty()) env.push_back("CNI_NETNS=" + invocation.netns);
  env.push_back("CNI_IFNAME=" + invocation.ifname);
  env.push_back("CNI_ARGS=" + invocation.cni_args);
  return env;
}

json BuildCapabilityArgs(const std::vector<PortMapping>& port_mappings,
                         const std::string& pod_cidr) {
  json args = json::object();
  if (!port_mappings.empty()) {
    json mappings = json::array();
    for (const auto& mapping : port_mappings) {
      json entry = {{"hostPort", mapping.host_port},
                    {"containerPort", mapping.container_port},
                    {"protocol", mapping.protocol}};
      if (!mapping.host_ip.empty()) entry["hostIP"] = mapping.host_ip;
      mappings.push_back(std::move(entry));
    }
    args["portMappings"] = std::move(mappings);
  }
  // host-local reads "ipRanges" (a list of range sets); the node's pod CIDR is one range.
  if (!pod_cidr.empty()) args["ipRanges"] = json::array({json::array({{{"subnet", pod_cidr}}})});
  return args;
}

json RuntimeConfigFor(const PluginConfig& plugin, const json& capability_args) {
  json runtime_config = json::object();
  for (const auto& capability : plugin.capabilities) {
    auto value = capability_args.find(capability);
    if (value != capability_args.end()) runtime_config[capability] = *value;
  }
  return runtime_config.empty() ? json() : runtime_config;
}

std::string BuildPluginInput(const NetworkList& network, const PluginConfig& plugin,
                             const json& capability_args, const json* prev_result) {
  json input = plugin.raw;
  input["name"] = network.name;
  input["cniVersion"] = network.cni_version;
  // A runtimeConfig written in the file is the runtime's field, not the admin's.
  input.erase("runtimeConfig");
  input.erase("prevResult");
  json runtime_config = RuntimeConfigFor(plugin, capability_args);
  if (!runtime_config.is_null()) input["runtimeConfig"] = std::move(runtime_config);
  if (prev_result != nullptr && !prev_result->is_null()) input["prevResult"] = *prev_result;
  return input.dump();
}

std::optional<PluginError> ParsePluginError(std::string_view out) {
  json doc = json::parse(out.begin(), out.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto code = doc.find("code");
  auto msg = doc.find("msg");
  if (code == doc.end() || !code->is_number_integer()) return std::nullopt;
  PluginError error;
  error.code = code->get<int>();
  if (msg != doc.end() && msg->is_string()) error.msg = Bounded(msg->get<std::string>());
  if (auto details = doc.find("details"); details != doc.end() && details->is_string()) {
    error.details = Bounded(details->get<std::string>());
  }
  return error;
}

ErrorCode ErrorCodeForPlugin(int cni_code) {
  return cni_code == 11 || cni_code == 50 || cni_code == 51 ? ErrorCode::kUnavailable
                                                            : ErrorCode::kInternal;
}

Result<json> ParseAddResult(std::string_view out) {
  json doc = json::parse(out.begin(), out.end(), nullptr, false);
  if (doc.is_discarded()) return Internal("result is not valid JSON");
  if (!doc.is_object()) return Internal("result is not a JSON object");
  return doc;
}

Result<std::vector<std::string>> PodIpsFromResult(const json& result, const std::string& ifname) {
  auto ips = result.find("ips");
  if (ips == result.end() || ips->is_null()) return std::vector<std::string>{};
  if (!ips->is_array()) return InvalidArgument("\"ips\" is not a list");
  if (ips->size() > kMaxIps) return InvalidArgument("result has too many IPs");
  std::vector<ResultIp> parsed;
  for (const auto& entry : *ips) {
    BERTH_ASSIGN_OR_RETURN(ResultIp ip, ParseResultIp(entry));
    parsed.push_back(std::move(ip));
  }
  int pod_interface = SandboxInterfaceIndex(result, ifname);
  // Filter only when the result says which interface is the pod's; otherwise every IP counts.
  bool filter =
      pod_interface >= 0 && std::any_of(parsed.begin(), parsed.end(),
                                        [](const ResultIp& ip) { return ip.interface >= 0; });
  std::vector<std::string> v4, v6;
  for (const auto& ip : parsed) {
    if (filter && ip.interface != pod_interface) continue;  // host side, lo, other ifaces
    auto& family = ip.family == 4 ? v4 : v6;
    if (std::find(family.begin(), family.end(), ip.address) == family.end()) {
      family.push_back(ip.address);
    }
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

}  // namespace berth::cni
