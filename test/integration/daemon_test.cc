// berthd as a process: the socket, locks, shutdown, and the RPCs of the foundation issue, all
// through the real gRPC socket.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

using ::runtime::v1::StatusRequest;
using ::runtime::v1::StatusResponse;

TEST(DaemonTest, VersionNamesBerthAndApiV1) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::VersionResponse response;
  ASSERT_TRUE(berthd.runtime().Version(CallContext().get(), {}, &response).ok());
  EXPECT_EQ(response.runtime_name(), "berth");
  EXPECT_EQ(response.runtime_api_version(), "v1");
  EXPECT_EQ(response.version(), "0.1.0");
  EXPECT_TRUE(std::regex_search(response.runtime_version(), std::regex(R"(^\d+\.\d+\.\d+)")))
      << response.runtime_version();
}

TEST(DaemonTest, StatusReportsConditionsHandlersAndVerboseInfo) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  StatusRequest request;
  request.set_verbose(true);
  StatusResponse response;
  ASSERT_TRUE(berthd.runtime().Status(CallContext().get(), request, &response).ok());

  std::map<std::string, ::runtime::v1::RuntimeCondition> conditions;
  for (const auto& condition : response.status().conditions())
    conditions[condition.type()] = condition;
  ASSERT_EQ(conditions.count("RuntimeReady"), 1u);
  ASSERT_EQ(conditions.count("NetworkReady"), 1u);
  EXPECT_TRUE(conditions["RuntimeReady"].status());
  // The built-in network is ready as soon as berthd is.
  EXPECT_TRUE(conditions["NetworkReady"].status()) << conditions["NetworkReady"].message();

  ASSERT_GE(response.runtime_handlers_size(), 1);
  EXPECT_EQ(response.runtime_handlers(0).name(), "");
  ASSERT_TRUE(response.has_features());
  // Features that work on this kernel are reported (each has its own integration test).
  EXPECT_TRUE(response.runtime_handlers(0).features().recursive_read_only_mounts());
  EXPECT_TRUE(response.runtime_handlers(0).features().user_namespaces());
  EXPECT_TRUE(response.features().supplemental_groups_policy());

  ASSERT_EQ(response.info().count("config"), 1u);
  EXPECT_NE(response.info().at("config").find(berthd.socket_path()), std::string::npos);
  ASSERT_EQ(response.info().count("host"), 1u);
  EXPECT_NE(response.info().at("host").find("\"cgroups\""), std::string::npos);

  // Without verbose there is no info.
  StatusResponse plain;
  ASSERT_TRUE(berthd.runtime().Status(CallContext().get(), {}, &plain).ok());
  EXPECT_TRUE(plain.info().empty());
}

TEST(DaemonTest, NetworkReadyFollowsTheCniConfigDirectory) {
  BerthdProcess berthd;
  TempDir dir;
  std::string conf_dir = dir.path() + "/net.d";
  std::filesystem::create_directories(conf_dir);
  std::ofstream(dir.path() + "/berth.yaml")
      << "network:\n  mode: cni\n  cni_conf_dir: " << conf_dir << "\n";
  ASSERT_TRUE(berthd.Start({"--config", dir.path() + "/berth.yaml"}));
  auto network_ready = [&] {
    StatusResponse response;
    EXPECT_TRUE(berthd.runtime().Status(CallContext().get(), {}, &response).ok());
    for (const auto& condition : response.status().conditions()) {
      if (condition.type() == "NetworkReady") return condition;
    }
    return ::runtime::v1::RuntimeCondition();
  };
  auto before = network_ready();
  EXPECT_FALSE(before.status());
  EXPECT_EQ(before.reason(), "NetworkPluginNotReady");
  EXPECT_NE(before.message().find("no CNI network config found in " + conf_dir), std::string::npos)
      << before.message();
  std::ofstream(conf_dir + "/10-lo.conf")
      << R"({"cniVersion":"1.0.0","name":"lo-only","type":"loopback"})";
  if (std::filesystem::exists("/usr/lib/cni/loopback")) {
    EXPECT_TRUE(network_ready().status()) << network_ready().message();
  }
}

TEST(DaemonTest, RuntimeConfigReportsCgroupfs) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::RuntimeConfigResponse response;
  ASSERT_TRUE(berthd.runtime().RuntimeConfig(CallContext().get(), {}, &response).ok());
  EXPECT_EQ(response.linux().cgroup_driver(), ::runtime::v1::CgroupDriver::CGROUPFS);
}

