// CniNetwork against recording fake plugins (shell scripts): what each plugin is given and in
// which order, the result cache across a restart, rollback of a failed ADD, readiness following
// the config directory, STATUS and CHECK. Needs no root.
#include <filesystem>

#include "cni/plugin/cni_network.h"
#include "gtest/gtest.h"
#include "test/integration/cni/cni_test_util.h"

namespace berth::testing {
namespace {

using cni::CniNetwork;
using json = nlohmann::json;

const std::string kPodId(64, 'c');

json Result100(const std::string& address) {
  return {{"cniVersion", "1.0.0"},
          {"interfaces", {{{"name", "eth0"}, {"sandbox", "/ns"}}}},
          {"ips", {{{"address", address}, {"interface", 0}}}}};
}

json TwoPluginList(const std::string& name, const std::string& version = "1.0.0") {
  return {{"cniVersion", version},
          {"name", name},
          {"plugins",
           {{{"type", "fake-a"}, {"color", "blue"}},
            {{"type", "fake-b"}, {"capabilities", {{"portMappings", true}}}}}}};
}

cni::PodNetworkRequest Request(const FakeCniSetup& setup) {
  cni::PodNetworkRequest request;
  request.pod_id = kPodId;
  request.pod_name = "web";
  request.pod_namespace = "prod";
  request.pod_uid = "uid-1";
  request.netns_path = setup.netns();
  request.port_mappings = {{"tcp", 80, 8080, ""}};
  return request;
}

class CniFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setup_.InstallPlugin("fake-a", Result100("10.9.0.2/24"));
    setup_.InstallPlugin("fake-b", Result100("10.9.0.3/24"));
  }
  std::string CacheFile(const std::string& network) const {
    return setup_.cache_dir() + "/" + network + "-" + kPodId;
  }
  FakeCniSetup setup_;
};

TEST_F(CniFakeTest, AddChainsResultsAndGivesRuntimeConfigOnlyWhereDeclared) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet"));
  auto made = cni::MakeCniNetwork(setup_.Config(), setup_.cache_dir());
  ASSERT_TRUE(made.ok()) << made.error().message();
  auto& network = **made;
  ASSERT_TRUE(network.Ready().ok());
  auto status = network.Setup(Request(setup_));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->ips, std::vector<std::string>{"10.9.0.3"});  // the last plugin's result
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"ADD fake-a", "ADD fake-b"}));

  json a = setup_.Stdin("ADD", "fake-a");
  EXPECT_EQ(a["name"], "fakenet");
  EXPECT_EQ(a["cniVersion"], "1.0.0");
  EXPECT_EQ(a["color"], "blue");
  EXPECT_FALSE(a.contains("prevResult"));
  EXPECT_FALSE(a.contains("runtimeConfig"));
  json b = setup_.Stdin("ADD", "fake-b");
  EXPECT_EQ(b["prevResult"], Result100("10.9.0.2/24"));
  EXPECT_EQ(b["runtimeConfig"]["portMappings"],
            json::parse(R"([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}])"));

  std::string env = setup_.Env("ADD", "fake-a");
  EXPECT_NE(env.find("CNI_COMMAND=ADD\n"), std::string::npos);
  EXPECT_NE(env.find("CNI_CONTAINERID=" + kPodId + "\n"), std::string::npos);
  EXPECT_NE(env.find("CNI_NETNS=" + setup_.netns() + "\n"), std::string::npos);
  EXPECT_NE(env.find("CNI_IFNAME=eth0\n"), std::string::npos);
  EXPECT_NE(env.find("CNI_PATH=" + setup_.bin_dir() + "\n"), std::string::npos);
  EXPECT_NE(env.find("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web;"
                     "K8S_POD_INFRA_CONTAINER_ID=" +
                     kPodId + ";K8S_POD_UID=uid-1\n"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(CacheFile("fakenet")));
}

