// runtime.v1.ImageService over image::ImageManager. One file per RPC (named beside each
// declaration below); every handler's body runs through Serve (rpc_edge.h).
#pragma once

#include "cri_api.h"
#include "image/image_manager.h"

namespace berth::cri {

class ImageService final : public ::runtime::v1::ImageService::Service {
 public:
  explicit ImageService(image::ImageManager& images) : images_(images) {}

  // image_list.cc
  grpc::Status ListImages(grpc::ServerContext* context,
                          const ::runtime::v1::ListImagesRequest* request,
                          ::runtime::v1::ListImagesResponse* response) override;
  // image_status.cc
  grpc::Status ImageStatus(grpc::ServerContext* context,
                           const ::runtime::v1::ImageStatusRequest* request,
                           ::runtime::v1::ImageStatusResponse* response) override;
  // image_pull.cc
  grpc::Status PullImage(grpc::ServerContext* context,
                         const ::runtime::v1::PullImageRequest* request,
                         ::runtime::v1::PullImageResponse* response) override;
  // image_remove.cc
  grpc::Status RemoveImage(grpc::ServerContext* context,
                           const ::runtime::v1::RemoveImageRequest* request,
                           ::runtime::v1::RemoveImageResponse* response) override;
  // image_fs_info.cc
  grpc::Status ImageFsInfo(grpc::ServerContext* context,
                           const ::runtime::v1::ImageFsInfoRequest* request,
                           ::runtime::v1::ImageFsInfoResponse* response) override;

 private:
  image::ImageManager& images_;
};

}  // namespace berth::cri
