// Launcher-only latency (issue 5): one OCI bundle (a busybox-static rootfs, process /bin/true, new
// mount/pid/ipc/uts/net namespaces, a cgroup under a bench-only parent) run to its exit and deleted
// again, N times, by
//   - berth's launcher in this process: LoadBundle + CreateContainer + StartContainer + waitpid +
//     RemoveContainerCgroup;
//   - berth-monitor, as berthd runs containers: SpawnMonitor + StartMonitoredContainer + wait for
//     the exit file (the monitor removed the cgroup before writing it) + remove the state dir;
//   - each OCI runtime CLI given (runc, crun): `<runtime> --root R run --bundle B ID`, spawned and
//     waited for (create, start, wait and delete in one command).
// The variants take turns run by run, so that load from the rest of the machine hits them alike;
// each runs 5 unmeasured warm-up containers first, and a runtime whose warm-up fails is reported
// with its error and not measured. bench/launcher_bench.sh sets it up:
//   launcher_bench --work DIR --monitor PATH [--runs 200] [--state DIR]
//                  [--cgroup /berth-lbench] [--runc PATH] [--crun PATH]
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/file_util.h"
#include "base/unique_fd.h"
#include "bench/percentile.h"
#include "runtime/cgroups.h"
#include "runtime/launcher/launcher.h"
#include "runtime/launcher/monitor.h"

extern char** environ;

namespace berth {
namespace {

using berth::bench::Percentile;

using Clock = std::chrono::steady_clock;
constexpr int kWarmupRuns = 5;

struct Options {
  std::string work;     // scratch directory: the bundle
  std::string state;    // monitor state dirs and runtime roots (berthd's /run/berth); default work
  std::string monitor;  // berth-monitor binary
  std::string runc;     // empty: not installed
  std::string crun;
  std::string cgroup = "/berth-lbench";  // bench-only parent; each container's cgroup is <it>/ctr
  int runs = 200;
};

// Wall time of one container, in total and per step (berth's variants; a runtime CLI is one step).
struct Timing {
  double total = 0;
  std::vector<double> steps;
};

struct Variant {
  // One container, create to delete, with a distinct id; fills in the wall time it took.
  using RunOnce = std::function<Result<void>(int id, Timing& timing)>;
  Variant(std::string name, bool external, std::vector<std::string> step_names, RunOnce run_once)
      : name(std::move(name)),
        external(external),
        step_names(std::move(step_names)),
        run_once(std::move(run_once)) {}

  std::string name;
  bool external;  // a runtime CLI that may refuse this machine: reported, not fatal
  std::vector<std::string> step_names;  // what Timing::steps measure; empty: no breakdown
  RunOnce run_once;
  std::string refused;  // the first run's error: not measured
  std::vector<Timing> timings;
};

// The launcher tests' bundle (test/integration/launcher/bundle_fixture.h) with /bin/true, minus
// rlimits and oomScoreAdj: this machine withholds CAP_SYS_RESOURCE, and runc fails raising the
// fixture's RLIMIT_NOFILE hard limit where berth clamps.
nlohmann::json BundleConfig(const std::string& cgroup) {
  using nlohmann::json;
  json capabilities = {"CAP_AUDIT_WRITE", "CAP_KILL",
                       "CAP_NET_BIND_SERVICE"};  // runc spec's default
  json process = {
      {"args", json::array({"/bin/true"})},
      {"env", json::array({"PATH=/bin"})},
      {"cwd", "/"},
      {"user", {{"uid", 0}, {"gid", 0}}},
      {"noNewPrivileges", true},
      {"capabilities",
       {{"bounding", capabilities}, {"effective", capabilities}, {"permitted", capabilities}}}};
  json mounts = {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
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
                  {"options", {"nosuid", "noexec", "nodev", "ro"}}}};
  json namespaces = {{{"type", "mount"}},
                     {{"type", "pid"}},
                     {{"type", "ipc"}},
                     {{"type", "uts"}},
                     {{"type", "network"}}};
  return json{{"ociVersion", "1.0.2"},
              {"process", process},
              {"root", {{"path", "rootfs"}}},
              {"hostname", "bench"},
              {"mounts", mounts},
              {"linux",
               {{"cgroupsPath", cgroup},
                {"namespaces", namespaces},
                {"maskedPaths", {"/proc/kcore", "/proc/keys", "/sys/firmware"}},
                {"readonlyPaths", {"/proc/sys", "/proc/bus"}}}}};
}

// rootfs/bin/busybox (Debian's busybox-static) plus applet symlinks, as the launcher tests do.
Result<void> WriteBundle(const std::string& dir, const std::string& cgroup) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir + "/rootfs/bin", error);
  if (!error)
    fs::copy_file("/bin/busybox", dir + "/rootfs/bin/busybox", fs::copy_options::overwrite_existing,
                  error);
  for (const char* applet : {"sh", "true", "echo", "cat", "ls"})
    if (!error && !fs::is_symlink(dir + "/rootfs/bin/" + applet))
      fs::create_symlink("busybox", dir + "/rootfs/bin/" + applet, error);
  if (error) return Internal("bundle " + dir + ": " + error.message());
  return WriteFileAtomic(dir + "/config.json", BundleConfig(cgroup).dump(2));
}

