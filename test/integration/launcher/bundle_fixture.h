// A busybox OCI bundle in a temporary directory: rootfs/bin/busybox (Debian's busybox-static)
// plus applet symlinks, and a config.json close to what pod/ generates.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test/integration/berthd_fixture.h"

namespace berth::testing {

class BusyboxBundle {
 public:
  BusyboxBundle() : dir_("berth-launcher") {
    namespace fs = std::filesystem;
    fs::create_directories(rootfs() + "/bin");
    fs::copy_file("/bin/busybox", rootfs() + "/bin/busybox");
    for (const char* applet :
         {"sh", "echo", "cat", "ls", "id", "sleep", "hostname", "readlink", "dd", "tr", "head"})
      fs::create_symlink("busybox", rootfs() + "/bin/" + applet);
    spec_ = DefaultSpec();
  }

  const std::string& dir() const { return dir_.path(); }
  std::string rootfs() const { return dir_.path() + "/rootfs"; }
  nlohmann::json& spec() { return spec_; }

  void SetArgs(std::vector<std::string> args) { spec_["process"]["args"] = std::move(args); }

  // Writes config.json and returns the bundle directory.
  const std::string& Write() {
    std::ofstream(dir() + "/config.json") << spec_.dump(2);
    return dir();
  }

 private:
  static nlohmann::json DefaultSpec() {
    using nlohmann::json;
    return json{{"ociVersion", "1.0.2"},
                {"process",
                 {{"args", {"/bin/sh", "-c", "true"}},
                  {"env", {"PATH=/bin"}},
                  {"cwd", "/"},
                  {"user", {{"uid", 0}, {"gid", 0}}},
                  {"noNewPrivileges", true},
                  {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 1048576}}}},
                  {"oomScoreAdj", -500}}},
                {"root", {{"path", "rootfs"}}},
                {"mounts",
                 {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
                  {{"destination", "/dev"},
                   {"type", "tmpfs"},
                   {"source", "tmpfs"},
                   {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
                  {{"destination", "/dev/pts"},
                   {"type", "devpts"},
                   {"source", "devpts"},
                   {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
                  {{"destination", "/dev/shm"},
                   {"type", "tmpfs"},
                   {"source", "shm"},
                   {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
                  {{"destination", "/dev/mqueue"},
                   {"type", "mqueue"},
                   {"source", "mqueue"},
                   {"options", {"nosuid", "noexec", "nodev"}}},
                  {{"destination", "/sys"},
                   {"type", "sysfs"},
                   {"source", "sysfs"},
                   {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
                {"linux",
                 {{"namespaces",
                   {{{"type", "pid"}},
                    {{"type", "ipc"}},
                    {{"type", "uts"}},
                    {{"type", "mount"}},
                    {{"type", "network"}}}},
                  {"maskedPaths", {"/proc/kcore", "/proc/keys", "/sys/firmware"}},
                  {"readonlyPaths", {"/proc/sys", "/proc/bus"}}}}};
  }

  TempDir dir_;
  nlohmann::json spec_;
};

// The host's mount table, to prove a container left nothing behind.
inline std::string HostMountsUnder(const std::string& prefix) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, found;
  while (std::getline(in, line))
    if (line.find(prefix) != std::string::npos) found += line + "\n";
  return found;
}

}  // namespace berth::testing
