#include "runtime/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "base/file_util.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "runtime/cgroups_internal.h"

namespace berth {
namespace cgroups_internal {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Whether a v1 hierarchy's super options ("rw,cpu,cpuacct") name `controller` exactly.
bool HasController(const std::string& options, const std::string& controller) {
  size_t start = 0;
  while (start <= options.size()) {
    size_t end = options.find(',', start);
    if (end == std::string::npos) end = options.size();
    if (options.compare(start, end - start, controller) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace cgroups_internal
namespace {
using cgroups_internal::Trim;
using cgroups_internal::HasController;

// A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until they are set.
void InheritCpuset(const std::string& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    auto current = ReadFile(dir + "/" + file, 4096);
    if (!current || !Trim(*current).empty()) continue;
    auto parent = ReadFile(dir.substr(0, dir.find_last_of('/')) + "/" + file, 4096);
    if (parent) (void)WriteKernelFile(dir + "/" + file, Trim(*parent));
  }
}

}  // namespace

Result<std::string> CgroupParentToPath(const std::string& parent) {
  if (parent.empty()) return std::string();
  if (parent.find("..") != std::string::npos || parent.find('\0') != std::string::npos ||
      parent.find("//") != std::string::npos) {
    return InvalidArgument("invalid cgroup parent \"" + parent + "\"");
  }
  if (parent.front() == '/') return parent;
  const std::string suffix = ".slice";
  if (parent.size() <= suffix.size() || parent.compare(parent.size() - suffix.size(), suffix.size(), suffix) != 0 ||
      parent.find('/') != std::string::npos) {
    return InvalidArgument("cgroup parent \"" + parent +
                           "\" is neither an absolute cgroupfs path nor a systemd slice name");
  }
  // "a-b-c.slice" lives in a.slice/a-b.slice/a-b-c.slice.
  std::string stem = parent.substr(0, parent.size() - suffix.size());
  std::string path;
  size_t dash = 0;
  while ((dash = stem.find('-', dash)) != std::string::npos) {
    if (dash == 0 || stem[dash - 1] == '-') return InvalidArgument("invalid slice name " + parent);
    // append() rather than "/" + ...: GCC 12 warns falsely (-Wrestrict) about the latter.
    path.append("/").append(stem, 0, dash).append(suffix);
    ++dash;
  }
  return path.append("/").append(parent);
}

Cgroups Cgroups::Probe() {
  Cgroups cgroups;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  std::set<std::string> seen;
  while (std::getline(mountinfo, line)) {
    size_t separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    std::istringstream head(line.substr(0, separator)), tail(line.substr(separator + 3));
    std::string id, parent, device, root, mountpoint, options, fstype, source, super_options;
    head >> id >> parent >> device >> root >> mountpoint >> options;
    tail >> fstype >> source >> super_options;
    if (fstype == "cgroup2" && cgroups.v2_.empty()) {
      cgroups.v2_ = mountpoint;
    } else if (fstype == "cgroup" && seen.insert(mountpoint).second &&
               super_options.find("name=") == std::string::npos) {
      cgroups.v1_.emplace_back(super_options, mountpoint);
    }
  }
  return cgroups;
}

Result<std::string> Cgroups::Create(const std::string& path) const {
  // The topmost missing ancestor, judged in the first hierarchy.
  std::string created;
  std::string probe = path;
  std::string first = !v1_.empty() ? v1_.front().second : v2_;
  while (!probe.empty() && probe != "/" && !first.empty() && !PathExists(first + probe)) {
    created = probe;
    probe = probe.substr(0, probe.find_last_of('/'));
  }
  auto make = [&](const std::string& mountpoint) -> Result<void> {
    return MakeDirs(mountpoint + path, 0755);
  };
  for (const auto& [controllers, mountpoint] : v1_) {
    BERTH_TRY(make(mountpoint));
    if (HasController(controllers, "cpuset")) {
      // Every level made here starts empty: fill them from the top down.
      for (size_t slash = path.find('/', 1); ; slash = path.find('/', slash + 1)) {
        InheritCpuset(mountpoint + path.substr(0, slash));
        if (slash == std::string::npos) break;
      }
    }
  }
  if (!v2_.empty()) BERTH_TRY(make(v2_));
  return created;
}

Result<void> Cgroups::Remove(const std::string& path, const std::string& created_root) const {
  if (path.empty() || path == "/") return Ok();
  auto remove = [&](const std::string& mountpoint) -> Result<void> {
    std::string current = path;
    while (true) {
      std::string dir = mountpoint + current;
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        // An ancestor that still holds other cgroups stays: it goes with the last of them.
        if (current != path && (errno == EBUSY || errno == ENOTEMPTY)) return Ok();
        return Error::FromErrno(errno, "remove cgroup " + dir);
      }
      if (created_root.empty() || current == created_root || current.size() <= created_root.size()) {
        return Ok();
      }
      current = current.substr(0, current.find_last_of('/'));
    }
  };
  for (const auto& [controllers, mountpoint] : v1_) BERTH_TRY(remove(mountpoint));
  if (!v2_.empty()) BERTH_TRY(remove(v2_));
  return Ok();
}

namespace {

// The pids in a cgroup.procs file; a missing file (no such cgroup) is an empty list.
Result<std::vector<pid_t>> ReadProcs(const std::string& dir) {
  auto text = ReadFile(dir + "/cgroup.procs", 16 << 20);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::vector<pid_t>();
    return std::move(text).error();
  }
  std::vector<pid_t> pids;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (auto pid = ParseUint64(line, INT32_MAX)) pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

}  // namespace

std::string Cgroups::ProcsDir(const std::string& path) const {
  // Every process is in the same relative path in each hierarchy berth made; one is enough.
  return (!v1_.empty() ? v1_.front().second : v2_) + path;
}

Result<bool> Cgroups::IsEmpty(const std::string& path) const {
  if (v1_.empty() && v2_.empty()) return true;
  BERTH_ASSIGN_OR_RETURN(auto pids, ReadProcs(ProcsDir(path)));
  return pids.empty();
}

Result<void> Cgroups::KillAll(const std::string& path) const {
  if (path.empty() || path == "/") return InvalidArgument("refusing to kill the root cgroup");
  if (!v2_.empty() && PathExists(v2_ + path + "/cgroup.kill")) {
    auto killed = WriteKernelFile(v2_ + path + "/cgroup.kill", "1");
    if (killed || killed.error().sys_errno() == ENOENT) return Ok();
  }
  // No cgroup.kill: signal what is listed; a fork racing with this is caught by the next round.
  for (int round = 0; round < 10; ++round) {
    BERTH_ASSIGN_OR_RETURN(auto pids, ReadProcs(ProcsDir(path)));
    if (pids.empty()) return Ok();
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  }
  return Ok();
}

Result<void> Cgroups::Destroy(const std::string& path, const std::string& created_root,
                              std::chrono::milliseconds timeout) const {
  if (path.empty() || path == "/") return Ok();
  BERTH_TRY(KillAll(path));
  // Killed processes leave the cgroup as they exit (not when reaped); wait for the last one.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool empty, IsEmpty(path));
    if (empty) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return FailedPrecondition("cgroup " + path + " still holds processes after SIGKILL");
    }
    BERTH_TRY(KillAll(path));
    WaitForCgroupChange(path, std::chrono::milliseconds(50));
  }
  return Remove(path, created_root);
}

void Cgroups::WaitForCgroupChange(const std::string& path, std::chrono::milliseconds limit) const {
  // cgroup.events (v2, also on the hybrid layout's core hierarchy) wakes poll() when
  // "populated" changes; without it, a short sleep.
  if (!v2_.empty()) {
    UniqueFd events(::open((v2_ + path + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
    if (events) {
      char buffer[256];
      (void)::read(events.get(), buffer, sizeof buffer);
      pollfd wait{events.get(), POLLPRI, 0};
      ::poll(&wait, 1, static_cast<int>(limit.count()));
      return;
    }
  }
  ::usleep(static_cast<useconds_t>(std::min<int64_t>(limit.count(), 5) * 1000));
}

std::string Cgroups::V1Mountpoint(const std::string& controller) const {
  for (const auto& [controllers, mountpoint] : v1_) {
    if (HasController(controllers, controller)) return mountpoint;
  }
  return "";
}

std::vector<std::string> Cgroups::Children(const std::string& path) const {
  std::vector<std::string> children;
  if (v1_.empty() && v2_.empty()) return children;
  DIR* listing = ::opendir(ProcsDir(path).c_str());
  if (listing == nullptr) return children;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(name);
  }
  ::closedir(listing);
  return children;
}

bool Cgroups::Exists(const std::string& path) const {
  if (!v1_.empty()) return PathExists(v1_.front().second + path);
  return !v2_.empty() && PathExists(v2_ + path);
}

}  // namespace berth
