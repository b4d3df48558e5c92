// berth's error codes as gRPC codes. Serve (rpc_edge.h) is the one caller: every RPC's Error
// becomes its grpc::Status there.
#pragma once

#include <grpcpp/support/status.h>

#include "base/error.h"

namespace berth::cri {

grpc::StatusCode ToGrpcCode(ErrorCode code);
// The code mapped, the message (the whole context chain) kept as it is.
grpc::Status ToGrpcStatus(const Error& error);

}  // namespace berth::cri
