// The CRI benchmarks' client context: a deadline generous enough for the slowest call measured
// (a create under load), so that a timeout never passes for a result.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

namespace berth::bench {

inline std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  return context;
}

}  // namespace berth::bench
