#include "base/cancel.h"
#include "cri/admin_service.h"
#include "cri/rpc_edge.h"

namespace berth::cri {

grpc::Status AdminService::ImportImage(grpc::ServerContext* context,
                                       const berth::admin::v1::ImportImageRequest* request,
                                       berth::admin::v1::ImportImageResponse* response) {
  return Serve("ImportImage", [&]() -> Result<void> {
    // berthd reads the path itself: a relative one would be relative to berthd's directory.
    if (request->path().empty() || request->path().front() != '/') {
      return InvalidArgument("import path must be absolute, got \"" + request->path() + "\"");
    }
    CancelToken cancel(context->deadline());
    BERTH_ASSIGN_OR_RETURN(auto imported, images_.Import(request->path(), request->name(), cancel));
    for (const auto& record : imported) {
      auto* image = response->add_images();
      image->set_id(record.id);
      for (const auto& tag : record.repo_tags) image->add_repo_tags(tag);
    }
    return Ok();
  });
}

}  // namespace berth::cri
