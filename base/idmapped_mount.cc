#include "base/idmapped_mount.h"

#include <fcntl.h>
#include <sys/mount.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace berth {

Result<void> AttachIdmappedTree(const std::string& source, const std::string& target, int userns_fd,
                                bool recursive) {
  unsigned int clone_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  UniqueFd tree(::open_tree(AT_FDCWD, source.c_str(), clone_flags));
  if (!tree) return Error::FromErrno(errno, "clone " + source);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                      sizeof attr) != 0) {
    return Error::FromErrno(errno, "idmap " + source);
  }
  if (::move_mount(tree.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return Error::FromErrno(errno, "attach idmapped " + source + " at " + target);
  }
  return Ok();
}

}  // namespace berth
