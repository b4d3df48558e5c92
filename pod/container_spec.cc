#include "pod/container_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "image/rooted_path.h"
#include "pod/container_devices.h"
#include "pod/container_user.h"
#include "pod/image_config_volumes.h"
#include "security/apparmor.h"
#include "security/capabilities.h"
#include "security/seccomp_default.h"
#include "security/seccomp_profile.h"
#include "security/selinux.h"

namespace berth::pod {
namespace {

using Json = nlohmann::json;

// runc's defaults for a non-privileged container.
const char* const kMaskedPaths[] = {"/proc/acpi",
                                    "/proc/asound",
                                    "/proc/kcore",
                                    "/proc/keys",
                                    "/proc/latency_stats",
                                    "/proc/timer_list",
                                    "/proc/timer_stats",
                                    "/proc/sched_debug",
                                    "/proc/scsi",
                                    "/sys/firmware",
                                    "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

Json Mount(const std::string& destination, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

// An image volume's directory: the mounted image, or its image_sub_path resolved inside it (a
// symlink in the image must not lead the bind mount out to the host).
Result<std::string> ImageVolumeSource(const Container& container, size_t index) {
  const ContainerMount& mount = container.config.mounts[index];
  std::string root = ImageVolumePath(container, index);
  if (mount.image_sub_path.empty()) return root;
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return Error::FromErrno(errno, "open image volume " + root);
  auto sub = image::OpenInRoot(root_fd, mount.image_sub_path, O_PATH);
  if (!sub) {
    return InvalidArgument("mount " + mount.container_path + ": image_sub_path \"" +
                           mount.image_sub_path + "\" does not exist in image " + mount.image);
  }
  char resolved[PATH_MAX];
  ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(sub->get())).c_str(), resolved,
                         sizeof resolved - 1);
  if (n <= 0) return Error::FromErrno(errno, "resolve image_sub_path " + mount.image_sub_path);
  std::string path(resolved, static_cast<size_t>(n));
  if (path != root && path.rfind(root + "/", 0) != 0) {
    return InvalidArgument("mount " + mount.container_path + ": image_sub_path leaves the image");
  }
  return path;
}

Result<Json> CriMounts(const Container& container) {
  Json mounts = Json::array();
  for (size_t index = 0; index < container.config.mounts.size(); ++index) {
    const ContainerMount& mount = container.config.mounts[index];
    if (mount.container_path.empty() || mount.container_path.front() != '/') {
      return InvalidArgument("mount " + mount.container_path + ": container path must be absolute");
    }
    if (!mount.image.empty()) {
      BERTH_ASSIGN_OR_RETURN(std::string source, ImageVolumeSource(container, index));
      mounts.push_back(Mount(mount.container_path, "bind", source, {"rbind", "ro", "rprivate"}));
      continue;
    }
    // A host path that is a symlink is resolved on the host, as kubelet expects.
    char resolved[PATH_MAX];
    if (::realpath(mount.host_path.c_str(), resolved) == nullptr) {
      return InvalidArgument("mount " + mount.container_path + ": host path " + mount.host_path +
                             " does not exist");
    }
    // A user-namespaced pod's idmapped clone of it (see ContainerManager::MountIdmappedVolumes).
    if (PathExists(IdmappedVolumePath(container, index))) {
      std::string idmapped = IdmappedVolumePath(container, index);
      std::memcpy(resolved, idmapped.c_str(), std::min(idmapped.size() + 1, sizeof resolved));
    }
    std::vector<std::string> options = {"rbind", mount.readonly ? "ro" : "rw"};
    // Read-only on every submount too; the CRI allows it only with private propagation.
    if (mount.recursive_read_only) options.push_back("rro");
    options.push_back(mount.propagation == "rshared"  ? "rshared"
                      : mount.propagation == "rslave" ? "rslave"
                                                      : "rprivate");
    mounts.push_back(Mount(mount.container_path, "bind", resolved, options));
  }
  return mounts;
}

bool HasDestination(const Container& container, const std::string& destination) {
  for (const auto& mount : container.config.mounts) {
    if (mount.container_path == destination) return true;
  }
  return false;
}

Result<Json> Mounts(const Container& container, const Sandbox& sandbox,
                    const image::ImageConfig& image) {
  bool privileged = container.config.security.privileged;
  Json mounts = Json::array({
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      Mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      Mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}),
      // The container's own cgroups (read-only, writable when privileged).
      Mount("/sys/fs/cgroup", "cgroup", "cgroup",
            {"nosuid", "noexec", "nodev", privileged ? "rw" : "ro"}),
  });
  if (sandbox.HasOwnIpc()) {
    mounts.push_back(Mount("/dev/shm", "bind", sandbox.ShmPath(), {"rbind", "rw"}));
  } else {
    mounts.push_back(Mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  }
  // The pod's files, unless kubelet mounts its own over them.
  const std::pair<const char*, std::string> pod_files[] = {
      {"/etc/hosts", sandbox.HostsPath()},
      {"/etc/resolv.conf", sandbox.ResolvConfPath()},
      {"/etc/hostname", sandbox.HostnamePath()}};
  for (const auto& [destination, source] : pod_files) {
    if (!HasDestination(container, destination) && PathExists(source)) {
      mounts.push_back(Mount(destination, "bind", source, {"rbind", "rw"}));
    }
  }
  // The image's VOLUMEs that image_volumes gave a directory (image_config_volumes.h).
  for (const auto& [index, path] : CleanImageVolumes(image.volumes)) {
    std::string source = ImageConfigVolumePath(container, index);
    if (!HasDestination(container, path) && PathExists(source)) {
      mounts.push_back(Mount(path, "bind", source, {"rbind", "rw"}));
    }
  }
  BERTH_ASSIGN_OR_RETURN(Json cri_mounts, CriMounts(container));
  for (auto& mount : cri_mounts) mounts.push_back(std::move(mount));
  return mounts;
}

// process.capabilities: the default set with the CRI's adds and drops (every capability when
// privileged); ambient ones are also permitted, inheritable and effective. Inheritable stays
// otherwise empty, so that a file capability cannot raise an unprivileged exec (CVE-2022-24769).
Result<Json> CapabilitySets(const ContainerSecurity& security) {
  std::vector<std::string> granted;
  if (security.privileged) {
    granted = security::AllCapabilities();
  } else {
    BERTH_ASSIGN_OR_RETURN(granted, security::ComputeCapabilities(security::DefaultCapabilities(),
                                                                  security.add_capabilities,
                                                                  security.drop_capabilities));
  }
  BERTH_ASSIGN_OR_RETURN(
      std::vector<std::string> ambient,
      security::ParseCapabilityList(security.add_ambient_capabilities, "add_ambient_capabilities"));
  for (const auto& name : ambient) {
    if (std::find(granted.begin(), granted.end(), name) == granted.end()) granted.push_back(name);
  }
  return Json{{"bounding", granted},
              {"effective", granted},
              {"permitted", granted},
              {"inheritable", ambient},
              {"ambient", ambient}};
}

// linux.seccomp, or nothing for Unconfined / privileged.
Result<std::optional<Json>> SeccompFor(const ContainerSecurity& security, const Json& bounding) {
  using Type = SecurityProfile::Type;
  if (security.privileged || security.seccomp.type == Type::kUnconfined ||
      security.seccomp.type == Type::kUnset)
    return std::optional<Json>();
  std::vector<std::string> granted = bounding.get<std::vector<std::string>>();
  if (security.seccomp.type == Type::kRuntimeDefault) {
    return std::optional<Json>(
        security::SeccompProfileToJson(security::RuntimeDefaultProfile(granted)));
  }
  const std::string& path = security.seccomp.localhost_ref;
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("seccomp Localhost profile \"" + path + "\" must be an absolute path");
  }
  auto profile = security::LoadLocalhostSeccompProfile(path, security::HostSeccompContext(granted));
  if (!profile) return std::move(profile).error().Wrap("seccomp profile " + path);
  return std::optional<Json>(security::SeccompProfileToJson(*profile));
}

