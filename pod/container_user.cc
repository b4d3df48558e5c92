#include "pod/container_user.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "base/unique_fd.h"
#include "image/rooted_path.h"

namespace berth::pod {
namespace {

bool IsNumber(const std::string& text) {
  return !text.empty() && text.size() < 11 && text.find_first_not_of("0123456789") == std::string::npos;
}

uint32_t ToId(const std::string& text) { return static_cast<uint32_t>(std::stoul(text)); }

// A file of the container's rootfs (bounded, resolved inside it), or empty when it has none.
std::string ReadRootfsFile(const std::string& rootfs, const std::string& path) {
  int dir = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return "";
  UniqueFd root(dir);
  auto file = image::OpenInRoot(root, path, O_RDONLY);
  if (!file) return "";
  std::string text(1 << 20, '\0');
  ssize_t n = ::read(file->get(), text.data(), text.size());
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return text;
}

// /etc/passwd or /etc/group lines split at ':'.
std::vector<std::vector<std::string>> Records(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (line.back() == ':') fields.emplace_back();
    records.push_back(std::move(fields));
  }
  return records;
}

struct Passwd {
  std::vector<std::vector<std::string>> users, groups;

  const std::vector<std::string>* UserByName(const std::string& name) const {
    for (const auto& r : users)
      if (r.size() >= 4 && r[0] == name && IsNumber(r[2]) && IsNumber(r[3])) return &r;
    return nullptr;
  }
  const std::vector<std::string>* UserById(uint32_t uid) const {
    for (const auto& r : users)
      if (r.size() >= 4 && IsNumber(r[2]) && ToId(r[2]) == uid) return &r;
    return nullptr;
  }
  Result<uint32_t> GroupId(const std::string& group) const {
    if (IsNumber(group)) return ToId(group);
    for (const auto& r : groups)
      if (r.size() >= 3 && r[0] == group && IsNumber(r[2])) return ToId(r[2]);
    return InvalidArgument("group \"" + group + "\" is not in the image's /etc/group");
  }
  std::vector<uint32_t> MembershipsOf(const std::string& username) const {
    std::vector<uint32_t> gids;
    for (const auto& r : groups) {
      if (r.size() < 4 || !IsNumber(r[2])) continue;
      std::istringstream members(r[3]);
      for (std::string member; std::getline(members, member, ',');)
        if (member == username) gids.push_back(ToId(r[2]));
    }
    return gids;
  }
};

}  // namespace

Result<ContainerUser> ResolveUser(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& rootfs) {
  const ContainerSecurity& security = config.security;
  Passwd passwd{Records(ReadRootfsFile(rootfs, "etc/passwd")), Records(ReadRootfsFile(rootfs, "etc/group"))};
  ContainerUser user;
  std::string name, group;
  if (security.run_as_user) {
    name = std::to_string(*security.run_as_user);
  } else if (!security.run_as_username.empty()) {
    name = security.run_as_username;
    if (passwd.UserByName(name) == nullptr) {
      return InvalidArgument("run_as_username \"" + name + "\" is not in the image's /etc/passwd");
    }
  } else {
    size_t colon = image.user.find(':');
    name = image.user.substr(0, colon);
    if (colon != std::string::npos) group = image.user.substr(colon + 1);
  }
  std::string username;
  if (name.empty() || IsNumber(name)) {
    user.uid = name.empty() ? 0 : ToId(name);
    if (const auto* record = passwd.UserById(user.uid)) {
      username = (*record)[0];
      if (IsNumber((*record)[3])) user.gid = ToId((*record)[3]);
    }
  } else {
    const auto* record = passwd.UserByName(name);
    if (record == nullptr) return InvalidArgument("user \"" + name + "\" is not in the image's /etc/passwd");
    user.uid = ToId((*record)[2]);
    user.gid = ToId((*record)[3]);
    username = name;
  }
  if (security.run_as_group) {
    user.gid = static_cast<uint32_t>(*security.run_as_group);
  } else if (!group.empty()) {
    BERTH_ASSIGN_OR_RETURN(user.gid, passwd.GroupId(group));
  }
  std::vector<uint32_t> groups;
  if (!security.supplemental_groups_strict && !username.empty()) groups = passwd.MembershipsOf(username);
  for (int64_t gid : security.supplemental_groups) groups.push_back(static_cast<uint32_t>(gid));
  for (uint32_t gid : groups) {
    if (gid != user.gid && std::find(user.groups.begin(), user.groups.end(), gid) == user.groups.end())
      user.groups.push_back(gid);
  }
  return user;
}

}  // namespace berth::pod
