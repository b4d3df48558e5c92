// Device access on cgroup v2: v2 has no devices controller, the kernel asks an eBPF program
// (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup instead. berth generates that program
// from the same DeviceRule list the v1 controller gets, loads and attaches it with the bpf(2)
// system call itself (no libbpf).
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/cgroups.h"

namespace berth::runtime {

// The program for `rules`, read as the v1 controller reads them: in order, an 'a' rule replaces
// everything before it (deny all, or allow all), a later rule of a device adds (allow) or takes
// away (deny) its accesses. The program checks the rules from the last to the first: the first
// match decides; without any, access is denied after a deny-all and allowed otherwise. Rules
// with access letters other than r, w, m are InvalidArgument.
Result<std::vector<bpf_insn>> DeviceFilterProgram(const std::vector<DeviceRule>& rules);

// Loads `program` (BPF_PROG_LOAD; the verifier's log in the error) and attaches it to the v2
// cgroup directory `cgroup_dir` with BPF_F_ALLOW_MULTI (every program of the cgroup and its
// ancestors must allow an access). The attachment lives as long as the cgroup.
Result<void> AttachDeviceFilter(const std::string& cgroup_dir,
                                const std::vector<bpf_insn>& program);

}  // namespace berth::runtime
