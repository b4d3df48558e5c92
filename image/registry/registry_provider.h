// The registry as an image::ContentProvider for the unpacker, and the RegistryOpener the image
// manager pulls through.
#pragma once

#include "image/image_manager.h"
#include "image/registry/registry_client.h"

namespace berth::image {

// Opens sessions on `client` (which must outlive the opener and everything it opens).
RegistryOpener MakeRegistryOpener(const RegistryClient& client);

}  // namespace berth::image
