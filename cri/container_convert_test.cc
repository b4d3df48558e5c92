#include "cri/container_convert.h"

#include "base/signal_names.h"
#include "gtest/gtest.h"

namespace berth::cri {
namespace {

::runtime::v1::ContainerConfig MinimalConfig() {
  ::runtime::v1::ContainerConfig config;
  config.mutable_metadata()->set_name("web");
  config.mutable_metadata()->set_attempt(2);
  config.mutable_image()->set_image("busybox:latest");
  return config;
}

::runtime::v1::Mount* AddMount(::runtime::v1::ContainerConfig& config, const std::string& host,
                               const std::string& container) {
  auto* mount = config.add_mounts();
  mount->set_host_path(host);
  mount->set_container_path(container);
  return mount;
}

TEST(ContainerConvertTest, LinuxUnsetGivesDefaults) {
  auto config = ToContainerConfig(MinimalConfig());
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->name, "web");
  EXPECT_EQ(config->attempt, 2u);
  EXPECT_EQ(config->image, "busybox:latest");
  EXPECT_TRUE(config->mounts.empty());
  EXPECT_TRUE(config->devices.empty());
  EXPECT_EQ(config->resources.cpu_shares, 0);
  EXPECT_EQ(config->resources.memory_limit_bytes, 0);
  // No security context: no profile named, so the pod/ defaults apply.
  EXPECT_EQ(config->security.seccomp.type, pod::SecurityProfile::Type::kUnset);
  EXPECT_EQ(config->security.apparmor.type, pod::SecurityProfile::Type::kUnset);
  EXPECT_FALSE(config->security.privileged);
  EXPECT_FALSE(config->security.run_as_user.has_value());
}

// <signal.h>'s macros hide the enum's names here (cri_api.h only holds them off while the stubs
// are read): values are looked up by name.
::runtime::v1::Signal CriSignal(const std::string& name) {
  ::runtime::v1::Signal signal = ::runtime::v1::RUNTIME_DEFAULT;
  EXPECT_TRUE(::runtime::v1::Signal_Parse(name, &signal)) << name;
  return signal;
}

TEST(ContainerConvertTest, StopSignalIsASignalName) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  EXPECT_EQ(ToContainerConfig(in)->stop_signal, "");  // RUNTIME_DEFAULT: the image's, or SIGTERM
  for (auto [cri, name] :
       std::vector<std::pair<std::string, std::string>>{{"SIGUSR1", "SIGUSR1"},
                                                        {"SIGRTMINPLUS3", "SIGRTMIN+3"},
                                                        {"SIGRTMAXMINUS14", "SIGRTMAX-14"},
                                                        {"SIGRTMAX", "SIGRTMAX"},
                                                        {"SIGCLD", "SIGCLD"}}) {
    in.set_stop_signal(CriSignal(cri));
    auto config = ToContainerConfig(in);
    ASSERT_TRUE(config.ok()) << config.error().message();
    EXPECT_EQ(config->stop_signal, name);
  }
  in.set_stop_signal(static_cast<::runtime::v1::Signal>(999));
  auto bad = ToContainerConfig(in);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("999"), std::string::npos) << bad.error().message();
}

TEST(ContainerConvertTest, StatusReportsTheEffectiveStopSignal) {
  EXPECT_EQ(ToCriSignal("SIGTERM"), CriSignal("SIGTERM"));
  EXPECT_EQ(ToCriSignal("SIGUSR1"), CriSignal("SIGUSR1"));
  EXPECT_EQ(ToCriSignal("SIGRTMIN"), CriSignal("SIGRTMIN"));
  EXPECT_EQ(ToCriSignal("SIGRTMIN+15"), CriSignal("SIGRTMINPLUS15"));
  // 50..63 are SIGRTMAX-14..-1 in the CRI's enum, whichever way the image wrote them.
  EXPECT_EQ(ToCriSignal("SIGRTMIN+16"), CriSignal("SIGRTMAXMINUS14"));
  EXPECT_EQ(ToCriSignal("63"), CriSignal("SIGRTMAXMINUS1"));
  EXPECT_EQ(ToCriSignal("SIGRTMAX"), CriSignal("SIGRTMAX"));
  EXPECT_EQ(ToCriSignal("9"), CriSignal("SIGKILL"));
  EXPECT_EQ(ToCriSignal(""), ::runtime::v1::RUNTIME_DEFAULT);
  // Every CRI signal survives the way in and out (an alias comes back under its one name:
  // SIGCLD as SIGCHLD, SIGPOLL as SIGIO, SIGIOT as SIGABRT).
  for (int value = 1; ::runtime::v1::Signal_IsValid(value); ++value) {
    auto signal = static_cast<::runtime::v1::Signal>(value);
    auto name = FromCriSignal(signal);
    ASSERT_TRUE(name.ok()) << ::runtime::v1::Signal_Name(signal);
    auto back = FromCriSignal(ToCriSignal(*name));
    ASSERT_TRUE(back.ok()) << *name;
    EXPECT_EQ(ParseSignal(*back), ParseSignal(*name)) << *name;
  }
}

