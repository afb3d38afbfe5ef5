// Stop strings over streamed text (server/stop_filter.h).
#include "server/stop_filter.h"

#include <gtest/gtest.h>

namespace ember::server {
namespace {

// Feeds `pieces` and returns what was emitted (plus the flush when no stop was seen).
std::string Filter(std::vector<std::string> stops, const std::vector<std::string>& pieces, bool* stopped = nullptr) {
  StopFilter filter(std::move(stops));
  std::string out;
  for (const std::string& p : pieces) {
    if (filter.Push(p, &out)) break;
  }
  if (stopped) *stopped = filter.stopped();
  if (!filter.stopped()) out += filter.Flush();
  return out;
}

TEST(ServeStopFilter, NoStopsPassesEverythingThrough) {
  StopFilter filter({});
  std::string out;
  EXPECT_FALSE(filter.Push("abc", &out));
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(filter.Flush(), "");
}

TEST(ServeStopFilter, StopSpanningPiecesIsNeverEmitted) {
  bool stopped = false;
  EXPECT_EQ(Filter({"\nUser:"}, {"Hello", " there\n", "Us", "er:", " more"}, &stopped), "Hello there");
  EXPECT_TRUE(stopped);
}

TEST(ServeStopFilter, HoldsBackOnlyWhatCouldStillMatch) {
  StopFilter filter({"END"});
  std::string out;
  filter.Push("abcE", &out);
  EXPECT_EQ(out, "abc");  // "E" could start "END"
  filter.Push("N", &out);
  EXPECT_EQ(out, "abc");
  filter.Push("x", &out);  // "ENx" cannot
  EXPECT_EQ(out, "abcENx");
  EXPECT_FALSE(filter.stopped());
}

TEST(ServeStopFilter, FlushReturnsTheHeldTail) {
  bool stopped = true;
  EXPECT_EQ(Filter({"stop"}, {"it st"}, &stopped), "it st");
  EXPECT_FALSE(stopped);
}

TEST(ServeStopFilter, EarliestStopInTheTextWins) {
  EXPECT_EQ(Filter({"cd", "b"}, {"abcd"}), "a");
  EXPECT_EQ(Filter({"bcd", "c"}, {"ab", "cd"}), "a");  // "bcd" starts before "c"
}

TEST(ServeStopFilter, StopAtTheVeryStart) {
  bool stopped = false;
  EXPECT_EQ(Filter({"x"}, {"xyz"}, &stopped), "");
  EXPECT_TRUE(stopped);
}

TEST(ServeStopFilter, EmptyStopStringsAreIgnored) { EXPECT_EQ(Filter({""}, {"abc"}), "abc"); }

}  // namespace
}  // namespace ember::server
