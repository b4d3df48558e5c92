// The runtime side of the streaming server: exec'd processes (berth-exec, with a pty inside the
// container for a TTY), attaches through each container's monitor, and TCP connections dialled
// inside a pod's network namespace.
#pragma once

#include "cri/streaming/streaming_runtime.h"
#include "pod/container_manager.h"
#include "pod/sandbox_manager.h"

namespace berth::cri {

class ContainerStreams final : public streaming::StreamingRuntime {
 public:
  ContainerStreams(pod::ContainerManager& containers, pod::SandboxManager& sandboxes)
      : containers_(containers), sandboxes_(sandboxes) {}

  Result<std::unique_ptr<streaming::ProcessSession>> Exec(
      const streaming::ExecRequest& request) override;
  Result<std::unique_ptr<streaming::ProcessSession>> Attach(
      const streaming::AttachRequest& request) override;
  Result<UniqueFd> DialPodPort(const std::string& pod_id, int32_t port) override;

 private:
  pod::ContainerManager& containers_;
  pod::SandboxManager& sandboxes_;
};

}  // namespace berth::cri
