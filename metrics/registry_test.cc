#include "metrics/registry.h"

#include "gtest/gtest.h"
#include "metrics/http_endpoint.h"

namespace berth::metrics {
namespace {

TEST(MetricsRegistryTest, RendersThePrometheusTextFormat) {
  Registry registry;
  registry.DefineCounter("calls_total", "Calls.\nTwo lines.");
  registry.DefineGauge("pods", "Pods by state.");
  registry.DefineHistogram("latency_seconds", "Latency.", {0.1, 1});
  registry.Increment("calls_total", {{"method", "Run\"Pod\\"}});
  registry.Increment("calls_total", {{"method", "Run\"Pod\\"}}, 2);
  registry.Increment("undefined_total", {});  // ignored
  registry.Set("calls_total", {}, 5);         // the wrong type: ignored
  registry.AddCollector([](Registry& r) { r.Set("pods", {{"state", "ready"}}, 3); });
  registry.Observe("latency_seconds", {{"code", "OK"}}, 0.05);
  registry.Observe("latency_seconds", {{"code", "OK"}}, 0.5);
  registry.Observe("latency_seconds", {{"code", "OK"}}, 7);
  EXPECT_EQ(registry.Render(),
            "# HELP calls_total Calls.\\nTwo lines.\n"
            "# TYPE calls_total counter\n"
            "calls_total{method=\"Run\\\"Pod\\\\\"} 3\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{code=\"OK\",le=\"0.1\"} 1\n"
            "latency_seconds_bucket{code=\"OK\",le=\"1\"} 2\n"
            "latency_seconds_bucket{code=\"OK\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{code=\"OK\"} 7.55\n"
            "latency_seconds_count{code=\"OK\"} 3\n"
            "# HELP pods Pods by state.\n"
            "# TYPE pods gauge\n"
            "pods{state=\"ready\"} 3\n");
}

TEST(MetricsRegistryTest, SplitsHostAndPort) {
  EXPECT_EQ(*SplitHostPort("127.0.0.1:9464"), (std::pair<std::string, int>{"127.0.0.1", 9464}));
  EXPECT_EQ(*SplitHostPort("[::1]:0"), (std::pair<std::string, int>{"::1", 0}));
  EXPECT_FALSE(SplitHostPort("127.0.0.1").ok());
  EXPECT_FALSE(SplitHostPort("::1:80").ok());
  EXPECT_FALSE(SplitHostPort("host:99999").ok());
  EXPECT_FALSE(SplitHostPort(":80").ok());
}

}  // namespace
}  // namespace berth::metrics
