// The OCI runtime spec's `linux.seccomp` object as C++ values, its JSON form, and the
// Docker/containerd profile format that CRI "Localhost" seccomp profiles are written in.
//
// Two readers:
//   - ParseOciSeccomp: the strict OCI form (what config.json holds). Unknown fields are errors.
//   - ParseLocalhostSeccompJson / LoadLocalhostSeccompProfile: a user's profile file. It may be in
//     the OCI form or in Docker's form (`archMap`, `syscalls[].name`, `includes`/`excludes` with
//     `caps`/`arches`/`minKernel`, `comment`); the Docker extensions are resolved here against the
//     container's granted capabilities, the native architecture and the kernel version, so the
//     result is always plain OCI form.
// Every error is InvalidArgument and names the field: `syscalls[3].args[0].op: unknown operator`.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::security {

enum class SeccompAction {
  kKill,         // SCMP_ACT_KILL (= KILL_THREAD)
  kKillThread,   // SCMP_ACT_KILL_THREAD
  kKillProcess,  // SCMP_ACT_KILL_PROCESS
  kTrap,         // SCMP_ACT_TRAP
  kErrno,        // SCMP_ACT_ERRNO (errnoRet, default EPERM)
  kTrace,        // SCMP_ACT_TRACE (errnoRet is the tracer's message number, default EPERM)
  kAllow,        // SCMP_ACT_ALLOW
  kLog,          // SCMP_ACT_LOG
  kNotify,       // SCMP_ACT_NOTIFY: parsed, but refused by CompileSeccomp (berth has no listener)
};

enum class SeccompOperator {
  kNotEqual,      // SCMP_CMP_NE
  kLessThan,      // SCMP_CMP_LT
  kLessEqual,     // SCMP_CMP_LE
  kEqual,         // SCMP_CMP_EQ
  kGreaterEqual,  // SCMP_CMP_GE
  kGreaterThan,   // SCMP_CMP_GT
  kMaskedEqual,   // SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo
};

struct SeccompArg {
  uint32_t index = 0;  // 0..5
  uint64_t value = 0;
  uint64_t value_two = 0;
  SeccompOperator op = SeccompOperator::kEqual;
  bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
  std::vector<std::string> names;  // never empty
  SeccompAction action = SeccompAction::kAllow;
  std::optional<uint32_t> errno_ret;  // only with kErrno / kTrace
  // Conditions on different argument indexes must all hold (AND). Several conditions on the SAME
  // index become one rule each (OR), as runc does, because libseccomp cannot AND them.
  std::vector<SeccompArg> args;
  bool operator==(const SeccompSyscall&) const = default;
};

struct SeccompProfile {
  SeccompAction default_action = SeccompAction::kErrno;
  std::optional<uint32_t> default_errno_ret;  // only with kErrno / kTrace
  std::vector<std::string> architectures;     // "SCMP_ARCH_X86_64", ...; the native one is implied
  std::vector<std::string> flags;             // "SECCOMP_FILTER_FLAG_TSYNC", ...
  std::vector<SeccompSyscall> syscalls;
  bool operator==(const SeccompProfile&) const = default;
};

std::string_view SeccompActionName(SeccompAction action);
Result<SeccompAction> ParseSeccompAction(std::string_view name);
std::string_view SeccompOperatorName(SeccompOperator op);
Result<SeccompOperator> ParseSeccompOperator(std::string_view name);

// The architecture names OCI allows (SCMP_ARCH_X86 ... SCMP_ARCH_RISCV64); whether this
// libseccomp can build a filter for one is CompileSeccomp's concern.
bool IsKnownSeccompArchitecture(std::string_view name);
// SECCOMP_FILTER_FLAG_TSYNC, _LOG, _SPEC_ALLOW, _WAIT_KILLABLE_RECV (the flags OCI names, less
// NEW_LISTENER which needs a listener).
bool IsKnownSeccompFlag(std::string_view name);

// The strict OCI form. `json` is the value of `linux.seccomp`.
Result<SeccompProfile> ParseOciSeccomp(const nlohmann::json& json);
Result<SeccompProfile> ParseOciSeccompJson(std::string_view text);
nlohmann::json SeccompProfileToJson(const SeccompProfile& profile);
// Pretty-printed (2 spaces) with a trailing newline; stable, so a shipped file can be compared.
std::string SerializeSeccompProfile(const SeccompProfile& profile);

// What a Docker-style profile's includes/excludes are resolved against.
struct SeccompResolveContext {
  std::vector<std::string> granted_capabilities;  // OCI names: the container's bounding set
  std::string native_arch;  // Go/Docker spelling: "amd64", "arm64", "386", "arm", "s390x", ...
  int kernel_major = 0;     // from uname -r; 0.0 means "unknown": minKernel rules then never match
  int kernel_minor = 0;
};
// The native architecture (compile-time) and the running kernel's version (uname).
SeccompResolveContext HostSeccompContext(std::vector<std::string> granted_capabilities);
// "amd64" -> "SCMP_ARCH_X86_64"; empty when unknown.
std::string_view SeccompArchOfNative(std::string_view native_arch);

// A CRI Localhost profile's text (OCI or Docker form) to the OCI form. SCMP_ACT_NOTIFY and a
// listenerPath are refused here already (the error then surfaces at CreateContainer).
Result<SeccompProfile> ParseLocalhostSeccompJson(std::string_view text,
                                                 const SeccompResolveContext& context);
// Reads `path` (absolute; at most 4 MiB) and parses it as above. A missing file is NotFound.
Result<SeccompProfile> LoadLocalhostSeccompProfile(const std::string& path,
                                                   const SeccompResolveContext& context);

}  // namespace berth::security
