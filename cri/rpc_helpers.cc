#include "cri/rpc_helpers.h"

#include "base/parse_number.h"

namespace berth::cri {

Result<void> NeedContainerId(const std::string& id) {
  if (id.empty()) return InvalidArgument("container id is empty");
  return Ok();
}

Result<void> NeedSandboxId(const std::string& id) {
  if (id.empty()) return InvalidArgument("pod sandbox id is empty");
  return Ok();
}

Result<void> NeedImageName(const std::string& name) {
  if (name.empty()) return InvalidArgument("image name is empty");
  return Ok();
}

Result<void> CheckStreams(std::string_view rpc, bool stdin, bool stdout, bool stderr, bool tty) {
  if (!stdin && !stdout && !stderr) {
    return InvalidArgument(std::string(rpc) +
                           ": one of stdin, stdout and stderr must be requested");
  }
  if (tty && stderr) return InvalidArgument(std::string(rpc) + ": with tty, stderr must be false");
  return Ok();
}

Result<uint16_t> CheckPort(int32_t port) {
  if (!IsPort(port)) {
    return InvalidArgument("port " + std::to_string(port) + " is out of range");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace berth::cri
