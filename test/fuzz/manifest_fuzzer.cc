// Fuzz target: OCI / Docker manifests, indexes and image configs (image/manifest), as a registry
// or an image archive hands them over. Every parser sees every input, and what parses is used the
// way a pull uses it (platform selection, chain IDs).
#include <cstdint>
#include <string_view>

#include "image/manifest.h"
#include "test/fuzz/fuzz_check.h"

using namespace berth::image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  for (std::string_view type : {"", media_type::kOciIndex, media_type::kDockerManifest,
                                "application/json; charset=utf-8"}) {
    (void)ClassifyManifest(type, content);
  }
  if (auto index = ParseImageIndex(content); index.ok()) {
    for (const Platform& want :
         {HostPlatform(), Platform{"linux", "arm", "v7"}, Platform{"linux", "arm64", ""},
          Platform{"windows", "amd64", ""}}) {
      auto chosen = SelectPlatform(*index, want);
      BERTH_FUZZ_CHECK(!chosen.ok() || (chosen->platform && chosen->platform->os == want.os),
                       "SelectPlatform chose a manifest of another OS");
    }
  }
  if (auto manifest = ParseImageManifest(content); manifest.ok()) {
    for (const Descriptor& layer : manifest->layers) {
      BERTH_FUZZ_CHECK(IsLayerMediaType(layer.media_type) && layer.size >= 0,
                       "accepted a bad layer");
    }
  }
  if (auto config = ParseImageConfig(content); config.ok()) {
    BERTH_FUZZ_CHECK(ChainIds(config->diff_ids).size() == config->diff_ids.size(),
                     "chain IDs miscounted");
  }
  return 0;
}
