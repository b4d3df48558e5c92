// Streaming benchmarks against a running berthd that has the busybox image `--image`
// (bench/stream_bench.sh sets all that up):
//   stream_bench --endpoint unix:///... --image NAME [--runs 200] [--transfer-mb 256]
//                [--transfer-runs 3]
// - ExecSync round trip of /bin/true in a running container;
// - Exec RPC + RunRemoteCommand to completion of /bin/true, over SPDY and over WebSocket;
// - port-forward throughput through one PortForward session (SPDY, and SPDY tunnelled in
//   WebSocket): `--transfer-mb` MiB to a sink in the pod and from a source in the pod.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "bench/cri_context.h"
#include "bench/percentile.h"
#include "cri/streaming/client/streaming_client.h"
#include "cri_api.h"

namespace {

using berth::bench::Context;
using berth::bench::Percentile;

using berth::Result;
using berth::UniqueFd;
using berth::streaming::client::PortForwarder;
using berth::streaming::client::Transport;
using Clock = std::chrono::steady_clock;
using Stub = ::runtime::v1::RuntimeService::Stub;

constexpr int kWarmupRuns = 5;
// The pod's servers (busybox nc forks one `-e` child per connection, its stdio the socket).
constexpr int32_t kSinkPort = 9001;
constexpr int32_t kSourcePort = 9000;

double Mean(const std::vector<double>& values) {
  double sum = 0;
  for (double value : values) sum += value;
  return sum / values.size();
}

double Milliseconds(Clock::duration elapsed) {
  return std::chrono::duration<double, std::milli>(elapsed).count();
}

const char* TransportName(Transport transport) {
  return transport == Transport::kSpdy ? "SPDY" : "WebSocket";
}

void PrintLatencies(const std::string& what, const std::vector<double>& latencies) {
  std::printf("%-36s p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms  (%zu runs)\n", what.c_str(),
              Percentile(latencies, 0.5), Percentile(latencies, 0.99), Mean(latencies),
              latencies.size());
}

// Creates and starts a container running `command`; returns its id, or "" after printing why not.
std::string RunContainer(Stub& stub, const std::string& pod_id,
                         const ::runtime::v1::PodSandboxConfig& pod_config, const std::string& name,
                         const std::string& image, const std::vector<std::string>& command) {
  ::runtime::v1::CreateContainerRequest create;
  create.set_pod_sandbox_id(pod_id);
  *create.mutable_sandbox_config() = pod_config;
  auto* config = create.mutable_config();
  config->mutable_metadata()->set_name(name);
  config->mutable_image()->set_image(image);
  for (const auto& arg : command) config->add_command(arg);
  ::runtime::v1::CreateContainerResponse created;
  auto status = stub.CreateContainer(Context().get(), create, &created);
  if (!status.ok()) {
    std::fprintf(stderr, "CreateContainer %s: %s\n", name.c_str(), status.error_message().c_str());
    return "";
  }
  ::runtime::v1::StartContainerRequest start;
  start.set_container_id(created.container_id());
  ::runtime::v1::StartContainerResponse started;
  status = stub.StartContainer(Context().get(), start, &started);
  if (!status.ok()) {
    std::fprintf(stderr, "StartContainer %s: %s\n", name.c_str(), status.error_message().c_str());
    return "";
  }
  return created.container_id();
}

bool ExecSyncTrue(Stub& stub, const std::string& container_id) {
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(container_id);
  request.add_cmd("/bin/true");
  request.set_timeout(10);
  ::runtime::v1::ExecSyncResponse response;
  auto status = stub.ExecSync(Context().get(), request, &response);
  if (!status.ok() || response.exit_code() != 0) {
    std::fprintf(stderr, "ExecSync /bin/true: %s (exit %d)\n", status.error_message().c_str(),
                 response.exit_code());
    return false;
  }
  return true;
}

// What `kubectl exec POD -- true` does: Exec for a URL, then the remote command over it with
// stdout and stderr (no stdin, no TTY) until the error stream reports the exit.
bool ExecTrue(Stub& stub, const std::string& container_id, Transport transport) {
  ::runtime::v1::ExecRequest request;
  request.set_container_id(container_id);
  request.add_cmd("/bin/true");
  request.set_stdout(true);
  request.set_stderr(true);
  ::runtime::v1::ExecResponse response;
  auto status = stub.Exec(Context().get(), request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "Exec /bin/true: %s\n", status.error_message().c_str());
    return false;
  }
  berth::streaming::client::RemoteCommandOptions options;
  options.transport = transport;
  auto exit_code =
      berth::streaming::client::RunRemoteCommand(response.url(), options, -1, -1, -1, nullptr);
  if (!exit_code.ok() || *exit_code != 0) {
    std::string why =
        exit_code.ok() ? "exit " + std::to_string(*exit_code) : exit_code.error().message();
    std::fprintf(stderr, "RunRemoteCommand /bin/true over %s: %s\n", TransportName(transport),
                 why.c_str());
    return false;
  }
  return true;
}

