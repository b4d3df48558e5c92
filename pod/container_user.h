// Who a container's process runs as: the CRI security context's user fields, else the image's
// USER, resolved against the container's own /etc/passwd and /etc/group (never the host's).
#pragma once

#include <string>

#include "base/result.h"
#include "image/manifest.h"
#include "pod/container.h"

namespace berth::pod {

// uid: run_as_user, else run_as_username, else the image's USER ("uid[:gid]", "name[:group]").
// gid: run_as_group, else the image USER's group, else the user's passwd entry, else 0.
// Supplementary groups: with the Merge policy the user's memberships in the image's /etc/group
// plus supplemental_groups; with Strict only supplemental_groups. A name that the image does not
// know is InvalidArgument.
Result<ContainerUser> ResolveUser(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& rootfs);

}  // namespace berth::pod
