#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <thread>

#include "base/error.h"
#include "base/file_util.h"
#include "base/id_prefix.h"
#include "base/lock_file.h"
#include "base/logging.h"
#include "base/result.h"
#include "base/single_flight.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/berth-unit-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgument(std::to_string(value) + " is odd");
  return value / 2;
}

Result<int> Quarter(int value) {
  BERTH_ASSIGN_OR_RETURN(int half, Half(value));
  BERTH_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Result<void> CheckEven(int value) {
  BERTH_TRY(Half(value));
  return Ok();
}

TEST(ResultTest, CarriesValueOrError) {
  auto quarter = Quarter(8);
  ASSERT_TRUE(quarter.ok());
  EXPECT_EQ(*quarter, 2);

  auto odd = Quarter(6);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(odd.error().message(), "3 is odd");

  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).error().message(), "5 is odd");
}

TEST(ErrorTest, WrapKeepsCodeAndAddsContext) {
  Error root = NotFound("image busybox");
  Error wrapped = root.Wrap("create container web").Wrap("pod 3f2a");
  EXPECT_EQ(wrapped.code(), ErrorCode::kNotFound);
  EXPECT_EQ(wrapped.message(), "pod 3f2a: create container web: image busybox");
  EXPECT_EQ(wrapped.ToString(), "NotFound: pod 3f2a: create container web: image busybox");
}

TEST(ErrorTest, EveryCodeCrossesTheWireByName) {
  for (int value = 0; value <= static_cast<int>(ErrorCode::kLast); ++value) {
    auto code = static_cast<ErrorCode>(value);
    Error back = Error::FromWire(Error(code, "what failed").ToWire());
    EXPECT_EQ(back.code(), code) << ErrorCodeName(code);
    EXPECT_EQ(back.message(), "what failed");
  }
  EXPECT_EQ(Error::FromWire("DataLoss store damaged").code(), ErrorCode::kDataLoss);
}

