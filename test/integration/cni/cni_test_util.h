// Helpers shared by the CNI tests: temp conf/bin/cache dirs, a recording fake plugin, reading
// files back. No root needed for any of this.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cni/plugin/cni_network.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// A fake CNI plugin, installed under any number of names in one bin dir. Each run appends
// "<COMMAND> <name>" to <bin>/calls and keeps its stdin and environment in
// <bin>/<COMMAND>-<name>.{stdin,env}. It answers ADD with <bin>/<name>.result; when
// <bin>/<name>.fail-<COMMAND> exists, it prints that file, writes to stderr and exits 1.
constexpr char kFakePlugin[] = R"(#!/bin/sh
dir=$(dirname "$0")
name=$(basename "$0")
echo "$CNI_COMMAND $name" >> "$dir/calls"
cat > "$dir/$CNI_COMMAND-$name.stdin"
env > "$dir/$CNI_COMMAND-$name.env"
if [ -f "$dir/$name.fail-$CNI_COMMAND" ]; then
  cat "$dir/$name.fail-$CNI_COMMAND"
  echo "fake plugin $name failed" >&2
  exit 1
fi
if [ "$CNI_COMMAND" = ADD ]; then cat "$dir/$name.result"; fi
exit 0
)";

class FakeCniSetup {
 public:
  FakeCniSetup() : dir_("berth-cnifake") {
    ::mkdir(conf_dir().c_str(), 0755);
    ::mkdir(bin_dir().c_str(), 0755);
    WriteText(netns(), "");  // plugins are fake: any path will do, and it is no live namespace
  }
  std::string conf_dir() const { return dir_.path() + "/net.d"; }
  std::string bin_dir() const { return dir_.path() + "/bin"; }
  std::string cache_dir() const { return dir_.path() + "/cache"; }
  std::string netns() const { return dir_.path() + "/netns"; }

  void InstallPlugin(const std::string& name, const nlohmann::json& add_result) const {
    std::string path = bin_dir() + "/" + name;
    WriteText(path, kFakePlugin);
    ::chmod(path.c_str(), 0755);
    WriteText(bin_dir() + "/" + name + ".result", add_result.dump());
  }
  void FailPlugin(const std::string& name, const std::string& command,
                  const std::string& output) const {
    WriteText(bin_dir() + "/" + name + ".fail-" + command, output);
  }
  void HealPlugin(const std::string& name, const std::string& command) const {
    ::unlink((bin_dir() + "/" + name + ".fail-" + command).c_str());
  }
  void WriteConf(const std::string& file, const nlohmann::json& conf) const {
    WriteText(conf_dir() + "/" + file, conf.dump());
  }
  // "ADD fake-a", "ADD fake-b", ... in the order the plugins ran; cleared after reading.
  std::vector<std::string> TakeCalls() const {
    std::vector<std::string> calls;
    std::istringstream lines(ReadText(bin_dir() + "/calls"));
    for (std::string line; std::getline(lines, line);) calls.push_back(line);
    ::unlink((bin_dir() + "/calls").c_str());
    return calls;
  }
  nlohmann::json Stdin(const std::string& command, const std::string& name) const {
    return nlohmann::json::parse(ReadText(bin_dir() + "/" + command + "-" + name + ".stdin"));
  }
  std::string Env(const std::string& command, const std::string& name) const {
    return ReadText(bin_dir() + "/" + command + "-" + name + ".env");
  }
  NetworkConfig Config() const {
    NetworkConfig config;
    config.mode = "cni";
    config.cni_conf_dir = conf_dir();
    config.cni_bin_dirs = {bin_dir()};
    return config;
  }

 private:
  TempDir dir_;
};

}  // namespace berth::testing
