// berth-exec BUNDLE_DIR CONTAINER_PID CGROUP_PATH [--tty] -- COMMAND...: runs COMMAND inside a
// running container (ExecSync, Exec). Spawned by berthd; see runtime/launcher/exec.h.
#include <unistd.h>

#include <string>
#include <vector>

#include "runtime/launcher/exec.h"

int main(int argc, char** argv) {
  bool tty = argc > 4 && std::string(argv[4]) == "--tty";
  int first = tty ? 5 : 4;
  if (argc < first + 2 || std::string(argv[first]) != "--") {
    static const char kUsage[] =
        "usage: berth-exec BUNDLE_DIR CONTAINER_PID CGROUP_PATH [--tty] -- COMMAND...\n";
    ssize_t ignored = ::write(2, kUsage, sizeof kUsage - 1);
    (void)ignored;
    return 126;
  }
  std::vector<std::string> args(argv + first + 1, argv + argc);
  berth::runtime::RunExecInContainer(argv[1], std::stoi(argv[2]), argv[3], args, tty);
}
