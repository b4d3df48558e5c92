#include "cri/rpc_logging.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "metrics/berth_metrics.h"

namespace berth::cri {
namespace {

// "/runtime.v1.RuntimeService/RunPodSandbox" -> {"RuntimeService", "RunPodSandbox"}. Only the
// services berthd serves: a client's made-up method names must not make new series.
std::pair<std::string, std::string> ServiceAndMethod(const std::string& full) {
  size_t slash = full.rfind('/');
  size_t dot = full.rfind('.', slash);
  if (slash == std::string::npos || slash == 0 || dot == std::string::npos)
    return {"other", "other"};
  std::string service = full.substr(dot + 1, slash - dot - 1);
  if (full.rfind("/runtime.v1.", 0) != 0 && full.rfind("/berth.", 0) != 0)
    return {"other", "other"};
  return {service, full.substr(slash + 1)};
}

void CountRpc(const std::string& method, const grpc::Status& status, double seconds) {
  auto [service, name] = ServiceAndMethod(method);
  metrics::Labels labels = {
      {"service", service}, {"method", name}, {"code", metrics::GrpcCodeName(status.error_code())}};
  auto& registry = metrics::DefaultRegistry();
  registry.Observe(metrics::kRpcDuration, labels, seconds);
  if (!status.ok()) registry.Increment(metrics::kRpcErrors, labels);
}

class RpcLoggingInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcLoggingInterceptor(grpc::experimental::ServerRpcInfo* info,
                        std::shared_ptr<InFlightRpcs> in_flight)
      : method_(info->method()),
        start_(std::chrono::steady_clock::now()),
        in_flight_(std::move(in_flight)),
        id_(in_flight_->Begin(method_)) {}
  ~RpcLoggingInterceptor() override { in_flight_->End(id_); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      auto elapsed =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_);
      CountRpc(method_, status, elapsed.count() / 1000);
      if (status.ok()) {
        spdlog::debug("rpc={} code=OK duration_ms={:.3f}", method_, elapsed.count());
      } else {
        auto level = status.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
                             status.error_code() == grpc::StatusCode::NOT_FOUND
                         ? spdlog::level::debug
                         : spdlog::level::warn;
        spdlog::log(level, "rpc={} code={} duration_ms={:.3f} error=\"{}\"", method_,
                    static_cast<int>(status.error_code()), elapsed.count(), status.error_message());
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  std::chrono::steady_clock::time_point start_;
  std::shared_ptr<InFlightRpcs> in_flight_;
  uint64_t id_;
};

class RpcLoggingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcLoggingFactory(std::shared_ptr<InFlightRpcs> in_flight)
      : in_flight_(std::move(in_flight)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcLoggingInterceptor(info, in_flight_);
  }

 private:
  std::shared_ptr<InFlightRpcs> in_flight_;
};

}  // namespace

uint64_t InFlightRpcs::Begin(const std::string& method) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_id_++;
  calls_.emplace(id, Call{method, Clock::now()});
  return id;
}

void InFlightRpcs::End(uint64_t id) {
  std::lock_guard lock(mutex_);
  calls_.erase(id);
  if (calls_.empty()) idle_.notify_all();
}

int InFlightRpcs::WaitIdle(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  idle_.wait_until(lock, deadline, [this] { return calls_.empty(); });
  return static_cast<int>(calls_.size());
}

std::string InFlightRpcs::Describe() {
  std::lock_guard lock(mutex_);
  std::string text;
  auto now = Clock::now();
  for (const auto& [id, call] : calls_) {  // ids grow: oldest first
    if (!text.empty()) text += ", ";
    text += fmt::format("{} (running {:.1f} s)", call.method,
                        std::chrono::duration<double>(now - call.started).count());
  }
  return text;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeRpcLoggingFactory(
    std::shared_ptr<InFlightRpcs> in_flight) {
  return std::make_unique<RpcLoggingFactory>(std::move(in_flight));
}

}  // namespace berth::cri
