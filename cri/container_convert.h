// CRI <-> pod:: translations for containers, shared by the container RPC files.
#pragma once

#include "cri_api.h"
#include "pod/container.h"
#include "pod/container_manager.h"

namespace berth::cri {

Result<pod::ContainerConfig> ToContainerConfig(const ::runtime::v1::ContainerConfig& config);
pod::ContainerResources ToContainerResources(
    const ::runtime::v1::LinuxContainerResources& resources);
void FillResources(const pod::ContainerResources& resources,
                   ::runtime::v1::LinuxContainerResources* out);
// LinuxContainerSecurityContext (security_context_convert.cc).
Result<pod::ContainerSecurity> ToContainerSecurity(
    const ::runtime::v1::LinuxContainerSecurityContext& context);
pod::ContainerFilter ToContainerFilter(const ::runtime::v1::ContainerFilter& filter);
void FillContainer(const pod::Container& container, ::runtime::v1::Container* out);
void FillContainerStatus(const pod::Container& container, ::runtime::v1::ContainerStatus* out);
::runtime::v1::ContainerState ToCriState(pod::ContainerState state);
// ContainerConfig.stop_signal as a signal name ("" for RUNTIME_DEFAULT); a value outside the
// enum is InvalidArgument.
Result<std::string> FromCriSignal(::runtime::v1::Signal signal);
// A signal name (base/signal_names.h) as ContainerStatus.stop_signal; RUNTIME_DEFAULT when it
// names none the CRI has.
::runtime::v1::Signal ToCriSignal(const std::string& name);

}  // namespace berth::cri
