// Containers through berthd's socket, in real pods on the built-in network, from the fixture
// images imported into berthd (busybox-static).
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

using ContainerTest = ContainerFixture;

TEST_F(ContainerTest, ExitCodesReasonsAndLogs) {
  std::string ok = Run(Config("ok", "test/busybox:1", {"/bin/sh", "-c", "echo out; echo err >&2"}));
  auto status = WaitExited(ok);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 0);
  EXPECT_EQ(status.reason(), "Completed");
  EXPECT_NE(status.created_at(), 0);
  EXPECT_NE(status.started_at(), 0);
  EXPECT_NE(status.finished_at(), 0);
  EXPECT_EQ(status.image().image(), "test/busybox:1");
  EXPECT_EQ(status.image_ref(), (*images_)["images"]["busybox"]["image_id"]);
  EXPECT_EQ(status.log_path(), logs_.path() + "/ok.log");
  EXPECT_EQ(LogLines(status.log_path(), "stdout"), std::vector<std::string>{"out"});
  EXPECT_EQ(LogLines(status.log_path(), "stderr"), std::vector<std::string>{"err"});

  std::string failing = Run(Config("fail", "test/busybox:1", {"/bin/sh", "-c", "exit 3"}));
  status = WaitExited(failing);
  EXPECT_EQ(status.exit_code(), 3);
  EXPECT_EQ(status.reason(), "Error");
}

TEST_F(ContainerTest, EntrypointCmdArgsEnvWorkdirAndUser) {
  // The image's Entrypoint with its Cmd, then with the request's args replacing Cmd.
  auto plain = Config("ep", "test/entrypoint:1", {});
  std::string first = Run(plain);
  EXPECT_EQ(WaitExited(first).exit_code(), 0);
  EXPECT_EQ(LogLines(logs_.path() + "/ep.log", "stdout"),
            std::vector<std::string>{"from-entrypoint default-arg"});
  auto with_args = Config("ep-args", "test/entrypoint:1", {});
  with_args.add_args("given");
  std::string second = Run(with_args);
  WaitExited(second);
  EXPECT_EQ(LogLines(logs_.path() + "/ep-args.log", "stdout"),
            std::vector<std::string>{"from-entrypoint given"});
  // Env: the image's, overridden by the request's; working dir from the image.
  auto env = Config("env", "test/entrypoint:1", {"/bin/sh", "-c", "echo $GREETING $EXTRA; pwd"});
  auto* greeting = env.add_envs();
  greeting->set_key("EXTRA");
  greeting->set_value("world");
  std::string third = Run(env);
  WaitExited(third);
  EXPECT_EQ(LogLines(logs_.path() + "/env.log", "stdout"),
            (std::vector<std::string>{"hello world", "/tmp"}));
  // The image's USER, resolved in its own /etc/passwd and /etc/group.
  std::string user = Run(Config("user", "test/user:1", {"/bin/busybox", "id"}));
  WaitExited(user);
  auto id_lines = LogLines(logs_.path() + "/user.log", "stdout");
  ASSERT_EQ(id_lines.size(), 1u);
  EXPECT_NE(id_lines[0].find("uid=1234"), std::string::npos) << id_lines[0];
  EXPECT_NE(id_lines[0].find("gid=2345"), std::string::npos) << id_lines[0];
  EXPECT_NE(id_lines[0].find("3456"), std::string::npos) << id_lines[0];
}

TEST_F(ContainerTest, TwoContainersTalkOverLocalhostAndShareShm) {
  std::string web = Run(Config("web", "test/busybox:1",
                               {"/bin/sh", "-c",
                                "mkdir -p /www && echo served > /www/index.html && echo shared > "
                                "/dev/shm/note && exec /bin/busybox httpd -f -p 8080 -h /www"}));
  // The client retries until the server listens (no fixed sleep: CI machines are slow at times).
  std::string client = Run(
      Config("client", "test/busybox:1",
             {"/bin/sh", "-c",
              "for i in $(seq 100); do /bin/busybox wget -q -O - http://localhost:8080/ && break; "
              "sleep 0.1; done; cat /dev/shm/note"}));
  EXPECT_EQ(WaitExited(client).exit_code(), 0);
  EXPECT_EQ(LogLines(logs_.path() + "/client.log", "stdout"),
            (std::vector<std::string>{"served", "shared"}));
  EXPECT_EQ(Status(web).state(), ::runtime::v1::CONTAINER_RUNNING);
}

