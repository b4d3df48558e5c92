#include "image/snapshotter.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "base/child_reaper.h"
#include "base/file_util.h"
#include "base/idmapped_mount.h"
#include "base/random.h"

namespace berth::image {
namespace {

void RemoveTree(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

// Snapshot keys become directory names: no separators, no dot names, bounded.
Result<void> CheckKey(const std::string& key) {
  if (key.empty() || key.size() > 128 || key == "." || key == ".." ||
      key.find('/') != std::string::npos || key.find('\0') != std::string::npos) {
    return InvalidArgument("invalid snapshot key \"" + key + "\"");
  }
  return Ok();
}

// The new mount API takes one lower layer per call ("lowerdir+", Linux 6.8), so an image may
// have any number of layers; the classic mount(2) options string is limited to one page.
Result<void> MountOverlayFsConfig(const std::vector<std::string>& lowers_top_first,
                                  const std::string& upper, const std::string& work,
                                  const std::string& target) {
  UniqueFd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return Error::FromErrno(errno, "fsopen overlay");
  for (const auto& lower : lowers_top_first) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lower.c_str(), 0) != 0) {
      return Error::FromErrno(errno, "overlay lowerdir+ " + lower);
    }
  }
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) != 0 ||
      ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) != 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return Error::FromErrno(errno, "configure overlay for " + target);
  }
  UniqueFd mount(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mount) return Error::FromErrno(errno, "fsmount overlay");
  if (::move_mount(mount.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return Error::FromErrno(errno, "move overlay mount to " + target);
  }
  return Ok();
}

Result<void> MountOverlayClassic(const std::vector<std::string>& lowers_top_first,
                                 const std::string& upper, const std::string& work,
                                 const std::string& target) {
  std::string options = "lowerdir=";
  for (size_t i = 0; i < lowers_top_first.size(); ++i) {
    if (i > 0) options += ":";
    options += lowers_top_first[i];
  }
  options += ",upperdir=" + upper + ",workdir=" + work;
  if (options.size() >= static_cast<size_t>(::getpagesize())) {
    return FailedPrecondition("image has too many layers for this kernel's overlay mount (" +
                              std::to_string(lowers_top_first.size()) + " layers)");
  }
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
    return Error::FromErrno(errno, "mount overlay on " + target);
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<Snapshotter>> Snapshotter::Open(const std::string& root) {
  BERTH_TRY(MakeDirs(root + "/layers", 0700));
  BERTH_TRY(MakeDirs(root + "/active", 0700));
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root + "/layers", error)) {
    if (entry.path().filename().string().rfind("tmp-", 0) == 0) RemoveTree(entry.path());
  }
  for (const auto& entry : std::filesystem::directory_iterator(root + "/active", error)) {
    if (entry.path().filename().string().rfind(".removing-", 0) == 0) RemoveTree(entry.path());
  }
  return std::unique_ptr<Snapshotter>(new Snapshotter(root));
}

std::string Snapshotter::LayerDir(const Digest& chain_id) const {
  return root_ + "/layers/" + chain_id.encoded();
}

bool Snapshotter::HasLayer(const Digest& chain_id) const {
  return PathExists(LayerDir(chain_id));
}

Result<void> Snapshotter::CommitLayer(
    const Digest& chain_id, const std::function<Result<void>(const std::string& dir)>& apply) {
  std::string temp = root_ + "/layers/tmp-" + RandomHex(16);
  if (::mkdir(temp.c_str(), 0755) != 0) return Error::FromErrno(errno, "create " + temp);
  if (auto applied = apply(temp); !applied) {
    RemoveTree(temp);
    return applied;
  }
  if (::rename(temp.c_str(), LayerDir(chain_id).c_str()) != 0) {
    int err = errno;
    RemoveTree(temp);
    // Someone committed the same layer first: theirs is as good as ours.
    if (err == ENOTEMPTY || err == EEXIST) return Ok();
    return Error::FromErrno(err, "commit layer " + chain_id.String());
  }
  return Ok();
}

Result<void> Snapshotter::RemoveLayer(const Digest& chain_id) {
  // Rename first so that a crash mid-removal leaves a tmp- directory, not a half layer.
  std::string doomed = root_ + "/layers/tmp-" + RandomHex(16);
  if (::rename(LayerDir(chain_id).c_str(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::FromErrno(errno, "remove layer " + chain_id.String());
  }
  RemoveTree(doomed);
  return Ok();
}

std::vector<Digest> Snapshotter::ListLayers() const {
  std::vector<Digest> layers;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root_ + "/layers", error)) {
    auto digest = Digest::Parse("sha256:" + entry.path().filename().string());
    if (digest) layers.push_back(*digest);
  }
  return layers;
}

