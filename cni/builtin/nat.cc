#include "cni/builtin/nat.h"

#include <nftables/libnftables.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

namespace berth::cni {
namespace {

using Json = nlohmann::json;

constexpr char kHostportsChain[] = "hostports";

// libnftables documents no thread safety (its parser and cache code use shared state), and a
// read-modify-write by handle must not interleave with another one: one batch at a time.
std::mutex nftables_mutex;

// Names go into nft's command language unquoted (tables, chains) or quoted (interfaces), so
// only plain characters are allowed.
Result<void> CheckName(const std::string& what, const std::string& name) {
  bool plain = !name.empty() && name.size() < 64 &&
               std::all_of(name.begin(), name.end(), [](unsigned char c) {
                 return std::isalnum(c) || c == '_' || c == '-' || c == '.';
               });
  if (!plain) return InvalidArgument("invalid " + what + " name \"" + name + "\"");
  return Ok();
}

// nft prints "Error: ..." plus the offending command and carets; keep it all but trailing space.
std::string Trimmed(const char* text) {
  std::string message = text != nullptr ? text : "";
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  return message;
}

std::string JoinBlocks(const std::vector<Cidr>& blocks) {
  std::string joined;
  for (const auto& block : blocks) joined += (joined.empty() ? "" : ", ") + block.ToString();
  return joined;
}

// One family's table, set and base chains. Base chains are flushed and refilled in the same
// batch, so a restart with changed subnets or a newer berth never leaves duplicate rules.
std::string FamilyScript(const std::string& table, bool v4, const std::vector<Cidr>& subnets,
                         const std::string& bridge) {
  std::string ip = v4 ? "ip" : "ip6";
  std::string s;
  s += "add table " + table + "\n";
  s += "add set " + table + " pod_subnets { type " + (v4 ? "ipv4_addr" : "ipv6_addr") +
       "; flags interval; }\n";
  s += "flush set " + table + " pod_subnets\n";
  s += "add element " + table + " pod_subnets { " + JoinBlocks(OutermostBlocks(subnets)) + " }\n";
  s += "add chain " + table + " " + kHostportsChain + "\n";
  const std::pair<const char*, int> base_chains[] = {
      {"prerouting", -100}, {"output", -100}, {"postrouting", 100}};
  for (auto [chain, priority] : base_chains) {
    s += "add chain " + table + " " + chain + " { type nat hook " + chain + " priority " +
         std::to_string(priority) + "; policy accept; }\n";
    s += "flush chain " + table + " " + chain + "\n";
  }
  s += "add rule " + table + " prerouting fib daddr type local jump hostports\n";
  // IPv6 has no route_localnet: ::1 can never leave lo, so it is not mapped.
  s += "add rule " + table + " output fib daddr type local " +
       (v4 ? std::string() : "ip6 daddr != ::1 ") + "jump hostports\n";
  s += "add rule " + table + " postrouting " + ip + " saddr @pod_subnets " + ip +
       " daddr != @pod_subnets masquerade\n";
  std::string to_bridge = "add rule " + table + " postrouting oifname \"" + bridge +
                          "\" ct status dnat " + ip + " saddr ";
  // A localhost client's source (127.0.0.1) cannot be answered from the pod; a pod reaching a
  // hostPort that leads back onto the bridge would get the reply straight over L2, bypassing
  // the host's un-DNAT. Both are fixed by masquerading to the bridge's address.
  if (v4) s += to_bridge + "127.0.0.0/8 masquerade\n";
  s += to_bridge + "@pod_subnets masquerade\n";
  return s;
}

struct DnatRule {
  bool v4 = true;
  std::string text;
};

Result<std::string> NormalizedProtocol(const std::string& protocol) {
  std::string lower = protocol;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "tcp" && lower != "udp") {
    return InvalidArgument("port mapping protocol \"" + protocol + "\" is not tcp or udp");
  }
  return lower;
}

// The DNAT rules of one mapping: one per family it applies to.
Result<std::vector<DnatRule>> RulesFor(const PortMapping& mapping, const IpAddress& pod_v4,
                                       const std::optional<IpAddress>& pod_v6) {
  BERTH_ASSIGN_OR_RETURN(std::string protocol, NormalizedProtocol(mapping.protocol));
  if (mapping.container_port == 0) return InvalidArgument("port mapping without container port");
  std::string match = protocol + " dport " + std::to_string(mapping.host_port) + " dnat to ";
  std::string port = ":" + std::to_string(mapping.container_port);
  std::string v4_target = match + pod_v4.ToString() + port;
  std::string v6_target = pod_v6 ? match + "[" + pod_v6->ToString() + "]" + port : "";
  bool any = mapping.host_ip.empty() || mapping.host_ip == "0.0.0.0" || mapping.host_ip == "::";
  if (any) {
    std::vector<DnatRule> rules{{true, v4_target}};
    if (pod_v6) rules.push_back({false, v6_target});
    return rules;
  }
  auto host_ip = IpAddress::Parse(mapping.host_ip);
  if (!host_ip.ok()) return std::move(host_ip).error().Wrap("port mapping host IP");
  if (host_ip->is_v4()) {
    return std::vector<DnatRule>{{true, "ip daddr " + host_ip->ToString() + " " + v4_target}};
  }
  if (!pod_v6) {
    return InvalidArgument("port mapping on IPv6 host address " + mapping.host_ip +
                           " for a pod without an IPv6 address");
  }
  return std::vector<DnatRule>{{false, "ip6 daddr " + host_ip->ToString() + " " + v6_target}};
}

bool JumpsTo(const Json& rule, const std::string& chain) {
  if (!rule.contains("expr") || !rule["expr"].is_array()) return false;
  for (const auto& expression : rule["expr"]) {
    if (expression.contains("jump") && expression["jump"].value("target", "") == chain) return true;
  }
  return false;
}

}  // namespace

