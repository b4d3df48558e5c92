#include "base/namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <vector>

#include "base/file_util.h"

namespace berth {
namespace {

// Runs `work` on its own thread and waits for it.
Result<void> OnFreshThread(const std::function<Result<void>()>& work) {
  Result<void> result = Internal("thread did not run");
  std::thread thread([&] { result = work(); });
  thread.join();
  return result;
}

Result<void> Pin(const std::string& source, const std::string& target) {
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd file, OpenFile(target, O_WRONLY | O_CREAT | O_EXCL, 0444));
  }
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    int err = errno;
    ::unlink(target.c_str());
    return Error::FromErrno(err, "pin namespace " + target);
  }
  return Ok();
}

}  // namespace

Result<void> CreatePinnedNamespaces(const PinnedNamespaceRequest& request) {
  BERTH_TRY(MakeDirs(request.dir, 0711));
  struct Kind {
    bool wanted;
    int flag;
    const char* name;
  };
  const Kind kinds[] = {{request.net, CLONE_NEWNET, "net"},
                        {request.ipc, CLONE_NEWIPC, "ipc"},
                        {request.uts, CLONE_NEWUTS, "uts"}};
  int flags = 0;
  for (const auto& kind : kinds) flags |= kind.wanted ? kind.flag : 0;
  if (flags == 0) return Ok();
  std::vector<std::string> pinned;
  auto created = OnFreshThread([&]() -> Result<void> {
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

Result<void> RunInNamespace(const std::string& path, int nstype,
                            const std::function<Result<void>()>& work) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd ns, OpenFile(path, O_RDONLY));
  return OnFreshThread([&]() -> Result<void> {
    if (::setns(ns.get(), nstype) != 0) return Error::FromErrno(errno, "enter namespace " + path);
    return work();
  });
}

}  // namespace berth
