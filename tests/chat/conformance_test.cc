// The chat-template conformance corpus (tests/data/chat, see its README): 34 real models'
// templates over 12 conversations, rendered by Python jinja2 in transformers' environment.
// Every case must render byte-identical, and every case jinja2 rejects must be an error.
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "lib/chat/template.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace {

using ember::chat::ChatTemplate;
using ember::testing::ReadFileBytes;
using ember::testing::TestDataPath;

TEST(ChatConformanceTest, EveryCaseRendersLikeJinja2) {
  std::ifstream in(TestDataPath("chat/cases.jsonl"));
  ASSERT_TRUE(in.good());
  std::map<std::string, std::unique_ptr<ChatTemplate>> templates;
  std::map<std::string, std::pair<int, int>> per_template;  // passed, total
  int passed = 0, total = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // ordered_json: the context's dicts keep their key order, as Python's json.loads does.
    nlohmann::ordered_json c = nlohmann::ordered_json::parse(line);
    const std::string name = c["name"].get<std::string>();
    const std::string path = c["template"].get<std::string>();
    auto it = templates.find(path);
    if (it == templates.end()) {
      auto parsed = ChatTemplate::Parse(ReadFileBytes(TestDataPath("chat/" + path)));
      ASSERT_TRUE(parsed.ok()) << path << ": " << parsed.status();
      it = templates.emplace(path, std::move(*parsed)).first;
    }
    auto context = ember::chat::ContextFromJson(c["context"].dump());
    ASSERT_TRUE(context.ok()) << name << ": " << context.status();
    auto rendered = it->second->Render(*context);
    bool ok;
    if (c.contains("error")) {
      ok = !rendered.ok();
      EXPECT_FALSE(rendered.ok()) << name << ": jinja2 fails (" << c["python_error"].get<std::string>()
                                  << ") but ember rendered:\n" << *rendered;
    } else {
      ok = rendered.ok() && *rendered == c["expected"].get<std::string>();
      EXPECT_TRUE(rendered.ok()) << name << ": " << rendered.status();
      if (rendered.ok()) {
        EXPECT_EQ(*rendered, c["expected"].get<std::string>()) << name;
      }
    }
    auto& [p, t] = per_template[path];
    ++t;
    ++total;
    if (ok) {
      ++p;
      ++passed;
    }
  }
  for (const auto& [path, counts] : per_template) {
    if (counts.first != counts.second) std::printf("  %3d/%3d  %s\n", counts.first, counts.second, path.c_str());
  }
  std::printf("chat conformance: %d/%d cases identical\n", passed, total);
  EXPECT_EQ(total, 816);
  EXPECT_EQ(passed, total);
}

}  // namespace
