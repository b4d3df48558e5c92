#include "cri/image_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {

grpc::Status ImageService::RemoveImage(grpc::ServerContext*,
                                       const runtime::v1::RemoveImageRequest* request,
                                       runtime::v1::RemoveImageResponse*) {
  const std::string& name = request->image().image();
  if (name.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "image name is empty");
  auto removed = images_.Remove(name);
  // CRI: removing an image that is already gone is not an error.
  if (!removed && removed.error().code() == ErrorCode::kNotFound) return grpc::Status::OK;
  return ToGrpcStatus(removed);
}

}  // namespace berth::cri
