#include "cmd/berthctl/run_command.h"

#include <cstdio>

#include "base/rollback.h"
#include "cmd/berthctl/config_file.h"
#include "cmd/berthctl/container_commands.h"
#include "cmd/berthctl/image_commands.h"
#include "cmd/berthctl/pod_commands.h"

namespace berthctl {
namespace {

struct RunFlags {
  std::string container_config;
  std::string pod_config;
  std::string handler;
  bool no_pull = false;
  bool with_pull = false;
  std::string creds;
  std::string auth;
};

// crictl's pull rule for `run`: --with-pull pulls even when the image is there, --no-pull never
// pulls; by default the image is pulled when ImageStatus does not know it.
grpc::Status EnsureImage(Client& client, const GlobalOptions& options, const RunFlags& flags,
                         const ::runtime::v1::CreateContainerRequest& request) {
  const std::string& image = request.config().image().image();
  if (flags.no_pull || image.empty()) return grpc::Status::OK;
  if (!flags.with_pull) {
    ::runtime::v1::ImageStatusRequest status_request;
    *status_request.mutable_image() = request.config().image();
    ::runtime::v1::ImageStatusResponse status_response;
    auto status =
        client.images().ImageStatus(client.Context().get(), status_request, &status_response);
    if (!status.ok() || status_response.has_image()) return status;
  }
  std::string image_ref;
  return PullImage(client, options, {image, flags.creds, flags.auth}, &request.sandbox_config(),
                   &image_ref);
}

// Like `crictl run`: RunPodSandbox, the image if needed, CreateContainer, StartContainer; prints
// the container's ID. A failure after the pod exists stops and removes the pod (and with it
// whatever was created in it).
int Run(const GlobalOptions& options, const RunFlags& flags) {
  ::runtime::v1::RunPodSandboxRequest pod_request;
  ::runtime::v1::CreateContainerRequest container_request;
  for (const auto& error :
       {LoadMessageFile(flags.pod_config, pod_request.mutable_config()),
        LoadMessageFile(flags.container_config, container_request.mutable_config())}) {
    if (!error.empty()) {
      std::fprintf(stderr, "berthctl: run: %s\n", error.c_str());
      return 1;
    }
  }
  pod_request.set_runtime_handler(flags.handler);
  *container_request.mutable_sandbox_config() = pod_request.config();

  Client client(options);
  std::string pod_id;
  auto status = RunPodSandbox(client, options, pod_request, &pod_id);
  if (!status.ok()) return ReportRpcError("run: run pod sandbox", status);
  container_request.set_pod_sandbox_id(pod_id);
  berth::Rollback rollback("berthctl-run", "pod " + pod_id);
  // Failures are reported here, with the RPC's status; the ledger only orders the undo.
  (void)rollback.Done("pod", [&client, pod_id]() -> berth::Result<void> {
    for (auto* undo : {&StopPodSandbox, &RemovePodSandbox}) {
      if (auto undone = undo(client, pod_id); !undone.ok()) {
        ReportRpcError("run: clean up pod " + pod_id, undone);
        break;
      }
    }
    return berth::Ok();
  });

  status = EnsureImage(client, options, flags, container_request);
  if (!status.ok()) {
    return ReportRpcError("run: pull image " + container_request.config().image().image(), status);
  }
  std::string container_id;
  status = CreateContainer(client, options, container_request, &container_id);
  if (!status.ok()) return ReportRpcError("run: create container", status);
  status = StartContainer(client, container_id);
  if (!status.ok()) return ReportRpcError("run: start container " + container_id, status);
  rollback.Commit();
  std::printf("%s\n", container_id.c_str());
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto flags = std::make_shared<RunFlags>();
  auto* run = app.add_subcommand(
      "run",
      "run a pod and a container in it from a ContainerConfig and a PodSandboxConfig (JSON "
      "or YAML), pulling the image when it is missing; prints the container ID");
  run->add_option("container-config", flags->container_config, "container config file")->required();
  run->add_option("pod-config", flags->pod_config, "pod config file")->required();
  run->add_option("--runtime", flags->handler, "runtime handler (default: the default handler)");
  auto* no_pull = run->add_flag("--no-pull", flags->no_pull, "never pull the image");
  run->add_flag("--with-pull", flags->with_pull, "pull the image even when it is there")
      ->excludes(no_pull);
  run->add_option("--creds", flags->creds, "registry credentials as USERNAME[:PASSWORD]");
  run->add_option("--auth", flags->auth, "registry credentials as base64(USERNAME:PASSWORD)");
  run->callback([&options, exit_code, flags] { *exit_code = Run(options, *flags); });
}

}  // namespace berthctl