TEST_F(CniFakeTest, DelRunsInReverseWithTheCachedResultAndIsIdempotent) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet"));
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  ASSERT_TRUE(network.Setup(Request(setup_)).ok());
  setup_.TakeCalls();

  ASSERT_TRUE(network.Teardown(Request(setup_)).ok());
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"DEL fake-b", "DEL fake-a"}));
  // Every plugin gets the final ADD result; the fake netns file is no live namespace, so DEL
  // goes without CNI_NETNS.
  EXPECT_EQ(setup_.Stdin("DEL", "fake-a")["prevResult"], Result100("10.9.0.3/24"));
  EXPECT_EQ(setup_.Stdin("DEL", "fake-b")["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(setup_.Env("DEL", "fake-a").find("CNI_NETNS="), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(CacheFile("fakenet")));

  // Again: no cache any more, so DEL runs once more without prevResult, and succeeds.
  ASSERT_TRUE(network.Teardown(Request(setup_)).ok());
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"DEL fake-b", "DEL fake-a"}));
  EXPECT_FALSE(setup_.Stdin("DEL", "fake-a").contains("prevResult"));
}

TEST_F(CniFakeTest, AFreshInstanceDeletesWithTheCachedConfigAfterARestart) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet"));
  {
    CniNetwork before(setup_.Config(), setup_.cache_dir());
    ASSERT_TRUE(before.Setup(Request(setup_)).ok());
  }
  setup_.TakeCalls();
  // The config changed while berthd was down; the pod still gets the DEL of what added it.
  setup_.InstallPlugin("fake-c", Result100("10.9.0.9/24"));
  std::filesystem::remove(setup_.conf_dir() + "/10-fake.conflist");
  setup_.WriteConf("10-other.conf",
                   {{"cniVersion", "1.0.0"}, {"name", "other"}, {"type", "fake-c"}});
  CniNetwork after(setup_.Config(), setup_.cache_dir());
  auto request = Request(setup_);
  request.port_mappings.clear();  // what a restarted caller may no longer know
  ASSERT_TRUE(after.Teardown(request).ok());
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"DEL fake-b", "DEL fake-a"}));
  EXPECT_EQ(setup_.Stdin("DEL", "fake-b")["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(setup_.Stdin("DEL", "fake-b")["name"], "fakenet");
  EXPECT_FALSE(std::filesystem::exists(CacheFile("fakenet")));
}

TEST_F(CniFakeTest, AFailedAddCarriesThePluginsMessageAndIsRolledBack) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet"));
  setup_.FailPlugin(
      "fake-b", "ADD",
      R"({"cniVersion": "1.0.0", "code": 7, "msg": "bad vlan", "details": "vlan 5000"})");
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  auto status = network.Setup(Request(setup_));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kInternal);
  EXPECT_NE(status.error().message().find(
                "CNI plugin \"fake-b\" of network \"fakenet\": ADD: bad vlan: vlan 5000 (CNI error "
                "code 7)"),
            std::string::npos)
      << status.error().message();
  EXPECT_EQ(setup_.TakeCalls(),
            (std::vector<std::string>{"ADD fake-a", "ADD fake-b", "DEL fake-b", "DEL fake-a"}));
  EXPECT_EQ(setup_.Stdin("DEL", "fake-a")["prevResult"], Result100("10.9.0.2/24"));
  EXPECT_FALSE(std::filesystem::exists(CacheFile("fakenet")));

  // "Try again later" is Unavailable; a plugin without an error object shows its stderr.
  setup_.FailPlugin("fake-b", "ADD", R"({"code": 11, "msg": "ipam busy"})");
  status = network.Setup(Request(setup_));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  setup_.FailPlugin("fake-b", "ADD", "panic: oops");
  status = network.Setup(Request(setup_));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("exited with status 1: fake plugin fake-b failed"),
            std::string::npos)
      << status.error().message();
}

TEST_F(CniFakeTest, ReadyFollowsTheConfigDirectory) {
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  auto ready = network.Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message(), "no CNI network config found in " + setup_.conf_dir());
  EXPECT_EQ(network.Describe(), "CNI (no network config in " + setup_.conf_dir() + ")");
  auto setup_without_config = network.Setup(Request(setup_));
  ASSERT_FALSE(setup_without_config.ok());
  EXPECT_NE(setup_without_config.error().message().find("no CNI network config found"),
            std::string::npos);

  setup_.WriteConf("10-net.conflist",
                   {{"cniVersion", "1.0.0"}, {"name", "n"}, {"plugins", {{{"type", "absent"}}}}});
  ready = network.Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().message().find("plugin \"absent\" not found in " + setup_.bin_dir()),
            std::string::npos)
      << ready.error().message();

  setup_.WriteConf("10-net.conflist", TwoPluginList("appeared"));
  ready = network.Ready();
  ASSERT_TRUE(ready.ok()) << ready.error().message();
  EXPECT_EQ(network.Describe(),
            "CNI network \"appeared\" (" + setup_.conf_dir() + "/10-net.conflist)");
  EXPECT_TRUE(setup_.TakeCalls().empty());  // 1.0.0 networks have no STATUS to run
}

