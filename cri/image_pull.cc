#include <spdlog/spdlog.h>

#include "base/cancel.h"
#include "cri/image_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {
namespace {

// The request's AuthConfig, if it carries any credential.
std::optional<RegistryAuth> CredentialsOf(const runtime::v1::PullImageRequest& request) {
  if (!request.has_auth()) return std::nullopt;
  const auto& auth = request.auth();
  RegistryAuth credentials{auth.username(), auth.password(), auth.auth(), auth.identity_token(),
                           auth.registry_token()};
  if (credentials.username.empty() && credentials.password.empty() && credentials.auth.empty() &&
      credentials.identity_token.empty() && credentials.registry_token.empty()) {
    return std::nullopt;
  }
  return credentials;
}

}  // namespace

grpc::Status ImageService::PullImage(grpc::ServerContext* context,
                                     const runtime::v1::PullImageRequest* request,
                                     runtime::v1::PullImageResponse* response) {
  const std::string& name = request->image().image();
  if (name.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "image name is empty");
  // The caller's gRPC deadline bounds the whole pull.
  CancelToken cancel(context->deadline());
  auto record = images_.Pull(name, CredentialsOf(*request), cancel);
  if (!record) return ToGrpcStatus(record.error());
  response->set_image_ref(record->id);
  return grpc::Status::OK;
}

}  // namespace berth::cri
