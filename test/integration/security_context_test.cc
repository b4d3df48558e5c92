// Security contexts (capabilities, privileged, users, read-only rootfs, no_new_privs, masked
// paths, seccomp, AppArmor, sysctls), each checked from inside a real container of a real pod.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

// CapEff of containerd's (and Docker's) default set.
constexpr char kDefaultCaps[] = "00000000a80425fb";

class SecurityContextTest : public ContainerFixture {
 protected:
  // Runs `script` in a container with `edit` applied to its security context; its stdout lines.
  std::vector<std::string> Output(
      const std::string& name, const std::string& script,
      const std::function<void(::runtime::v1::LinuxContainerSecurityContext&)>& edit = {},
      const std::string& image = "test/busybox:1") {
    auto config = Config(name, image, {"/bin/sh", "-c", script});
    if (edit) edit(*config.mutable_linux()->mutable_security_context());
    std::string id = Run(config);
    auto status = WaitExited(id);
    EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED) << name;
    last_status_ = status;
    return LogLines(logs_.path() + "/" + name + ".log", "stdout");
  }
  // The value of a "Key:\tvalue" line of /proc/self/status inside a container.
  std::string ProcStatus(
      const std::string& name, const std::string& key,
      const std::function<void(::runtime::v1::LinuxContainerSecurityContext&)>& edit = {}) {
    auto lines = Output(name, "grep '^" + key + ":' /proc/self/status | cut -f2", edit);
    return lines.empty() ? "" : lines[0];
  }
  grpc::Status CreateOnly(
      const std::string& name,
      const std::function<void(::runtime::v1::LinuxContainerSecurityContext&)>& edit) {
    auto config = Config(name, "test/busybox:1", {"/bin/true"});
    edit(*config.mutable_linux()->mutable_security_context());
    std::string id;
    return Create(config, &id);
  }
  ::runtime::v1::ContainerStatus last_status_;
};

TEST_F(SecurityContextTest, CapabilitiesDefaultAddDropAndAll) {
  EXPECT_EQ(ProcStatus("default", "CapEff"), kDefaultCaps);
  EXPECT_EQ(ProcStatus("default-bnd", "CapBnd"), kDefaultCaps);
  // NET_ADMIN is bit 12; "CAP_" prefix and any case are accepted.
  EXPECT_EQ(
      ProcStatus("add", "CapEff",
                 [](auto& sc) { sc.mutable_capabilities()->add_add_capabilities("net_admin"); }),
      "00000000a80435fb");
  // Dropping CHOWN (bit 0) and NET_RAW (bit 13).
  EXPECT_EQ(ProcStatus("drop", "CapEff",
                       [](auto& sc) {
                         sc.mutable_capabilities()->add_drop_capabilities("CHOWN");
                         sc.mutable_capabilities()->add_drop_capabilities("CAP_NET_RAW");
                       }),
            "00000000a80405fa");
  EXPECT_EQ(ProcStatus("drop-all", "CapEff",
                       [](auto& sc) { sc.mutable_capabilities()->add_drop_capabilities("ALL"); }),
            "0000000000000000");
  // ALL: every capability this host's root has (it may lack some, e.g. SYS_RESOURCE).
  std::string all = ProcStatus("add-all", "CapBnd", [](auto& sc) {
    sc.mutable_capabilities()->add_add_capabilities("ALL");
  });
  uint64_t mask = std::stoull(all, nullptr, 16);
  EXPECT_TRUE(mask & (1ULL << 21)) << all;  // SYS_ADMIN
  EXPECT_TRUE(mask & (1ULL << 12)) << all;  // NET_ADMIN
  // An ambient capability is effective even for a non-root user.
  EXPECT_EQ(
      ProcStatus("ambient", "CapAmb",
                 [](auto& sc) {
                   sc.mutable_run_as_user()->set_value(1000);
                   sc.mutable_capabilities()->add_add_ambient_capabilities("NET_BIND_SERVICE");
                 }),
      "0000000000000400");
  // An unknown name is refused at create.
  auto bad = CreateOnly(
      "bad-cap", [](auto& sc) { sc.mutable_capabilities()->add_add_capabilities("NOT_A_CAP"); });
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("NOT_A_CAP"), std::string::npos) << bad.error_message();
}

