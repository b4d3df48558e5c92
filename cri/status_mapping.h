// The one place where berth's errors become gRPC statuses.
#pragma once

#include <grpcpp/support/status.h>

#include "base/error.h"
#include "base/result.h"

namespace berth::cri {

grpc::StatusCode ToGrpcCode(ErrorCode code);
grpc::Status ToGrpcStatus(const Error& error);
grpc::Status ToGrpcStatus(const Result<void>& result);

}  // namespace berth::cri
