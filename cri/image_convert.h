// image:: records -> CRI images, shared by ListImages and ImageStatus.
#pragma once

#include "cri_api.h"
#include "image/image_manager.h"

namespace berth::cri {

// The CRI view of an image record; `config` may be null (an image whose config is unreadable).
void FillImage(const image::ImageRecord& record, const image::ImageConfig* config,
               ::runtime::v1::Image* image);

}  // namespace berth::cri
