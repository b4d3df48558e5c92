// A damaged <root>/metadata.db through a real berthd: it must refuse to start (naming the file,
// what is wrong and what the operator can do) and leave the file as it found it, instead of
// starting with an empty store that forgets the pods that still exist and hands their IPs out
// again.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// The file offset of the `objects` table's root page's b-tree header (byte 0: the page type,
// bytes 3-4: the number of cells, big-endian).
long ObjectsRootPageOffset(const std::string& db_path) {
  sqlite3* db = nullptr;
  long offset = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    const char* sql =
        "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master "
        "WHERE name = 'objects'";
    if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      long page = sqlite3_column_int64(statement, 0);
      long page_size = sqlite3_column_int64(statement, 1);
      offset = (page - 1) * page_size + (page == 1 ? 100 : 0);
    }
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return offset;
}

std::string QuickCheck(const std::string& db_path) {
  auto run = RunCommand({"/usr/bin/sqlite3", "-readonly", db_path, "PRAGMA quick_check"});
  return run.output;
}

class StoreDamageTest : public ::testing::Test {
 protected:
  void SetUp() override { BERTH_REQUIRE_ROOT(); }

  std::string RunPod(const std::string& name) {
    ::runtime::v1::RunPodSandboxRequest request;
    auto* config = request.mutable_config();
    config->mutable_metadata()->set_name(name);
    config->mutable_metadata()->set_namespace_("default");
    config->mutable_metadata()->set_uid("uid-" + name);
    config->set_hostname(name);
    ::runtime::v1::RunPodSandboxResponse response;
    auto status = berthd_.runtime().RunPodSandbox(CallContext(60).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.pod_sandbox_id();
  }
  std::string PodIp(const std::string& id) {
    ::runtime::v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    ::runtime::v1::PodSandboxStatusResponse response;
    EXPECT_TRUE(berthd_.runtime().PodSandboxStatus(CallContext().get(), request, &response).ok());
    return response.status().network().ip();
  }
  void RemovePod(const std::string& id) {
    ::runtime::v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    ::runtime::v1::RemovePodSandboxResponse response;
    auto status = berthd_.runtime().RemovePodSandbox(CallContext(60).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  int PodCount() {
    ::runtime::v1::ListPodSandboxResponse response;
    EXPECT_TRUE(berthd_.runtime().ListPodSandbox(CallContext().get(), {}, &response).ok());
    return response.items_size();
  }

  BerthdProcess berthd_;
};

TEST_F(StoreDamageTest, DamagedMetadataDbIsRefusedAndLeftAsItWas) {
  ASSERT_TRUE(berthd_.Start());
  std::string pod = RunPod("damage-a");
  ASSERT_FALSE(pod.empty());
  std::string ip = PodIp(pod);
  ASSERT_FALSE(ip.empty());
  ASSERT_EQ(berthd_.Stop(), 0);

  // One byte: the cell count of the objects table's root page (a leaf: few rows) becomes 0.
  // Every query then reads that page as empty, without an error; quick_check notices that the
  // page's space does not add up.
  std::string db = berthd_.root() + "/metadata.db";
  long header = ObjectsRootPageOffset(db);
  ASSERT_GT(header, 0);
  std::string good = ReadText(db);
  ASSERT_EQ(good[header], 0x0a) << "the root page is no longer a leaf index page";
  ASSERT_EQ(good[header + 3], 0);
  ASSERT_NE(good[header + 4], 0);
  std::string damaged = good;
  damaged[header + 4] = 0;
  WriteBytes(db, damaged);
  ASSERT_EQ(QuickCheck(db).rfind("ok", 0), std::string::npos) << QuickCheck(db);

  bool started = berthd_.Start();
  if (started) {
    // The hole: berthd forgot the pod whose namespaces and veth still exist, and the next pod
    // gets the same IP.
    ADD_FAILURE() << "berthd started on a damaged store with " << PodCount() << " pods";
    std::string second = RunPod("damage-b");
    EXPECT_NE(PodIp(second), ip) << "pod IP handed out twice";
    RemovePod(second);
    berthd_.Stop();
  }
  EXPECT_NE(berthd_.last_exit_status(), 0);
  std::string log = berthd_.ReadLog();
  EXPECT_NE(log.find("metadata store " + db + " is damaged"), std::string::npos) << log;
  EXPECT_NE(log.find("quick_check"), std::string::npos) << log;
  EXPECT_NE(log.find("Keep a copy of the file"), std::string::npos) << log;
  EXPECT_NE(log.find("restore a backup"), std::string::npos) << log;
  EXPECT_NE(log.find("move it aside"), std::string::npos) << log;
  // Untouched: the operator's copy is the file as it was damaged, not something berthd wrote.
  if (!started) {
    EXPECT_TRUE(ReadText(db) == damaged) << "berthd changed the damaged file";
  }
  EXPECT_FALSE(std::filesystem::exists(berthd_.socket_path()));

  // With the file repaired (as a restored backup would be), the pod is known again and goes.
  WriteBytes(db, good);
  ASSERT_TRUE(berthd_.Start());
  EXPECT_EQ(PodIp(pod), ip);
  RemovePod(pod);
  EXPECT_EQ(PodCount(), 0);
}

TEST_F(StoreDamageTest, MovedAsideTheStoreStartsEmptyAndTheOldPodsLeftoversGo) {
  ASSERT_TRUE(berthd_.Start());
  std::string pod = RunPod("damage-c");
  ASSERT_FALSE(pod.empty());
  auto veth = [&] {
    return RunCommand({"/usr/sbin/ip", "-o", "link", "show", "master", berthd_.test_bridge()})
        .output;
  };
  ASSERT_NE(veth().find(pod.substr(0, 12)), std::string::npos) << veth();
  ASSERT_EQ(berthd_.Stop(), 0);
  std::string db = berthd_.root() + "/metadata.db";
  std::string bytes = ReadText(db);
  long header = ObjectsRootPageOffset(db);
  ASSERT_GT(header, 0);
  bytes[header + 4] = 0;
  WriteBytes(db, bytes);
  ASSERT_FALSE(berthd_.Start());

  // What the message offers: keep the file, move it aside, start with an empty store.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ignored;
    std::filesystem::rename(db + suffix, berthd_.root() + "/metadata.db.damaged" + suffix, ignored);
  }
  ASSERT_TRUE(berthd_.Start());
  EXPECT_EQ(PodCount(), 0);
  // The pod's leftovers went at start: its veth on the bridge, its state directory (with the
  // namespace pins).
  EXPECT_EQ(veth().find(pod.substr(0, 12)), std::string::npos) << veth();
  EXPECT_FALSE(std::filesystem::exists(berthd_.state() + "/pods/" + pod));
  std::string next = RunPod("damage-d");
  EXPECT_FALSE(PodIp(next).empty());
  RemovePod(next);
}

TEST_F(StoreDamageTest, AFileThatIsNoDatabaseIsRefused) {
  std::filesystem::create_directories(berthd_.root());
  std::string db = berthd_.root() + "/metadata.db";
  std::string garbage(8192, 'x');
  WriteBytes(db, garbage);
  EXPECT_FALSE(berthd_.Start());
  EXPECT_EQ(berthd_.last_exit_status(), 1);
  std::string log = berthd_.ReadLog();
  EXPECT_NE(log.find("metadata store " + db + " is damaged"), std::string::npos) << log;
  EXPECT_NE(log.find("not a database"), std::string::npos) << log;
  EXPECT_TRUE(ReadText(db) == garbage);
}

}  // namespace
}  // namespace berth::testing
