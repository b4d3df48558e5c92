#include "base/namespaces.h"

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <thread>

#include "base/file_util.h"

namespace berth {

Result<void> RunOnFreshThread(const std::function<Result<void>()>& work) {
  Result<void> result = Internal("thread did not run");
  std::thread thread([&] { result = work(); });
  thread.join();
  return result;
}

Result<void> RunInNamespace(const std::string& path, int nstype,
                            const std::function<Result<void>()>& work) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd ns, OpenFile(path, O_RDONLY));
  return RunOnFreshThread([&]() -> Result<void> {
    if (::setns(ns.get(), nstype) != 0) return Error::FromErrno(errno, "enter namespace " + path);
    return work();
  });
}

}  // namespace berth
