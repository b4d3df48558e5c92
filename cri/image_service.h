// runtime.v1.ImageService over image::ImageManager. One file per RPC: image_pull.cc,
// image_list.cc (ListImages, ImageStatus), image_remove.cc, image_fs_info.cc.
#pragma once

#include "cri_api.h"
#include "image/image_manager.h"

namespace berth::cri {

class ImageService final : public runtime::v1::ImageService::Service {
 public:
  explicit ImageService(image::ImageManager& images) : images_(images) {}

  grpc::Status ListImages(grpc::ServerContext* context, const runtime::v1::ListImagesRequest* request,
                          runtime::v1::ListImagesResponse* response) override;
  grpc::Status ImageStatus(grpc::ServerContext* context,
                           const runtime::v1::ImageStatusRequest* request,
                           runtime::v1::ImageStatusResponse* response) override;
  grpc::Status PullImage(grpc::ServerContext* context, const runtime::v1::PullImageRequest* request,
                         runtime::v1::PullImageResponse* response) override;
  grpc::Status RemoveImage(grpc::ServerContext* context,
                           const runtime::v1::RemoveImageRequest* request,
                           runtime::v1::RemoveImageResponse* response) override;
  grpc::Status ImageFsInfo(grpc::ServerContext* context,
                           const runtime::v1::ImageFsInfoRequest* request,
                           runtime::v1::ImageFsInfoResponse* response) override;

 private:
  image::ImageManager& images_;
};

// The CRI view of an image record (also used by ContainerStatus later).
void FillImage(const image::ImageRecord& record, const image::ImageConfig* config,
               runtime::v1::Image* image);

}  // namespace berth::cri
