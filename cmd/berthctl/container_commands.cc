#include "cmd/berthctl/container_commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cmd/berthctl/config_file.h"
#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

// Creating a container (its rootfs from the image's layers) may take long: it gets at least this
// deadline, whatever --timeout says.
constexpr int kCreateTimeoutSeconds = 60;

const char* StateName(::runtime::v1::ContainerState state) {
  switch (state) {
    case ::runtime::v1::CONTAINER_CREATED: return "Created";
    case ::runtime::v1::CONTAINER_RUNNING: return "Running";
    case ::runtime::v1::CONTAINER_EXITED: return "Exited";
    default: return "Unknown";
  }
}

int Create(const GlobalOptions& options, const std::string& pod, const std::string& path) {
  ::runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod);
  if (auto error = LoadMessageFile(path, request.mutable_config()); !error.empty()) {
    std::fprintf(stderr, "berthctl: create: %s\n", error.c_str());
    return 1;
  }
  Client client(options);
  std::string id;
  auto status = CreateContainer(client, options, request, &id);
  if (!status.ok()) return ReportRpcError("create", status);
  std::printf("%s\n", id.c_str());
  return 0;
}

int Start(const GlobalOptions& options, const std::vector<std::string>& ids) {
  Client client(options);
  for (const auto& id : ids) {
    auto status = StartContainer(client, id);
    if (!status.ok()) return ReportRpcError("start " + id, status);
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

int Stop(const GlobalOptions& options, const std::vector<std::string>& ids, int64_t timeout) {
  Client client(options);
  for (const auto& id : ids) {
    ::runtime::v1::StopContainerRequest request;
    request.set_container_id(id);
    request.set_timeout(timeout);
    ::runtime::v1::StopContainerResponse response;
    auto status = client.runtime().StopContainer(
        client.Context(static_cast<int>(timeout) + options.timeout_seconds + 10).get(), request,
        &response);
    if (!status.ok()) return ReportRpcError("stop " + id, status);
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

int Remove(const GlobalOptions& options, const std::vector<std::string>& ids) {
  Client client(options);
  for (const auto& id : ids) {
    ::runtime::v1::RemoveContainerRequest request;
    request.set_container_id(id);
    ::runtime::v1::RemoveContainerResponse response;
    auto status = client.runtime().RemoveContainer(client.Context(60).get(), request, &response);
    if (!status.ok()) return ReportRpcError("rm " + id, status);
    std::printf("%s\n", id.c_str());
  }
  return 0;
}

int List(const GlobalOptions& options, bool all, bool quiet, const std::string& pod) {
  Client client(options);
  ::runtime::v1::ListContainersRequest request;
  if (!pod.empty()) request.mutable_filter()->set_pod_sandbox_id(pod);
  if (!all) request.mutable_filter()->mutable_state()->set_state(::runtime::v1::CONTAINER_RUNNING);
  ::runtime::v1::ListContainersResponse response;
  auto status = client.runtime().ListContainers(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("ps", status);
  if (options.output == "json") {
    PrintJson(response);
    return 0;
  }
  if (quiet) {
    for (const auto& c : response.containers()) std::printf("%s\n", c.id().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"CONTAINER", "IMAGE", "STATE", "NAME", "ATTEMPT", "POD ID"}};
  for (const auto& c : response.containers()) {
    rows.push_back({c.id().substr(0, 13), c.image().image(), StateName(c.state()),
                    c.metadata().name(), std::to_string(c.metadata().attempt()),
                    c.pod_sandbox_id().substr(0, 13)});
  }
  PrintTable(rows);
  return 0;
}

::runtime::v1::ContainerStatusResponse Status(Client& client, const std::string& id, bool verbose,
                                              grpc::Status* error) {
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(verbose);
  ::runtime::v1::ContainerStatusResponse response;
  *error = client.runtime().ContainerStatus(client.Context().get(), request, &response);
  return response;
}

int Inspect(const GlobalOptions& options, const std::string& id) {
  Client client(options);
  grpc::Status error;
  auto response = Status(client, id, true, &error);
  if (!error.ok()) return ReportRpcError("inspect " + id, error);
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(response.status(), &json, print);
  nlohmann::ordered_json document = {{"status", nlohmann::json::parse(json)}};
  if (auto it = response.info().find("info"); it != response.info().end()) {
    document["info"] = nlohmann::json::parse(it->second, nullptr, false);
  }
  std::printf("%s\n", document.dump(2).c_str());
  return 0;
}

// Prints the message part of each CRI log line ("<time> <stream> <P|F> <message>"), joining P
// parts, like `crictl logs`. With `follow`, keeps reading until the container exits.
int Logs(const GlobalOptions& options, const std::string& id, bool follow) {
  Client client(options);
  grpc::Status error;
  auto response = Status(client, id, false, &error);
  if (!error.ok()) return ReportRpcError("logs " + id, error);
  const std::string& path = response.status().log_path();
  if (path.empty()) {
    std::fprintf(stderr, "berthctl: logs %s: the container has no log path\n", id.c_str());
    return 1;
  }
  std::ifstream file(path);
  if (!file) {
    std::fprintf(stderr, "berthctl: logs %s: cannot open %s\n", id.c_str(), path.c_str());
    return 1;
  }
  std::string line;
  while (true) {
    while (std::getline(file, line)) {
      size_t first = line.find(' ');
      size_t second = first == std::string::npos ? first : line.find(' ', first + 1);
      size_t third = second == std::string::npos ? second : line.find(' ', second + 1);
      if (third == std::string::npos) continue;
      bool partial = line.compare(second + 1, 1, "P") == 0;
      std::string text = line.substr(third + 1);
      FILE* out = line.compare(first + 1, 6, "stderr") == 0 ? stderr : stdout;
      std::fprintf(out, "%s%s", text.c_str(), partial ? "" : "\n");
    }
    if (!follow) break;
    file.clear();
    auto now = Status(client, id, false, &error);
    if (!error.ok() || now.status().state() != ::runtime::v1::CONTAINER_RUNNING) {
      while (std::getline(file, line)) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return 0;
}

}  // namespace

grpc::Status CreateContainer(Client& client, const GlobalOptions& options,
                             const ::runtime::v1::CreateContainerRequest& request,
                             std::string* id) {
  ::runtime::v1::CreateContainerResponse response;
  auto status = client.runtime().CreateContainer(
      client.Context(std::max(options.timeout_seconds, kCreateTimeoutSeconds)).get(), request,
      &response);
  *id = response.container_id();
  return status;
}

grpc::Status StartContainer(Client& client, const std::string& id) {
  ::runtime::v1::StartContainerRequest request;
  request.set_container_id(id);
  ::runtime::v1::StartContainerResponse response;
  return client.runtime().StartContainer(client.Context().get(), request, &response);
}

void AddContainerCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto pod = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto* create = app.add_subcommand(
      "create", "create a container in a pod from a ContainerConfig (JSON or YAML)");
  create->add_option("pod", *pod, "pod sandbox ID")->required();
  create->add_option("config", *path, "container config file")->required();
  create->callback([&options, exit_code, pod, path] { *exit_code = Create(options, *pod, *path); });

  auto start_ids = std::make_shared<std::vector<std::string>>();
  auto* start = app.add_subcommand("start", "start created containers");
  start->add_option("container", *start_ids, "container IDs")->required();
  start->callback([&options, exit_code, start_ids] { *exit_code = Start(options, *start_ids); });

  auto stop_ids = std::make_shared<std::vector<std::string>>();
  auto timeout = std::make_shared<int64_t>(10);
  auto* stop = app.add_subcommand("stop", "stop containers (stop signal, then SIGKILL)");
  stop->add_option("container", *stop_ids, "container IDs")->required();
  stop->add_option("--timeout,-T", *timeout, "seconds before SIGKILL")->capture_default_str();
  stop->callback([&options, exit_code, stop_ids, timeout] {
    *exit_code = Stop(options, *stop_ids, *timeout);
  });

  auto rm_ids = std::make_shared<std::vector<std::string>>();
  auto* rm = app.add_subcommand("rm", "remove containers (stopping them first)");
  rm->add_option("container", *rm_ids, "container IDs")->required();
  rm->callback([&options, exit_code, rm_ids] { *exit_code = Remove(options, *rm_ids); });

  auto all = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  auto ps_pod = std::make_shared<std::string>();
  auto* ps = app.add_subcommand("ps", "list containers (running ones; -a for all)");
  ps->add_flag("-a,--all", *all, "all states");
  ps->add_flag("-q,--quiet", *quiet, "only IDs");
  ps->add_option("-p,--pod", *ps_pod, "only this pod's");
  ps->callback([&options, exit_code, all, quiet, ps_pod] {
    *exit_code = List(options, *all, *quiet, *ps_pod);
  });

  auto inspect_id = std::make_shared<std::string>();
  auto* inspect = app.add_subcommand("inspect", "show a container's status as JSON");
  inspect->add_option("container", *inspect_id, "container ID")->required();
  inspect->callback(
      [&options, exit_code, inspect_id] { *exit_code = Inspect(options, *inspect_id); });

  auto logs_id = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto* logs = app.add_subcommand("logs", "print a container's log");
  logs->add_option("container", *logs_id, "container ID")->required();
  logs->add_flag("-f,--follow", *follow, "keep printing until the container exits");
  logs->callback(
      [&options, exit_code, logs_id, follow] { *exit_code = Logs(options, *logs_id, *follow); });
}

}  // namespace berthctl
