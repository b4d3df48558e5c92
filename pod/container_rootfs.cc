#include "pod/container_rootfs.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file_util.h"
#include "base/idmapped_mount.h"
#include "base/remove_tree.h"

namespace berth::pod {
namespace {

std::vector<image::Digest> LayerChain(const image::ImageRecord& image) {
  std::vector<image::Digest> chain;
  for (const auto& layer : image.layers) chain.push_back(layer.chain_id);
  return chain;
}

// Detaches a mount made by MountIdmappedVolumes; not mounted (or gone) is fine.
Result<void> DetachMount(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return Error::FromErrno(errno, "unmount " + path);
  }
  return Ok();
}

}  // namespace

Result<void> ContainerRootfs::Build(const Container& container, const image::ImageRecord& image,
                                    const Sandbox& sandbox, Rollback& ledger) {
  BERTH_TRY(images_.snapshots().Prepare(container.id, LayerChain(image)));
  BERTH_TRY(ledger.Done("snapshot",
                        [this, id = container.id] { return images_.snapshots().Remove(id); }));
  BERTH_TRY(MakeDirs(container.RootfsPath(), 0755));
  BERTH_TRY(ledger.Done("bundle", [dir = container.bundle_dir] { return RemoveTree(dir); }));
  BERTH_TRY(MountSnapshot(sandbox, container.id, container.RootfsPath()));
  BERTH_TRY(
      ledger.Done("rootfs", [path = container.RootfsPath()] { return image::UnmountPath(path); }));
  BERTH_TRY(MountImageVolumes(container, sandbox, ledger));
  if (sandbox.HasOwnUserns()) BERTH_TRY(MountIdmappedVolumes(container, sandbox, ledger));
  return Ok();
}

// A pod with a user namespace sees the image through idmapped layers (see Snapshotter).
Result<void> ContainerRootfs::MountSnapshot(const Sandbox& sandbox, const std::string& key,
                                            const std::string& target) {
  if (!sandbox.HasOwnUserns()) return images_.snapshots().Mount(key, target);
  // Its root (a host id other than 0) sets the container up from paths under the root dir.
  BERTH_TRY(CheckTraversableByOthers(target));
  BERTH_ASSIGN_OR_RETURN(UniqueFd userns, OpenFile(sandbox.UsernsPath(), O_RDONLY));
  return images_.snapshots().MountIdmapped(key, target, userns.get(), sandbox.HostRootUid(),
                                           sandbox.HostRootGid());
}

Result<void> ContainerRootfs::MountImageVolumes(const Container& container, const Sandbox& sandbox,
                                                Rollback& ledger) {
  const auto& mounts = container.config.mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i].image.empty()) continue;
    auto image = images_.Resolve(mounts[i].image);
    if (!image) return std::move(image).error().Wrap("image volume " + mounts[i].container_path);
    std::string key = ImageVolumeKey(container.id, i), path = ImageVolumePath(container, i);
    BERTH_TRY(images_.snapshots().Prepare(key, LayerChain(*image)));
    BERTH_TRY(ledger.Done("image-volume-snapshot",
                          [this, key] { return images_.snapshots().Remove(key); }));
    BERTH_TRY(MakeDirs(path, 0755));
    BERTH_TRY(MountSnapshot(sandbox, key, path));
    BERTH_TRY(ledger.Done("image-volume-mount", [path] { return image::UnmountPath(path); }));
  }
  return Ok();
}

// CRI bind mounts of a pod with a user namespace: an idmapped clone of the host path (with its
// submounts), so that what host root owns is the pod root's; where the filesystem cannot be
// idmapped, or the mount propagates, the plain bind mount (host ownership) is used instead.
Result<void> ContainerRootfs::MountIdmappedVolumes(const Container& container,
                                                   const Sandbox& sandbox, Rollback& ledger) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd userns, OpenFile(sandbox.UsernsPath(), O_RDONLY));
  const auto& mounts = container.config.mounts;
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (!mounts[i].image.empty() || mounts[i].propagation != "private") continue;
    std::error_code error;
    std::string source = std::filesystem::canonical(mounts[i].host_path, error);
    if (error) continue;  // the spec builder reports the missing host path
    struct stat info {};
    if (::stat(source.c_str(), &info) != 0) continue;
    std::string target = IdmappedVolumePath(container, i);
    BERTH_TRY(MakeDirs(target.substr(0, target.find_last_of('/')), 0711));
    if (S_ISDIR(info.st_mode)) {
      BERTH_TRY(MakeDirs(target, 0755));
    } else {
      BERTH_ASSIGN_OR_RETURN(UniqueFd file, OpenFile(target, O_WRONLY | O_CREAT, 0644));
    }
    auto attached = AttachIdmappedTree(source, target, userns.get(), true);
    if (!attached) {
      std::filesystem::remove(target, error);
      int code = attached.error().sys_errno();
      if (code != EINVAL && code != EOPNOTSUPP && code != ENOSYS && code != EPERM) {
        return std::move(attached).error();
      }
      spdlog::info("container {}: mount {} is not idmapped ({}); its files keep their host owners",
                   container.id, mounts[i].container_path, attached.error().message());
      continue;
    }
    BERTH_TRY(ledger.Done("idmapped-volume", [target] { return DetachMount(target); }));
  }
  return Ok();
}

Result<void> ContainerRootfs::Remove(const Container& container) {
  // Host volumes first: removing the bundle must never reach one.
  for (size_t i = 0; i < container.config.mounts.size(); ++i) {
    std::string idmapped = IdmappedVolumePath(container, i);
    if (PathExists(idmapped)) BERTH_TRY(DetachMount(idmapped));
  }
  BERTH_TRY(image::UnmountPath(container.RootfsPath()));
  BERTH_TRY(images_.snapshots().Remove(container.id));
  for (size_t i = 0; i < container.config.mounts.size(); ++i) {
    if (container.config.mounts[i].image.empty()) continue;
    if (PathExists(ImageVolumePath(container, i))) {
      BERTH_TRY(image::UnmountPath(ImageVolumePath(container, i)));
    }
    BERTH_TRY(images_.snapshots().Remove(ImageVolumeKey(container.id, i)));
  }
  return RemoveTree(container.bundle_dir);
}

}  // namespace berth::pod
