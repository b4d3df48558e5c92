// berthctl against a real berthd.
#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "test/integration/berthd_fixture.h"

namespace berth::testing {
namespace {

TEST(BerthctlTest, VersionTableAndJson) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  auto table = RunCommand({BerthctlBinary(), "--endpoint", berthd.endpoint(), "version"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("RuntimeName:        berth"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("RuntimeApiVersion:  v1"), std::string::npos) << table.output;

  auto json = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "-o", "json", "version"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto parsed = nlohmann::json::parse(json.output);
  EXPECT_EQ(parsed["runtimeName"], "berth");
  EXPECT_EQ(parsed["runtimeApiVersion"], "v1");
}

TEST(BerthctlTest, StatusAndInfo) {
  BerthdProcess berthd;
  ASSERT_TRUE(berthd.Start());
  auto status = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "status"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("RuntimeReady"), std::string::npos);
  EXPECT_NE(status.output.find("NetworkReady"), std::string::npos);
  EXPECT_NE(status.output.find("(default)"), std::string::npos);

  auto info = RunCommand({BerthctlBinary(), "-r", berthd.endpoint(), "info"});
  ASSERT_EQ(info.exit_code, 0) << info.output;
  auto parsed = nlohmann::json::parse(info.output);
  EXPECT_EQ(parsed["config"]["listen"], berthd.socket_path());
  EXPECT_EQ(parsed["status"]["conditions"].size(), 2u);
}

TEST(BerthctlTest, UnreachableEndpointIsAClearError) {
  TempDir dir;
  auto run = RunCommand({BerthctlBinary(), "-r", "unix://" + dir.path() + "/none.sock", "-t", "2",
                         "version"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("berthctl: version: "), std::string::npos) << run.output;
}

}  // namespace
}  // namespace berth::testing