TEST_F(SecurityContextTest, UsersGroupsAndPolicies) {
  auto ids = Output("ids", "id -u; id -g; id -G", [](auto& sc) {
    sc.mutable_run_as_user()->set_value(1000);
    sc.mutable_run_as_group()->set_value(3000);
    sc.add_supplemental_groups(4000);
  });
  EXPECT_EQ(ids, (std::vector<std::string>{"1000", "3000", "3000 4000"}));
  auto user = last_status_.user().linux();
  EXPECT_EQ(user.uid(), 1000);
  EXPECT_EQ(user.gid(), 3000);
  // The primary group is among the process's groups, as containerd and CRI-O report them.
  EXPECT_EQ(
      std::vector<int64_t>(user.supplemental_groups().begin(), user.supplemental_groups().end()),
      (std::vector<int64_t>{3000, 4000}));
  // run_as_username from the image's /etc/passwd; Merge adds its /etc/group memberships (3456).
  auto merged = Output(
      "merge", "id -u; id -g; id -G",
      [](auto& sc) {
        sc.set_run_as_username("appuser");
        sc.add_supplemental_groups(5000);
      },
      "test/user:1");
  EXPECT_EQ(merged, (std::vector<std::string>{"1234", "2345", "2345 3456 5000"}));
  auto strict = Output(
      "strict", "id -G",
      [](auto& sc) {
        sc.set_run_as_username("appuser");
        sc.add_supplemental_groups(5000);
        sc.set_supplemental_groups_policy(::runtime::v1::Strict);
      },
      "test/user:1");
  EXPECT_EQ(strict, (std::vector<std::string>{"2345 5000"}));
  // Bad combinations are refused.
  EXPECT_EQ(CreateOnly("both",
                       [](auto& sc) {
                         sc.mutable_run_as_user()->set_value(1);
                         sc.set_run_as_username("root");
                       })
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateOnly("group-only", [](auto& sc) { sc.mutable_run_as_group()->set_value(1); })
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CreateOnly("no-such-user", [](auto& sc) { sc.set_run_as_username("nobody-here"); })
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(SecurityContextTest, ReadonlyRootfsNoNewPrivsAndMaskedPaths) {
  TempDir volume("berth-sc-volume");
  auto config = Config("ro", "test/busybox:1",
                       {"/bin/sh", "-c",
                        "touch /rootfile 2>/dev/null && echo rootfs-writable; "
                        "touch /data/f && echo volume-writable; "
                        "grep '^NoNewPrivs:' /proc/self/status | cut -f2; "
                        "cat /proc/timer_list 2>/dev/null | wc -c; "
                        "echo x > /proc/sys/kernel/hostname 2>/dev/null || echo sys-readonly; "
                        // Its own cgroup: v1's memory controller, or on v2 the
                        // container's cgroup directory at /sys/fs/cgroup.
                        "test -r /sys/fs/cgroup/memory/memory.limit_in_bytes -o "
                        "-r /sys/fs/cgroup/memory.max && echo cgroup-visible; "
                        "if test -d /sys/fs/cgroup/memory; then "
                        "f=/sys/fs/cgroup/memory/memory.swappiness; v=0; else "
                        "f=/sys/fs/cgroup/pids.max; v=max; fi; "
                        "echo $v > $f 2>/dev/null || echo cgroup-readonly"});
  auto* security = config.mutable_linux()->mutable_security_context();
  security->set_readonly_rootfs(true);
  security->set_no_new_privs(true);
  auto* mount = config.add_mounts();
  mount->set_host_path(volume.path());
  mount->set_container_path("/data");
  std::string id = Run(config);
  WaitExited(id);
  EXPECT_EQ(LogLines(logs_.path() + "/ro.log", "stdout"),
            (std::vector<std::string>{"volume-writable", "1", "0", "sys-readonly", "cgroup-visible",
                                      "cgroup-readonly"}));
  EXPECT_TRUE(std::filesystem::exists(volume.path() + "/f"));
  // Masked paths given by kubelet replace the defaults (so /proc/timer_list is readable then).
  auto masked =
      Output("masked", "cat /etc/hostname | wc -c; cat /proc/timer_list 2>/dev/null | wc -c",
             [](auto& sc) {
               sc.add_masked_paths("/etc/hostname");
               sc.add_readonly_paths("/proc/sys");
             });
  ASSERT_EQ(masked.size(), 2u);
  EXPECT_EQ(masked[0], "0");
  EXPECT_NE(masked[1], "0");
}

TEST_F(SecurityContextTest, SeccompRuntimeDefaultLocalhostAndUnconfined) {
  auto runtime_default = [](auto& sc) {
    sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
  };
  auto lines = Output("seccomp-default",
                      "grep '^Seccomp:' /proc/self/status | cut -f2; "
                      "/bin/busybox unshare -n /bin/busybox true 2>/dev/null && echo unshare-ok || "
                      "echo unshare-denied",
                      runtime_default);
  EXPECT_EQ(lines, (std::vector<std::string>{"2", "unshare-denied"}));
  // Even with SYS_ADMIN granted unshare is then allowed by the profile (its capability rule).
  auto with_admin = Output("seccomp-admin",
                           "/bin/busybox unshare -n /bin/busybox true 2>/dev/null && echo "
                           "unshare-ok || echo unshare-denied",
                           [&](auto& sc) {
                             runtime_default(sc);
                             sc.mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
                           });
  EXPECT_EQ(with_admin, std::vector<std::string>{"unshare-ok"});
  // A Localhost profile (OCI form) that denies mkdir.
  TempDir profiles("berth-sc-seccomp");
  std::string profile = profiles.path() + "/deny-mkdir.json";
  std::ofstream(profile)
      << R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]})";
  auto denied =
      Output("seccomp-local", "/bin/busybox mkdir /tmp/x 2>/dev/null && echo made || echo denied",
             [&](auto& sc) {
               sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
               sc.mutable_seccomp()->set_localhost_ref(profile);
             });
  EXPECT_EQ(denied, std::vector<std::string>{"denied"});
  auto unconfined =
      Output("seccomp-none",
             "grep '^Seccomp:' /proc/self/status | cut -f2; /bin/busybox mkdir /tmp/x && echo made",
             [](auto& sc) {
               sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Unconfined);
             });
  EXPECT_EQ(unconfined, (std::vector<std::string>{"0", "made"}));
  // A missing or broken profile is a clear error at create.
  auto missing = CreateOnly("seccomp-missing", [&](auto& sc) {
    sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
    sc.mutable_seccomp()->set_localhost_ref(profiles.path() + "/nope.json");
  });
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();
  std::ofstream(profiles.path() + "/broken.json") << R"({"defaultAction":"SCMP_ACT_BOGUS"})";
  auto broken = CreateOnly("seccomp-broken", [&](auto& sc) {
    sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::Localhost);
    sc.mutable_seccomp()->set_localhost_ref(profiles.path() + "/broken.json");
  });
  EXPECT_EQ(broken.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << broken.error_message();
  EXPECT_NE(broken.error_message().find("defaultAction"), std::string::npos)
      << broken.error_message();
}

