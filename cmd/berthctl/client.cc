#include "cmd/berthctl/client.h"

#include <cstdio>

namespace berthctl {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "Canceled";
    case grpc::StatusCode::UNKNOWN: return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT: return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND: return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS: return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED: return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FailedPrecondition";
    case grpc::StatusCode::ABORTED: return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE: return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED: return "Unimplemented";
    case grpc::StatusCode::INTERNAL: return "Internal";
    case grpc::StatusCode::UNAVAILABLE: return "Unavailable";
    case grpc::StatusCode::DATA_LOSS: return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED: return "Unauthenticated";
    default: return "Unknown";
  }
}

}  // namespace

Client::Client(const GlobalOptions& options)
    : timeout_(options.timeout_seconds),
      channel_(grpc::CreateChannel(options.endpoint, grpc::InsecureChannelCredentials())),
      runtime_(::runtime::v1::RuntimeService::NewStub(channel_)),
      images_(::runtime::v1::ImageService::NewStub(channel_)),
      admin_(berth::admin::v1::Admin::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::Context(int timeout_seconds) const {
  auto context = std::make_unique<grpc::ClientContext>();
  auto timeout = timeout_seconds > 0 ? std::chrono::seconds(timeout_seconds) : timeout_;
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

bool Client::WaitForConnection() const {
  return channel_->WaitForConnected(std::chrono::system_clock::now() + timeout_);
}

std::unique_ptr<grpc::ClientContext> Client::StreamContext() const {
  return std::make_unique<grpc::ClientContext>();
}

int ReportRpcError(const std::string& what, const grpc::Status& status) {
  std::fprintf(stderr, "berthctl: %s: %s: %s\n", what.c_str(), CodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

}  // namespace berthctl
