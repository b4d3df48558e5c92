#include "cri/image_convert.h"
#include "cri/image_service.h"
#include "cri/rpc_edge.h"

namespace berth::cri {

// With a filter image, only that image (when it resolves); else all of them.
grpc::Status ImageService::ListImages(grpc::ServerContext*,
                                      const ::runtime::v1::ListImagesRequest* request,
                                      ::runtime::v1::ListImagesResponse* response) {
  return Serve("ListImages", [&]() -> Result<void> {
    std::vector<image::ImageRecord> records;
    if (request->has_filter() && !request->filter().image().image().empty()) {
      auto found = images_.Resolve(request->filter().image().image());
      if (found) records.push_back(*found);
    } else {
      records = images_.List();
    }
    for (const auto& record : records) {
      auto config = images_.Config(record);
      FillImage(record, config ? &*config : nullptr, response->add_images());
    }
    return Ok();
  });
}

}  // namespace berth::cri
