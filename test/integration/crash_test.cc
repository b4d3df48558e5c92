// Crash tests (the hardening issue): berthd is killed with SIGKILL at each named step of
// RunPodSandbox, CreateContainer, StartContainer, StopContainer, RemoveContainer,
// StopPodSandbox, RemovePodSandbox and PullImage (BERTH_FAILPOINTS, base/failpoint.h), started
// again, and must then list a consistent state, stop and remove everything, and leave nothing
// behind: no mount, veth, nftables chain, cgroup, address, process or state directory.
#include <dirent.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "gtest/gtest.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

std::vector<std::string> Children(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(".removing-", 0) != 0) names.push_back(name);
  }
  return names;
}

bool IsObjectId(const std::string& name) {
  return std::regex_match(name, std::regex("[0-9a-f]{64}"));
}

// Container cgroups (64-hex names) in the memory hierarchy's /berth.
std::set<std::string> BerthCgroups() {
  std::set<std::string> ids;
  for (const auto& name : Children("/sys/fs/cgroup/memory/berth")) {
    if (IsObjectId(name)) ids.insert(name);
  }
  return ids;
}

// The command lines of berth-monitor and berth-pod-init processes.
std::vector<std::string> BerthHelperProcesses() {
  std::vector<std::string> found;
  for (const auto& pid : Children("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadText("/proc/" + pid + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("berth-monitor ") != std::string::npos ||
        cmdline.find("berth-pod-init ") != std::string::npos) {
      found.push_back(pid + ": " + cmdline);
    }
  }
  return found;
}

