// The CNI protocol's pure parts: CNI_ARGS, environment, stdin injection, results and errors.
#include "cni/plugin/protocol.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

const std::string kPodId(64, 'a');

PodNetworkRequest Request() {
  PodNetworkRequest request;
  request.pod_id = kPodId;
  request.pod_name = "web-0";
  request.pod_namespace = "default";
  request.pod_uid = "0b4a1c6e-7f1d-4f7a-9c4e-5d2d9c3c1a11";
  request.netns_path = "/run/berth/pods/x/net";
  return request;
}

NetworkList TwoPluginNetwork() {
  auto list = ParseNetworkList(R"({"cniVersion": "1.0.0", "name": "mynet", "plugins": [
      {"type": "bridge", "cniVersion": "0.1.0", "name": "ignored", "runtimeConfig": {"x": 1},
       "prevResult": {"stale": true}},
      {"type": "portmap", "capabilities": {"portMappings": true, "ipRanges": true}}]})",
                               "t.conflist");
  EXPECT_TRUE(list.ok());
  return *list;
}

TEST(ProtocolTest, CniArgsCarryThePodInKubeletsOrder) {
  auto args = BuildCniArgs(Request());
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(*args,
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
            "K8S_POD_INFRA_CONTAINER_ID=" +
                kPodId + ";K8S_POD_UID=0b4a1c6e-7f1d-4f7a-9c4e-5d2d9c3c1a11");
  auto bad = Request();
  bad.pod_name = "a;b=c";
  auto refused = BuildCniArgs(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ProtocolTest, ContainerIdsFollowTheSpecAlphabet) {
  EXPECT_TRUE(IsValidContainerId(kPodId));
  EXPECT_TRUE(IsValidContainerId("a.b_c-d"));
  EXPECT_FALSE(IsValidContainerId(""));
  EXPECT_FALSE(IsValidContainerId("-a"));
  EXPECT_FALSE(IsValidContainerId("../../etc"));
  EXPECT_FALSE(IsValidContainerId("a/b"));
}

TEST(ProtocolTest, EnvironmentReplacesInheritedCniVariables) {
  std::string path = "PATH=/usr/sbin:/usr/bin", stale = "CNI_COMMAND=VERSION", home = "HOME=/root";
  char* inherited[] = {path.data(), stale.data(), home.data(), nullptr};
  Invocation invocation{
      "ADD", kPodId, "/ns/net", "eth0", "IgnoreUnknown=1", {"/opt/cni/bin", "/usr/lib/cni"}};
  auto env = BuildPluginEnv(invocation, inherited);
  auto has = [&](const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
  };
  EXPECT_TRUE(has(path));
  EXPECT_TRUE(has(home));
  EXPECT_FALSE(has(stale));
  EXPECT_TRUE(has("CNI_COMMAND=ADD"));
  EXPECT_TRUE(has("CNI_CONTAINERID=" + kPodId));
  EXPECT_TRUE(has("CNI_NETNS=/ns/net"));
  EXPECT_TRUE(has("CNI_IFNAME=eth0"));
  EXPECT_TRUE(has("CNI_PATH=/opt/cni/bin:/usr/lib/cni"));
  EXPECT_TRUE(has("CNI_ARGS=IgnoreUnknown=1"));

  invocation.command = "DEL";
  invocation.netns.clear();  // the namespace is gone: no CNI_NETNS at all
  env = BuildPluginEnv(invocation, nullptr);
  EXPECT_FALSE(std::any_of(env.begin(), env.end(),
                           [](const std::string& e) { return e.starts_with("CNI_NETNS"); }));
  invocation.command = "STATUS";
  env = BuildPluginEnv(invocation, nullptr);
  EXPECT_EQ(env,
            (std::vector<std::string>{"CNI_COMMAND=STATUS", "CNI_PATH=/opt/cni/bin:/usr/lib/cni"}));
}

TEST(ProtocolTest, RuntimeConfigOnlyForDeclaredCapabilities) {
  NetworkList network = TwoPluginNetwork();
  std::vector<PortMapping> ports = {{"tcp", 80, 8080, ""}, {"udp", 53, 5353, "127.0.0.1"}};
  json args = BuildCapabilityArgs(ports, "10.244.1.0/24");
  EXPECT_EQ(args["portMappings"],
            json::parse(R"([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
                {"hostPort": 5353, "containerPort": 53, "protocol": "udp", "hostIP": "127.0.0.1"}])"));
  EXPECT_EQ(args["ipRanges"], json::parse(R"([[{"subnet": "10.244.1.0/24"}]])"));

  json prev = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
  json bridge = json::parse(BuildPluginInput(network, network.plugins[0], args, nullptr));
  EXPECT_EQ(bridge["name"], "mynet");
  EXPECT_EQ(bridge["cniVersion"], "1.0.0");
  EXPECT_FALSE(bridge.contains("runtimeConfig"));  // declared nothing; the file's copy is dropped
  EXPECT_FALSE(bridge.contains("prevResult"));
  json portmap = json::parse(BuildPluginInput(network, network.plugins[1], args, &prev));
  EXPECT_EQ(portmap["runtimeConfig"]["portMappings"], args["portMappings"]);
  EXPECT_EQ(portmap["runtimeConfig"]["ipRanges"], args["ipRanges"]);
  EXPECT_EQ(portmap["prevResult"], prev);
  EXPECT_EQ(portmap["capabilities"]["portMappings"], true);

  // Without values berth has nothing to give, so no runtimeConfig at all.
  json none = json::parse(
      BuildPluginInput(network, network.plugins[1], BuildCapabilityArgs({}, ""), nullptr));
  EXPECT_FALSE(none.contains("runtimeConfig"));
}

TEST(ProtocolTest, ParsesCniErrorObjects) {
  auto error = ParsePluginError(
      R"({"cniVersion": "1.0.0", "code": 11, "msg": "busy", "details": "retry in 1s"})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, 11);
  EXPECT_EQ(error->msg, "busy");
  EXPECT_EQ(error->details, "retry in 1s");
  EXPECT_EQ(ErrorCodeForPlugin(11), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeForPlugin(50), ErrorCode::kUnavailable);
  EXPECT_EQ(ErrorCodeForPlugin(7), ErrorCode::kInternal);
  EXPECT_FALSE(ParsePluginError("panic: runtime error").has_value());
  EXPECT_FALSE(ParsePluginError(R"({"msg": "no code"})").has_value());
  EXPECT_FALSE(ParsePluginError(R"({"code": "7"})").has_value());
  auto huge = ParsePluginError(R"({"code": 1, "msg": ")" + std::string(100000, 'x') + "\"}");
  ASSERT_TRUE(huge.has_value());
  EXPECT_LE(huge->msg.size(), 4096u);
}

TEST(ProtocolTest, PodIpsFromA100Result) {
  // bridge's shape: bridge, host veth, then the pod's eth0; IPs point at eth0 by index.
  json result = json::parse(R"({"cniVersion": "1.0.0",
    "interfaces": [{"name": "cni0", "mac": "aa:aa:aa:aa:aa:aa"},
                   {"name": "veth1", "mac": "bb:bb:bb:bb:bb:bb"},
                   {"name": "eth0", "mac": "cc:cc:cc:cc:cc:cc", "sandbox": "/ns/net"},
                   {"name": "lo", "sandbox": "/ns/net"}],
    "ips": [{"address": "fd00:235::5/64", "interface": 2},
            {"address": "10.235.0.5/24", "gateway": "10.235.0.1", "interface": 2},
            {"address": "127.0.0.1/8", "interface": 3},
            {"address": "10.235.0.1/24", "interface": 0}]})");
  auto ips = PodIpsFromResult(result, "eth0");
  ASSERT_TRUE(ips.ok()) << ips.error().message();
  EXPECT_EQ(*ips, (std::vector<std::string>{"10.235.0.5", "fd00:235::5"}));
}

