// Golden config.json tests for the spec builder: a fixed container and pod per case, the whole
// spec compared with pod/testdata/spec_<case>.json. Paths under the test's temporary directory
// become "@TMP@", the seccomp filter is summarised (its size depends on libseccomp's syscall
// table, not on berth), and so is a privileged container's list of the host's devices.
// BERTH_UPDATE_GOLDEN=1 rewrites the files from what the builder makes.
#include "pod/container_spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gtest/gtest.h"
#include "security/apparmor.h"

namespace berth::pod {
namespace {

using Json = nlohmann::json;

class ContainerSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-spec-XXXXXX";
    tmp_ = ::mkdtemp(pattern);
    container_.id = std::string(64, 'c');
    container_.sandbox_id = std::string(64, 'p');
    container_.bundle_dir = tmp_ + "/bundle";
    container_.cgroup_path = "/berth/" + container_.id;
    container_.config.name = "web";
    container_.config.image = "test/busybox:1";
    std::filesystem::create_directories(container_.RootfsPath() + "/etc");
    std::ofstream(container_.RootfsPath() + "/etc/passwd")
        << "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/home/web:/bin/sh\n";
    std::ofstream(container_.RootfsPath() + "/etc/group")
        << "root:x:0:\nweb:x:1000:\nextra:x:50000:web\n";
    sandbox_.id = container_.sandbox_id;
    sandbox_.dir = tmp_ + "/pod";
    sandbox_.config.hostname = "web-pod";
    image_.entrypoint = {"/bin/sh"};
    image_.cmd = {"-c", "sleep 1"};
    image_.env = {"PATH=/usr/bin:/bin"};
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }

  // The spec as the golden files keep it.
  Json Normalized(const OciSpec& spec) {
    std::string text = spec.json;
    for (size_t at; (at = text.find(tmp_)) != std::string::npos;)
      text.replace(at, tmp_.size(), "@TMP@");
    Json json = Json::parse(text);
    if (container_.config.security.privileged) {
      const Json& devices = json["linux"]["devices"];
      bool has_null = std::any_of(devices.begin(), devices.end(),
                                  [](const Json& d) { return d.value("path", "") == "/dev/null"; });
      json["linux"]["devices"] = {{"host devices", devices.size() > 1 && has_null}};
    }
    if (json["linux"].contains("seccomp")) {
      const Json& seccomp = json["linux"]["seccomp"];
      json["linux"]["seccomp"] = {{"defaultAction", seccomp.value("defaultAction", "")},
                                  {"rules", seccomp.value("syscalls", Json::array()).size() > 0}};
    }
    return json;
  }

  void ExpectGolden(const std::string& name) {
    auto spec = BuildOciSpec(container_, sandbox_, image_);
    ASSERT_TRUE(spec.ok()) << spec.error().message();
    Json actual = Normalized(*spec);
    std::string path = std::string(BERTH_SOURCE_DIR) + "/pod/testdata/spec_" + name + ".json";
    if (std::getenv("BERTH_UPDATE_GOLDEN") != nullptr) {
      std::ofstream(path) << actual.dump(2) << "\n";
      return;
    }
    std::ifstream file(path);
    ASSERT_TRUE(file) << path << " is missing; run with BERTH_UPDATE_GOLDEN=1 to write it";
    Json golden = Json::parse(file);
    EXPECT_EQ(actual, golden) << "diff: " << Json::diff(golden, actual).dump(1);
  }

  std::string tmp_;
  Container container_;
  Sandbox sandbox_;
  image::ImageConfig image_;
};

TEST_F(ContainerSpecTest, Default) {
  ExpectGolden("default");
}

TEST_F(ContainerSpecTest, SecurityContext) {
  auto& security = container_.config.security;
  security.run_as_user = 1000;
  security.run_as_group = 2000;
  security.supplemental_groups = {3000};
  security.readonly_rootfs = true;
  security.no_new_privs = true;
  security.add_capabilities = {"NET_ADMIN"};
  security.drop_capabilities = {"CHOWN", "CAP_KILL"};
  security.seccomp = {SecurityProfile::Type::kRuntimeDefault, ""};
  security.masked_paths = {"/proc/kcore"};
  security.readonly_paths = {"/proc/sys"};
  container_.config.envs = {{"GREETING", "hello"}, {"PATH", "/custom"}};
  container_.config.working_dir = "/tmp";
  container_.config.resources.oom_score_adj = 500;
  ExpectGolden("security_context");
}

TEST_F(ContainerSpecTest, ImageUserWithMergedGroups) {
  image_.user = "web";
  ExpectGolden("image_user");
}

TEST_F(ContainerSpecTest, Privileged) {
  sandbox_.config.privileged = true;
  container_.config.security.privileged = true;
  container_.config.security.seccomp = {SecurityProfile::Type::kRuntimeDefault, ""};
  ExpectGolden("privileged");
}

TEST_F(ContainerSpecTest, UserNamespacePod) {
  sandbox_.config.uid_mappings = {{0, 100000, 65536}};
  sandbox_.config.gid_mappings = {{0, 100000, 65536}};
  sandbox_.config.pid_mode = NamespaceMode::kPod;
  sandbox_.init_pid = 4242;
  ExpectGolden("user_namespace");
}

TEST_F(ContainerSpecTest, HostNamespacesAndDevices) {
  sandbox_.config.network_mode = NamespaceMode::kNode;
  sandbox_.config.ipc_mode = NamespaceMode::kNode;
  sandbox_.config.pid_mode = NamespaceMode::kNode;
  container_.config.devices = {{"/dev/mynull", "/dev/null", "rw"}};
  container_.config.tty = true;
  ExpectGolden("host_namespaces_devices");
}

TEST_F(ContainerSpecTest, PrivilegedContainerNeedsAPrivilegedPod) {
  container_.config.security.privileged = true;
  auto spec = BuildOciSpec(container_, sandbox_, image_);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace berth::pod
