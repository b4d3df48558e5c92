#include "cri/sandbox_convert.h"

#include "gtest/gtest.h"

namespace berth::cri {
namespace {

::runtime::v1::PodSandboxConfig MinimalConfig() {
  ::runtime::v1::PodSandboxConfig config;
  auto* metadata = config.mutable_metadata();
  metadata->set_name("web");
  metadata->set_namespace_("default");
  metadata->set_uid("uid-1");
  metadata->set_attempt(3);
  return config;
}

Result<pod::SandboxConfig> Convert(const ::runtime::v1::PodSandboxConfig& config) {
  return ToSandboxConfig(config, "");
}

TEST(SandboxConvertTest, LinuxUnsetAndEmptyDnsConfig) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  in.mutable_dns_config();  // present and empty
  in.set_hostname("web-0");
  in.set_log_directory("/var/log/pods/default_web_uid-1");
  auto config = ToSandboxConfig(in, "runc");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->name, "web");
  EXPECT_EQ(config->namespace_name, "default");
  EXPECT_EQ(config->uid, "uid-1");
  EXPECT_EQ(config->attempt, 3u);  // attempts other than 0 are normal
  EXPECT_EQ(config->hostname, "web-0");
  EXPECT_EQ(config->log_directory, "/var/log/pods/default_web_uid-1");
  EXPECT_EQ(config->runtime_handler, "runc");
  EXPECT_TRUE(config->dns.servers.empty());
  EXPECT_TRUE(config->dns.searches.empty());
  EXPECT_TRUE(config->dns.options.empty());
  // No linux section: pod network and IPC, each container its own PID namespace.
  EXPECT_EQ(config->network_mode, pod::NamespaceMode::kPod);
  EXPECT_EQ(config->ipc_mode, pod::NamespaceMode::kPod);
  EXPECT_EQ(config->pid_mode, pod::NamespaceMode::kContainer);
  EXPECT_TRUE(config->cgroup_parent.empty());
  EXPECT_TRUE(config->uid_mappings.empty());
  EXPECT_FALSE(config->privileged);
}

TEST(SandboxConvertTest, DnsLabelsAnnotations) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  in.mutable_dns_config()->add_servers("10.96.0.10");
  in.mutable_dns_config()->add_searches("svc.cluster.local");
  in.mutable_dns_config()->add_options("ndots:5");
  (*in.mutable_labels())["app"] = "web";
  (*in.mutable_annotations())["note"] = "x";
  auto config = Convert(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->dns.servers, std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(config->dns.searches, std::vector<std::string>{"svc.cluster.local"});
  EXPECT_EQ(config->dns.options, std::vector<std::string>{"ndots:5"});
  EXPECT_EQ(config->labels.at("app"), "web");
  EXPECT_EQ(config->annotations.at("note"), "x");
}

::runtime::v1::PortMapping* AddPort(::runtime::v1::PodSandboxConfig& config, int container_port,
                                    int host_port, ::runtime::v1::Protocol protocol) {
  auto* mapping = config.add_port_mappings();
  mapping->set_container_port(container_port);
  mapping->set_host_port(host_port);
  mapping->set_protocol(protocol);
  return mapping;
}

TEST(SandboxConvertTest, PortMappings) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  AddPort(in, 80, 8080, ::runtime::v1::TCP)->set_host_ip("127.0.0.1");
  AddPort(in, 53, 5353, ::runtime::v1::UDP);
  AddPort(in, 9090, 0, ::runtime::v1::TCP);  // documents the container port only: skipped
  auto config = Convert(in);
  ASSERT_TRUE(config.ok()) << config.error().message();
  ASSERT_EQ(config->port_mappings.size(), 2u);
  EXPECT_EQ(config->port_mappings[0].protocol, "tcp");
  EXPECT_EQ(config->port_mappings[0].container_port, 80);
  EXPECT_EQ(config->port_mappings[0].host_port, 8080);
  EXPECT_EQ(config->port_mappings[0].host_ip, "127.0.0.1");
  EXPECT_EQ(config->port_mappings[1].protocol, "udp");
}

