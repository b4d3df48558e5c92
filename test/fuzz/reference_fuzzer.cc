// Fuzz target: image references (image/reference) as kubelet and crictl send them. What parses
// must be normalized for good: its String() parses back to the same reference, within the
// grammar's bounds.
#include <cstdint>
#include <string>
#include <string_view>

#include "image/digest.h"
#include "image/reference.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto digest = berth::image::Digest::Parse(text); digest.ok()) {
    BERTH_FUZZ_CHECK(digest->String() == text, "a digest is not its own text");
  }
  auto reference = berth::image::ParseReference(text);
  if (!reference.ok()) return 0;
  BERTH_FUZZ_CHECK(!reference->domain.empty() && !reference->path.empty(), "empty domain or path");
  BERTH_FUZZ_CHECK(reference->FullName().size() <= berth::image::kMaxNameLength, "name too long");
  BERTH_FUZZ_CHECK(reference->tag.size() <= berth::image::kMaxTagLength, "tag too long");
  BERTH_FUZZ_CHECK(!reference->tag.empty() || reference->digest, "neither tag nor digest");
  const std::string normalized = reference->String();
  auto again = berth::image::ParseReference(normalized);
  BERTH_FUZZ_CHECK(again.ok(), normalized.c_str());
  BERTH_FUZZ_CHECK(*again == *reference, normalized.c_str());
  BERTH_FUZZ_CHECK(again->String() == normalized, normalized.c_str());
  return 0;
}
