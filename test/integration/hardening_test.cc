// Hostile image content and CRI input, through berthd's socket (the hardening issue): ids that
// truncate to root, a log path that leaves the log directory, a FIFO as /etc/passwd, a stop
// signal that is no number, env values that are not text, creates refused late, control
// characters in names. Each is answered with InvalidArgument, quickly, leaving nothing behind.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

bool EmptyOrMissing(const std::string& dir) {
  std::error_code error;
  return !std::filesystem::exists(dir, error) || std::filesystem::is_empty(dir, error);
}

class HardeningTest : public ContainerFixture {
 protected:
  static void SetUpTestSuite() {
    ContainerFixture::SetUpTestSuite();
    static TempDir dir("berth-hostile-config");
    auto built =
        RunCommand({"/usr/bin/python3", std::string(BERTH_SOURCE_DIR) + "/test/fixtures/hostile.py",
                    "build-config", dir.path()});
    ASSERT_EQ(built.exit_code, 0) << built.output;
    hostile_ = nlohmann::json::parse(std::ifstream(dir.path() + "/hostile-config.json"));
  }

  // Imports hostile case `name` as "hostile/<name>:1".
  std::string ImportHostile(const std::string& name) {
    std::string image = "hostile/" + name + ":1";
    auto run = RunCommand({BerthctlBinary(), "-r", berthd_.endpoint(), "import",
                           hostile_[name]["layout"].get<std::string>(), "--name", image});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return image;
  }

  std::set<std::string> ContainerCgroups() {
    std::set<std::string> names;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator("/sys/fs/cgroup/memory/berth", error)) {
      if (entry.is_directory()) names.insert(entry.path().filename().string());
    }
    return names;
  }

  void ExpectRefused(const ContainerConfig& config, const std::string& why) {
    std::string id;
    auto status = Create(config, &id);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << why << ": " << status.error_message();
    EXPECT_TRUE(EmptyOrMissing(berthd_.root() + "/containers")) << why;
  }

  static inline nlohmann::json hostile_;
};

TEST_F(HardeningTest, IdsOutsideTheLinuxRangeNeverBecomeRoot) {
  std::string image = ImportHostile("user-overflow");
  ::runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(image);
  ::runtime::v1::ImageStatusResponse response;
  ASSERT_TRUE(berthd_.images().ImageStatus(CallContext().get(), request, &response).ok());
  // Not a uid kubelet could check against runAsNonRoot: reported as a name it cannot verify.
  EXPECT_FALSE(response.image().has_uid());
  EXPECT_EQ(response.image().username(), "4294967296");
  for (const char* name :
       {"user-overflow", "user-minus-one", "passwd-overflow", "group-overflow"}) {
    ExpectRefused(Config("c", ImportHostile(name), {}), name);
  }
}

TEST_F(HardeningTest, LogPathStaysInsideTheLogDirectory) {
  TempDir outside("berth-log-escape");
  std::filesystem::create_directory_symlink(outside.path(), logs_.path() + "/evil");
  std::filesystem::create_symlink(outside.path() + "/file", logs_.path() + "/link.log");
  const std::vector<std::string> escapes = {"../../../../../../" + outside.path() + "/x.log",
                                            outside.path() + "/x.log",
                                            "evil/x.log",
                                            "link.log",
                                            "a/../../x.log",
                                            "bad\nname.log"};
  for (const auto& path : escapes) {
    auto config = Config("c", "test/busybox:1", {"true"});
    config.set_log_path(path);
    ExpectRefused(config, path);
  }
  EXPECT_TRUE(std::filesystem::is_empty(outside.path()));
  // Inside is fine, also through new subdirectories.
  auto config = Config("c", "test/busybox:1", {"echo", "inside"});
  config.set_log_path("c/0.log");
  std::string id = Run(config);
  EXPECT_EQ(WaitExited(id).exit_code(), 0);
  EXPECT_EQ(LogLines(logs_.path() + "/c/0.log", "stdout"), std::vector<std::string>{"inside"});
}

TEST_F(HardeningTest, AFifoAsPasswdIsRefusedWithoutBlocking) {
  // The call's own deadline (10 s) would turn a hang into DEADLINE_EXCEEDED.
  ExpectRefused(Config("c", ImportHostile("fifo-passwd"), {}), "fifo-passwd");
}

TEST_F(HardeningTest, AStopSignalThatNamesNoSignalIsRefusedAtCreate) {
  ExpectRefused(Config("c", ImportHostile("stopsignal-overflow"), {}), "99999999999");
  ExpectRefused(Config("c", ImportHostile("stopsignal-name"), {}), "SIGNOPE");
}

TEST_F(HardeningTest, EnvValuesMustBeTextWithoutNul) {
  for (const auto& value : std::vector<std::string>{"\xff\xfe", std::string("a\0b", 3)}) {
    auto config = Config("c", "test/busybox:1", {"true"});
    auto* env = config.add_envs();
    env->set_key("BAD");
    env->set_value(value);
    ExpectRefused(config, "env value");
  }
  auto config = Config("c", "test/busybox:1", {"true"});
  config.add_envs()->set_key("A=B");
  ExpectRefused(config, "env name with '='");
}

TEST_F(HardeningTest, ACreateRefusedByTheLauncherLeavesNoCgroup) {
  auto before = ContainerCgroups();
  auto config = Config("c", "test/busybox:1", {"true"});
  config.set_working_dir("relative/dir");  // refused when the monitor validates the bundle
  std::string id;
  auto status = Create(config, &id);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(ContainerCgroups(), before);
  EXPECT_TRUE(EmptyOrMissing(berthd_.root() + "/containers"));
}

TEST_F(HardeningTest, ControlCharactersInNamesAreRefusedAndNeverForgeLogLines) {
  const std::string forged = "x\nlevel=error msg=forged";
  for (int field = 0; field < 4; ++field) {
    ::runtime::v1::RunPodSandboxRequest request;
    auto* metadata = request.mutable_config()->mutable_metadata();
    metadata->set_name(field == 0 ? forged : "p");
    metadata->set_namespace_(field == 1 ? forged : "default");
    metadata->set_uid(field == 2 ? forged : "uid");
    request.mutable_config()->set_hostname(field == 3 ? "host\n10.0.0.1 evil" : "host");
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
  }
  ExpectRefused(Config(forged, "test/busybox:1", {"true"}), "container name");
  std::istringstream log(berthd_.ReadLog());
  for (std::string line; std::getline(log, line);) {
    EXPECT_NE(line.rfind("level=error msg=forged", 0), 0u) << line;
  }
}

}  // namespace
}  // namespace berth::testing
