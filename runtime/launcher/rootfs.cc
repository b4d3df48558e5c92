// The container's filesystem, built in the init's private mount namespace before pivot_root.
// Every mount target is resolved with openat2(RESOLVE_IN_ROOT) from the rootfs, so a symlink in
// the image ("/data" -> "/etc" or -> "../../host") can never place a mount outside the rootfs.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "runtime/cgroups.h"
#include "runtime/launcher/container_init.h"

namespace berth::runtime::launcher_internal {
namespace {

Result<UniqueFd> OpenInRoot(int root_fd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
  if (fd < 0) return Error::FromErrno(errno, "open " + path + " in the rootfs");
  return UniqueFd(static_cast<int>(fd));
}

// A path through the fd, for the mount(2) calls that take no fd: the kernel follows it to exactly
// the file the fd refers to, not to whatever the name points at by then.
std::string FdPath(const UniqueFd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

// Where a symlink met while creating `prefix` leads: its target, read as a path inside the rootfs
// (absolute targets from the rootfs, relative ones from the link's directory), plus the rest of
// the path. The rest is empty when the link is the last component: then the path must not end
// in "/", or the file it names (/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf)
// would be created as a directory.
Result<std::string> FollowLinkInRoot(int parent_fd, const std::string& name,
                                     const std::string& prefix, const std::string& rest) {
  char target[4096];
  ssize_t n = ::readlinkat(parent_fd, name.c_str(), target, sizeof target);
  if (n < 0) return Error::FromErrno(errno, "read symlink " + prefix + " in the rootfs");
  if (n == 0 || static_cast<size_t>(n) >= sizeof target) {
    return InvalidArgument("symlink " + prefix + " in the rootfs has an empty or too long target");
  }
  std::string link(target, static_cast<size_t>(n));
  std::string base = link[0] == '/' ? "" : prefix.substr(0, prefix.size() - name.size());
  return base + link + (rest.empty() ? "" : "/" + rest);
}

// Opens `path` inside the rootfs, creating missing directories (and, when `directory` is false,
// an empty file as the last component) one component at a time, each under a parent that was
// itself resolved inside the rootfs. A dangling symlink on the way is followed inside the rootfs
// and its target created there, as the kernel would resolve it after pivot_root.
Result<UniqueFd> CreateInRoot(int root_fd, const std::string& path, bool directory, int depth = 0) {
  auto existing = OpenInRoot(root_fd, path, O_PATH);
  if (existing.ok() || existing.error().sys_errno() != ENOENT) return existing;
  if (depth > 40) return Error::FromErrno(ELOOP, "create " + path + " in the rootfs");
  UniqueFd parent(::fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
  std::string prefix;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == ".") continue;
    prefix += "/" + name;
    bool last = path.find_first_not_of('/', end) == std::string::npos;
    auto next = OpenInRoot(root_fd, prefix, O_PATH);
    if (!next.ok() && next.error().sys_errno() == ENOENT) {
      struct stat st {};
      if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        std::string rest = start < path.size() ? path.substr(start) : "";
        BERTH_ASSIGN_OR_RETURN(std::string followed,
                               FollowLinkInRoot(parent.get(), name, prefix, rest));
        return CreateInRoot(root_fd, followed, directory, depth + 1);
      }
      int made = (last && !directory) ? ::openat(parent.get(), name.c_str(),
                                                 O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644)
                                      : ::mkdirat(parent.get(), name.c_str(), 0755);
      if (made < 0 && errno != EEXIST)
        return Error::FromErrno(errno, "create " + prefix + " in the rootfs");
      if (made > 0 && last && !directory) ::close(made);
      next = OpenInRoot(root_fd, prefix, O_PATH);
    }
    if (!next.ok()) return std::move(next).error();
    parent = std::move(*next);
  }
  return parent;
}

Result<void> MountAt(const char* source, const std::string& target, const char* type,
                     unsigned long flags, const std::string& data) {
  if (::mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return Error::FromErrno(errno, "mount");
  return Ok();
}

// A bind mount takes no flags on creation: ro/nosuid/... need a second, remounting call. The
// flags already on the mount (nosuid on /proc ...) are kept, as dropping them is refused.
Result<void> RemountBind(const std::string& target, unsigned long flags) {
  struct statvfs current {};
  if (::statvfs(target.c_str(), &current) == 0) {
    if (current.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (current.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (current.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  }
  if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) != 0)
    return Error::FromErrno(errno, "remount");
  return Ok();
}

constexpr unsigned long kBindRemountFlags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                            MS_NOATIME | MS_NODIRATIME | MS_RELATIME |
                                            MS_STRICTATIME;

Result<void> MountBind(int root_fd, const oci::Mount& mount) {
  struct stat source {};
  if (::stat(mount.source.c_str(), &source) != 0) {
    if (errno == ENOENT) return NotFound("host path " + mount.source + " does not exist");
    return Error::FromErrno(errno, "host path " + mount.source);
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd target,
                         CreateInRoot(root_fd, mount.destination, S_ISDIR(source.st_mode)));
  BERTH_TRY(MountAt(mount.source.c_str(), FdPath(target), nullptr,
                    MS_BIND | (mount.parsed.flags & MS_REC), ""));
  if (mount.parsed.flags & kBindRemountFlags) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd mounted, OpenInRoot(root_fd, mount.destination, O_PATH));
    BERTH_TRY(RemountBind(FdPath(mounted), mount.parsed.flags & kBindRemountFlags));
  }
  return Ok();
}

Result<void> MountFilesystem(int root_fd, const oci::Mount& mount) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, CreateInRoot(root_fd, mount.destination, true));
  std::string source = mount.source.empty() ? mount.type : mount.source;
  return MountAt(source.c_str(), FdPath(target), mount.type.c_str(), mount.parsed.flags & ~MS_REC,
                 mount.parsed.data);
}

