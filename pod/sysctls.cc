#include "pod/sysctls.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/file_util.h"
#include "base/namespaces.h"
#include "base/sysctl.h"

namespace berth::pod {
namespace {

bool StartsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

Result<SysctlNamespace> ClassifySysctl(const std::string& name) {
  if (name.empty() || name.find("..") != std::string::npos || name.front() == '.' ||
      name.front() == '/') {
    return InvalidArgument("invalid sysctl name \"" + name + "\"");
  }
  std::string dotted = name;
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  SysctlNamespace kind;
  // The namespaced sysctls the kernel (and Kubernetes) know.
  if (StartsWith(dotted, "net.")) {
    kind = SysctlNamespace::kNet;
  } else if (StartsWith(dotted, "kernel.shm") || StartsWith(dotted, "kernel.msg") ||
             dotted == "kernel.sem" || StartsWith(dotted, "fs.mqueue.")) {
    kind = SysctlNamespace::kIpc;
  } else if (dotted == "kernel.hostname" || dotted == "kernel.domainname") {
    kind = SysctlNamespace::kUts;
  } else {
    return InvalidArgument("sysctl \"" + name + "\" is not namespaced and cannot be set for a pod");
  }
  if (!PathExists(SysctlPath(name)) && kind != SysctlNamespace::kNet) {
    return InvalidArgument("sysctl \"" + name + "\" does not exist on this node");
  }
  return kind;
}

Result<void> ValidateSysctls(const std::map<std::string, std::string>& sysctls, bool own_network,
                             bool own_ipc) {
  for (const auto& [name, value] : sysctls) {
    BERTH_ASSIGN_OR_RETURN(SysctlNamespace kind, ClassifySysctl(name));
    if (kind == SysctlNamespace::kNet && !own_network) {
      return InvalidArgument("sysctl \"" + name + "\" needs the pod's own network namespace, " +
                             "but the pod uses the host network");
    }
    if (kind == SysctlNamespace::kIpc && !own_ipc) {
      return InvalidArgument("sysctl \"" + name + "\" needs the pod's own IPC namespace, but " +
                             "the pod uses the host IPC namespace");
    }
    if (value.find('\n') != std::string::npos) {
      return InvalidArgument("sysctl \"" + name + "\" has a value with a newline");
    }
  }
  return Ok();
}

Result<void> ApplySysctls(const std::map<std::string, std::string>& sysctls,
                          const std::string& netns_path, const std::string& ipcns_path,
                          const std::string& utsns_path) {
  for (const auto& entry : sysctls) {
    // Named references, not a structured binding: clang before 16 cannot capture those.
    const std::string& name = entry.first;
    const std::string& value = entry.second;
    BERTH_ASSIGN_OR_RETURN(SysctlNamespace kind, ClassifySysctl(name));
    std::string path = kind == SysctlNamespace::kNet   ? netns_path
                       : kind == SysctlNamespace::kIpc ? ipcns_path
                                                       : utsns_path;
    int nstype = kind == SysctlNamespace::kNet   ? CLONE_NEWNET
                 : kind == SysctlNamespace::kIpc ? CLONE_NEWIPC
                                                 : CLONE_NEWUTS;
    // /proc/sys files act on the namespaces of the thread that opens them.
    auto written = RunInNamespace(path, nstype, [&] { return WriteSysctl(name, value); });
    if (!written) return written;
  }
  return Ok();
}

}  // namespace berth::pod
