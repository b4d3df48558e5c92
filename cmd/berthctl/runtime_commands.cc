#include "cmd/berthctl/runtime_commands.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

int Version(const GlobalOptions& options) {
  Client client(options);
  ::runtime::v1::VersionResponse response;
  auto status = client.runtime().Version(client.Context().get(), {}, &response);
  if (!status.ok()) return ReportRpcError("version", status);
  if (options.output == "json") {
    PrintJson(response);
    return 0;
  }
  PrintTable({{"Version:", response.version()},
              {"RuntimeName:", response.runtime_name()},
              {"RuntimeVersion:", response.runtime_version()},
              {"RuntimeApiVersion:", response.runtime_api_version()}});
  return 0;
}

int Status(const GlobalOptions& options) {
  Client client(options);
  ::runtime::v1::StatusRequest request;
  ::runtime::v1::StatusResponse response;
  auto status = client.runtime().Status(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("status", status);
  if (options.output == "json") {
    PrintJson(response);
    return 0;
  }
  std::vector<std::vector<std::string>> conditions = {{"CONDITION", "READY", "REASON", "MESSAGE"}};
  for (const auto& condition : response.status().conditions()) {
    conditions.push_back({condition.type(), condition.status() ? "true" : "false",
                          condition.reason(), condition.message()});
  }
  PrintTable(conditions);
  std::printf("\n");
  std::vector<std::vector<std::string>> handlers = {
      {"HANDLER", "RECURSIVE_READ_ONLY_MOUNTS", "USER_NAMESPACES"}};
  for (const auto& handler : response.runtime_handlers()) {
    handlers.push_back({handler.name().empty() ? "(default)" : handler.name(),
                        handler.features().recursive_read_only_mounts() ? "true" : "false",
                        handler.features().user_namespaces() ? "true" : "false"});
  }
  PrintTable(handlers);
  return 0;
}

// Like `crictl info`: the verbose Status as one JSON document, with each info value expanded
// when it is JSON itself.
int Info(const GlobalOptions& options) {
  Client client(options);
  ::runtime::v1::StatusRequest request;
  request.set_verbose(true);
  ::runtime::v1::StatusResponse response;
  auto status = client.runtime().Status(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("info", status);
  nlohmann::ordered_json document;
  nlohmann::json conditions = nlohmann::json::array();
  for (const auto& condition : response.status().conditions()) {
    conditions.push_back({{"type", condition.type()},
                          {"status", condition.status()},
                          {"reason", condition.reason()},
                          {"message", condition.message()}});
  }
  document["status"] = {{"conditions", conditions}};
  for (const auto& [key, value] : response.info()) {
    auto parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    document[key] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  std::printf("%s\n", document.dump(2).c_str());
  return 0;
}

}  // namespace

void AddRuntimeCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  app.add_subcommand("version", "show the runtime's name and versions")
      ->callback([&options, exit_code] { *exit_code = Version(options); });
  app.add_subcommand("status", "show the runtime and network conditions and the runtime handlers")
      ->callback([&options, exit_code] { *exit_code = Status(options); });
  app.add_subcommand("info", "show the verbose runtime status as JSON (config, host features)")
      ->callback([&options, exit_code] { *exit_code = Info(options); });
}

}  // namespace berthctl
