#include "pod/validation.h"

#include <algorithm>

#include "base/text.h"
#include "pod/sandbox_files.h"
#include "pod/sysctls.h"

namespace berth::pod {
namespace {

// Text handed to execve: UTF-8 (it is stored as JSON) without NUL (execve would cut it there).
Result<void> CheckExecText(const std::string& text, const std::string& what) {
  if (text.find('\0') != std::string::npos) return InvalidArgument(what + " has a NUL byte");
  if (!IsValidUtf8(text)) return InvalidArgument(what + " is not valid UTF-8");
  return Ok();
}

Result<void> CheckHostname(const std::string& hostname) {
  BERTH_TRY(CheckPrintable(hostname, "hostname"));
  if (hostname.size() > 64) {  // the kernel's limit (sethostname: EINVAL)
    return InvalidArgument("hostname \"" + hostname + "\" is longer than 64 bytes");
  }
  // /etc/hosts separates names with blanks: one in a hostname would add a name of its own.
  if (hostname.find_first_of(" #") != std::string::npos) {
    return InvalidArgument("hostname \"" + hostname + "\" has a space or '#'");
  }
  return Ok();
}

}  // namespace

Result<void> ValidateSandboxConfig(const SandboxConfig& config,
                                   const std::vector<std::string>& handlers) {
  if (config.name.empty()) return InvalidArgument("pod sandbox metadata.name is empty");
  if (config.namespace_name.empty())
    return InvalidArgument("pod sandbox metadata.namespace is empty");
  if (config.uid.empty()) return InvalidArgument("pod sandbox metadata.uid is empty");
  BERTH_TRY(CheckPrintable(config.name, "pod sandbox metadata.name"));
  BERTH_TRY(CheckPrintable(config.namespace_name, "pod sandbox metadata.namespace"));
  BERTH_TRY(CheckPrintable(config.uid, "pod sandbox metadata.uid"));
  BERTH_TRY(CheckPrintable(config.runtime_handler, "runtime handler"));
  if (std::find(handlers.begin(), handlers.end(), config.runtime_handler) == handlers.end()) {
    return InvalidArgument("unknown runtime handler \"" + config.runtime_handler + "\"");
  }
  if (!config.hostname.empty()) BERTH_TRY(CheckHostname(config.hostname));
  BERTH_TRY(CheckPrintable(config.log_directory, "log_directory"));
  if (!config.log_directory.empty() && config.log_directory.front() != '/') {
    return InvalidArgument("log_directory must be absolute, got \"" + config.log_directory + "\"");
  }
  BERTH_TRY(CheckPrintable(config.cgroup_parent, "cgroup_parent"));
  for (const auto& mapping : config.port_mappings) {
    if (mapping.protocol != "tcp" && mapping.protocol != "udp") {
      return InvalidArgument("port mapping protocol " + mapping.protocol + " is not supported");
    }
    if (mapping.container_port == 0) return InvalidArgument("port mapping without container port");
  }
  BERTH_TRY(ValidateDns(config.dns));
  return ValidateSysctls(config.sysctls, config.network_mode != NamespaceMode::kNode,
                         config.ipc_mode != NamespaceMode::kNode);
}

Result<void> ValidateContainerConfig(const ContainerConfig& config) {
  if (config.name.empty()) return InvalidArgument("container metadata.name is empty");
  BERTH_TRY(CheckPrintable(config.name, "container metadata.name"));
  BERTH_TRY(CheckPrintable(config.image, "image"));
  BERTH_TRY(CheckExecText(config.working_dir, "working_dir"));
  for (const auto& arg : config.command) BERTH_TRY(CheckExecText(arg, "command"));
  for (const auto& arg : config.args) BERTH_TRY(CheckExecText(arg, "args"));
  for (const auto& [key, value] : config.envs) {
    if (key.empty()) return InvalidArgument("an env variable has an empty name");
    if (key.find('=') != std::string::npos) {
      return InvalidArgument("env name \"" + EscapeControlCharacters(key) + "\" has a '='");
    }
    BERTH_TRY(CheckExecText(key, "env name"));
    BERTH_TRY(CheckExecText(value, "the value of env " + EscapeControlCharacters(key)));
  }
  for (const auto& mount : config.mounts) {
    BERTH_TRY(CheckPrintable(mount.container_path, "mount container_path"));
    BERTH_TRY(CheckPrintable(mount.host_path, "mount host_path"));
  }
  for (const auto& device : config.devices) {
    BERTH_TRY(CheckPrintable(device.container_path, "device container_path"));
    BERTH_TRY(CheckPrintable(device.host_path, "device host_path"));
  }
  return Ok();
}

}  // namespace berth::pod
