#include "lib/tokenizer/utf8.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

TEST(Utf8, DecodesEveryLength) {
  const struct {
    std::string bytes;
    char32_t cp;
  } cases[] = {{"A", U'A'},
               {"\x7F", 0x7F},
               {"\xC2\x80", 0x80},
               {"\xC3\xA9", 0xE9},
               {"\xDF\xBF", 0x7FF},
               {"\xE0\xA0\x80", 0x800},
               {"\xE2\x96\x81", 0x2581},
               {"\xED\x9F\xBF", 0xD7FF},
               {"\xEE\x80\x80", 0xE000},
               {"\xEF\xBF\xBD", 0xFFFD},
               {"\xF0\x90\x80\x80", 0x10000},
               {"\xF0\x9F\xA6\x99", 0x1F999},
               {"\xF4\x8F\xBF\xBF", 0x10FFFF}};
  for (const auto& c : cases) {
    const Utf8Char d = DecodeUtf8(c.bytes);
    EXPECT_EQ(d.kind, Utf8Char::Kind::kValid) << c.bytes;
    EXPECT_EQ(d.code_point, c.cp) << c.bytes;
    EXPECT_EQ(d.length, c.bytes.size()) << c.bytes;
    std::string encoded;
    AppendUtf8(c.cp, &encoded);
    EXPECT_EQ(encoded, c.bytes);
  }
}

TEST(Utf8, RejectsOverlongsSurrogatesAndOutOfRange) {
  const struct {
    std::string bytes;
    size_t maximal_subpart;
  } cases[] = {
      {"\x80", 1},              // lone continuation byte
      {"\xC0\x80", 1},          // overlong NUL
      {"\xC1\xBF", 1},          // overlong
      {"\xE0\x80\x80", 1},      // overlong 3-byte
      {"\xED\xA0\x80", 1},      // surrogate U+D800
      {"\xF0\x80\x80\x80", 1},  // overlong 4-byte
      {"\xF4\x90\x80\x80", 1},  // above U+10FFFF
      {"\xF5\x80\x80\x80", 1},  // never a lead byte
      {"\xFF", 1},
      {"\xC3"
       "A",
       1},  // continuation missing
      {"\xE2\x96"
       "A",
       2},  // cut after two valid bytes
      {"\xF0\x9F\xA6"
       "A",
       3},
  };
  for (const auto& c : cases) {
    const Utf8Char d = DecodeUtf8(c.bytes);
    EXPECT_EQ(d.kind, Utf8Char::Kind::kInvalid) << absl::CHexEscape(c.bytes);
    EXPECT_EQ(d.length, c.maximal_subpart) << absl::CHexEscape(c.bytes);
    EXPECT_FALSE(IsValidUtf8(c.bytes));
  }
}

TEST(Utf8, TruncatedSequenceIsIncomplete) {
  EXPECT_EQ(DecodeUtf8("\xE2").kind, Utf8Char::Kind::kIncomplete);
  const Utf8Char d = DecodeUtf8("\xF0\x9F\xA6");
  EXPECT_EQ(d.kind, Utf8Char::Kind::kIncomplete);
  EXPECT_EQ(d.length, 3u);
  EXPECT_FALSE(IsValidUtf8("abc\xE2\x96"));
}

TEST(Utf8, FindInvalidReportsOffset) {
  EXPECT_EQ(FindInvalidUtf8(""), 0u);
  EXPECT_EQ(FindInvalidUtf8("h\xC3\xA9llo"), 6u);
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"
                            "cd"),
            2u);
  const absl::Status s = CheckUtf8("ab\xFF", "prompt");
  EXPECT_TRUE(IsInvalidUtf8(s)) << s;
  EXPECT_NE(s.message().find("offset 2"), absl::string_view::npos) << s;
  EXPECT_TRUE(CheckUtf8("caf\xC3\xA9", "prompt").ok());
}

TEST(Utf8, AppendReplacesSurrogatesAndOutOfRange) {
  std::string s;
  AppendUtf8(0xD800, &s);
  AppendUtf8(0x110000, &s);
  EXPECT_EQ(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf8, ToValidUtf8UsesOneReplacementPerMaximalSubpart) {
  EXPECT_EQ(ToValidUtf8("abc"), "abc");
  // Same counts as Python's bytes.decode("utf-8", "replace").
  EXPECT_EQ(ToValidUtf8("a\xE2\x96"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("\xF0\x9F\xA6"), "\xEF\xBF\xBD");
}

TEST(Utf8Stream, HoldsBackSplitCharacters) {
  Utf8Stream stream;
  // U+1F999 (4 bytes) arriving one byte per token.
  EXPECT_EQ(stream.Push("A\xF0"), "A");
  EXPECT_EQ(stream.pending_size(), 1u);
  EXPECT_EQ(stream.Push("\x9F"), "");
  EXPECT_EQ(stream.Push("\xA6"), "");
  EXPECT_EQ(stream.Push("\x99 B"), "\xF0\x9F\xA6\x99 B");
  EXPECT_EQ(stream.pending_size(), 0u);
  EXPECT_EQ(stream.Flush(), "");
}

TEST(Utf8Stream, InvalidBytesBecomeReplacementCharacters) {
  Utf8Stream stream;
  EXPECT_EQ(stream.Push("\xFF"), "\xEF\xBF\xBD");
  // A started character broken by the next token: one U+FFFD, then the new byte counts.
  EXPECT_EQ(stream.Push("\xE2\x96"), "");
  EXPECT_EQ(stream.Push("x"),
            "\xEF\xBF\xBD"
            "x");
  // Broken by a byte that itself starts a character.
  EXPECT_EQ(stream.Push("\xC3"), "");
  EXPECT_EQ(stream.Push("\xE2\x96\x81"), "\xEF\xBF\xBD\xE2\x96\x81");
  // Truncated at the end of the stream.
  EXPECT_EQ(stream.Push("\xF0\x9F"), "");
  EXPECT_EQ(stream.Flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(stream.pending_size(), 0u);
}

TEST(Utf8Stream, AnySplitGivesTheSameTextAsWholeDecoding) {
  const std::string bytes =
      "Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\xA6\x99\xFF\xE2\x96"
      "a\xED\xA0\x80"
      "z\xF0\x9F";
  const std::string expected = ToValidUtf8(bytes);
  for (size_t cut1 = 0; cut1 <= bytes.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= bytes.size(); ++cut2) {
      Utf8Stream stream;
      std::string out;
      stream.Push(bytes.substr(0, cut1), &out);
      stream.Push(bytes.substr(cut1, cut2 - cut1), &out);
      stream.Push(bytes.substr(cut2), &out);
      EXPECT_TRUE(IsValidUtf8(out));
      stream.Flush(&out);
      ASSERT_EQ(out, expected) << cut1 << " " << cut2;
    }
  }
}

}  // namespace
}  // namespace ember