// "rro" & co. reach every submount of an rbind, which a remount cannot (mount_setattr(2)).
Result<void> SetRecursiveAttributes(int root_fd, const oci::Mount& mount) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd mounted, OpenInRoot(root_fd, mount.destination, O_PATH));
  mount_attr attr{};
  attr.attr_set = mount.parsed.recursive_attr_set;
  if (::syscall(SYS_mount_setattr, mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                sizeof attr) != 0)
    return Error::FromErrno(errno, "mount_setattr");
  return Ok();
}

Result<void> SetPropagation(int root_fd, const oci::Mount& mount) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd mounted, OpenInRoot(root_fd, mount.destination, O_PATH));
  return MountAt(nullptr, FdPath(mounted), nullptr, mount.parsed.propagation, "");
}

// type "cgroup": the container's own cgroup of every hierarchy, each at its controller's name
// under a tmpfs (as runc mounts cgroup v1 without a cgroup namespace); on a pure v2 host, the
// container's cgroup directory itself. Read-only unless the mount asks for rw (privileged).
Result<void> MountCgroups(int root_fd, const oci::Mount& mount,
                          const std::string& spec_cgroups_path) {
  BERTH_ASSIGN_OR_RETURN(SpecCgroup cgroup, ParseOciCgroupsPath(spec_cgroups_path));
  const std::string& cgroups_path = cgroup.path;
  bool readonly = (mount.parsed.flags & MS_RDONLY) != 0;
  unsigned long bind_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (!readonly) bind_flags &= ~static_cast<unsigned long>(MS_RDONLY);
  Cgroups cgroups = Cgroups::Probe();
  std::vector<std::string> mountpoints;
  for (const auto& hierarchy : cgroups.v1()) mountpoints.push_back(hierarchy.second);
  if (!cgroups.v2().empty()) mountpoints.push_back(cgroups.v2());
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, CreateInRoot(root_fd, mount.destination, true));
  bool pure_v2 = cgroups.v1().empty();
  if (!pure_v2)
    BERTH_TRY(
        MountAt("tmpfs", FdPath(target), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
  for (const auto& mountpoint : mountpoints) {
    std::string host = mountpoint + cgroups_path;
    std::string name = pure_v2 ? "" : mountpoint.substr(mountpoint.find_last_of('/') + 1);
    std::string destination = name.empty() ? mount.destination : mount.destination + "/" + name;
    BERTH_ASSIGN_OR_RETURN(UniqueFd point, CreateInRoot(root_fd, destination, true));
    BERTH_TRY(MountAt(host.c_str(), FdPath(point), nullptr, MS_BIND, ""));
    BERTH_ASSIGN_OR_RETURN(UniqueFd bound, OpenInRoot(root_fd, destination, O_PATH));
    BERTH_TRY(RemountBind(FdPath(bound), bind_flags));
  }
  if (!pure_v2 && readonly) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd top, OpenInRoot(root_fd, mount.destination, O_PATH));
    BERTH_TRY(MountAt(nullptr, FdPath(top), nullptr,
                      MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755"));
  }
  return Ok();
}

Result<void> MountOne(int root_fd, const oci::Mount& mount, const std::string& cgroups_path) {
  if (mount.type == "cgroup" && !mount.parsed.bind())
    return MountCgroups(root_fd, mount, cgroups_path);
  if (mount.parsed.bind()) {
    BERTH_TRY(MountBind(root_fd, mount));
  } else {
    BERTH_TRY(MountFilesystem(root_fd, mount));
  }
  if (mount.parsed.recursive_attr_set != 0) BERTH_TRY(SetRecursiveAttributes(root_fd, mount));
  if (mount.parsed.propagation != 0) BERTH_TRY(SetPropagation(root_fd, mount));
  return Ok();
}

bool HasDevTmpfs(const oci::Spec& spec) {
  for (const auto& mount : spec.mounts)
    if (mount.destination == "/dev" && !mount.parsed.bind()) return true;
  return false;
}

Result<void> MakeNode(int dir_fd, const std::string& name, mode_t mode, dev_t device, uid_t uid,
                      gid_t gid) {
  if (::mknodat(dir_fd, name.c_str(), mode, device) != 0 && errno != EEXIST)
    return Error::FromErrno(errno, "mknod /dev/" + name);
  if (::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::FromErrno(errno, "chown /dev/" + name);
  return Ok();
}

// In a user namespace mknod is refused: the host's node is bind-mounted onto an empty file
// instead (as runc does).
Result<void> BindHostDevice(int dir_fd, const std::string& name, const std::string& host_path) {
  UniqueFd file(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666));
  if (!file) return Error::FromErrno(errno, "create /dev/" + name);
  UniqueFd target(::openat(dir_fd, name.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!target) return Error::FromErrno(errno, "open /dev/" + name);
  if (::mount(host_path.c_str(), FdPath(target).c_str(), nullptr, MS_BIND, nullptr) != 0)
    return Error::FromErrno(errno, "bind " + host_path + " to /dev/" + name);
  return Ok();
}

Result<void> CreateStandardDevices(int root_fd, bool in_user_namespace) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dev, OpenInRoot(root_fd, "/dev", O_DIRECTORY));
  const struct {
    const char* name;
    unsigned major, minor;
  } nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
               {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (const auto& node : nodes) {
    if (in_user_namespace) {
      BERTH_TRY(BindHostDevice(dev.get(), node.name, std::string("/dev/") + node.name));
    } else {
      BERTH_TRY(
          MakeNode(dev.get(), node.name, S_IFCHR | 0666, makedev(node.major, node.minor), 0, 0));
    }
  }
  const struct {
    const char* name;
    const char* target;
  } links[] = {{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
               {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
               {"ptmx", "pts/ptmx"},          {"core", "/proc/kcore"}};
  for (const auto& link : links)
    if (::symlinkat(link.target, dev.get(), link.name) != 0 && errno != EEXIST)
      return Error::FromErrno(errno, std::string("symlink /dev/") + link.name);
  return Ok();
}

Result<void> CreateSpecDevice(int root_fd, const oci::Device& device) {
  size_t slash = device.path.rfind('/');
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir,
                         CreateInRoot(root_fd, device.path.substr(0, slash + 1), true));
  mode_t type = device.type == 'b' ? S_IFBLK : device.type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t number = makedev(static_cast<unsigned>(device.major), static_cast<unsigned>(device.minor));
  return MakeNode(dir.get(), device.path.substr(slash + 1), type | (device.file_mode & 07777),
                  number, device.uid, device.gid);
}

Result<UniqueFd> OpenRootfs(const oci::Spec& spec) {
  int fd = ::open(spec.root_path.c_str(), O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open rootfs " + spec.root_path);
  return UniqueFd(fd);
}

bool PathIsMissing(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

}  // namespace

Result<void> MakeRootPropagationPrivate(const oci::Spec& spec) {
  // Slave by default: the host's later mounts still reach the container, but nothing the
  // container (un)mounts travels back to the host. Shared when a bidirectional mount needs its
  // bind to stay a peer of the host's mount (containerd then asks for rootfsPropagation rshared).
  unsigned long propagation = MS_SLAVE | MS_REC;
  const std::string& wanted = spec.rootfs_propagation;
  if (wanted == "private" || wanted == "rprivate") propagation = MS_PRIVATE | MS_REC;
  if (wanted == "shared" || wanted == "rshared") propagation = MS_SHARED | MS_REC;
  if (::mount(nullptr, "/", nullptr, propagation, nullptr) != 0)
    return Error::FromErrno(errno, "set / propagation");
  return Ok();
}

Result<void> BindRootfs(const oci::Spec& spec) {
  // The rootfs mount itself private (as runc does): what is mounted inside the container never
  // travels to the host's copy of it, even under a shared root, and pivot_root accepts it.
  if (::mount(nullptr, spec.root_path.c_str(), nullptr, MS_PRIVATE, nullptr) != 0 &&
      errno != EINVAL)
    return Error::FromErrno(errno, "make rootfs private " + spec.root_path);
  // pivot_root needs the new root to be a mount point.
  if (::mount(spec.root_path.c_str(), spec.root_path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) !=
      0)
    return Error::FromErrno(errno, "bind rootfs " + spec.root_path);
  return Ok();
}

Result<void> MountAll(const oci::Spec& spec) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRootfs(spec));
  for (const auto& mount : spec.mounts) {
    auto mounted = MountOne(root.get(), mount, spec.cgroups_path);
    if (!mounted.ok()) return std::move(mounted).error().Wrap("mount " + mount.destination);
  }
  return Ok();
}

Result<void> CreateDevices(const oci::Spec& spec) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenRootfs(spec));
  bool in_user_namespace = spec.FindNamespace(oci::NamespaceType::kUser) != nullptr;
  if (HasDevTmpfs(spec)) BERTH_TRY(CreateStandardDevices(root.get(), in_user_namespace));
  for (const auto& device : spec.devices) {
    auto created = CreateSpecDevice(root.get(), device);
    if (!created.ok()) return std::move(created).error().Wrap("device " + device.path);
  }
  return Ok();
}

