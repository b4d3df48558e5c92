// Fuzz target: berth.yaml (config/config): parse, validate, and the JSON form Status verbose
// reports. The file is the node admin's, not a stranger's, but a typo or a truncated file must
// still be an error message and never take berthd down.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "test/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = berth::ParseConfig(text, "berth.yaml");
  if (!config.ok()) return 0;
  (void)berth::ValidateConfig(*config);
  BERTH_FUZZ_CHECK(!berth::ConfigToJson(*config).empty(), "empty JSON form");
  return 0;
}
