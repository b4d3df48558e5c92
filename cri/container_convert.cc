#include "cri/container_convert.h"

#include <cstring>

#include "base/signal_names.h"

namespace berth::cri {
namespace {

// The kernel's real-time signals, as the CRI's Signal enum names them: SIGRTMIN+1..+15 count up
// from SIGRTMIN (34), SIGRTMAX-14..-1 down from SIGRTMAX (64).
constexpr int kRtMin = 34;
constexpr int kRtMax = 64;
constexpr int kRtMinPlusLast = kRtMin + 15;

std::string Propagation(::runtime::v1::MountPropagation propagation) {
  switch (propagation) {
    case ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER: return "rslave";
    case ::runtime::v1::PROPAGATION_BIDIRECTIONAL: return "rshared";
    default: return "private";
  }
}

::runtime::v1::MountPropagation FromPropagation(const std::string& propagation) {
  if (propagation == "rslave") return ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER;
  if (propagation == "rshared") return ::runtime::v1::PROPAGATION_BIDIRECTIONAL;
  return ::runtime::v1::PROPAGATION_PRIVATE;
}

}  // namespace

Result<std::string> FromCriSignal(::runtime::v1::Signal signal) {
  if (signal == ::runtime::v1::RUNTIME_DEFAULT) return std::string();
  if (!::runtime::v1::Signal_IsValid(signal)) {
    return InvalidArgument("stop_signal " + std::to_string(static_cast<int>(signal)) +
                           " is not a CRI Signal");
  }
  // "SIGRTMINPLUS3" -> "SIGRTMIN+3", "SIGRTMAXMINUS2" -> "SIGRTMAX-2": base/signal_names.h's form.
  std::string name = ::runtime::v1::Signal_Name(signal);
  for (auto [word, sign] : {std::pair{"PLUS", "+"}, std::pair{"MINUS", "-"}}) {
    if (size_t at = name.find(word); at != std::string::npos) name.replace(at, strlen(word), sign);
  }
  if (!ParseSignal(name)) return InvalidArgument("stop_signal " + name + " is not a Linux signal");
  return name;
}

::runtime::v1::Signal ToCriSignal(const std::string& name) {
  auto number = ParseSignal(name);
  if (!number) return ::runtime::v1::RUNTIME_DEFAULT;
  std::string cri;
  if (*number > kRtMinPlusLast && *number < kRtMax) {
    cri = "SIGRTMAXMINUS" + std::to_string(kRtMax - *number);
  } else if (*number > kRtMin && *number <= kRtMinPlusLast) {
    cri = "SIGRTMINPLUS" + std::to_string(*number - kRtMin);
  } else {
    cri = SignalName(*number);
  }
  ::runtime::v1::Signal out = ::runtime::v1::RUNTIME_DEFAULT;
  return ::runtime::v1::Signal_Parse(cri, &out) ? out : ::runtime::v1::RUNTIME_DEFAULT;
}

::runtime::v1::ContainerState ToCriState(pod::ContainerState state) {
  switch (state) {
    case pod::ContainerState::kCreated: return ::runtime::v1::CONTAINER_CREATED;
    case pod::ContainerState::kRunning: return ::runtime::v1::CONTAINER_RUNNING;
    case pod::ContainerState::kExited: return ::runtime::v1::CONTAINER_EXITED;
    case pod::ContainerState::kUnknown: return ::runtime::v1::CONTAINER_UNKNOWN;
  }
  return ::runtime::v1::CONTAINER_UNKNOWN;
}

Result<pod::ContainerConfig> ToContainerConfig(const ::runtime::v1::ContainerConfig& in) {
  pod::ContainerConfig out;
  out.name = in.metadata().name();
  out.attempt = in.metadata().attempt();
  out.image = in.image().image();
  if (out.image.empty()) return InvalidArgument("container config has no image");
  out.command.assign(in.command().begin(), in.command().end());
  out.args.assign(in.args().begin(), in.args().end());
  out.working_dir = in.working_dir();
  for (const auto& env : in.envs()) out.envs.emplace_back(env.key(), env.value());
  for (const auto& mount : in.mounts()) {
    pod::ContainerMount m{mount.host_path(),
                          mount.container_path(),
                          mount.readonly(),
                          Propagation(mount.propagation()),
                          mount.recursive_read_only(),
                          mount.has_image() ? mount.image().image() : "",
                          mount.image_sub_path()};
    // The CRI's rules for recursive_read_only (api.proto, Mount).
    if (m.recursive_read_only && (!m.readonly || m.propagation != "private")) {
      return InvalidArgument("mount " + m.container_path +
                             ": recursive_read_only needs readonly and private propagation");
    }
    if (!m.image.empty() && !m.host_path.empty()) {
      return InvalidArgument("mount " + m.container_path + ": both an image and a host path given");
    }
    if (!m.image.empty()) m.readonly = true;  // image volumes are read-only by definition
    out.mounts.push_back(std::move(m));
  }
  for (const auto& device : in.devices()) {
    out.devices.push_back({device.container_path(), device.host_path(),
                           device.permissions().empty() ? "rwm" : device.permissions()});
  }
  out.labels.insert(in.labels().begin(), in.labels().end());
  out.annotations.insert(in.annotations().begin(), in.annotations().end());
  out.log_path = in.log_path();
  out.tty = in.tty();
  out.stdin = in.stdin();
  out.stdin_once = in.stdin_once();
  BERTH_ASSIGN_OR_RETURN(out.stop_signal, FromCriSignal(in.stop_signal()));
  if (in.has_linux()) {
    BERTH_ASSIGN_OR_RETURN(out.security, ToContainerSecurity(in.linux().security_context()));
    out.resources = ToContainerResources(in.linux().resources());
  }
  return out;
}

pod::ContainerResources ToContainerResources(const ::runtime::v1::LinuxContainerResources& in) {
  pod::ContainerResources out;
  out.cpu_shares = in.cpu_shares();
  out.cpu_quota = in.cpu_quota();
  out.cpu_period = in.cpu_period();
  out.memory_limit_bytes = in.memory_limit_in_bytes();
  out.memory_swap_limit_bytes = in.memory_swap_limit_in_bytes();
  out.oom_score_adj = in.oom_score_adj();
  out.cpuset_cpus = in.cpuset_cpus();
  out.cpuset_mems = in.cpuset_mems();
  for (const auto& limit : in.hugepage_limits()) {
    out.hugepage_limits.push_back({limit.page_size(), limit.limit()});
  }
  out.unified.insert(in.unified().begin(), in.unified().end());
  return out;
}

void FillResources(const pod::ContainerResources& in, ::runtime::v1::LinuxContainerResources* out) {
  out->set_cpu_shares(in.cpu_shares);
  out->set_cpu_quota(in.cpu_quota);
  out->set_cpu_period(in.cpu_period);
  out->set_memory_limit_in_bytes(in.memory_limit_bytes);
  out->set_memory_swap_limit_in_bytes(in.memory_swap_limit_bytes);
  out->set_oom_score_adj(in.oom_score_adj);
  out->set_cpuset_cpus(in.cpuset_cpus);
  out->set_cpuset_mems(in.cpuset_mems);
  for (const auto& limit : in.hugepage_limits) {
    auto* added = out->add_hugepage_limits();
    added->set_page_size(limit.page_size);
    added->set_limit(limit.limit_bytes);
  }
  out->mutable_unified()->insert(in.unified.begin(), in.unified.end());
}

pod::ContainerFilter ToContainerFilter(const ::runtime::v1::ContainerFilter& in) {
  pod::ContainerFilter filter;
  filter.id = in.id();
  filter.sandbox_id = in.pod_sandbox_id();
  if (in.has_state()) {
    switch (in.state().state()) {
      case ::runtime::v1::CONTAINER_CREATED: filter.state = pod::ContainerState::kCreated; break;
      case ::runtime::v1::CONTAINER_RUNNING: filter.state = pod::ContainerState::kRunning; break;
      case ::runtime::v1::CONTAINER_EXITED: filter.state = pod::ContainerState::kExited; break;
      default: filter.state = pod::ContainerState::kUnknown; break;
    }
  }
  filter.label_selector.insert(in.label_selector().begin(), in.label_selector().end());
  return filter;
}

void FillContainer(const pod::Container& container, ::runtime::v1::Container* out) {
  out->set_id(container.id);
  out->set_pod_sandbox_id(container.sandbox_id);
  out->mutable_metadata()->set_name(container.config.name);
  out->mutable_metadata()->set_attempt(container.config.attempt);
  out->mutable_image()->set_image(container.config.image);
  out->set_image_ref(container.image_id);
  out->set_image_id(container.image_id);
  out->set_state(ToCriState(container.state));
  out->set_created_at(container.created_at_nanos);
  out->mutable_labels()->insert(container.config.labels.begin(), container.config.labels.end());
  out->mutable_annotations()->insert(container.config.annotations.begin(),
                                     container.config.annotations.end());
}

void FillContainerStatus(const pod::Container& container, ::runtime::v1::ContainerStatus* out) {
  out->set_id(container.id);
  out->mutable_metadata()->set_name(container.config.name);
  out->mutable_metadata()->set_attempt(container.config.attempt);
  out->set_state(ToCriState(container.state));
  out->set_created_at(container.created_at_nanos);
  out->set_started_at(container.started_at_nanos);
  out->set_finished_at(container.finished_at_nanos);
  out->set_exit_code(container.exit_code);
  out->mutable_image()->set_image(container.config.image);
  out->set_image_ref(container.image_id);
  out->set_image_id(container.image_id);
  out->set_reason(container.reason);
  out->set_message(container.message);
  out->mutable_labels()->insert(container.config.labels.begin(), container.config.labels.end());
  out->mutable_annotations()->insert(container.config.annotations.begin(),
                                     container.config.annotations.end());
  // Exactly the mounts the request asked for.
  for (const auto& mount : container.config.mounts) {
    auto* m = out->add_mounts();
    m->set_container_path(mount.container_path);
    m->set_host_path(mount.host_path);
    m->set_readonly(mount.readonly);
    m->set_propagation(FromPropagation(mount.propagation));
    m->set_recursive_read_only(mount.recursive_read_only);
    if (!mount.image.empty()) {
      m->mutable_image()->set_image(mount.image);
      m->set_image_sub_path(mount.image_sub_path);
    }
  }
  out->set_log_path(container.log_path);
  out->set_stop_signal(ToCriSignal(container.stop_signal));
  FillResources(container.config.resources, out->mutable_resources()->mutable_linux());
  if (container.state != pod::ContainerState::kUnknown) {
    auto* user = out->mutable_user()->mutable_linux();
    user->set_uid(container.user.uid);
    user->set_gid(container.user.gid);
    for (uint32_t gid : container.user.groups) user->add_supplemental_groups(gid);
  }
}

}  // namespace berth::cri