TEST(ContainerConvertTest, AnImageIsRequired) {
  ::runtime::v1::ContainerConfig config = MinimalConfig();
  config.clear_image();
  auto converted = ToContainerConfig(config);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(converted.error().message(), "container config has no image");
}

TEST(ContainerConvertTest, ProcessFieldsAreCopied) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  in.add_command("/bin/sh");
  in.add_args("-c");
  in.add_args("echo hi");
  in.set_working_dir("/srv");
  auto* env = in.add_envs();
  env->set_key("A");
  env->set_value("1");
  (*in.mutable_labels())["app"] = "web";
  (*in.mutable_annotations())["note"] = "x";
  in.set_log_path("web/0.log");
  in.set_tty(true);
  in.set_stdin(true);
  in.set_stdin_once(true);
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->command, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(config->args, (std::vector<std::string>{"-c", "echo hi"}));
  EXPECT_EQ(config->working_dir, "/srv");
  ASSERT_EQ(config->envs.size(), 1u);
  EXPECT_EQ(config->envs[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(config->labels.at("app"), "web");
  EXPECT_EQ(config->annotations.at("note"), "x");
  EXPECT_EQ(config->log_path, "web/0.log");
  EXPECT_TRUE(config->tty && config->stdin && config->stdin_once);
}

TEST(ContainerConvertTest, MountPropagationIncludingUnknownValues) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  AddMount(in, "/a", "/a")->set_propagation(::runtime::v1::PROPAGATION_PRIVATE);
  AddMount(in, "/b", "/b")->set_propagation(::runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  AddMount(in, "/c", "/c")->set_propagation(::runtime::v1::PROPAGATION_BIDIRECTIONAL);
  // A value a newer client may send: treated as the safe default.
  AddMount(in, "/d", "/d")->set_propagation(static_cast<::runtime::v1::MountPropagation>(42));
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_EQ(config->mounts.size(), 4u);
  EXPECT_EQ(config->mounts[0].propagation, "private");
  EXPECT_EQ(config->mounts[1].propagation, "rslave");
  EXPECT_EQ(config->mounts[2].propagation, "rshared");
  EXPECT_EQ(config->mounts[3].propagation, "private");
  EXPECT_EQ(config->mounts[1].host_path, "/b");
  EXPECT_FALSE(config->mounts[1].readonly);
}

TEST(ContainerConvertTest, RecursiveReadOnlyNeedsReadOnlyAndPrivate) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  auto* mount = AddMount(in, "/data", "/data");
  mount->set_recursive_read_only(true);
  auto converted = ToContainerConfig(in);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(converted.error().message(),
            "mount /data: recursive_read_only needs readonly and private propagation");

  mount->set_readonly(true);
  mount->set_propagation(::runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_FALSE(ToContainerConfig(in).ok());

  mount->set_propagation(::runtime::v1::PROPAGATION_PRIVATE);
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_TRUE(config->mounts[0].recursive_read_only);
  EXPECT_TRUE(config->mounts[0].readonly);
}

TEST(ContainerConvertTest, ImageVolumes) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  auto* mount = AddMount(in, "", "/models");
  mount->mutable_image()->set_image("registry.local/models:v1");
  mount->set_image_sub_path("weights");
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->mounts[0].image, "registry.local/models:v1");
  EXPECT_EQ(config->mounts[0].image_sub_path, "weights");
  EXPECT_TRUE(config->mounts[0].readonly);  // image volumes are read-only by definition

  mount->set_host_path("/host");
  auto both = ToContainerConfig(in);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().message(), "mount /models: both an image and a host path given");
}

TEST(ContainerConvertTest, DevicesDefaultToRwm) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  auto* fuse = in.add_devices();
  fuse->set_host_path("/dev/fuse");
  fuse->set_container_path("/dev/fuse");
  auto* null = in.add_devices();
  null->set_host_path("/dev/null");
  null->set_container_path("/dev/mynull");
  null->set_permissions("r");
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_EQ(config->devices.size(), 2u);
  EXPECT_EQ(config->devices[0].permissions, "rwm");
  EXPECT_EQ(config->devices[1].host_path, "/dev/null");
  EXPECT_EQ(config->devices[1].container_path, "/dev/mynull");
  EXPECT_EQ(config->devices[1].permissions, "r");
}

