// runtime.v1.ImageService. Every RPC answers UNIMPLEMENTED through the generated base class until
// issue "ImageService" lands.
#pragma once

#include "cri_api.h"

namespace berth::cri {

class ImageService final : public runtime::v1::ImageService::Service {};

}  // namespace berth::cri
