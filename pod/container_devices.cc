#include "pod/container_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

namespace berth::pod {
namespace {

using Json = nlohmann::json;

struct HostDevice {
  std::string host_path;
  char type = 'c';
  unsigned major = 0, minor = 0;
  mode_t mode = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<HostDevice> StatDevice(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
    return std::nullopt;
  return HostDevice{path,
                    S_ISBLK(st.st_mode) ? 'b' : 'c',
                    major(st.st_rdev),
                    minor(st.st_rdev),
                    st.st_mode & 07777,
                    st.st_uid,
                    st.st_gid};
}

// Every device node under `dir` (not following directory links), as runc's HostDevices walks
// /dev: the pty slaves, shm, mqueue and fd directories are the container's own.
std::vector<HostDevice> DevicesUnder(const std::string& dir, bool skip_private_dirs) {
  std::vector<HostDevice> devices;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(
      dir, std::filesystem::directory_options::skip_permission_denied, error);
  for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    const auto& entry = *it;
    std::string name = entry.path().filename();
    if (entry.is_directory(error) && !entry.is_symlink(error)) {
      if (skip_private_dirs && it.depth() == 0 &&
          (name == "pts" || name == "shm" || name == "mqueue" || name == "fd" ||
           name.front() == '.'))
        it.disable_recursion_pending();
      continue;
    }
    if (entry.is_symlink(error) || name == "console") continue;
    if (auto device = StatDevice(entry.path())) devices.push_back(*device);
  }
  return devices;
}

Json OciDevice(const std::string& container_path, const HostDevice& device) {
  return {{"path", container_path},  {"type", std::string(1, device.type)},
          {"major", device.major},   {"minor", device.minor},
          {"fileMode", device.mode}, {"uid", device.uid},
          {"gid", device.gid}};
}

Result<void> AddCriDevice(const ContainerDevice& request, ContainerDevices& out) {
  if (request.container_path.empty() || request.container_path.front() != '/') {
    return InvalidArgument("device " + request.container_path +
                           ": container path must be absolute");
  }
  if (request.permissions.find_first_not_of("rwm") != std::string::npos) {
    return InvalidArgument("device " + request.host_path + ": permissions \"" +
                           request.permissions + "\" must be made of r, w and m");
  }
  char resolved[PATH_MAX];
  if (::realpath(request.host_path.c_str(), resolved) == nullptr) {
    return InvalidArgument("device " + request.host_path + ": no such host path");
  }
  auto add = [&](const std::string& container_path, const HostDevice& device) {
    out.oci_devices.push_back(OciDevice(container_path, device));
    out.cgroup_rules.push_back(
        {true, device.type, device.major, device.minor, request.permissions});
  };
  if (auto device = StatDevice(resolved)) {
    add(request.container_path, *device);
    return Ok();
  }
  // A directory: each device in it, at the same relative path under container_path (containerd).
  std::string root = resolved;
  auto devices = DevicesUnder(root, false);
  if (devices.empty())
    return InvalidArgument("device " + request.host_path + ": not a device node");
  for (const auto& device : devices) {
    add(request.container_path + device.host_path.substr(root.size()), device);
  }
  return Ok();
}

}  // namespace

Result<ContainerDevices> ResolveDevices(const ContainerConfig& config) {
  ContainerDevices out;
  if (config.security.privileged) {
    // All of the host's devices, and the controller lets the container use any.
    for (const auto& device : DevicesUnder("/dev", true))
      out.oci_devices.push_back(OciDevice(device.host_path, device));
    out.cgroup_rules.push_back({true, 'a', -1, -1, "rwm"});
    return out;
  }
  out.cgroup_rules = runtime::DefaultDeviceRules();
  for (const auto& device : config.devices) BERTH_TRY(AddCriDevice(device, out));
  return out;
}

}  // namespace berth::pod
