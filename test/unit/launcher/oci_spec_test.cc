// config.json parsing: the fields berth uses, and errors that name the field.
#include "runtime/launcher/oci_spec.h"

#include <sys/mount.h>
#include <sys/resource.h>

#include "gtest/gtest.h"

namespace berth::oci {
namespace {

const char* kFull = R"({
  "ociVersion": "1.0.2",
  "process": {
    "args": ["/bin/sh", "-c", "true"], "env": ["PATH=/bin"], "cwd": "/work",
    "user": {"uid": 1000, "gid": 1001, "additionalGids": [5, 6]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}],
    "noNewPrivileges": true, "oomScoreAdj": 100,
    "capabilities": {"bounding": ["CAP_KILL", "CAP_NET_ADMIN"], "effective": ["CAP_KILL"]}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "web",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "vol", "options": ["rbind", "ro", "rslave", "rro"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=65536k"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"},
                   {"type": "network", "path": "/run/berth/ns/p1/net"}],
    "cgroupsPath": "/kubepods/pod1/c1",
    "resources": {"memory": {"limit": 1000000}},
    "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
  }
})";

TEST(OciSpecTest, ParsesTheFieldsBerthUses) {
  auto spec = ParseSpec(kFull, "/b");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->process.args.size(), 3u);
  EXPECT_EQ(spec->process.cwd, "/work");
  EXPECT_EQ(spec->process.uid, 1000u);
  EXPECT_EQ(spec->process.gid, 1001u);
  EXPECT_EQ(spec->process.additional_gids, (std::vector<gid_t>{5, 6}));
  ASSERT_EQ(spec->process.rlimits.size(), 1u);
  EXPECT_EQ(spec->process.rlimits[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ(spec->process.rlimits[0].hard, 4096u);
  EXPECT_TRUE(spec->process.no_new_privileges);
  EXPECT_EQ(spec->process.oom_score_adj, 100);
  ASSERT_TRUE(spec->process.capabilities);
  EXPECT_EQ(spec->process.capabilities->bounding, (1u << 5) | (1u << 12));
  EXPECT_EQ(spec->process.capabilities->effective, 1u << 5);
  EXPECT_EQ(spec->root_path, "/b/rootfs");
  EXPECT_TRUE(spec->root_readonly);
  EXPECT_EQ(spec->hostname, "web");
  ASSERT_EQ(spec->mounts.size(), 3u);
  const Mount& data = spec->mounts[1];
  EXPECT_EQ(data.source, "/b/vol");
  EXPECT_EQ(data.parsed.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY));
  EXPECT_EQ(data.parsed.propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(data.parsed.recursive_attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(spec->mounts[2].parsed.data, "mode=755,size=65536k");
  EXPECT_EQ(spec->mounts[2].parsed.flags, static_cast<unsigned long>(MS_NOSUID));
  ASSERT_EQ(spec->namespaces.size(), 4u);
  const Namespace* net = spec->FindNamespace(NamespaceType::kNetwork);
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->path, "/run/berth/ns/p1/net");
  EXPECT_EQ(spec->FindNamespace(NamespaceType::kIpc), nullptr);
  EXPECT_EQ(spec->cgroups_path, "/kubepods/pod1/c1");
  EXPECT_EQ(spec->masked_paths, std::vector<std::string>{"/proc/kcore"});
  ASSERT_EQ(spec->sysctls.size(), 1u);
  EXPECT_EQ(spec->sysctls[0].key, "net.ipv4.ip_forward");
  ASSERT_EQ(spec->devices.size(), 1u);
  EXPECT_EQ(spec->devices[0].minor, 229);
  EXPECT_EQ(spec->devices[0].file_mode, 0666u);
}

struct BadCase {
  const char* name;
  const char* json;
  const char* message;
};

class OciSpecErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(OciSpecErrorTest, NamesTheField) {
  auto spec = ParseSpec(GetParam().json, "/b");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), GetParam().message);
}

