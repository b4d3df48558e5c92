// Pod churn against a running berthd (bench/churn_bench.sh sets it up): each cycle is
// RunPodSandbox, CreateContainer, StartContainer, StopPodSandbox, RemovePodSandbox, as kubelet
// does for a short-lived pod. Every --sample cycles it reads berthd's resident memory (total and
// anonymous), open fds and threads from /proc, so that growth shows as a trend, not one number.
//   churn_bench --endpoint unix:///... --image NAME --berthd-pid PID [--cycles 1000] [--sample 100]
#include <dirent.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/cri_context.h"
#include "bench/percentile.h"
#include "cri_api.h"

namespace {

using berth::bench::Context;
using berth::bench::Percentile;

using Clock = std::chrono::steady_clock;

// One value in KiB (or a count) from /proc/<pid>/status: "VmRSS", "RssAnon", "Threads".
long StatusField(int pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return -1;
}

long OpenFds(int pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  long count = 0;
  while (dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count;
}

void Sample(int cycle, int pid) {
  std::printf("%7d %10ld %10ld %6ld %8ld\n", cycle, StatusField(pid, "VmRSS"),
              StatusField(pid, "RssAnon"), OpenFds(pid), StatusField(pid, "Threads"));
  std::fflush(stdout);
}

bool Check(const grpc::Status& status, const char* rpc, int cycle) {
  if (!status.ok())
    std::fprintf(stderr, "cycle %d: %s: %s\n", cycle, rpc, status.error_message().c_str());
  return status.ok();
}

// One cycle; its wall time in ms, or a negative number when an RPC failed.
double Cycle(::runtime::v1::RuntimeService::Stub& stub, const std::string& image, int cycle) {
  auto start = Clock::now();
  std::string name = "churn-" + std::to_string(cycle);
  ::runtime::v1::RunPodSandboxRequest run;
  auto* pod = run.mutable_config();
  pod->mutable_metadata()->set_name(name);
  pod->mutable_metadata()->set_namespace_("bench");
  pod->mutable_metadata()->set_uid("uid-" + name);
  pod->set_hostname(name);
  ::runtime::v1::RunPodSandboxResponse ran;
  if (!Check(stub.RunPodSandbox(Context().get(), run, &ran), "RunPodSandbox", cycle)) return -1;

  ::runtime::v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(ran.pod_sandbox_id());
  *create.mutable_sandbox_config() = *pod;
  auto* config = create.mutable_config();
  config->mutable_metadata()->set_name("sleeper");
  config->mutable_image()->set_image(image);
  config->add_command("/bin/sleep");
  config->add_command("300");
  ::runtime::v1::CreateContainerResponse created;
  bool ok =
      Check(stub.CreateContainer(Context().get(), create, &created), "CreateContainer", cycle);
  if (ok) {
    ::runtime::v1::StartContainerRequest start_request;
    start_request.set_container_id(created.container_id());
    ::runtime::v1::StartContainerResponse started;
    ok = Check(stub.StartContainer(Context().get(), start_request, &started), "StartContainer",
               cycle);
  }
  // Teardown whatever happened, so that a failed cycle leaves nothing for the next.
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::StopPodSandboxResponse stopped;
  ok = Check(stub.StopPodSandbox(Context().get(), stop, &stopped), "StopPodSandbox", cycle) && ok;
  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse removed;
  ok = Check(stub.RemovePodSandbox(Context().get(), remove, &removed), "RemovePodSandbox", cycle) &&
       ok;
  if (!ok) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/berth/berth.sock", image;
  int cycles = 1000, sample = 100, pid = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--endpoint") endpoint = argv[i + 1];
    if (flag == "--image") image = argv[i + 1];
    if (flag == "--cycles") cycles = std::atoi(argv[i + 1]);
    if (flag == "--sample") sample = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--berthd-pid") pid = std::atoi(argv[i + 1]);
  }
  if (image.empty() || pid <= 0 || cycles <= 0) {
    std::fprintf(stderr,
                 "usage: churn_bench --endpoint URL --image NAME --berthd-pid PID [--cycles N] "
                 "[--sample N]\n");
    return 2;
  }
  auto stub = ::runtime::v1::RuntimeService::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  std::printf("  cycle  RSS (KiB)  anon (KiB)    fds  threads\n");
  Sample(0, pid);
  std::vector<double> times;
  int failed = 0;
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    double ms = Cycle(*stub, image, cycle);
    if (ms < 0) {
      ++failed;
    } else {
      times.push_back(ms);
    }
    if (cycle % sample == 0 || cycle == cycles) Sample(cycle, pid);
  }
  std::printf(
      "churn cycle (runp+create+start+stopp+rmp)  p50 %7.2f ms  p99 %7.2f ms  (%d cycles, %d "
      "failed)\n",
      Percentile(times, 0.5), Percentile(times, 0.99), cycles, failed);
  return failed == 0 ? 0 : 1;
}
