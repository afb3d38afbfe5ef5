// Language features, each checked against the text Python jinja2 3.1 renders in
// transformers' environment for the same template and context (the expected strings were
// produced that way), plus the errors jinja2 raises.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lib/chat/template.h"

namespace {

using ember::chat::ChatTemplate;
using ember::chat::ContextFromJson;

constexpr char kContext[] = R"__({"messages": [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Hi \u00fcn\u00ef"}, {"role": "assistant", "content": "  Yo  "}], "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "n": 5, "f": 2.5, "s": "Hello World", "l": [3, 1, 2], "d": {"b": 1, "a": [1, 2.0, null, true]}, "e": []})__";

absl::StatusOr<std::string> Render(const std::string& source, const std::string& context_json = kContext) {
  auto t = ChatTemplate::Parse(source);
  if (!t.ok()) return t.status();
  auto ctx = ContextFromJson(context_json);
  if (!ctx.ok()) return ctx.status();
  return (*t)->Render(*ctx);
}

struct Case {
  const char* source;
  const char* expected;
};

constexpr Case kCases[] = {
    {R"__({{ [1, 'a', none, true, 1.5, {'k': (1,)}] }})__", R"__([1, 'a', None, True, 1.5, {'k': (1,)}])__"},
    {R"__({{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ 1/3 }} {{ 10/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 2**10 }} {{ 2**-1 }})__", R"__(1e+20 1e+16 1000000000000000.0 0.0001 1e-05 0.3333333333333333 5.0 3 -4 2 1024 0.5)__"},
    {R"__({{ "a" ~ 1 ~ none ~ x }}|{{ x }}|{{ x is defined }}|{{ y|default('dflt') }}|{{ ''|default('e', true) }})__", R"__(a1None||False|dflt|e)__"},
    {R"__({{ "%s-%d" % ("a", 3) }})__", R"__(a-3)__"},
    {R"__({{ "ab"|safe + "<b>" }}|{{ "<b>" + "x"|safe }}|{{ "<b>" ~ "x"|safe }})__", R"__(ab&lt;b&gt;|&lt;b&gt;x|<b>x)__"},
    {R"__({% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}:{{ m.role }};{% endfor %})__", R"__(1/0/3/2/True/False/3:system;2/1/2/1/False/False/3:user;3/2/1/0/False/True/3:assistant;)__"},
    {R"__({% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m['role'] }}{% else %}none{% endfor %})__", R"__(1user2assistant)__"},
    {R"__({% for x in e %}{{ x }}{% else %}EMPTY{% endfor %})__", R"__(EMPTY)__"},
    {R"__({% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 5 %}{% break %}{% endif %}{{ x }}{% endfor %})__", R"__(01345)__"},
    {R"__({% set ns = namespace(a=1) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }})__", R"__(4)__"},
    {R"__({% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = i + 5 %}{{ x }}{% endfor %}{{ x }})__", R"__(1516171)__"},
    {R"__({% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }} [{{ greet() }}])__", R"__(Hello Bob! Hello Al? [Hello !])__"},
    {R"__({% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}inner {{ s }}{% endcall %})__", R"__([inner Hello World])__"},
    {R"__({% macro wrap2() %}[{{ caller(1, 2) }}]{% endmacro %}{% call(a, b) wrap2() %}{{ a + b }}{% endcall %})__", R"__([3])__"},
    {R"__({% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(5) }})__", R"__(54321)__"},
    {R"__({% for item in [{'c': [{'c': []}, {'c': []}]}] recursive %}<{{ loop.depth }}{{ loop(item.c) }}>{% endfor %})__", R"__(<1<2><2>>)__"},
    {R"__({% filter upper %}hello {{ s }}{% endfilter %})__", R"__(HELLO HELLO WORLD)__"},
    {R"__({% set block %}  some text {{ n }}  {% endset %}[{{ block }}])__", R"__([  some text 5  ])__"},
    {R"__({% set block | trim %}  some text {{ n }}  {% endset %}[{{ block }}])__", R"__([some text 5])__"},
    {R"__({% raw %}{{ not rendered }}{% endraw %})__", R"__({{ not rendered }})__"},
    {R"__(a
  {% if true %}
  b
  {% endif %}
c)__", R"__(a
  b
c)__"},
    {R"__(a {{- ' b ' -}} c
  {%- if true -%}   d   {%- endif %}   e)__", R"__(a b cd   e)__"},
    {R"__({# comment #}
x  {#- c -#}  y)__", R"__(xy)__"},
    {R"__(   {%+ if true %}keep{% endif %}
   {% if true +%}
   x
{%- endif %})__", R"__(   keep
   x)__"},
    {R"__(line
)__", R"__(line)__"},
    {R"__({{ s[0] }}{{ s[-1] }}{{ s[1:4] }}{{ s[::-1] }}{{ s[::2] }}{{ l[1:] }}{{ l[-2:] }}{{ l[::-1] }}{{ 'ünï'[1] }})__", R"__(HdelldlroW olleHHloWrd[1, 2][1, 2][2, 1, 3]n)__"},
    {R"__({{ 'World' in s }} {{ 3 in l }} {{ 'a' in d }} {{ 'zz' not in s }} {{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ true == 1 }})__", R"__(True True True True True False True True)__"},
    {R"__({{ s is string }} {{ n is number }} {{ n is integer }} {{ f is float }} {{ d is mapping }} {{ l is iterable }} {{ l is sequence }} {{ none is none }} {{ true is boolean }} {{ n is odd }} {{ n is even }} {{ n is divisibleby 5 }} {{ 'a' is in 'abc' }} {{ n is eq 5 }} {{ x is undefined }} {{ x is not defined }})__", R"__(True True True True True True True True True True False True True True True True)__"},
    {R"__({{ 'yes' if n > 3 else 'no' }} [{{ 'yes' if n > 10 }}] {{ (1, 2) }} {{ (1,) }} {{ () }})__", R"__(yes [] (1, 2) (1,) ())__"},
    {R"__({{ s|length }} {{ l|length }} {{ d|length }} {{ 'ünï'|length }} {{ s|upper }} {{ s|lower }} {{ 'hello wORLD-foo(bar'|title }} {{ 'hello wORLD'|capitalize }} [{{ '  x  '|trim }}] {{ 'xxhixx'|trim('x') }})__", R"__(11 3 2 3 HELLO WORLD hello world Hello World-Foo(Bar Hello world [x] hi)__"},
    {R"__({{ l|join(',') }} {{ l|sort }} {{ l|sort(reverse=true) }} {{ l|first }} {{ l|last }} {{ l|min }} {{ l|max }} {{ l|sum }} {{ l|list }} {{ 'abc'|list }} {{ l|reverse|list }})__", R"__(3,1,2 [1, 2, 3] [3, 2, 1] 3 2 1 3 6 [3, 1, 2] ['a', 'b', 'c'] [2, 1, 3])__"},
    {R"__({{ messages|map(attribute='role')|join(', ') }} {{ messages|selectattr('role', 'equalto', 'user')|list|length }} {{ messages|rejectattr('role', 'eq', 'user')|map(attribute='content')|list }})__", R"__(system, user, assistant 1 ['Sys', '  Yo  '])__"},
    {R"__({{ d|tojson }} {{ d|tojson(indent=2) }} {{ "ü\n\"\t\u0001"|tojson }} {{ [1.0, 1e100, 0.1, -0.0]|tojson }} {{ d|tojson(sort_keys=true) }} {{ "ü"|tojson(ensure_ascii=true) }})__", R"__({"b": 1, "a": [1, 2.0, null, true]} {
  "b": 1,
  "a": [
    1,
    2.0,
    null,
    true
  ]
} "ü\n\"\t\u0001" [1.0, 1e+100, 0.1, -0.0] {"a": [1, 2.0, null, true], "b": 1} "\u00fc")__"},
    {R"__({{ d|items|list }} {{ d.items()|list }} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {{ d.keys()|list }} {{ d.values()|list }} {{ d.get('a') }} {{ d.get('q', 'def') }} {{ d.get('q') }})__", R"__([('b', 1), ('a', [1, 2.0, None, True])] [('b', 1), ('a', [1, 2.0, None, True])] b=1;a=[1, 2.0, None, True]; ['b', 'a'] [1, [1, 2.0, None, True]] [1, 2.0, None, True] def None)__"},
    {R"__({{ d|dictsort }} {{ d['b'] }} {{ d.b }} [{{ d.nope }}] [{{ d['nope'] }}])__", R"__([('a', [1, 2.0, None, True]), ('b', 1)] 1 1 [] [])__"},
    {R"__({{ "a,b,,c".split(",") }} {{ "  a b  c ".split() }} {{ "a b c".split(' ', 1) }} {{ "a,b,c".rsplit(',', 1) }} {{ "x".join(['a','b']) }} {{ "Hello".startswith('He') }} {{ "Hello".endswith(('x','lo')) }} [{{ "  pad ".strip() }}] [{{ "  pad ".lstrip() }}] [{{ "  pad ".rstrip() }}])__", R"__(['a', 'b', '', 'c'] ['a', 'b', 'c'] ['a', 'b c'] ['a,b', 'c'] axb True True [pad] [pad ] [  pad])__"},
    {R"__({{ "hello".replace('l', 'L') }} {{ "hello".replace('l', 'L', 1) }} {{ "hello"|replace('l','L') }} {{ "Hello".find('l') }} {{ "Hello".rfind('l') }} {{ "Hello".count('l') }} {{ "ab\ncd\r\nef".splitlines() }} {{ "hello world".title() }} {{ "hELLO".capitalize() }})__", R"__(heLLo heLlo heLLo 2 3 2 ['ab', 'cd', 'ef'] Hello World Hello)__"},
    {R"__({{ "{} and {}".format(1, 'b') }} {{ "{0}{1}{0}".format('x','y') }} {{ "{name}!".format(name='N') }})__", R"__(1 and b xyx N!)__"},
    {R"__({{ range(5)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }})__", R"__([0, 1, 2, 3, 4] [1, 4, 7] [5, 3, 1])__"},
    {R"__({{ "line1\nline2\n\nline4"|indent(2) }}|{{ "line1\nline2"|indent(2, true) }}|{{ "a\n\nb"|indent(3, blank=true) }}|{{ "a\nb"|indent('> ') }})__", R"__(line1
  line2

  line4|  line1
  line2|a
   
   b|a
> b)__"},
    {R"__({{ 5|string ~ 'x' }} {{ '5'|int + 1 }} {{ '3.7'|float }} {{ 'x'|int }} {{ 3.9|int }} {{ 2.5|round }} {{ 3.5|round }} {{ 3.14159|round(2) }} {{ -3|abs }} {{ 7|float }})__", R"__(5x 6 3.7 0 3 2.0 4.0 3.14 3 7.0)__"},
    {R"__({{ l|map('string')|join('-') }} {{ ['a','B']|map('upper')|list }} {{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ [0,1,'',none,'a']|select|list }} {{ [1,2,1,3]|unique|list }})__", R"__(3-1-2 ['A', 'B'] [3, 1] [2] [1, 'a'] [1, 2, 3])__"},
    {R"__({% set a, b = 1, 2 %}{{ a }}{{ b }}{% with x = 5 %}{{ x }}{% endwith %}[{{ x }}])__", R"__(125[])__"},
    {R"__({% if n is defined and n > 3 %}A{% elif n %}B{% else %}C{% endif %}{% if not e %}empty{% endif %})__", R"__(Aempty)__"},
    {R"__({{ none }} {{ true }} {{ false }} {{ 1.0 }} {{ -0.5 }} {{ 1e-7 }} {{ 0.1 + 0.2 }})__", R"__(None True False 1.0 -0.5 1e-07 0.30000000000000004)__"},
    {R"__({{ {'a': 1, 'b': 'c'} }} {{ "it's" }} {{ ["it's", 'a"b', 'x\ny', "both'\""] }})__", R"__({'a': 1, 'b': 'c'} it's ["it's", 'a"b', 'x\ny', 'both\'"'])__"},
    {R"__({% for i in range(3) %}{{ loop.cycle('a', 'b') }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %})__", R"__(a1;b02;a1;)__"},
    {R"__({{ 'abc' * 3 }} {{ [1] * 3 }} {{ [1,2] + [3] }} {{ 'x' ~ [1] }})__", R"__(abcabcabc [1, 1, 1] [1, 2, 3] x[1])__"},
    {R"__({% set j = joiner(', ') %}{% for i in l %}{{ j() }}{{ i }}{% endfor %} {{ dict(a=1, b=2) }} {{ namespace(x=1).x }})__", R"__(3, 1, 2 {'a': 1, 'b': 2} 1)__"},
    {R"__({{ 'a' if false }}{{ (none|string) + 'x' }}{{ none|default('d') }}{{ none|default('d', true) }})__", R"__(NonexNoned)__"},
    {R"__({% if messages|selectattr('role', 'equalto', 'nobody') %}generator is true{% endif %})__", R"__(generator is true)__"},
};