template <typename Operation>
bool MeasureLatency(const std::string& what, int runs, Operation operation) {
  for (int i = 0; i < kWarmupRuns; ++i) {
    if (!operation()) return false;
  }
  std::vector<double> latencies;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    if (!operation()) return false;
    latencies.push_back(Milliseconds(Clock::now() - start));
  }
  PrintLatencies(what, latencies);
  return true;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Reads until EOF; returns the byte count and keeps the first `keep` bytes in `head`.
size_t ReadToEnd(int fd, std::string* head, size_t keep) {
  static std::vector<char> buffer(1 << 20);
  size_t total = 0;
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return total;
    if (head->size() < keep)
      head->append(buffer.data(), std::min(static_cast<size_t>(n), keep - head->size()));
    total += static_cast<size_t>(n);
  }
}

enum class Direction { kToPod, kFromPod };

struct Transfer {
  bool ok = false;
  bool retry = false;  // the pod's server was not listening yet: nothing moved
  double seconds = 0;
  std::string error;
};

// One transfer of `bytes` through a fresh PortForward session. Timed from the first byte
// written (or the read started) to the end of the reply, which the pod's side closes only after
// its dd has read everything (to the sink) or written everything (from the source).
Transfer TransferOnce(Stub& stub, const std::string& pod_id, Transport transport,
                      Direction direction, size_t bytes) {
  Transfer result;
  int32_t port = direction == Direction::kToPod ? kSinkPort : kSourcePort;
  ::runtime::v1::PortForwardRequest request;
  request.set_pod_sandbox_id(pod_id);
  request.add_port(port);
  ::runtime::v1::PortForwardResponse response;
  auto status = stub.PortForward(Context().get(), request, &response);
  if (!status.ok()) {
    result.error = "PortForward: " + status.error_message();
    return result;
  }
  auto forwarder = PortForwarder::Connect(response.url(), transport);
  if (!forwarder.ok()) {
    result.error = "connect: " + forwarder.error().message();
    return result;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    result.error = "socketpair failed";
    return result;
  }
  UniqueFd ours(pair[0]);
  auto forwarded = std::async(std::launch::async, [&, theirs = UniqueFd(pair[1])]() mutable {
    return (*forwarder)->Forward(port, std::move(theirs));
  });
  std::string reply;
  size_t received = 0;
  bool sent = true;
  auto start = Clock::now();
  if (direction == Direction::kToPod) {
    static const std::vector<char> chunk(1 << 20, '\0');
    for (size_t left = bytes; left > 0 && sent; left -= std::min(left, chunk.size())) {
      sent = WriteAll(ours.get(), chunk.data(), std::min(left, chunk.size()));
    }
    ::shutdown(ours.get(), SHUT_WR);
    received = ReadToEnd(ours.get(), &reply, 4096);
  } else {
    ::shutdown(ours.get(), SHUT_WR);
    received = ReadToEnd(ours.get(), &reply, 0);
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ours.reset();
  auto done = forwarded.get();
  if (!done.ok()) {
    result.retry = received == 0;
    result.error = done.error().message();
    return result;
  }
  if (direction == Direction::kToPod) {
    // dd with iflag=fullblock counts whole 1 MiB blocks: "N+0 records in" proves all N arrived.
    std::string expected = std::to_string(bytes >> 20) + "+0 records in";
    if (!sent || reply.find(expected) == std::string::npos) {
      result.error = "sink did not confirm " + expected + ", said: " + reply;
      return result;
    }
  } else if (received != bytes) {
    result.error =
        "received " + std::to_string(received) + " of " + std::to_string(bytes) + " bytes";
    return result;
  }
  result.ok = true;
  return result;
}

bool MeasureThroughput(Stub& stub, const std::string& pod_id, Transport transport,
                       Direction direction, size_t megabytes, int runs) {
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    Transfer transfer;
    // Only the first transfer can find the pod's nc not yet listening.
    for (int attempt = 0; attempt < 50; ++attempt) {
      transfer = TransferOnce(stub, pod_id, transport, direction, megabytes << 20);
      if (transfer.ok || !transfer.retry) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!transfer.ok) {
      std::fprintf(stderr, "port-forward over %s: %s\n", TransportName(transport),
                   transfer.error.c_str());
      return false;
    }
    rates.push_back(static_cast<double>(megabytes) / transfer.seconds);
  }
  std::string what = std::string("port-forward ") +
                     (direction == Direction::kToPod ? "to" : "from") + " pod (" +
                     TransportName(transport) + ")";
  std::string all;
  for (double rate : rates)
    all += (all.empty() ? "" : ", ") + std::to_string(static_cast<int>(rate + 0.5));
  std::printf("%-36s median %7.1f MB/s  (%zu MiB, runs: %s)\n", what.c_str(),
              Percentile(rates, 0.5), megabytes, all.c_str());
  return true;
}

