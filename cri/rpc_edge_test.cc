#include "cri/rpc_edge.h"

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace berth::cri {
namespace {

// Captures what Serve logs, for the duration of one test.
class RpcEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
    auto logger = std::make_shared<spdlog::logger>("rpc_edge_test", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  // The one line logged, with its level, or "" when nothing or more than one line was.
  std::string OnlyLogLine() {
    auto lines = sink_->last_raw(16);
    if (lines.size() != 1) return "";
    std::string level(spdlog::level::to_string_view(lines[0].level).data(),
                      spdlog::level::to_string_view(lines[0].level).size());
    return level + " " + std::string(lines[0].payload.data(), lines[0].payload.size());
  }

  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST_F(RpcEdgeTest, SuccessIsOk) {
  bool ran = false;
  grpc::Status status = Serve("Version", [&]() -> Result<void> {
    ran = true;
    return Ok();
  });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(OnlyLogLine(), "");
}

TEST_F(RpcEdgeTest, AnErrorGoesThroughTheMapping) {
  grpc::Status status = Serve(
      "StartContainer", []() -> Result<void> { return InvalidArgument("container id is empty"); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "container id is empty");

  status = Serve("ContainerStats", []() -> Result<void> { return NotFound("container gone"); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "container gone");
  // The RPC interceptor (rpc_logging.cc) logs errors; the edge itself adds nothing.
  EXPECT_EQ(OnlyLogLine(), "");
}

TEST_F(RpcEdgeTest, AStdExceptionIsInternalNamingTheRpc) {
  grpc::Status status =
      Serve("CreateContainer", []() -> Result<void> { throw std::runtime_error("map::at"); });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(), "internal error in CreateContainer: map::at");
  EXPECT_EQ(OnlyLogLine(), "error rpc=CreateContainer internal error: map::at");
}

TEST_F(RpcEdgeTest, ALibraryExceptionIsInternalToo) {
  grpc::Status status = Serve("ListImages", []() -> Result<void> {
    std::string text = "short";
    (void)text.substr(99);  // throws std::out_of_range
    return Ok();
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message().rfind("internal error in ListImages: ", 0), 0u)
      << status.error_message();
}

TEST_F(RpcEdgeTest, AnythingElseThrownIsInternalNamingTheRpc) {
  grpc::Status status = Serve("StreamContainers", []() -> Result<void> { throw 42; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(status.error_message(),
            "internal error in StreamContainers: an exception that is not a std::exception");
  EXPECT_EQ(OnlyLogLine(),
            "error rpc=StreamContainers internal error: an exception that is not a "
            "std::exception");
}

}  // namespace
}  // namespace berth::cri
