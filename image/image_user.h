// The image's USER for kubelet's runAsNonRoot check. CRI Image carries a uid or a username, not
// both: the uid when the user part of USER is a valid Linux id (0..4294967294), the name
// otherwise (as containerd does and the CRI validation suite checks; the name is not resolved).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace berth::image {

struct ImageUser {
  std::optional<int64_t> uid;
  std::string username;  // only when the user is not numeric
};

// `user` is the config's User ("1234", "1234:5678", "name", "name:group").
ImageUser ResolveImageUser(const std::string& user);

}  // namespace berth::image
