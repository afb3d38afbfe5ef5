// Cancellation: a cancel reaches only the call it overlaps with, and nested scopes (a
// stepped generation spanning the evaluations it makes) form one call.
#include "lib/runtime/cancellation.h"

#include <optional>

#include "gtest/gtest.h"

namespace ember {
namespace {

TEST(CancellationTest, IgnoredOutsideACall) {
  Cancellation c;
  c.Request();
  EXPECT_FALSE(c.requested());
  Cancellation::CallScope call(c);
  EXPECT_FALSE(c.requested());
  c.Request();
  EXPECT_TRUE(c.requested());
  EXPECT_TRUE(c.flag()->load());
}

TEST(CancellationTest, AStaleRequestDoesNotReachTheNextCall) {
  Cancellation c;
  {
    Cancellation::CallScope call(c);
    c.Request();
  }
  Cancellation::CallScope next(c);
  EXPECT_FALSE(c.requested());
}

TEST(CancellationTest, NestedScopesAreOneCall) {
  Cancellation c;
  std::optional<Cancellation::CallScope> outer(std::in_place, c);
  {
    Cancellation::CallScope inner(c);
  }
  // The inner scope's end does not end the call: a cancel between inner calls counts...
  c.Request();
  EXPECT_TRUE(c.requested());
  {
    // ...and the next inner call does not clear it.
    Cancellation::CallScope inner(c);
    EXPECT_TRUE(c.requested());
  }
  outer.reset();
  c.Request();  // no call any more
  Cancellation::CallScope next(c);
  EXPECT_FALSE(c.requested());
}

}  // namespace
}  // namespace ember
