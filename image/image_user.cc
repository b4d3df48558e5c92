#include "image/image_user.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "image/rooted_path.h"

namespace berth::image {
namespace {

bool IsNumber(const std::string& text) {
  return !text.empty() && text.size() < 11 && text.find_first_not_of("0123456789") == std::string::npos;
}

// etc/passwd of one layer, if that layer has it as a regular file (bounded read).
std::optional<std::string> ReadLayerPasswd(const std::string& layer_dir) {
  int dir = ::open(layer_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return std::nullopt;
  UniqueFd root(dir);
  auto file = OpenInRoot(root, "etc/passwd", O_RDONLY | O_NOFOLLOW);
  if (!file) return std::nullopt;
  std::string text(1 << 20, '\0');
  ssize_t n = ::read(file->get(), text.data(), text.size());
  if (n < 0) return std::nullopt;
  text.resize(static_cast<size_t>(n));
  return text;
}

}  // namespace

std::optional<int64_t> LookupPasswdUid(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    // name:password:uid:gid:gecos:home:shell
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (fields.size() >= 3 && fields[0] == name && IsNumber(fields[2])) return std::stoll(fields[2]);
  }
  return std::nullopt;
}

ImageUser ResolveImageUser(const std::string& user, const std::vector<std::string>& layer_dirs) {
  std::string name = user.substr(0, user.find(':'));
  if (name.empty()) return {};
  if (IsNumber(name)) return {std::stoll(name), ""};
  for (auto it = layer_dirs.rbegin(); it != layer_dirs.rend(); ++it) {
    auto passwd = ReadLayerPasswd(*it);
    if (!passwd) continue;
    // The topmost layer with a passwd file decides (it replaced the ones below).
    if (auto uid = LookupPasswdUid(*passwd, name)) return {uid, ""};
    break;
  }
  return {std::nullopt, name};
}

}  // namespace berth::image
