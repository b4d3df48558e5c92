// Fuzz target: seccomp profiles (security/seccomp_profile) in both forms a CRI Localhost profile
// file may take, OCI and Docker (archMap, includes/excludes). What parses must survive its own
// serialization unchanged and compile with libseccomp or fail with an error, never a crash.
#include <cstdint>
#include <string>
#include <string_view>

#include "security/seccomp_compile.h"
#include "security/seccomp_profile.h"
#include "test/fuzz/fuzz_check.h"

namespace {

using namespace berth::security;

void CheckRoundTrip(const SeccompProfile& profile) {
  const std::string text = SerializeSeccompProfile(profile);
  auto again = ParseOciSeccompJson(text);
  BERTH_FUZZ_CHECK(again.ok(), text.c_str());
  BERTH_FUZZ_CHECK(*again == profile, text.c_str());
  // Profiles of a few thousand rules compile in milliseconds; bound what one input may cost.
  if (profile.syscalls.size() <= 64) (void)CompileSeccomp(profile);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto oci = ParseOciSeccompJson(text); oci.ok()) CheckRoundTrip(*oci);
  // The context a container with the default capabilities plus CAP_SYS_ADMIN has on amd64.
  static const SeccompResolveContext context{
      {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
       "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_SYS_ADMIN"},
      "amd64",
      6,
      1};
  if (auto localhost = ParseLocalhostSeccompJson(text, context); localhost.ok()) {
    CheckRoundTrip(*localhost);
  }
  return 0;
}
