// berthctl exec | attach: a command in a running container, or the container's own streams,
// through the streaming server URL that the CRI Exec/Attach returns.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cmd/berthctl/client.h"
#include "cri/streaming/client/streaming_client.h"

namespace berthctl {

void AddExecCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

// Adds --transport spdy|websocket (how to talk to the streaming server) to `command`.
void AddTransportOption(CLI::App& command, berth::streaming::client::Transport* transport);

}  // namespace berthctl
