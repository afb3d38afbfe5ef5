// The sandbox caps: hostile templates end with an error status, never a crash, a hang or
// unbounded memory. Each case uses small caps so that it stays quick.
#include <string>

#include "gtest/gtest.h"
#include "lib/chat/template.h"

namespace {

using ember::chat::ChatTemplate;
using ember::chat::ContextFromJson;
using ember::chat::RenderLimits;

absl::Status RenderStatus(const std::string& source, const RenderLimits& limits = {}) {
  auto t = ChatTemplate::Parse(source);
  if (!t.ok()) return t.status();
  auto ctx = ContextFromJson("{}");
  auto out = (*t)->Render(*ctx, limits);
  return out.status();
}

void ExpectLimit(const std::string& source, const RenderLimits& limits, const std::string& what) {
  absl::Status st = RenderStatus(source, limits);
  ASSERT_FALSE(st.ok()) << source;
  EXPECT_NE(st.message().find(what), std::string::npos) << st;
}

TEST(ChatLimitsTest, LoopIterations) {
  RenderLimits limits;
  limits.max_loop_iterations = 10000;
  ExpectLimit("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", limits,
              "loop iterations");
}

TEST(ChatLimitsTest, RecursionDepth) {
  ExpectLimit("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", {}, "nest deeper");
  ExpectLimit("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", {}, "nest deeper");
}

TEST(ChatLimitsTest, EvaluationNesting) {
  // Deep expressions inside recursive macros: each alone is within its cap, together they
  // would need a deep C++ stack.
  std::string deep = "f(n + 1)";
  for (int i = 0; i < 100; ++i) deep = "(" + deep + " ~ '')";
  ExpectLimit("{% macro f(n) %}{{ " + deep + " }}{% endmacro %}{{ f(0) }}", {}, "evaluation nests deeper");
}

TEST(ChatLimitsTest, OutputSize) {
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  ExpectLimit("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", limits, "exceeds");
  // Strings doubling in a namespace hit the same cap before they are built.
  ExpectLimit("{% set ns = namespace(s='xy') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
              limits, "string would exceed");
  ExpectLimit("{{ 'x' * 100000000000 }}", limits, "string would exceed");
  ExpectLimit("{{ 'ab'|replace('a', 'x' * 1000) * 2000 }}", limits, "exceed");
}

TEST(ChatLimitsTest, SharedValuesDoNotExplode) {
  // Lists share their elements, so a few small steps describe a value whose text or
  // element-wise comparison is astronomically large; each stops at a cap.
  RenderLimits limits;
  limits.max_output_bytes = 1 << 20;
  const std::string build =
      "{% set a = range(1000)|list %}{% set b = [a] * 1000 %}{% set c = [b] * 1000 %}"
      "{% set d = [[range(1000)|list] * 1000] * 1000 %}";
  ExpectLimit(build + "{{ c }}", limits, "exceed");
  ExpectLimit(build + "{{ c|tojson }}", limits, "too large");
  ExpectLimit(build + "{{ c ~ '' }}", limits, "exceed");
  EXPECT_TRUE(RenderStatus(build + "{{ c == d }}{{ c in [d] }}", limits).ok());
  ExpectLimit(build + "{{ [c, d]|sort }}", limits, "too expensive");
  EXPECT_TRUE(RenderStatus("{{ '' * 100000000000 }}{{ [] * 100000000000 }}").ok());
}

TEST(ChatLimitsTest, ListSize) {
  RenderLimits limits;
  limits.max_list_items = 1 << 16;
  ExpectLimit("{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
              limits, "list would exceed");
  ExpectLimit("{{ [1, 2] * 100000000000 }}", limits, "list would exceed");
}

TEST(ChatLimitsTest, ValueNesting) {
  // Destroying or printing a value recurses per level, so storing deep values is refused.
  ExpectLimit("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}", {},
              "nests deeper");
  ExpectLimit("{% set ns = namespace(n=none) %}{% for i in range(100000) %}{% set ns.n = namespace(x=ns.n) %}{% endfor %}",
              {}, "nests deeper");
}

TEST(ChatLimitsTest, Time) {
  RenderLimits limits;
  limits.max_time = absl::ZeroDuration();
  ExpectLimit("{% for i in range(100000) %}{{ i }}{% endfor %}", limits, "took longer");
}

TEST(ChatLimitsTest, ParserNesting) {
  absl::Status st = RenderStatus("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nests too deeply"), std::string::npos) << st;
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "{% if true %}";
  EXPECT_FALSE(RenderStatus(deep).ok());
  EXPECT_FALSE(RenderStatus("{{ " + std::string(100000, '-') + "1 }}").ok());
  EXPECT_FALSE(RenderStatus("{{ " + std::string(100000, '[') + " }}").ok());
}

TEST(ChatLimitsTest, ReferenceCyclesAreReleased) {
  // A namespace holding itself and a macro stored in the scope it closes over form cycles;
  // the render breaks them (the sanitizer build checks nothing leaks).
  EXPECT_TRUE(RenderStatus("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me is defined }}").ok());
  EXPECT_TRUE(RenderStatus("{% macro m() %}{{ m is defined }}{% endmacro %}{% set ns = namespace(f=m) %}{{ ns.f() }}").ok());
}

}  // namespace
