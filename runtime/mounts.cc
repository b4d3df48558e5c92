#include "runtime/mounts.h"

#include <sys/mount.h>

#include <cerrno>

#include "base/file_util.h"

namespace berth::runtime {

Result<void> MountPodShm(const std::string& path, uint32_t uid, uint32_t gid) {
  BERTH_TRY(MakeDirs(path, 0755));
  std::string options =
      "mode=1777,size=65536k,uid=" + std::to_string(uid) + ",gid=" + std::to_string(gid);
  if (::mount("shm", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) !=
      0) {
    return Error::FromErrno(errno, "mount pod /dev/shm at " + path);
  }
  return Ok();
}

Result<void> UnmountIfMounted(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return Error::FromErrno(errno, "unmount " + path);
  }
  return Ok();
}

}  // namespace berth::runtime
