// RunPodSandbox and StopPodSandbox+RemovePodSandbox latency against a running berthd:
//   sandbox_bench --endpoint unix:///run/berth/berth.sock [--pods 100] [--concurrent 20]
// Prints p50/p99 of each over --pods sequential pods, then the wall time of --concurrent pods
// created at once. Start berthd in the network mode to measure (builtin or cni).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/cri_context.h"
#include "bench/percentile.h"
#include "cri_api.h"

namespace {

using berth::bench::Context;
using berth::bench::Percentile;

using Clock = std::chrono::steady_clock;

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

::runtime::v1::RunPodSandboxRequest PodRequest(const std::string& name) {
  ::runtime::v1::RunPodSandboxRequest request;
  auto* config = request.mutable_config();
  config->mutable_metadata()->set_name(name);
  config->mutable_metadata()->set_namespace_("bench");
  config->mutable_metadata()->set_uid("uid-" + name);
  config->set_hostname(name);
  return request;
}

bool RunOne(::runtime::v1::RuntimeService::Stub& stub, const std::string& name, double* run_ms,
            double* teardown_ms) {
  ::runtime::v1::RunPodSandboxResponse created;
  auto start = Clock::now();
  auto status = stub.RunPodSandbox(Context().get(), PodRequest(name), &created);
  *run_ms = Millis(Clock::now() - start);
  if (!status.ok()) {
    std::fprintf(stderr, "RunPodSandbox %s: %s\n", name.c_str(), status.error_message().c_str());
    return false;
  }
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(created.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(created.pod_sandbox_id());
  ::runtime::v1::StopPodSandboxResponse stopped;
  ::runtime::v1::RemovePodSandboxResponse removed;
  start = Clock::now();
  bool ok = stub.StopPodSandbox(Context().get(), stop, &stopped).ok() &&
            stub.RemovePodSandbox(Context().get(), remove, &removed).ok();
  *teardown_ms = Millis(Clock::now() - start);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/berth/berth.sock";
  int pods = 100, concurrent = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--endpoint") endpoint = argv[i + 1];
    if (flag == "--pods") pods = std::stoi(argv[i + 1]);
    if (flag == "--concurrent") concurrent = std::stoi(argv[i + 1]);
  }
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto stub = ::runtime::v1::RuntimeService::NewStub(channel);
  std::vector<double> run, teardown;
  for (int i = 0; i < pods; ++i) {
    double run_ms = 0, teardown_ms = 0;
    if (!RunOne(*stub, "bench-" + std::to_string(i), &run_ms, &teardown_ms)) return 1;
    run.push_back(run_ms);
    teardown.push_back(teardown_ms);
  }
  std::printf("RunPodSandbox               p50 %7.2f ms  p99 %7.2f ms  (%d pods)\n",
              Percentile(run, 0.5), Percentile(run, 0.99), pods);
  std::printf("StopPodSandbox+RemovePodSandbox p50 %7.2f ms  p99 %7.2f ms\n",
              Percentile(teardown, 0.5), Percentile(teardown, 0.99));

  std::vector<std::thread> threads;
  std::vector<double> each(concurrent);
  std::vector<int> ok(concurrent, 0);
  auto start = Clock::now();
  for (int i = 0; i < concurrent; ++i) {
    threads.emplace_back([&, i] {
      double teardown_ms = 0;
      ok[i] = RunOne(*stub, "concurrent-" + std::to_string(i), &each[i], &teardown_ms);
    });
  }
  for (auto& thread : threads) thread.join();
  double wall = Millis(Clock::now() - start);
  int failures = static_cast<int>(std::count(ok.begin(), ok.end(), 0));
  std::printf(
      "%d concurrent RunPodSandbox: wall %.1f ms (incl. teardown), p50 %.2f ms, "
      "p99 %.2f ms, %d failed\n",
      concurrent, wall, Percentile(each, 0.5), Percentile(each, 0.99), failures);
  return failures == 0 ? 0 : 1;
}
