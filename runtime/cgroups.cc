#include "runtime/cgroups.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include "base/file_util.h"
#include "base/parse_number.h"
#include "base/unique_fd.h"
#include "runtime/cgroup_driver.h"
#include "runtime/cgroups_internal.h"

namespace berth::runtime {
namespace cgroups_internal {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

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

std::string LastComponent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace cgroups_internal

using cgroups_internal::EndsWith;
using cgroups_internal::HasController;
using cgroups_internal::LastComponent;
using cgroups_internal::ReadProcs;

namespace {

bool IsObjectId(const std::string& name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::mutex configured_mutex;
std::shared_ptr<const CgroupDriver> configured;

std::shared_ptr<const CgroupDriver> CgroupfsDriverFor(CgroupHierarchies hierarchies) {
  if (hierarchies.v1.empty() && !hierarchies.v2.empty()) {
    return MakeCgroupfsV2Driver(std::move(hierarchies));
  }
  return MakeCgroupfsV1Driver(std::move(hierarchies));
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
  if (!EndsWith(parent, suffix) || parent.size() <= suffix.size() ||
      parent.find('/') != std::string::npos) {
    return InvalidArgument("cgroup parent \"" + parent +
                           "\" is neither an absolute cgroupfs path nor a systemd slice name");
  }
  // "a-b-c.slice" lives in a.slice/a-b.slice/a-b-c.slice.
  std::string stem = parent.substr(0, parent.size() - suffix.size());
  std::string path;
  size_t dash = 0;
  while ((dash = stem.find('-', dash)) != std::string::npos) {
    if (dash == 0 || stem[dash - 1] == '-' || dash + 1 == stem.size()) {
      return InvalidArgument("invalid slice name " + parent);
    }
    // append() rather than "/" + ...: GCC 12 warns falsely (-Wrestrict) about the latter.
    path.append("/").append(stem, 0, dash).append(suffix);
    ++dash;
  }
  return path.append("/").append(parent);
}

std::string OciCgroupsPath(const std::string& path) {
  std::string unit = LastComponent(path);
  std::string parent = path.substr(0, path.size() - unit.size());
  if (!parent.empty() && parent.back() == '/') parent.pop_back();
  size_t dash = unit.find('-');
  if (!EndsWith(unit, ".scope") || !EndsWith(parent, ".slice") || dash == std::string::npos) {
    return path;
  }
  std::string name = unit.substr(dash + 1, unit.size() - dash - 1 - std::string(".scope").size());
  return LastComponent(parent) + ":" + unit.substr(0, dash) + ":" + name;
}

Result<SpecCgroup> ParseOciCgroupsPath(const std::string& cgroups_path) {
  if (cgroups_path.empty() || cgroups_path.front() == '/') {
    if (cgroups_path.find("..") != std::string::npos) {
      return InvalidArgument("linux.cgroupsPath \"" + cgroups_path + "\" has \"..\"");
    }
    return SpecCgroup{cgroups_path, false};
  }
  // runc's systemd form "<slice>:<prefix>:<name>": the scope <prefix>-<name>.scope in <slice>.
  size_t first = cgroups_path.find(':');
  size_t second = first == std::string::npos ? first : cgroups_path.find(':', first + 1);
  if (second == std::string::npos || cgroups_path.find(':', second + 1) != std::string::npos) {
    return InvalidArgument("linux.cgroupsPath \"" + cgroups_path +
                           "\" is neither a path nor <slice>:<prefix>:<name>");
  }
  std::string slice = cgroups_path.substr(0, first);
  std::string prefix = cgroups_path.substr(first + 1, second - first - 1);
  std::string name = cgroups_path.substr(second + 1);
  if (prefix.empty() || name.empty() || name.find('/') != std::string::npos ||
      prefix.find('/') != std::string::npos) {
    return InvalidArgument("linux.cgroupsPath \"" + cgroups_path + "\": bad prefix or name");
  }
  BERTH_ASSIGN_OR_RETURN(std::string slice_path,
                         CgroupParentToPath(slice.empty() ? "system.slice" : slice));
  return SpecCgroup{slice_path + "/" + prefix + "-" + name + ".scope", true};
}

// --- CgroupHierarchies -------------------------------------------------------------------------

CgroupHierarchies CgroupHierarchies::Probe() {
  CgroupHierarchies found;
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
    if (fstype == "cgroup2" && found.v2.empty()) {
      found.v2 = mountpoint;
    } else if (fstype == "cgroup" && seen.insert(mountpoint).second &&
               super_options.find("name=") == std::string::npos) {
      found.v1.emplace_back(super_options, mountpoint);
    }
  }
  return found;
}

std::string CgroupHierarchies::V1Mountpoint(const std::string& controller) const {
  for (const auto& [controllers, mountpoint] : v1) {
    if (HasController(controllers, controller)) return mountpoint;
  }
  return "";
}

std::vector<std::string> CgroupHierarchies::All() const {
  std::vector<std::string> all;
  for (const auto& hierarchy : v1) all.push_back(hierarchy.second);
  if (!v2.empty()) all.push_back(v2);
  return all;
}

std::string CgroupHierarchies::ProcsDir(const std::string& path) const {
  return (!v1.empty() ? v1.front().second : v2) + path;
}

// --- CgroupDriver: what all drivers share --------------------------------------------------------

Result<std::string> CgroupDriver::PodPath(const std::string& cgroup_parent) const {
  return CgroupParentToPath(cgroup_parent);
}

std::string CgroupDriver::ContainerIdOf(const std::string& child_name) const {
  return IsObjectId(child_name) ? child_name : "";
}

Result<void> CgroupDriver::PrepareContainer(const std::string& path,
                                            const CgroupResources& resources) const {
  BERTH_TRY(Create(path));
  return Apply(path, resources);
}

Result<void> CgroupDriver::Remove(const std::string& path, const std::string& created_root) const {
  return RemoveDirectories(path, created_root);
}

Result<void> CgroupDriver::RemoveDirectories(const std::string& path,
                                             const std::string& created_root) const {
  if (path.empty() || path == "/") return Ok();
  for (const auto& mountpoint : hierarchies_.All()) {
    std::string current = path;
    while (true) {
      std::string dir = mountpoint + current;
      if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
        // An ancestor that still holds other cgroups stays: it goes with the last of them.
        if (current != path && (errno == EBUSY || errno == ENOTEMPTY)) break;
        return Error::FromErrno(errno, "remove cgroup " + dir);
      }
      if (created_root.empty() || current == created_root ||
          current.size() <= created_root.size()) {
        break;
      }
      current = current.substr(0, current.find_last_of('/'));
    }
  }
  return Ok();
}

Result<void> CgroupDriver::KillAll(const std::string& path) const {
  if (path.empty() || path == "/") return InvalidArgument("refusing to kill the root cgroup");
  const std::string& v2 = hierarchies_.v2;
  if (!v2.empty() && PathExists(v2 + path + "/cgroup.kill")) {
    auto killed = WriteKernelFile(v2 + path + "/cgroup.kill", "1");
    if (killed || killed.error().sys_errno() == ENOENT) return Ok();
  }
  // No cgroup.kill: signal what is listed; a fork racing with this is caught by the next round.
  for (int round = 0; round < 10; ++round) {
    BERTH_ASSIGN_OR_RETURN(auto pids, ReadProcs(hierarchies_.ProcsDir(path)));
    if (pids.empty()) return Ok();
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  }
  return Ok();
}

Result<bool> CgroupDriver::IsEmpty(const std::string& path) const {
  if (hierarchies_.v1.empty() && hierarchies_.v2.empty()) return true;
  BERTH_ASSIGN_OR_RETURN(auto pids, ReadProcs(hierarchies_.ProcsDir(path)));
  return pids.empty();
}

bool CgroupDriver::Exists(const std::string& path) const {
  if (hierarchies_.v1.empty() && hierarchies_.v2.empty()) return false;
  return PathExists(hierarchies_.ProcsDir(path));
}

std::vector<std::string> CgroupDriver::Children(const std::string& path) const {
  std::vector<std::string> children;
  if (hierarchies_.v1.empty() && hierarchies_.v2.empty()) return children;
  DIR* listing = ::opendir(hierarchies_.ProcsDir(path).c_str());
  if (listing == nullptr) return children;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (entry->d_type == DT_DIR && name != "." && name != "..") children.push_back(name);
  }
  ::closedir(listing);
  return children;
}

void CgroupDriver::WaitForChange(const std::string& path, std::chrono::milliseconds limit) const {
  // cgroup.events (v2, also on the hybrid layout's core hierarchy) wakes poll() when
  // "populated" changes; without it, a short sleep.
  if (!hierarchies_.v2.empty()) {
    UniqueFd events(
        ::open((hierarchies_.v2 + path + "/cgroup.events").c_str(), O_RDONLY | O_CLOEXEC));
    if (events) {
      char buffer[256];
      (void)!::read(events.get(), buffer, sizeof buffer);
      pollfd wait{events.get(), POLLPRI, 0};
      ::poll(&wait, 1, static_cast<int>(limit.count()));
      return;
    }
  }
  ::usleep(static_cast<useconds_t>(std::min<int64_t>(limit.count(), 5) * 1000));
}

bool CgroupDriver::RunsInSystemdUnit() {
  if (!PathExists("/run/systemd/system")) return false;
  // "0::/system.slice/berthd.service" (v2), or the name=systemd line of a v1 host.
  std::ifstream own("/proc/self/cgroup");
  std::string unit_line;
  for (std::string line; std::getline(own, line);) {
    if (line.rfind("0::", 0) == 0 || line.find(":name=systemd:") != std::string::npos) {
      unit_line = line;
    }
  }
  std::string leaf = LastComponent(unit_line);
  return EndsWith(leaf, ".service") || EndsWith(leaf, ".scope");
}

Result<void> CgroupDriver::PlaceHelper(pid_t pid, const std::string&, const std::string&) const {
  static const bool move = RunsInSystemdUnit();
  if (!move) return Ok();
  for (const auto& [controllers, mountpoint] : hierarchies_.v1) {
    std::string dir = mountpoint + "/berth-monitors";
    BERTH_TRY(MakeDirs(dir, 0755));
    if (HasController(controllers, "cpuset")) {
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        auto current = ReadFile(dir + "/" + file, 4096);
        auto parent = ReadFile(mountpoint + "/" + file, 4096);
        if (current && cgroups_internal::Trim(*current).empty() && parent) {
          (void)WriteKernelFile(dir + "/" + file, cgroups_internal::Trim(*parent));
        }
      }
    }
    BERTH_TRY(WriteKernelFile(dir + "/cgroup.procs", std::to_string(pid)));
  }
  if (!hierarchies_.v2.empty()) {
    std::string dir = hierarchies_.v2 + "/berth-monitors";
    BERTH_TRY(MakeDirs(dir, 0755));
    BERTH_TRY(WriteKernelFile(dir + "/cgroup.procs", std::to_string(pid)));
  }
  return Ok();
}

