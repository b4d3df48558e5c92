// berth.admin.v1.Admin: what berthctl needs that the CRI has no call for (image import). Its
// handlers run through Serve (rpc_edge.h) like the CRI's.
#pragma once

#include "berth_admin.grpc.pb.h"
#include "image/image_manager.h"

namespace berth::cri {

class AdminService final : public berth::admin::v1::Admin::Service {
 public:
  explicit AdminService(image::ImageManager& images) : images_(images) {}

  // admin_import.cc
  grpc::Status ImportImage(grpc::ServerContext* context,
                           const berth::admin::v1::ImportImageRequest* request,
                           berth::admin::v1::ImportImageResponse* response) override;

 private:
  image::ImageManager& images_;
};

}  // namespace berth::cri
