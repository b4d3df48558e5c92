#include "image/image_user.h"

namespace berth::image {
namespace {

bool IsNumber(const std::string& text) {
  return !text.empty() && text.size() < 11 && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

ImageUser ResolveImageUser(const std::string& user) {
  std::string name = user.substr(0, user.find(':'));
  if (name.empty()) return {};
  if (IsNumber(name)) return {std::stoll(name), ""};
  return {std::nullopt, name};
}

}  // namespace berth::image
