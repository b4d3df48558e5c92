// berth-exec BUNDLE_DIR CONTAINER_PID CGROUP_PATH -- COMMAND...: runs COMMAND inside a running
// container (ExecSync). Spawned by berthd; see runtime/launcher/exec.h.
#include <unistd.h>

#include <string>
#include <vector>

#include "runtime/launcher/exec.h"

int main(int argc, char** argv) {
  if (argc < 6 || std::string(argv[4]) != "--") {
    static const char kUsage[] = "usage: berth-exec BUNDLE_DIR CONTAINER_PID CGROUP_PATH -- COMMAND...\n";
    ssize_t ignored = ::write(2, kUsage, sizeof kUsage - 1);
    (void)ignored;
    return 126;
  }
  std::vector<std::string> args(argv + 5, argv + argc);
  berth::RunExecInContainer(argv[1], std::stoi(argv[2]), argv[3], args);
}
