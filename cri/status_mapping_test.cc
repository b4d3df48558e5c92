#include "cri/status_mapping.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace berth::cri {
namespace {

// Every ErrorCode, with the gRPC code clients act on (kubelet retries UNAVAILABLE, treats
// NOT_FOUND as gone, and so on).
const std::vector<std::pair<ErrorCode, grpc::StatusCode>>& AllCodes() {
  static const std::vector<std::pair<ErrorCode, grpc::StatusCode>> codes = {
      {ErrorCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {ErrorCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {ErrorCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {ErrorCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {ErrorCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {ErrorCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
      {ErrorCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {ErrorCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {ErrorCode::kCancelled, grpc::StatusCode::CANCELLED},
      {ErrorCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {ErrorCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {ErrorCode::kInternal, grpc::StatusCode::INTERNAL},
  };
  return codes;
}

TEST(StatusMappingTest, EveryErrorCodeHasItsGrpcCode) {
  for (const auto& [code, grpc_code] : AllCodes()) {
    EXPECT_EQ(ToGrpcCode(code), grpc_code) << ErrorCodeName(code);
  }
  // The table above is complete: kInternal is the last enumerator.
  EXPECT_EQ(AllCodes().size(), static_cast<size_t>(ErrorCode::kInternal) + 1);
}

TEST(StatusMappingTest, StatusKeepsTheWholeMessage) {
  for (const auto& [code, grpc_code] : AllCodes()) {
    Error error = Error(code, "mount /data: host path does not exist")
                      .Wrap("create container \"web\" in pod 3f2a");
    grpc::Status status = ToGrpcStatus(error);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.error_code(), grpc_code);
    EXPECT_EQ(status.error_message(),
              "create container \"web\" in pod 3f2a: mount /data: host path does not exist");
  }
}

TEST(StatusMappingTest, ErrnoErrorsKeepTheirCloserCode) {
  EXPECT_EQ(ToGrpcStatus(Error::FromErrno(ENOENT, "open /x")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(Error::FromErrno(EPERM, "mount")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToGrpcStatus(Error::FromErrno(EIO, "read")).error_code(), grpc::StatusCode::INTERNAL);
}

TEST(StatusMappingTest, AnUnknownCodeIsUnknownNotOk) {
  EXPECT_EQ(ToGrpcCode(static_cast<ErrorCode>(1000)), grpc::StatusCode::UNKNOWN);
}

}  // namespace
}  // namespace berth::cri
