#include "base/cancel.h"
#include "cri/image_service.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"

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
  return Serve("PullImage", [&]() -> Result<void> {
    BERTH_TRY(NeedImageName(request->image().image()));
    // The caller's gRPC deadline bounds the whole pull.
    CancelToken cancel(context->deadline());
    BERTH_ASSIGN_OR_RETURN(image::ImageRecord record,
                           images_.Pull(request->image().image(), CredentialsOf(*request), cancel));
    response->set_image_ref(record.id);
    return Ok();
  });
}

}  // namespace berth::cri