Result<std::string> RunNftables(const std::string& commands, bool json_output) {
  std::lock_guard lock(nftables_mutex);
  std::unique_ptr<nft_ctx, decltype(&nft_ctx_free)> context(nft_ctx_new(NFT_CTX_DEFAULT),
                                                            nft_ctx_free);
  if (!context) return Internal("nftables: cannot create a context");
  nft_ctx_buffer_output(context.get());
  nft_ctx_buffer_error(context.get());
  if (json_output) {
    nft_ctx_output_set_flags(context.get(), NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE);
  }
  if (nft_run_cmd_from_buffer(context.get(), commands.c_str()) != 0) {
    std::string message = Trimmed(nft_ctx_get_error_buffer(context.get()));
    bool missing = message.find("No such file or directory") != std::string::npos;
    return Error(missing ? ErrorCode::kNotFound : ErrorCode::kInternal, "nftables: " + message);
  }
  return std::string(nft_ctx_get_output_buffer(context.get()));
}

std::string PodChainName(const std::string& pod_id) {
  return "pod-" + pod_id.substr(0, 12);
}

Result<void> Nat::Ensure(const std::vector<Cidr>& subnets) {
  BERTH_TRY(CheckName("nftables table", table_));
  BERTH_TRY(CheckName("bridge", bridge_));
  std::vector<Cidr> v4;
  std::vector<Cidr> v6;
  for (const auto& subnet : subnets) (subnet.is_v4() ? v4 : v6).push_back(subnet);
  std::string script;
  if (!v4.empty()) script += FamilyScript(TableFor(true), true, v4, bridge_);
  if (!v6.empty()) script += FamilyScript(TableFor(false), false, v6, bridge_);
  if (script.empty()) return Ok();
  std::lock_guard lock(mutex_);
  auto applied = RunNftables(script);
  if (!applied.ok()) return std::move(applied).error().Wrap("set up nftables table " + table_);
  return Ok();
}

Result<bool> Nat::TableExists(bool v4) {
  auto listed = RunNftables("list chain " + TableFor(v4) + " postrouting");
  if (listed.ok()) return true;
  if (listed.error().code() == ErrorCode::kNotFound) return false;
  return std::move(listed).error();
}

Result<bool> Nat::Exists(bool want_v6) {
  BERTH_ASSIGN_OR_RETURN(bool v4, TableExists(true));
  if (!v4 || !want_v6) return v4;
  return TableExists(false);
}

Result<std::string> Nat::RemovalCommands(bool v4, const std::string& chain) {
  std::string table = TableFor(v4);
  auto listed = RunNftables("list table " + table, /*json_output=*/true);
  if (!listed.ok() && listed.error().code() == ErrorCode::kNotFound) return std::string();
  if (!listed.ok()) return std::move(listed).error();
  Json listing = Json::parse(*listed, nullptr, false);
  if (!listing.is_object() || !listing["nftables"].is_array()) {
    return Internal("nftables: unreadable listing of table " + table);
  }
  std::string commands;
  bool chain_exists = false;
  for (const auto& item : listing["nftables"]) {
    if (item.contains("chain") && item["chain"].value("name", "") == chain) chain_exists = true;
    if (!item.contains("rule")) continue;
    const Json& rule = item["rule"];
    if (rule.value("chain", "") == kHostportsChain && JumpsTo(rule, chain)) {
      commands += "delete rule " + table + " " + kHostportsChain + " handle " +
                  std::to_string(rule.value("handle", 0)) + "\n";
    }
  }
  if (chain_exists)
    commands +=
        "flush chain " + table + " " + chain + "\ndelete chain " + table + " " + chain + "\n";
  return commands;
}

