// berthctl port-forward: local TCP ports on 127.0.0.1 forwarded to ports in a pod's network
// namespace through the streaming server URL that the CRI PortForward returns.
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddPortForwardCommand(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
