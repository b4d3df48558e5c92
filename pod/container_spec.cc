#include "pod/container_spec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file_util.h"
#include "image/rooted_path.h"

namespace berth::pod {
namespace {

using Json = nlohmann::json;

// The capabilities containerd and CRI-O grant by default.
const char* const kDefaultCapabilities[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",     "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",           "CAP_SETFCAP",    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",     "CAP_AUDIT_WRITE"};

// runc's defaults for a non-privileged container.
const char* const kMaskedPaths[] = {
    "/proc/acpi",       "/proc/asound",      "/proc/kcore",   "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

bool IsNumber(const std::string& text) {
  return !text.empty() && text.size() < 11 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// A file of the container's rootfs (bounded), or empty when it has none.
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

std::vector<std::vector<std::string>> Records(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (line.back() == ':') fields.emplace_back();
    records.push_back(std::move(fields));
  }
  return records;
}

Json Mount(const std::string& destination, const std::string& type, const std::string& source,
           std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

Result<Json> CriMounts(const Container& container) {
  Json mounts = Json::array();
  for (const auto& mount : container.config.mounts) {
    if (mount.container_path.empty() || mount.container_path.front() != '/') {
      return InvalidArgument("mount " + mount.container_path + ": container path must be absolute");
    }
    // A host path that is a symlink is resolved on the host, as kubelet expects.
    char resolved[PATH_MAX];
    if (::realpath(mount.host_path.c_str(), resolved) == nullptr) {
      return InvalidArgument("mount " + mount.container_path + ": host path " + mount.host_path +
                             " does not exist");
    }
    std::vector<std::string> options = {"rbind", mount.readonly ? "ro" : "rw"};
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

Result<ProcessUser> ResolveUser(const ContainerConfig& config, const image::ImageConfig& image,
                                const std::string& rootfs) {
  ProcessUser user;
  std::string name, group;
  if (config.run_as_user) {
    if (*config.run_as_user < 0) return InvalidArgument("run_as_user must not be negative");
    name = std::to_string(*config.run_as_user);
  } else {
    name = image.user.substr(0, image.user.find(':'));
    if (image.user.find(':') != std::string::npos) group = image.user.substr(image.user.find(':') + 1);
  }
  if (config.run_as_group) group = std::to_string(*config.run_as_group);
  auto passwd = Records(ReadRootfsFile(rootfs, "etc/passwd"));
  auto groups = Records(ReadRootfsFile(rootfs, "etc/group"));
  std::string username;
  if (name.empty() || IsNumber(name)) {
    user.uid = name.empty() ? 0 : static_cast<uint32_t>(std::stoul(name));
    for (const auto& record : passwd) {
      if (record.size() >= 4 && record[2] == std::to_string(user.uid)) {
        username = record[0];
        if (IsNumber(record[3])) user.gid = static_cast<uint32_t>(std::stoul(record[3]));
        break;
      }
    }
  } else {
    bool found = false;
    for (const auto& record : passwd) {
      if (record.size() >= 4 && record[0] == name && IsNumber(record[2]) && IsNumber(record[3])) {
        user.uid = static_cast<uint32_t>(std::stoul(record[2]));
        user.gid = static_cast<uint32_t>(std::stoul(record[3]));
        found = true;
        break;
      }
    }
    if (!found) {
      return InvalidArgument("user \"" + name + "\" is not in the image's /etc/passwd");
    }
    username = name;
  }
  if (!group.empty()) {
    if (IsNumber(group)) {
      user.gid = static_cast<uint32_t>(std::stoul(group));
    } else {
      bool found = false;
      for (const auto& record : groups) {
        if (record.size() >= 3 && record[0] == group && IsNumber(record[2])) {
          user.gid = static_cast<uint32_t>(std::stoul(record[2]));
          found = true;
        }
      }
      if (!found) return InvalidArgument("group \"" + group + "\" is not in the image's /etc/group");
    }
  }
  // Supplementary groups: the image's /etc/group memberships of the user.
  if (!username.empty()) {
    for (const auto& record : groups) {
      if (record.size() < 4 || !IsNumber(record[2])) continue;
      std::istringstream members(record[3]);
      for (std::string member; std::getline(members, member, ',');) {
        uint32_t gid = static_cast<uint32_t>(std::stoul(record[2]));
        if (member == username && gid != user.gid) user.additional_gids.push_back(gid);
      }
    }
  }
  return user;
}

Result<std::string> BuildOciSpec(const Container& container, const Sandbox& sandbox,
                                 const image::ImageConfig& image) {
  const ContainerConfig& config = container.config;
  if (config.tty) {
    return InvalidArgument("tty containers are not supported yet (issue \"Streaming\")");
  }
  BERTH_ASSIGN_OR_RETURN(auto argv, MergeCommand(config, image));
  BERTH_ASSIGN_OR_RETURN(ProcessUser user, ResolveUser(config, image, container.RootfsPath()));
  std::string cwd = !config.working_dir.empty() ? config.working_dir
                    : !image.working_dir.empty() ? image.working_dir
                                                 : "/";
  Json capabilities = Json::array();
  for (const char* name : kDefaultCapabilities) capabilities.push_back(name);
  Json process = {
      {"terminal", false},
      {"args", argv},
      {"env", MergeEnv(config, image, sandbox.config.hostname)},
      {"cwd", cwd},
      {"user", {{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", user.additional_gids}}},
      {"capabilities",
       {{"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}}},
      {"noNewPrivileges", false},
  };
  Json mounts = Json::array({
      Mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      Mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      Mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      Mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      Mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
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
  BERTH_ASSIGN_OR_RETURN(Json cri_mounts, CriMounts(container));
  for (auto& mount : cri_mounts) mounts.push_back(std::move(mount));

  Json namespaces = Json::array({{{"type", "mount"}}});
  if (sandbox.config.pid_mode == NamespaceMode::kPod && sandbox.init_pid > 0) {
    namespaces.push_back({{"type", "pid"}, {"path", "/proc/" + std::to_string(sandbox.init_pid) + "/ns/pid"}});
  } else if (sandbox.config.pid_mode != NamespaceMode::kNode) {
    namespaces.push_back({{"type", "pid"}});
  }
  if (sandbox.HasOwnNetwork()) {
    namespaces.push_back({{"type", "network"}, {"path", sandbox.NetnsPath()}});
    namespaces.push_back({{"type", "uts"}, {"path", sandbox.UtsnsPath()}});
  }
  if (sandbox.HasOwnIpc()) namespaces.push_back({{"type", "ipc"}, {"path", sandbox.IpcnsPath()}});

  Json masked = Json::array(), readonly = Json::array();
  for (const char* path : kMaskedPaths) masked.push_back(path);
  for (const char* path : kReadonlyPaths) readonly.push_back(path);
  Json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      // No "hostname": containers join the pod's UTS namespace, which has it already (and a
      // host-network pod's must never set the host's).
      {"mounts", mounts},
      {"annotations", config.annotations},
      {"linux",
       {{"namespaces", namespaces},
        {"cgroupsPath", container.cgroup_path},
        {"maskedPaths", masked},
        {"readonlyPaths", readonly}}},
  };
  return spec.dump(2);
}

}  // namespace berth::pod
