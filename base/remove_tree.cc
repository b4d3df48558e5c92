#include "base/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/file_util.h"
#include "base/unique_fd.h"

namespace berth {
namespace {

// Deep enough for any bundle or state dir berth makes; each level holds one fd.
constexpr int kMaxDepth = 256;

Result<uint64_t> MountIdAt(int dir, const char* name) {
  struct statx info {};
  if (::statx(dir, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_MNT_ID, &info) != 0) {
    return Error::FromErrno(errno, std::string("stat ") + name);
  }
  return static_cast<uint64_t>(info.stx_mnt_id);
}

// Empties the directory `dir` (on mount `mount_id`), whose path is `path` (for messages).
Result<void> EmptyDirectory(int dir, const std::string& path, uint64_t mount_id, int depth) {
  if (depth > kMaxDepth) return FailedPrecondition(path + " is nested too deeply to remove");
  int listing_fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return Error::FromErrno(errno, "open " + path);
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return Error::FromErrno(errno, "list " + path);
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    entries.emplace_back(name, entry->d_type == DT_DIR);
  }
  ::closedir(listing);
  for (const auto& [name, is_dir] : entries) {
    std::string child = path + "/" + name;
    if (!is_dir) {
      if (::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT) continue;
      if (errno != EISDIR) return Error::FromErrno(errno, "remove " + child);
    }
    BERTH_ASSIGN_OR_RETURN(uint64_t child_mount, MountIdAt(dir, name.c_str()));
    if (child_mount != mount_id)
      return FailedPrecondition(child + " is a mount point; not removed");
    UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) {
      if (errno == ENOENT) continue;
      return Error::FromErrno(errno, "open " + child);
    }
    BERTH_TRY(EmptyDirectory(sub.get(), child, mount_id, depth + 1));
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Error::FromErrno(errno, "remove " + child);
    }
  }
  return Ok();
}

}  // namespace

Result<void> RemoveTree(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::FromErrno(errno, "stat " + path);
  }
  if (!S_ISDIR(info.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return Error::FromErrno(errno, "remove " + path);
    return Ok();
  }
  std::string parent = path.substr(0, path.find_last_of('/'));
  if (parent.empty()) parent.push_back('/');  // not = "/": GCC 12 warns falsely (-Wrestrict)
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent_fd, OpenFile(parent, O_PATH | O_DIRECTORY));
  std::string name = path.substr(path.find_last_of('/') + 1);
  BERTH_ASSIGN_OR_RETURN(uint64_t parent_mount, MountIdAt(parent_fd.get(), "."));
  BERTH_ASSIGN_OR_RETURN(uint64_t own_mount, MountIdAt(parent_fd.get(), name.c_str()));
  if (own_mount != parent_mount) return FailedPrecondition(path + " is a mount point; not removed");
  UniqueFd dir(
      ::openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return Error::FromErrno(errno, "open " + path);
  BERTH_TRY(EmptyDirectory(dir.get(), path, own_mount, 0));
  if (::unlinkat(parent_fd.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove " + path);
  }
  return Ok();
}

}  // namespace berth