TEST(ChatTemplateTest, RendersLikeJinja2) {
  for (const Case& c : kCases) {
    auto out = Render(c.source);
    ASSERT_TRUE(out.ok()) << c.source << "\n" << out.status();
    EXPECT_EQ(*out, c.expected) << c.source;
  }
}

TEST(ChatTemplateTest, GenerationBlockRendersItsBody) {
  // transformers' AssistantTracker extension: {% generation %} marks assistant text.
  EXPECT_EQ(*Render("a{% generation %}kept{% endgeneration %}b"), "akeptb");
}

TEST(ChatTemplateTest, ErrorsWhereJinja2Fails) {
  for (const char* source : {
           "{{ raise_exception('boom') }}",   // the template's own error
           "{{ x.y }}",                       // attribute of an undefined value
           "{{ 'a' + x }}",                   // arithmetic with undefined
           "{{ undefined_fn() }}",            // calling undefined
           "{{ [].append(1) }}",              // the sandbox forbids mutation
           "{{ 1 + 'a' }}",                   // Python type errors
           "{% for x in none %}{% endfor %}",
           "{% for a, b in [[1, 2, 3]] %}{% endfor %}",
           "{{ 1 / 0 }}",
           "{{ range(1000000)|length }}",     // jinja2's sandbox range cap
           "{{ n|length }}",
           "{{ messages|selectattr('role')|length }}",  // a generator has no len()
           "{{ {}|tojson }}{{ x|tojson }}",   // Undefined is not JSON
           "{% set n.a = 1 %}",               // only namespaces take attributes
           "{{ 'a,b'[::, 1] }}",              // a slice inside a tuple subscript (fuzz find)
           "{{ [1, 2][1:, 0:] }}",
       }) {
    auto out = Render(source);
    EXPECT_FALSE(out.ok()) << source << " rendered " << *out;
  }
  auto out = Render("{{ raise_exception('Conversation roles must alternate') }}");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("Conversation roles must alternate"), std::string::npos) << out.status();
}

