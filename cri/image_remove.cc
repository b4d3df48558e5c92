#include "cri/image_service.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"

namespace berth::cri {

// Refuses an image in use; frees what no other image shares.
grpc::Status ImageService::RemoveImage(grpc::ServerContext*,
                                       const runtime::v1::RemoveImageRequest* request,
                                       runtime::v1::RemoveImageResponse*) {
  return Serve("RemoveImage", [&]() -> Result<void> {
    BERTH_TRY(NeedImageName(request->image().image()));
    auto removed = images_.Remove(request->image().image());
    // CRI: removing an image that is already gone is not an error.
    if (!removed && removed.error().code() == ErrorCode::kNotFound) return Ok();
    return removed;
  });
}

}  // namespace berth::cri
