// ContainerManager: resources (UpdateContainerResources) and usage (the stats RPCs).
#include "base/process_util.h"
#include "pod/container_manager.h"
#include "runtime/cgroups.h"

namespace berth::pod {

Result<void> ContainerManager::UpdateResources(const std::string& id,
                                               const ContainerResources& resources) {
  return records_.WithLocked(
      id, [&](const std::string& full, std::unique_lock<std::mutex>&) -> Result<void> {
        auto container = records_.Find(full);
        if (!container) return NotFound("container " + id + " not found");
        if (container->state == ContainerState::kExited) {
          return FailedPrecondition("container " + full + " has exited");
        }
        BERTH_TRY(
            runtime::Cgroups::Probe().Apply(container->cgroup_path, ToCgroupResources(resources)));
        auto stored = records_.Modify(full, [&](Container& c) -> Result<void> {
          c.config.resources = resources;
          return Ok();
        });
        if (!stored) return std::move(stored).error();
        return Ok();
      });
}

std::vector<ContainerUsage> ContainerManager::Usage(const ContainerFilter& filter) {
  runtime::Cgroups cgroups = runtime::Cgroups::Probe();
  std::vector<ContainerUsage> usages;
  for (auto& container : List(filter)) {
    ContainerUsage usage;
    usage.timestamp_nanos = NowUnixNanos();
    if (container.state == ContainerState::kRunning) {
      usage.cgroup = runtime::ReadCgroupStats(cgroups, container.cgroup_path);
    }
    usage.writable_layer = images_.snapshots().SnapshotUsage(container.id);
    usage.writable_layer_mountpoint = images_.snapshots().root();
    if (usage.cgroup.has_cpu) {
      std::lock_guard lock(cpu_samples_mutex_);
      auto& previous = cpu_samples_[container.id];
      if (previous.first > 0 && usage.timestamp_nanos > previous.first &&
          usage.cgroup.cpu_usage_ns >= previous.second) {
        double cores = static_cast<double>(usage.cgroup.cpu_usage_ns - previous.second) /
                       static_cast<double>(usage.timestamp_nanos - previous.first);
        usage.nano_cores = static_cast<uint64_t>(cores * 1e9);
      }
      previous = {usage.timestamp_nanos, usage.cgroup.cpu_usage_ns};
    }
    usage.container = std::move(container);
    usages.push_back(std::move(usage));
  }
  return usages;
}

}  // namespace berth::pod
