// berthctl against a real berthd.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "base/process_util.h"
#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"
#include "test/integration/registry_fixture.h"

namespace berth::testing {
namespace {

TEST(BerthctlTest, VersionTableAndJson) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  auto table = RunCommand({BerthctlBinary(), "--endpoint", berthd.endpoint(), "version"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("RuntimeName:        berth"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("RuntimeApiVersion:  v1"), std::string::npos) << table.output;

  auto json = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "-o", "json", "version"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed["runtimeName"], "berth");
  EXPECT_EQ(parsed["runtimeApiVersion"], "v1");
}

TEST(BerthctlTest, StatusAndInfo) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  auto status = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("RuntimeReady"), std::string::npos);
  EXPECT_NE(status.output.find("NetworkReady"), std::string::npos);
  EXPECT_NE(status.output.find("(default)"), std::string::npos);

  auto info = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "info"});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto parsed = nlohmann::json::parse(info.output);
  EXPECT_EQ(parsed["config"]["listen"], berthd.socket_path());
  EXPECT_EQ(parsed["status"]["conditions"].size(), 2u);
}

TEST(BerthctlTest, UnreachableEndpointIsAClearError) {
  TempDir dir;
  auto run = RunCommand(
      {BerthctlBinary(), "-r", "unix://" + dir.path() + "/none.sock", "-t", "2", "version"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("berthctl: version: "), std::string::npos) << run.output;
}

// A command left running (like `berthctl events`), its output read as it comes. Killed, if still
// running, when it goes out of scope.
class BackgroundCommand {
 public:
  explicit BackgroundCommand(const std::vector<std::string>& argv) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      auto pointers = CStringArray(argv);
      ::execv(pointers[0], pointers.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    output_fd_ = fds[0];
  }
  ~BackgroundCommand() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (output_fd_ >= 0) ::close(output_fd_);
  }
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  // Reads until every one of `wanted` is in the output and the output ends a line, or `seconds`
  // have passed; returns the output so far.
  const std::string& WaitForOutput(const std::vector<std::string>& wanted, int seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    auto all_there = [&] {
      if (output_.empty() || output_.back() != '\n') return false;
      for (const auto& text : wanted) {
        if (output_.find(text) == std::string::npos) return false;
      }
      return true;
    };
    while (!all_there() && std::chrono::steady_clock::now() < deadline) {
      pollfd readable{output_fd_, POLLIN, 0};
      if (::poll(&readable, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
      if (n <= 0) break;  // the command exited
      output_.append(buffer, n);
    }
    return output_;
  }
  // Sends `signal` and returns the exit status (128 + signal when it was killed by one).
  int StopWith(int signal) {
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string output_;
};

// berthctl run / stats / statsp / events with a busybox image imported into berthd, pods and
// containers made from YAML files as a user would write them.
class BerthctlWorkloadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { images_ = &SharedFixtureImages(); }
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    ASSERT_TRUE(berthd_.Start());
    auto imported = Ctl({"import", (*images_)["images"]["busybox"]["layout"].get<std::string>(),
                         "--name", "test/busybox:1"});
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
    pod_yaml_ = WriteFile("pod.yaml",
                          "metadata:\n"
                          "  name: ctl-pod\n"
                          "  namespace: default\n"
                          "  uid: ctl-pod-uid\n"
                          "hostname: ctl-pod\n"
                          "log_directory: " +
                              logs_.path() +
                              "\n"
                              "labels:\n"
                              "  app: ctl\n");
  }
  // Removes every pod (and so every container) berthd has, and checks that nothing is left.
  void TearDown() override {
    if (!berthd_.running()) return;
    auto pods = Ctl({"pods", "-q"});
    std::istringstream ids(pods.output);
    for (std::string id; std::getline(ids, id);) {
      auto removed = Ctl({"rmp", id});
      EXPECT_EQ(removed.exit_code, 0) << removed.output;
    }
    EXPECT_EQ(Ctl({"pods", "-q"}).output, "");
    EXPECT_EQ(Ctl({"ps", "-a", "-q"}).output, "");
    // No container rootfs is left mounted.
    EXPECT_EQ(ReadText("/proc/self/mountinfo").find(berthd_.root() + "/containers"),
              std::string::npos);
  }

  CommandResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BerthctlBinary(), "-r", berthd_.endpoint()});
    return RunCommand(args);
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = configs_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // A container config running `sleep 600` from `image`, labelled app=ctl.
  std::string ContainerYaml(const std::string& name, const std::string& image) {
    return WriteFile(name + ".yaml",
                     "metadata:\n"
                     "  name: " +
                         name +
                         "\n"
                         "image:\n"
                         "  image: " +
                         image +
                         "\n"
                         "command: [/bin/sleep, \"600\"]\n"
                         "log_path: " +
                         name +
                         ".log\n"
                         "labels:\n"
                         "  app: ctl\n");
  }
  // `berthctl run`'s container ID (its whole output), or "" with a test failure.
  std::string RunContainer(const std::string& name) {
    return RunYaml(ContainerYaml(name, "test/busybox:1"), pod_yaml_);
  }
  // The same for a busybox container running `command`, in the pod of `pod_yaml`.
  std::string RunCommandContainer(const std::string& name, const std::vector<std::string>& command,
                                  const std::string& pod_yaml) {
    std::string yaml = "metadata:\n  name: ";
    yaml.append(name).append("\nimage:\n  image: test/busybox:1\ncommand: ");
    // A JSON array is a YAML flow sequence, quoting included.
    yaml.append(nlohmann::json(command).dump())
        .append("\nlog_path: ")
        .append(name)
        .append(".log\n");
    return RunYaml(WriteFile(name + ".yaml", yaml), pod_yaml);
  }
  std::string RunYaml(const std::string& container_yaml, const std::string& pod_yaml) {
    auto run = Ctl({"run", container_yaml, pod_yaml});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    if (run.exit_code != 0 || run.output.size() < 2) return "";
    return run.output.substr(0, run.output.size() - 1);
  }
  // berthctl with `input` on its stdin (then EOF); output and exit code as RunCommand's.
  CommandResult CtlWithInput(std::vector<std::string> args, const std::string& input) {
    args.insert(args.begin(), {BerthctlBinary(), "-r", berthd_.endpoint()});
    CommandResult result;
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return result;
    if (::pipe2(out, O_CLOEXEC) != 0) return result;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      auto pointers = CStringArray(args);
      ::execv(pointers[0], pointers.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    // Small enough for the pipe's buffer: written whole before the output is read.
    (void)!::write(in[1], input.data(), input.size());
    ::close(in[1]);
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) result.output.append(buffer, n);
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
  }

  static const nlohmann::json* images_;
  TempDir logs_{"berthctl-logs"};
  TempDir configs_{"berthctl-configs"};
  BerthdProcess berthd_;
  std::string pod_yaml_;
};

