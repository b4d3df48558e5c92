#include "cri/rpc_edge.h"

#include <cxxabi.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>

#include "cri/status_mapping.h"

namespace berth::cri {

grpc::Status Serve(std::string_view rpc, const std::function<Result<void>()>& body) {
  std::string what;
  try {
    Result<void> result = body();
    if (result.ok()) return grpc::Status::OK;
    return ToGrpcStatus(result.error());
  } catch (const abi::__forced_unwind&) {
    throw;  // thread cancellation must unwind on
  } catch (const std::exception& exception) {
    what = exception.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  spdlog::error("rpc={} internal error: {}", rpc, what);
  return ToGrpcStatus(Internal("internal error in " + std::string(rpc) + ": " + what));
}

}  // namespace berth::cri