TEST(ChatTemplateTest, SyntaxErrorsAreErrorsWithALine) {
  for (const char* source : {
           "{% if x %}never closed",
           "{% for x in y %}{% endif %}",
           "{{ 'unterminated }}",
           "{{ x |nosuchfilter }}",
           "{% if x is nosuchtest %}{% endif %}",
           "{% unknowntag %}",
           "{{ }}",
           "{{ (1, }}",
           "{# never closed",
           "{% break %}",
           "{{ x ]] }}",
           "{% raw %}no end",
       }) {
    auto t = ChatTemplate::Parse(source);
    ASSERT_FALSE(t.ok()) << source;
    EXPECT_NE(t.status().message().find("line"), std::string::npos) << t.status();
  }
  auto t = ChatTemplate::Parse("a\nb\n{% if %}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status();
}

TEST(ChatTemplateTest, InvalidUtf8TemplateIsAnError) {
  EXPECT_FALSE(ChatTemplate::Parse("abc\xff").ok());
}

TEST(ChatTemplateTest, ContextMustBeAJsonObject) {
  EXPECT_FALSE(ContextFromJson("[1, 2]").ok());
  EXPECT_FALSE(ContextFromJson("{\"a\": ").ok());
  EXPECT_FALSE(ContextFromJson(std::string(10000, '[')).ok());
  EXPECT_TRUE(ContextFromJson("{}").ok());
}

TEST(ChatTemplateTest, DictKeepsContextKeyOrder) {
  EXPECT_EQ(*Render("{{ d|tojson }}{% for k in d %}{{ k }}{% endfor %}", R"({"d": {"z": 1, "a": 2, "m": 3}})"),
            R"({"z": 1, "a": 2, "m": 3}zam)");
}

}  // namespace
