// What a crash leaves behind that no record knows: a berthd killed in the middle of
// RunPodSandbox or CreateContainer has made mounts, directories, a cgroup, a monitor, a pod init,
// namespace pins, a veth, addresses and port mappings for an object it never recorded. At start,
// once the records are loaded and before any request is served, berthd removes everything of
// its own that no record names:
// - berth-monitor and berth-pod-init processes of unknown containers and pods (found by their
//   command lines, which name the object),
// - mounts under the root and state directories outside known objects' directories,
// - container bundles, monitor state dirs, pod state dirs (with their namespace pins),
// - overlay snapshots of unknown keys,
// - container cgroups (64-hex names) below "/berth" and below known pods' cgroups,
// - and, through the pod network, veths, addresses and port mappings of unknown pods.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "cni/pod_network.h"
#include "image/snapshotter.h"
#include "pod/container.h"
#include "pod/sandbox.h"

namespace berth::pod {

struct ReconcileReport {
  int processes = 0;
  int mounts = 0;
  int directories = 0;
  int snapshots = 0;
  int cgroups = 0;
  std::vector<std::string> failures;  // what could not be removed, and why

  int total() const { return processes + mounts + directories + snapshots + cgroups; }
};

class Reconciler {
 public:
  Reconciler(std::string root, std::string state, image::Snapshotter& snapshots,
             cni::PodNetwork& network)
      : root_(std::move(root)),
        state_(std::move(state)),
        snapshots_(snapshots),
        network_(network) {}

  ReconcileReport Run(const std::vector<Sandbox>& sandboxes,
                      const std::vector<Container>& containers);

 private:
  void EndProcesses(const std::vector<Sandbox>& sandboxes, const std::vector<Container>& containers,
                    ReconcileReport& report);
  void RemoveMounts(const std::vector<std::string>& known_dirs, ReconcileReport& report);
  void RemoveDirectories(const std::vector<Sandbox>& sandboxes,
                         const std::vector<Container>& containers, ReconcileReport& report);
  void RemoveSnapshots(const std::vector<Container>& containers, ReconcileReport& report);
  void RemoveCgroups(const std::vector<Sandbox>& sandboxes,
                     const std::vector<Container>& containers, ReconcileReport& report);

  std::string root_;
  std::string state_;
  image::Snapshotter& snapshots_;
  cni::PodNetwork& network_;
};

}  // namespace berth::pod