class CrashTest : public ::testing::TestWithParam<const char*> {
 protected:
  static void SetUpTestSuite() {
    BecomeChildSubreaper();
    images_ = &SharedFixtureImages();
  }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;
    cgroups_before_ = BerthCgroups();
    helpers_before_ = BerthHelperProcesses().size();
  }

  bool Pulling() const { return std::string(GetParam()).rfind("PullImage/", 0) == 0; }

  void StartBerthd() {
    std::string config = scratch_.path() + "/berth.yaml";
    std::ofstream(config) << berthd_.NetworkYaml()
                          << "registries:\n  insecure: [\"" + registry_->host() + "\"]\n";
    ASSERT_TRUE(berthd_.Start({"--config", config}));
  }

  // Runs every step the failpoints cover; returns the first failed call's status.
  grpc::Status Scenario() {
    grpc::Status status;
    if (Pulling()) {
      ::runtime::v1::PullImageRequest pull;
      pull.mutable_image()->set_image(registry_->host() + "/crash/busybox:1");
      ::runtime::v1::PullImageResponse pulled;
      return berthd_.images().PullImage(CallContext(60).get(), pull, &pulled);
    }
    auto import = RunCommand({BerthctlBinary(), "-r", berthd_.endpoint(), "import",
                              (*images_)["images"]["busybox"]["layout"].get<std::string>(),
                              "--name", "test/busybox:1"});
    if (import.exit_code != 0) return grpc::Status(grpc::StatusCode::INTERNAL, import.output);
    std::string pod;
    if (!(status = RunPod(&pod)).ok()) return status;
    std::string first;
    if (!(status = CreateAndStart("first", pod, &first)).ok()) return status;
    if (!(status = StopContainer(first)).ok()) return status;
    ::runtime::v1::RemoveContainerRequest remove;
    remove.set_container_id(first);
    ::runtime::v1::RemoveContainerResponse removed;
    status = berthd_.runtime().RemoveContainer(CallContext(60).get(), remove, &removed);
    if (!status.ok()) return status;
    std::string second;
    if (!(status = CreateAndStart("second", pod, &second)).ok()) return status;
    ::runtime::v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(pod);
    ::runtime::v1::StopPodSandboxResponse stopped;
    if (!(status = berthd_.runtime().StopPodSandbox(CallContext(60).get(), stop, &stopped)).ok()) {
      return status;
    }
    ::runtime::v1::RemovePodSandboxRequest rm;
    rm.set_pod_sandbox_id(pod);
    ::runtime::v1::RemovePodSandboxResponse rmed;
    return berthd_.runtime().RemovePodSandbox(CallContext(60).get(), rm, &rmed);
  }

  grpc::Status RunPod(std::string* id) {
    ::runtime::v1::RunPodSandboxRequest request;
    auto* config = request.mutable_config();
    config->mutable_metadata()->set_name("crash-pod");
    config->mutable_metadata()->set_namespace_("default");
    config->mutable_metadata()->set_uid("crash-pod-uid");
    config->set_hostname("crash-pod");
    config->set_log_directory(scratch_.path() + "/logs");
    auto* port = config->add_port_mappings();
    port->set_container_port(80);
    port->set_host_port(18080 + (::getpid() % 1000));
    (*config->mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "0";
    config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        ::runtime::v1::POD);
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), request, &response);
    *id = response.pod_sandbox_id();
    return status;
  }

  grpc::Status CreateAndStart(const std::string& name, const std::string& pod, std::string* id) {
    ::runtime::v1::CreateContainerRequest request;
    request.set_pod_sandbox_id(pod);
    auto* config = request.mutable_config();
    config->mutable_metadata()->set_name(name);
    config->mutable_image()->set_image("test/busybox:1");
    for (const char* part : {"sleep", "3600"}) config->add_command(part);
    config->set_log_path(name + ".log");
    config->mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(64 << 20);
    ::runtime::v1::CreateContainerResponse created;
    auto status = berthd_.runtime().CreateContainer(CallContext(60).get(), request, &created);
    if (!status.ok()) return status;
    *id = created.container_id();
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(*id);
    ::runtime::v1::StartContainerResponse started;
    return berthd_.runtime().StartContainer(CallContext(60).get(), start, &started);
  }

  grpc::Status StopContainer(const std::string& id) {
    ::runtime::v1::StopContainerRequest request;
    request.set_container_id(id);
    request.set_timeout(0);
    ::runtime::v1::StopContainerResponse response;
    return berthd_.runtime().StopContainer(CallContext(60).get(), request, &response);
  }

  // After the restart: every container belongs to a listed pod; then everything goes.
  void CheckConsistentAndRemoveAll() {
    ::runtime::v1::ListPodSandboxResponse pods;
    ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
    std::set<std::string> pod_ids;
    for (const auto& pod : pods.items()) pod_ids.insert(pod.id());
    ::runtime::v1::ListContainersResponse containers;
    ASSERT_TRUE(berthd_.runtime().ListContainers(CallContext().get(), {}, &containers).ok());
    for (const auto& container : containers.containers()) {
      EXPECT_TRUE(pod_ids.count(container.pod_sandbox_id())) << container.id();
      ::runtime::v1::ContainerStatusRequest request;
      request.set_container_id(container.id());
      ::runtime::v1::ContainerStatusResponse status;
      EXPECT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &status).ok());
    }
    for (const auto& id : pod_ids) {
      ::runtime::v1::StopPodSandboxRequest stop;
      stop.set_pod_sandbox_id(id);
      ::runtime::v1::StopPodSandboxResponse stopped;
      auto status = berthd_.runtime().StopPodSandbox(CallContext(60).get(), stop, &stopped);
      EXPECT_TRUE(status.ok()) << status.error_message();
      ::runtime::v1::RemovePodSandboxRequest remove;
      remove.set_pod_sandbox_id(id);
      ::runtime::v1::RemovePodSandboxResponse removed;
      status = berthd_.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    ::runtime::v1::ListContainersResponse left;
    ASSERT_TRUE(berthd_.runtime().ListContainers(CallContext().get(), {}, &left).ok());
    EXPECT_EQ(left.containers_size(), 0);
  }

  void CheckNothingLeft() {
    std::string mountinfo = ReadText("/proc/self/mountinfo");
    EXPECT_EQ(mountinfo.find(berthd_.root() + "/"), std::string::npos) << mountinfo;
    EXPECT_EQ(mountinfo.find(berthd_.state() + "/"), std::string::npos) << mountinfo;
    for (const auto& dir : {berthd_.root() + "/containers", berthd_.state() + "/c",
                            berthd_.state() + "/pods", berthd_.root() + "/snapshots/active"}) {
      EXPECT_TRUE(Children(dir).empty()) << dir;
    }
    auto veths =
        RunCommand({"/usr/sbin/ip", "-o", "link", "show", "master", berthd_.test_bridge()});
    EXPECT_EQ(veths.output.find("vb"), std::string::npos) << veths.output;
    auto chains = RunCommand({"/usr/sbin/nft", "list", "table", "ip", berthd_.test_table()});
    EXPECT_EQ(chains.output.find("chain pod-"), std::string::npos) << chains.output;
    EXPECT_EQ(BerthCgroups(), cgroups_before_);
    EXPECT_EQ(BerthHelperProcesses().size(), helpers_before_)
        << ::testing::PrintToString(BerthHelperProcesses());
    EXPECT_TRUE(Children(berthd_.state() + "/pods").empty());
  }

  int Addresses() {
    auto count = RunCommand({"/usr/bin/python3", "-c",
                             "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); "
                             "print(db.execute(\"select count(*) from objects where kind="
                             "'ip_allocation'\").fetchone()[0])",
                             berthd_.root() + "/metadata.db"});
    return count.exit_code == 0 ? std::stoi(count.output) : -1;
  }

  static void TearDownTestSuite() { registry_.reset(); }  // stopped here, not at static exit
  static const nlohmann::json* images_;
  static std::unique_ptr<RegistryFixture> registry_;
  TempDir scratch_{"berth-crash"};
  BerthdProcess berthd_;
  std::set<std::string> cgroups_before_;
  size_t helpers_before_ = 0;
};

