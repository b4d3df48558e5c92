#include "cri/metrics_convert.h"

#include <map>
#include <set>

#include "gtest/gtest.h"

namespace berth::cri {
namespace {

TEST(MetricsConvertTest, EveryMetricIsDescribedWithItsLabels) {
  std::map<std::string, int> label_count;
  for (const auto& descriptor : MetricDescriptors()) {
    EXPECT_FALSE(descriptor.help().empty()) << descriptor.name();
    EXPECT_EQ(descriptor.label_keys(0), "id");
    label_count[descriptor.name()] = descriptor.label_keys_size();
  }
  for (const char* name :
       {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
        "container_network_receive_bytes_total", "container_fs_usage_bytes"}) {
    EXPECT_TRUE(label_count.contains(name)) << name;
  }

  pod::Sandbox sandbox;
  sandbox.id = "pod-id";
  sandbox.config.name = "web";
  pod::ContainerUsage usage;
  usage.container.id = "ctr-id";
  usage.container.config.name = "nginx";
  usage.container.config.image = "nginx:1";
  usage.container.started_at_nanos = 5'000'000'000;
  usage.container.config.resources.memory_limit_bytes = 64 << 20;
  usage.timestamp_nanos = 7;
  usage.cgroup.has_cpu = usage.cgroup.has_memory = usage.cgroup.has_pids = true;
  usage.cgroup.cpu_usage_ns = 3'500'000'000;
  usage.cgroup.memory_working_set_bytes = 1234;
  usage.cgroup.pids = 2;
  usage.writable_layer_mountpoint = "/var/lib/berth";
  usage.writable_layer.bytes = 4096;
  pod::InterfaceCounters eth0{"eth0", 100, 1, 200, 2};

  ::runtime::v1::PodSandboxMetrics metrics;
  FillPodMetrics(sandbox, {usage}, eth0, &metrics);
  EXPECT_EQ(metrics.pod_sandbox_id(), "pod-id");
  ASSERT_EQ(metrics.container_metrics_size(), 1);
  EXPECT_EQ(metrics.container_metrics(0).container_id(), "ctr-id");
  std::map<std::string, uint64_t> values;
  auto check = [&](const ::runtime::v1::Metric& metric) {
    ASSERT_TRUE(label_count.contains(metric.name())) << metric.name();
    EXPECT_EQ(metric.label_values_size(), label_count[metric.name()]) << metric.name();
    values[metric.name()] = metric.value().value();
  };
  for (const auto& metric : metrics.metrics()) check(metric);
  for (const auto& metric : metrics.container_metrics(0).metrics()) {
    check(metric);
    EXPECT_EQ(metric.label_values(0), "ctr-id");
    EXPECT_EQ(metric.label_values(1), "nginx");
    EXPECT_EQ(metric.label_values(2), "nginx:1");
    EXPECT_EQ(metric.timestamp(), 7);
  }
  EXPECT_EQ(values["container_cpu_usage_seconds_total"], 3u);
  EXPECT_EQ(values["container_memory_working_set_bytes"], 1234u);
  EXPECT_EQ(values["container_processes"], 2u);
  EXPECT_EQ(values["container_fs_usage_bytes"], 4096u);
  EXPECT_EQ(values["container_start_time_seconds"], 5u);
  EXPECT_EQ(values["container_spec_memory_limit_bytes"], 64u << 20);
  EXPECT_EQ(values["container_network_receive_bytes_total"], 100u);
  EXPECT_EQ(values["container_network_transmit_errors_total"], 2u);
}

}  // namespace
}  // namespace berth::cri