const nlohmann::json* BerthctlWorkloadTest::images_ = nullptr;

TEST_F(BerthctlWorkloadTest, RunStartsAContainerThatStatsAndStatspShow) {
  std::string id = RunContainer("web");
  ASSERT_EQ(id.size(), 64u) << id;
  auto ps = Ctl({"ps", "-q"});
  EXPECT_EQ(ps.output, id + "\n");
  auto pods = Ctl({"pods", "-q"});
  std::string pod = pods.output.substr(0, pods.output.find('\n'));
  ASSERT_EQ(pod.size(), 64u) << pods.output;
  auto inspect = nlohmann::json::parse(Ctl({"inspect", id}).output);
  EXPECT_EQ(inspect["status"]["state"], "CONTAINER_RUNNING");
  EXPECT_EQ(inspect["status"]["logPath"], logs_.path() + "/web.log");

  // The table: like crictl's, one row for the running container.
  auto stats = Ctl({"stats", id.substr(0, 8)});
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  EXPECT_EQ(stats.output.rfind("CONTAINER ", 0), 0u) << stats.output;
  for (const char* column : {"NAME", "CPU %", "MEM", "DISK", "INODES"}) {
    EXPECT_NE(stats.output.find(column), std::string::npos) << stats.output;
  }
  EXPECT_NE(stats.output.find(id.substr(0, 13) + "  web"), std::string::npos) << stats.output;
  // The filters: by pod, by label (one that matches, one that does not), and -o json.
  for (const std::vector<std::string>& filter :
       {std::vector<std::string>{"-p", pod}, {"-l", "app=ctl", "--id", id}}) {
    std::vector<std::string> args = {"stats", "-s", "1"};
    args.insert(args.end(), filter.begin(), filter.end());
    auto filtered = Ctl(args);
    EXPECT_NE(filtered.output.find(id.substr(0, 13)), std::string::npos) << filtered.output;
  }
  auto other_label = Ctl({"stats", "-l", "app=other"});
  EXPECT_EQ(other_label.exit_code, 0) << other_label.output;
  EXPECT_EQ(other_label.output.find(id.substr(0, 13)), std::string::npos) << other_label.output;
  EXPECT_EQ(Ctl({"stats", "-l", "no-equals"}).exit_code, 1);
  auto json = Ctl({"-o", "json", "stats", "--id", id});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto parsed = nlohmann::json::parse(json.output);
  ASSERT_EQ(parsed["stats"].size(), 1u) << json.output;
  EXPECT_EQ(parsed["stats"][0]["attributes"]["id"], id);
  EXPECT_EQ(parsed["stats"][0]["attributes"]["metadata"]["name"], "web");
  // A UInt64Value is a string in JSON.
  auto memory = parsed["stats"][0]["memory"]["workingSetBytes"]["value"].get<std::string>();
  EXPECT_GT(std::stoull(memory), 0u);

  auto statsp = Ctl({"statsp", pod});
  ASSERT_EQ(statsp.exit_code, 0) << statsp.output;
  EXPECT_EQ(statsp.output.rfind("POD ", 0), 0u) << statsp.output;
  EXPECT_NE(statsp.output.find("ctl-pod  " + pod.substr(0, 13)), std::string::npos)
      << statsp.output;
  auto statsp_json = Ctl({"-o", "json", "statsp", "-l", "app=ctl"});
  ASSERT_EQ(statsp_json.exit_code, 0) << statsp_json.output;
  auto pod_stats = nlohmann::json::parse(statsp_json.output);
  ASSERT_EQ(pod_stats["stats"].size(), 1u) << statsp_json.output;
  EXPECT_EQ(pod_stats["stats"][0]["attributes"]["id"], pod);
  ASSERT_EQ(pod_stats["stats"][0]["linux"]["containers"].size(), 1u) << statsp_json.output;
}

