#include "gtest/gtest.h"
#include "pod/sandbox.h"
#include "pod/sandbox_files.h"
#include "pod/sysctls.h"
#include "runtime/cgroups.h"

namespace berth::pod {
namespace {

TEST(SandboxFilesTest, HostsAndResolvConf) {
  std::string hosts = HostsFile("web-0", {"10.88.0.5", "fd00::5"});
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost\n"), std::string::npos);
  EXPECT_NE(hosts.find("10.88.0.5\tweb-0\n"), std::string::npos);
  EXPECT_NE(hosts.find("fd00::5\tweb-0\n"), std::string::npos);
  EXPECT_EQ(HostnameFile("web-0"), "web-0\n");
  DnsConfig dns{{"10.96.0.10", "fd00::a"}, {"ns.svc.cluster.local", "cluster.local"}, {"ndots:5"}};
  EXPECT_EQ(ResolvConf(dns),
            "search ns.svc.cluster.local cluster.local\nnameserver 10.96.0.10\n"
            "nameserver fd00::a\noptions ndots:5\n");
  EXPECT_EQ(ResolvConf({}), "");
  EXPECT_TRUE(ValidateDns(dns).ok());
  EXPECT_FALSE(ValidateDns({{"not-an-ip"}, {}, {}}).ok());
  EXPECT_FALSE(ValidateDns({{}, {"a b"}, {}}).ok());
  EXPECT_FALSE(ValidateDns({{}, {}, {"x\nnameserver 1.2.3.4"}}).ok());
}

TEST(SysctlsTest, OnlyNamespacedOnesAreAllowed) {
  EXPECT_EQ(*ClassifySysctl("net.ipv4.ip_forward"), SysctlNamespace::kNet);
  EXPECT_EQ(*ClassifySysctl("net/ipv4/ip_forward"), SysctlNamespace::kNet);
  EXPECT_EQ(*ClassifySysctl("kernel.shm_rmid_forced"), SysctlNamespace::kIpc);
  EXPECT_EQ(*ClassifySysctl("fs.mqueue.msg_max"), SysctlNamespace::kIpc);
  EXPECT_EQ(*ClassifySysctl("kernel.hostname"), SysctlNamespace::kUts);
  auto panic = ClassifySysctl("kernel.panic");
  ASSERT_FALSE(panic.ok());
  EXPECT_NE(panic.error().message().find("not namespaced"), std::string::npos);
  EXPECT_FALSE(ClassifySysctl("vm.swappiness").ok());
  EXPECT_FALSE(ClassifySysctl("../../etc/passwd").ok());
  EXPECT_FALSE(ClassifySysctl("").ok());
  EXPECT_FALSE(ValidateSysctls({{"net.ipv4.ip_forward", "1"}}, /*own_network=*/false, true).ok());
  EXPECT_FALSE(ValidateSysctls({{"kernel.shm_rmid_forced", "1"}}, true, /*own_ipc=*/false).ok());
  EXPECT_TRUE(ValidateSysctls({{"net.ipv4.ip_forward", "1"}}, true, true).ok());
}

TEST(CgroupPathTest, SlicesBecomePathsAndPathsStay) {
  EXPECT_EQ(*runtime::CgroupParentToPath(""), "");
  EXPECT_EQ(*runtime::CgroupParentToPath("/kubepods/burstable/pod1"), "/kubepods/burstable/pod1");
  EXPECT_EQ(*runtime::CgroupParentToPath("/test.slice"), "/test.slice");
  EXPECT_EQ(*runtime::CgroupParentToPath("kubepods-burstable-pod1.slice"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice");
  EXPECT_EQ(*runtime::CgroupParentToPath("machine.slice"), "/machine.slice");
  EXPECT_FALSE(runtime::CgroupParentToPath("/a/../../etc").ok());
  EXPECT_FALSE(runtime::CgroupParentToPath("relative/path").ok());
  EXPECT_FALSE(runtime::CgroupParentToPath("a--b.slice").ok());
}

// config.json's linux.cgroupsPath: a cgroupfs path as it is, a systemd scope in runc's
// "<slice>:<prefix>:<name>" form, and back.
TEST(CgroupPathTest, OciCgroupsPathRoundTrips) {
  EXPECT_EQ(runtime::OciCgroupsPath("/berth/abc"), "/berth/abc");
  EXPECT_EQ(runtime::OciCgroupsPath("/kubepods.slice/kubepods-pod1.slice/berth-abc.scope"),
            "kubepods-pod1.slice:berth:abc");
  EXPECT_EQ(runtime::OciCgroupsPath("/berth.slice/berth-abc.scope"), "berth.slice:berth:abc");
  auto path = runtime::ParseOciCgroupsPath("/berth/abc");
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->path, "/berth/abc");
  EXPECT_FALSE(path->systemd_managed);
  auto scope = runtime::ParseOciCgroupsPath("kubepods-pod1.slice:berth:abc");
  ASSERT_TRUE(scope.ok());
  EXPECT_EQ(scope->path, "/kubepods.slice/kubepods-pod1.slice/berth-abc.scope");
  EXPECT_TRUE(scope->systemd_managed);
  EXPECT_EQ(runtime::ParseOciCgroupsPath(":berth:abc")->path, "/system.slice/berth-abc.scope");
  EXPECT_FALSE(runtime::ParseOciCgroupsPath("/a/../b").ok());
  EXPECT_FALSE(runtime::ParseOciCgroupsPath("a.slice:berth").ok());
  EXPECT_FALSE(runtime::ParseOciCgroupsPath("a.slice:berth:x/y").ok());
  EXPECT_FALSE(runtime::ParseOciCgroupsPath("a.slice::abc").ok());
}

TEST(SandboxJsonTest, RoundTrips) {
  Sandbox sandbox;
  sandbox.id = std::string(64, 'a');
  sandbox.state = SandboxState::kReady;
  sandbox.created_at_nanos = 123;
  sandbox.ips = {"10.88.0.2"};
  sandbox.dir = "/run/berth/pods/x";
  sandbox.init_pid = 42;
  sandbox.init_start_time = 99;
  sandbox.config.name = "web";
  sandbox.config.namespace_name = "default";
  sandbox.config.uid = "u";
  sandbox.config.attempt = 2;
  sandbox.config.port_mappings = {{"udp", 53, 5353, "127.0.0.1"}};
  sandbox.config.labels = {{"a", "b"}};
  sandbox.config.pid_mode = NamespaceMode::kPod;
  sandbox.config.network_mode = NamespaceMode::kNode;
  auto parsed = SandboxFromJson(SandboxToJson(sandbox));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(SandboxToJson(*parsed), SandboxToJson(sandbox));
  EXPECT_EQ(parsed->config.port_mappings[0].host_port, 5353);
  EXPECT_FALSE(parsed->HasOwnNetwork());
  EXPECT_FALSE(SandboxFromJson("[]").ok());
}

}  // namespace
}  // namespace berth::pod