// cgroup_driver: systemd where systemd is PID 1 on a pure cgroup v2 host (kubeadm's and kind's
// kubelet configuration): RuntimeConfig reports it. Elsewhere (berth's build machines) it is a
// start-up error that says why.
TEST(DaemonTest, SystemdCgroupDriverIsReportedOrRefusedClearly) {
  bool systemd_node = std::filesystem::exists("/run/systemd/system") &&
                      std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers");
  BerthdProcess berthd;
  TempDir dir;
  std::ofstream(dir.path() + "/berth.yaml") << "cgroup_driver: systemd\n" << berthd.NetworkYaml();
  if (systemd_node) {
    ASSERT_TRUE(berthd.Start({"--config", dir.path() + "/berth.yaml"})) << berthd.ReadLog();
    ::runtime::v1::RuntimeConfigResponse response;
    ASSERT_TRUE(berthd.runtime().RuntimeConfig(CallContext().get(), {}, &response).ok());
    EXPECT_EQ(response.linux().cgroup_driver(), ::runtime::v1::CgroupDriver::SYSTEMD);
    EXPECT_NE(berthd.ReadLog().find("cgroup driver: systemd"), std::string::npos);
    return;
  }
  auto refused = RunCommand({BerthdBinary(), "--config", dir.path() + "/berth.yaml", "--root",
                             dir.path() + "/root", "--state", dir.path() + "/state", "--listen",
                             dir.path() + "/berth.sock"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("cgroup_driver \"systemd\""), std::string::npos) << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/berth.sock"));
}

TEST(DaemonTest, UnimplementedRpcsAnswerUnimplemented) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::CheckpointContainerResponse checkpoint;
  auto status = berthd.runtime().CheckpointContainer(CallContext().get(), {}, &checkpoint);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST(DaemonTest, SocketIsMode0660AndStoreIsCreated) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  struct stat st {};
  ASSERT_EQ(::stat(berthd.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_TRUE(std::filesystem::exists(berthd.root() + "/metadata.db"));
}

TEST(DaemonTest, SigtermRemovesTheSocketAndExitsZero) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  EXPECT_EQ(berthd.Stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(berthd.socket_path()));
  std::string log = berthd.ReadLog();
  EXPECT_NE(log.find("received SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("berthd stopped"), std::string::npos) << log;
}

TEST(DaemonTest, SecondBerthdOnTheSameSocketFailsClearly) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  TempDir other;
  auto second = RunCommand({BerthdBinary(), "--root", other.path() + "/root", "--state",
                            other.path() + "/state", "--listen", berthd.socket_path()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another berthd"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("socket " + berthd.socket_path()), std::string::npos)
      << second.output;
  // The first one is unharmed.
  ::runtime::v1::VersionResponse response;
  EXPECT_TRUE(berthd.runtime().Version(CallContext().get(), {}, &response).ok());
}

TEST(DaemonTest, SecondBerthdOnTheSameRootFailsClearly) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  TempDir other;
  auto second = RunCommand({BerthdBinary(), "--root", berthd.root(), "--state",
                            other.path() + "/state", "--listen", other.path() + "/b.sock"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.output.find("another berthd"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("root " + berthd.root()), std::string::npos) << second.output;
  EXPECT_FALSE(std::filesystem::exists(other.path() + "/b.sock"));
}

TEST(DaemonTest, StaleSocketFileIsReplaced) {
  BerthdProcess berthd;
  // A socket file nobody listens on, as a killed berthd leaves behind.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, berthd.socket_path().c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::exists(berthd.socket_path()));
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::VersionResponse response;
  EXPECT_TRUE(berthd.runtime().Version(CallContext().get(), {}, &response).ok());
}

TEST(DaemonTest, KilledBerthdCanBeRestartedOnTheSameSocket) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  berthd.Kill();
  ASSERT_TRUE(std::filesystem::exists(berthd.socket_path()));  // left behind by the crash
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::VersionResponse response;
  EXPECT_TRUE(berthd.runtime().Version(CallContext().get(), {}, &response).ok());
}

TEST(DaemonTest, RefusesARegularFileAtTheSocketPath) {
  BerthdProcess berthd;
  std::ofstream(berthd.socket_path()) << "not a socket";
  auto run = RunCommand(berthd.Command());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("is not a socket"), std::string::npos) << run.output;
}

TEST(DaemonTest, BadConfigIsRefusedBeforeStarting) {
  TempDir dir;
  std::ofstream(dir.path() + "/berth.yaml") << "listen: /tmp/x.sock\nlisten_port: 5\n";
  auto run = RunCommand({BerthdBinary(), "--config", dir.path() + "/berth.yaml"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("unknown key \"listen_port\""), std::string::npos) << run.output;

  auto missing = RunCommand({BerthdBinary(), "--config", dir.path() + "/absent.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("absent.yaml"), std::string::npos) << missing.output;

  auto relative = RunCommand({BerthdBinary(), "--root", "relative"});
  EXPECT_EQ(relative.exit_code, 2);
  EXPECT_NE(relative.output.find("root must be an absolute path"), std::string::npos);
}

TEST(DaemonTest, FlagsOverrideTheConfigFile) {
  BerthdProcess berthd;
  TempDir dir;
  // The file names another socket and level; the fixture's flags must win.
  std::ofstream(dir.path() + "/berth.yaml")
      << "listen: " << dir.path() << "/from-file.sock\nlog_level: error\n"
      << berthd.NetworkYaml();
  ASSERT_TRUE(berthd.Start({"--config", dir.path() + "/berth.yaml"}));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/from-file.sock"));
  EXPECT_NE(berthd.ReadLog().find("rpc=/runtime.v1.RuntimeService/Version"), std::string::npos);
}

TEST(DaemonTest, EveryRpcIsLoggedWithItsDurationAtDebug) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  ::runtime::v1::CheckpointContainerResponse checkpoint;
  (void)berthd.runtime().CheckpointContainer(CallContext().get(), {}, &checkpoint);
  ASSERT_EQ(berthd.Stop(), 0);
  std::string log = berthd.ReadLog();
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(rpc=/runtime\.v1\.RuntimeService/Version code=OK duration_ms=[0-9.]+)")))
      << log;
  EXPECT_TRUE(std::regex_search(
      log,
      std::regex(R"(rpc=/runtime\.v1\.RuntimeService/CheckpointContainer code=12 duration_ms=)")))
      << log;
}

TEST(DaemonTest, VersionFlagAndHelp) {
  auto version = RunCommand({BerthdBinary(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output.rfind("berthd 0.1.0", 0), 0u) << version.output;
  auto help = RunCommand({BerthdBinary(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--config", "--root", "--state", "--listen", "--log-level", "--version"}) {
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace berth::testing