TEST_F(BerthctlWorkloadTest, EventsStreamsCreatedAndStarted) {
  BackgroundCommand events({BerthctlBinary(), "-r", berthd_.endpoint(), "-t", "5", "events"});
  BackgroundCommand json_events(
      {BerthctlBinary(), "-r", berthd_.endpoint(), "-o", "json", "events"});
  // The streams have no "subscribed" message: give both time to reach berthd.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::string id = RunContainer("evented");
  ASSERT_FALSE(id.empty());
  auto pods = Ctl({"pods", "-q"});
  std::string pod = pods.output.substr(0, pods.output.find('\n'));

  const std::string& lines = events.WaitForOutput(
      {" CREATED " + id + " " + pod + "\n", " STARTED " + id + " " + pod + "\n"}, 30);
  EXPECT_NE(lines.find(" CREATED " + id + " " + pod + "\n"), std::string::npos) << lines;
  EXPECT_NE(lines.find(" STARTED " + id + " " + pod + "\n"), std::string::npos) << lines;
  // Each line starts with the event's time, RFC 3339 in UTC.
  EXPECT_EQ(lines.find(' '), 30u) << lines;
  EXPECT_EQ(lines[29], 'Z') << lines;

  // `run` made the pod too: its own events come first, with the pod's ID as container ID.
  const std::string& json_lines = json_events.WaitForOutput(
      {"\"containerId\":\"" + id + "\",\"containerEventType\":\"CONTAINER_STARTED_EVENT\""}, 30);
  std::istringstream stream(json_lines);
  std::map<std::string, std::vector<std::string>> types;
  for (std::string line; std::getline(stream, line);) {
    auto event = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(event.is_discarded()) << line;
    EXPECT_EQ(event["podSandboxStatus"]["id"], pod);
    types[event["containerId"]].push_back(event["containerEventType"]);
  }
  const std::vector<std::string> created_started = {"CONTAINER_CREATED_EVENT",
                                                    "CONTAINER_STARTED_EVENT"};
  EXPECT_EQ(types[id], created_started) << json_lines;
  EXPECT_EQ(types[pod], created_started) << json_lines;
  EXPECT_EQ(types.size(), 2u) << json_lines;

  // A stream outlives --timeout (5 s above), and an interrupt ends it cleanly.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(events.StopWith(SIGINT), 0);
  EXPECT_EQ(json_events.StopWith(SIGTERM), 0);
}