::runtime::v1::LinuxContainerResources SampleResources() {
  ::runtime::v1::LinuxContainerResources resources;
  resources.set_cpu_shares(512);
  resources.set_cpu_quota(50000);
  resources.set_cpu_period(100000);
  resources.set_memory_limit_in_bytes(64 << 20);
  resources.set_memory_swap_limit_in_bytes(128 << 20);
  resources.set_oom_score_adj(-100);
  resources.set_cpuset_cpus("0-1");
  resources.set_cpuset_mems("0");
  auto* hugepages = resources.add_hugepage_limits();
  hugepages->set_page_size("2MB");
  hugepages->set_limit(4 << 20);
  (*resources.mutable_unified())["memory.high"] = "50000000";
  return resources;
}

TEST(ContainerConvertTest, ResourcesBothWays) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  *in.mutable_linux()->mutable_resources() = SampleResources();
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  const pod::ContainerResources& resources = config->resources;
  EXPECT_EQ(resources.cpu_shares, 512);
  EXPECT_EQ(resources.cpu_quota, 50000);
  EXPECT_EQ(resources.cpu_period, 100000);
  EXPECT_EQ(resources.memory_limit_bytes, 64 << 20);
  EXPECT_EQ(resources.memory_swap_limit_bytes, 128 << 20);
  EXPECT_EQ(resources.oom_score_adj, -100);
  EXPECT_EQ(resources.cpuset_cpus, "0-1");
  EXPECT_EQ(resources.cpuset_mems, "0");
  ASSERT_EQ(resources.hugepage_limits.size(), 1u);
  EXPECT_EQ(resources.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(resources.hugepage_limits[0].limit_bytes, 4u << 20);
  EXPECT_EQ(resources.unified.at("memory.high"), "50000000");

  ::runtime::v1::LinuxContainerResources back;
  FillResources(resources, &back);
  EXPECT_EQ(back.SerializeAsString(), SampleResources().SerializeAsString());
}

TEST(ContainerConvertTest, LinuxWithoutResourcesOrSecurityContext) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  in.mutable_linux();  // present but empty
  auto config = ToContainerConfig(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->resources.cpu_shares, 0);
  EXPECT_TRUE(config->resources.unified.empty());
  // An empty security context names no profile either.
  EXPECT_EQ(config->security.seccomp.type, pod::SecurityProfile::Type::kUnset);
}

TEST(ContainerConvertTest, SecurityContextErrorsCarryThrough) {
  ::runtime::v1::ContainerConfig in = MinimalConfig();
  auto* context = in.mutable_linux()->mutable_security_context();
  context->mutable_run_as_user()->set_value(1000);
  context->set_run_as_username("nobody");
  auto converted = ToContainerConfig(in);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ContainerConvertTest, FilterStatesIncludingUnknownValues) {
  ::runtime::v1::ContainerFilter in;
  in.set_id("abc");
  in.set_pod_sandbox_id("pod1");
  (*in.mutable_label_selector())["app"] = "web";
  pod::ContainerFilter filter = ToContainerFilter(in);
  EXPECT_EQ(filter.id, "abc");
  EXPECT_EQ(filter.sandbox_id, "pod1");
  EXPECT_FALSE(filter.state.has_value());
  EXPECT_EQ(filter.label_selector.at("app"), "web");

  const std::pair<::runtime::v1::ContainerState, pod::ContainerState> states[] = {
      {::runtime::v1::CONTAINER_CREATED, pod::ContainerState::kCreated},
      {::runtime::v1::CONTAINER_RUNNING, pod::ContainerState::kRunning},
      {::runtime::v1::CONTAINER_EXITED, pod::ContainerState::kExited},
      {::runtime::v1::CONTAINER_UNKNOWN, pod::ContainerState::kUnknown},
      {static_cast<::runtime::v1::ContainerState>(17), pod::ContainerState::kUnknown},
  };
  for (const auto& [cri, domain] : states) {
    in.mutable_state()->set_state(cri);
    EXPECT_EQ(ToContainerFilter(in).state, domain) << cri;
  }
}

