// CRI semantics that kubelet and other projects' suites rely on beyond the validation suite
// (issue 15): stop signals (KEP-4960), pod sandbox events for the evented PLEG, host-network
// hostnames, verbose info, metrics.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test/integration/container_fixture.h"

namespace berth::testing {
namespace {

using CriCompletenessTest = ContainerFixture;

// <signal.h>'s macros hide the enum's names (cri_api.h only holds them off while the stubs are
// read): values are looked up by name.
::runtime::v1::Signal CriSignal(const std::string& name) {
  ::runtime::v1::Signal signal = ::runtime::v1::RUNTIME_DEFAULT;
  EXPECT_TRUE(::runtime::v1::Signal_Parse(name, &signal)) << name;
  return signal;
}

TEST_F(CriCompletenessTest, StopSignalOverridesTheImagesAndIsReported) {
  // test/entrypoint:1 says STOPSIGNAL SIGINT: without a stop_signal that is what stops it.
  const std::vector<std::string> trap = {
      "/bin/sh", "-c",
      "trap 'echo got-usr1; exit 7' USR1; trap 'echo got-int; exit 8' INT; "
      "while true; do sleep 0.1; done"};
  std::string from_image = Run(Config("from-image", "test/entrypoint:1", trap));
  EXPECT_EQ(Status(from_image).stop_signal(), CriSignal("SIGINT"));

  auto config = Config("usr1", "test/entrypoint:1", trap);
  config.set_stop_signal(CriSignal("SIGUSR1"));
  std::string usr1 = Run(config);
  EXPECT_EQ(Status(usr1).stop_signal(), CriSignal("SIGUSR1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the traps are set

  // The shell is its pid namespace's init: a signal it has no handler for would do nothing and
  // the stop would end in SIGKILL (137) after the timeout.
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(Stop(usr1, 20).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  auto status = WaitExited(usr1);
  EXPECT_EQ(status.exit_code(), 7);
  EXPECT_EQ(status.stop_signal(), CriSignal("SIGUSR1"));
  EXPECT_EQ(LogLines(logs_.path() + "/usr1.log", "stdout"), std::vector<std::string>{"got-usr1"});

  ASSERT_TRUE(Stop(from_image, 20).ok());
  EXPECT_EQ(WaitExited(from_image).exit_code(), 8);
}

TEST_F(CriCompletenessTest, PodSandboxLifecycleIsStreamedAsEvents) {
  auto context = CallContext(60);
  auto reader = berthd_.runtime().GetContainerEvents(context.get(), {});
  std::vector<::runtime::v1::ContainerEventResponse> seen;
  std::string pod;
  std::mutex mutex;
  std::thread collector([&] {
    ::runtime::v1::ContainerEventResponse event;
    while (reader->Read(&event)) {
      std::lock_guard guard(mutex);
      seen.push_back(event);
      if (event.container_event_type() == ::runtime::v1::CONTAINER_DELETED_EVENT &&
          event.container_id() == pod) {
        break;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the subscription is in place

  ::runtime::v1::RunPodSandboxRequest run;
  auto* config = run.mutable_config();
  config->mutable_metadata()->set_name("evented-pod");
  config->mutable_metadata()->set_namespace_("default");
  config->mutable_metadata()->set_uid("evented-pod-uid");
  config->set_log_directory(logs_.path());
  config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  ::runtime::v1::RunPodSandboxResponse ran;
  ASSERT_TRUE(berthd_.runtime().RunPodSandbox(CallContext(60).get(), run, &ran).ok());
  {
    std::lock_guard guard(mutex);
    pod = ran.pod_sandbox_id();
  }
  ::runtime::v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::StopPodSandboxResponse stopped;
  ASSERT_TRUE(berthd_.runtime().StopPodSandbox(CallContext(60).get(), stop, &stopped).ok());
  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse removed;
  ASSERT_TRUE(berthd_.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed).ok());

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard guard(mutex);
      if (!seen.empty() &&
          seen.back().container_event_type() == ::runtime::v1::CONTAINER_DELETED_EVENT) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  context->TryCancel();
  collector.join();

  std::vector<::runtime::v1::ContainerEventType> types;
  for (const auto& event : seen) {
    if (event.container_id() != ran.pod_sandbox_id()) continue;
    types.push_back(event.container_event_type());
    EXPECT_NE(event.created_at(), 0);
    // Each carries the pod as it was then, also the DELETED one after the record is gone.
    EXPECT_EQ(event.pod_sandbox_status().id(), ran.pod_sandbox_id());
    EXPECT_EQ(event.pod_sandbox_status().metadata().name(), "evented-pod");
    EXPECT_EQ(event.pod_sandbox_status().state(),
              event.container_event_type() == ::runtime::v1::CONTAINER_STARTED_EVENT ||
                      event.container_event_type() == ::runtime::v1::CONTAINER_CREATED_EVENT
                  ? ::runtime::v1::SANDBOX_READY
                  : ::runtime::v1::SANDBOX_NOTREADY);
  }
  EXPECT_EQ(types,
            (std::vector<::runtime::v1::ContainerEventType>{
                ::runtime::v1::CONTAINER_CREATED_EVENT, ::runtime::v1::CONTAINER_STARTED_EVENT,
                ::runtime::v1::CONTAINER_STOPPED_EVENT, ::runtime::v1::CONTAINER_DELETED_EVENT}));
}

::runtime::v1::PodSandboxConfig HostNetworkPod(const std::string& name, const std::string& logs) {
  ::runtime::v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("default");
  config.mutable_metadata()->set_uid(name + "-uid");
  config.set_log_directory(logs);
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  return config;
}

std::string NodeName() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

TEST_F(CriCompletenessTest, HostNetworkPodsHaveTheNodesHostnameEverywhere) {
  // A custom hostname is refused, as containerd refuses it: the pod shares the node's UTS
  // namespace, so `hostname` would disagree with /etc/hostname and $HOSTNAME.
  ::runtime::v1::RunPodSandboxRequest custom;
  *custom.mutable_config() = HostNetworkPod("hostnet-custom", logs_.path());
  custom.mutable_config()->set_hostname("custom-name");
  ::runtime::v1::RunPodSandboxResponse refused;
  auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), custom, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("custom-name"), std::string::npos)
      << status.error_message();
  ::runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 1);  // only the fixture's pod

  // Without one (as kubelet sends it), or with the node's own, all three say the node's name.
  for (const std::string& hostname : {std::string(), NodeName()}) {
    ::runtime::v1::RunPodSandboxRequest run;
    *run.mutable_config() =
        HostNetworkPod("hostnet-" + std::to_string(hostname.size()), logs_.path());
    run.mutable_config()->set_hostname(hostname);
    ::runtime::v1::RunPodSandboxResponse ran;
    status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), run, &ran);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::string saved_pod = pod_;
    pod_ = ran.pod_sandbox_id();
    std::string log = "hostname-" + std::to_string(hostname.size());
    std::string id = Run(Config(log, "test/busybox:1",
                                {"/bin/sh", "-c", "hostname; cat /etc/hostname; echo $HOSTNAME"}));
    EXPECT_EQ(WaitExited(id).exit_code(), 0);
    EXPECT_EQ(LogLines(logs_.path() + "/" + log + ".log", "stdout"),
              (std::vector<std::string>{NodeName(), NodeName(), NodeName()}));
    ::runtime::v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(pod_);
    ::runtime::v1::RemovePodSandboxResponse removed;
    EXPECT_TRUE(berthd_.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed).ok());
    pod_ = saved_pod;
  }
}

TEST_F(CriCompletenessTest, VerboseInfoHasTheRuntimeSpecAndTheEffectiveSettings) {
  std::string id = Run(Config("verbose", "test/busybox:1", {"/bin/sleep", "300"}));
  ::runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  ::runtime::v1::ContainerStatusResponse response;
  ASSERT_TRUE(berthd_.runtime().ContainerStatus(CallContext().get(), request, &response).ok());
  auto info = nlohmann::json::parse(response.info().at("info"));
  EXPECT_EQ(info["sandboxID"], pod_);
  EXPECT_GT(info["pid"].get<int>(), 0);
  // The OCI runtime spec the container runs from, as crictl inspect shows it.
  const auto& spec = info["runtimeSpec"];
  ASSERT_TRUE(spec.is_object()) << info.dump();
  EXPECT_FALSE(spec["ociVersion"].get<std::string>().empty());
  EXPECT_EQ(spec["process"]["args"], (std::vector<std::string>{"/bin/sleep", "300"}));
  EXPECT_TRUE(spec["linux"]["namespaces"].is_array());

  ::runtime::v1::StatusRequest status_request;
  status_request.set_verbose(true);
  ::runtime::v1::StatusResponse status;
  ASSERT_TRUE(berthd_.runtime().Status(CallContext().get(), status_request, &status).ok());
  ASSERT_TRUE(status.info().contains("settings"));
  auto settings = nlohmann::json::parse(status.info().at("settings"));
  EXPECT_EQ(settings["maxContainerLogLineSize"], 16384);
  EXPECT_EQ(settings["cgroupDriver"], "cgroupfs");
  EXPECT_EQ(settings["defaultRuntimeHandler"], "");
  EXPECT_EQ(settings["streamingServerUrl"].get<std::string>().rfind("http", 0), 0u);
  // The config stays the file's shape.
  EXPECT_TRUE(nlohmann::json::parse(status.info().at("config")).contains("network"));
  ASSERT_TRUE(Remove(id).ok());
}

TEST_F(CriCompletenessTest, PodSandboxMetricsUseCadvisorNames) {
  std::string id = Run(Config("measured", "test/busybox:1", {"/bin/sleep", "300"}));
  ::runtime::v1::ListMetricDescriptorsResponse descriptors;
  ASSERT_TRUE(berthd_.runtime().ListMetricDescriptors(CallContext().get(), {}, &descriptors).ok());
  std::map<std::string, int> label_count;
  for (const auto& descriptor : descriptors.descriptors()) {
    label_count[descriptor.name()] = descriptor.label_keys_size();
  }
  for (const char* name :
       {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
        "container_network_receive_bytes_total", "container_fs_usage_bytes"}) {
    EXPECT_TRUE(label_count.contains(name)) << name;
  }

  ::runtime::v1::ListPodSandboxMetricsResponse response;
  ASSERT_TRUE(berthd_.runtime().ListPodSandboxMetrics(CallContext().get(), {}, &response).ok());
  const ::runtime::v1::PodSandboxMetrics* pod = nullptr;
  for (const auto& metrics : response.pod_metrics()) {
    if (metrics.pod_sandbox_id() == pod_) pod = &metrics;
  }
  ASSERT_NE(pod, nullptr);
  std::map<std::string, uint64_t> values;
  auto check = [&](const ::runtime::v1::Metric& metric) {
    // Every metric is described, with a label value for each label key.
    ASSERT_TRUE(label_count.contains(metric.name())) << metric.name();
    EXPECT_EQ(metric.label_values_size(), label_count[metric.name()]) << metric.name();
    values[metric.name()] = metric.value().value();
  };
  for (const auto& metric : pod->metrics()) check(metric);
  ASSERT_EQ(pod->container_metrics_size(), 1);
  EXPECT_EQ(pod->container_metrics(0).container_id(), id);
  for (const auto& metric : pod->container_metrics(0).metrics()) check(metric);
  EXPECT_TRUE(values.contains("container_network_receive_bytes_total"));  // the pod's eth0
  EXPECT_GT(values["container_memory_working_set_bytes"], 0u);
  EXPECT_TRUE(values.contains("container_cpu_usage_seconds_total"));
  EXPECT_GE(values["container_processes"], 1u);
  EXPECT_GT(values["container_start_time_seconds"], 0u);

  // The streaming form sends the same pods.
  auto context = CallContext();
  auto reader = berthd_.runtime().StreamPodSandboxMetrics(context.get(), {});
  ::runtime::v1::StreamPodSandboxMetricsResponse batch;
  int streamed = 0;
  while (reader->Read(&batch)) streamed += batch.pod_sandbox_metrics_size();
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(streamed, response.pod_metrics_size());

  // crictl's metricdescs and metricsp, when the tools are built here.
  const std::string crictl = "/work/tools/bin/crictl";
  if (std::filesystem::exists(crictl)) {
    auto run = RunCommand({crictl, "--runtime-endpoint", berthd_.endpoint(), "metricdescs"});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("container_memory_working_set_bytes"), std::string::npos)
        << run.output;
    run = RunCommand({crictl, "--runtime-endpoint", berthd_.endpoint(), "metricsp"});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find(id), std::string::npos) << run.output;
  }
  ASSERT_TRUE(Remove(id).ok());
}