TEST_F(BerthctlWorkloadTest, RunFailureLeavesNoPod) {
  // --no-pull with an image berthd does not have: CreateContainer fails after the pod exists.
  auto no_pull = Ctl({"run", "--no-pull", ContainerYaml("absent", "test/absent:1"), pod_yaml_});
  EXPECT_EQ(no_pull.exit_code, 1) << no_pull.output;
  EXPECT_NE(no_pull.output.find("berthctl: run: create container: "), std::string::npos)
      << no_pull.output;
  EXPECT_EQ(Ctl({"pods", "-q"}).output, "");
  // Without --no-pull the missing image is pulled, from a registry that is not there.
  auto unreachable = "127.0.0.1:" + std::to_string(UnusedLoopbackPort()) + "/absent:1";
  auto pull = Ctl({"run", ContainerYaml("unpulled", unreachable), pod_yaml_});
  EXPECT_EQ(pull.exit_code, 1) << pull.output;
  EXPECT_NE(pull.output.find("berthctl: run: pull image " + unreachable + ": "), std::string::npos)
      << pull.output;
  EXPECT_EQ(Ctl({"pods", "-q"}).output, "");
  // A config that does not parse fails before anything is created.
  auto broken = Ctl({"run", WriteFile("broken.yaml", "metadata: [unclosed\n"), pod_yaml_});
  EXPECT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("berthctl: run: "), std::string::npos) << broken.output;
  EXPECT_NE(Ctl({"run", "--no-pull", "--with-pull", pod_yaml_, pod_yaml_}).exit_code, 0);
}

