#include "cri/rpc_logging.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

namespace berth::cri {
namespace {

class RpcLoggingInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcLoggingInterceptor(grpc::experimental::ServerRpcInfo* info, InFlightRpcs* in_flight)
      : method_(info->method()), start_(std::chrono::steady_clock::now()), in_flight_(in_flight) {
    in_flight_->Begin();
  }
  ~RpcLoggingInterceptor() override { in_flight_->End(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                               start_);
      if (status.ok()) {
        spdlog::debug("rpc={} code=OK duration_ms={:.3f}", method_, elapsed.count());
      } else {
        auto level = status.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
                             status.error_code() == grpc::StatusCode::NOT_FOUND
                         ? spdlog::level::debug
                         : spdlog::level::warn;
        spdlog::log(level, "rpc={} code={} duration_ms={:.3f} error=\"{}\"", method_,
                    static_cast<int>(status.error_code()), elapsed.count(),
                    status.error_message());
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  std::chrono::steady_clock::time_point start_;
  InFlightRpcs* in_flight_;
};

class RpcLoggingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcLoggingFactory(InFlightRpcs* in_flight) : in_flight_(in_flight) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcLoggingInterceptor(info, in_flight_);
  }

 private:
  InFlightRpcs* in_flight_;
};

}  // namespace

void InFlightRpcs::Begin() {
  std::lock_guard lock(mutex_);
  ++count_;
}

void InFlightRpcs::End() {
  std::lock_guard lock(mutex_);
  if (--count_ == 0) idle_.notify_all();
}

int InFlightRpcs::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  idle_.wait_until(lock, deadline, [this] { return count_ == 0; });
  return count_;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcLoggingFactory(
    InFlightRpcs* in_flight) {
  return std::make_unique<RpcLoggingFactory>(in_flight);
}

}  // namespace berth::cri