TEST(SandboxConvertTest, BadPortMappingsAreInvalid) {
  ::runtime::v1::PodSandboxConfig sctp = MinimalConfig();
  AddPort(sctp, 80, 8080, ::runtime::v1::SCTP);
  auto converted = Convert(sctp);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(converted.error().message(), "port mapping 8080/SCTP: SCTP is not supported");

  for (auto [container_port, host_port] :
       {std::pair{0, 80}, std::pair{65536, 80}, std::pair{80, -1}, std::pair{80, 65536}}) {
    ::runtime::v1::PodSandboxConfig in = MinimalConfig();
    AddPort(in, container_port, host_port, ::runtime::v1::TCP);
    auto bad = Convert(in);
    ASSERT_FALSE(bad.ok()) << container_port << " -> " << host_port;
    EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  }
}

::runtime::v1::NamespaceOption* Namespaces(::runtime::v1::PodSandboxConfig& config) {
  return config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
}

TEST(SandboxConvertTest, NamespaceModes) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  in.mutable_linux();  // present, all modes their zero value POD
  auto pod_modes = Convert(in);
  ASSERT_TRUE(pod_modes.ok()) << pod_modes.error().message();
  EXPECT_EQ(pod_modes->network_mode, pod::NamespaceMode::kPod);
  EXPECT_EQ(pod_modes->pid_mode, pod::NamespaceMode::kPod);
  EXPECT_EQ(pod_modes->ipc_mode, pod::NamespaceMode::kPod);

  Namespaces(in)->set_network(::runtime::v1::NODE);
  Namespaces(in)->set_pid(::runtime::v1::CONTAINER);
  Namespaces(in)->set_ipc(::runtime::v1::NODE);
  auto host = Convert(in);
  ASSERT_TRUE(host.ok()) << host.error().message();
  EXPECT_EQ(host->network_mode, pod::NamespaceMode::kNode);
  EXPECT_EQ(host->pid_mode, pod::NamespaceMode::kContainer);
  EXPECT_EQ(host->ipc_mode, pod::NamespaceMode::kNode);

  // CONTAINER means nothing for network and IPC, which the pod always shares.
  Namespaces(in)->set_network(::runtime::v1::CONTAINER);
  Namespaces(in)->set_ipc(::runtime::v1::CONTAINER);
  auto shared = Convert(in);
  ASSERT_TRUE(shared.ok()) << shared.error().message();
  EXPECT_EQ(shared->network_mode, pod::NamespaceMode::kPod);
  EXPECT_EQ(shared->ipc_mode, pod::NamespaceMode::kPod);
}

TEST(SandboxConvertTest, TargetAndUnknownNamespaceModesAreInvalid) {
  ::runtime::v1::PodSandboxConfig target = MinimalConfig();
  Namespaces(target)->set_pid(::runtime::v1::TARGET);
  auto converted = Convert(target);
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(converted.error().message(),
            "namespace mode TARGET is not supported for the pod's PID namespace");

  ::runtime::v1::PodSandboxConfig unknown = MinimalConfig();
  Namespaces(unknown)->set_network(static_cast<::runtime::v1::NamespaceMode>(99));
  auto bad = Convert(unknown);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("the pod's network namespace"), std::string::npos);
}

::runtime::v1::IDMapping* AddMapping(
    google::protobuf::RepeatedPtrField<::runtime::v1::IDMapping>* to, uint32_t container_id,
    uint32_t host_id, uint32_t length) {
  auto* mapping = to->Add();
  mapping->set_container_id(container_id);
  mapping->set_host_id(host_id);
  mapping->set_length(length);
  return mapping;
}

TEST(SandboxConvertTest, UserNamespaceMappings) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  auto* userns = Namespaces(in)->mutable_userns_options();
  userns->set_mode(::runtime::v1::NODE);
  auto node = Convert(in);
  ASSERT_TRUE(node.ok()) << node.error().message();
  EXPECT_TRUE(node->uid_mappings.empty());

  // POD without mappings: the CRI's backward-compatible default, the host's namespace.
  userns->set_mode(::runtime::v1::POD);
  auto compatible = Convert(in);
  ASSERT_TRUE(compatible.ok()) << compatible.error().message();
  EXPECT_TRUE(compatible->uid_mappings.empty());

  AddMapping(userns->mutable_uids(), 0, 100000, 65536);
  AddMapping(userns->mutable_gids(), 0, 100000, 65536);
  auto mapped = Convert(in);
  ASSERT_TRUE(mapped.ok()) << mapped.error().message();
  ASSERT_EQ(mapped->uid_mappings.size(), 1u);
  EXPECT_EQ(mapped->uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(mapped->uid_mappings[0].length, 65536u);
  ASSERT_EQ(mapped->gid_mappings.size(), 1u);
}

