// berthd's Prometheus endpoint (metrics.address), scraped over loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

// One HTTP/1.1 request to 127.0.0.1:port; the whole answer (the server closes the connection).
std::string HttpGet(int port, const std::string& path, const std::string& method = "GET") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) answer.append(buffer, n);
    }
  }
  ::close(fd);
  return answer;
}

// The value of the first sample line that starts with `series` ("name{labels}"), or -1.
double Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(MetricsEndpointTest, ServesRpcPodPullAndProcessMetrics) {
  BERTH_REQUIRE_ROOT();
  BerthdProcess berthd;
  TempDir dir;
  std::ofstream(dir.path() + "/berth.yaml") << "metrics:\n  address: 127.0.0.1:0\n"
                                            << berthd.NetworkYaml();
  ASSERT_TRUE(berthd.Start({"--config", dir.path() + "/berth.yaml"}));
  std::smatch match;
  std::string log = berthd.ReadLog();
  ASSERT_TRUE(std::regex_search(
      log, match, std::regex(R"(metrics endpoint at http://127\.0\.0\.1:(\d+)/metrics)")))
      << log;
  int port = std::stoi(match[1]);

  // A host-network pod, a failed status lookup and a failed pull (nothing listens on port 1).
  ::runtime::v1::RunPodSandboxRequest run;
  run.mutable_config()->mutable_metadata()->set_name("scraped");
  run.mutable_config()->mutable_metadata()->set_namespace_("default");
  run.mutable_config()->mutable_metadata()->set_uid("scraped-uid");
  run.mutable_config()
      ->mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_network(::runtime::v1::NODE);
  ::runtime::v1::RunPodSandboxResponse ran;
  ASSERT_TRUE(berthd.runtime().RunPodSandbox(CallContext(60).get(), run, &ran).ok());
  ::runtime::v1::ContainerStatusRequest missing;
  missing.set_container_id("no-such-container");
  ::runtime::v1::ContainerStatusResponse status;
  EXPECT_EQ(berthd.runtime().ContainerStatus(CallContext().get(), missing, &status).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ::runtime::v1::PullImageRequest pull;
  pull.mutable_image()->set_image("127.0.0.1:1/absent:1");
  ::runtime::v1::PullImageResponse pulled;
  EXPECT_FALSE(berthd.images().PullImage(CallContext(30).get(), pull, &pulled).ok());

  std::string answer = HttpGet(port, "/metrics");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  std::string text = answer.substr(answer.find("\r\n\r\n") + 3);
  EXPECT_NE(text.find("# TYPE berth_cri_rpc_duration_seconds histogram"), std::string::npos);
  EXPECT_EQ(
      Sample(
          text,
          R"(berth_cri_rpc_duration_seconds_count{service="RuntimeService",method="RunPodSandbox",code="OK"})"),
      1);
  EXPECT_EQ(
      Sample(
          text,
          R"(berth_cri_rpc_duration_seconds_bucket{service="RuntimeService",method="RunPodSandbox",code="OK",le="+Inf"})"),
      1);
  EXPECT_EQ(
      Sample(
          text,
          R"(berth_cri_rpc_errors_total{service="RuntimeService",method="ContainerStatus",code="NOT_FOUND"})"),
      1);
  EXPECT_EQ(Sample(text, R"(berth_pod_sandboxes{state="ready"})"), 1);
  EXPECT_EQ(Sample(text, R"(berth_containers{state="running"})"), 0);
  EXPECT_EQ(Sample(text, R"(berth_image_pulls_total{result="failure"})"), 1);
  EXPECT_EQ(Sample(text, R"(berth_image_pull_duration_seconds_count{result="failure"})"), 1);
  EXPECT_EQ(Sample(text, "berth_images"), 0);
  EXPECT_GT(Sample(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Sample(text, "process_open_fds"), 3);
  EXPECT_GT(Sample(text, "process_threads"), 1);

  // Only /metrics, only GET / HEAD.
  EXPECT_EQ(HttpGet(port, "/").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(HttpGet(port, "/metrics", "POST").rfind("HTTP/1.1 405", 0), 0u);

  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse removed;
  EXPECT_TRUE(berthd.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed).ok());
  EXPECT_EQ(berthd.Stop(), 0);
}

TEST(MetricsEndpointTest, OffByDefault) {
  BERTH_REQUIRE_ROOT();
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  EXPECT_EQ(berthd.ReadLog().find("metrics endpoint"), std::string::npos);
}

}  // namespace
}  // namespace berth::testing
