#include "cri/sandbox_convert.h"

#include "base/parse_number.h"

namespace berth::cri {
namespace {

Result<pod::NamespaceMode> ToMode(::runtime::v1::NamespaceMode mode, const char* which) {
  switch (mode) {
    case ::runtime::v1::POD: return pod::NamespaceMode::kPod;
    case ::runtime::v1::CONTAINER: return pod::NamespaceMode::kContainer;
    case ::runtime::v1::NODE: return pod::NamespaceMode::kNode;
    default:
      return InvalidArgument(std::string("namespace mode ") +
                             ::runtime::v1::NamespaceMode_Name(mode) +
                             " is not supported for the pod's " + which + " namespace");
  }
}

::runtime::v1::NamespaceMode FromMode(pod::NamespaceMode mode) {
  switch (mode) {
    case pod::NamespaceMode::kPod: return ::runtime::v1::POD;
    case pod::NamespaceMode::kContainer: return ::runtime::v1::CONTAINER;
    case pod::NamespaceMode::kNode: return ::runtime::v1::NODE;
  }
  return ::runtime::v1::POD;
}

// One of userns_options' uid or gid mapping lists (`what`: "uid", "gid"): bounded, no mapping
// of the host's root, and the container's 0 mapped.
Result<void> ToIdMappings(const google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>& list,
                          const std::string& what, std::vector<pod::IdMapping>& mappings) {
  // The kernel's limit on uid_map / gid_map lines.
  if (list.size() > 340) return InvalidArgument("userns_options: too many " + what + " mappings");
  bool maps_root = false;
  for (const auto& m : list) {
    if (m.length() == 0 || uint64_t{m.host_id()} + m.length() > (uint64_t{1} << 32) ||
        uint64_t{m.container_id()} + m.length() > (uint64_t{1} << 32)) {
      return InvalidArgument("userns_options: bad " + what + " mapping " +
                             std::to_string(m.container_id()) + " -> " +
                             std::to_string(m.host_id()) + " length " + std::to_string(m.length()));
    }
    if (m.host_id() == 0) {
      return InvalidArgument("userns_options: " + what + " 0 of the host may not be mapped");
    }
    maps_root = maps_root || m.container_id() == 0;
    mappings.push_back({m.container_id(), m.host_id(), m.length()});
  }
  if (!list.empty() && !maps_root) {
    return InvalidArgument("userns_options: " + what + " 0 is not mapped");
  }
  return Ok();
}

// userns_options: NODE (or POD without mappings, the CRI's backward-compatible default) is the
// host's user namespace; POD with mappings gives the pod its own.
Result<void> ToUserNamespace(const ::runtime::v1::NamespaceOption& options,
                             pod::SandboxConfig& out) {
  if (!options.has_userns_options()) return Ok();
  const auto& userns = options.userns_options();
  if (userns.mode() == ::runtime::v1::NODE) return Ok();
  if (userns.mode() != ::runtime::v1::POD) {
    return InvalidArgument("userns_options: only the modes POD and NODE are supported");
  }
  if (userns.uids().empty() != userns.gids().empty()) {
    return InvalidArgument("userns_options: give both uid and gid mappings, or neither");
  }
  BERTH_TRY(ToIdMappings(userns.uids(), "uid", out.uid_mappings));
  BERTH_TRY(ToIdMappings(userns.gids(), "gid", out.gid_mappings));
  return Ok();
}

}  // namespace

Result<pod::SandboxConfig> ToSandboxConfig(const ::runtime::v1::PodSandboxConfig& in,
                                           const std::string& runtime_handler) {
  pod::SandboxConfig out;
  out.name = in.metadata().name();
  out.namespace_name = in.metadata().namespace_();
  out.uid = in.metadata().uid();
  out.attempt = in.metadata().attempt();
  out.hostname = in.hostname();
  out.log_directory = in.log_directory();
  out.dns.servers.assign(in.dns_config().servers().begin(), in.dns_config().servers().end());
  out.dns.searches.assign(in.dns_config().searches().begin(), in.dns_config().searches().end());
  out.dns.options.assign(in.dns_config().options().begin(), in.dns_config().options().end());
  for (const auto& mapping : in.port_mappings()) {
    if (mapping.protocol() == ::runtime::v1::SCTP) {
      return InvalidArgument("port mapping " + std::to_string(mapping.host_port()) +
                             "/SCTP: SCTP is not supported");
    }
    if (!IsPort(mapping.container_port()) || !IsPort(mapping.host_port(), /*zero_allowed=*/true)) {
      return InvalidArgument("port mapping has an invalid port (" +
                             std::to_string(mapping.container_port()) + " -> " +
                             std::to_string(mapping.host_port()) + ")");
    }
    // A mapping without a host port only documents the container port; kubelet sends those.
    if (mapping.host_port() == 0) continue;
    out.port_mappings.push_back({mapping.protocol() == ::runtime::v1::UDP ? "udp" : "tcp",
                                 static_cast<uint16_t>(mapping.container_port()),
                                 static_cast<uint16_t>(mapping.host_port()), mapping.host_ip()});
  }
  out.labels.insert(in.labels().begin(), in.labels().end());
  out.annotations.insert(in.annotations().begin(), in.annotations().end());
  out.runtime_handler = runtime_handler;
  if (in.has_linux()) {
    const auto& linux = in.linux();
    out.cgroup_parent = linux.cgroup_parent();
    out.sysctls.insert(linux.sysctls().begin(), linux.sysctls().end());
    out.privileged = linux.security_context().privileged();
    BERTH_TRY(ToUserNamespace(linux.security_context().namespace_options(), out));
    const auto& options = linux.security_context().namespace_options();
    BERTH_ASSIGN_OR_RETURN(out.network_mode, ToMode(options.network(), "network"));
    BERTH_ASSIGN_OR_RETURN(out.pid_mode, ToMode(options.pid(), "PID"));
    BERTH_ASSIGN_OR_RETURN(out.ipc_mode, ToMode(options.ipc(), "IPC"));
    // The pod always shares its network and IPC namespaces: CONTAINER means POD for them.
    if (out.network_mode == pod::NamespaceMode::kContainer) {
      out.network_mode = pod::NamespaceMode::kPod;
    }
    if (out.ipc_mode == pod::NamespaceMode::kContainer) out.ipc_mode = pod::NamespaceMode::kPod;
    pod::PodLimits limits = ToPodLimits(linux.has_resources() ? &linux.resources() : nullptr,
                                        linux.has_overhead() ? &linux.overhead() : nullptr);
    out.cpu_shares = limits.cpu_shares;
    out.cpu_quota = limits.cpu_quota;
    out.cpu_period = limits.cpu_period;
    out.memory_limit_bytes = limits.memory_limit_bytes;
  } else {
    // No linux section: pod network, IPC and UTS; each container its own PID namespace.
    out.pid_mode = pod::NamespaceMode::kContainer;
  }
  return out;
}

pod::PodLimits ToPodLimits(const ::runtime::v1::LinuxContainerResources* resources,
                           const ::runtime::v1::LinuxContainerResources* overhead) {
  const ::runtime::v1::LinuxContainerResources* chosen = resources ? resources : overhead;
  pod::PodLimits out;
  if (!chosen) return out;
  out.cpu_shares = chosen->cpu_shares();
  out.cpu_quota = chosen->cpu_quota();
  out.cpu_period = chosen->cpu_period();
  out.memory_limit_bytes = chosen->memory_limit_in_bytes();
  if (resources && overhead && out.memory_limit_bytes > 0) {
    out.memory_limit_bytes += overhead->memory_limit_in_bytes();
  }
  return out;
}

pod::SandboxFilter ToSandboxFilter(const ::runtime::v1::PodSandboxFilter& filter) {
  pod::SandboxFilter out;
  out.id = filter.id();
  if (filter.has_state()) {
    out.state = filter.state().state() == ::runtime::v1::SANDBOX_READY
                    ? pod::SandboxState::kReady
                    : pod::SandboxState::kNotReady;
  }
  out.label_selector.insert(filter.label_selector().begin(), filter.label_selector().end());
  return out;
}

void FillSandbox(const pod::Sandbox& sandbox, ::runtime::v1::PodSandbox* out) {
  out->set_id(sandbox.id);
  auto* metadata = out->mutable_metadata();
  metadata->set_name(sandbox.config.name);
  metadata->set_namespace_(sandbox.config.namespace_name);
  metadata->set_uid(sandbox.config.uid);
  metadata->set_attempt(sandbox.config.attempt);
  out->set_state(sandbox.state == pod::SandboxState::kReady ? ::runtime::v1::SANDBOX_READY
                                                            : ::runtime::v1::SANDBOX_NOTREADY);
  out->set_created_at(sandbox.created_at_nanos);
  out->mutable_labels()->insert(sandbox.config.labels.begin(), sandbox.config.labels.end());
  out->mutable_annotations()->insert(sandbox.config.annotations.begin(),
                                     sandbox.config.annotations.end());
  out->set_runtime_handler(sandbox.config.runtime_handler);
}

void FillSandboxStatus(const pod::Sandbox& sandbox, ::runtime::v1::PodSandboxStatus* out) {
  ::runtime::v1::PodSandbox summary;
  FillSandbox(sandbox, &summary);
  out->set_id(summary.id());
  *out->mutable_metadata() = summary.metadata();
  out->set_state(summary.state());
  out->set_created_at(summary.created_at());
  *out->mutable_labels() = summary.labels();
  *out->mutable_annotations() = summary.annotations();
  out->set_runtime_handler(summary.runtime_handler());
  // A stopped sandbox has given its addresses back.
  if (sandbox.state == pod::SandboxState::kReady && !sandbox.ips.empty()) {
    out->mutable_network()->set_ip(sandbox.ips.front());
    for (size_t i = 1; i < sandbox.ips.size(); ++i) {
      out->mutable_network()->add_additional_ips()->set_ip(sandbox.ips[i]);
    }
  }
  auto* options = out->mutable_linux()->mutable_namespaces()->mutable_options();
  options->set_network(FromMode(sandbox.config.network_mode));
  options->set_pid(FromMode(sandbox.config.pid_mode));
  options->set_ipc(FromMode(sandbox.config.ipc_mode));
}

}  // namespace berth::cri