TEST(SandboxConvertTest, BadUserNamespaceMappingsAreInvalid) {
  auto expect_invalid = [](auto&& edit, const std::string& message) {
    ::runtime::v1::PodSandboxConfig in = MinimalConfig();
    auto* userns = Namespaces(in)->mutable_userns_options();
    userns->set_mode(::runtime::v1::POD);
    edit(*userns);
    auto converted = Convert(in);
    ASSERT_FALSE(converted.ok()) << message;
    EXPECT_EQ(converted.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(converted.error().message(), message);
  };
  expect_invalid([](auto& u) { u.set_mode(::runtime::v1::TARGET); },
                 "userns_options: only the modes POD and NODE are supported");
  expect_invalid([](auto& u) { AddMapping(u.mutable_uids(), 0, 100000, 65536); },
                 "userns_options: give both uid and gid mappings, or neither");
  expect_invalid(
      [](auto& u) {
        AddMapping(u.mutable_uids(), 0, 0, 65536);
        AddMapping(u.mutable_gids(), 0, 100000, 65536);
      },
      "userns_options: uid 0 of the host may not be mapped");
  expect_invalid(
      [](auto& u) {
        AddMapping(u.mutable_uids(), 1, 100000, 65536);
        AddMapping(u.mutable_gids(), 0, 100000, 65536);
      },
      "userns_options: uid 0 is not mapped");
  expect_invalid(
      [](auto& u) {
        AddMapping(u.mutable_uids(), 0, 100000, 65536);
        AddMapping(u.mutable_gids(), 0, 100000, 0);
      },
      "userns_options: bad gid mapping 0 -> 100000 length 0");
  expect_invalid(
      [](auto& u) {
        AddMapping(u.mutable_uids(), 0, 4294967295u, 2);
        AddMapping(u.mutable_gids(), 0, 100000, 1);
      },
      "userns_options: bad uid mapping 0 -> 4294967295 length 2");
}

TEST(SandboxConvertTest, LinuxFieldsAndPodResources) {
  ::runtime::v1::PodSandboxConfig in = MinimalConfig();
  auto* linux = in.mutable_linux();
  linux->set_cgroup_parent("/test.slice");
  (*linux->mutable_sysctls())["net.ipv4.ip_forward"] = "1";
  linux->mutable_security_context()->set_privileged(true);
  linux->mutable_overhead()->set_cpu_shares(64);
  linux->mutable_overhead()->set_memory_limit_in_bytes(10);
  // Overhead alone gives the pod cgroup its limits.
  auto overhead = Convert(in);
  ASSERT_TRUE(overhead.ok()) << overhead.error().message();
  EXPECT_EQ(overhead->cgroup_parent, "/test.slice");
  EXPECT_EQ(overhead->sysctls.at("net.ipv4.ip_forward"), "1");
  EXPECT_TRUE(overhead->privileged);
  EXPECT_EQ(overhead->cpu_shares, 64);
  EXPECT_EQ(overhead->memory_limit_bytes, 10);

  // With resources, those count, and a memory limit grows by the overhead's.
  linux->mutable_resources()->set_cpu_shares(1024);
  linux->mutable_resources()->set_cpu_quota(20000);
  linux->mutable_resources()->set_cpu_period(100000);
  linux->mutable_resources()->set_memory_limit_in_bytes(1000);
  auto resources = Convert(in);
  ASSERT_TRUE(resources.ok()) << resources.error().message();
  EXPECT_EQ(resources->cpu_shares, 1024);
  EXPECT_EQ(resources->cpu_quota, 20000);
  EXPECT_EQ(resources->cpu_period, 100000);
  EXPECT_EQ(resources->memory_limit_bytes, 1010);

  // No memory limit stays no limit.
  linux->mutable_resources()->set_memory_limit_in_bytes(0);
  auto unlimited = Convert(in);
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ(unlimited->memory_limit_bytes, 0);
}

TEST(SandboxConvertTest, Filter) {
  ::runtime::v1::PodSandboxFilter in;
  in.set_id("3f2a");
  (*in.mutable_label_selector())["app"] = "web";
  pod::SandboxFilter filter = ToSandboxFilter(in);
  EXPECT_EQ(filter.id, "3f2a");
  EXPECT_FALSE(filter.state.has_value());
  EXPECT_EQ(filter.label_selector.at("app"), "web");
  in.mutable_state()->set_state(::runtime::v1::SANDBOX_READY);
  EXPECT_EQ(ToSandboxFilter(in).state, pod::SandboxState::kReady);
  in.mutable_state()->set_state(::runtime::v1::SANDBOX_NOTREADY);
  EXPECT_EQ(ToSandboxFilter(in).state, pod::SandboxState::kNotReady);
  in.mutable_state()->set_state(static_cast<::runtime::v1::PodSandboxState>(7));
  EXPECT_EQ(ToSandboxFilter(in).state, pod::SandboxState::kNotReady);
}

pod::Sandbox SampleSandbox() {
  pod::Sandbox sandbox;
  sandbox.id = "3f2a";
  sandbox.config.name = "web";
  sandbox.config.namespace_name = "default";
  sandbox.config.uid = "uid-1";
  sandbox.config.attempt = 1;
  sandbox.config.labels = {{"app", "web"}};
  sandbox.config.annotations = {{"note", "x"}};
  sandbox.config.runtime_handler = "runc";
  sandbox.config.network_mode = pod::NamespaceMode::kNode;
  sandbox.config.pid_mode = pod::NamespaceMode::kPod;
  sandbox.config.ipc_mode = pod::NamespaceMode::kPod;
  sandbox.state = pod::SandboxState::kReady;
  sandbox.created_at_nanos = 42;
  sandbox.ips = {"10.88.0.5", "fd00::5"};
  return sandbox;
}

TEST(SandboxConvertTest, SummaryAndStatus) {
  ::runtime::v1::PodSandbox summary;
  FillSandbox(SampleSandbox(), &summary);
  EXPECT_EQ(summary.id(), "3f2a");
  EXPECT_EQ(summary.metadata().name(), "web");
  EXPECT_EQ(summary.metadata().namespace_(), "default");
  EXPECT_EQ(summary.metadata().uid(), "uid-1");
  EXPECT_EQ(summary.metadata().attempt(), 1u);
  EXPECT_EQ(summary.state(), ::runtime::v1::SANDBOX_READY);
  EXPECT_EQ(summary.created_at(), 42);
  EXPECT_EQ(summary.labels().at("app"), "web");
  EXPECT_EQ(summary.annotations().at("note"), "x");
  EXPECT_EQ(summary.runtime_handler(), "runc");

  ::runtime::v1::PodSandboxStatus status;
  FillSandboxStatus(SampleSandbox(), &status);
  EXPECT_EQ(status.id(), "3f2a");
  EXPECT_EQ(status.metadata().uid(), "uid-1");
  EXPECT_EQ(status.created_at(), 42);
  EXPECT_EQ(status.runtime_handler(), "runc");
  EXPECT_EQ(status.network().ip(), "10.88.0.5");
  ASSERT_EQ(status.network().additional_ips_size(), 1);
  EXPECT_EQ(status.network().additional_ips(0).ip(), "fd00::5");
  const auto& options = status.linux().namespaces().options();
  EXPECT_EQ(options.network(), ::runtime::v1::NODE);
  EXPECT_EQ(options.pid(), ::runtime::v1::POD);
  EXPECT_EQ(options.ipc(), ::runtime::v1::POD);
}

TEST(SandboxConvertTest, AStoppedSandboxHasGivenItsAddressesBack) {
  pod::Sandbox sandbox = SampleSandbox();
  sandbox.state = pod::SandboxState::kNotReady;
  ::runtime::v1::PodSandboxStatus status;
  FillSandboxStatus(sandbox, &status);
  EXPECT_EQ(status.state(), ::runtime::v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(status.has_network());
}

}  // namespace
}  // namespace berth::cri
