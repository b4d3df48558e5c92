#include "cmd/berthctl/pod_commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cmd/berthctl/config_file.h"
#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

// Running, stopping and removing a pod (its network, its containers) may take long: they get at
// least this deadline, whatever --timeout says.
constexpr int kPodTimeoutSeconds = 120;

std::string Age(int64_t created_nanos) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  int64_t seconds =
      (std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() - created_nanos) /
      1'000'000'000;
  if (seconds < 60) return std::to_string(seconds) + " seconds ago";
  if (seconds < 3600) return std::to_string(seconds / 60) + " minutes ago";
  return std::to_string(seconds / 3600) + " hours ago";
}

int RunPod(const GlobalOptions& options, const std::string& path, const std::string& handler) {
  ::runtime::v1::RunPodSandboxRequest request;
  if (auto error = LoadMessageFile(path, request.mutable_config()); !error.empty()) {
    std::fprintf(stderr, "berthctl: runp: %s\n", error.c_str());
    return 1;
  }
  request.set_runtime_handler(handler);
  Client client(options);
  std::string id;
  auto status = RunPodSandbox(client, options, request, &id);
  if (!status.ok()) return ReportRpcError("runp", status);
  std::printf("%s\n", id.c_str());
  return 0;
}

int ListPods(const GlobalOptions& options, bool quiet) {
  Client client(options);
  ::runtime::v1::ListPodSandboxResponse response;
  auto status = client.runtime().ListPodSandbox(client.Context().get(), {}, &response);
  if (!status.ok()) return ReportRpcError("pods", status);
  if (options.output == "json") {
    PrintJson(response);
    return 0;
  }
  if (quiet) {
    for (const auto& pod : response.items()) std::printf("%s\n", pod.id().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"}};
  for (const auto& pod : response.items()) {
    rows.push_back({pod.id().substr(0, 13), Age(pod.created_at()),
                    pod.state() == ::runtime::v1::SANDBOX_READY ? "Ready" : "NotReady",
                    pod.metadata().name(), pod.metadata().namespace_(),
                    std::to_string(pod.metadata().attempt()),
                    pod.runtime_handler().empty() ? "(default)" : pod.runtime_handler()});
  }
  PrintTable(rows);
  return 0;
}

int InspectPod(const GlobalOptions& options, const std::string& id) {
  Client client(options);
  ::runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(id);
  request.set_verbose(true);
  ::runtime::v1::PodSandboxStatusResponse response;
  auto status = client.runtime().PodSandboxStatus(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("inspectp " + id, status);
  std::string status_json;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(response.status(), &status_json, print);
  nlohmann::ordered_json document = {{"status", nlohmann::json::parse(status_json)}};
  if (auto it = response.info().find("info"); it != response.info().end()) {
    document["info"] = nlohmann::json::parse(it->second, nullptr, false);
  }
  std::printf("%s\n", document.dump(2).c_str());
  return 0;
}

int StopOrRemove(const GlobalOptions& options, const std::vector<std::string>& ids, bool remove) {
  Client client(options);
  int exit_code = 0;
  for (const auto& id : ids) {
    grpc::Status status = remove ? RemovePodSandbox(client, id) : StopPodSandbox(client, id);
    if (!status.ok()) {
      exit_code = ReportRpcError(std::string(remove ? "rmp " : "stopp ") + id, status);
      continue;
    }
    std::printf("%s sandbox %s\n", remove ? "Removed" : "Stopped", id.c_str());
  }
  return exit_code;
}

}  // namespace

grpc::Status RunPodSandbox(Client& client, const GlobalOptions& options,
                           const ::runtime::v1::RunPodSandboxRequest& request, std::string* id) {
  ::runtime::v1::RunPodSandboxResponse response;
  auto status = client.runtime().RunPodSandbox(
      client.Context(std::max(options.timeout_seconds, kPodTimeoutSeconds)).get(), request,
      &response);
  *id = response.pod_sandbox_id();
  return status;
}

grpc::Status StopPodSandbox(Client& client, const std::string& id) {
  ::runtime::v1::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::StopPodSandboxResponse response;
  return client.runtime().StopPodSandbox(client.Context(kPodTimeoutSeconds).get(), request,
                                         &response);
}

grpc::Status RemovePodSandbox(Client& client, const std::string& id) {
  ::runtime::v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(id);
  ::runtime::v1::RemovePodSandboxResponse response;
  return client.runtime().RemovePodSandbox(client.Context(kPodTimeoutSeconds).get(), request,
                                           &response);
}

void AddPodCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto path = std::make_shared<std::string>();
  auto handler = std::make_shared<std::string>();
  auto* runp =
      app.add_subcommand("runp", "run a pod sandbox from a PodSandboxConfig (JSON or YAML)");
  runp->add_option("config", *path, "pod config file")->required();
  runp->add_option("--runtime", *handler, "runtime handler (default: the default handler)");
  runp->callback(
      [&options, exit_code, path, handler] { *exit_code = RunPod(options, *path, *handler); });

  auto quiet = std::make_shared<bool>(false);
  auto* pods = app.add_subcommand("pods", "list pod sandboxes");
  pods->add_flag("-q,--quiet", *quiet, "only IDs");
  pods->callback([&options, exit_code, quiet] { *exit_code = ListPods(options, *quiet); });

  auto inspect_id = std::make_shared<std::string>();
  auto* inspectp = app.add_subcommand("inspectp", "show a pod sandbox's status as JSON");
  inspectp->add_option("pod", *inspect_id, "pod sandbox ID or unique prefix")->required();
  inspectp->callback(
      [&options, exit_code, inspect_id] { *exit_code = InspectPod(options, *inspect_id); });

  auto stop_ids = std::make_shared<std::vector<std::string>>();
  auto* stopp = app.add_subcommand("stopp", "stop pod sandboxes");
  stopp->add_option("pod", *stop_ids, "pod sandbox IDs")->required();
  stopp->callback(
      [&options, exit_code, stop_ids] { *exit_code = StopOrRemove(options, *stop_ids, false); });

  auto remove_ids = std::make_shared<std::vector<std::string>>();
  auto* rmp = app.add_subcommand("rmp", "remove pod sandboxes (stopping them first)");
  rmp->add_option("pod", *remove_ids, "pod sandbox IDs")->required();
  rmp->callback(
      [&options, exit_code, remove_ids] { *exit_code = StopOrRemove(options, *remove_ids, true); });
}

}  // namespace berthctl