TEST_F(SecurityContextTest, AppArmorRequestedWithoutAppArmorIsAClearError) {
  if (std::ifstream("/sys/module/apparmor/parameters/enabled").good())
    GTEST_SKIP() << "AppArmor is enabled here";
  auto requested = CreateOnly("apparmor", [](auto& sc) {
    sc.mutable_apparmor()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
  });
  EXPECT_EQ(requested.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(requested.error_message().find("apparmor is not supported"), std::string::npos)
      << requested.error_message();
  // Unconfined (and unset) work.
  auto lines = Output("apparmor-off", "echo ran", [](auto& sc) {
    sc.mutable_apparmor()->set_profile_type(::runtime::v1::SecurityProfile::Unconfined);
  });
  EXPECT_EQ(lines, std::vector<std::string>{"ran"});
}

TEST_F(SecurityContextTest, PrivilegedNeedsAPrivilegedPod) {
  auto refused = CreateOnly("priv", [](auto& sc) { sc.set_privileged(true); });
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  // A default container cannot create a network device in the pod's namespace.
  auto lines = Output("no-netadmin",
                      "ip link add bt-br0 type bridge 2>/dev/null && echo created || echo refused");
  EXPECT_EQ(lines, std::vector<std::string>{"refused"});
}

class PrivilegedPodTest : public SecurityContextTest {
 protected:
  PrivilegedPodTest() {
    privileged_pod_ = true;
    pod_sysctls_ = {{"net.ipv4.ip_unprivileged_port_start", "80"}};
  }
};

TEST_F(PrivilegedPodTest, PrivilegedContainerHasEverything) {
  auto lines = Output(
      "priv",
      "grep '^CapEff:' /proc/self/status | cut -f2; grep '^Seccomp:' /proc/self/status | cut -f2; "
      "ip link add bt-br0 type bridge && echo created; "
      "test -c /dev/kmsg && echo host-devices; "
      "test $(cat /proc/timer_list | wc -c) -gt 0 && echo unmasked; "
      "cat /proc/sys/net/ipv4/ip_unprivileged_port_start; "
      // A file of its own cgroup: v1's memory controller, or on v2 pids.max
      // (the container's cgroup directory is mounted at /sys/fs/cgroup).
      "if test -e /sys/fs/cgroup/memory/memory.swappiness; then "
      "f=/sys/fs/cgroup/memory/memory.swappiness; v=0; else "
      "f=/sys/fs/cgroup/pids.max; v=max; fi; "
      "echo $v > $f && echo cgroup-writable",
      [](auto& sc) {
        sc.set_privileged(true);
        sc.mutable_seccomp()->set_profile_type(::runtime::v1::SecurityProfile::RuntimeDefault);
      });
  ASSERT_EQ(lines.size(), 7u) << ::testing::PrintToString(lines);
  uint64_t caps = std::stoull(lines[0], nullptr, 16);
  EXPECT_TRUE(caps & (1ULL << 21)) << lines[0];  // SYS_ADMIN
  EXPECT_EQ(lines[1], "0");                      // seccomp is not applied to privileged
  EXPECT_EQ(lines[2], "created");
  EXPECT_EQ(lines[3], "host-devices");
  EXPECT_EQ(lines[4], "unmasked");
  EXPECT_EQ(lines[5], "80");  // the pod's namespaced sysctl
  EXPECT_EQ(lines[6], "cgroup-writable");
}

class UserNamespacePodTest : public SecurityContextTest {
 protected:
  UserNamespacePodTest() { pod_userns_host_id_ = 231072; }
};

TEST_F(UserNamespacePodTest, RootMapsToTheGivenHostRangeAndFilesLookRight) {
  auto lines = Output("userns",
                      "cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //'; id -u; "
                      "ls -ln /bin/busybox | tr -s ' ' | cut -d' ' -f3,4; "
                      "echo data > /newfile && ls -ln /newfile | tr -s ' ' | cut -d' ' -f3,4; "
                      "ls -ln /dev/shm -d | tr -s ' ' | cut -d' ' -f3; "
                      "ip link add bt-br0 type bridge 2>/dev/null && echo created || echo refused");
  EXPECT_EQ(lines, (std::vector<std::string>{"0 231072 65536", "0", "0 0", "0 0", "0", "refused"}));
  // On the host, the file the container's root wrote belongs to the mapped id.
  struct stat st {};
  std::string upper;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(berthd_.root() + "/snapshots/active")) {
    if (entry.path().filename() == "newfile") upper = entry.path();
  }
  ASSERT_FALSE(upper.empty());
  ASSERT_EQ(::stat(upper.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 231072u);
  // Exec joins the user namespace too.
  auto exec = Config("userns-exec", "test/busybox:1", {"/bin/sleep", "300"});
  std::string id = Run(exec);
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(id);
  request.add_cmd("/bin/sh");
  request.add_cmd("-c");
  request.add_cmd("cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //'");
  request.set_timeout(10);
  ::runtime::v1::ExecSyncResponse response;
  ASSERT_TRUE(berthd_.runtime().ExecSync(CallContext().get(), request, &response).ok());
  EXPECT_EQ(response.stdout(), "0 231072 65536\n");
  // A host directory owned by host root is the pod root's through an idmapped mount.
  TempDir volume("berth-userns-volume");
  std::ofstream(volume.path() + "/owned-by-host-root") << "x";
  auto with_volume = Config("userns-volume", "test/busybox:1",
                            {"/bin/sh", "-c",
                             "ls -ln /data/owned-by-host-root | tr -s ' ' | cut -d' ' -f3; "
                             "echo y > /data/from-container && echo wrote"});
  auto* mount = with_volume.add_mounts();
  mount->set_host_path(volume.path());
  mount->set_container_path("/data");
  std::string volume_user = Run(with_volume);
  WaitExited(volume_user);
  EXPECT_EQ(LogLines(logs_.path() + "/userns-volume.log", "stdout"),
            (std::vector<std::string>{"0", "wrote"}));
  ASSERT_EQ(::stat((volume.path() + "/from-container").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // written as the pod's root: host root through the idmap
  EXPECT_TRUE(Remove(volume_user).ok());
  EXPECT_TRUE(std::filesystem::exists(volume.path() +
                                      "/owned-by-host-root"));  // the volume survives removal
  // A privileged container cannot run in a user namespace.
  EXPECT_EQ(CreateOnly("userns-priv", [](auto& sc) { sc.set_privileged(true); }).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace berth::testing
