#include "cri/container_convert.h"

namespace berth::cri {
namespace {

std::string Propagation(runtime::v1::MountPropagation propagation) {
  switch (propagation) {
    case runtime::v1::PROPAGATION_HOST_TO_CONTAINER: return "rslave";
    case runtime::v1::PROPAGATION_BIDIRECTIONAL: return "rshared";
    default: return "private";
  }
}

runtime::v1::MountPropagation FromPropagation(const std::string& propagation) {
  if (propagation == "rslave") return runtime::v1::PROPAGATION_HOST_TO_CONTAINER;
  if (propagation == "rshared") return runtime::v1::PROPAGATION_BIDIRECTIONAL;
  return runtime::v1::PROPAGATION_PRIVATE;
}

}  // namespace

runtime::v1::ContainerState ToCriState(pod::ContainerState state) {
  switch (state) {
    case pod::ContainerState::kCreated: return runtime::v1::CONTAINER_CREATED;
    case pod::ContainerState::kRunning: return runtime::v1::CONTAINER_RUNNING;
    case pod::ContainerState::kExited: return runtime::v1::CONTAINER_EXITED;
    case pod::ContainerState::kUnknown: return runtime::v1::CONTAINER_UNKNOWN;
  }
  return runtime::v1::CONTAINER_UNKNOWN;
}

Result<pod::ContainerConfig> ToContainerConfig(const runtime::v1::ContainerConfig& in) {
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
    if (mount.has_image() && !mount.image().image().empty()) {
      return InvalidArgument("image volume mounts are not supported yet (mount " +
                             mount.container_path() + ")");
    }
    if (mount.recursive_read_only()) {
      return InvalidArgument("mount " + mount.container_path() +
                             ": recursive read-only mounts are not supported yet");
    }
    out.mounts.push_back({mount.host_path(), mount.container_path(), mount.readonly(),
                          Propagation(mount.propagation())});
  }
  out.labels.insert(in.labels().begin(), in.labels().end());
  out.annotations.insert(in.annotations().begin(), in.annotations().end());
  out.log_path = in.log_path();
  out.tty = in.tty();
  out.stdin = in.stdin();
  if (in.has_linux()) {
    const auto& security = in.linux().security_context();
    if (security.has_run_as_user()) out.run_as_user = security.run_as_user().value();
    if (security.has_run_as_group()) out.run_as_group = security.run_as_group().value();
    const auto& resources = in.linux().resources();
    out.cpu_shares = resources.cpu_shares();
    out.cpu_quota = resources.cpu_quota();
    out.cpu_period = resources.cpu_period();
    out.memory_limit_bytes = resources.memory_limit_in_bytes();
  }
  return out;
}

pod::ContainerFilter ToContainerFilter(const runtime::v1::ContainerFilter& in) {
  pod::ContainerFilter filter;
  filter.id = in.id();
  filter.sandbox_id = in.pod_sandbox_id();
  if (in.has_state()) {
    switch (in.state().state()) {
      case runtime::v1::CONTAINER_CREATED: filter.state = pod::ContainerState::kCreated; break;
      case runtime::v1::CONTAINER_RUNNING: filter.state = pod::ContainerState::kRunning; break;
      case runtime::v1::CONTAINER_EXITED: filter.state = pod::ContainerState::kExited; break;
      default: filter.state = pod::ContainerState::kUnknown; break;
    }
  }
  filter.label_selector.insert(in.label_selector().begin(), in.label_selector().end());
  return filter;
}

void FillContainer(const pod::Container& container, runtime::v1::Container* out) {
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

void FillContainerStatus(const pod::Container& container, runtime::v1::ContainerStatus* out) {
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
  }
  out->set_log_path(container.log_path);
  auto* linux = out->mutable_resources()->mutable_linux();
  linux->set_cpu_shares(container.config.cpu_shares);
  linux->set_cpu_quota(container.config.cpu_quota);
  linux->set_cpu_period(container.config.cpu_period);
  linux->set_memory_limit_in_bytes(container.config.memory_limit_bytes);
}

}  // namespace berth::cri
