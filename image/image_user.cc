#include "image/image_user.h"

#include "base/parse_number.h"

namespace berth::image {

ImageUser ResolveImageUser(const std::string& user) {
  std::string name = user.substr(0, user.find(':'));
  if (name.empty()) return {};
  // Only a valid Linux id is a uid: "4294967296" would truncate to 0 in a 32-bit uid, so it is
  // reported as a name, which kubelet cannot verify as non-root (and CreateContainer refuses it).
  if (auto uid = ParseLinuxId(name)) return {static_cast<int64_t>(*uid), ""};
  return {std::nullopt, name};
}

}  // namespace berth::image
