#include "cni/plugin/chain.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "base/file_util.h"
#include "cni/plugin/protocol.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

// How much of a plugin's stderr goes into an error message; the log gets more.
constexpr size_t kStderrInMessage = 512;

std::string Brief(std::string text, size_t limit) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.size() > limit) text = text.substr(0, limit) + "...";
  return text;
}

std::string PluginLabel(const ChainRequest& request, const PluginConfig& plugin,
                        const std::string& command) {
  return "CNI plugin \"" + plugin.type + "\" of network \"" + request.network->name +
         "\": " + command;
}

// A failed plugin's error: its CNI error object when it printed one, else its exit and stderr.
Error PluginFailure(const std::string& label, const ExecOutput& output) {
  std::string stderr_text = Brief(output.err, kStderrInMessage);
  if (auto error = ParsePluginError(output.out)) {
    std::string message = label + ": " + (error->msg.empty() ? "failed" : error->msg);
    if (!error->details.empty()) message += ": " + error->details;
    message += " (CNI error code " + std::to_string(error->code) + ")";
    return Error(ErrorCodeForPlugin(error->code), message);
  }
  std::string how = output.term_signal != 0
                        ? "killed by signal " + std::to_string(output.term_signal)
                        : "exited with status " + std::to_string(output.exit_code);
  std::string message = label + ": " + how;
  if (!stderr_text.empty()) message += ": " + stderr_text;
  std::string out_text = Brief(output.out, kStderrInMessage);
  if (stderr_text.empty() && !out_text.empty()) message += ": " + out_text;
  return Internal(message);
}

// Runs one plugin and returns its stdout.
Result<std::string> RunPlugin(const ChainRequest& request, const PluginConfig& plugin,
                              const std::string& command, const json* prev_result,
                              const json& capability_args) {
  std::string label = PluginLabel(request, plugin, command);
  auto path = FindPlugin(plugin.type, request.bin_dirs);
  if (!path.ok()) return std::move(path).error().Wrap(label);
  Invocation invocation{command,        request.container_id, request.netns,
                        request.ifname, request.cni_args,     request.bin_dirs};
  std::vector<std::string> env = BuildPluginEnv(invocation, environ);
  std::string input = BuildPluginInput(*request.network, plugin, capability_args, prev_result);
  auto output = ExecPlugin(*path, env, input, request.limits);
  if (!output.ok()) return std::move(output).error().Wrap(label);
  if (!output->err.empty()) {
    spdlog::debug("{} (container {}) stderr: {}", label, request.container_id,
                  Brief(output->err, 4096));
  }
  if (output->exit_code != 0) return PluginFailure(label, *output);
  return std::move(output->out);
}

// prevResult on DEL and CHECK exists from spec 0.4.0 on; older plugins would reject the field.
const json* PrevResultForDel(const ChainRequest& request, const json* cached_result) {
  return CompareCniVersions(request.network->cni_version, "0.4.0") >= 0 ? cached_result : nullptr;
}

// DEL of plugins [0, last] in reverse, errors logged: the rollback of a failed ADD.
void RollBack(const ChainRequest& request, size_t last, const json* prev_result) {
  const json* prev = PrevResultForDel(request, prev_result);
  for (size_t i = last + 1; i-- > 0;) {
    const PluginConfig& plugin = request.network->plugins[i];
    auto deleted = RunPlugin(request, plugin, "DEL", prev, request.capability_args);
    if (!deleted.ok()) {
      spdlog::warn("rollback of container {}: {}", request.container_id, deleted.error().message());
    }
  }
}

}  // namespace

Result<std::string> FindPlugin(const std::string& type, const std::vector<std::string>& bin_dirs) {
  if (type.empty() || type == "." || type == ".." || type.find('/') != std::string::npos) {
    return InvalidArgument("invalid plugin type \"" + type + "\"");
  }
  std::string searched;
  for (const auto& dir : bin_dirs) {
    std::string path = JoinPath(dir, type);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(path.c_str(), X_OK) == 0) {
      return path;
    }
    searched += (searched.empty() ? "" : ":") + dir;
  }
  return NotFound("plugin \"" + type + "\" not found in " + searched);
}

Result<json> RunAdd(const ChainRequest& request) {
  json prev_result;
  const auto& plugins = request.network->plugins;
  for (size_t i = 0; i < plugins.size(); ++i) {
    const json* prev = prev_result.is_null() ? nullptr : &prev_result;
    auto out = RunPlugin(request, plugins[i], "ADD", prev, request.capability_args);
    Result<json> result = out.ok() ? ParseAddResult(*out) : Result<json>(std::move(out).error());
    if (!result.ok()) {
      Error error = result.error();
      if (out.ok()) error = error.Wrap(PluginLabel(request, plugins[i], "ADD"));
      RollBack(request, i, prev);
      return error;
    }
    prev_result = std::move(*result);
  }
  return prev_result;
}

Result<void> RunDel(const ChainRequest& request, const json* cached_result) {
  const json* prev = PrevResultForDel(request, cached_result);
  std::optional<Error> first_error;
  const auto& plugins = request.network->plugins;
  for (size_t i = plugins.size(); i-- > 0;) {
    auto deleted = RunPlugin(request, plugins[i], "DEL", prev, request.capability_args);
    if (!deleted.ok() && !first_error) first_error = std::move(deleted).error();
  }
  if (first_error) return *first_error;
  return Ok();
}

Result<void> RunCheck(const ChainRequest& request, const json& cached_result) {
  if (request.network->disable_check) return Ok();
  if (CompareCniVersions(request.network->cni_version, "0.4.0") < 0) return Ok();
  for (const auto& plugin : request.network->plugins) {
    BERTH_TRY(RunPlugin(request, plugin, "CHECK", &cached_result, request.capability_args));
  }
  return Ok();
}

Result<void> RunStatus(const ChainRequest& request) {
  if (CompareCniVersions(request.network->cni_version, "1.1.0") < 0) return Ok();
  for (const auto& plugin : request.network->plugins) {
    BERTH_TRY(RunPlugin(request, plugin, "STATUS", nullptr, json::object()));
  }
  return Ok();
}

}  // namespace berth::cni
