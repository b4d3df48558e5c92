// Mount targets that are dangling symlinks in the image, through a real berthd: the pod's
// /etc/resolv.conf, /etc/hosts and /etc/hostname and CRI bind mounts are placed where the link
// leads inside the rootfs (its missing target created there, as runc does with securejoin), and
// nothing is ever created outside the rootfs.
#include <filesystem>
#include <fstream>

#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

// Where the fixture image's links point; none may appear on the host.
const char* const kHostPathsThatMustNotAppear[] = {
    "/run/berth-fixture-missing", "/var/berth-fixture-missing", "/tmp/berth-fixture-missing"};

class DanglingSymlinkTest : public ContainerFixture {
 protected:
  void SetUp() override {
    for (const char* path : kHostPathsThatMustNotAppear) {
      ASSERT_FALSE(std::filesystem::exists(path)) << path << " exists before the test";
    }
    pod_dns_.add_servers("192.0.2.53");
    pod_dns_.add_searches("dangling.berth.test");
    pod_dns_.add_options("ndots:3");
    ContainerFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    Import("dangling-etc");
  }
  void TearDown() override {
    ContainerFixture::TearDown();
    for (const char* path : kHostPathsThatMustNotAppear) {
      EXPECT_FALSE(std::filesystem::exists(path)) << path << " was created on the host";
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  }
  std::string Cat(const std::string& id, const std::string& path) {
    ::runtime::v1::ExecSyncRequest request;
    request.set_container_id(id);
    for (const char* part : {"/bin/busybox", "cat"}) request.add_cmd(part);
    request.add_cmd(path);
    request.set_timeout(20);
    ::runtime::v1::ExecSyncResponse response;
    auto status = berthd_.runtime().ExecSync(CallContext(60).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.exit_code(), 0) << path << ": " << response.stderr();
    return response.stdout();
  }
};

TEST_F(DanglingSymlinkTest, PodFilesAndBindMountsFollowTheLinksInsideTheRootfs) {
  TempDir host("berth-dangling-src");
  std::ofstream(host.path() + "/f") << "from the host\n";
  auto config = Config("dangling", "test/dangling-etc:1", {"/bin/busybox", "sleep", "1000"});
  for (const char* path : {"/srv/data/sub", "/mnt/escape/inner"}) {
    auto* mount = config.add_mounts();
    mount->set_host_path(host.path());
    mount->set_container_path(path);
  }
  std::string id = Run(config);
  ASSERT_FALSE(HasFailure());

  std::string resolv = Cat(id, "/etc/resolv.conf");
  EXPECT_NE(resolv.find("nameserver 192.0.2.53"), std::string::npos) << resolv;
  EXPECT_NE(resolv.find("search dangling.berth.test"), std::string::npos) << resolv;
  EXPECT_NE(resolv.find("options ndots:3"), std::string::npos) << resolv;
  EXPECT_NE(Cat(id, "/etc/hosts").find("localhost"), std::string::npos);
  EXPECT_EQ(Cat(id, "/etc/hostname"), "ctr-pod\n");
  EXPECT_EQ(Cat(id, "/srv/data/sub/f"), "from the host\n");
  EXPECT_EQ(Cat(id, "/mnt/escape/inner/f"), "from the host\n");

  // The links' targets were made in the container's own writable layer.
  std::string upper = berthd_.root() + "/snapshots/active/" + id + "/upper";
  for (const char* made :
       {"/run/systemd/resolve/stub-resolv.conf", "/run/berth-fixture-missing/hosts",
        "/run/berth-fixture-missing/hostname", "/var/berth-fixture-missing/data/sub",
        "/tmp/berth-fixture-missing/escape/inner"}) {
    EXPECT_TRUE(std::filesystem::exists(upper + made)) << made;
  }
}

}  // namespace
}  // namespace berth::testing
