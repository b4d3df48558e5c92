#include "security/selinux.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "base/file_util.h"

namespace berth::security {
namespace {

struct Context {
  std::string user, role, type, level;
};

// "user:role:type:level" where level may itself contain ':' ("s0:c1,c2").
Context Split(std::string_view label) {
  Context out;
  size_t a = label.find(':');
  size_t b = label.find(':', a + 1);
  size_t c = label.find(':', b + 1);
  out.user = label.substr(0, a);
  out.role = label.substr(a + 1, b - a - 1);
  out.type = label.substr(b + 1, c - b - 1);
  out.level = label.substr(c + 1);
  return out;
}

std::string Join(const Context& c) {
  return c.user + ":" + c.role + ":" + c.type + ":" + c.level;
}

Result<void> CheckPart(const std::string& value, std::string_view field, bool colon_ok) {
  for (char ch : value) {
    bool bad = ch == '\n' || ch == '\0' || ch == ' ' || (!colon_ok && ch == ':');
    if (bad)
      return InvalidArgument("selinux_options." + std::string(field) + " \"" + value +
                             "\" is not a valid SELinux " + std::string(field));
  }
  return Ok();
}

}  // namespace

bool SELinuxEnabled() {
  if (!PathExists("/sys/fs/selinux/enforce")) return false;
  auto filesystems = ReadFile("/proc/filesystems", 1 << 16);
  return filesystems.ok() && filesystems->find("selinuxfs") != std::string::npos;
}

Result<SELinuxLabels> BuildSELinuxLabels(const SELinuxOption& option) {
  BERTH_TRY(CheckPart(option.user, "user", false));
  BERTH_TRY(CheckPart(option.role, "role", false));
  BERTH_TRY(CheckPart(option.type, "type", false));
  BERTH_TRY(CheckPart(option.level, "level", true));
  Context process = Split(kSELinuxDefaultProcessLabel);
  Context mount = Split(kSELinuxDefaultMountLabel);
  if (!option.user.empty()) process.user = mount.user = option.user;
  if (!option.role.empty()) process.role = option.role;
  if (!option.type.empty()) process.type = option.type;
  if (!option.level.empty()) process.level = mount.level = option.level;
  return SELinuxLabels{Join(process), Join(mount)};
}

std::string MountLabelOption(std::string_view mount_label) {
  return "context=\"" + std::string(mount_label) + "\"";
}

int SetExecLabelRaw(const char* label) noexcept {
  if (label == nullptr || label[0] == '\0') return 0;
  int fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t length = std::strlen(label);
  ssize_t n = write(fd, label, length);
  int err = n == static_cast<ssize_t>(length) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

Result<void> SetExecLabel(std::string_view label) {
  if (label.empty() || !SELinuxEnabled()) return Ok();
  std::string text(label);
  int err = SetExecLabelRaw(text.c_str());
  if (err != 0) return Error::FromErrno(err, "set SELinux exec label " + text);
  return Ok();
}

}  // namespace berth::security
