// berthctl create | start | stop | rm | ps | inspect | logs.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddContainerCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

// CreateContainer with a deadline long enough for preparing the rootfs; fills `id`.
grpc::Status CreateContainer(Client& client, const GlobalOptions& options,
                             const ::runtime::v1::CreateContainerRequest& request, std::string* id);
grpc::Status StartContainer(Client& client, const std::string& id);

}  // namespace berthctl
