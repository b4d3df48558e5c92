#include "cri/stats_convert.h"

#include "base/process_util.h"
#include "pod/sandbox_stats.h"

namespace berth::cri {
namespace {

// PSI (cpu/memory/io.pressure), where the kernel keeps it for the cgroup.
void FillPsi(const std::optional<runtime::Pressure>& pressure, ::runtime::v1::PsiStats* psi) {
  if (!pressure) return;
  auto fill = [](const runtime::PressureLine& line, ::runtime::v1::PsiData* data) {
    data->set_total(line.total_us);
    data->set_avg10(line.avg10);
    data->set_avg60(line.avg60);
    data->set_avg300(line.avg300);
  };
  fill(pressure->some, psi->mutable_some());
  fill(pressure->full, psi->mutable_full());
}

void FillCpu(const pod::ContainerUsage& usage, ::runtime::v1::CpuUsage* cpu) {
  cpu->set_timestamp(usage.timestamp_nanos);
  cpu->mutable_usage_core_nano_seconds()->set_value(usage.cgroup.cpu_usage_ns);
  if (usage.nano_cores) cpu->mutable_usage_nano_cores()->set_value(*usage.nano_cores);
  if (usage.cgroup.cpu_pressure) FillPsi(usage.cgroup.cpu_pressure, cpu->mutable_psi());
}

void FillMemory(const runtime::CgroupStats& stats, int64_t timestamp,
                ::runtime::v1::MemoryUsage* memory) {
  memory->set_timestamp(timestamp);
  memory->mutable_working_set_bytes()->set_value(stats.memory_working_set_bytes);
  memory->mutable_usage_bytes()->set_value(stats.memory_usage_bytes);
  memory->mutable_rss_bytes()->set_value(stats.memory_rss_bytes);
  memory->mutable_page_faults()->set_value(stats.page_faults);
  memory->mutable_major_page_faults()->set_value(stats.major_page_faults);
  // kubelet's available bytes: what the limit leaves above the working set.
  if (stats.memory_limit_bytes) {
    uint64_t limit = *stats.memory_limit_bytes;
    uint64_t used = stats.memory_working_set_bytes;
    memory->mutable_available_bytes()->set_value(limit > used ? limit - used : 0);
  }
  if (stats.memory_pressure) FillPsi(stats.memory_pressure, memory->mutable_psi());
}

void FillSwapAndIo(const runtime::CgroupStats& stats, int64_t timestamp,
                   ::runtime::v1::ContainerStats* out) {
  if (stats.has_swap) {
    auto* swap = out->mutable_swap();
    swap->set_timestamp(timestamp);
    swap->mutable_swap_usage_bytes()->set_value(stats.swap_usage_bytes);
    if (stats.swap_limit_bytes) {
      uint64_t limit = *stats.swap_limit_bytes;
      swap->mutable_swap_available_bytes()->set_value(
          limit > stats.swap_usage_bytes ? limit - stats.swap_usage_bytes : 0);
    }
  }
  if (stats.io_pressure) {
    out->mutable_io()->set_timestamp(timestamp);
    FillPsi(stats.io_pressure, out->mutable_io()->mutable_psi());
  }
}

void FillPodAttributes(const pod::Sandbox& sandbox, ::runtime::v1::PodSandboxAttributes* out) {
  out->set_id(sandbox.id);
  out->mutable_metadata()->set_name(sandbox.config.name);
  out->mutable_metadata()->set_namespace_(sandbox.config.namespace_name);
  out->mutable_metadata()->set_uid(sandbox.config.uid);
  out->mutable_metadata()->set_attempt(sandbox.config.attempt);
  out->mutable_labels()->insert(sandbox.config.labels.begin(), sandbox.config.labels.end());
  out->mutable_annotations()->insert(sandbox.config.annotations.begin(),
                                     sandbox.config.annotations.end());
}

// The containers' usage added up, as one usage stamped now.
pod::ContainerUsage SumUsage(const std::vector<pod::ContainerUsage>& containers) {
  pod::ContainerUsage summed;
  summed.timestamp_nanos = NowUnixNanos();
  runtime::CgroupStats& total = summed.cgroup;
  uint64_t nano_cores = 0;
  bool has_nano_cores = false;
  for (const auto& usage : containers) {
    total.cpu_usage_ns += usage.cgroup.cpu_usage_ns;
    total.memory_usage_bytes += usage.cgroup.memory_usage_bytes;
    total.memory_working_set_bytes += usage.cgroup.memory_working_set_bytes;
    total.memory_rss_bytes += usage.cgroup.memory_rss_bytes;
    total.page_faults += usage.cgroup.page_faults;
    total.major_page_faults += usage.cgroup.major_page_faults;
    total.pids += usage.cgroup.pids;
    if (usage.nano_cores) {
      nano_cores += *usage.nano_cores;
      has_nano_cores = true;
    }
  }
  if (has_nano_cores) summed.nano_cores = nano_cores;
  return summed;
}

// eth0's counters, read inside the pod's network namespace (a ready pod with its own network).
void FillPodNetwork(const pod::Sandbox& sandbox, int64_t timestamp,
                    ::runtime::v1::LinuxPodSandboxStats* linux) {
  if (!sandbox.HasOwnNetwork() || sandbox.state != pod::SandboxState::kReady) return;
  auto counters = pod::ReadInterfaceCounters(sandbox.NetnsPath(), "eth0");
  if (!counters) return;
  auto* network = linux->mutable_network();
  network->set_timestamp(timestamp);
  auto* interface = network->mutable_default_interface();
  interface->set_name(counters->name);
  interface->mutable_rx_bytes()->set_value(counters->rx_bytes);
  interface->mutable_rx_errors()->set_value(counters->rx_errors);
  interface->mutable_tx_bytes()->set_value(counters->tx_bytes);
  interface->mutable_tx_errors()->set_value(counters->tx_errors);
  *network->add_interfaces() = *interface;
}

}  // namespace

pod::ContainerFilter ToUsageFilter(const std::string& id, const std::string& pod_id,
                                   const google::protobuf::Map<std::string, std::string>& labels) {
  pod::ContainerFilter filter;
  filter.id = id;
  filter.sandbox_id = pod_id;
  filter.label_selector.insert(labels.begin(), labels.end());
  return filter;
}

void FillContainerStats(const pod::ContainerUsage& usage, ::runtime::v1::ContainerStats* out) {
  const pod::Container& container = usage.container;
  auto* attributes = out->mutable_attributes();
  attributes->set_id(container.id);
  attributes->mutable_metadata()->set_name(container.config.name);
  attributes->mutable_metadata()->set_attempt(container.config.attempt);
  attributes->mutable_labels()->insert(container.config.labels.begin(),
                                       container.config.labels.end());
  attributes->mutable_annotations()->insert(container.config.annotations.begin(),
                                            container.config.annotations.end());
  if (usage.cgroup.has_cpu) FillCpu(usage, out->mutable_cpu());
  if (usage.cgroup.has_memory) {
    FillMemory(usage.cgroup, usage.timestamp_nanos, out->mutable_memory());
  }
  FillSwapAndIo(usage.cgroup, usage.timestamp_nanos, out);
  auto* layer = out->mutable_writable_layer();
  layer->set_timestamp(usage.timestamp_nanos);
  layer->mutable_fs_id()->set_mountpoint(usage.writable_layer_mountpoint);
  layer->mutable_used_bytes()->set_value(usage.writable_layer.bytes);
  layer->mutable_inodes_used()->set_value(usage.writable_layer.inodes);
}

void FillPodStats(const pod::Sandbox& sandbox, const std::vector<pod::ContainerUsage>& containers,
                  ::runtime::v1::PodSandboxStats* out) {
  FillPodAttributes(sandbox, out->mutable_attributes());
  auto* linux = out->mutable_linux();
  for (const auto& usage : containers) FillContainerStats(usage, linux->add_containers());
  pod::ContainerUsage summed = SumUsage(containers);
  FillCpu(summed, linux->mutable_cpu());
  FillMemory(summed.cgroup, summed.timestamp_nanos, linux->mutable_memory());
  linux->mutable_process()->set_timestamp(summed.timestamp_nanos);
  linux->mutable_process()->mutable_process_count()->set_value(summed.cgroup.pids);
  FillPodNetwork(sandbox, summed.timestamp_nanos, linux);
}

}  // namespace berth::cri