Result<void> Snapshotter::Prepare(const std::string& key, const std::vector<Digest>& chain) {
  BERTH_TRY(CheckKey(key));
  for (const auto& layer : chain) {
    if (!HasLayer(layer)) return NotFound("layer " + layer.String() + " is not unpacked");
  }
  std::string dir = ActiveDir(key);
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) return AlreadyExists("snapshot " + key + " already exists");
    return Error::FromErrno(errno, "create snapshot " + key);
  }
  std::string chain_text;
  for (const auto& layer : chain) chain_text += layer.String() + "\n";
  auto made = [&]() -> Result<void> {
    if (::mkdir((dir + "/upper").c_str(), 0755) != 0) return Error::FromErrno(errno, "mkdir upper");
    if (::mkdir((dir + "/work").c_str(), 0700) != 0) return Error::FromErrno(errno, "mkdir work");
    return WriteFileAtomic(dir + "/chain", chain_text, 0600);
  }();
  if (!made) {
    RemoveTree(dir);
    return std::move(made).error().Wrap("prepare snapshot " + key);
  }
  return Ok();
}

bool Snapshotter::HasSnapshot(const std::string& key) const {
  return CheckKey(key).ok() && PathExists(ActiveDir(key) + "/chain");
}

Result<std::vector<Digest>> Snapshotter::SnapshotChain(const std::string& key) const {
  BERTH_TRY(CheckKey(key));
  auto text = ReadFile(ActiveDir(key) + "/chain", 1 << 20);
  if (!text) return std::move(text).error().Wrap("snapshot " + key);
  std::vector<Digest> chain;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    BERTH_ASSIGN_OR_RETURN(Digest digest, Digest::Parse(text->substr(start, end - start)));
    chain.push_back(digest);
    start = end + 1;
  }
  return chain;
}

Result<void> Snapshotter::Mount(const std::string& key, const std::string& target) const {
  BERTH_ASSIGN_OR_RETURN(auto chain, SnapshotChain(key));
  std::vector<std::string> lowers;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) lowers.push_back(LayerDir(*it));
  std::string upper = ActiveDir(key) + "/upper";
  std::string work = ActiveDir(key) + "/work";
  if (lowers.empty()) {
    // overlayfs needs a lower layer; an image without layers gets an empty one.
    BERTH_TRY(MakeDirs(ActiveDir(key) + "/empty", 0755));
    lowers.push_back(ActiveDir(key) + "/empty");
  }
  auto mounted = MountOverlayFsConfig(lowers, upper, work, target);
  if (!mounted &&
      (mounted.error().sys_errno() == ENOSYS || mounted.error().sys_errno() == EINVAL)) {
    mounted = MountOverlayClassic(lowers, upper, work, target);
  }
  if (!mounted) return std::move(mounted).error().Wrap("mount snapshot " + key);
  return Ok();
}

Result<void> Snapshotter::MountIdmapped(const std::string& key, const std::string& target,
                                        int userns_fd, uint32_t root_uid, uint32_t root_gid) const {
  BERTH_ASSIGN_OR_RETURN(auto chain, SnapshotChain(key));
  std::string upper = ActiveDir(key) + "/upper";
  std::string work = ActiveDir(key) + "/work";
  if (::chown(upper.c_str(), root_uid, root_gid) != 0)
    return Error::FromErrno(errno, "chown " + upper);
  // Each layer: a detached idmapped clone, attached under the snapshot only while overlayfs takes
  // its own reference, then detached again.
  std::string staging = ActiveDir(key) + "/idmapped";
  BERTH_TRY(MakeDirs(staging, 0700));
  std::vector<std::string> lowers, attached;
  auto detach_all = [&] {
    for (const auto& path : attached) ::umount2(path.c_str(), MNT_DETACH);
  };
  size_t index = 0;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it, ++index) {
    std::string layer = LayerDir(*it);
    std::string point = staging + "/" + std::to_string(index);
    BERTH_TRY(MakeDirs(point, 0700));
    auto idmapped = AttachIdmappedTree(layer, point, userns_fd, false);
    if (!idmapped) {
      detach_all();
      return std::move(idmapped).error().Wrap("idmap layer");
    }
    attached.push_back(point);
    lowers.push_back(point);
  }
  if (lowers.empty()) {
    BERTH_TRY(MakeDirs(ActiveDir(key) + "/empty", 0755));
    lowers.push_back(ActiveDir(key) + "/empty");
  }
  // Kernels before 6.8 know no "lowerdir+" (EINVAL): the idmapped lowers are short attach
  // points, so the classic options string fits (Debian 12's 6.1 takes this path).
  auto mounted = MountOverlayFsConfig(lowers, upper, work, target);
  if (!mounted &&
      (mounted.error().sys_errno() == ENOSYS || mounted.error().sys_errno() == EINVAL)) {
    mounted = MountOverlayClassic(lowers, upper, work, target);
  }
  detach_all();
  if (!mounted) return std::move(mounted).error().Wrap("mount idmapped snapshot " + key);
  return Ok();
}

