// The one edge every RPC handler goes through (RuntimeService, ImageService, AdminService): the
// handler's body returns Result<void>, and Serve
//  - turns its Error into the grpc::Status (status_mapping.h; nothing else in cri/ builds one),
//  - answers any C++ exception that escapes the body with INTERNAL "internal error in <rpc>:
//    <what>", logged at error level with the RPC's name, where gRPC would otherwise answer
//    UNKNOWN "Unexpected error in RPC handling" and log nothing useful.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <string_view>

#include "base/result.h"

namespace berth::cri {

// `rpc` is the CRI method's name ("CreateContainer"); it names the call in the log and in the
// INTERNAL message.
grpc::Status Serve(std::string_view rpc, const std::function<Result<void>()>& body);

}  // namespace berth::cri
