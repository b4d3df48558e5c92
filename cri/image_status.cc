#include <nlohmann/json.hpp>

#include "cri/image_convert.h"
#include "cri/image_service.h"
#include "cri/rpc_edge.h"
#include "cri/rpc_helpers.h"

namespace berth::cri {
namespace {

// ImageStatus(verbose): the record, its layers and the image's own config.
std::string VerboseInfo(image::ImageManager& images, const image::ImageRecord& record) {
  nlohmann::json info = {{"id", record.id},
                         {"manifestDigest", record.manifest_digest.String()},
                         {"size", record.size},
                         {"pinned", record.pinned}};
  if (!record.index_digest.empty()) info["indexDigest"] = record.index_digest.String();
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : record.layers) {
    layers.push_back({{"digest", layer.blob.String()},
                      {"diffID", layer.diff_id.String()},
                      {"chainID", layer.chain_id.String()},
                      {"mediaType", layer.media_type},
                      {"size", layer.size}});
  }
  info["layers"] = layers;
  auto raw = images.ConfigJson(record);
  if (raw) info["imageSpec"] = nlohmann::json::parse(*raw, nullptr, false);
  return info.dump();
}

}  // namespace

grpc::Status ImageService::ImageStatus(grpc::ServerContext*,
                                       const ::runtime::v1::ImageStatusRequest* request,
                                       ::runtime::v1::ImageStatusResponse* response) {
  return Serve("ImageStatus", [&]() -> Result<void> {
    BERTH_TRY(NeedImageName(request->image().image()));
    auto record = images_.Resolve(request->image().image());
    // CRI: an image that is not there is an empty response, not an error.
    if (!record && record.error().code() == ErrorCode::kNotFound) return Ok();
    if (!record) return record.error();
    auto config = images_.Config(*record);
    if (!config) return config.error().Wrap("image " + record->id);
    FillImage(*record, &*config, response->mutable_image());
    if (request->verbose()) (*response->mutable_info())["info"] = VerboseInfo(images_, *record);
    return Ok();
  });
}

}  // namespace berth::cri
