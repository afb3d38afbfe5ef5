// `ember chat`: a multi-turn conversation in the terminal, one user message per stdin line.
//
// Every turn re-renders the whole conversation with the model's chat template and hands the
// tokens to ember_session_eval_reuse(), which keeps the longest prefix the session already
// holds: a turn pays only for the tokens after it (the end of the last reply as the template
// spells it, and the new user message). The reply is then generated from the session's
// logits and streamed. Only the public C API is used, as a host program would.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common.h"
#include "cli/flags.h"

namespace ember::cli {
namespace {

constexpr char kCmd[] = "chat";
// -n when not given: a reply ends at the model's end of turn, this only bounds a model
// that never emits one.
constexpr int32_t kDefaultMaxReplyTokens = 512;

struct ChatDeleter { void operator()(ember_chat* c) const { ember_chat_free(c); } };
using ChatPtr = std::unique_ptr<ember_chat, ChatDeleter>;

// Streams each token's text and keeps it as the reply that joins the conversation.
int32_t StreamReply(void* user_data, int32_t /*token*/, const char* text, size_t text_len) {
  static_cast<std::string*>(user_data)->append(text, text_len);
  std::fwrite(text, 1, text_len, stdout);
  std::fflush(stdout);
  return 0;
}

bool IsBlank(const std::string& line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

bool AddMessage(ember_chat* chat, const char* role, const std::string& content) {
  const ember_status st = ember_chat_add(chat, role, std::strlen(role), content.data(), content.size());
  if (st != EMBER_OK) {
    ReportError(kCmd, std::string("cannot add the ") + role + " message", st);
    return false;
  }
  return true;
}

bool Render(ember_model* model, const ember_chat* chat, std::string* text) {
  size_t n = 0;
  ember_status st = ember_chat_apply(model, chat, nullptr, 0, EMBER_CHAT_ADD_GENERATION_PROMPT, nullptr, 0, &n);
  if (st == EMBER_ERR_BUFFER_TOO_SMALL || (st == EMBER_OK && n > 0)) {
    text->resize(n);
    st = ember_chat_apply(model, chat, nullptr, 0, EMBER_CHAT_ADD_GENERATION_PROMPT, text->data(), text->size(), &n);
  }
  if (st != EMBER_OK) {
    ReportError(kCmd, "cannot render the chat template", st);
    return false;
  }
  text->resize(n);
  return true;
}

// The rendered conversation as token ids. Templates spell control tokens as text, and most
// write bos_token themselves, so the text is tokenized with PARSE_SPECIAL and without an
// automatic BOS; BOS is then put in front only if the model (or --bos) wants one and the
// template did not already write it: never two.
bool PromptTokens(ember_model* model, const std::string& text, bool want_bos, std::vector<int32_t>* ids) {
  if (!Tokenize(kCmd, model, text, EMBER_TOKENIZE_PARSE_SPECIAL | EMBER_TOKENIZE_NO_BOS, ids)) return false;
  const int32_t bos = ember_model_token_bos(model);
  if (want_bos && bos >= 0 && (ids->empty() || ids->front() != bos)) ids->insert(ids->begin(), bos);
  return true;
}

}  // namespace

int RunChat() {
  if (!absl::GetFlag(FLAGS_p).empty() || !absl::GetFlag(FLAGS_f).empty()) {
    return UsageError(kCmd, "chat reads the user's messages from stdin, one per line (no -p / -f)");
  }
  std::string error;
  uint32_t tokenize_flags = 0;
  if (!TokenizeFlags(&tokenize_flags, &error)) return UsageError(kCmd, error);
  const int32_t max_reply = absl::GetFlag(FLAGS_n) < 0 ? kDefaultMaxReplyTokens : absl::GetFlag(FLAGS_n);
  const bool verbose = absl::GetFlag(FLAGS_verbose);

  SamplerOptionsPtr sampler = SamplerOptionsFromFlags(kCmd);
  if (!sampler) return 1;
  ember_generate_options* raw_generate = nullptr;
  ember_status st = ember_generate_options_create(&raw_generate);
  GenerateOptionsPtr generate(raw_generate);
  if (st == EMBER_OK) st = ember_generate_options_set_max_tokens(raw_generate, max_reply);
  if (st != EMBER_OK) return ReportError(kCmd, "bad generation option", st);

  ModelPtr model = LoadModelFromFlags(kCmd);
  if (!model) return 1;
  SessionPtr session = CreateSessionFromFlags(kCmd, model.get(), sampler.get());
  if (!session) return 1;
  const bool want_bos = (tokenize_flags & EMBER_TOKENIZE_ADD_BOS) != 0 ||
                        ((tokenize_flags & EMBER_TOKENIZE_NO_BOS) == 0 && ember_model_adds_bos(model.get()) != 0);

  ember_chat* raw_chat = nullptr;
  st = ember_chat_create(&raw_chat);
  ChatPtr chat(raw_chat);
  if (st != EMBER_OK) return ReportError(kCmd, "cannot create the chat", st);
  const std::string system = absl::GetFlag(FLAGS_system);
  if (!system.empty() && !AddMessage(chat.get(), "system", system)) return 1;

  // A prompt marker is for a person at a terminal; piped input gets the replies alone.
  const bool interactive = isatty(fileno(stdin)) != 0;
  int turn = 0;
  std::string line, rendered, reply;
  std::vector<int32_t> ids;
  for (;;) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (IsBlank(line)) continue;
    ++turn;
    if (!AddMessage(chat.get(), "user", line)) return 1;
    if (!Render(model.get(), chat.get(), &rendered)) return 1;
    if (!PromptTokens(model.get(), rendered, want_bos, &ids)) return 1;
    size_t n_reused = 0;
    st = ember_session_eval_reuse(session.get(), ids.data(), ids.size(), &n_reused);
    if (st != EMBER_OK) return ReportError(kCmd, "cannot evaluate the conversation", st);

    reply.clear();
    int32_t n_generated = 0;
    // The prompt is already in the session: generation continues from its logits.
    st = ember_session_generate_ex(session.get(), nullptr, 0, EMBER_TOKENIZE_NO_BOS, raw_generate, StreamReply,
                                   &reply, &n_generated, nullptr);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (st != EMBER_OK) return ReportError(kCmd, "generation failed", st);
    if (verbose) {
      std::fprintf(stderr, "turn %d: prompt tokens evaluated %zu, reused %zu, generated %d\n", turn,
                   ids.size() - n_reused, n_reused, n_generated);
    }
    if (!AddMessage(chat.get(), "assistant", reply)) return 1;
  }
  if (interactive) std::fputs("\n", stdout);
  return 0;
}

}  // namespace ember::cli