TEST(ContainerConvertTest, StatesToCri) {
  EXPECT_EQ(ToCriState(pod::ContainerState::kCreated), ::runtime::v1::CONTAINER_CREATED);
  EXPECT_EQ(ToCriState(pod::ContainerState::kRunning), ::runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(ToCriState(pod::ContainerState::kExited), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(ToCriState(pod::ContainerState::kUnknown), ::runtime::v1::CONTAINER_UNKNOWN);
  EXPECT_EQ(ToCriState(static_cast<pod::ContainerState>(9)), ::runtime::v1::CONTAINER_UNKNOWN);
}

pod::Container SampleContainer() {
  pod::Container container;
  container.id = "c0ffee";
  container.sandbox_id = "pod1";
  container.config.name = "web";
  container.config.attempt = 1;
  container.config.image = "busybox:latest";
  container.config.labels = {{"app", "web"}};
  container.config.annotations = {{"note", "x"}};
  container.image_id = "sha256:1234";
  container.state = pod::ContainerState::kExited;
  container.created_at_nanos = 10;
  container.started_at_nanos = 20;
  container.finished_at_nanos = 30;
  container.exit_code = 137;
  container.reason = "OOMKilled";
  container.message = "out of memory";
  container.log_path = "/var/log/pods/p/web/1.log";
  container.user = {1000, 1000, {10, 20}};
  return container;
}

TEST(ContainerConvertTest, ContainerSummary) {
  ::runtime::v1::Container out;
  FillContainer(SampleContainer(), &out);
  EXPECT_EQ(out.id(), "c0ffee");
  EXPECT_EQ(out.pod_sandbox_id(), "pod1");
  EXPECT_EQ(out.metadata().name(), "web");
  EXPECT_EQ(out.metadata().attempt(), 1u);
  EXPECT_EQ(out.image().image(), "busybox:latest");
  EXPECT_EQ(out.image_ref(), "sha256:1234");
  EXPECT_EQ(out.image_id(), "sha256:1234");
  EXPECT_EQ(out.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(out.created_at(), 10);
  EXPECT_EQ(out.labels().at("app"), "web");
  EXPECT_EQ(out.annotations().at("note"), "x");
}

TEST(ContainerConvertTest, StatusReportsExactlyTheRequestedMounts) {
  pod::Container container = SampleContainer();
  container.config.mounts = {
      {"/host", "/data", true, "rslave", false, "", ""},
      {"/etc/x", "/x", true, "private", true, "", ""},
      {"", "/models", true, "private", false, "sha256:abcd", "weights"},
      {"/shared", "/shared", false, "rshared", false, "", ""},
  };
  container.config.resources.memory_limit_bytes = 1 << 20;
  ::runtime::v1::ContainerStatus out;
  FillContainerStatus(container, &out);
  EXPECT_EQ(out.id(), "c0ffee");
  EXPECT_EQ(out.state(), ::runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(out.started_at(), 20);
  EXPECT_EQ(out.finished_at(), 30);
  EXPECT_EQ(out.exit_code(), 137);
  EXPECT_EQ(out.reason(), "OOMKilled");
  EXPECT_EQ(out.message(), "out of memory");
  EXPECT_EQ(out.image().image(), "busybox:latest");
  EXPECT_EQ(out.image_ref(), "sha256:1234");
  EXPECT_EQ(out.log_path(), "/var/log/pods/p/web/1.log");
  ASSERT_EQ(out.mounts_size(), 4);
  EXPECT_EQ(out.mounts(0).host_path(), "/host");
  EXPECT_EQ(out.mounts(0).propagation(), ::runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_TRUE(out.mounts(0).readonly());
  EXPECT_FALSE(out.mounts(0).has_image());
  EXPECT_TRUE(out.mounts(1).recursive_read_only());
  EXPECT_EQ(out.mounts(1).propagation(), ::runtime::v1::PROPAGATION_PRIVATE);
  EXPECT_EQ(out.mounts(2).image().image(), "sha256:abcd");
  EXPECT_EQ(out.mounts(2).image_sub_path(), "weights");
  EXPECT_EQ(out.mounts(3).propagation(), ::runtime::v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_EQ(out.resources().linux().memory_limit_in_bytes(), 1 << 20);
  EXPECT_EQ(out.user().linux().uid(), 1000);
  EXPECT_EQ(out.user().linux().gid(), 1000);
  EXPECT_EQ(out.user().linux().supplemental_groups_size(), 2);
}

TEST(ContainerConvertTest, StatusOfAnUnknownContainerHasNoUser) {
  pod::Container container = SampleContainer();
  container.state = pod::ContainerState::kUnknown;
  ::runtime::v1::ContainerStatus out;
  FillContainerStatus(container, &out);
  EXPECT_EQ(out.state(), ::runtime::v1::CONTAINER_UNKNOWN);
  EXPECT_FALSE(out.has_user());
}

}  // namespace
}  // namespace berth::cri