Result<void> PivotRoot(const oci::Spec& spec) {
  // pivot_root(".", ".") stacks the old root under the new one at "/"; detaching it leaves only
  // the container's tree, with no directory to put the old root in (runc's approach).
  UniqueFd old_root(::open("/", O_DIRECTORY | O_PATH | O_CLOEXEC));
  if (!old_root) return Error::FromErrno(errno, "open /");
  if (::chdir(spec.root_path.c_str()) != 0)
    return Error::FromErrno(errno, "chdir " + spec.root_path);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Error::FromErrno(errno, "pivot_root");
  // The kernel does not promise where "." is now: step onto the old root explicitly, or the
  // rslave below would hit the new root's mounts (and undo a bidirectional mount's sharing).
  if (::fchdir(old_root.get()) != 0) return Error::FromErrno(errno, "fchdir old root");
  if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
    return Error::FromErrno(errno, "make old root rslave");
  if (::umount2(".", MNT_DETACH) != 0) return Error::FromErrno(errno, "detach old root");
  if (::chdir("/") != 0) return Error::FromErrno(errno, "chdir /");
  return Ok();
}

Result<void> ApplyReadonlyPaths(const oci::Spec& spec) {
  for (const auto& path : spec.readonly_paths) {
    if (PathIsMissing(path)) continue;
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return Error::FromErrno(errno, "readonly path " + path);
    auto remounted = RemountBind(path, MS_RDONLY | MS_REC);
    if (!remounted.ok()) return std::move(remounted).error().Wrap("readonly path " + path);
  }
  return Ok();
}

Result<void> ApplyMaskedPaths(const oci::Spec& spec) {
  for (const auto& path : spec.masked_paths) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;  // nothing to hide
    int rc = S_ISDIR(st.st_mode) ? ::mount("tmpfs", path.c_str(), "tmpfs", MS_RDONLY, "size=0")
                                 : ::mount("/dev/null", path.c_str(), nullptr, MS_BIND, nullptr);
    if (rc != 0) return Error::FromErrno(errno, "masked path " + path);
  }
  return Ok();
}

Result<void> RemountRootReadonly(const oci::Spec& spec) {
  if (!spec.root_readonly) return Ok();
  auto remounted = RemountBind("/", MS_RDONLY);
  if (!remounted.ok()) return std::move(remounted).error().Wrap("make rootfs read-only");
  return Ok();
}

}  // namespace berth::runtime::launcher_internal
