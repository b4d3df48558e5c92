#include "base/sysctl.h"

#include <algorithm>
#include <cerrno>

#include "base/file_util.h"

namespace berth {

std::string SysctlPath(std::string_view name) {
  std::string path(name);
  if (path.find('/') == std::string::npos) std::replace(path.begin(), path.end(), '.', '/');
  return "/proc/sys/" + path;
}

Result<void> WriteSysctl(std::string_view name, std::string_view value) {
  auto written = WriteKernelFile(SysctlPath(name), value);
  if (written) return Ok();
  if (written.error().sys_errno() == ENOENT) {
    return InvalidArgument("sysctl \"" + std::string(name) + "\" does not exist");
  }
  return Error(written.error().code() == ErrorCode::kInternal ? ErrorCode::kInvalidArgument
                                                              : written.error().code(),
               "set sysctl " + std::string(name) + "=" + std::string(value) + ": " +
                   written.error().message());
}

Result<void> EnsureSysctl(std::string_view name, std::string_view value) {
  auto current = ReadFile(SysctlPath(name), 4096);
  if (current.ok() && current->substr(0, current->find('\n')) == value) return Ok();
  return WriteSysctl(name, value);
}

}  // namespace berth
