#include "cri/image_convert.h"

namespace berth::cri {

void FillImage(const image::ImageRecord& record, const image::ImageConfig* config,
               ::runtime::v1::Image* image) {
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

}  // namespace berth::cri