// --- Cgroups, the handle -----------------------------------------------------------------------

Cgroups Cgroups::Probe() {
  std::lock_guard lock(configured_mutex);
  if (!configured) configured = CgroupfsDriverFor(CgroupHierarchies::Probe());
  return Cgroups(configured);
}

void Cgroups::Use(std::shared_ptr<const CgroupDriver> driver) {
  std::lock_guard lock(configured_mutex);
  configured = std::move(driver);
}

std::shared_ptr<const CgroupDriver> Cgroups::CgroupfsDriver() {
  return CgroupfsDriverFor(CgroupHierarchies::Probe());
}

std::string Cgroups::driver_name() const {
  return driver_->name();
}

Result<std::string> Cgroups::PodPath(const std::string& cgroup_parent) const {
  return driver_->PodPath(cgroup_parent);
}

std::string Cgroups::ContainerPath(const std::string& pod_path, const std::string& id) const {
  return (pod_path.empty() ? driver_->SharedParent() : pod_path) + "/" + driver_->ContainerName(id);
}

std::string Cgroups::SharedParent() const {
  return driver_->SharedParent();
}

std::string Cgroups::ContainerIdOf(const std::string& child_name) const {
  return driver_->ContainerIdOf(child_name);
}

Result<std::string> Cgroups::Create(const std::string& path) const {
  return driver_->Create(path);
}

