// berthctl's connection to a CRI endpoint.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "berth_admin.grpc.pb.h"
#include "cri_api.h"

namespace berthctl {

inline constexpr char kDefaultEndpoint[] = "unix:///run/berth/berth.sock";

struct GlobalOptions {
  std::string endpoint = kDefaultEndpoint;
  int timeout_seconds = 10;
  std::string output = "table";  // table or json
  // For https:// streaming URLs (exec, attach, port-forward against a TLS streaming server).
  std::string tls_ca_file;
  bool insecure_skip_tls_verify = false;
};

class Client {
 public:
  explicit Client(const GlobalOptions& options);

  ::runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  ::runtime::v1::ImageService::Stub& images() { return *images_; }
  berth::admin::v1::Admin::Stub& admin() { return *admin_; }
  // A context carrying the --timeout deadline (or `timeout_seconds` when given); one per call.
  std::unique_ptr<grpc::ClientContext> Context(int timeout_seconds = 0) const;
  // For a stream that runs until it is cancelled: --timeout bounds only the connecting, so this
  // waits up to it for the channel to connect (false when it did not) ...
  bool WaitForConnection() const;
  // ... and the stream's own context has no deadline.
  std::unique_ptr<grpc::ClientContext> StreamContext() const;

 private:
  std::chrono::seconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
  std::unique_ptr<berth::admin::v1::Admin::Stub> admin_;
};

// Prints "berthctl: <what>: <gRPC code name>: <message>" to stderr and returns exit code 1.
int ReportRpcError(const std::string& what, const grpc::Status& status);

}  // namespace berthctl
