// A GGUF model's own chat template (tokenizer.chat_template) reaches Model::chat_template(),
// and a key of the wrong type is an invalid model, not a crash.
#include <string>

#include "gtest/gtest.h"
#include "lib/model/model.h"
#include "tests/model/gguf_copy.h"
#include "tests/support/test_support.h"

namespace {

using ember::testing::CopyGguf;
using ember::testing::GgufEdits;
using ember::testing::TestDataPath;

TEST(ModelChatTemplateTest, GgufKeyIsRead) {
  const std::string tmpl = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}";
  GgufEdits edits;
  edits.add_metadata = [&](ember::GgufWriter& w) { w.AddString("tokenizer.chat_template", tmpl); };
  const std::string path = CopyGguf(TestDataPath("models/tiny-llama2.q8_0.gguf"), "with_template.gguf", edits);
  auto model = ember::Model::Load(path, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->chat_template(), tmpl);

  auto plain = ember::Model::Load(TestDataPath("models/tiny-llama2.q8_0.gguf"), {});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->chat_template(), "");
}

TEST(ModelChatTemplateTest, WrongTypeIsAnInvalidModel) {
  GgufEdits edits;
  edits.add_metadata = [](ember::GgufWriter& w) { w.AddBool("tokenizer.chat_template", true); };
  const std::string path = CopyGguf(TestDataPath("models/tiny-llama2.q8_0.gguf"), "bad_template.gguf", edits);
  auto model = ember::Model::Load(path, {});
  EXPECT_FALSE(model.ok());
}

}  // namespace
