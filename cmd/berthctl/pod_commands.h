// berthctl runp | pods | inspectp | stopp | rmp.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddPodCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

// The pod RPCs, each with a deadline long enough for setting up or tearing down a pod.
grpc::Status RunPodSandbox(Client& client, const GlobalOptions& options,
                           const ::runtime::v1::RunPodSandboxRequest& request, std::string* id);
grpc::Status StopPodSandbox(Client& client, const std::string& id);
grpc::Status RemovePodSandbox(Client& client, const std::string& id);

}  // namespace berthctl