bool RunBenchmarks(Stub& stub, const std::string& pod_id,
                   const ::runtime::v1::PodSandboxConfig& pod_config, const std::string& image,
                   int runs, size_t megabytes, int transfer_runs) {
  std::string sleeper =
      RunContainer(stub, pod_id, pod_config, "sleeper", image, {"/bin/sleep", "3600"});
  // `nc -ll -e` forks a dd per connection with the socket as its stdin and stdout (not stderr);
  // iflag=fullblock makes the sink's record count exact, and the count is its reply.
  std::string sink =
      RunContainer(stub, pod_id, pod_config, "sink", image,
                   {"/bin/busybox", "nc", "-ll", "-p", std::to_string(kSinkPort), "-e",
                    "/bin/busybox", "sh", "-c", "exec dd of=/dev/null bs=1M iflag=fullblock 2>&1"});
  std::string source = RunContainer(
      stub, pod_id, pod_config, "source", image,
      {"/bin/busybox", "nc", "-ll", "-p", std::to_string(kSourcePort), "-e", "/bin/busybox", "sh",
       "-c", "exec dd if=/dev/zero bs=1M count=" + std::to_string(megabytes) + " 2>/dev/null"});
  if (sleeper.empty() || sink.empty() || source.empty()) return false;

  if (!MeasureLatency("ExecSync /bin/true", runs, [&] { return ExecSyncTrue(stub, sleeper); }))
    return false;
  for (auto transport : {Transport::kSpdy, Transport::kWebSocket}) {
    std::string what = std::string("Exec+RunRemoteCommand (") + TransportName(transport) + ")";
    if (!MeasureLatency(what, runs, [&] { return ExecTrue(stub, sleeper, transport); }))
      return false;
  }
  for (auto transport : {Transport::kSpdy, Transport::kWebSocket}) {
    for (auto direction : {Direction::kToPod, Direction::kFromPod}) {
      if (!MeasureThroughput(stub, pod_id, transport, direction, megabytes, transfer_runs))
        return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoint = "unix:///run/berth/berth.sock", image;
  int runs = 200, transfer_runs = 3;
  size_t megabytes = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--endpoint") endpoint = argv[i + 1];
    if (flag == "--image") image = argv[i + 1];
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--transfer-mb") megabytes = std::stoul(argv[i + 1]);
    if (flag == "--transfer-runs") transfer_runs = std::stoi(argv[i + 1]);
  }
  // A refused dial shuts the forwarded socket while a transfer may still be writing to it.
  ::signal(SIGPIPE, SIG_IGN);
  auto stub = ::runtime::v1::RuntimeService::NewStub(
      grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  ::runtime::v1::RunPodSandboxRequest pod;
  pod.mutable_config()->mutable_metadata()->set_name("stream-bench");
  pod.mutable_config()->mutable_metadata()->set_namespace_("bench");
  pod.mutable_config()->mutable_metadata()->set_uid("stream-bench-uid");
  ::runtime::v1::RunPodSandboxResponse pod_created;
  auto status = stub->RunPodSandbox(Context().get(), pod, &pod_created);
  if (!status.ok()) {
    std::fprintf(stderr, "RunPodSandbox: %s\n", status.error_message().c_str());
    return 1;
  }
  bool ok = RunBenchmarks(*stub, pod_created.pod_sandbox_id(), pod.config(), image, runs, megabytes,
                          transfer_runs);
  ::runtime::v1::StopPodSandboxRequest stop_pod;
  stop_pod.set_pod_sandbox_id(pod_created.pod_sandbox_id());
  ::runtime::v1::StopPodSandboxResponse pod_stopped;
  (void)stub->StopPodSandbox(Context().get(), stop_pod, &pod_stopped);
  ::runtime::v1::RemovePodSandboxRequest remove_pod;
  remove_pod.set_pod_sandbox_id(pod_created.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse pod_removed;
  (void)stub->RemovePodSandbox(Context().get(), remove_pod, &pod_removed);
  return ok ? 0 : 1;
}
