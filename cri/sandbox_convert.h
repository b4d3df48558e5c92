// CRI <-> pod:: translations for sandboxes, shared by the sandbox RPC files.
#pragma once

#include "cri_api.h"
#include "pod/sandbox.h"
#include "pod/sandbox_manager.h"

namespace berth::cri {

// Translates and checks a RunPodSandbox config (SCTP ports, TARGET namespace mode and the like
// are InvalidArgument here).
Result<pod::SandboxConfig> ToSandboxConfig(const ::runtime::v1::PodSandboxConfig& config,
                                           const std::string& runtime_handler);

// Pod-level limits: `resources` (or, without it, `overhead`) with the overhead's memory added to
// a memory limit, as the pod cgroup is sized. Either may be null.
pod::PodLimits ToPodLimits(const ::runtime::v1::LinuxContainerResources* resources,
                           const ::runtime::v1::LinuxContainerResources* overhead);
pod::SandboxFilter ToSandboxFilter(const ::runtime::v1::PodSandboxFilter& filter);

void FillSandbox(const pod::Sandbox& sandbox, ::runtime::v1::PodSandbox* out);
void FillSandboxStatus(const pod::Sandbox& sandbox, ::runtime::v1::PodSandboxStatus* out);

}  // namespace berth::cri
