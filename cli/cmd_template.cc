// `ember template`: renders a chat template with a JSON context and prints the text exactly
// (nothing added). The template is -t FILE, or the model's own with -m (whose BOS/EOS
// texts fill bos_token/eos_token unless the context sets them). Exit 0 on success; 1 with
// the message on stderr when the template fails (syntax error, raise_exception, caps).
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"

namespace ember::cli {

int RunTemplate() {
  constexpr char kCmd[] = "template";
  const std::string template_path = absl::GetFlag(FLAGS_template_file);
  const std::string context_path = absl::GetFlag(FLAGS_j);
  const bool with_model = !absl::GetFlag(FLAGS_m).empty();
  if (context_path.empty()) return UsageError(kCmd, "-j CONTEXT.json is required");
  if (template_path.empty() && !with_model) return UsageError(kCmd, "give -t TEMPLATE_FILE or -m MODEL");
  std::string source, context;
  if (!template_path.empty() && !ReadWholeFile(template_path, &source)) {
    std::fprintf(stderr, "ember %s: cannot read %s\n", kCmd, template_path.c_str());
    return 1;
  }
  if (!ReadWholeFile(context_path, &context)) {
    std::fprintf(stderr, "ember %s: cannot read %s\n", kCmd, context_path.c_str());
    return 1;
  }
  ModelPtr model;
  if (with_model) {
    model = LoadModelFromFlags(kCmd);
    if (!model) return 1;
  }
  const char* tmpl = template_path.empty() ? nullptr : source.data();
  size_t len = 0;
  ember_status st = ember_chat_apply_json(model.get(), tmpl, source.size(), context.data(), context.size(), nullptr,
                                          0, &len);
  std::string text;
  if (st == EMBER_ERR_BUFFER_TOO_SMALL) {
    text.resize(len);
    st = ember_chat_apply_json(model.get(), tmpl, source.size(), context.data(), context.size(), text.data(),
                               text.size(), &len);
  }
  if (st != EMBER_OK) {
    std::fprintf(stderr, "ember %s: %s\n", kCmd, ember_last_error());
    return 1;
  }
  text.resize(len);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace ember::cli
