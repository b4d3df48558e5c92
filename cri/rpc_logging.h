// A server interceptor that logs every CRI call once, at debug level, with its method, gRPC code
// and duration (failures at warn, so they show at the default level too), and counts the calls in
// flight so that shutdown can wait for them.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace berth::cri {

class InFlightRpcs {
 public:
  void Begin();
  void End();
  // Waits until no call is in flight or `deadline` passes; returns how many are left.
  int WaitIdle(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcLoggingFactory(
    InFlightRpcs* in_flight);

}  // namespace berth::cri
