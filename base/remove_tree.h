// Removing a directory tree that may have had something mounted inside it (a container bundle,
// a pod's state dir): never follows a symlink and never descends into another mount, so that a
// mount whose undo failed (a host volume's idmapped clone, a rootfs) is left alone and reported,
// instead of having its files deleted through it.
#pragma once

#include <string>

#include "base/result.h"

namespace berth {

// Removes `path` and everything below it on the same mount. A missing path is fine; a mount
// found below (or at) it is FailedPrecondition naming it, with what else could go removed.
Result<void> RemoveTree(const std::string& path);

}  // namespace berth
