// berthd's shutdown through the real process: SIGTERM gives in-flight calls their grace period
// (10 s), and a handler stuck in a call that never returns does not keep berthd alive past it.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/registry/fake_http_server.h"

namespace berth::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A registry that accepts every connection, reads the request and never answers (until the
// test ends): a PullImage from it sits in libcurl for as long as its stall timeout allows.
class SilentRegistry {
 public:
  SilentRegistry()
      : server_([](const FakeRequest&) {
          FakeResponse response;
          response.stall = std::chrono::minutes(10);
          return response;
        }) {}
  std::string host() const { return server_.host(); }
  bool WaitForRequest(std::chrono::seconds limit) {
    auto deadline = Clock::now() + limit;
    while (server_.requests().empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return !server_.requests().empty();
  }

 private:
  FakeHttpServer server_;
};

TEST(ShutdownTest, AStuckHandlerDoesNotKeepBerthdAlivePastTheGracePeriod) {
  SilentRegistry registry;
  BerthdProcess berthd;
  TempDir dir("berth-shutdown");
  std::ofstream(dir.path() + "/berth.yaml")
      << berthd.NetworkYaml() << "registries:\n  insecure: [\"" << registry.host() << "\"]\n";
  ASSERT_TRUE(berthd.Start({"--config", dir.path() + "/berth.yaml"}));

  grpc::Status pulled;
  std::thread puller([&] {
    ::runtime::v1::PullImageRequest request;
    request.mutable_image()->set_image(registry.host() + "/stuck/image:1");
    ::runtime::v1::PullImageResponse response;
    pulled = berthd.images().PullImage(CallContext(600).get(), request, &response);
  });
  ASSERT_TRUE(registry.WaitForRequest(std::chrono::seconds(30)));

  auto signalled = Clock::now();
  // Stop() sends SIGTERM and waits up to 20 s before it gives up and kills berthd (-1).
  int status = berthd.Stop();
  double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  puller.join();

  EXPECT_NE(status, -1) << "berthd was still running " << seconds << " s after SIGTERM";
  EXPECT_NE(status, 0) << "a shutdown that abandoned a call must not look clean";
  // The grace period is 10 s; then a couple of seconds for the cancelled calls. Generous bound.
  EXPECT_LT(seconds, 16.0);
  EXPECT_FALSE(pulled.ok());
  std::string log = berthd.ReadLog();
  EXPECT_NE(log.find("still in flight"), std::string::npos) << log;
  EXPECT_NE(log.find("/runtime.v1.ImageService/PullImage"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(berthd.socket_path()));
}

TEST(ShutdownTest, AHandlerSleepingAtAFailpointDoesNotKeepBerthdAlive) {
  BERTH_REQUIRE_ROOT();
  BerthdProcess berthd;
  // RunPodSandbox makes the pod's directory, then sleeps a minute before its namespaces.
  berthd.SetEnv("BERTH_FAILPOINTS", "RunPodSandbox/namespaces=delay:60000");
  ASSERT_TRUE(berthd.Start());
  grpc::Status ran;
  std::thread runner([&] {
    ::runtime::v1::RunPodSandboxRequest request;
    auto* metadata = request.mutable_config()->mutable_metadata();
    metadata->set_name("stuck");
    metadata->set_namespace_("default");
    metadata->set_uid("stuck-uid");
    ::runtime::v1::RunPodSandboxResponse response;
    ran = berthd.runtime().RunPodSandbox(CallContext(600).get(), request, &response);
  });
  std::string pods = berthd.state() + "/pods";
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (EntriesIn(pods) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(EntriesIn(pods), 1u) << "RunPodSandbox did not reach its failpoint";

  auto signalled = Clock::now();
  int status = berthd.Stop();
  double seconds = std::chrono::duration<double>(Clock::now() - signalled).count();
  runner.join();
  EXPECT_NE(status, -1) << "berthd was still running " << seconds << " s after SIGTERM";
  EXPECT_NE(status, 0);
  EXPECT_LT(seconds, 16.0);
  EXPECT_FALSE(ran.ok());
  std::string log = berthd.ReadLog();
  EXPECT_NE(log.find("still in flight"), std::string::npos) << log;
  EXPECT_NE(log.find("/runtime.v1.RuntimeService/RunPodSandbox"), std::string::npos) << log;

  // The half-made pod is the start-up reconciler's: the next berthd removes it.
  berthd.SetEnv("BERTH_FAILPOINTS", "");
  ASSERT_TRUE(berthd.Start());
  EXPECT_EQ(EntriesIn(pods), 0u);
  EXPECT_EQ(berthd.Stop(), 0);
}

}  // namespace
}  // namespace berth::testing
