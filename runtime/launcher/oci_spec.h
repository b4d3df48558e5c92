// The subset of the OCI runtime spec (config.json) that berth's launcher runs, parsed and checked
// up front so that the container's child never parses anything: it only executes a checked plan
// (bubblewrap's "plan, then execute").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "security/seccomp_profile.h"

namespace berth::oci {

struct Rlimit {
  int resource = 0;  // RLIMIT_* number, resolved from "RLIMIT_NOFILE" etc. at parse time
  std::string name;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct Capabilities {
  // Bit masks over capability numbers (CAP_CHOWN = bit 0 ...), resolved from names at parse time.
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

struct Process {
  bool terminal = false;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<Capabilities> capabilities;  // absent: the process keeps what it has
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;  // empty: none
  std::string selinux_label;     // empty: none
};

// Mount options turned into what mount(2) and mount_setattr(2) take.
struct MountFlags {
  unsigned long flags = 0;          // MS_* set on the mount (MS_BIND, MS_RDONLY, MS_NOSUID ...)
  unsigned long propagation = 0;    // MS_PRIVATE / MS_SLAVE / MS_SHARED / MS_UNBINDABLE (| MS_REC)
  uint64_t recursive_attr_set = 0;  // MOUNT_ATTR_* applied with AT_RECURSIVE ("rro", "rnosuid"...)
  std::string data;                 // everything else ("mode=755,size=65536k"), for the filesystem
  bool bind() const;
};

struct Mount {
  std::string destination;  // absolute, inside the container
  std::string type;
  std::string source;  // for binds: a host path (relative ones are relative to the bundle)
  std::vector<std::string> options;
  MountFlags parsed;
};

enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };

struct Namespace {
  NamespaceType type;
  std::string path;  // empty: a new namespace; otherwise join the one pinned at this path
};

struct Device {
  std::string path;
  char type = 'c';  // 'c', 'b', 'p'
  int64_t major = 0, minor = 0;
  mode_t file_mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct Sysctl {
  std::string key;
  std::string value;
};

struct Spec {
  Process process;
  std::string root_path;  // made absolute against the bundle directory
  bool root_readonly = false;
  std::string hostname;
  std::vector<Mount> mounts;
  std::vector<Namespace> namespaces;
  std::string cgroups_path;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::vector<Sysctl> sysctls;
  std::vector<Device> devices;
  std::string rootfs_propagation;  // "", "private", "slave", "shared" (+ r-prefixed forms)
  std::string mount_label;         // SELinux context= for the container's own mounts
  std::optional<security::SeccompProfile> seccomp;

  const Namespace* FindNamespace(NamespaceType type) const;
};

// Parses config.json text. `bundle_dir` makes a relative root.path and bind sources absolute.
// Every problem is InvalidArgument naming the field: "process.args: must not be empty".
Result<Spec> ParseSpec(const std::string& json_text, const std::string& bundle_dir);

// Reads <bundle_dir>/config.json and parses it.
Result<Spec> LoadBundle(const std::string& bundle_dir);

// "ro,nosuid,rbind,rslave,mode=755" → flags; unknown options go to data (the filesystem decides).
Result<MountFlags> ParseMountOptions(const std::vector<std::string>& options);

std::string NamespaceTypeName(NamespaceType type);

}  // namespace berth::oci
