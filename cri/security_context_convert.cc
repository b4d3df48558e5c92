// LinuxContainerSecurityContext -> pod::ContainerSecurity: the checks the CRI asks of the runtime
// (api.proto, LinuxContainerSecurityContext) and the deprecated string forms of the profiles.
#include "cri/container_convert.h"

// The deprecated string forms are still what older kubelets send.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace berth::cri {
namespace {

pod::SecurityProfile::Type ToProfileType(::runtime::v1::SecurityProfile::ProfileType type) {
  switch (type) {
    case ::runtime::v1::SecurityProfile::Unconfined: return pod::SecurityProfile::Type::kUnconfined;
    case ::runtime::v1::SecurityProfile::Localhost: return pod::SecurityProfile::Type::kLocalhost;
    default: return pod::SecurityProfile::Type::kRuntimeDefault;
  }
}

// "runtime/default", "docker/default", "unconfined", "localhost/<ref>", "" (= `empty`).
Result<pod::SecurityProfile> FromProfileString(const std::string& text, pod::SecurityProfile empty,
                                               const char* what) {
  if (text.empty()) return empty;
  if (text == "runtime/default" || text == "docker/default") return pod::SecurityProfile{};
  if (text == "unconfined") {
    return pod::SecurityProfile{pod::SecurityProfile::Type::kUnconfined, ""};
  }
  const std::string prefix = "localhost/";
  if (text.rfind(prefix, 0) == 0 && text.size() > prefix.size()) {
    return pod::SecurityProfile{pod::SecurityProfile::Type::kLocalhost, text.substr(prefix.size())};
  }
  return InvalidArgument(std::string(what) + " profile \"" + text +
                         "\": expected runtime/default, unconfined or localhost/<name>");
}

Result<pod::SecurityProfile> ToProfile(bool has_profile,
                                       const ::runtime::v1::SecurityProfile& profile,
                                       const std::string& deprecated, pod::SecurityProfile empty,
                                       const char* what) {
  if (!has_profile) return FromProfileString(deprecated, empty, what);
  pod::SecurityProfile out{ToProfileType(profile.profile_type()), profile.localhost_ref()};
  if (out.type == pod::SecurityProfile::Type::kLocalhost && out.localhost_ref.empty()) {
    return InvalidArgument(std::string(what) + " profile: Localhost needs localhost_ref");
  }
  if (out.type != pod::SecurityProfile::Type::kLocalhost && !out.localhost_ref.empty()) {
    return InvalidArgument(std::string(what) + " profile: localhost_ref is only for Localhost");
  }
  return out;
}

}  // namespace

Result<pod::ContainerSecurity> ToContainerSecurity(
    const ::runtime::v1::LinuxContainerSecurityContext& in) {
  pod::ContainerSecurity out;
  out.privileged = in.privileged();
  out.add_capabilities.assign(in.capabilities().add_capabilities().begin(),
                              in.capabilities().add_capabilities().end());
  out.drop_capabilities.assign(in.capabilities().drop_capabilities().begin(),
                               in.capabilities().drop_capabilities().end());
  out.add_ambient_capabilities.assign(in.capabilities().add_ambient_capabilities().begin(),
                                      in.capabilities().add_ambient_capabilities().end());
  if (in.has_run_as_user() && !in.run_as_username().empty()) {
    return InvalidArgument("run_as_user and run_as_username are both set; give only one");
  }
  if (in.has_run_as_user()) {
    if (in.run_as_user().value() < 0 || in.run_as_user().value() > 0xfffffffeLL) {
      return InvalidArgument("run_as_user " + std::to_string(in.run_as_user().value()) +
                             " is out of range");
    }
    out.run_as_user = in.run_as_user().value();
  }
  out.run_as_username = in.run_as_username();
  if (in.has_run_as_group()) {
    if (!in.has_run_as_user() && in.run_as_username().empty()) {
      return InvalidArgument("run_as_group needs run_as_user or run_as_username");
    }
    if (in.run_as_group().value() < 0 || in.run_as_group().value() > 0xfffffffeLL) {
      return InvalidArgument("run_as_group " + std::to_string(in.run_as_group().value()) +
                             " is out of range");
    }
    out.run_as_group = in.run_as_group().value();
  }
  for (int64_t gid : in.supplemental_groups()) {
    if (gid < 0 || gid > 0xfffffffeLL) {
      return InvalidArgument("supplemental group " + std::to_string(gid) + " is out of range");
    }
    out.supplemental_groups.push_back(gid);
  }
  out.supplemental_groups_strict = in.supplemental_groups_policy() == ::runtime::v1::Strict;
  out.readonly_rootfs = in.readonly_rootfs();
  out.no_new_privs = in.no_new_privs();
  out.masked_paths.assign(in.masked_paths().begin(), in.masked_paths().end());
  out.readonly_paths.assign(in.readonly_paths().begin(), in.readonly_paths().end());
  const pod::SecurityProfile unset{pod::SecurityProfile::Type::kUnset, ""};
  BERTH_ASSIGN_OR_RETURN(out.seccomp, ToProfile(in.has_seccomp(), in.seccomp(),
                                                in.seccomp_profile_path(), unset, "seccomp"));
  BERTH_ASSIGN_OR_RETURN(out.apparmor, ToProfile(in.has_apparmor(), in.apparmor(),
                                                 in.apparmor_profile(), unset, "apparmor"));
  out.selinux = {in.selinux_options().user(), in.selinux_options().role(),
                 in.selinux_options().type(), in.selinux_options().level()};
  return out;
}

}  // namespace berth::cri