const nlohmann::json* CrashTest::images_ = nullptr;
std::unique_ptr<RegistryFixture> CrashTest::registry_;

TEST_P(CrashTest, RestartAfterACrashAtThisStepLeavesNothingBehind) {
  if (!registry_) {
    registry_ = RegistryFixture::Start(RegistryMode::kAnonymous);
    registry_->Push((*images_)["images"]["busybox"]["layout"], "crash/busybox:1");
  }
  berthd_.SetEnv("BERTH_FAILPOINTS", std::string(GetParam()) + "=crash");
  StartBerthd();
  auto status = Scenario();
  ASSERT_FALSE(status.ok()) << "the failpoint " << GetParam() << " was never reached";
  int wait_status = berthd_.WaitExit(30);
  ASSERT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
      << "berthd did not crash at " << GetParam() << ": " << status.error_message();
  berthd_.SetEnv("BERTH_FAILPOINTS", "");
  StartBerthd();
  CheckConsistentAndRemoveAll();
  ASSERT_EQ(berthd_.Stop(), 0);
  EXPECT_EQ(Addresses(), 0);
  CheckNothingLeft();
}

// Every berthd on a host shares the cgroup parent /berth (other roots, test instances): one that
// starts, and so cleans up what it does not know, must leave another's containers alone. (Its
// clean-up used to destroy every unknown /berth/<id>, killing the other's containers and execs.)
using SharedHostTest = CrashTest;

TEST_F(SharedHostTest, ASecondBerthdLeavesTheFirstOnesContainersAlone) {
  if (!registry_) registry_ = RegistryFixture::Start(RegistryMode::kAnonymous);
  StartBerthd();
  auto import = RunCommand({BerthctlBinary(), "-r", berthd_.endpoint(), "import",
                            (*images_)["images"]["busybox"]["layout"].get<std::string>(), "--name",
                            "test/busybox:1"});
  ASSERT_EQ(import.exit_code, 0) << import.output;
  std::string pod, id;
  ASSERT_TRUE(RunPod(&pod).ok());
  auto started = CreateAndStart("first", pod, &id);
  ASSERT_TRUE(started.ok()) << started.error_message();
  ASSERT_TRUE(BerthCgroups().count(id));

  TempDir other_scratch("berth-crash-other");
  BerthdProcess other;
  std::string config = other_scratch.path() + "/berth.yaml";
  std::ofstream(config) << other.NetworkYaml();
  ASSERT_TRUE(other.Start({"--config", config}));
  ASSERT_EQ(other.Stop(), 0);

  EXPECT_TRUE(BerthCgroups().count(id));
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  ::runtime::v1::ContainerStatusResponse status;
  ASSERT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &status).ok());
  EXPECT_EQ(status.status().state(), ::runtime::v1::CONTAINER_RUNNING);
  CheckConsistentAndRemoveAll();
  ASSERT_EQ(berthd_.Stop(), 0);
  CheckNothingLeft();
}

INSTANTIATE_TEST_SUITE_P(
    Steps, CrashTest,
    ::testing::Values("RunPodSandbox/dir", "RunPodSandbox/namespaces", "RunPodSandbox/sysctls",
                      "RunPodSandbox/shm", "PodNetworkSetup/addresses", "PodNetworkSetup/veth",
                      "PodNetworkSetup/pod-side", "PodNetworkSetup/port-mappings",
                      "RunPodSandbox/network", "RunPodSandbox/files", "RunPodSandbox/pod-init",
                      "RunPodSandbox/record", "CreateContainer/snapshot", "CreateContainer/bundle",
                      "CreateContainer/rootfs", "CreateContainer/config", "CreateContainer/cgroup",
                      "CreateContainer/cgroup-limits", "CreateContainer/state-dir",
                      "CreateContainer/monitor", "CreateContainer/record",
                      "StartContainer/before-start", "StartContainer/started",
                      "StopContainer/before-kill", "RemoveContainer/rootfs-removed",
                      "StopPodSandbox/containers-stopped", "StopPodSandbox/network-down",
                      "RemovePodSandbox/containers-removed", "RemovePodSandbox/dir-removed",
                      "PullImage/layer", "PullImage/unpacked"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string name = info.param;
      for (auto& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace berth::testing
