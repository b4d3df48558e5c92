// CNI config loading: which file wins, .conf promotion, validation and version choice.
#include "cni/plugin/network_list.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace berth::cni {
namespace {

class ConfDir {
 public:
  ConfDir() {
    char pattern[] = "/tmp/berth-cniconf-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~ConfDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

constexpr char kList[] = R"({"cniVersion": "1.0.0", "name": "listnet", "plugins": [
  {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
  {"type": "portmap", "capabilities": {"portMappings": true, "bandwidth": false}}]})";
constexpr char kSingle[] = R"({"cniVersion": "0.4.0", "name": "single", "type": "ptp"})";

TEST(NetworkListTest, ParsesAConflist) {
  auto list = ParseNetworkList(kList, "x.conflist");
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->name, "listnet");
  EXPECT_EQ(list->cni_version, "1.0.0");
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(list->plugins[0].raw["bridge"], "cni0");
  EXPECT_TRUE(list->plugins[0].capabilities.empty());
  EXPECT_EQ(list->plugins[1].capabilities, std::vector<std::string>{"portMappings"});
  EXPECT_FALSE(list->disable_check);
}

TEST(NetworkListTest, PromotesASinglePluginConf) {
  auto list = ParseSinglePluginNetwork(kSingle, "10-x.conf");
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->name, "single");
  EXPECT_EQ(list->cni_version, "0.4.0");
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "ptp");
  // Its cached form re-parses to the same list.
  auto again = ParseNetworkList(list->ToJson().dump(), "cache");
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->plugins[0].raw, list->plugins[0].raw);
}

TEST(NetworkListTest, RejectsInvalidConfigsWithReasons) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"not json", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"cniVersion": "1.0.0", "plugins": [{"type": "x"}]})", "missing \"name\""},
      {R"({"name": "n", "plugins": [{"type": "x"}]})", "missing \"cniVersion\""},
      {R"({"cniVersion": "0.2.0", "name": "n", "plugins": [{"type": "x"}]})", "not supported"},
      {R"({"cniVersion": "1.0.0", "name": "n"})", "missing \"plugins\""},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": []})", "non-empty list"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"bridge": "b"}]})",
       "plugin 0: missing \"type\""},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": 3}]})", "not a string"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "../sh"}]})", "invalid type"},
      {R"({"cniVersion": "1.0.0", "name": "a/b", "plugins": [{"type": "x"}]})",
       "invalid network name"},
      {R"({"cniVersion": "1.0.0", "name": "n", "disableCheck": 1, "plugins": [{"type": "x"}]})",
       "not a boolean"},
      {R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "x", "capabilities": []}]})",
       "\"capabilities\" is not an object"},
  };
  for (const auto& c : cases) {
    auto list = ParseNetworkList(c.text, "f.conflist");
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_EQ(list.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(list.error().message().find(c.reason), std::string::npos)
        << c.text << " -> " << list.error().message();
  }
}

TEST(NetworkListTest, ASingleConfWithoutTypeIsRejected) {
  auto missing = ParseSinglePluginNetwork(R"({"cniVersion": "1.0.0", "name": "n"})", "a.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("missing \"type\""), std::string::npos);
  auto list_in_conf = ParseSinglePluginNetwork(kList, "a.conf");
  ASSERT_FALSE(list_in_conf.ok());
  EXPECT_NE(list_in_conf.error().message().find(".conflist"), std::string::npos);
}

TEST(NetworkListTest, ChoosesTheHighestCommonVersion) {
  auto list = ParseNetworkList(
      R"({"cniVersion": "0.4.0", "cniVersions": ["1.0.0", "9.9.9", "1.1.0"], "name": "n",
          "disableCheck": "true", "plugins": [{"type": "x"}]})",
      "v.conflist");
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_EQ(list->cni_version, "1.1.0");
  EXPECT_TRUE(list->disable_check);
  EXPECT_EQ(list->ToJson()["cniVersion"], "1.1.0");
  EXPECT_LT(CompareCniVersions("1.9.0", "1.10.0"), 0);
  EXPECT_EQ(CompareCniVersions("1.0.0", "1.0.0"), 0);
  EXPECT_GT(CompareCniVersions("0.4.0", "0.3.1"), 0);
  // Parts that are not whole numbers count as 0.
  EXPECT_EQ(CompareCniVersions("1.0.0-rc1", "1.0.0"), 0);
  EXPECT_EQ(CompareCniVersions("1.x", "1.0"), 0);
  EXPECT_EQ(CompareCniVersions("99999999999.0", "0.0"), 0);
}

TEST(NetworkListTest, TheFirstFileByNameWinsWhateverItsExtension) {
  ConfDir dir;
  dir.Write("20-b.conflist", kList);
  dir.Write("10-a.json", kSingle);
  dir.Write("30-c.conf", R"({"cniVersion": "1.0.0", "name": "c", "type": "bridge"})");
  dir.Write("05-readme.txt", "not a config");
  dir.Write(".00-hidden.conflist", kList);
  auto files = ListNetworkFiles(dir.path());
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0], dir.path() + "/10-a.json");
  auto network = LoadFirstNetwork(dir.path());
  ASSERT_TRUE(network.ok()) << network.error().message();
  EXPECT_EQ(network->name, "single");
  EXPECT_EQ(network->source, dir.path() + "/10-a.json");

  std::filesystem::remove(dir.path() + "/10-a.json");
  network = LoadFirstNetwork(dir.path());
  ASSERT_TRUE(network.ok());
  EXPECT_EQ(network->name, "listnet");
}

TEST(NetworkListTest, InvalidFilesAreSkippedAndNamedWhenNothingIsValid) {
  ConfDir dir;
  dir.Write("10-broken.conflist", R"({"cniVersion": "1.0.0", "name": "n", "plugins": [{}]})");
  auto none = LoadFirstNetwork(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("no CNI network config found in " + dir.path()),
            std::string::npos);
  EXPECT_NE(none.error().message().find("10-broken.conflist"), std::string::npos);
  dir.Write("20-good.conf", kSingle);
  auto good = LoadFirstNetwork(dir.path());
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->name, "single");
}

TEST(NetworkListTest, AMissingDirectoryHasNoNetwork) {
  auto none = LoadFirstNetwork("/nonexistent/berth/net.d");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(), "no CNI network config found in /nonexistent/berth/net.d");
  EXPECT_FALSE(FingerprintNetworkDir("/nonexistent/berth/net.d").dir_exists);
}

TEST(NetworkListTest, TheFingerprintChangesWithTheFiles) {
  ConfDir dir;
  DirFingerprint empty = FingerprintNetworkDir(dir.path());
  EXPECT_TRUE(empty.dir_exists);
  dir.Write("10-a.conf", kSingle);
  DirFingerprint one = FingerprintNetworkDir(dir.path());
  EXPECT_FALSE(one == empty);
  EXPECT_TRUE(one == FingerprintNetworkDir(dir.path()));
  dir.Write("10-a.conf", R"({"cniVersion": "1.0.0", "name": "other-name", "type": "ptp"})");
  EXPECT_FALSE(FingerprintNetworkDir(dir.path()) == one);
  dir.Write("notes.txt", "ignored");
  DirFingerprint with_notes = FingerprintNetworkDir(dir.path());
  dir.Write("notes.txt", "still ignored, longer");
  EXPECT_TRUE(FingerprintNetworkDir(dir.path()) == with_notes);
}

}  // namespace
}  // namespace berth::cni
