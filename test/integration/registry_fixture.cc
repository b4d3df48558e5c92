#include "test/integration/registry_fixture.h"

#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace berth::testing {
namespace {

// A function, not a static string: a fixture held in another file's static is stopped during
// static destruction, when such a string may already be gone (it was, and leaked a registry).
std::string FixturesDir() {
  return std::string(BERTH_SOURCE_DIR) + "/test/fixtures";
}

std::vector<std::string> Python(const std::string& script, std::vector<std::string> args) {
  // execv does no PATH search; env finds python3 wherever the machine keeps it.
  std::vector<std::string> argv{"/usr/bin/env", "python3", FixturesDir() + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string ModeName(RegistryMode mode) {
  switch (mode) {
    case RegistryMode::kAnonymous: return "anonymous";
    case RegistryMode::kBasic: return "basic";
    case RegistryMode::kToken: return "token";
  }
  return "anonymous";
}

CommandResult RunOrThrow(const std::vector<std::string>& argv, const std::string& what) {
  CommandResult result = RunCommand(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error(what + " failed (exit " + std::to_string(result.exit_code) +
                             "): " + result.output);
  }
  return result;
}

// The scripts print one JSON object on the last line; warnings may come before it (stdout and
// stderr are captured together).
nlohmann::json LastJsonLine(const std::string& output, const std::string& what) {
  std::istringstream lines(output);
  std::string line;
  std::string last;
  while (std::getline(lines, line)) {
    if (line.starts_with("{")) last = line;
  }
  auto json = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) throw std::runtime_error(what + ": no JSON answer in: " + output);
  return json;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Waits (bounded) for each pid that is our child to exit and reaps it; pids that are not our
// children (already reaped by their own parent, the supervisor) are skipped.
void ReapPids(const std::vector<pid_t>& pids) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (pid_t pid : pids) {
    while (true) {
      pid_t done = ::waitpid(pid, nullptr, WNOHANG);
      if (done != 0 || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace

std::string MissingRegistryTools() {
  // Asked before every test; python3 may be a slow shim (pyenv), so look once.
  static const std::string missing = [] {
    for (const char* tool :
         {"/usr/bin/docker-registry", "/usr/bin/htpasswd", "/usr/bin/openssl", "/bin/busybox"}) {
      if (::access(tool, X_OK) != 0)
        return std::string(tool) + " is missing (see test/fixtures/README.md)";
    }
    if (RunCommand({"/usr/bin/env", "python3", "--version"}).exit_code != 0) {
      return std::string("python3 is missing");
    }
    return std::string();
  }();
  return missing;
}

void BecomeChildSubreaper() {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int UnusedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  if (port == 0) throw std::runtime_error("no free loopback port");
  return port;
}

std::unique_ptr<RegistryFixture> RegistryFixture::Start(RegistryMode mode, const Options& options) {
  BecomeChildSubreaper();
  std::unique_ptr<RegistryFixture> fixture(new RegistryFixture());
  std::vector<std::string> args{"start", "--mode", ModeName(mode), "--token-ttl",
                                std::to_string(options.token_ttl_seconds)};
  if (!options.password.empty()) args.insert(args.end(), {"--password", options.password});
  if (options.anonymous_pull) args.push_back("--anonymous-pull");
  // registry.py writes registry.json before it answers; whatever else it printed is ignored.
  fixture->running_ = true;  // from here on, Stop() must run even if start half-failed
  RunOrThrow(fixture->Command(args), "registry.py start");
  auto info =
      nlohmann::json::parse(ReadWholeFile(fixture->dir() + "/registry.json"), nullptr, false);
  if (!info.is_object()) throw std::runtime_error("registry.py start wrote no registry.json");
  fixture->info_ = std::move(info);
  return fixture;
}

RegistryFixture::~RegistryFixture() {
  Stop();
}

std::vector<std::string> RegistryFixture::Command(const std::vector<std::string>& args) const {
  std::vector<std::string> full{args.front(), "--dir", dir()};
  full.insert(full.end(), args.begin() + 1, args.end());
  return Python("registry.py", full);
}

std::string RegistryFixture::host() const {
  return info_.value("host", "");
}
std::string RegistryFixture::url() const {
  return info_.value("url", "");
}

std::string RegistryFixture::username() const {
  return info_.contains("username") && info_["username"].is_string()
             ? info_["username"].get<std::string>()
             : "";
}

std::string RegistryFixture::password() const {
  return info_.contains("password") && info_["password"].is_string()
             ? info_["password"].get<std::string>()
             : "";
}

nlohmann::json RegistryFixture::Push(const std::string& layout_dir, const std::string& repo_tag,
                                     const std::string& ref_name) {
  std::vector<std::string> args{"push", layout_dir, repo_tag};
  if (!ref_name.empty()) args.insert(args.end(), {"--ref", ref_name});
  return LastJsonLine(RunOrThrow(Command(args), "registry.py push " + repo_tag).output,
                      "registry.py push");
}

void RegistryFixture::Corrupt(const std::string& digest) {
  RunOrThrow(Command({"corrupt", digest}), "registry.py corrupt " + digest);
}

std::string RegistryFixture::ReadLog(const std::string& name) const {
  return ReadWholeFile(dir() + "/" + name);
}

int RegistryFixture::TokenRequests() const {
  // http.server's access log: `127.0.0.1 "GET /token?service=… HTTP/1.1" 200 -`.
  std::istringstream lines(ReadLog("token-server.log"));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.find("\"GET /token") != std::string::npos ||
        line.find("\"POST /token") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

void RegistryFixture::Stop() {
  if (!running_) return;
  running_ = false;
  CommandResult stopped = RunCommand(Command({"stop"}));
  if (stopped.exit_code != 0) {
    std::fprintf(stderr, "registry.py stop: %s\n", stopped.output.c_str());
  }
  std::vector<pid_t> pids;
  if (info_.contains("pids") && info_["pids"].is_array()) {
    for (const auto& pid : info_["pids"]) {
      if (pid.is_number_integer()) pids.push_back(pid.get<pid_t>());
    }
  }
  ReapPids(pids);
}

nlohmann::json BuildFixtureImages(const std::string& dir) {
  RunOrThrow(Python("images.py", {"build", dir}), "images.py build");
  auto images = nlohmann::json::parse(ReadWholeFile(dir + "/images.json"), nullptr, false);
  if (!images.is_object()) throw std::runtime_error("images.py build wrote no images.json");
  return images;
}

const nlohmann::json& SharedFixtureImages() {
  static TempDir* dir = new TempDir("berth-fixture-images");
  static const nlohmann::json images = [] {
    // Removed when the test process exits normally.
    std::atexit([] { delete dir; });
    return BuildFixtureImages(dir->path());
  }();
  return images;
}

}  // namespace berth::testing
