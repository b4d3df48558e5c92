// kubelet's retries (the structure issue): a RunPodSandbox or CreateContainer that outlives its
// caller's deadline is kept, and the retry with the same name gets the object the first call
// made, whether it arrives while the first call still works or after it finished; a genuine
// duplicate is still AlreadyExists. The slow step is a failpoint delay (BERTH_FAILPOINTS).
#include <future>

#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

::runtime::v1::RunPodSandboxRequest PodRequest(const std::string& name) {
  ::runtime::v1::RunPodSandboxRequest request;
  auto* metadata = request.mutable_config()->mutable_metadata();
  metadata->set_name(name);
  metadata->set_namespace_("default");
  metadata->set_uid(name + "-uid");
  return request;
}

class RetryTest : public ::testing::Test {
 protected:
  void SetUp() override { BERTH_REQUIRE_ROOT(); }
  void TearDown() override {
    if (!berthd_.running()) return;
    ::runtime::v1::ListPodSandboxResponse pods;
    ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
    for (const auto& pod : pods.items()) {
      ::runtime::v1::RemovePodSandboxRequest remove;
      remove.set_pod_sandbox_id(pod.id());
      ::runtime::v1::RemovePodSandboxResponse removed;
      EXPECT_TRUE(berthd_.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed).ok());
    }
  }

  grpc::Status RunPod(const std::string& name, int deadline_seconds, std::string* id) {
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext(deadline_seconds).get(),
                                                  PodRequest(name), &response);
    *id = response.pod_sandbox_id();
    return status;
  }

  BerthdProcess berthd_;
};

TEST_F(RetryTest, ARunPodSandboxThatOutlivedItsCallerIsGivenToTheRetry) {
  berthd_.SetEnv("BERTH_FAILPOINTS", "RunPodSandbox/record=delay:3000");
  ASSERT_TRUE(berthd_.Start());
  std::string first, retry;
  EXPECT_EQ(RunPod("slow", 1, &first).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // Still in flight: the retry waits for it and gets its sandbox.
  ASSERT_TRUE(RunPod("slow", 30, &retry).ok());
  EXPECT_FALSE(retry.empty());
  ::runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), retry);
  // Only once: a later call with the same name is a duplicate.
  std::string again;
  EXPECT_EQ(RunPod("slow", 30, &again).error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(RetryTest, ARetryAfterTheFirstCallFinishedGetsItsSandbox) {
  berthd_.SetEnv("BERTH_FAILPOINTS", "RunPodSandbox/record=delay:1500");
  ASSERT_TRUE(berthd_.Start());
  std::string first, retry;
  EXPECT_EQ(RunPod("late", 1, &first).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the first call has finished by now
  ASSERT_TRUE(RunPod("late", 30, &retry).ok());
  ::runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), retry);
}

TEST_F(RetryTest, ADuplicateWhoseFirstCallSucceededIsAlreadyExists) {
  ASSERT_TRUE(berthd_.Start());
  std::string first, second;
  ASSERT_TRUE(RunPod("dup", 30, &first).ok());
  auto status = RunPod("dup", 30, &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status.error_message().find(first), std::string::npos) << status.error_message();
}

class ContainerRetryTest : public ContainerFixture {
 protected:
  void SetUp() override {
    berthd_.SetEnv("BERTH_FAILPOINTS", "CreateContainer/record=delay:3000");
    ContainerFixture::SetUp();
  }
};

TEST_F(ContainerRetryTest, ACreateContainerThatOutlivedItsCallerIsGivenToTheRetry) {
  ::runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_);
  *request.mutable_config() = Config("slow", "test/busybox:1", {"sleep", "60"});
  ::runtime::v1::CreateContainerResponse first, retry;
  EXPECT_EQ(berthd_.runtime().CreateContainer(CallContext(1).get(), request, &first).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(berthd_.runtime().CreateContainer(CallContext(30).get(), request, &retry).ok());
  created_.push_back(retry.container_id());
  ::runtime::v1::ListContainersResponse containers;
  ASSERT_TRUE(berthd_.runtime().ListContainers(CallContext().get(), {}, &containers).ok());
  ASSERT_EQ(containers.containers_size(), 1);
  EXPECT_EQ(containers.containers(0).id(), retry.container_id());
}

}  // namespace
}  // namespace berth::testing
