// The built-in launcher on the real kernel: create/start of a busybox bundle, precise setup
// errors, mounts resolved inside the rootfs, namespaces, credentials, cgroups, no leaked fds.
#include "runtime/launcher/launcher.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/namespaces.h"
#include "gtest/gtest.h"
#include "runtime/cgroup_device_filter.h"
#include "runtime/cgroups.h"
#include "runtime/pinned_namespaces.h"
#include "test/integration/launcher/bundle_fixture.h"

namespace berth::testing {
namespace {

struct RunResult {
  std::optional<Error> error;  // from create or start
  std::string output;          // stdout and stderr together
  int exit_code = -1;
};

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  return text;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Creates, starts and waits for the bundle's container, with stdout+stderr in one pipe.
RunResult RunBundle(BusyboxBundle& bundle) {
  RunResult result;
  auto spec = oci::LoadBundle(bundle.Write());
  if (!spec.ok()) return {spec.error(), "", -1};
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  auto created =
      runtime::CreateContainer(*spec, runtime::StdioFds{-1, write_end.get(), write_end.get()});
  write_end.reset();
  if (!created.ok()) return {created.error(), ReadAll(read_end.get()), -1};
  auto started = runtime::StartContainer(*created);
  if (!started.ok()) result.error = started.error();
  result.output = ReadAll(read_end.get());
  result.exit_code = WaitExit(created->pid());
  return result;
}

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (run the integration tests as root)";
  }
  void TearDown() override {
    if (::geteuid() == 0) {
      EXPECT_EQ(HostMountsUnder(bundle_.dir()), "") << "mounts left on the host";
    }
  }
  BusyboxBundle bundle_;
};

TEST_F(LauncherTest, EchoRunsAndExitCodesComeBack) {
  bundle_.SetArgs({"echo", "hello"});
  RunResult hello = RunBundle(bundle_);
  ASSERT_FALSE(hello.error) << hello.error->message();
  EXPECT_EQ(hello.output, "hello\n");
  EXPECT_EQ(hello.exit_code, 0);

  bundle_.SetArgs({"sh", "-c", "exit 3"});
  EXPECT_EQ(RunBundle(bundle_).exit_code, 3);
}

TEST_F(LauncherTest, MissingBinaryIsNamedByCreate) {
  bundle_.SetArgs({"/bin/nope"});
  RunResult result = RunBundle(bundle_);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->message(), "exec /bin/nope: No such file or directory");
  EXPECT_EQ(result.error->code(), ErrorCode::kNotFound);

  bundle_.SetArgs({"nope"});
  result = RunBundle(bundle_);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->message(), "exec nope: executable file not found in $PATH");
}

TEST_F(LauncherTest, MissingBindSourceIsNamed) {
  bundle_.spec()["mounts"].push_back({{"destination", "/data"},
                                      {"type", "bind"},
                                      {"source", "/nonexistent-berth"},
                                      {"options", {"rbind", "ro"}}});
  RunResult result = RunBundle(bundle_);
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->message(), "mount /data: host path /nonexistent-berth does not exist");
}

