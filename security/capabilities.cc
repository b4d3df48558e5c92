#include "security/capabilities.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace berth::security {
namespace {

// Index = capability number (linux/capability.h).
constexpr std::array<std::string_view, kLastCapability + 1> kCapabilityNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

std::string ToUpper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::vector<std::string> NamesOfMask(uint64_t mask) {
  std::vector<std::string> names;
  for (int i = 0; i <= kLastCapability; ++i)
    if (mask & (uint64_t{1} << i)) names.emplace_back(kCapabilityNames[i]);
  return names;
}

Result<uint64_t> MaskOfCriNames(const std::vector<std::string>& cri_names, std::string_view field) {
  uint64_t mask = 0;
  for (const auto& name : cri_names) {
    if (IsAllCapabilitiesKeyword(name)) continue;
    auto parsed = ParseCapabilityName(name);
    if (!parsed.ok()) return parsed.error().Wrap(field);
    mask |= uint64_t{1} << CapabilityNumberFromOciName(*parsed);
  }
  return mask;
}

bool ContainsAll(const std::vector<std::string>& cri_names) {
  return std::any_of(cri_names.begin(), cri_names.end(),
                     [](const std::string& n) { return IsAllCapabilitiesKeyword(n); });
}

constexpr uint64_t kAllMask = (uint64_t{1} << (kLastCapability + 1)) - 1;

}  // namespace

int CapabilityNumberFromOciName(std::string_view oci_name) {
  for (size_t i = 0; i < kCapabilityNames.size(); ++i)
    if (oci_name == kCapabilityNames[i]) return static_cast<int>(i);
  return -1;
}

std::string_view CapabilityOciName(int number) {
  if (number < 0 || number > kLastCapability) return {};
  return kCapabilityNames[number];
}

std::vector<std::string> AllCapabilities() {
  return NamesOfMask(kAllMask);
}

bool IsAllCapabilitiesKeyword(std::string_view cri_name) {
  return ToUpper(cri_name) == "ALL";
}

Result<std::string> ParseCapabilityName(std::string_view cri_name) {
  std::string upper = ToUpper(cri_name);
  if (upper == "ALL")
    return InvalidArgument("capability \"ALL\" is only allowed in add/drop lists");
  if (!upper.starts_with("CAP_")) upper = "CAP_" + upper;
  if (CapabilityNumberFromOciName(upper) < 0)
    return InvalidArgument("unknown capability \"" + std::string(cri_name) + "\"");
  return upper;
}

std::vector<std::string> DefaultCapabilities() {
  // containerd's oci.populateDefaultUnixSpec list, which is Docker's; kept in its order.
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

Result<uint64_t> CapabilityMask(const std::vector<std::string>& oci_names) {
  uint64_t mask = 0;
  for (const auto& name : oci_names) {
    int number = CapabilityNumberFromOciName(name);
    if (number < 0) return InvalidArgument("unknown capability \"" + name + "\"");
    mask |= uint64_t{1} << number;
  }
  return mask;
}

Result<std::vector<std::string>> ComputeCapabilities(const std::vector<std::string>& base,
                                                     const std::vector<std::string>& add,
                                                     const std::vector<std::string>& drop) {
  BERTH_ASSIGN_OR_RETURN(uint64_t mask, CapabilityMask(base));
  // Both lists are checked before anything is applied, so an unknown name always fails.
  BERTH_ASSIGN_OR_RETURN(uint64_t added, MaskOfCriNames(add, "add_capabilities"));
  BERTH_ASSIGN_OR_RETURN(uint64_t dropped, MaskOfCriNames(drop, "drop_capabilities"));
  if (ContainsAll(add)) mask = kAllMask;
  if (ContainsAll(drop)) mask = 0;
  mask |= added;
  mask &= ~dropped;
  return NamesOfMask(mask);
}

Result<std::vector<std::string>> ParseCapabilityList(const std::vector<std::string>& cri_names,
                                                     std::string_view field) {
  std::vector<std::string> out;
  for (const auto& name : cri_names) {
    auto parsed = ParseCapabilityName(name);
    if (!parsed.ok()) return parsed.error().Wrap(field);
    if (std::find(out.begin(), out.end(), *parsed) == out.end()) out.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace berth::security
