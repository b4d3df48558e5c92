#include "cmd/berthctl/stats_commands.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

struct StatsFlags {
  std::string id;        // --id
  std::string argument;  // the positional ID, the same filter
  std::string pod;       // containers only
  std::vector<std::string> labels;
  bool all = false;  // containers only
  int seconds = 1;
};

// "k=v" items into a CRI label selector; false (having said why) for an item without '='.
bool ParseLabels(const std::vector<std::string>& items, const char* command,
                 google::protobuf::Map<std::string, std::string>* selector) {
  for (const auto& item : items) {
    size_t equals = item.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::fprintf(stderr, "berthctl: %s: label filter %s is not KEY=VALUE\n", command,
                   item.c_str());
      return false;
    }
    (*selector)[item.substr(0, equals)] = item.substr(equals + 1);
  }
  return true;
}

// CPU use between two samples of a cumulative CPU counter, in percent of one core, as crictl
// prints it ("0.00" when the counter did not move or time did not pass).
std::string CpuPercent(const ::runtime::v1::CpuUsage& before,
                       const ::runtime::v1::CpuUsage& after) {
  uint64_t used_before = before.usage_core_nano_seconds().value();
  uint64_t used_after = after.usage_core_nano_seconds().value();
  int64_t elapsed = after.timestamp() - before.timestamp();
  double percent = 0;
  if (used_after > used_before && elapsed > 0) {
    percent = static_cast<double>(used_after - used_before) / static_cast<double>(elapsed) * 100;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", percent);
  return text;
}

template <typename Request, typename Response>
using ListCall = grpc::Status (::runtime::v1::RuntimeService::Stub::*)(grpc::ClientContext*,
                                                                       const Request&, Response*);

// Like crictl: with -o json one sample, printed as it is (`*printed` set); otherwise two
// samples `seconds` apart, so that CPU % is the use between them. Returns the exit code of a
// failed call, else 0.
template <typename Request, typename Response>
int TwoSamples(const GlobalOptions& options, const char* command, int seconds,
               ListCall<Request, Response> list, const Request& request, Response* before,
               Response* after, bool* printed) {
  Client client(options);
  *printed = false;
  auto status = (client.runtime().*list)(client.Context().get(), request, before);
  if (!status.ok()) return ReportRpcError(command, status);
  if (options.output == "json") {
    PrintJson(*before);
    *printed = true;
    return 0;
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  status = (client.runtime().*list)(client.Context().get(), request, after);
  if (!status.ok()) return ReportRpcError(command, status);
  return 0;
}

int ContainerStats(const GlobalOptions& options, const StatsFlags& flags) {
  ::runtime::v1::ListContainerStatsRequest request;
  auto* filter = request.mutable_filter();
  filter->set_id(flags.argument.empty() ? flags.id : flags.argument);
  filter->set_pod_sandbox_id(flags.pod);
  if (!ParseLabels(flags.labels, "stats", filter->mutable_label_selector())) return 1;
  ::runtime::v1::ListContainerStatsResponse before, after;
  bool printed = false;
  int exit_code = TwoSamples(options, "stats", flags.seconds,
                             &::runtime::v1::RuntimeService::Stub::ListContainerStats, request,
                             &before, &after, &printed);
  if (exit_code != 0 || printed) return exit_code;
  std::map<std::string, const ::runtime::v1::ContainerStats*> first;
  for (const auto& stats : before.stats()) first[stats.attributes().id()] = &stats;
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER", "NAME", "CPU %", "MEM", "DISK", "INODES"}};
  for (const auto& stats : after.stats()) {
    uint64_t memory = stats.memory().working_set_bytes().value();
    // crictl's rule for a container that is not running: no CPU time and no memory.
    if (!flags.all && stats.cpu().usage_core_nano_seconds().value() == 0 && memory == 0) continue;
    auto old = first.find(stats.attributes().id());
    if (old == first.end()) continue;  // created between the samples
    rows.push_back({stats.attributes().id().substr(0, 13), stats.attributes().metadata().name(),
                    CpuPercent(old->second->cpu(), stats.cpu()), HumanSize(memory, 4),
                    HumanSize(stats.writable_layer().used_bytes().value(), 4),
                    std::to_string(stats.writable_layer().inodes_used().value())});
  }
  PrintTable(rows);
  return 0;
}

int PodStats(const GlobalOptions& options, const StatsFlags& flags) {
  ::runtime::v1::ListPodSandboxStatsRequest request;
  auto* filter = request.mutable_filter();
  filter->set_id(flags.argument.empty() ? flags.id : flags.argument);
  if (!ParseLabels(flags.labels, "statsp", filter->mutable_label_selector())) return 1;
  ::runtime::v1::ListPodSandboxStatsResponse before, after;
  bool printed = false;
  int exit_code = TwoSamples(options, "statsp", flags.seconds,
                             &::runtime::v1::RuntimeService::Stub::ListPodSandboxStats, request,
                             &before, &after, &printed);
  if (exit_code != 0 || printed) return exit_code;
  std::map<std::string, const ::runtime::v1::PodSandboxStats*> first;
  for (const auto& stats : before.stats()) first[stats.attributes().id()] = &stats;
  std::vector<std::vector<std::string>> rows = {{"POD", "POD ID", "CPU %", "MEM"}};
  for (const auto& stats : after.stats()) {
    auto old = first.find(stats.attributes().id());
    if (old == first.end()) continue;  // created between the samples
    rows.push_back({stats.attributes().metadata().name(), stats.attributes().id().substr(0, 13),
                    CpuPercent(old->second->linux().cpu(), stats.linux().cpu()),
                    HumanSize(stats.linux().memory().working_set_bytes().value(), 4)});
  }
  PrintTable(rows);
  return 0;
}

// The options stats and statsp share.
void AddFilterOptions(CLI::App* command, StatsFlags* flags, const char* what) {
  auto* argument = command->add_option("id", flags->argument,
                                       std::string("only this ") + what + " (ID or unique prefix)");
  command
      ->add_option("--id", flags->id, std::string("only this ") + what + " (ID or unique prefix)")
      ->excludes(argument);
  command
      ->add_option("-l,--label", flags->labels,
                   "only those with this label (KEY=VALUE, repeatable)")
      ->allow_extra_args(false);
  command
      ->add_option("-s,--seconds", flags->seconds,
                   "seconds between the two samples CPU % is measured over")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

}  // namespace

void AddStatsCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto container_flags = std::make_shared<StatsFlags>();
  auto* stats =
      app.add_subcommand("stats", "show containers' resource use (running ones; -a for all)");
  AddFilterOptions(stats, container_flags.get(), "container");
  stats->add_option("-p,--pod", container_flags->pod, "only this pod's containers");
  stats->add_flag("-a,--all", container_flags->all, "also containers that are not running");
  stats->callback([&options, exit_code, container_flags] {
    *exit_code = ContainerStats(options, *container_flags);
  });

  auto pod_flags = std::make_shared<StatsFlags>();
  auto* statsp = app.add_subcommand("statsp", "show pod sandboxes' resource use");
  AddFilterOptions(statsp, pod_flags.get(), "pod");
  statsp->callback(
      [&options, exit_code, pod_flags] { *exit_code = PodStats(options, *pod_flags); });
}

}  // namespace berthctl