TEST_F(LauncherTest, SymlinkedMountTargetStaysInsideTheRootfs) {
  // /data in the image points at a host directory by absolute path, and /up climbs out with "..".
  std::string outside = bundle_.dir() + "/outside";
  std::filesystem::create_directories(outside);
  std::filesystem::create_symlink(outside, bundle_.rootfs() + "/data");
  std::filesystem::create_symlink("../../../../../../..", bundle_.rootfs() + "/up");
  std::string source = bundle_.dir() + "/volume";
  std::filesystem::create_directories(source);
  std::ofstream(source + "/marker") << "in-volume";
  bundle_.spec()["mounts"].push_back(
      {{"destination", "/data"}, {"type", "bind"}, {"source", source}, {"options", {"rbind"}}});
  bundle_.spec()["mounts"].push_back(
      {{"destination", "/up/tmp/escaped"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
  bundle_.SetArgs({"cat", outside + "/marker"});
  RunResult result = RunBundle(bundle_);
  ASSERT_FALSE(result.error) << result.error->message();
  EXPECT_EQ(result.output, "in-volume");
  // Both targets were created inside the rootfs, never on the host.
  EXPECT_TRUE(std::filesystem::is_directory(bundle_.rootfs() + outside));
  EXPECT_TRUE(std::filesystem::is_directory(bundle_.rootfs() + "/tmp/escaped"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/escaped"));
  EXPECT_TRUE(std::filesystem::is_empty(outside));
}

TEST_F(LauncherTest, NewMountAndPidNamespacesAndAJoinedNetns) {
  TempDir pins("berth-launcher-ns");
  ASSERT_TRUE(runtime::CreatePinnedNamespaces({pins.path() + "/pod", true, false, false, ""}).ok());
  std::string netns = pins.path() + "/pod/net";
  bundle_.spec()["linux"]["namespaces"] = {{{"type", "pid"}},
                                           {{"type", "mount"}},
                                           {{"type", "uts"}},
                                           {{"type", "network"}, {"path", netns}}};
  bundle_.spec()["hostname"] = "box";
  bundle_.SetArgs(
      {"sh", "-c",
       "echo $$; readlink /proc/self/ns/net; readlink /proc/self/ns/mnt; hostname; ls /dev"});
  RunResult result = RunBundle(bundle_);
  ASSERT_FALSE(result.error) << result.error->message();
  std::string host_mnt = std::filesystem::read_symlink("/proc/self/ns/mnt");
  std::string expected_net = "net:[" + std::to_string(InodeOf(netns)) + "]";
  EXPECT_EQ(result.output.substr(0, 2), "1\n") << result.output;
  EXPECT_NE(result.output.find(expected_net), std::string::npos) << result.output;
  EXPECT_EQ(result.output.find(host_mnt), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("box\n"), std::string::npos) << result.output;
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty", "pts", "shm",
                           "mqueue", "ptmx", "stdout"})
    EXPECT_NE(result.output.find(std::string(node) + "\n"), std::string::npos)
        << node << " missing in " << result.output;
  EXPECT_TRUE(runtime::UnpinNamespace(netns).ok());
}

TEST_F(LauncherTest, UserAndGroupsAreApplied) {
  bundle_.spec()["process"]["user"] = {
      {"uid", 1000}, {"gid", 1001}, {"additionalGids", {2000, 2001}}};
  bundle_.spec()["process"]["capabilities"] = {
      {"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}};
  bundle_.spec()["process"]["args"] = {"sh", "-c", "id -u; id -g; id -G; cat /proc/self/status"};
  RunResult result = RunBundle(bundle_);
  ASSERT_FALSE(result.error) << result.error->message();
  EXPECT_EQ(result.output.substr(0, 10), "1000\n1001\n") << result.output;
  EXPECT_NE(result.output.find("2000 2001"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("CapBnd:\t0000000000000020"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("NoNewPrivs:\t1"), std::string::npos) << result.output;
}

TEST_F(LauncherTest, JoinsItsCgroupWhichIsRemovedAfter) {
  std::string cgroup = "/berth-launcher-test-" + std::to_string(::getpid());
  bundle_.spec()["linux"]["cgroupsPath"] = cgroup;
  bundle_.SetArgs({"cat", "/proc/self/cgroup"});
  auto spec = oci::LoadBundle(bundle_.Write());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto created = runtime::CreateContainer(*spec, runtime::StdioFds{});
  ASSERT_TRUE(created.ok()) << created.error().message();
  std::ifstream in("/proc/" + std::to_string(created->pid()) + "/cgroup");
  std::string line;
  int joined = 0;
  while (std::getline(in, line)) joined += line.ends_with(":" + cgroup) ? 1 : 0;
  runtime::Cgroups cgroups = runtime::Cgroups::Probe();
  EXPECT_EQ(joined, static_cast<int>(cgroups.v1().size() + (cgroups.v2().empty() ? 0 : 1)));
  ASSERT_TRUE(runtime::StartContainer(*created).ok());
  EXPECT_EQ(WaitExit(created->pid()), 0);
  EXPECT_TRUE(runtime::RemoveContainerCgroup(*spec).ok());
  EXPECT_FALSE(cgroups.Exists(cgroup));
}

// cgroup v2's device rules, the eBPF program berth generates from the v1 rule list, on a v2
// cgroup of this host (the hybrid layout's unified hierarchy has no controllers, but device
// programs attach to any v2 cgroup): a process inside may make any node and open the allowed
// ones (/dev/zero's numbers), not others (a block device). Skipped without a v2 hierarchy.
TEST_F(LauncherTest, DeviceProgramOnAV2CgroupEnforcesTheRules) {
  runtime::Cgroups cgroups = runtime::Cgroups::Probe();
  if (cgroups.v2().empty()) GTEST_SKIP() << "no cgroup v2 hierarchy";
  std::string cgroup = cgroups.v2() + "/berth-device-test-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(cgroup.c_str(), 0755), 0) << cgroup;
  auto program = runtime::DeviceFilterProgram(runtime::DefaultDeviceRules());
  ASSERT_TRUE(program.ok()) << program.error().message();
  auto attached = runtime::AttachDeviceFilter(cgroup, *program);
  ASSERT_TRUE(attached.ok()) << attached.error().message();
  std::string nodes = std::filesystem::temp_directory_path().string() + "/berth-device-test-" +
                      std::to_string(::getpid());
  ASSERT_EQ(::mkdir(nodes.c_str(), 0700), 0);
  // Made outside: open(2) answers per the program; ENXIO/ENODEV would mean "allowed, no such
  // device".
  ASSERT_EQ(::mknod((nodes + "/zero").c_str(), S_IFCHR | 0600, makedev(1, 5)), 0);
  ASSERT_EQ(::mknod((nodes + "/disk").c_str(), S_IFBLK | 0600, makedev(7, 200)), 0);
  pid_t child = ::fork();
  if (child == 0) {
    int code = 0;
    int procs = ::open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
    if (procs < 0 || ::write(procs, "0", 1) != 1) ::_exit(100);
    int zero = ::open((nodes + "/zero").c_str(), O_RDONLY);
    if (zero < 0) code |= errno == EACCES ? 64 : 1;  // 64: the file system is nodev
    int disk = ::open((nodes + "/disk").c_str(), O_RDONLY);
    if (disk >= 0 || errno != EPERM) code |= 2;
    if (::mknod((nodes + "/made").c_str(), S_IFBLK | 0600, makedev(7, 201)) != 0) code |= 4;
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  std::filesystem::remove_all(nodes);
  ::rmdir(cgroup.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) & 64) GTEST_SKIP() << nodes << " is on a nodev file system";
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "1: /dev/zero's numbers denied, 2: a block device opened, 4: mknod denied, 100: join";
}

TEST_F(LauncherTest, OnlyStdioReachesTheContainer) {
  // A host fd opened without O_CLOEXEC must still not reach the container.
  UniqueFd leak(::open("/etc/hostname", O_RDONLY));
  ASSERT_TRUE(leak.valid());
  bundle_.SetArgs({"/bin/busybox", "sleep", "30"});
  auto spec = oci::LoadBundle(bundle_.Write());
  ASSERT_TRUE(spec.ok());
  auto created = runtime::CreateContainer(*spec, runtime::StdioFds{});
  ASSERT_TRUE(created.ok()) << created.error().message();
  ASSERT_TRUE(runtime::StartContainer(*created).ok());
  std::vector<std::string> fds;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(created->pid()) + "/fd"))
    fds.push_back(entry.path().filename());
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"}));
  ::kill(created->pid(), SIGKILL);
  EXPECT_EQ(WaitExit(created->pid()), 128 + SIGKILL);
}

TEST_F(LauncherTest, DroppingACreatedContainerEndsIt) {
  bundle_.SetArgs({"echo", "never"});
  auto spec = oci::LoadBundle(bundle_.Write());
  ASSERT_TRUE(spec.ok());
  pid_t pid;
  {
    auto created = runtime::CreateContainer(*spec, runtime::StdioFds{});
    ASSERT_TRUE(created.ok()) << created.error().message();
    pid = created->pid();
  }
  EXPECT_EQ(WaitExit(pid), 127);
}

}  // namespace
}  // namespace berth::testing
