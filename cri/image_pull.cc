#include <chrono>

#include "base/cancel.h"
#include "cri/image_service.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"
#include "metrics/berth_metrics.h"

namespace berth::cri {
namespace {

// The request's AuthConfig, if it carries any credential.
std::optional<RegistryAuth> CredentialsOf(const ::runtime::v1::PullImageRequest& request) {
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

void CountPull(const Result<image::ImageRecord>& pulled, std::chrono::steady_clock::duration took) {
  auto& registry = metrics::DefaultRegistry();
  metrics::Labels result = {{"result", pulled ? "success" : "failure"}};
  registry.Increment(metrics::kPulls, result);
  registry.Observe(metrics::kPullDuration, result, std::chrono::duration<double>(took).count());
  if (pulled) registry.Increment(metrics::kPullBytes, {}, static_cast<double>(pulled->size));
}

}  // namespace

grpc::Status ImageService::PullImage(grpc::ServerContext* context,
                                     const ::runtime::v1::PullImageRequest* request,
                                     ::runtime::v1::PullImageResponse* response) {
  return Serve("PullImage", [&]() -> Result<void> {
    BERTH_TRY(NeedImageName(request->image().image()));
    // The caller's gRPC deadline bounds the whole pull.
    CancelToken cancel(context->deadline());
    auto started = std::chrono::steady_clock::now();
    auto pulled = images_.Pull(request->image().image(), CredentialsOf(*request), cancel);
    CountPull(pulled, std::chrono::steady_clock::now() - started);
    BERTH_ASSIGN_OR_RETURN(image::ImageRecord record, std::move(pulled));
    response->set_image_ref(record.id);
    return Ok();
  });
}

}  // namespace berth::cri