// Laps of one container's run: Lap() appends the milliseconds since the previous lap.
class Stopwatch {
 public:
  explicit Stopwatch(Timing& timing) : timing_(timing), start_(Clock::now()), last_(start_) {}
  void Lap() {
    auto now = Clock::now();
    timing_.steps.push_back(std::chrono::duration<double, std::milli>(now - last_).count());
    timing_.total = std::chrono::duration<double, std::milli>(now - start_).count();
    last_ = now;
  }

 private:
  Timing& timing_;
  Clock::time_point start_, last_;
};

// Steps: create (LoadBundle + CreateContainer), start, exit (waitpid), delete (the cgroup).
Result<void> RunWithLauncher(const std::string& bundle, Timing& timing) {
  Stopwatch watch(timing);
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadBundle(bundle));
  BERTH_ASSIGN_OR_RETURN(runtime::CreatedContainer created,
                         runtime::CreateContainer(spec, runtime::StdioFds{}));
  watch.Lap();
  auto started = runtime::StartContainer(created);
  watch.Lap();
  int status = 0;
  ::waitpid(created.pid(), &status, 0);
  if (!started.ok()) return std::move(started).error();
  watch.Lap();
  BERTH_TRY(runtime::RemoveContainerCgroup(spec));
  watch.Lap();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Internal("/bin/true ended with status " + std::to_string(status));
  return Ok();
}

// Blocks until <state_dir>/exit exists: the monitor renames it into place, which `watch` sees.
Result<runtime::ExitStatus> WaitForExitFile(const std::string& state_dir, int watch) {
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(std::optional<runtime::ExitStatus> status,
                           runtime::ReadExitStatus(state_dir));
    if (status) return *status;
    pollfd fd{watch, POLLIN, 0};
    if (::poll(&fd, 1, 20000) <= 0) return Internal("no exit file in " + state_dir + " after 20 s");
    char events[4096];
    (void)!::read(watch, events, sizeof events);
  }
}

// What berthd does, minus the CRI. Steps: create (SpawnMonitor), start (StartMonitoredContainer),
// exit (until the exit file is there; the monitor removed the cgroup before writing it), delete
// (the state dir). The bench process, a subreaper, then reaps the monitor outside the timing.
Result<void> RunWithMonitor(const Options& options, const std::string& bundle, int id,
                            Timing& timing) {
  std::string state_dir = options.state + "/monitor-" + std::to_string(id);
  BERTH_TRY(MakeDirs(state_dir, 0700));
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify ||
      ::inotify_add_watch(inotify.get(), state_dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
    return Error::FromErrno(errno, "inotify on " + state_dir);
  Stopwatch watch(timing);
  runtime::MonitorRequest request{options.monitor, bundle, state_dir, state_dir + "/ctr.log"};
  BERTH_ASSIGN_OR_RETURN(runtime::MonitoredContainer monitored, runtime::SpawnMonitor(request));
  watch.Lap();
  auto started = runtime::StartMonitoredContainer(state_dir);
  watch.Lap();
  auto exit = started.ok() ? WaitForExitFile(state_dir, inotify.get())
                           : Result<runtime::ExitStatus>(started.error());
  watch.Lap();
  std::error_code ignored;
  std::filesystem::remove_all(state_dir, ignored);
  watch.Lap();
  ::waitpid(monitored.monitor_pid, nullptr, 0);
  if (!exit.ok()) return std::move(exit).error();
  if (exit->exit_code != 0)
    return Internal("/bin/true exited with " + std::to_string(exit->exit_code));
  return Ok();
}

// `<runtime> --root <root> run --bundle <bundle> <id>` (create, start, wait, delete), spawned with
// stdio on /dev/null and stderr kept for the error message.
Result<void> RunWithRuntime(const std::string& binary, const std::string& root,
                            const std::string& bundle, const std::string& id, Timing& timing) {
  std::string err_path = root + ".stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> args = {binary, "--root", root, "run", "--bundle", bundle, id};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  Stopwatch watch(timing);
  pid_t pid = -1;
  int spawn_error = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  int status = 0;
  if (spawn_error == 0) ::waitpid(pid, &status, 0);
  watch.Lap();
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) return Error::FromErrno(spawn_error, "spawn " + binary);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  auto message = ReadFile(err_path, 4096);
  std::string text = message.ok() ? *message : "";
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return Internal(text.empty() ? "exited with status " + std::to_string(status) : text);
}

