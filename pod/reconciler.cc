#include "pod/reconciler.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "base/file_util.h"
#include "base/remove_tree.h"
#include "runtime/cgroups.h"
#include "runtime/pinned_namespaces.h"
#include "runtime/process.h"

namespace berth::pod {
namespace {

bool IsObjectId(const std::string& name) {
  return name.size() == 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Whether `path` is `dir` or below it.
bool Within(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

std::vector<std::string> ListDirectory(const std::string& dir) {
  std::vector<std::string> names;
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return names;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(listing);
  return names;
}

// Mount points from /proc/self/mountinfo, with the kernel's octal escapes ("\040") undone.
std::vector<std::string> MountPoints() {
  std::vector<std::string> points;
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    if (!(fields >> id >> parent >> device >> root >> point)) continue;
    std::string decoded;
    for (size_t i = 0; i < point.size(); ++i) {
      if (point[i] == '\\' && i + 3 < point.size()) {
        int value = (point[i + 1] - '0') * 64 + (point[i + 2] - '0') * 8 + (point[i + 3] - '0');
        decoded += static_cast<char>(value);
        i += 3;
      } else {
        decoded += point[i];
      }
    }
    points.push_back(decoded);
  }
  return points;
}

}  // namespace

ReconcileReport Reconciler::Run(const std::vector<Sandbox>& sandboxes,
                                const std::vector<Container>& containers) {
  ReconcileReport report;
  // Containers' processes first (through their cgroups), while their monitors still live to reap
  // them: an orphaned zombie in a pod's PID namespace would keep its init from ever exiting.
  RemoveCgroups(sandboxes, containers, report);
  EndProcesses(sandboxes, containers, report);
  std::vector<std::string> known_dirs;
  for (const auto& sandbox : sandboxes) known_dirs.push_back(sandbox.dir);
  for (const auto& container : containers) {
    known_dirs.push_back(container.bundle_dir);
    known_dirs.push_back(container.state_dir);
  }
  for (const auto& key : snapshots_.ListSnapshots())
    known_dirs.push_back(snapshots_.root() + "/active/" + key);
  RemoveMounts(known_dirs, report);
  RemoveDirectories(sandboxes, containers, report);
  RemoveSnapshots(containers, report);
  std::set<std::string> pods;
  for (const auto& sandbox : sandboxes) pods.insert(sandbox.id);
  if (auto reconciled = network_.Reconcile(pods); !reconciled) {
    report.failures.push_back("pod network: " + reconciled.error().message());
  }
  if (report.total() > 0 || !report.failures.empty()) {
    spdlog::warn(
        "start-up clean-up of what a crash left: {} processes, {} mounts, {} directories, "
        "{} snapshots, {} cgroups removed; {} could not be",
        report.processes, report.mounts, report.directories, report.snapshots, report.cgroups,
        report.failures.size());
  }
  for (const auto& failure : report.failures) spdlog::error("start-up clean-up: {}", failure);
  return report;
}

void Reconciler::EndProcesses(const std::vector<Sandbox>& sandboxes,
                              const std::vector<Container>& containers, ReconcileReport& report) {
  std::set<std::string> bundles, pods;
  for (const auto& container : containers) bundles.insert(container.bundle_dir);
  for (const auto& sandbox : sandboxes) pods.insert(sandbox.id);
  auto end = [&](const runtime::ProcessCommandLine& found, const std::string& what,
                 bool ends_itself) {
    spdlog::warn("ending {} (pid {}): no record knows it", what, found.process.pid);
    // A monitor whose container was just killed (RemoveCgroups) reaps it and ends by itself;
    // killed before that, it would leave its container a zombie of whoever inherits it.
    auto pidfd = OpenProcess(found.process);
    if (ends_itself && pidfd && runtime::WaitProcessExit(*pidfd, std::chrono::seconds(3))) {
      ++report.processes;
      return;
    }
    if (KillProcess(found.process, std::chrono::seconds(5))) {
      ++report.processes;
    } else {
      report.failures.push_back(what + " (pid " + std::to_string(found.process.pid) +
                                ") did not end after SIGKILL");
    }
  };
  // berth-monitor <bundle_dir> <state_dir> <log_path> ...
  for (const auto& found : runtime::FindProcesses("berth-monitor")) {
    if (found.argv.size() < 2 || !Within(found.argv[1], root_ + "/containers")) continue;
    if (!bundles.count(found.argv[1])) end(found, "monitor of " + found.argv[1], true);
  }
  // berth-pod-init <pod id>
  for (const auto& found : runtime::FindProcesses("berth-pod-init")) {
    if (found.argv.size() < 2 || !IsObjectId(found.argv[1]) || pods.count(found.argv[1])) continue;
    // Only our own: its pod's state dir is (or was being made) under this berthd's state.
    if (!PathExists(state_ + "/pods/" + found.argv[1])) continue;
    end(found, "pod init of " + found.argv[1], false);
  }
}

void Reconciler::RemoveMounts(const std::vector<std::string>& known_dirs, ReconcileReport& report) {
  std::vector<std::string> doomed;
  for (const auto& point : MountPoints()) {
    bool ours =
        (Within(point, root_) && point != root_) || (Within(point, state_) && point != state_);
    if (!ours) continue;
    bool known = std::any_of(known_dirs.begin(), known_dirs.end(),
                             [&](const std::string& dir) { return Within(point, dir); });
    if (!known) doomed.push_back(point);
  }
  // Deepest first, so that nothing is detached from under a mount still to be handled.
  std::sort(doomed.begin(), doomed.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
  for (const auto& point : doomed) {
    if (::umount2(point.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
      ++report.mounts;
    } else if (errno != EINVAL && errno != ENOENT) {
      report.failures.push_back("unmount " + point + ": " + std::strerror(errno));
    }
  }
}

void Reconciler::RemoveDirectories(const std::vector<Sandbox>& sandboxes,
                                   const std::vector<Container>& containers,
                                   ReconcileReport& report) {
  std::set<std::string> known;
  for (const auto& sandbox : sandboxes) known.insert(sandbox.dir);
  for (const auto& container : containers) {
    known.insert(container.bundle_dir);
    known.insert(container.state_dir);
  }
  for (const std::string& parent : {root_ + "/containers", state_ + "/c", state_ + "/pods"}) {
    for (const auto& name : ListDirectory(parent)) {
      std::string dir = parent + "/" + name;
      if (known.count(dir)) continue;
      if (auto removed = RemoveTree(dir); removed) {
        ++report.directories;
      } else {
        report.failures.push_back(removed.error().message());
      }
    }
  }
}

void Reconciler::RemoveSnapshots(const std::vector<Container>& containers,
                                 ReconcileReport& report) {
  std::set<std::string> known;
  for (const auto& container : containers) {
    known.insert(container.id);
    for (size_t i = 0; i < container.config.mounts.size(); ++i) {
      known.insert(ImageVolumeKey(container.id, i));
    }
  }
  for (const auto& key : snapshots_.ListSnapshots()) {
    if (known.count(key)) continue;
    if (auto removed = snapshots_.Remove(key); removed) {
      ++report.snapshots;
    } else {
      report.failures.push_back("snapshot " + key + ": " + removed.error().message());
    }
  }
}

void Reconciler::RemoveCgroups(const std::vector<Sandbox>& sandboxes,
                               const std::vector<Container>& containers, ReconcileReport& report) {
  runtime::Cgroups cgroups = runtime::Cgroups::Probe();
  std::set<std::string> known;
  for (const auto& container : containers) known.insert(container.cgroup_path);
  std::set<std::string> parents{cgroups.SharedParent()};
  for (const auto& sandbox : sandboxes) {
    if (!sandbox.cgroup_path.empty()) parents.insert(sandbox.cgroup_path);
  }
  for (const auto& parent : parents) {
    for (const auto& name : cgroups.Children(parent)) {
      std::string path = parent + "/" + name;
      std::string id = cgroups.ContainerIdOf(name);
      if (id.empty() || known.count(path)) continue;
      // The shared parent holds the containers of every berthd on the host (another root, a
      // test's): only one this berthd left a bundle or state directory of is its own to end.
      // (CreateContainer writes the bundle before the cgroup; RemoveContainer erases the record
      // only after the cgroup went.)
      if (!PathExists(root_ + "/containers/" + id) &&
          !PathExists(state_ + "/c/" + id.substr(0, 32))) {
        continue;
      }
      if (auto destroyed = cgroups.Destroy(path); destroyed) {
        ++report.cgroups;
      } else {
        report.failures.push_back(destroyed.error().message());
      }
    }
  }
  // The shared parent itself ("/berth", berth.slice) stays, as kubelet's /kubepods does:
  // removing it would race with another berthd creating a container in it.
}

}  // namespace berth::pod
