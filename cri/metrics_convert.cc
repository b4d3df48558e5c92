#include "cri/metrics_convert.h"

#include <string>

#include "base/process_util.h"

namespace berth::cri {
namespace {

using ::runtime::v1::MetricType;

// cAdvisor's labels for a container series: its id, name and image. Pod-level series (the
// network) carry the pod's id and name and an empty image.
const std::vector<std::string> kBaseLabels = {"id", "name", "image"};

struct Descriptor {
  const char* name;
  const char* help;
  std::vector<std::string> extra_labels;
};

const std::vector<Descriptor>& Descriptors() {
  static const std::vector<Descriptor> descriptors = {
      {"container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", {"cpu"}},
      {"container_memory_usage_bytes",
       "Current memory usage in bytes, including all memory regardless of when it was accessed.",
       {}},
      {"container_memory_working_set_bytes", "Current working set in bytes.", {}},
      {"container_memory_rss", "Size of RSS in bytes.", {}},
      {"container_memory_failures_total",
       "Cumulative count of memory allocation failures.",
       {"failure_type", "scope"}},
      {"container_processes", "Number of processes running inside the container.", {}},
      {"container_fs_usage_bytes",
       "Number of bytes that are consumed by the container on this filesystem.",
       {"device"}},
      {"container_start_time_seconds",
       "Start time of the container since unix epoch in seconds.",
       {}},
      {"container_spec_cpu_shares", "CPU share of the container.", {}},
      {"container_spec_cpu_quota", "CPU quota of the container.", {}},
      {"container_spec_cpu_period", "CPU period of the container.", {}},
      {"container_spec_memory_limit_bytes", "Memory limit for the container.", {}},
      {"container_network_receive_bytes_total",
       "Cumulative count of bytes received",
       {"interface"}},
      {"container_network_receive_errors_total",
       "Cumulative count of errors encountered while receiving",
       {"interface"}},
      {"container_network_transmit_bytes_total",
       "Cumulative count of bytes transmitted",
       {"interface"}},
      {"container_network_transmit_errors_total",
       "Cumulative count of errors encountered while transmitting",
       {"interface"}},
  };
  return descriptors;
}

class MetricWriter {
 public:
  MetricWriter(google::protobuf::RepeatedPtrField<::runtime::v1::Metric>* out, int64_t timestamp,
               std::vector<std::string> base)
      : out_(out), timestamp_(timestamp), base_(std::move(base)) {}

  void Add(const char* name, MetricType type, uint64_t value,
           const std::vector<std::string>& extra = {}) {
    auto* metric = out_->Add();
    metric->set_name(name);
    metric->set_timestamp(timestamp_);
    metric->set_metric_type(type);
    for (const auto& label : base_) metric->add_label_values(label);
    for (const auto& label : extra) metric->add_label_values(label);
    metric->mutable_value()->set_value(value);
  }

 private:
  google::protobuf::RepeatedPtrField<::runtime::v1::Metric>* out_;
  int64_t timestamp_;
  std::vector<std::string> base_;
};

uint64_t NonNegative(int64_t value) {
  return value > 0 ? static_cast<uint64_t>(value) : 0;
}

void FillContainerMetrics(const pod::ContainerUsage& usage, ::runtime::v1::ContainerMetrics* out) {
  const pod::Container& container = usage.container;
  out->set_container_id(container.id);
  MetricWriter write(out->mutable_metrics(), usage.timestamp_nanos,
                     {container.id, container.config.name, container.config.image});
  const runtime::CgroupStats& cgroup = usage.cgroup;
  if (cgroup.has_cpu) {
    // The CRI carries integers: whole seconds, as CRI-O sends them.
    write.Add("container_cpu_usage_seconds_total", ::runtime::v1::COUNTER,
              cgroup.cpu_usage_ns / 1'000'000'000, {"total"});
  }
  if (cgroup.has_memory) {
    write.Add("container_memory_usage_bytes", ::runtime::v1::GAUGE, cgroup.memory_usage_bytes);
    write.Add("container_memory_working_set_bytes", ::runtime::v1::GAUGE,
              cgroup.memory_working_set_bytes);
    write.Add("container_memory_rss", ::runtime::v1::GAUGE, cgroup.memory_rss_bytes);
    write.Add("container_memory_failures_total", ::runtime::v1::COUNTER, cgroup.page_faults,
              {"pgfault", "container"});
    write.Add("container_memory_failures_total", ::runtime::v1::COUNTER, cgroup.major_page_faults,
              {"pgmajfault", "container"});
  }
  if (cgroup.has_pids) write.Add("container_processes", ::runtime::v1::GAUGE, cgroup.pids);
  if (!usage.writable_layer_mountpoint.empty()) {
    write.Add("container_fs_usage_bytes", ::runtime::v1::GAUGE, usage.writable_layer.bytes,
              {usage.writable_layer_mountpoint});
  }
  if (container.started_at_nanos > 0) {
    write.Add("container_start_time_seconds", ::runtime::v1::GAUGE,
              NonNegative(container.started_at_nanos) / 1'000'000'000);
  }
  const pod::ContainerResources& resources = container.config.resources;
  write.Add("container_spec_cpu_shares", ::runtime::v1::GAUGE, NonNegative(resources.cpu_shares));
  write.Add("container_spec_cpu_quota", ::runtime::v1::GAUGE, NonNegative(resources.cpu_quota));
  write.Add("container_spec_cpu_period", ::runtime::v1::GAUGE, NonNegative(resources.cpu_period));
  write.Add("container_spec_memory_limit_bytes", ::runtime::v1::GAUGE,
            NonNegative(resources.memory_limit_bytes));
}

}  // namespace

std::vector<::runtime::v1::MetricDescriptor> MetricDescriptors() {
  std::vector<::runtime::v1::MetricDescriptor> out;
  for (const auto& descriptor : Descriptors()) {
    ::runtime::v1::MetricDescriptor& message = out.emplace_back();
    message.set_name(descriptor.name);
    message.set_help(descriptor.help);
    for (const auto& key : kBaseLabels) message.add_label_keys(key);
    for (const auto& key : descriptor.extra_labels) message.add_label_keys(key);
  }
  return out;
}

void FillPodMetrics(const pod::Sandbox& sandbox, const std::vector<pod::ContainerUsage>& containers,
                    const std::optional<pod::InterfaceCounters>& network,
                    ::runtime::v1::PodSandboxMetrics* out) {
  out->set_pod_sandbox_id(sandbox.id);
  if (network) {
    MetricWriter write(out->mutable_metrics(), NowUnixNanos(),
                       {sandbox.id, sandbox.config.name, ""});
    write.Add("container_network_receive_bytes_total", ::runtime::v1::COUNTER, network->rx_bytes,
              {network->name});
    write.Add("container_network_receive_errors_total", ::runtime::v1::COUNTER, network->rx_errors,
              {network->name});
    write.Add("container_network_transmit_bytes_total", ::runtime::v1::COUNTER, network->tx_bytes,
              {network->name});
    write.Add("container_network_transmit_errors_total", ::runtime::v1::COUNTER, network->tx_errors,
              {network->name});
  }
  for (const auto& usage : containers) FillContainerMetrics(usage, out->add_container_metrics());
}

}  // namespace berth::cri