TEST_F(BerthctlWorkloadTest, ExecRunsCommandsWithTheirOutputAndExitCode) {
  std::string id = RunContainer("exec-target");
  ASSERT_EQ(id.size(), 64u) << id;
  auto hi = Ctl({"exec", id, "echo", "hi"});
  EXPECT_EQ(hi.exit_code, 0) << hi.output;
  EXPECT_EQ(hi.output, "hi\n");
  // The remote exit code is berthctl's; everything after the container is the command, its
  // options included; an ID prefix is enough.
  auto three = Ctl({"exec", id.substr(0, 12), "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(three.exit_code, 3) << three.output;
  EXPECT_NE(three.output.find("out\n"), std::string::npos) << three.output;
  EXPECT_NE(three.output.find("err\n"), std::string::npos) << three.output;
  auto websocket = Ctl({"exec", "--transport", "websocket", id, "sh", "-c", "echo ws; exit 2"});
  EXPECT_EQ(websocket.exit_code, 2) << websocket.output;
  EXPECT_EQ(websocket.output, "ws\n");
  // -i: stdin goes through `cat` and its EOF ends it.
  auto piped = CtlWithInput({"exec", "-i", id, "cat"}, "through the pipe\nline two\n");
  EXPECT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output, "through the pipe\nline two\n");
  // -t without a terminal on stdin: a remote TTY all the same (its line ends are \r\n).
  auto tty = Ctl({"exec", "-t", id, "sh", "-c", "test -t 1 && echo tty"});
  EXPECT_EQ(tty.exit_code, 0) << tty.output;
  EXPECT_EQ(tty.output, "tty\r\n");
  // --sync: ExecSync, output and exit code at the end.
  auto sync = Ctl({"exec", "-s", "--timeout", "10", id, "sh", "-c", "echo synced; exit 4"});
  EXPECT_EQ(sync.exit_code, 4) << sync.output;
  EXPECT_EQ(sync.output, "synced\n");
  // Errors are berthctl's, exit code 1.
  auto unknown = Ctl({"exec", "no-such-container", "true"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("berthctl: exec no-such-container: NotFound"), std::string::npos)
      << unknown.output;
  EXPECT_EQ(Ctl({"exec", id}).exit_code, 1);
}

TEST_F(BerthctlWorkloadTest, AttachFollowsOutputUntilKilledOrTheContainerExits) {
  std::string id = RunCommandContainer(
      "ticker", {"/bin/sh", "-c", "while true; do echo tick; sleep 0.2; done"}, pod_yaml_);
  ASSERT_EQ(id.size(), 64u) << id;
  {
    BackgroundCommand attach({BerthctlBinary(), "-r", berthd_.endpoint(), "attach", id});
    const std::string& output = attach.WaitForOutput({"tick\ntick\n"}, 10);
    EXPECT_NE(output.find("tick\ntick\n"), std::string::npos) << output;
    // Interrupted, berthctl dies of the signal; the container goes on (attach only detaches).
    EXPECT_EQ(attach.StopWith(SIGINT), 128 + SIGINT);
  }
  auto inspect = nlohmann::json::parse(Ctl({"inspect", id}).output);
  EXPECT_EQ(inspect["status"]["state"], "CONTAINER_RUNNING");

  // A container that ends: attach returns with its exit code.
  std::string other_pod = WriteFile("other-pod.yaml",
                                    "metadata:\n"
                                    "  name: ctl-other-pod\n"
                                    "  namespace: default\n"
                                    "  uid: ctl-other-pod-uid\n"
                                    "log_directory: " +
                                        logs_.path() + "\n");
  std::string ending =
      RunCommandContainer("ending", {"/bin/sh", "-c", "sleep 4; echo bye; exit 5"}, other_pod);
  ASSERT_EQ(ending.size(), 64u) << ending;
  auto attached = Ctl({"attach", ending.substr(0, 10)});
  EXPECT_EQ(attached.exit_code, 5) << attached.output;
  EXPECT_NE(attached.output.find("bye\n"), std::string::npos) << attached.output;
  // -i on a container created without stdin is berthd's refusal.
  EXPECT_EQ(Ctl({"attach", "-i", id}).exit_code, 1);
}

// An HTTP GET to 127.0.0.1:`port` with plain sockets; the whole reply ("" when none).
std::string FetchFromLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string get = "GET /index.html HTTP/1.0\r\n\r\n";
    (void)!::write(fd, get.data(), get.size());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd readable{fd, POLLIN, 0};
      if (::poll(&readable, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      reply.append(buffer, n);
    }
  }
  ::close(fd);
  return reply;
}

TEST_F(BerthctlWorkloadTest, PortForwardServesLocalConnectionsUntilInterrupted) {
  std::string id = RunCommandContainer(
      "httpd",
      {"/bin/sh", "-c",
       "mkdir /www && echo hello-from-pod > /www/index.html && exec httpd -f -p 8080 -h /www"},
      pod_yaml_);
  ASSERT_EQ(id.size(), 64u) << id;
  auto pods = Ctl({"pods", "-q"});
  std::string pod = pods.output.substr(0, pods.output.find('\n'));
  int port = UnusedLoopbackPort();
  std::string mapping = std::to_string(port) + ":8080";
  BackgroundCommand forward(
      {BerthctlBinary(), "-r", berthd_.endpoint(), "port-forward", pod.substr(0, 12), mapping});
  std::string forwarding =
      "Forwarding from 127.0.0.1:" + mapping.substr(0, mapping.find(':')) + " -> 8080\n";
  const std::string& started = forward.WaitForOutput({forwarding}, 10);
  ASSERT_NE(started.find(forwarding), std::string::npos) << started;
  // httpd may need a moment to listen; a refused dial costs the session, which berthctl renews.
  std::string reply;
  for (int attempt = 0; attempt < 40 && reply.find("hello-from-pod") == std::string::npos;
       ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    reply = FetchFromLoopback(port);
  }
  EXPECT_NE(reply.find("hello-from-pod"), std::string::npos) << reply;
  // More connections, also at once, through the same berthctl.
  auto first = std::async(std::launch::async, FetchFromLoopback, port);
  auto second = std::async(std::launch::async, FetchFromLoopback, port);
  EXPECT_NE(first.get().find("hello-from-pod"), std::string::npos);
  EXPECT_NE(second.get().find("hello-from-pod"), std::string::npos);
  EXPECT_EQ(forward.StopWith(SIGINT), 0) << forward.WaitForOutput({}, 0);
  // The local port is closed with it.
  EXPECT_EQ(FetchFromLoopback(port), "");
  // A mapping that does not parse fails at once.
  EXPECT_EQ(Ctl({"port-forward", pod, "80x"}).exit_code, 1);
}

}  // namespace
}  // namespace berth::testing
