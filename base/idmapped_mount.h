// Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP): a clone of a directory tree whose files, seen
// through it, have their owners shifted by a user namespace's id maps. How a pod with a user
// namespace sees image layers and volumes owned by host root as its own root's.
#pragma once

#include <string>

#include "base/result.h"

namespace berth {

// Clones `source` (with its submounts when `recursive`), idmaps the clone with the user namespace
// `userns_fd` and attaches it at `target` (an existing directory, or file for a file source).
// Fails (keeping errno: EINVAL where the filesystem cannot be idmapped) with nothing attached.
Result<void> AttachIdmappedTree(const std::string& source, const std::string& target, int userns_fd,
                                bool recursive);

}  // namespace berth
