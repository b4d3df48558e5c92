#include "base/rollback.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "base/failpoint.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

class RollbackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::setenv("BERTH_FAILPOINTS", "Test/armed=error,Test/slow=delay:1", 1);
    ASSERT_TRUE(InitFailpoints().ok());
  }
};

TEST_F(RollbackTest, UndoesInReverseUnlessCommitted) {
  std::vector<std::string> undone;
  {
    Rollback ledger("Test", "object 1");
    ASSERT_TRUE(ledger
                    .Done("a",
                          [&] {
                            undone.push_back("a");
                            return Ok();
                          })
                    .ok());
    ASSERT_TRUE(ledger.Done("no undo").ok());
    ASSERT_TRUE(ledger
                    .Done("b",
                          [&] {
                            undone.push_back("b");
                            return Ok();
                          })
                    .ok());
  }
  EXPECT_EQ(undone, (std::vector<std::string>{"b", "a"}));
  undone.clear();
  {
    Rollback ledger("Test", "object 2");
    ASSERT_TRUE(ledger
                    .Done("a",
                          [&] {
                            undone.push_back("a");
                            return Ok();
                          })
                    .ok());
    ledger.Commit();
  }
  EXPECT_TRUE(undone.empty());
}

TEST_F(RollbackTest, AFailedUndoIsCountedAndTheOthersStillRun) {
  std::vector<std::string> undone;
  Rollback ledger("Test", "object 3");
  ASSERT_TRUE(ledger
                  .Done("first",
                        [&] {
                          undone.push_back("first");
                          return Ok();
                        })
                  .ok());
  ASSERT_TRUE(ledger.Done("broken", [] { return Internal("rmdir: busy"); }).ok());
  EXPECT_EQ(ledger.Undo(), 1);
  EXPECT_EQ(undone, (std::vector<std::string>{"first"}));
  EXPECT_EQ(ledger.Undo(), 0);  // nothing left to undo
}

TEST_F(RollbackTest, ArmedFailpointFailsTheStepAfterRecordingIt) {
  bool undone = false;
  {
    Rollback ledger("Test", "object 4");
    auto step = ledger.Done("armed", [&] {
      undone = true;
      return Ok();
    });
    ASSERT_FALSE(step.ok());
    EXPECT_EQ(step.error().message(), "failpoint Test/armed");
    EXPECT_TRUE(ledger.Done("slow").ok());
  }
  EXPECT_TRUE(undone);  // the failed operation's ledger undid the step it had done
  EXPECT_TRUE(Failpoint("Other/step").ok());
}

}  // namespace
}  // namespace berth
