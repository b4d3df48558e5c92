// A server interceptor that logs every CRI call once, at debug level, with its method, gRPC code
// and duration (failures at warn, so they show at the default level too), and counts the calls in
// flight so that shutdown can wait for them.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace berth::cri {

class InFlightRpcs {
 public:
  using Clock = std::chrono::steady_clock;

  // A call of `method` ("/runtime.v1.RuntimeService/RunPodSandbox") began; the id ends it.
  uint64_t Begin(const std::string& method);
  void End(uint64_t id);
  // Waits until no call is in flight or `deadline` passes; returns how many are left.
  int WaitIdle(Clock::time_point deadline);
  // The calls in flight, oldest first: "/runtime.v1.ImageService/PullImage (running 10.2 s)".
  std::string Describe();

 private:
  struct Call {
    std::string method;
    Clock::time_point started;
  };

  std::mutex mutex_;
  std::condition_variable idle_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Call> calls_;
};

// `in_flight` must outlive the server (shared, so that shutdown's last resort can still read it
// while handlers that never returned hold the server up).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcLoggingFactory(
    std::shared_ptr<InFlightRpcs> in_flight);

}  // namespace berth::cri
