#include "runtime/pinned_namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/child_reaper.h"
#include "base/file_util.h"
#include "base/namespaces.h"

namespace berth::runtime {
namespace {

Result<void> Pin(const std::string& source, const std::string& target) {
  { BERTH_ASSIGN_OR_RETURN(UniqueFd file, OpenFile(target, O_WRONLY | O_CREAT | O_EXCL, 0444)); }
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    int err = errno;
    ::unlink(target.c_str());
    return Error::FromErrno(err, "pin namespace " + target);
  }
  return Ok();
}

struct Kind {
  bool wanted;
  int flag;
  const char* name;
};

Result<void> ReadByte(int fd) {
  char byte;
  ssize_t n;
  do n = ::read(fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) return Internal("user namespace helper died");
  return Ok();
}

// With a user namespace: a forked child (setns into a user namespace and unshare(CLONE_NEWUSER)
// both need a single-threaded caller) makes it, waits while the parent writes its id maps, then
// makes the other namespaces inside it and waits while the parent pins them all.
Result<void> CreateInUserNamespace(const PinnedNamespaceRequest& request,
                                   const UserNamespaceMaps& maps, const std::vector<Kind>& kinds,
                                   int flags, std::vector<std::string>& pinned) {
  int to_child[2], to_parent[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd child_read(to_child[0]), parent_write(to_child[1]);
  if (::pipe2(to_parent, O_CLOEXEC) != 0) return Error::FromErrno(errno, "pipe");
  UniqueFd parent_read(to_parent[0]), child_write(to_parent[1]);
  pid_t child = ForkClaimedChild();
  if (child < 0) return Error::FromErrno(errno, "fork");
  if (child == 0) {
    // Only our own ends: the parent's copies here would keep its EOF from ever arriving.
    ::close(parent_write.get());
    ::close(parent_read.get());
    char byte = 0;
    if (::unshare(CLONE_NEWUSER) != 0) ::_exit(1);
    if (::write(child_write.get(), "u", 1) != 1 || ::read(child_read.get(), &byte, 1) != 1)
      ::_exit(2);
    if (flags != 0 && ::unshare(flags) != 0) ::_exit(3);
    if (request.uts && !request.hostname.empty() &&
        ::sethostname(request.hostname.data(), request.hostname.size()) != 0)
      ::_exit(4);
    if (::write(child_write.get(), "n", 1) != 1) ::_exit(5);
    (void)!::read(child_read.get(), &byte, 1);  // until the parent pinned everything
    ::_exit(0);
  }
  child_read.reset();
  child_write.reset();
  auto finish = [&](Result<void> result) -> Result<void> {
    parent_write.reset();  // EOF lets the child go
    int status = WaitClaimedChild(child).value_or(-1);
    if (result && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      return Internal("create pod namespaces: helper exited with " +
                      std::to_string(WEXITSTATUS(status)));
    return result;
  };
  std::string proc = "/proc/" + std::to_string(child);
  auto run = [&]() -> Result<void> {
    BERTH_TRY(ReadByte(parent_read.get()));
    // setgroups stays allowed: the mapping is written by a parent privileged in our namespace.
    BERTH_TRY(WriteKernelFile(proc + "/uid_map", maps.uid_map));
    BERTH_TRY(WriteKernelFile(proc + "/gid_map", maps.gid_map));
    if (::write(parent_write.get(), "m", 1) != 1)
      return Error::FromErrno(errno, "user namespace helper");
    auto ready = ReadByte(parent_read.get());
    if (!ready) return Internal("create pod namespaces inside the user namespace failed");
    BERTH_TRY(Pin(proc + "/ns/user", request.dir + "/user"));
    pinned.push_back(request.dir + "/user");
    for (const auto& kind : kinds) {
      if (!kind.wanted) continue;
      std::string target = request.dir + "/" + kind.name;
      BERTH_TRY(Pin(proc + "/ns/" + kind.name, target));
      pinned.push_back(target);
    }
    return Ok();
  };
  return finish(run());
}

}  // namespace

Result<void> CreatePinnedNamespaces(const PinnedNamespaceRequest& request,
                                    const UserNamespaceMaps* userns) {
  BERTH_TRY(MakeDirs(request.dir, 0711));
  const std::vector<Kind> kinds = {{request.net, CLONE_NEWNET, "net"},
                                   {request.ipc, CLONE_NEWIPC, "ipc"},
                                   {request.uts, CLONE_NEWUTS, "uts"}};
  int flags = 0;
  for (const auto& kind : kinds) flags |= kind.wanted ? kind.flag : 0;
  std::vector<std::string> pinned;
  if (userns != nullptr) {
    auto created = CreateInUserNamespace(request, *userns, kinds, flags, pinned);
    if (!created) {
      for (const auto& path : pinned) (void)UnpinNamespace(path);
    }
    return created;
  }
  if (flags == 0) return Ok();
  auto created = RunOnFreshThread([&]() -> Result<void> {
    if (::unshare(flags) != 0) return Error::FromErrno(errno, "unshare pod namespaces");
    if (request.uts && !request.hostname.empty() &&
        ::sethostname(request.hostname.data(), request.hostname.size()) != 0) {
      return Error::FromErrno(errno, "set hostname " + request.hostname);
    }
    for (const auto& kind : kinds) {
      if (!kind.wanted) continue;
      std::string target = request.dir + "/" + kind.name;
      BERTH_TRY(Pin(std::string("/proc/thread-self/ns/") + kind.name, target));
      pinned.push_back(target);
    }
    return Ok();
  });
  if (!created) {
    for (const auto& path : pinned) (void)UnpinNamespace(path);
    return created;
  }
  return Ok();
}

Result<void> UnpinNamespace(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL &&
      errno != ENOENT) {
    return Error::FromErrno(errno, "unmount namespace pin " + path);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove namespace pin " + path);
  }
  return Ok();
}

}  // namespace berth::runtime
