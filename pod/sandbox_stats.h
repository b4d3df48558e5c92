// Pod-level usage for PodSandboxStats: the pod's network interface counters, read inside its
// network namespace.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace berth::pod {

struct InterfaceCounters {
  std::string name;
  uint64_t rx_bytes = 0;
  uint64_t rx_errors = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_errors = 0;
};

// Counters of `interface` from /proc/net/dev as seen inside the namespace pinned at `netns`.
Result<InterfaceCounters> ReadInterfaceCounters(const std::string& netns,
                                                const std::string& interface);

// Parses /proc/net/dev text for `interface` (NotFound when it is not listed).
Result<InterfaceCounters> ParseNetDev(const std::string& text, const std::string& interface);

}  // namespace berth::pod