TEST_F(CriCompletenessTest, UpdatePodSandboxResourcesResizesThePodCgroup) {
  if (!std::filesystem::exists("/sys/fs/cgroup/memory")) GTEST_SKIP() << "checks cgroup v1 files";
  std::string slice = "berthtest" + std::to_string(::getpid()) + "-podres.slice";
  std::string path = "/berthtest" + std::to_string(::getpid()) + ".slice/" + slice;
  ::runtime::v1::RunPodSandboxRequest run;
  auto* config = run.mutable_config();
  config->mutable_metadata()->set_name("resized");
  config->mutable_metadata()->set_namespace_("default");
  config->mutable_metadata()->set_uid("resized-uid");
  config->set_log_directory(logs_.path());
  config->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      ::runtime::v1::NODE);
  config->mutable_linux()->set_cgroup_parent(slice);
  config->mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(256 << 20);
  config->mutable_linux()->mutable_resources()->set_cpu_shares(1024);
  ::runtime::v1::RunPodSandboxResponse ran;
  auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), run, &ran);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ReadText("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes"),
            std::to_string(256 << 20) + "\n");

  ::runtime::v1::UpdatePodSandboxResourcesRequest update;
  update.set_pod_sandbox_id(ran.pod_sandbox_id());
  update.mutable_resources()->set_memory_limit_in_bytes(96 << 20);
  update.mutable_resources()->set_cpu_shares(512);
  update.mutable_overhead()->set_memory_limit_in_bytes(32 << 20);
  ::runtime::v1::UpdatePodSandboxResourcesResponse updated;
  status = berthd_.runtime().UpdatePodSandboxResources(CallContext().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Resources plus the overhead, as the pod cgroup is sized at RunPodSandbox.
  EXPECT_EQ(ReadText("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes"),
            std::to_string(128 << 20) + "\n");
  EXPECT_EQ(ReadText("/sys/fs/cgroup/cpu" + path + "/cpu.shares"), "512\n");

  update.set_pod_sandbox_id("no-such-pod");
  status = berthd_.runtime().UpdatePodSandboxResources(CallContext().get(), update, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  ::runtime::v1::RemovePodSandboxRequest remove;
  remove.set_pod_sandbox_id(ran.pod_sandbox_id());
  ::runtime::v1::RemovePodSandboxResponse removed;
  EXPECT_TRUE(berthd_.runtime().RemovePodSandbox(CallContext(60).get(), remove, &removed).ok());
  EXPECT_FALSE(std::filesystem::exists("/sys/fs/cgroup/memory" + path));
}

// What the container sees at the volumes image's VOLUMEs, one line per fact.
const std::vector<std::string> kVolumeProbe = {
    "/bin/busybox", "sh", "-c",
    "cd /; for p in data data/seed data/sub data/sub/inner empty absent/dir; do "
    "echo \"$p $(/bin/busybox stat -c '%a %u:%g' $p 2>&1)\"; done; "
    "echo \"seed $(/bin/busybox cat data/seed) link $(/bin/busybox readlink data/link)\"; "
    "echo \"entries $(/bin/busybox ls -A empty | /bin/busybox wc -l) "
    "$(/bin/busybox ls -A absent/dir 2>/dev/null | /bin/busybox wc -l)\"; "
    "echo \"mounts $(/bin/busybox grep -c -E ' /(data|empty|absent/dir) ' /proc/self/mountinfo)\"; "
    "echo written > data/new && echo \"new $(/bin/busybox cat data/new)\""};

TEST_F(CriCompletenessTest, ImageVolumesAreCopiedMadeOrIgnored) {
  Import("volumes");
  // copy (the default): directories of the container's own with the image's content, modes and
  // owners, mounted at each VOLUME; one the image lacks is made empty.
  std::string copied = Run(Config("vol-copy", "test/volumes:1", kVolumeProbe));
  EXPECT_EQ(WaitExited(copied).exit_code(), 0);
  EXPECT_EQ(LogLines(logs_.path() + "/vol-copy.log", "stdout"),
            (std::vector<std::string>{
                "data 750 1234:2345", "data/seed 640 1234:2345", "data/sub 700 1234:2345",
                "data/sub/inner 600 1234:2345", "empty 755 0:0", "absent/dir 755 0:0",
                "seed seeded link seed", "entries 0 0", "mounts 3", "new written"}));

  // mkdir: empty directories owned as the image's; ignore: the rootfs as it is.
  for (const std::string mode : {"mkdir", "ignore"}) {
    ASSERT_EQ(berthd_.Stop(), 0);
    std::string config_path = logs_.path() + "/berth-" + mode + ".yaml";
    std::ofstream(config_path) << "image_volumes: " << mode << "\n" << berthd_.NetworkYaml();
    ASSERT_TRUE(berthd_.Start({"--config", config_path}));
    std::string id = Run(Config("vol-" + mode, "test/volumes:1", kVolumeProbe));
    EXPECT_EQ(WaitExited(id).exit_code(), 0);
    auto lines = LogLines(logs_.path() + "/vol-" + mode + ".log", "stdout");
    ASSERT_GE(lines.size(), 5u);
    EXPECT_EQ(lines[0], "data 750 1234:2345");
    if (mode == "mkdir") {
      EXPECT_NE(lines[1].find("No such file"), std::string::npos) << lines[1];
      EXPECT_EQ(lines[5], "absent/dir 755 0:0");
      EXPECT_EQ(lines[8], "mounts 3");
    } else {
      EXPECT_EQ(lines[1], "data/seed 640 1234:2345");
      EXPECT_NE(lines[5].find("No such file"), std::string::npos) << lines[5];
      EXPECT_EQ(lines[8], "mounts 0");
    }
  }
}

}  // namespace
}  // namespace berth::testing
