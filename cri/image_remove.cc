#include "cri/image_service.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"

namespace berth::cri {

// Refuses an image in use; frees what no other image shares.
grpc::Status ImageService::RemoveImage(grpc::ServerContext*,
                                       const ::runtime::v1::RemoveImageRequest* request,
                                       ::runtime::v1::RemoveImageResponse*) {
  return Serve("RemoveImage", [&]() -> Result<void> {
    BERTH_TRY(NeedImageName(request->image().image()));
    // CRI: removing an image that is already gone is not an error. Only the name's resolution
    // says so: a NotFound from deeper down (a missing blob) is a real failure.
    auto known = images_.Resolve(request->image().image());
    if (!known && known.error().code() == ErrorCode::kNotFound) return Ok();
    return images_.Remove(request->image().image());
  });
}

}  // namespace berth::cri
