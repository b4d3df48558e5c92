// The image config's VOLUMEs (Docker's VOLUME, OCI config.Volumes): directories the image wants
// kept apart from the container's writable layer. berthd's `image_volumes` decides what a
// container gets at each such path that no CRI mount covers:
//   copy   (default, as containerd): a directory of the container's own, seeded with the image's
//          content there (files, directories and symlinks, with their modes and owners);
//   mkdir  (as CRI-O can): an empty directory of its own, owned as the image's directory there;
//   ignore: nothing; the path stays part of the rootfs.
// The directories live in the bundle (<bundle>/image-config-volumes/<index>) and go with it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "pod/container.h"

namespace berth::pod {

// The volumes as clean absolute paths with their index in `volumes`; "/" and paths that name no
// directory below the root are left out.
std::vector<std::pair<size_t, std::string>> CleanImageVolumes(
    const std::vector<std::string>& volumes);

std::string ImageConfigVolumePath(const Container& container, size_t index);

// Makes the directories for `container` (its rootfs mounted at RootfsPath) by `mode`. Paths a CRI
// mount covers are skipped. The image's content is untrusted: every path is resolved inside the
// rootfs and nothing is followed out of it.
Result<void> PrepareImageConfigVolumes(const Container& container,
                                       const std::vector<std::string>& volumes,
                                       const std::string& mode);

}  // namespace berth::pod
