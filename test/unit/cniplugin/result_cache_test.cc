// The ADD result cache: round trip, lookup by pod whatever the network name, unusable entries.
#include "cni/plugin/result_cache.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace berth::cni {
namespace {

using json = nlohmann::json;

class CacheDir {
 public:
  CacheDir() {
    char pattern[] = "/tmp/berth-cnicache-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~CacheDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

CacheEntry Entry(const std::string& network_name, const std::string& container_id) {
  auto list = ParseNetworkList(R"({"cniVersion": "1.0.0", "name": ")" + network_name +
                                   R"(", "plugins": [{"type": "bridge", "bridge": "b0"},
                                   {"type": "portmap", "capabilities": {"portMappings": true}}]})",
                               "/etc/cni/net.d/10.conflist");
  EXPECT_TRUE(list.ok());
  CacheEntry entry;
  entry.container_id = container_id;
  entry.cni_args = "IgnoreUnknown=1;K8S_POD_NAME=p";
  entry.capability_args = {{"portMappings", json::array({{{"hostPort", 80}}})}};
  entry.network = *list;
  entry.result = {{"cniVersion", "1.0.0"}, {"ips", {{{"address", "10.235.0.2/24"}}}}};
  return entry;
}

TEST(ResultCacheTest, RoundTripsThroughAFileNamedAfterNetworkAndPod) {
  CacheDir dir;
  CacheEntry entry = Entry("mynet", "abc123");
  ASSERT_TRUE(WriteCacheEntry(dir.path() + "/sub", entry).ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/sub/mynet-abc123"));
  EXPECT_EQ(CachePath(dir.path(), "mynet", "abc123"), dir.path() + "/mynet-abc123");
  auto found = FindCacheEntries(dir.path() + "/sub", "abc123");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  ASSERT_TRUE((*found)[0].entry.has_value()) << (*found)[0].problem;
  const CacheEntry& back = *(*found)[0].entry;
  EXPECT_EQ(back.container_id, "abc123");
  EXPECT_EQ(back.ifname, "eth0");
  EXPECT_EQ(back.cni_args, entry.cni_args);
  EXPECT_EQ(back.capability_args, entry.capability_args);
  EXPECT_EQ(back.result, entry.result);
  EXPECT_EQ(back.network.name, "mynet");
  EXPECT_EQ(back.network.source, "/etc/cni/net.d/10.conflist");
  ASSERT_EQ(back.network.plugins.size(), 2u);
  EXPECT_EQ(back.network.plugins[1].capabilities, std::vector<std::string>{"portMappings"});
}

TEST(ResultCacheTest, FindsEntriesOfRenamedNetworksButNotOfOtherPods) {
  CacheDir dir;
  ASSERT_TRUE(WriteCacheEntry(dir.path(), Entry("old-name", "b")).ok());
  ASSERT_TRUE(WriteCacheEntry(dir.path(), Entry("new", "b")).ok());
  // "net" + "-a-b": the same file-name suffix as pod "b", but another pod's entry.
  ASSERT_TRUE(WriteCacheEntry(dir.path(), Entry("net", "a-b")).ok());
  auto found = FindCacheEntries(dir.path(), "b");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].entry->network.name, "new");
  EXPECT_EQ((*found)[1].entry->network.name, "old-name");
  EXPECT_TRUE(FindCacheEntries(dir.path(), "zzz")->empty());
  EXPECT_TRUE(FindCacheEntries(dir.path() + "/missing", "b")->empty());
}

TEST(ResultCacheTest, AnUnusableEntryIsReportedNotHidden) {
  CacheDir dir;
  std::ofstream(dir.path() + "/mynet-podx") << "{ torn";
  auto found = FindCacheEntries(dir.path(), "podx");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_FALSE((*found)[0].entry.has_value());
  EXPECT_NE((*found)[0].problem.find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(ParseCacheEntry(R"({"kind": "other"})", "x").ok());
}

// Found by fuzz_cni_result: {"kind":33666} made ParseCacheEntry throw (json::value() on a field of
// another type).
TEST(ResultCacheTest, FieldsOfAnotherTypeAreErrors) {
  EXPECT_FALSE(ParseCacheEntry(R"({"kind": 33666})", "x").ok());
  EXPECT_FALSE(ParseCacheEntry(R"({"kind": ["berthCniCacheV1"]})", "x").ok());
  const std::string entry =
      R"({"kind": "berthCniCacheV1", "containerId": "abc", "ifName": "eth0", "cniArgs": "",
          "configSource": 7, "config": {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "bridge"}]}})";
  auto parsed = ParseCacheEntry(entry, "/var/lib/cni/n-abc");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->network.source,
            "/var/lib/cni/n-abc");  // the file, when configSource is no string
}

}  // namespace
}  // namespace berth::cni
