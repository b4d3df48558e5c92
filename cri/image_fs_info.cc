#include "base/process_util.h"
#include "cri/image_service.h"
#include "cri/rpc_edge.h"

namespace berth::cri {

// Bytes and inodes under the content and snapshot stores (clients call this first to check the
// endpoint: it must work early).
grpc::Status ImageService::ImageFsInfo(grpc::ServerContext*,
                                       const ::runtime::v1::ImageFsInfoRequest*,
                                       ::runtime::v1::ImageFsInfoResponse* response) {
  return Serve("ImageFsInfo", [&]() -> Result<void> {
    image::ImageUsage usage = images_.Usage();
    auto* filesystem = response->add_image_filesystems();
    filesystem->set_timestamp(NowUnixNanos());
    filesystem->mutable_fs_id()->set_mountpoint(images_.root());
    filesystem->mutable_used_bytes()->set_value(usage.content.bytes + usage.snapshots.bytes);
    filesystem->mutable_inodes_used()->set_value(usage.content.inodes + usage.snapshots.inodes);
    return Ok();
  });
}

}  // namespace berth::cri