TEST(ErrorTest, FromErrnoMapsCommonCodes) {
  EXPECT_EQ(Error::FromErrno(ENOENT, "open x").code(), ErrorCode::kNotFound);
  EXPECT_EQ(Error::FromErrno(EEXIST, "mkdir x").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(Error::FromErrno(EPERM, "mount x").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(Error::FromErrno(EIO, "read x").code(), ErrorCode::kInternal);
  // A full disk or quota is the caller's to resolve, not an internal error.
  EXPECT_EQ(Error::FromErrno(ENOSPC, "write x").code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(Error::FromErrno(EDQUOT, "write x").code(), ErrorCode::kResourceExhausted);
  Error error = Error::FromErrno(ENOENT, "open /nope");
  EXPECT_EQ(error.sys_errno(), ENOENT);
  EXPECT_EQ(error.message(), "open /nope: No such file or directory");
}

TEST(FileUtilTest, MakeDirsCreatesParentsAndAcceptsExisting) {
  TempDir temp;
  std::string nested = temp.path() + "/a/b/c";
  ASSERT_TRUE(MakeDirs(nested, 0700).ok());
  struct stat st {};
  ASSERT_EQ(::stat(nested.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(MakeDirs(nested).ok());

  ASSERT_TRUE(WriteFileAtomic(temp.path() + "/file", "x").ok());
  auto over_file = MakeDirs(temp.path() + "/file");
  ASSERT_FALSE(over_file.ok());
  EXPECT_EQ(over_file.error().code(), ErrorCode::kFailedPrecondition);
}

TEST(FileUtilTest, WriteFileAtomicReplacesWholeFileAndLeavesNoTemp) {
  TempDir temp;
  std::string path = temp.path() + "/config.json";
  ASSERT_TRUE(WriteFileAtomic(path, "first version, longer", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "second", 0640).ok());
  auto content = ReadFile(path);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "second");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(temp.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(FileUtilTest, WriteFileAtomicIntoMissingDirectoryFails) {
  TempDir temp;
  auto result = WriteFileAtomic(temp.path() + "/missing/file", "x");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kNotFound);
}

TEST(FileUtilTest, ReadFileIsBounded) {
  TempDir temp;
  std::string path = temp.path() + "/big";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(1000, 'a')).ok());
  EXPECT_TRUE(ReadFile(path, 1000).ok());
  auto too_big = ReadFile(path, 999);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReadFile(temp.path() + "/absent").error().code(), ErrorCode::kNotFound);
}

TEST(FileUtilTest, JoinPath) {
  EXPECT_EQ(JoinPath("/var/lib", "berth"), "/var/lib/berth");
  EXPECT_EQ(JoinPath("/var/lib/", "/berth"), "/var/lib/berth");
  EXPECT_EQ(JoinPath("/", "etc"), "/etc");
  EXPECT_EQ(JoinPath("", "etc"), "etc");
}

TEST(LockFileTest, SecondHolderIsRefusedWithThePid) {
  TempDir temp;
  std::string path = temp.path() + "/berthd.lock";
  auto first = LockFile::Acquire(path, "root /x");
  ASSERT_TRUE(first.ok());
  // flock locks belong to the open file description: a second open in this process conflicts
  // exactly as another process would.
  auto second = LockFile::Acquire(path, "root /x");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(second.error().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().message().find("root /x"), std::string::npos);
}

TEST(LockFileTest, ReleasedOnDestruction) {
  TempDir temp;
  std::string path = temp.path() + "/berthd.lock";
  {
    auto first = LockFile::Acquire(path, "x");
    ASSERT_TRUE(first.ok());
  }
  EXPECT_TRUE(LockFile::Acquire(path, "x").ok());
}

TEST(IdPrefixTest, FullIdsAndUniquePrefixes) {
  std::map<std::string, int> objects = {{"abc123", 1}, {"abd456", 2}, {"b00000", 3}};
  EXPECT_EQ(*ResolveIdPrefix(objects, "abc123", "container"), "abc123");
  EXPECT_EQ(*ResolveIdPrefix(objects, "abc", "container"), "abc123");
  EXPECT_EQ(*ResolveIdPrefix(objects, "b", "container"), "b00000");
  auto ambiguous = ResolveIdPrefix(objects, "ab", "container");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.error().message(), "container id prefix ab is ambiguous");
  EXPECT_EQ(ResolveIdPrefix(objects, "c", "pod sandbox").error().message(),
            "pod sandbox c not found");
  EXPECT_EQ(ResolveIdPrefix(objects, "", "container").error().code(), ErrorCode::kInvalidArgument);
}

TEST(LoggingTest, ParsesLevelNames) {
  EXPECT_EQ(*ParseLogLevel("debug"), spdlog::level::debug);
  EXPECT_EQ(*ParseLogLevel("warning"), spdlog::level::warn);
  EXPECT_EQ(*ParseLogLevel("error"), spdlog::level::err);
  auto bad = ParseLogLevel("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("loud"), std::string::npos);
}

TEST(SingleFlightTest, AJoinedRunCancelledByItsOwnCallerIsRunAgain) {
  SingleFlight<Result<void>> flights;
  std::promise<void> started, release;
  std::thread leader([&] {
    CancelToken gave_up;
    (void)flights.Do("blob", [&]() -> Result<void> {
      started.set_value();
      release.get_future().wait();
      gave_up.Cancel();
      return gave_up.Check("download");
    });
  });
  started.get_future().wait();
  int own_runs = 0;
  std::thread follower_releases([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the follower has joined
    release.set_value();
  });
  // The follower's own token is fine: the leader's cancellation is not its answer.
  auto result = flights.DoCancellable("blob", CancelToken(), [&]() -> Result<void> {
    ++own_runs;
    return Ok();
  });
  follower_releases.join();
  leader.join();
  EXPECT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(own_runs, 1);
}

TEST(SingleFlightTest, DoCancellableStopsWhenTheCallerItselfIsCancelledOrFails) {
  SingleFlight<Result<void>> flights;
  CancelToken cancelled;
  cancelled.Cancel();
  int runs = 0;
  auto own = flights.DoCancellable("k", cancelled, [&]() -> Result<void> {
    ++runs;
    return cancelled.Check("work");
  });
  EXPECT_EQ(own.error().code(), ErrorCode::kCancelled);
  EXPECT_EQ(runs, 1);
  auto failed = flights.DoCancellable("k", CancelToken(), [&]() -> Result<void> {
    ++runs;
    return Internal("disk on fire");
  });
  EXPECT_EQ(failed.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace berth
