#include <nlohmann/json.hpp>

#include "cri/image_service.h"
#include "cri/status_mapping.h"

namespace berth::cri {
void FillImage(const image::ImageRecord& record, const image::ImageConfig* config,
               runtime::v1::Image* image) {
  image->set_id(record.id);
  for (const auto& tag : record.repo_tags) image->add_repo_tags(tag);
  for (const auto& digest : record.repo_digests) image->add_repo_digests(digest);
  image->set_size(static_cast<uint64_t>(record.size));
  image->set_pinned(record.pinned);
  image->mutable_spec()->set_image(record.id);
  // kubelet checks runAsNonRoot against uid when there is one, else against username.
  if (record.uid) {
    image->mutable_uid()->set_value(*record.uid);
  } else if (!record.username.empty()) {
    image->set_username(record.username);
  }
  (void)config;
}

grpc::Status ImageService::ListImages(grpc::ServerContext*,
                                      const runtime::v1::ListImagesRequest* request,
                                      runtime::v1::ListImagesResponse* response) {
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
  return grpc::Status::OK;
}

grpc::Status ImageService::ImageStatus(grpc::ServerContext*,
                                       const runtime::v1::ImageStatusRequest* request,
                                       runtime::v1::ImageStatusResponse* response) {
  const std::string& name = request->image().image();
  if (name.empty()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "image name is empty");
  auto record = images_.Resolve(name);
  // CRI: an image that is not there is an empty response, not an error.
  if (!record && record.error().code() == ErrorCode::kNotFound) return grpc::Status::OK;
  if (!record) return ToGrpcStatus(record.error());
  auto config = images_.Config(*record);
  if (!config) return ToGrpcStatus(config.error().Wrap("image " + record->id));
  FillImage(*record, &*config, response->mutable_image());
  if (request->verbose()) {
    nlohmann::json info = {{"id", record->id},
                           {"manifestDigest", record->manifest_digest.String()},
                           {"size", record->size},
                           {"pinned", record->pinned}};
    if (!record->index_digest.empty()) info["indexDigest"] = record->index_digest.String();
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : record->layers) {
      layers.push_back({{"digest", layer.blob.String()},
                        {"diffID", layer.diff_id.String()},
                        {"chainID", layer.chain_id.String()},
                        {"mediaType", layer.media_type},
                        {"size", layer.size}});
    }
    info["layers"] = layers;
    auto raw = images_.ConfigJson(*record);
    if (raw) info["imageSpec"] = nlohmann::json::parse(*raw, nullptr, false);
    (*response->mutable_info())["info"] = info.dump();
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
