#include "pod/sandbox_stats.h"

#include <sched.h>

#include <sstream>

#include "base/file_util.h"
#include "base/namespaces.h"

namespace berth::pod {

Result<InterfaceCounters> ParseNetDev(const std::string& text, const std::string& interface) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name != interface) continue;
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes
    // packets errs ...
    std::istringstream fields(line.substr(colon + 1));
    uint64_t values[16] = {};
    for (auto& value : values) fields >> value;
    return InterfaceCounters{interface, values[0], values[2], values[8], values[10]};
  }
  return NotFound("interface " + interface + " not found");
}

Result<InterfaceCounters> ReadInterfaceCounters(const std::string& netns,
                                                const std::string& interface) {
  InterfaceCounters counters;
  BERTH_TRY(RunInNamespace(netns, CLONE_NEWNET, [&]() -> Result<void> {
    // /proc/thread-self/net follows this thread's network namespace.
    BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/thread-self/net/dev", 1 << 20));
    BERTH_ASSIGN_OR_RETURN(counters, ParseNetDev(text, interface));
    return Ok();
  }));
  return counters;
}

}  // namespace berth::pod