Result<void> Cgroups::Remove(const std::string& path, const std::string& created_root) const {
  if (path.empty() || path == "/") return Ok();
  return driver_->Remove(path, created_root);
}

Result<void> Cgroups::Destroy(const std::string& path, const std::string& created_root,
                              std::chrono::milliseconds timeout) const {
  if (path.empty() || path == "/") return Ok();
  BERTH_TRY(driver_->KillAll(path));
  // Killed processes leave the cgroup as they exit (not when reaped); wait for the last one.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    BERTH_ASSIGN_OR_RETURN(bool empty, driver_->IsEmpty(path));
    if (empty) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return FailedPrecondition("cgroup " + path + " still holds processes after SIGKILL");
    }
    BERTH_TRY(driver_->KillAll(path));
    driver_->WaitForChange(path, std::chrono::milliseconds(50));
  }
  return driver_->Remove(path, created_root);
}

Result<void> Cgroups::KillAll(const std::string& path) const {
  return driver_->KillAll(path);
}

Result<bool> Cgroups::IsEmpty(const std::string& path) const {
  return driver_->IsEmpty(path);
}

Result<void> Cgroups::Apply(const std::string& path, const CgroupResources& resources) const {
  return driver_->Apply(path, resources);
}

bool Cgroups::Exists(const std::string& path) const {
  return driver_->Exists(path);
}

std::vector<std::string> Cgroups::Children(const std::string& path) const {
  return driver_->Children(path);
}

Result<void> Cgroups::PrepareContainer(const std::string& path,
                                       const CgroupResources& resources) const {
  return driver_->PrepareContainer(path, resources);
}

Result<void> Cgroups::PlaceContainerInit(const std::string& path, pid_t pid,
                                         const CgroupResources& resources) const {
  return driver_->PlaceContainerInit(path, pid, resources);
}

Result<void> Cgroups::PlaceHelper(pid_t pid, const std::string& kind, const std::string& id) const {
  return driver_->PlaceHelper(pid, kind, id);
}

std::string Cgroups::V1Mountpoint(const std::string& controller) const {
  return driver_->hierarchies().V1Mountpoint(controller);
}

const std::vector<std::pair<std::string, std::string>>& Cgroups::v1() const {
  return driver_->hierarchies().v1;
}

const std::string& Cgroups::v2() const {
  return driver_->hierarchies().v2;
}

}  // namespace berth::runtime