std::vector<Variant> MakeVariants(const Options& options, const std::string& bundle) {
  std::vector<Variant> variants;
  const std::vector<std::string> steps = {"create", "start", "exit", "delete"};
  variants.emplace_back("berth launcher (in process)", false, steps,
                        [bundle](int, Timing& timing) { return RunWithLauncher(bundle, timing); });
  variants.emplace_back("berth-monitor (as berthd)", false, steps,
                        [&options, bundle](int id, Timing& timing) {
                          return RunWithMonitor(options, bundle, id, timing);
                        });
  for (const auto& [name, binary] :
       {std::pair{"runc", options.runc}, std::pair{"crun", options.crun}}) {
    if (binary.empty()) continue;
    std::string root = options.state + "/" + name + "-root";
    std::string prefix = name;
    variants.emplace_back(prefix + " run", true, std::vector<std::string>{},
                          [binary, root, bundle, prefix](int id, Timing& timing) {
                            return RunWithRuntime(binary, root, bundle,
                                                  prefix + "-" + std::to_string(id), timing);
                          });
  }
  return variants;
}

// Runs one container of `variant` and records its timing unless it is a warm-up (run < 0).
Result<void> Measure(const Options& options, Variant& variant, int run) {
  Timing timing;
  int id = run < 0 ? options.runs - run : run;  // distinct ids and state dirs for warm-ups too
  auto result = variant.run_once(id, timing);
  if (result.ok() && run >= 0) variant.timings.push_back(std::move(timing));
  return result;
}

void Report(const std::vector<Variant>& variants) {
  for (const auto& variant : variants) {
    if (!variant.refused.empty()) {
      std::printf("%-28s not measured, its first run failed: %s\n", variant.name.c_str(),
                  variant.refused.c_str());
      continue;
    }
    std::vector<double> totals;
    for (const auto& timing : variant.timings) totals.push_back(timing.total);
    double mean =
        std::accumulate(totals.begin(), totals.end(), 0.0) / static_cast<double>(totals.size());
    std::printf("%-28s p50 %7.2f ms  p99 %7.2f ms  mean %7.2f ms  (%zu containers)\n",
                variant.name.c_str(), Percentile(totals, 0.5), Percentile(totals, 0.99), mean,
                totals.size());
    if (variant.step_names.empty()) continue;
    std::printf("%-28s p50 by step:", "");
    for (size_t step = 0; step < variant.step_names.size(); ++step) {
      std::vector<double> values;
      for (const auto& timing : variant.timings) values.push_back(timing.steps.at(step));
      std::printf(" %s %.2f", variant.step_names[step].c_str(), Percentile(values, 0.5));
    }
    std::printf(" ms\n");
  }
}

Result<Options> ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--work")
      options.work = argv[i + 1];
    else if (flag == "--monitor")
      options.monitor = argv[i + 1];
    else if (flag == "--runc")
      options.runc = argv[i + 1];
    else if (flag == "--crun")
      options.crun = argv[i + 1];
    else if (flag == "--state")
      options.state = argv[i + 1];
    else if (flag == "--cgroup")
      options.cgroup = argv[i + 1];
    else if (flag == "--runs")
      options.runs = std::stoi(argv[i + 1]);
    else
      return InvalidArgument("unknown flag " + flag);
  }
  if (options.state.empty()) options.state = options.work;
  if (options.work.empty() || options.monitor.empty() || options.runs < 1 ||
      !options.cgroup.starts_with("/"))
    return InvalidArgument(
        "usage: launcher_bench --work DIR --monitor PATH [--runs N] [--state DIR] [--cgroup PATH] "
        "[--runc PATH] [--crun PATH]");
  return options;
}

int Main(int argc, char** argv) {
  auto options = ParseOptions(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "%s\n", options.error().message().c_str());
    return 2;
  }
  // launcher.h: the caller must be single-threaded (it is) and a child subreaper (for inits cloned
  // through an intermediate; here it also makes each exited berth-monitor ours to reap).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  const std::string& parent = options->cgroup;
  std::string bundle = options->work + "/bundle";
  if (auto written = WriteBundle(bundle, parent + "/ctr"); !written.ok()) {
    std::fprintf(stderr, "%s\n", written.error().message().c_str());
    return 1;
  }
  std::vector<Variant> variants = MakeVariants(*options, bundle);
  int failed = 0;
  for (auto& variant : variants) {
    for (int run = -kWarmupRuns; run < 0 && variant.refused.empty(); ++run)
      if (auto result = Measure(*options, variant, run); !result.ok())
        variant.refused = result.error().message();
    if (!variant.refused.empty() && !variant.external) {
      std::fprintf(stderr, "%s, warm-up: %s\n", variant.name.c_str(), variant.refused.c_str());
      failed = 1;
    }
  }
  for (int run = 0; run < options->runs && !failed; ++run)
    for (auto& variant : variants) {
      if (!variant.refused.empty()) continue;
      if (auto result = Measure(*options, variant, run); !result.ok()) {
        std::fprintf(stderr, "%s, run %d: %s\n", variant.name.c_str(), run,
                     result.error().message().c_str());
        failed = 1;
      }
    }
  (void)runtime::Cgroups::Probe().Remove(parent + "/ctr", parent);
  if (!failed) Report(variants);
  return failed;
}

}  // namespace
}  // namespace berth

int main(int argc, char** argv) {
  return berth::Main(argc, argv);
}