Result<void> Nat::AddPortMappings(const std::string& pod_id,
                                  const std::vector<PortMapping>& mappings, const IpAddress& pod_v4,
                                  const std::optional<IpAddress>& pod_v6) {
  std::string chain = PodChainName(pod_id);
  BERTH_TRY(CheckName("pod chain", chain));
  std::vector<DnatRule> rules;
  for (const auto& mapping : mappings) {
    if (mapping.host_port == 0) continue;
    BERTH_ASSIGN_OR_RETURN(auto mapping_rules, RulesFor(mapping, pod_v4, pod_v6));
    rules.insert(rules.end(), mapping_rules.begin(), mapping_rules.end());
  }
  std::lock_guard lock(mutex_);
  std::string script;
  for (bool v4 : {true, false}) {
    BERTH_ASSIGN_OR_RETURN(std::string removal, RemovalCommands(v4, chain));
    script += removal;
    bool any = std::any_of(rules.begin(), rules.end(), [&](const auto& r) { return r.v4 == v4; });
    if (!any) continue;
    std::string table = TableFor(v4);
    script += "add chain " + table + " " + chain + "\n";
    for (const auto& rule : rules) {
      if (rule.v4 == v4) script += "add rule " + table + " " + chain + " " + rule.text + "\n";
    }
    script += "add rule " + table + " " + kHostportsChain + " jump " + chain + " comment \"pod " +
              pod_id + "\"\n";
  }
  if (script.empty()) return Ok();
  auto applied = RunNftables(script);
  if (!applied.ok()) return std::move(applied).error().Wrap("port mappings of pod " + pod_id);
  return Ok();
}

Result<void> Nat::RemovePortMappings(const std::string& pod_id) {
  auto removed = RemovePodChain(PodChainName(pod_id));
  if (!removed.ok())
    return std::move(removed).error().Wrap("remove port mappings of pod " + pod_id);
  return Ok();
}

Result<void> Nat::RemovePodChain(const std::string& chain) {
  BERTH_TRY(CheckName("pod chain", chain));
  std::lock_guard lock(mutex_);
  std::string script;
  for (bool v4 : {true, false}) {
    BERTH_ASSIGN_OR_RETURN(std::string removal, RemovalCommands(v4, chain));
    script += removal;
  }
  if (script.empty()) return Ok();
  auto applied = RunNftables(script);
  if (!applied.ok()) return std::move(applied).error();
  return Ok();
}

Result<std::vector<std::string>> Nat::PodChains() {
  BERTH_TRY(CheckName("nftables table", table_));
  std::vector<std::string> chains;
  for (bool v4 : {true, false}) {
    auto listed = RunNftables("list table " + TableFor(v4), /*json_output=*/true);
    if (!listed.ok()) {
      if (listed.error().code() == ErrorCode::kNotFound) continue;
      return std::move(listed).error();
    }
    Json listing = Json::parse(*listed, nullptr, /*allow_exceptions=*/false);
    if (!listing.is_object() || !listing["nftables"].is_array()) continue;
    for (const auto& item : listing["nftables"]) {
      if (!item.is_object() || !item.contains("chain") || !item["chain"].is_object()) continue;
      std::string name = item["chain"].value("name", "");
      if (name.rfind("pod-", 0) == 0 &&
          std::find(chains.begin(), chains.end(), name) == chains.end()) {
        chains.push_back(name);
      }
    }
  }
  return chains;
}

Result<bool> Nat::HasPortMappings(const std::string& pod_id) {
  std::string chain = PodChainName(pod_id);
  BERTH_TRY(CheckName("pod chain", chain));
  for (bool v4 : {true, false}) {
    auto listed = RunNftables("list chain " + TableFor(v4) + " " + chain);
    if (listed.ok()) return true;
    if (listed.error().code() != ErrorCode::kNotFound) return std::move(listed).error();
  }
  return false;
}

Result<void> Nat::DeleteTables() {
  BERTH_TRY(CheckName("nftables table", table_));
  std::lock_guard lock(mutex_);
  for (bool v4 : {true, false}) {
    auto deleted = RunNftables("delete table " + TableFor(v4));
    if (!deleted.ok() && deleted.error().code() != ErrorCode::kNotFound) {
      return std::move(deleted).error().Wrap("delete nftables table " + table_);
    }
  }
  return Ok();
}

}  // namespace berth::cni
