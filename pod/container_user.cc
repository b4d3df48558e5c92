#include "pod/container_user.h"

#include <fcntl.h>

#include <algorithm>

#include "base/file_util.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "image/rooted_path.h"
#include "pod/passwd.h"

namespace berth::pod {
namespace {

// /etc/passwd and /etc/group are small; anything this large is hostile.
constexpr size_t kMaxUserFileBytes = 4 << 20;

// A file of the container's rootfs, resolved inside it and read safely (see ReadFileInRoot);
// empty when the image has none.
Result<std::string> ReadRootfsFile(const UniqueFd& root, const std::string& path) {
  auto text = image::ReadFileInRoot(root, path, kMaxUserFileBytes);
  if (!text) return std::move(text).error().Wrap("read the image's /" + path);
  return text->value_or("");
}

struct ResolvedName {
  uint32_t uid = 0;
  std::optional<uint32_t> gid;  // from the user's passwd entry, when it has one
  std::string username;         // "" when the image does not name the uid
};

// A user given by number ("" is root) or by name, looked up in the image's /etc/passwd.
Result<ResolvedName> ResolveName(const UserDatabase& users, const std::string& name,
                                 std::string_view what) {
  ResolvedName out;
  const PasswdEntry* entry = nullptr;
  if (name.empty() || IsDecimal(name)) {
    if (!name.empty()) {
      BERTH_ASSIGN_OR_RETURN(out.uid, ParseIdOrError(name, what));
    }
    entry = users.UserById(out.uid);
  } else {
    entry = users.UserByName(name);
    if (entry == nullptr) {
      return InvalidArgument(std::string(what) + " \"" + name +
                             "\" is not in the image's /etc/passwd");
    }
    BERTH_ASSIGN_OR_RETURN(out.uid, UserDatabase::Uid(*entry));
  }
  if (entry != nullptr) {
    out.username = entry->name;
    BERTH_ASSIGN_OR_RETURN(out.gid, UserDatabase::Gid(*entry));
  }
  return out;
}

}  // namespace

Result<ContainerUser> ResolveUser(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& rootfs) {
  const ContainerSecurity& security = config.security;
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(rootfs, O_PATH | O_DIRECTORY));
  BERTH_ASSIGN_OR_RETURN(std::string passwd_text, ReadRootfsFile(root, "etc/passwd"));
  BERTH_ASSIGN_OR_RETURN(std::string group_text, ReadRootfsFile(root, "etc/group"));
  UserDatabase users(passwd_text, group_text);

  std::string name, group;
  std::string_view what = "image USER";
  if (security.run_as_user) {
    name = std::to_string(*security.run_as_user);
    what = "run_as_user";
  } else if (!security.run_as_username.empty()) {
    name = security.run_as_username;
    what = "run_as_username";
  } else {
    size_t colon = image.user.find(':');
    name = image.user.substr(0, colon);
    if (colon != std::string::npos) group = image.user.substr(colon + 1);
  }
  BERTH_ASSIGN_OR_RETURN(ResolvedName resolved, ResolveName(users, name, what));
  ContainerUser user;
  user.uid = resolved.uid;
  user.gid = resolved.gid.value_or(0);
  if (security.run_as_group) {
    BERTH_ASSIGN_OR_RETURN(user.gid,
                           ParseIdOrError(std::to_string(*security.run_as_group), "run_as_group"));
  } else if (!group.empty()) {
    BERTH_ASSIGN_OR_RETURN(user.gid, users.GroupId(group));
  }
  // The primary group first, as containerd, CRI-O and Docker list it (`id` shows it in groups=).
  std::vector<uint32_t> groups{user.gid};
  if (!security.supplemental_groups_strict && !resolved.username.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto memberships, users.MembershipsOf(resolved.username));
    groups.insert(groups.end(), memberships.begin(), memberships.end());
  }
  for (int64_t gid : security.supplemental_groups) {
    BERTH_ASSIGN_OR_RETURN(uint32_t checked,
                           ParseIdOrError(std::to_string(gid), "supplemental group"));
    groups.push_back(checked);
  }
  for (uint32_t gid : groups) {
    if (std::find(user.groups.begin(), user.groups.end(), gid) == user.groups.end()) {
      user.groups.push_back(gid);
    }
  }
  return user;
}

}  // namespace berth::pod