TEST(ProtocolTest, PodIpsFromA040ResultAndFromIpamStyleResults) {
  json v040 = json::parse(R"({"cniVersion": "0.4.0",
    "interfaces": [{"name": "eth0", "sandbox": "/ns/net"}],
    "ips": [{"version": "6", "address": "fd00::7/64", "interface": 0},
            {"version": "4", "address": "10.1.0.7/16", "interface": 0}]})");
  auto ips = PodIpsFromResult(v040, "eth0");
  ASSERT_TRUE(ips.ok()) << ips.error().message();
  EXPECT_EQ(*ips, (std::vector<std::string>{"10.1.0.7", "fd00::7"}));

  json ipam = json::parse(R"({"cniVersion": "1.0.0", "ips": [{"address": "10.2.0.9/24"}]})");
  ips = PodIpsFromResult(ipam, "eth0");
  ASSERT_TRUE(ips.ok());
  EXPECT_EQ(*ips, std::vector<std::string>{"10.2.0.9"});

  ips = PodIpsFromResult(json::parse(R"({"cniVersion": "1.0.0"})"), "eth0");
  ASSERT_TRUE(ips.ok());
  EXPECT_TRUE(ips->empty());
}

TEST(ProtocolTest, HostileResultsAreRefused) {
  const char* bad[] = {
      R"({"ips": "10.0.0.1"})",
      R"({"ips": [{"address": "not-an-ip/24"}]})",
      R"({"ips": [{"address": 17}]})",
      R"({"ips": [{"version": "6", "address": "10.0.0.1/24"}]})",
      R"({"ips": [{"address": "10.0.0.1/24", "interface": -1}]})",
      R"({"ips": [{"address": "10.0.0.1/24", "interface": "0"}]})",
  };
  for (const char* text : bad) {
    EXPECT_FALSE(PodIpsFromResult(json::parse(text), "eth0").ok()) << text;
  }
  json many = {{"ips", json::array()}};
  for (int i = 0; i < 100; ++i) many["ips"].push_back({{"address", "10.0.0.1/24"}});
  EXPECT_FALSE(PodIpsFromResult(many, "eth0").ok());
  EXPECT_FALSE(ParseAddResult("").ok());
  EXPECT_FALSE(ParseAddResult("[1]").ok());
  EXPECT_TRUE(ParseAddResult(R"({"cniVersion": "1.0.0"})").ok());
}

}  // namespace
}  // namespace berth::cni