namespace {

// A user namespace that maps its root to `host_id` (uid and gid), held by the returned fd. Made by
// a forked child (unshare(CLONE_NEWUSER) needs a single-threaded caller) that waits until this
// process has written its maps and opened its namespace, then exits.
Result<UniqueFd> ThrowawayUserNamespace(uint32_t host_id) {
  int to_child[2], to_parent[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd child_read(to_child[0]), parent_write(to_child[1]);
  if (::pipe2(to_parent, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd parent_read(to_parent[0]), child_write(to_parent[1]);
  pid_t child = ForkClaimedChild();
  if (child < 0) return Error::FromErrno(errno, "fork");
  if (child == 0) {
    char byte = 0;
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(1);
    if (::write(child_write.get(), "u", 1) != 1) ::_exit(2);
    ::close(parent_write.get());
    (void)!::read(child_read.get(), &byte, 1);  // EOF once the parent is done
    ::_exit(0);
  }
  child_read.reset();
  child_write.reset();
  auto run = [&]() -> Result<UniqueFd> {
    char byte = 0;
    if (::read(parent_read.get(), &byte, 1) != 1) return Internal("user namespace helper died");
    std::string proc = "/proc/" + std::to_string(child);
    std::string map = "0 " + std::to_string(host_id) + " 1\n";
    BERTH_TRY(WriteKernelFile(proc + "/uid_map", map));
    BERTH_TRY(WriteKernelFile(proc + "/gid_map", map));
    return OpenFile(proc + "/ns/user", O_RDONLY);
  };
  auto userns = run();
  parent_write.reset();
  (void)WaitClaimedChild(child);
  return userns;
}

}  // namespace

Result<void> Snapshotter::ProbeIdmappedMount() const {
  std::string dir = root_ + "/active/.removing-probe-" + RandomHex(8);
  BERTH_TRY(MakeDirs(dir + "/layer", 0755));
  auto probe = [&]() -> Result<void> {
    for (const char* sub : {"/lower", "/upper", "/work", "/merged"})
      BERTH_TRY(MakeDirs(dir + sub, 0700));
    BERTH_TRY(WriteFileAtomic(dir + "/layer/file", "probe", 0644));
    BERTH_ASSIGN_OR_RETURN(UniqueFd userns, ThrowawayUserNamespace(65534));
    auto idmapped = AttachIdmappedTree(dir + "/layer", dir + "/lower", userns.get(), false);
    if (!idmapped) return std::move(idmapped).error().Wrap("idmap a layer");
    std::vector<std::string> lowers = {dir + "/lower"};
    auto mounted = MountOverlayFsConfig(lowers, dir + "/upper", dir + "/work", dir + "/merged");
    if (!mounted &&
        (mounted.error().sys_errno() == ENOSYS || mounted.error().sys_errno() == EINVAL)) {
      mounted = MountOverlayClassic(lowers, dir + "/upper", dir + "/work", dir + "/merged");
    }
    ::umount2((dir + "/lower").c_str(), MNT_DETACH);
    if (!mounted) return std::move(mounted).error().Wrap("overlay over an idmapped layer");
    // The layer's root-owned file, seen through the map, belongs to the namespace's root.
    struct stat seen {};
    int stat_errno = ::stat((dir + "/merged/file").c_str(), &seen) == 0 ? 0 : errno;
    ::umount2((dir + "/merged").c_str(), MNT_DETACH);
    if (stat_errno != 0) return Error::FromErrno(stat_errno, "stat a file of the idmapped overlay");
    if (seen.st_uid != 65534) {
      return FailedPrecondition("the idmapped overlay shows uid " + std::to_string(seen.st_uid) +
                                ", not 65534");
    }
    return Ok();
  };
  auto result = probe();
  RemoveTree(dir);
  return result;
}

Result<void> Snapshotter::Remove(const std::string& key) {
  BERTH_TRY(CheckKey(key));
  std::string dir = ActiveDir(key);
  if (!PathExists(dir)) return Ok();
  std::string doomed = root_ + "/active/.removing-" + RandomHex(16);
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    return Error::FromErrno(errno, "remove snapshot " + key);
  }
  RemoveTree(doomed);
  return Ok();
}

std::vector<std::string> Snapshotter::ListSnapshots() const {
  std::vector<std::string> keys;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(root_ + "/active", error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(".removing-", 0) != 0) keys.push_back(name);
  }
  return keys;
}

DiskUsage Snapshotter::SnapshotUsage(const std::string& key) const {
  if (!CheckKey(key).ok()) return {};
  return MeasureDiskUsage(ActiveDir(key) + "/upper");
}

DiskUsage Snapshotter::Usage() const {
  return MeasureDiskUsage(root_);
}

Result<void> UnmountPath(const std::string& target) {
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::FromErrno(errno, "unmount " + target);
  }
  return Ok();
}

}  // namespace berth::image
