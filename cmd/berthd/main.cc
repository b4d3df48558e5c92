// berthd: the berth CRI daemon.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/child_reaper.h"
#include "base/failpoint.h"
#include "base/logging.h"
#include "base/signals.h"
#include "base/version.h"
#include "cmd/berthd/daemon.h"
#include "config/config.h"

int main(int argc, char** argv) {
  berth::BlockTerminationSignals();
  berth::BlockChildSignal();  // for the child reaper (base/child_reaper.h)

  CLI::App app{
      "berthd serves the Kubernetes CRI (runtime.v1 RuntimeService and ImageService) on a unix "
      "socket for kubelet and crictl.\nFlags override the config file; every key of the file is "
      "documented in berth.example.yaml."};
  std::string config_path = berth::kDefaultConfigPath;
  std::string root, state, listen, log_level;
  bool show_version = false;
  auto* config_flag = app.add_option("--config", config_path,
                                     "YAML config file; a missing default file means all defaults")
                          ->capture_default_str();
  app.add_option("--root", root, "persistent data directory (default /var/lib/berth)");
  app.add_option("--state", state, "runtime state directory (default /run/berth)");
  app.add_option("--listen", listen, "CRI socket path (default /run/berth/berth.sock)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error (default info)");
  app.add_flag("--version", show_version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (show_version) {
    std::printf("berthd %s\n", berth::kBerthVersion);
    return 0;
  }

  auto config = berth::LoadConfig(config_path, /*missing_ok=*/config_flag->count() == 0);
  if (!config) {
    std::fprintf(stderr, "berthd: %s\n", config.error().message().c_str());
    return 2;
  }
  if (!root.empty()) config->root = root;
  if (!state.empty()) config->state = state;
  if (!listen.empty()) config->listen = listen;
  if (!log_level.empty()) config->log_level = log_level;
  if (auto valid = berth::ValidateConfig(*config); !valid) {
    std::fprintf(stderr, "berthd: invalid configuration: %s\n", valid.error().message().c_str());
    return 2;
  }

  berth::InitLogging(*berth::ParseLogLevel(config->log_level));
  if (auto armed = berth::InitFailpoints(); !armed) {
    std::fprintf(stderr, "berthd: %s\n", armed.error().message().c_str());
    return 2;
  }
  if (auto run = berth::RunDaemon(*config); !run) {
    std::fprintf(stderr, "berthd: %s\n", run.error().message().c_str());
    return 1;
  }
  return 0;
}
