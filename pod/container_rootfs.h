// A container's root filesystem and the filesystems mounted under its bundle: the writable
// overlay snapshot of its image at <bundle>/rootfs (over idmapped layers in a user-namespaced
// pod), a read-only snapshot per CRI image volume, and, in a user-namespaced pod, idmapped clones
// of its CRI bind mounts. Each piece is a step of the create's rollback ledger.
#pragma once

#include "base/result.h"
#include "base/rollback.h"
#include "image/image_manager.h"
#include "pod/container.h"
#include "pod/sandbox.h"

namespace berth::pod {

class ContainerRootfs {
 public:
  explicit ContainerRootfs(image::ImageManager& images) : images_(images) {}

  // Makes everything above for `container` (its bundle_dir set), recording each step and its
  // undo in `ledger`.
  Result<void> Build(const Container& container, const image::ImageRecord& image,
                     const Sandbox& sandbox, Rollback& ledger);
  // Removes what Build made; parts already gone are fine. Host volumes are detached before
  // anything under the bundle is deleted, so removal never reaches them.
  Result<void> Remove(const Container& container);

 private:
  Result<void> MountSnapshot(const Sandbox& sandbox, const std::string& key,
                             const std::string& target);
  Result<void> MountImageVolumes(const Container& container, const Sandbox& sandbox,
                                 Rollback& ledger);
  Result<void> MountIdmappedVolumes(const Container& container, const Sandbox& sandbox,
                                    Rollback& ledger);

  image::ImageManager& images_;
};

}  // namespace berth::pod
