// pod:: usage -> CRI stats, shared by ContainerStats, ListContainerStats, PodSandboxStats and
// ListPodSandboxStats.
#pragma once

#include <string>
#include <vector>

#include "cri_api.h"
#include "pod/container_manager.h"
#include "pod/sandbox.h"

namespace berth::cri {

// The containers whose usage a stats RPC reports (an empty id / pod id matches all).
pod::ContainerFilter ToUsageFilter(const std::string& id, const std::string& pod_id,
                                   const google::protobuf::Map<std::string, std::string>& labels);

void FillContainerStats(const pod::ContainerUsage& usage, ::runtime::v1::ContainerStats* out);

// The pod's usage: its containers' cgroups added up, its network interface, its processes.
void FillPodStats(const pod::Sandbox& sandbox, const std::vector<pod::ContainerUsage>& containers,
                  ::runtime::v1::PodSandboxStats* out);

}  // namespace berth::cri
