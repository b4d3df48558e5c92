// berthctl: a small CRI client for demos, scripts and tests.
#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cmd/berthctl/client.h"
#include "cmd/berthctl/container_commands.h"
#include "cmd/berthctl/events_command.h"
#include "cmd/berthctl/exec_commands.h"
#include "cmd/berthctl/image_commands.h"
#include "cmd/berthctl/pod_commands.h"
#include "cmd/berthctl/port_forward_command.h"
#include "cmd/berthctl/run_command.h"
#include "cmd/berthctl/runtime_commands.h"
#include "cmd/berthctl/stats_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"berthctl talks to a CRI runtime (berthd by default) over its gRPC socket."};
  app.require_subcommand(1);
  berthctl::GlobalOptions options;
  if (const char* endpoint = std::getenv("BERTH_ENDPOINT"); endpoint != nullptr && *endpoint) {
    options.endpoint = endpoint;
  }
  app.add_option("--endpoint,-r", options.endpoint,
                 "CRI endpoint, unix:///path (env BERTH_ENDPOINT)")
      ->capture_default_str();
  app.add_option("--timeout,-t", options.timeout_seconds, "per-call timeout in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--output,-o", options.output, "output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));

  app.add_option(
      "--tls-ca-file", options.tls_ca_file,
      "CA certificates (PEM) to trust for a TLS streaming server (default: the system's)");
  app.add_flag("--insecure-skip-tls-verify", options.insecure_skip_tls_verify,
               "accept any certificate of a TLS streaming server");

  int exit_code = 0;
  berthctl::AddRuntimeCommands(app, options, &exit_code);
  berthctl::AddImageCommands(app, options, &exit_code);
  berthctl::AddPodCommands(app, options, &exit_code);
  berthctl::AddContainerCommands(app, options, &exit_code);
  berthctl::AddExecCommands(app, options, &exit_code);
  berthctl::AddPortForwardCommand(app, options, &exit_code);
  berthctl::AddRunCommand(app, options, &exit_code);
  berthctl::AddStatsCommands(app, options, &exit_code);
  berthctl::AddEventsCommand(app, options, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
