// The image's USER for kubelet's runAsNonRoot check. CRI Image carries a uid or a username, not
// both; a name kubelet cannot verify, so a named user that the image's own /etc/passwd maps to
// a uid is reported as that uid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace berth::image {

struct ImageUser {
  std::optional<int64_t> uid;
  std::string username;  // only when no uid could be found
};

// `user` is the config's User ("1234", "1234:5678", "name", "name:group"); `layer_dirs` are the
// image's unpacked layers, bottom first, searched top down for etc/passwd (inside each layer
// directory, never following links out of it).
ImageUser ResolveImageUser(const std::string& user, const std::vector<std::string>& layer_dirs);

// The uid of `name` in passwd-format `text`, if listed.
std::optional<int64_t> LookupPasswdUid(const std::string& text, const std::string& name);

}  // namespace berth::image
