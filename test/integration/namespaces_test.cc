// Pinned namespaces: created without a process, entered on a fresh thread, unpinned cleanly.
#include "base/namespaces.h"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "runtime/pinned_namespaces.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(NamespacesTest, PinnedNamespacesAreNewAndOutliveTheirThread) {
  BERTH_REQUIRE_ROOT();
  TempDir dir("berth-ns");
  std::string pins = dir.path() + "/pod";
  auto created = runtime::CreatePinnedNamespaces({pins, true, true, true, "pod-host"});
  ASSERT_TRUE(created.ok()) << created.error().message();
  for (const char* kind : {"net", "ipc", "uts"}) {
    EXPECT_NE(InodeOf(pins + "/" + kind), 0u) << kind;
    EXPECT_NE(InodeOf(pins + "/" + kind), InodeOf(std::string("/proc/self/ns/") + kind)) << kind;
  }
  // The UTS namespace keeps its hostname; this thread's stays the host's.
  char host[256] = {};
  ::gethostname(host, sizeof host);
  std::string seen;
  ASSERT_TRUE(RunInNamespace(pins + "/uts", CLONE_NEWUTS, [&]() -> Result<void> {
                char name[256] = {};
                ::gethostname(name, sizeof name);
                seen = name;
                return Ok();
              }).ok());
  EXPECT_EQ(seen, "pod-host");
  char after[256] = {};
  ::gethostname(after, sizeof after);
  EXPECT_STREQ(host, after);
  // Inside the network namespace there is only lo.
  bool only_lo = false;
  ASSERT_TRUE(RunInNamespace(pins + "/net", CLONE_NEWNET, [&]() -> Result<void> {
                only_lo = std::filesystem::exists("/proc/thread-self/net/dev");
                return Ok();
              }).ok());
  EXPECT_TRUE(only_lo);

  for (const char* kind : {"net", "ipc", "uts"}) {
    ASSERT_TRUE(runtime::UnpinNamespace(pins + "/" + kind).ok());
    EXPECT_FALSE(std::filesystem::exists(pins + "/" + kind));
    EXPECT_TRUE(runtime::UnpinNamespace(pins + "/" + kind).ok());  // idempotent
  }
}

TEST(NamespacesTest, EnteringAMissingPinIsNotFound) {
  auto result = RunInNamespace("/nonexistent/net", CLONE_NEWNET, [] { return Ok(); });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::testing
