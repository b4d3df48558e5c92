// Overlay snapshots. Each image layer is unpacked once into its own directory keyed by its chain
// ID (<root>/layers/<hex>), shared by every image that has the same layers below it. A container
// rootfs is a "prepared" snapshot: an upper and a work directory (<root>/active/<key>) over the
// chain of layer directories, mounted as overlayfs.
//
// Layer directories are written under a temp name and renamed into place only when the whole
// layer applied, so a layer directory that exists is complete.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/content_store.h"
#include "image/digest.h"

namespace berth::image {

class Snapshotter {
 public:
  // Creates the folders and removes half-applied layers a crash left behind.
  static Result<std::unique_ptr<Snapshotter>> Open(const std::string& root);

  bool HasLayer(const Digest& chain_id) const;
  std::string LayerDir(const Digest& chain_id) const;
  // Runs `apply` on a fresh temp directory and, when it succeeds, makes it the layer `chain_id`.
  // When it fails, the temp directory is removed. A layer committed meanwhile by someone else
  // wins; ours is dropped.
  Result<void> CommitLayer(const Digest& chain_id,
                           const std::function<Result<void>(const std::string& dir)>& apply);
  Result<void> RemoveLayer(const Digest& chain_id);
  std::vector<Digest> ListLayers() const;

  // Creates the writable snapshot `key` over `chain` (bottom layer first, as in the image's
  // rootfs.diff_ids). Every layer must exist. An existing key is AlreadyExists.
  Result<void> Prepare(const std::string& key, const std::vector<Digest>& chain);
  // Mounts snapshot `key` as overlayfs on `target` (an existing directory).
  Result<void> Mount(const std::string& key, const std::string& target) const;
  // For a pod with a user namespace: the same overlay, over idmapped bind mounts of the layers
  // (MOUNT_ATTR_IDMAP with the namespace `userns_fd`, so that image files owned by root appear
  // owned by the pod's root), and an upper directory owned by `root_uid`/`root_gid` (the host ids
  // the pod's root maps to). The layer directories themselves are never changed.
  Result<void> MountIdmapped(const std::string& key, const std::string& target, int userns_fd,
                             uint32_t root_uid, uint32_t root_gid) const;
  // Whether MountIdmapped works on this kernel, tried the way it is used: an overlay (upper and
  // work under this root) over an idmapped clone of a scratch layer, the id map that of a
  // throwaway user namespace; all of it is undone before it returns. Kernels differ: idmapping
  // needs 5.12 and the filesystem's support, overlayfs over idmapped lowers 5.19.
  Result<void> ProbeIdmappedMount() const;
  // Removes the snapshot's upper and work directories; absent is fine. It must not be mounted.
  Result<void> Remove(const std::string& key);
  bool HasSnapshot(const std::string& key) const;
  std::vector<std::string> ListSnapshots() const;
  // The layer chain a snapshot was prepared over.
  Result<std::vector<Digest>> SnapshotChain(const std::string& key) const;
  // Bytes and inodes of a snapshot's writable layer.
  DiskUsage SnapshotUsage(const std::string& key) const;
  DiskUsage Usage() const;
  const std::string& root() const { return root_; }

 private:
  explicit Snapshotter(std::string root) : root_(std::move(root)) {}
  std::string ActiveDir(const std::string& key) const { return root_ + "/active/" + key; }
  std::string root_;
};

// Unmounts `target` (lazily when busy is not acceptable: callers stop users first).
Result<void> UnmountPath(const std::string& target);

}  // namespace berth::image
