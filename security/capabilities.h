// Linux capabilities by name: the table of every capability the kernel knows (up to
// CAP_CHECKPOINT_RESTORE = 40), the CRI name rules, containerd's default set, and the add/drop
// arithmetic of LinuxContainerSecurityContext.capabilities.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::security {

// The highest capability number berth knows (CAP_CHECKPOINT_RESTORE).
inline constexpr int kLastCapability = 40;

// "CAP_NET_ADMIN" -> 12, exactly the OCI spelling (upper case, with the prefix); -1 when unknown.
int CapabilityNumberFromOciName(std::string_view oci_name);

// 12 -> "CAP_NET_ADMIN"; empty for a number outside 0..kLastCapability.
std::string_view CapabilityOciName(int number);

// Every capability in number order, in OCI form ("CAP_CHOWN", ..., "CAP_CHECKPOINT_RESTORE").
std::vector<std::string> AllCapabilities();

// A capability name as CRI (kubelet) sends it, to its OCI form. CRI names come without the prefix
// ("NET_ADMIN"); like CRI-O we also take "CAP_NET_ADMIN", and like containerd (which upper-cases)
// any letter case: "net_admin" -> "CAP_NET_ADMIN". "ALL" is not a capability: it is refused here
// (ComputeCapabilities handles it). Unknown -> InvalidArgument naming it.
Result<std::string> ParseCapabilityName(std::string_view cri_name);

// True for "ALL" in any letter case (containerd's keyword in add/drop lists).
bool IsAllCapabilitiesKeyword(std::string_view cri_name);

// The set a container gets when its security context asks for nothing: containerd's (and Docker's)
// default list, in OCI form: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP
// SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE.
std::vector<std::string> DefaultCapabilities();

// containerd's WithCapabilities rules for CRI add_capabilities / drop_capabilities, applied to
// `base` (normally DefaultCapabilities()):
//   1. "ALL" in `add`  -> the set becomes every capability;
//   2. "ALL" in `drop` -> the set becomes empty (after 1, so add ALL + drop ALL = empty);
//   3. every named capability in `add` is added;
//   4. every named capability in `drop` is removed (so add ALL + drop CHOWN = all but CHOWN, and
//      add X + drop X = without X).
// Names follow ParseCapabilityName; an unknown name in either list is InvalidArgument (containerd
// silently ignores an unknown drop; the CRI issue asks us to refuse it). The result is in OCI form,
// sorted by capability number, without duplicates. `base` must hold OCI names.
Result<std::vector<std::string>> ComputeCapabilities(const std::vector<std::string>& base,
                                                     const std::vector<std::string>& add,
                                                     const std::vector<std::string>& drop);

// CRI add_ambient_capabilities to OCI names (same name rules; "ALL" refused, since ambient
// capabilities must each also be permitted and inheritable: the caller adds them to those sets).
Result<std::vector<std::string>> ParseCapabilityList(const std::vector<std::string>& cri_names,
                                                     std::string_view field);

// OCI names to a bit mask (bit n = capability n); an unknown name is InvalidArgument.
Result<uint64_t> CapabilityMask(const std::vector<std::string>& oci_names);

}  // namespace berth::security