TEST_F(CniFakeTest, Version110NetworksAreReadyOnlyWhenEveryPluginsStatusSucceeds) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet", "1.1.0"));
  setup_.FailPlugin("fake-b", "STATUS", R"({"code": 50, "msg": "no upstream routes yet"})");
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  auto ready = network.Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(ready.error().message().find("no upstream routes yet"), std::string::npos);
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"STATUS fake-a", "STATUS fake-b"}));
  EXPECT_EQ(setup_.Env("STATUS", "fake-a").find("CNI_CONTAINERID"), std::string::npos);
  EXPECT_EQ(setup_.Stdin("STATUS", "fake-a")["cniVersion"], "1.1.0");

  setup_.HealPlugin("fake-b", "STATUS");
  EXPECT_TRUE(network.Ready().ok());
}

TEST_F(CniFakeTest, CheckUsesTheCachedResultUnlessDisabledOrTooOld) {
  json list = TwoPluginList("fakenet");
  setup_.WriteConf("10-fake.conflist", list);
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  auto unchecked = network.Check(Request(setup_));  // nothing added yet
  ASSERT_FALSE(unchecked.ok());
  EXPECT_EQ(unchecked.error().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(network.Setup(Request(setup_)).ok());
  setup_.TakeCalls();
  ASSERT_TRUE(network.Check(Request(setup_)).ok());
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"CHECK fake-a", "CHECK fake-b"}));
  EXPECT_EQ(setup_.Stdin("CHECK", "fake-a")["prevResult"], Result100("10.9.0.3/24"));
  setup_.FailPlugin("fake-a", "CHECK", R"({"code": 999, "msg": "eth0 has lost its address"})");
  auto checked = network.Check(Request(setup_));
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("eth0 has lost its address"), std::string::npos);
  ASSERT_TRUE(network.Teardown(Request(setup_)).ok());
  setup_.TakeCalls();

  // 0.3.1 has no CHECK and no prevResult on DEL.
  std::filesystem::remove(setup_.conf_dir() + "/10-fake.conflist");
  setup_.WriteConf("20-old.conflist", TwoPluginList("oldnet", "0.3.1"));
  ASSERT_TRUE(network.Setup(Request(setup_)).ok());
  ASSERT_TRUE(network.Check(Request(setup_)).ok());
  ASSERT_TRUE(network.Teardown(Request(setup_)).ok());
  EXPECT_EQ(setup_.TakeCalls(),
            (std::vector<std::string>{"ADD fake-a", "ADD fake-b", "DEL fake-b", "DEL fake-a"}));
  EXPECT_FALSE(setup_.Stdin("DEL", "fake-a").contains("prevResult"));
}

TEST_F(CniFakeTest, ADelFailureKeepsTheCacheForTheRetry) {
  setup_.WriteConf("10-fake.conflist", TwoPluginList("fakenet"));
  CniNetwork network(setup_.Config(), setup_.cache_dir());
  ASSERT_TRUE(network.Setup(Request(setup_)).ok());
  setup_.TakeCalls();
  setup_.FailPlugin("fake-b", "DEL", R"({"code": 11, "msg": "locked"})");
  auto torn = network.Teardown(Request(setup_));
  ASSERT_FALSE(torn.ok());
  EXPECT_NE(torn.error().message().find("locked"), std::string::npos);
  // fake-a still ran: one broken plugin does not keep the others' resources.
  EXPECT_EQ(setup_.TakeCalls(), (std::vector<std::string>{"DEL fake-b", "DEL fake-a"}));
  EXPECT_TRUE(std::filesystem::exists(CacheFile("fakenet")));
  setup_.HealPlugin("fake-b", "DEL");
  ASSERT_TRUE(network.Teardown(Request(setup_)).ok());
  EXPECT_EQ(setup_.Stdin("DEL", "fake-b")["prevResult"], Result100("10.9.0.3/24"));
  EXPECT_FALSE(std::filesystem::exists(CacheFile("fakenet")));
}

}  // namespace
}  // namespace berth::testing