#define ROOT R"("root": {"path": "r"})"
INSTANTIATE_TEST_SUITE_P(
    Cases, OciSpecErrorTest,
    ::testing::Values(
        BadCase{"NotJson", "{", "config.json: not a JSON object"},
        BadCase{"NoProcess", "{" ROOT "}", "process: is missing"},
        BadCase{"EmptyArgs", R"({"process": {"args": []}, )" ROOT "}",
                "process.args: must not be empty"},
        BadCase{"ArgsWrongType", R"({"process": {"args": "sh"}, )" ROOT "}",
                "process.args: has the wrong type"},
        BadCase{"RelativeCwd", R"({"process": {"args": ["sh"], "cwd": "tmp"}, )" ROOT "}",
                "process.cwd: must be an absolute path"},
        BadCase{"NoRoot", R"({"process": {"args": ["sh"]}})", "root: is missing"},
        BadCase{"BadCapability",
                R"({"process": {"args": ["sh"], "capabilities": {"bounding": ["CAP_FLY"]}}, )" ROOT
                "}",
                "process.capabilities.bounding: unknown capability \"CAP_FLY\""},
        BadCase{
            "BadRlimit",
            R"({"process": {"args": ["sh"], "rlimits": [{"type": "RLIMIT_X", "soft": 1, "hard": 1}]}, )" ROOT
            "}",
            "process.rlimits: unknown type \"RLIMIT_X\""},
        BadCase{
            "SoftAboveHard",
            R"({"process": {"args": ["sh"], "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 2, "hard": 1}]}, )" ROOT
            "}",
            "process.rlimits: RLIMIT_NOFILE soft limit is above the hard limit"},
        BadCase{"OomOutOfRange", R"({"process": {"args": ["sh"], "oomScoreAdj": 5000}, )" ROOT "}",
                "process.oomScoreAdj: must be within [-1000, 1000]"},
        BadCase{"RelativeMount",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "mounts": [{"destination": "data", "type": "tmpfs"}]})",
                "mounts: destination \"data\" must be an absolute path"},
        BadCase{"BindWithoutSource",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "mounts": [{"destination": "/d", "options": ["rbind"]}]})",
                "mount /d: a bind mount needs a source"},
        BadCase{"UnknownNamespace",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "linux": {"namespaces": [{"type": "foo"}]}})",
                "linux.namespaces: unknown type \"foo\""},
        BadCase{"DuplicateNamespace",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}]}})",
                "linux.namespaces: \"pid\" is listed twice"},
        // A user namespace is only joined (the pod's), never made.
        BadCase{"UserNamespace",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "linux": {"namespaces": [{"type": "user"}]}})",
                "linux.namespaces: a new user namespace is not supported; give the path of one to "
                "join"},
        BadCase{"HostnameWithoutUts", R"({"process": {"args": ["sh"]}, "hostname": "h", )" ROOT "}",
                "hostname: needs a new uts namespace"},
        BadCase{"CgroupDotDot",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "linux": {"cgroupsPath": "/a/../../b"}})",
                "linux.cgroupsPath: must not contain \"..\""},
        BadCase{"SysctlSlash",
                R"({"process": {"args": ["sh"]}, )" ROOT R"(, "linux": {"sysctl": {"a/b": "1"}}})",
                "linux.sysctl: bad key \"a/b\""},
        BadCase{"BadSeccomp",
                R"({"process": {"args": ["sh"]}, )" ROOT
                R"(, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_NOPE"}}})",
                "linux.seccomp: seccomp profile: defaultAction: unknown action \"SCMP_ACT_NOPE\""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MountOptionsTest, LaterOptionsWinAndUnknownOnesAreData) {
  auto parsed = ParseMountOptions(
      {"ro", "rw", "nosuid", "suid", "nodev", "private", "rshared", "size=1m", "newinstance"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->flags, static_cast<unsigned long>(MS_NODEV));
  EXPECT_EQ(parsed->propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  EXPECT_EQ(parsed->data, "size=1m,newinstance");
  EXPECT_FALSE(parsed->bind());
  EXPECT_FALSE(ParseMountOptions({"a,b"}).ok());
}

}  // namespace
}  // namespace berth::oci
