#include "base/cancel.h"
#include "cri/admin_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {

grpc::Status AdminService::ImportImage(grpc::ServerContext* context,
                                       const berth::admin::v1::ImportImageRequest* request,
                                       berth::admin::v1::ImportImageResponse* response) {
  if (request->path().empty() || request->path().front() != '/') {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "import path must be absolute, got \"" + request->path() + "\"");
  }
  CancelToken cancel(context->deadline());
  auto imported = images_.Import(request->path(), request->name(), cancel);
  if (!imported) return ToGrpcStatus(imported.error());
  for (const auto& record : *imported) {
    auto* image = response->add_images();
    image->set_id(record.id);
    for (const auto& tag : record.repo_tags) image->add_repo_tags(tag);
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