// process.apparmorProfile and the SELinux labels. Where AppArmor is off, a profile that was asked
// for is an error (as containerd does) rather than a silently unconfined container; SELinux
// options are ignored where SELinux is off (containerd's behaviour too; see security/README.md).
Result<void> AddLsmLabels(const ContainerSecurity& security, Json& process, OciSpec& out) {
  using Type = SecurityProfile::Type;
  security::AppArmorRequest request;
  request.type =
      security.apparmor.type == Type::kRuntimeDefault
          ? security::AppArmorProfileType::kRuntimeDefault
      : security.apparmor.type == Type::kUnconfined ? security::AppArmorProfileType::kUnconfined
      : security.apparmor.type == Type::kLocalhost  ? security::AppArmorProfileType::kLocalhost
                                                    : security::AppArmorProfileType::kUnset;
  request.localhost_ref = security.apparmor.localhost_ref;
  BERTH_ASSIGN_OR_RETURN(
      std::string profile,
      security::ResolveAppArmorProfile(request, security.privileged, security::AppArmorEnabled()));
  if (profile == security::kAppArmorDefaultProfileName)
    BERTH_TRY(security::EnsureDefaultProfileLoaded());
  if (!profile.empty()) process["apparmorProfile"] = profile;
  if (security::SELinuxEnabled() && !security.privileged) {
    BERTH_ASSIGN_OR_RETURN(
        security::SELinuxLabels labels,
        security::BuildSELinuxLabels({security.selinux.user, security.selinux.role,
                                      security.selinux.type, security.selinux.level}));
    process["selinuxLabel"] = labels.process;
    out.mount_label = labels.mount;
  }
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> MergeCommand(const ContainerConfig& config,
                                              const image::ImageConfig& image) {
  std::vector<std::string> argv;
  if (!config.command.empty()) {
    argv = config.command;
    argv.insert(argv.end(), config.args.begin(), config.args.end());
  } else {
    argv = image.entrypoint;
    const auto& rest = config.args.empty() ? image.cmd : config.args;
    argv.insert(argv.end(), rest.begin(), rest.end());
  }
  if (argv.empty()) {
    return InvalidArgument("no command: neither the container config nor the image gives one");
  }
  return argv;
}

std::vector<std::string> MergeEnv(const ContainerConfig& config, const image::ImageConfig& image,
                                  const std::string& hostname) {
  std::vector<std::pair<std::string, std::string>> env;
  auto set = [&](const std::string& key, const std::string& value) {
    for (auto& entry : env) {
      if (entry.first == key) {
        entry.second = value;
        return;
      }
    }
    env.emplace_back(key, value);
  };
  set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  set("HOSTNAME", hostname);
  for (const auto& entry : image.env) {
    size_t equals = entry.find('=');
    set(entry.substr(0, equals), equals == std::string::npos ? "" : entry.substr(equals + 1));
  }
  for (const auto& [key, value] : config.envs) set(key, value);
  std::vector<std::string> out;
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

namespace {

// config.json's "process": what runs, as whom, with which capabilities and LSM labels (these also
// go to `out`).
Result<Json> ProcessSection(const ContainerConfig& config, const Sandbox& sandbox,
                            const image::ImageConfig& image, const std::vector<std::string>& argv,
                            const Json& capabilities, OciSpec& out) {
  const ContainerSecurity& security = config.security;
  std::string cwd = !config.working_dir.empty()  ? config.working_dir
                    : !image.working_dir.empty() ? image.working_dir
                                                 : "/";
  std::vector<std::string> env = MergeEnv(config, image, sandbox.config.hostname);
  // A terminal needs a TERM; containerd and CRI-O set this one when the image has none.
  if (config.tty && std::none_of(env.begin(), env.end(),
                                 [](const std::string& e) { return e.rfind("TERM=", 0) == 0; }))
    env.push_back("TERM=xterm");
  Json process = {
      {"terminal", config.tty},
      {"args", argv},
      {"env", env},
      {"cwd", cwd},
      {"user", {{"uid", out.user.uid}, {"gid", out.user.gid}, {"additionalGids", out.user.groups}}},
      {"capabilities", capabilities},
      {"noNewPrivileges", security.no_new_privs},
  };
  if (config.resources.oom_score_adj != 0) process["oomScoreAdj"] = config.resources.oom_score_adj;
  BERTH_TRY(AddLsmLabels(security, process, out));
  return process;
}

// The namespaces a container joins (its pod's) or gets of its own.
Json NamespacesOf(const Sandbox& sandbox) {
  Json namespaces = Json::array({{{"type", "mount"}}});
  // The pod's user namespace first: the launcher joins it before making the others.
  if (sandbox.HasOwnUserns())
    namespaces.push_back({{"type", "user"}, {"path", sandbox.UsernsPath()}});
  if (sandbox.config.pid_mode == NamespaceMode::kPod && sandbox.init_pid > 0) {
    namespaces.push_back(
        {{"type", "pid"}, {"path", "/proc/" + std::to_string(sandbox.init_pid) + "/ns/pid"}});
  } else if (sandbox.config.pid_mode != NamespaceMode::kNode) {
    namespaces.push_back({{"type", "pid"}});
  }
  if (sandbox.HasOwnNetwork()) {
    namespaces.push_back({{"type", "network"}, {"path", sandbox.NetnsPath()}});
    namespaces.push_back({{"type", "uts"}, {"path", sandbox.UtsnsPath()}});
  }
  if (sandbox.HasOwnIpc()) namespaces.push_back({{"type", "ipc"}, {"path", sandbox.IpcnsPath()}});
  return namespaces;
}

// A privileged container sees /proc and /sys whole (the CRI's privileged rules). So does one with
// procMount: Unmasked, which Kubernetes allows only with a user namespace and sends as empty
// masked and read-only path lists (the CRI cannot tell empty from unset, so elsewhere an empty
// list means our defaults).
void AddMaskedPaths(const ContainerSecurity& security, const Sandbox& sandbox, Json& linux) {
  bool unmasked_proc =
      sandbox.HasOwnUserns() && security.masked_paths.empty() && security.readonly_paths.empty();
  if (security.privileged || unmasked_proc) return;
  Json masked = Json::array(), readonly = Json::array();
  if (!security.masked_paths.empty()) {
    masked = security.masked_paths;
  } else {
    for (const char* path : kMaskedPaths) masked.push_back(path);
  }
  if (!security.readonly_paths.empty()) {
    readonly = security.readonly_paths;
  } else {
    for (const char* path : kReadonlyPaths) readonly.push_back(path);
  }
  linux["maskedPaths"] = masked;
  linux["readonlyPaths"] = readonly;
}

Json IdMappings(const std::vector<IdMapping>& list) {
  Json out = Json::array();
  for (const auto& m : list)
    out.push_back({{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.length}});
  return out;
}

}  // namespace

Result<OciSpec> BuildOciSpec(const Container& container, const Sandbox& sandbox,
                             const image::ImageConfig& image) {
  const ContainerConfig& config = container.config;
  const ContainerSecurity& security = config.security;
  if (security.privileged && !sandbox.config.privileged) {
    return InvalidArgument("container " + config.name + " asks to be privileged but pod " +
                           sandbox.id + " is not privileged");
  }
  if (security.privileged && sandbox.HasOwnUserns()) {
    return InvalidArgument("container " + config.name +
                           ": a privileged container cannot run in a user namespace");
  }
  OciSpec out;
  BERTH_ASSIGN_OR_RETURN(auto argv, MergeCommand(config, image));
  BERTH_ASSIGN_OR_RETURN(out.user, ResolveUser(config, image, container.RootfsPath()));
  BERTH_ASSIGN_OR_RETURN(ContainerDevices devices, ResolveDevices(config));
  out.device_rules = std::move(devices.cgroup_rules);
  BERTH_ASSIGN_OR_RETURN(Json capabilities, CapabilitySets(security));
  BERTH_ASSIGN_OR_RETURN(Json process,
                         ProcessSection(config, sandbox, image, argv, capabilities, out));
  BERTH_ASSIGN_OR_RETURN(Json mounts, Mounts(container, sandbox, image));

  Json linux = {{"namespaces", NamespacesOf(sandbox)},
                {"cgroupsPath", runtime::OciCgroupsPath(container.cgroup_path)},
                {"devices", devices.oci_devices}};
  // A bidirectional mount stays a peer of the host's only under a shared root (containerd's rule).
  for (const auto& mount : config.mounts) {
    if (mount.propagation == "rshared") linux["rootfsPropagation"] = "rshared";
  }
  AddMaskedPaths(security, sandbox, linux);
  BERTH_ASSIGN_OR_RETURN(std::optional<Json> seccomp,
                         SeccompFor(security, capabilities["bounding"]));
  if (seccomp) linux["seccomp"] = *seccomp;
  if (!out.mount_label.empty()) linux["mountLabel"] = out.mount_label;
  if (sandbox.HasOwnUserns()) {
    linux["uidMappings"] = IdMappings(sandbox.config.uid_mappings);
    linux["gidMappings"] = IdMappings(sandbox.config.gid_mappings);
  }

  Json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", "rootfs"}, {"readonly", security.readonly_rootfs}}},
      // No "hostname": containers join the pod's UTS namespace, which has it already (and a
      // host-network pod's must never set the host's).
      {"mounts", mounts},
      {"annotations", config.annotations},
      {"linux", linux},
  };
  out.json = spec.dump(2);
  return out;
}

}  // namespace berth::pod
