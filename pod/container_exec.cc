// ContainerManager: what reaches into a running container (exec, attach) or its monitor (logs).
#include "base/process_util.h"
#include "pod/container_manager.h"
#include "runtime/launcher/monitor.h"

namespace berth::pod {
namespace {

// berth-exec's request for `args` in `container` (ExecSync and Exec alike).
runtime::ExecStartRequest ExecRequestFor(const Container& container,
                                         const std::vector<std::string>& args) {
  runtime::ExecStartRequest request;
  request.exec_binary = ExecutableSibling("berth-exec");
  request.bundle_dir = container.bundle_dir;
  request.container_pid = container.container_pid;
  request.cgroup_path = container.cgroup_path;
  request.args = args;
  return request;
}

}  // namespace

Result<void> ContainerManager::ReopenLog(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  return runtime::ReopenMonitoredLog(container.state_dir);
}

Result<runtime::ExecSyncResult> ContainerManager::ExecSync(const std::string& id,
                                                           const std::vector<std::string>& args,
                                                           int64_t timeout_seconds) {
  if (args.empty()) return InvalidArgument("exec: no command given");
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  runtime::ExecSyncRequest request;
  request.command = ExecRequestFor(container, args);
  request.timeout = std::chrono::seconds(timeout_seconds);
  auto result = berth::runtime::ExecSync(request);
  if (!result) return std::move(result).error().Wrap("exec in container " + container.id);
  return result;
}

Result<runtime::StartedExec> ContainerManager::StartExec(const std::string& id,
                                                         const std::vector<std::string>& args,
                                                         bool tty, bool stdin, bool stdout,
                                                         bool stderr) {
  if (args.empty()) return InvalidArgument("exec: no command given");
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  runtime::ExecStartRequest request = ExecRequestFor(container, args);
  request.tty = tty;
  request.stdin = stdin;
  request.stdout = stdout;
  request.stderr = stderr;
  auto started = berth::runtime::StartExec(request);
  if (!started) return std::move(started).error().Wrap("exec in container " + container.id);
  return started;
}

Result<UniqueFd> ContainerManager::Attach(const std::string& id, int in, int out, int err) {
  BERTH_ASSIGN_OR_RETURN(Container container, GetRunning(id));
  auto attached = runtime::AttachToMonitor(container.state_dir, container.config.stdin ? in : -1,
                                           out, container.config.tty ? -1 : err);
  if (!attached) return std::move(attached).error().Wrap("attach to container " + container.id);
  return attached;
}

}  // namespace berth::pod
