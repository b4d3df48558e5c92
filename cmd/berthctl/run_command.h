// berthctl run: a pod and one container in it, started, in one command (like `crictl run`).
#pragma once

#include <CLI/CLI.hpp>

#include "cmd/berthctl/client.h"

namespace berthctl {

void AddRunCommand(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace berthctl
