// CreateContainer+StartContainer latency to a running busybox container, against a running
// berthd that has the image `--image` (bench/container_bench.sh sets all that up):
//   container_bench --endpoint unix:///... --image NAME [--containers 100]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/cri_context.h"
#include "bench/percentile.h"
#include "cri_api.h"

namespace {

using berth::bench::Context;
using berth::bench::Percentile;

using Clock = std::chrono::steady_clock;

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/berth/berth.sock", image;
  int count = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--endpoint") endpoint = argv[i + 1];
    if (flag == "--image") image = argv[i + 1];
    if (flag == "--containers") count = std::stoi(argv[i + 1]);
  }
  auto stub = ::runtime::v1::RuntimeService::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  ::runtime::v1::RunPodSandboxRequest pod;
  pod.mutable_config()->mutable_metadata()->set_name("bench");
  pod.mutable_config()->mutable_metadata()->set_namespace_("bench");
  pod.mutable_config()->mutable_metadata()->set_uid("bench-uid");
  ::runtime::v1::RunPodSandboxResponse pod_created;
  auto status = stub->RunPodSandbox(Context().get(), pod, &pod_created);
  if (!status.ok()) {
    std::fprintf(stderr, "RunPodSandbox: %s\n", status.error_message().c_str());
    return 1;
  }
  std::vector<double> latencies;
  for (int i = 0; i < count; ++i) {
    ::runtime::v1::CreateContainerRequest create;
    create.set_pod_sandbox_id(pod_created.pod_sandbox_id());
    *create.mutable_sandbox_config() = pod.config();  // as kubelet sends it (containerd needs it)
    auto* config = create.mutable_config();
    config->mutable_metadata()->set_name(std::string("c").append(std::to_string(i)));
    config->mutable_image()->set_image(image);
    config->add_command("/bin/sleep");
    config->add_command("300");
    auto start = Clock::now();
    ::runtime::v1::CreateContainerResponse created;
    status = stub->CreateContainer(Context().get(), create, &created);
    if (!status.ok()) {
      std::fprintf(stderr, "CreateContainer: %s\n", status.error_message().c_str());
      return 1;
    }
    ::runtime::v1::StartContainerRequest start_request;
    start_request.set_container_id(created.container_id());
    ::runtime::v1::StartContainerResponse started;
    status = stub->StartContainer(Context().get(), start_request, &started);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!status.ok()) {
      std::fprintf(stderr, "StartContainer: %s\n", status.error_message().c_str());
      return 1;
    }
    ::runtime::v1::RemoveContainerRequest remove;
    remove.set_container_id(created.container_id());
    ::runtime::v1::RemoveContainerResponse removed;
    (void)stub->RemoveContainer(Context().get(), remove, &removed);
  }
  std::printf("CreateContainer+StartContainer  p50 %7.2f ms  p99 %7.2f ms  (%d containers)\n",
              Percentile(latencies, 0.5), Percentile(latencies, 0.99), count);
  ::runtime::v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(pod_created.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse pod_removed;
  (void)stub->RemovePodSandbox(Context().get(), remove_pod, &pod_removed);
  return 0;
}