TEST_F(ContainerTest, StopHonoursTheTimeoutAndIsIdempotent) {
  // A shell as PID 1 ignores SIGTERM: only SIGKILL after the timeout ends it.
  std::string stubborn = Run(
      Config("stubborn", "test/busybox:1", {"/bin/sh", "-c", "while true; do sleep 0.1; done"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Stop(stubborn, 1).ok());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, 0.9);
  auto status = Status(stubborn);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 137);
  // One that handles SIGTERM exits with its own code.
  std::string polite = Run(
      Config("polite", "test/busybox:1",
             {"/bin/sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.1; done"}));
  // Stop only once the trap is set (it says so in its log).
  for (int i = 0; i < 200 && LogLines(logs_.path() + "/polite.log", "stdout").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(Stop(polite, 10).ok());
  EXPECT_EQ(Status(polite).exit_code(), 7);
  EXPECT_TRUE(Stop(polite, 10).ok());
  EXPECT_TRUE(Stop(std::string(64, 'e'), 1).ok());
  EXPECT_TRUE(Remove(std::string(64, 'e')).ok());
  // Removing a running container force-stops it.
  std::string running = Run(Config("running", "test/busybox:1", {"/bin/sleep", "300"}));
  ASSERT_TRUE(Remove(running).ok());
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(running);
  ::runtime::v1::ContainerStatusResponse response;
  EXPECT_EQ(berthd_.runtime().ContainerStatus(CallContext().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A monitor is double-forked so that it outlives berthd; while berthd runs it is berthd's child
// (berthd is the subreaper), and berthd reaps it when it ends: no zombie is left for PID 1.
TEST_F(ContainerTest, EndedMonitorsAreReapedByBerthd) {
  std::string id = Run(Config("reaped", "test/busybox:1", {"/bin/sleep", "300"}));
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse response;
  ASSERT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &response).ok());
  int monitor = nlohmann::json::parse(response.info().at("info"))["monitorPid"];
  ASSERT_GT(monitor, 0);
  std::string proc = "/proc/" + std::to_string(monitor);
  EXPECT_NE(ReadText(proc + "/status").find("PPid:\t" + std::to_string(berthd_.pid()) + "\n"),
            std::string::npos);
  ASSERT_TRUE(Remove(id).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::exists(proc) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(std::filesystem::exists(proc))
      << "monitor " << monitor << ": " << ReadText(proc + "/stat");
}

TEST_F(ContainerTest, BadRequestsAreClearErrors) {
  std::string id;
  auto missing_image = Create(Config("x", "test/none:1", {"/bin/true"}), &id);
  EXPECT_EQ(missing_image.error_code(), grpc::StatusCode::NOT_FOUND)
      << missing_image.error_message();
  auto mount = Config("m", "test/busybox:1", {"/bin/true"});
  auto* bad = mount.add_mounts();
  bad->set_host_path("/nonexistent/berth-host-path");
  bad->set_container_path("/data");
  auto missing_path = Create(mount, &id);
  EXPECT_EQ(missing_path.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(missing_path.error_message().find("/nonexistent/berth-host-path"), std::string::npos);
  auto missing_binary = Create(Config("nobin", "test/busybox:1", {"/bin/nope"}), &id);
  if (missing_binary.ok()) {
    ::runtime::v1::StartContainerRequest start;
    start.set_container_id(id);
    ::runtime::v1::StartContainerResponse started;
    missing_binary = berthd_.runtime().StartContainer(CallContext().get(), start, &started);
  }
  EXPECT_FALSE(missing_binary.ok());
  EXPECT_NE(missing_binary.error_message().find("/bin/nope"), std::string::npos)
      << missing_binary.error_message();
  std::string first = Run(Config("dup", "test/busybox:1", {"/bin/true"}));
  auto duplicate = Create(Config("dup", "test/busybox:1", {"/bin/true"}), &id);
  EXPECT_EQ(duplicate.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(duplicate.error_message().find(first), std::string::npos);
  // Nothing of the refused ones stays mounted.
  ::runtime::v1::ListContainersResponse list;
  ASSERT_TRUE(berthd_.runtime().ListContainers(CallContext().get(), {}, &list).ok());
  size_t bundles = 0;
  for (const auto& entry : std::filesystem::directory_iterator(berthd_.root() + "/containers")) {
    (void)entry;
    ++bundles;
  }
  EXPECT_EQ(bundles, static_cast<size_t>(list.containers_size()));
}

TEST_F(ContainerTest, ExecSyncRunsInTheContainer) {
  std::string id = Run(Config("exec-target", "test/user:1",
                              {"/bin/sh", "-c", "echo inside > /tmp/marker; exec /bin/sleep 300"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto exec = [&](std::vector<std::string> cmd, int64_t timeout,
                  ::runtime::v1::ExecSyncResponse* out) {
    ::runtime::v1::ExecSyncRequest request;
    request.set_container_id(id);
    for (auto& part : cmd) request.add_cmd(part);
    request.set_timeout(timeout);
    return berthd_.runtime().ExecSync(CallContext(60).get(), request, out);
  };
  ::runtime::v1::ExecSyncResponse response;
  // The container's files, hostname, user and PID namespace.
  auto status = exec({"/bin/sh", "-c",
                      "while [ ! -f /tmp/marker ]; do sleep 0.05; done; cat /tmp/marker; hostname; "
                      "/bin/busybox id -u; echo $$ >&2; exit 4"},
                     10, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.stdout(), "inside\nctr-pod\n1234\n");
  EXPECT_EQ(response.exit_code(), 4);
  EXPECT_NE(response.stderr(), "");
  EXPECT_LT(std::stoi(response.stderr()), 100) << "a PID inside the container's namespace";
  // The runtime enforces the timeout.
  auto start = std::chrono::steady_clock::now();
  auto timed_out = exec({"/bin/sleep", "30"}, 1, &response);
  EXPECT_EQ(timed_out.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10);
  // ... and the timed-out command is gone, not left a zombie of the container's PID 1 (which is
  // `sleep 300` here and reaps nothing): what critest's "execSync with timeout" checks.
  ASSERT_TRUE(
      exec({"/bin/sh", "-c", "grep -l '^sleep$' /proc/[0-9]*/comm | wc -l"}, 10, &response).ok());
  EXPECT_EQ(response.stdout(), "1\n") << "only the container's own sleep 300 may be left";
  // A missing command is a non-zero exit with the reason on stderr.
  ASSERT_TRUE(exec({"/bin/nope"}, 10, &response).ok());
  EXPECT_EQ(response.exit_code(), 127);
  EXPECT_NE(response.stderr().find("/bin/nope"), std::string::npos);
  ASSERT_TRUE(Stop(id, 0).ok());
  EXPECT_EQ(exec({"/bin/true"}, 10, &response).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ContainerTest, StatsUpdateResourcesAndStream) {
  std::string id =
      Run(Config("busy", "test/busybox:1",
                 {"/bin/sh", "-c",
                  "dd if=/dev/zero of=/tmp/blob bs=1024 count=512 2>/dev/null; "
                  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec /bin/sleep 300"}));
  // Wait until the writable layer holds the file the container wrote.
  ::runtime::v1::ContainerStatsRequest request;
  request.set_container_id(id);
  ::runtime::v1::ContainerStatsResponse stats;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(berthd_.runtime().ContainerStats(CallContext().get(), request, &stats).ok());
    if (stats.stats().writable_layer().used_bytes().value() >= 512 * 1024) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(stats.stats().attributes().id(), id);
  EXPECT_GT(stats.stats().cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(stats.stats().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(stats.stats().writable_layer().used_bytes().value(), 512u * 1024);

  ::runtime::v1::ListContainerStatsRequest list;
  list.mutable_filter()->set_pod_sandbox_id(pod_);
  ::runtime::v1::ListContainerStatsResponse listed;
  ASSERT_TRUE(berthd_.runtime().ListContainerStats(CallContext().get(), list, &listed).ok());
  ASSERT_EQ(listed.stats_size(), 1);

  ::runtime::v1::PodSandboxStatsRequest pod_request;
  pod_request.set_pod_sandbox_id(pod_);
  ::runtime::v1::PodSandboxStatsResponse pod_stats;
  ASSERT_TRUE(berthd_.runtime().PodSandboxStats(CallContext().get(), pod_request, &pod_stats).ok());
  const auto& linux = pod_stats.stats().linux();
  EXPECT_EQ(linux.containers_size(), 1);
  EXPECT_EQ(linux.network().default_interface().name(), "eth0");
  EXPECT_GE(linux.process().process_count().value(), 1u);

  // UpdateContainerResources reaches the live cgroup.
  ::runtime::v1::UpdateContainerResourcesRequest update;
  update.set_container_id(id);
  update.mutable_linux()->set_memory_limit_in_bytes(96 << 20);
  update.mutable_linux()->set_cpu_shares(256);
  ::runtime::v1::UpdateContainerResourcesResponse updated;
  ASSERT_TRUE(
      berthd_.runtime().UpdateContainerResources(CallContext().get(), update, &updated).ok());
  ::runtime::v1::ContainerStatusRequest status_request;
  status_request.set_container_id(id);
  status_request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse status;
  ASSERT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), status_request, &status).ok());
  EXPECT_EQ(status.status().resources().linux().memory_limit_in_bytes(), 96 << 20);
  std::string cgroup = nlohmann::json::parse(status.info().at("info"))["cgroupPath"];
  if (std::filesystem::exists("/sys/fs/cgroup/memory")) {
    EXPECT_EQ(ReadText("/sys/fs/cgroup/memory" + cgroup + "/memory.limit_in_bytes"),
              std::to_string(96 << 20) + "\n");
    EXPECT_EQ(ReadText("/sys/fs/cgroup/cpu" + cgroup + "/cpu.shares"), "256\n");
  }

  ::runtime::v1::StreamContainersRequest stream_request;
  stream_request.mutable_filter()->set_pod_sandbox_id(pod_);
  auto context = CallContext();
  auto reader = berthd_.runtime().StreamContainers(context.get(), stream_request);
  ::runtime::v1::StreamContainersResponse batch;
  std::vector<std::string> ids;
  while (reader->Read(&batch)) {
    for (const auto& container : batch.containers()) ids.push_back(container.id());
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(ids, std::vector<std::string>{id});
}

TEST_F(ContainerTest, GetContainerEventsStreamsTheLifecycle) {
  auto context = CallContext(60);
  auto reader = berthd_.runtime().GetContainerEvents(context.get(), {});
  std::vector<std::pair<std::string, ::runtime::v1::ContainerEventType>> seen;
  std::thread collector([&] {
    ::runtime::v1::ContainerEventResponse event;
    while (reader->Read(&event)) {
      EXPECT_EQ(event.pod_sandbox_status().id(), pod_);
      EXPECT_NE(event.created_at(), 0);
      seen.emplace_back(event.container_id(), event.container_event_type());
      if (event.container_event_type() == ::runtime::v1::CONTAINER_DELETED_EVENT) break;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the subscription is in place
  std::string id = Run(Config("evented", "test/busybox:1", {"/bin/sh", "-c", "exit 0"}));
  WaitExited(id);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the exit watcher's round
  ASSERT_TRUE(Remove(id).ok());
  collector.join();
  context->TryCancel();
  std::vector<::runtime::v1::ContainerEventType> types;
  for (const auto& [container, type] : seen) {
    EXPECT_EQ(container, id);
    types.push_back(type);
  }
  EXPECT_EQ(types,
            (std::vector<::runtime::v1::ContainerEventType>{
                ::runtime::v1::CONTAINER_CREATED_EVENT, ::runtime::v1::CONTAINER_STARTED_EVENT,
                ::runtime::v1::CONTAINER_STOPPED_EVENT, ::runtime::v1::CONTAINER_DELETED_EVENT}));
}

TEST_F(ContainerTest, MemoryLimitKillsWithOomKilled) {
  auto config = Config(
      "hungry", "test/busybox:1",
      {"/bin/sh", "-c",
       "x=$(/bin/busybox head -c 134217728 /dev/zero | /bin/busybox tr '\\0' a); echo survived"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(32 << 20);
  std::string id = Run(config);
  auto status = WaitExited(id, 60);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "OOMKilled");
}

// kubelet sets memory.oom.group=1 (a `unified` key) on cgroup v2: an OOM then ends every process of
// the container, not only the largest one. Without it the shell below would print inner-done and
// wait for its sleep.
TEST_F(ContainerTest, MemoryOomGroupEndsTheWholeContainer) {
  if (!std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
    GTEST_SKIP() << "memory.oom.group exists only on the pure cgroup v2 hierarchy (the VM lane)";
  }
  auto config =
      Config("grouped", "test/busybox:1",
             {"/bin/sh", "-c",
              "/bin/sleep 300 & /bin/sh -c 'x=$(/bin/busybox head -c 134217728 /dev/zero | "
              "/bin/busybox tr \"\\0\" a)'; echo inner-done; wait"});
  auto* resources = config.mutable_linux()->mutable_resources();
  resources->set_memory_limit_in_bytes(32 << 20);
  (*resources->mutable_unified())["memory.oom.group"] = "1";
  std::string id = Run(config);
  auto status = WaitExited(id, 60);
  EXPECT_EQ(status.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(status.exit_code(), 137);
  EXPECT_EQ(status.reason(), "OOMKilled");
  EXPECT_EQ(LogLines(logs_.path() + "/grouped.log", "stdout"), std::vector<std::string>{});
}

TEST_F(ContainerTest, ImageInUseCannotBeRemoved) {
  std::string id = Run(Config("holder", "test/busybox:1", {"/bin/sleep", "300"}));
  ::runtime::v1::RemoveImageRequest request;
  request.mutable_image()->set_image("test/busybox:1");
  ::runtime::v1::RemoveImageResponse response;
  auto refused = berthd_.images().RemoveImage(CallContext().get(), request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Remove(id).ok());
  EXPECT_TRUE(berthd_.images().RemoveImage(CallContext().get(), request, &response).ok());
}

TEST_F(ContainerTest, ContainersOutliveAKilledBerthd) {
  std::string ticker = Run(
      Config("ticker", "test/busybox:1",
             {"/bin/sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"}));
  std::string short_lived =
      Run(Config("short", "test/busybox:1", {"/bin/sh", "-c", "sleep 1; exit 5"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  berthd_.Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // "short" exits meanwhile
  size_t lines_before = LogLines(logs_.path() + "/ticker.log", "stdout").size();
  ASSERT_TRUE(berthd_.Start());
  EXPECT_EQ(Status(ticker).state(), ::runtime::v1::CONTAINER_RUNNING);
  auto exited = Status(short_lived);
  EXPECT_EQ(exited.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(exited.exit_code(), 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_GT(LogLines(logs_.path() + "/ticker.log", "stdout").size(), lines_before);
}

TEST_F(ContainerTest, ResourcesDevicesAndRecursiveReadOnlyMounts) {
  // A host directory with a submount: "readonly" alone leaves the submount writable, "rro" not.
  TempDir volume("berth-rro");
  std::filesystem::create_directory(volume.path() + "/sub");
  ASSERT_EQ(::mount("tmpfs", (volume.path() + "/sub").c_str(), "tmpfs", 0, "size=1m"), 0);
  auto config = Config("res", "test/busybox:1",
                       {"/bin/sh", "-c",
                        "touch /ro/sub/a 2>/dev/null && echo ro-sub-writable; "
                        "touch /rro/sub/b 2>/dev/null || echo rro-sub-readonly; "
                        "echo hi > /dev/mynull && test -c /dev/mynull && echo device; "
                        "cat /proc/self/oom_score_adj; exec /bin/sleep 300"});
  for (const auto& [path, recursive] : {std::pair{"/ro", false}, std::pair{"/rro", true}}) {
    auto* mount = config.add_mounts();
    mount->set_host_path(volume.path());
    mount->set_container_path(path);
    mount->set_readonly(true);
    mount->set_recursive_read_only(recursive);
  }
  auto* device = config.add_devices();
  device->set_host_path("/dev/null");
  device->set_container_path("/dev/mynull");
  device->set_permissions("rw");
  auto* resources = config.mutable_linux()->mutable_resources();
  resources->set_cpuset_cpus("0");
  resources->set_oom_score_adj(500);
  (*resources->mutable_unified())["cgroup.max.descendants"] = "7";
  std::string id = Run(config);
  std::vector<std::string> lines;
  for (int i = 0; i < 100 && lines.size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lines = LogLines(logs_.path() + "/res.log", "stdout");
  }
  EXPECT_EQ(lines,
            (std::vector<std::string>{"ro-sub-writable", "rro-sub-readonly", "device", "500"}));
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse status;
  ASSERT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &status).ok());
  EXPECT_TRUE(status.status().mounts(1).recursive_read_only());
  EXPECT_EQ(status.status().resources().linux().cpuset_cpus(), "0");
  std::string cgroup = nlohmann::json::parse(status.info().at("info"))["cgroupPath"];
  if (std::filesystem::exists("/sys/fs/cgroup/cpuset")) {
    EXPECT_EQ(ReadText("/sys/fs/cgroup/cpuset" + cgroup + "/cpuset.cpus"), "0\n");
  }
  if (std::filesystem::exists("/sys/fs/cgroup/devices")) {
    // Denied by default, the standard nodes and the requested one allowed.
    std::string allowed = ReadText("/sys/fs/cgroup/devices" + cgroup + "/devices.list");
    EXPECT_NE(allowed.find("c 1:3 rw"), std::string::npos) << allowed;
    EXPECT_NE(allowed.find("c 136:* rwm"), std::string::npos) << allowed;
    EXPECT_EQ(allowed.find("a *:* rwm"), std::string::npos) << allowed;
  }
  if (std::filesystem::exists("/sys/fs/cgroup/unified")) {
    EXPECT_EQ(ReadText("/sys/fs/cgroup/unified" + cgroup + "/cgroup.max.descendants"), "7\n");
  }
  EXPECT_TRUE(Remove(id).ok());
  ::umount2((volume.path() + "/sub").c_str(), MNT_DETACH);

  // Bad resources and devices are refused before anything is created.
  auto bad_key = Config("bad-key", "test/busybox:1", {"/bin/true"});
  (*bad_key.mutable_linux()->mutable_resources()->mutable_unified())["../escape"] = "1";
  std::string ignored;
  EXPECT_EQ(Create(bad_key, &ignored).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad_device = Config("bad-device", "test/busybox:1", {"/bin/true"});
  bad_device.add_devices()->set_host_path("/dev/does-not-exist");
  bad_device.mutable_devices(0)->set_container_path("/dev/x");
  auto refused = Create(bad_device, &ignored);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("/dev/does-not-exist"), std::string::npos)
      << refused.error_message();
}

// The device rules are enforced, not only written down: v1's devices controller, or on cgroup v2
// the eBPF device program on the container's cgroup. A container may make any node (mknod is
// allowed, as with runc), but opening one outside the rules (the host's root disk) fails while
// an allowed one (/dev/zero's numbers) opens.
TEST_F(ContainerTest, DevicesOutsideTheRulesCannotBeOpened) {
  struct stat root {};
  ASSERT_EQ(::stat("/", &root), 0);
  if (major(root.st_dev) == 0) GTEST_SKIP() << "/ is not on a block device";
  std::string disk = std::to_string(major(root.st_dev)) + " " + std::to_string(minor(root.st_dev));
  auto config = Config(
      "devices", "test/busybox:1",
      {"/bin/sh", "-c",
       "mknod /tmp/zero c 1 5 && head -c 1 /tmp/zero > /dev/null && echo zero-readable; "
       "mknod /tmp/disk b " +
           disk +
           " && echo disk-made; "
           "head -c 1 /tmp/disk > /dev/null 2>&1 && echo disk-readable || echo disk-denied; "
           "echo hi > /tmp/disk 2>/dev/null && echo disk-writable || echo disk-write-denied; "
           "exec /bin/sleep 300"});
  std::string id = Run(config);
  std::vector<std::string> lines;
  for (int i = 0; i < 200 && lines.size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lines = LogLines(logs_.path() + "/devices.log", "stdout");
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"zero-readable", "disk-made", "disk-denied",
                                             "disk-write-denied"}));
  EXPECT_TRUE(Remove(id).ok());
}

// The systemd cgroup driver (cgroup_driver: systemd) on a node with systemd as PID 1 and pure
// cgroup v2 (the VM lane; skipped elsewhere): a container is the transient scope
// berth.slice/berth-<id>.scope with its limits as unit properties and the device program on its
// cgroup; a restarted berthd adopts it; stop and removal end the unit.
class SystemdDriverTest : public ContainerFixture {
 protected:
  SystemdDriverTest() { cgroup_driver_ = "systemd"; }
  void SetUp() override {
    if (!std::filesystem::exists("/run/systemd/system") ||
        !std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
      GTEST_SKIP() << "needs systemd as PID 1 on a pure cgroup v2 host (the VM lane)";
    }
    ContainerFixture::SetUp();
  }
};

TEST_F(SystemdDriverTest, ContainersAreScopesWithTheirLimitsAndOutliveARestart) {
  struct stat root {};
  ASSERT_EQ(::stat("/", &root), 0);
  std::string disk = std::to_string(major(root.st_dev)) + " " + std::to_string(minor(root.st_dev));
  auto config = Config("scoped", "test/busybox:1",
                       {"/bin/sh", "-c",
                        "mknod /tmp/disk b " + disk +
                            " && head -c 1 /tmp/disk > /dev/null 2>&1 && "
                            "echo disk-readable || echo disk-denied; exec /bin/sleep 300"});
  auto* resources = config.mutable_linux()->mutable_resources();
  resources->set_memory_limit_in_bytes(64 << 20);
  resources->set_cpu_period(100000);
  resources->set_cpu_quota(50000);
  (*resources->mutable_unified())["pids.max"] = "50";
  std::string id = Run(config);
  std::string scope = "/sys/fs/cgroup/berth.slice/berth-" + id + ".scope";
  std::vector<std::string> lines;
  for (int i = 0; i < 200 && lines.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lines = LogLines(logs_.path() + "/scoped.log", "stdout");
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"disk-denied"}));
  ASSERT_TRUE(std::filesystem::exists(scope)) << scope;
  EXPECT_FALSE(ReadText(scope + "/cgroup.procs").empty());
  EXPECT_EQ(ReadText(scope + "/memory.max"), "67108864\n");
  EXPECT_EQ(ReadText(scope + "/cpu.max"), "50000 100000\n");
  EXPECT_EQ(ReadText(scope + "/pids.max"), "50\n");
  // A crashed berthd's successor (same driver) finds the container and ends it.
  berthd_.Kill();
  ASSERT_TRUE(berthd_.Start()) << berthd_.ReadLog();
  EXPECT_EQ(Status(id).state(), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_TRUE(Stop(id, 2).ok());
  EXPECT_TRUE(Remove(id).ok());
  for (int i = 0; i < 100 && std::filesystem::exists(scope); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(std::filesystem::exists(scope));
}

TEST_F(ContainerTest, ImageVolumesAreReadOnlySnapshotsOfTheImage) {
  auto config = Config("vol", "test/busybox:1",
                       {"/bin/sh", "-c",
                        "test -x /vol/bin/busybox && echo whole; test -x /sub/busybox && echo sub; "
                        "touch /vol/x 2>/dev/null || echo read-only"});
  auto* whole = config.add_mounts();
  whole->set_container_path("/vol");
  whole->mutable_image()->set_image("test/entrypoint:1");
  auto* sub = config.add_mounts();
  sub->set_container_path("/sub");
  sub->mutable_image()->set_image("test/entrypoint:1");
  sub->set_image_sub_path("bin");
  std::string id = Run(config);
  EXPECT_EQ(WaitExited(id).exit_code(), 0);
  EXPECT_EQ(LogLines(logs_.path() + "/vol.log", "stdout"),
            (std::vector<std::string>{"whole", "sub", "read-only"}));
  auto status = Status(id);
  ASSERT_EQ(status.mounts_size(), 2);
  EXPECT_EQ(status.mounts(1).image().image(), "test/entrypoint:1");
  EXPECT_EQ(status.mounts(1).image_sub_path(), "bin");
  EXPECT_TRUE(Remove(id).ok());
  EXPECT_EQ(ReadText("/proc/self/mountinfo").find(berthd_.root() + "/containers/" + id),
            std::string::npos);

  // A sub path the image lacks, or one escaping it through "..", and an unknown image.
  std::string ignored;
  for (const char* path : {"no/such/dir", "../../../../etc"}) {
    auto bad = Config("bad-sub", "test/busybox:1", {"/bin/true"});
    auto* mount = bad.add_mounts();
    mount->set_container_path("/x");
    mount->mutable_image()->set_image("test/entrypoint:1");
    mount->set_image_sub_path(path);
    auto refused = Create(bad, &ignored);
    if (std::string(path) == "no/such/dir") {
      EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << refused.error_message();
    } else {
      // ".." stops at the image's root: this is the image's own /etc, never the host's.
      EXPECT_TRUE(refused.ok()) << refused.error_message();
      EXPECT_TRUE(Remove(ignored).ok());
    }
  }
  auto unknown = Config("bad-image", "test/busybox:1", {"/bin/true"});
  unknown.add_mounts()->set_container_path("/x");
  unknown.mutable_mounts(0)->mutable_image()->set_image("test/does-not-exist:1");
  EXPECT_EQ(Create(unknown, &ignored).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ContainerTest, BidirectionalMountPropagationReachesTheHostAndBack) {
  // As critest does it: a host directory that is its own shared mount.
  TempDir dir("berth-rshared");
  std::string source = dir.path() + "/mnt";
  std::filesystem::create_directories(source + "/from-container");
  std::filesystem::create_directories(source + "/from-host");
  ASSERT_EQ(::mount(source.c_str(), source.c_str(), nullptr, MS_BIND | MS_REC, nullptr), 0);
  struct Unmount {  // whatever happens below, nothing stays mounted on the host
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{source};
  ASSERT_EQ(::mount(nullptr, source.c_str(), nullptr, MS_SHARED | MS_REC, nullptr), 0);
  auto config = Config("rshared", "test/busybox:1",
                       {"/bin/sh", "-c",
                        "mount -t tmpfs tmpfs /data/from-container && touch "
                        "/data/from-container/made-inside && exec sleep 300"});
  auto* mount = config.add_mounts();
  mount->set_host_path(source);
  mount->set_container_path("/data");
  mount->set_propagation(::runtime::v1::PROPAGATION_BIDIRECTIONAL);
  config.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "SYS_ADMIN");
  // berth-default, like containerd's and docker's default AppArmor profile, denies mount(2):
  // a container that mounts runs unconfined (critest's propagation specs run privileged).
  config.mutable_linux()->mutable_security_context()->mutable_apparmor()->set_profile_type(
      ::runtime::v1::SecurityProfile::Unconfined);
  std::string id = Run(config);
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    seen = std::filesystem::exists(source + "/from-container/made-inside");
  }
  EXPECT_TRUE(seen) << "the container's mount did not reach the host";
  // And the other way: a mount made on the host now is seen inside.
  ASSERT_EQ(::mount("tmpfs", (source + "/from-host").c_str(), "tmpfs", 0, "size=1m"), 0);
  std::ofstream(source + "/from-host/made-outside") << "x";
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(id);
  request.add_cmd("/bin/busybox");
  request.add_cmd("ls");
  request.add_cmd("/data/from-host");
  request.set_timeout(10);
  ::runtime::v1::ExecSyncResponse response;
  ASSERT_TRUE(berthd_.runtime().ExecSync(CallContext().get(), request, &response).ok());
  EXPECT_EQ(response.stdout(), "made-outside\n");
  EXPECT_TRUE(Remove(id).ok());
}

}  // namespace
}  // namespace berth::testing
