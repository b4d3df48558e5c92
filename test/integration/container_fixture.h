// A running berthd with the fixture images imported and one pod on the built-in network, and
// helpers to create, run and inspect containers in it, for the container-level integration tests.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {

using ::runtime::v1::ContainerConfig;

class ContainerFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { images_ = &SharedFixtureImages(); }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    // The VM lane runs some suites a second time with BERTH_TEST_CGROUP_DRIVER=systemd.
    if (const char* driver = std::getenv("BERTH_TEST_CGROUP_DRIVER");
        cgroup_driver_.empty() && driver != nullptr)
      cgroup_driver_ = driver;
    if (!cgroup_driver_.empty()) berthd_.SetExtraConfig("cgroup_driver: " + cgroup_driver_ + "\n");
    ASSERT_TRUE(berthd_.Start()) << berthd_.ReadLog();
    if (cgroup_driver_ == "systemd") {  // the run really is the systemd driver's
      ::runtime::v1::RuntimeConfigResponse config;
      ASSERT_TRUE(berthd_.runtime().RuntimeConfig(CallContext().get(), {}, &config).ok());
      ASSERT_EQ(config.linux().cgroup_driver(), ::runtime::v1::SYSTEMD);
    }
    for (const char* name : {"busybox", "entrypoint", "user"}) Import(name);
    ::runtime::v1::RunPodSandboxRequest request;
    auto* config = request.mutable_config();
    config->mutable_metadata()->set_name("ctr-pod");
    config->mutable_metadata()->set_namespace_("default");
    config->mutable_metadata()->set_uid("ctr-pod-uid");
    config->set_hostname("ctr-pod");
    config->set_log_directory(logs_.path());
    config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        ::runtime::v1::CONTAINER);
    config->mutable_linux()->mutable_security_context()->set_privileged(privileged_pod_);
    for (const auto& [key, value] : pod_sysctls_)
      (*config->mutable_linux()->mutable_sysctls())[key] = value;
    *config->mutable_dns_config() = pod_dns_;
    if (pod_userns_host_id_ != 0) {
      auto* userns = config->mutable_linux()
                         ->mutable_security_context()
                         ->mutable_namespace_options()
                         ->mutable_userns_options();
      userns->set_mode(::runtime::v1::POD);
      for (auto* mapping : {userns->add_uids(), userns->add_gids()}) {
        mapping->set_host_id(pod_userns_host_id_);
        mapping->set_container_id(0);
        mapping->set_length(65536);
      }
    }
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    pod_ = response.pod_sandbox_id();
  }
  void TearDown() override {
    if (!berthd_.running() || pod_.empty()) return;
    ::runtime::v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(pod_);
    ::runtime::v1::RemovePodSandboxResponse response;
    EXPECT_TRUE(berthd_.runtime().RemovePodSandbox(CallContext(60).get(), request, &response).ok());
    // Nothing of the pod's containers is left: mounts, cgroups, processes.
    EXPECT_EQ(ReadText("/proc/self/mountinfo").find(berthd_.root() + "/containers"),
              std::string::npos);
    // Containers of a pod without a cgroup parent live in /berth/<id> (shared with any other
    // berthd running tests at the same time, so check this test's own containers only).
    // (cgroup v2: /sys/fs/cgroup/berth/<id>; the systemd driver: berth.slice/berth-<id>.scope.)
    std::string hierarchy = std::filesystem::exists("/sys/fs/cgroup/memory")
                                ? "/sys/fs/cgroup/memory"
                                : "/sys/fs/cgroup";
    for (const auto& id : created_) {
      EXPECT_FALSE(std::filesystem::exists(hierarchy + "/berth/" + id)) << id;
      EXPECT_FALSE(std::filesystem::exists(hierarchy + "/berth.slice/berth-" + id + ".scope"))
          << id;
    }
    // "/berth" itself stays, as kubelet's /kubepods does: another berthd may be creating a
    // container in it.
  }
  void Import(const std::string& name) {
    auto run = RunCommand({BerthctlBinary(), "-r", berthd_.endpoint(), "import",
                           (*images_)["images"][name]["layout"].get<std::string>(), "--name",
                           "test/" + name + ":1"});
    ASSERT_EQ(run.exit_code, 0) << run.output;
  }
  ContainerConfig Config(const std::string& name, const std::string& image,
                         std::vector<std::string> command) {
    ContainerConfig config;
    config.mutable_metadata()->set_name(name);
    config.mutable_image()->set_image(image);
    for (auto& part : command) config.add_command(part);
    config.set_log_path(name + ".log");
    return config;
  }
  grpc::Status Create(const ContainerConfig& config, std::string* id) {
    ::runtime::v1::CreateContainerRequest request;
    request.set_pod_sandbox_id(pod_);
    *request.mutable_config() = config;
    ::runtime::v1::CreateContainerResponse response;
    auto status = berthd_.runtime().CreateContainer(CallContext(60).get(), request, &response);
    *id = response.container_id();
    if (status.ok()) created_.push_back(*id);
    return status;
  }
  std::string Run(const ContainerConfig& config) {
    std::string id;
    auto created = Create(config, &id);
    EXPECT_TRUE(created.ok()) << created.error_message();
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(id);
    ::runtime::v1::StartContainerResponse started;
    auto status = berthd_.runtime().StartContainer(CallContext().get(), start, &started);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return id;
  }
  ::runtime::v1::ContainerStatus Status(const std::string& id) {
    ::runtime::v1::ContainerStatusRequest request;
    request.set_container_id(id);
    ::runtime::v1::ContainerStatusResponse response;
    EXPECT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &response).ok());
    return response.status();
  }
  ::runtime::v1::ContainerStatus WaitExited(const std::string& id, int seconds = 20) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    auto status = Status(id);
    while (status.state() != ::runtime::v1::CONTAINER_EXITED &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      status = Status(id);
    }
    return status;
  }
  grpc::Status Stop(const std::string& id, int64_t timeout) {
    ::runtime::v1::StopContainerRequest request;
    request.set_container_id(id);
    request.set_timeout(timeout);
    ::runtime::v1::StopContainerResponse response;
    return berthd_.runtime().StopContainer(CallContext(60).get(), request, &response);
  }
  grpc::Status Remove(const std::string& id) {
    ::runtime::v1::RemoveContainerRequest request;
    request.set_container_id(id);
    ::runtime::v1::RemoveContainerResponse response;
    return berthd_.runtime().RemoveContainer(CallContext(60).get(), request, &response);
  }
  // The messages of a CRI log file's lines for `stream`, checking every line's format.
  std::vector<std::string> LogLines(const std::string& path, const std::string& stream) {
    std::istringstream lines(ReadText(path));
    // A TTY container's lines keep the pty's "\r" (as with containerd); "." would stop at it.
    std::regex format(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) (F|P) ([^\n]*)$)");
    std::vector<std::string> messages;
    for (std::string line; std::getline(lines, line);) {
      std::smatch match;
      EXPECT_TRUE(std::regex_match(line, match, format)) << line;
      if (match.size() == 4 && match[1] == stream) messages.push_back(match[3]);
    }
    return messages;
  }

  static inline const nlohmann::json* images_ = nullptr;
  bool privileged_pod_ = false;                     // set by a subclass before SetUp
  std::map<std::string, std::string> pod_sysctls_;  // likewise
  ::runtime::v1::DNSConfig pod_dns_;                // likewise
  uint32_t pod_userns_host_id_ = 0;  // likewise: a pod user namespace at this host id
  std::string cgroup_driver_;        // likewise: berth.yaml's cgroup_driver
  TempDir logs_{"berth-container-logs"};
  BerthdProcess berthd_;
  std::string pod_;
  std::vector<std::string> created_;
};

}  // namespace berth::testing
