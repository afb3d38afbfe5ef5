#include "server/request.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

namespace ember::server {
namespace {

using json = nlohmann::json;

// JSON type names as OpenAI's error messages spell them.
const char* TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a decimal";
    default: return "an unknown type";
  }
}

ApiError WrongType(const std::string& param, const char* expected, const json& got) {
  return BadRequest("Invalid type for '" + param + "': expected " + expected + ", but got " +
                        TypeName(got) + " instead.",
                    param, "invalid_type");
}

ApiError OutOfRange(const std::string& param, const std::string& range) {
  return BadRequest("Invalid value for '" + param + "': must be " + range + ".", param,
                    "invalid_value");
}

ApiError Unsupported(const std::string& param, const std::string& what) {
  return BadRequest(what + " is not supported by this server.", param, "unsupported_parameter");
}

// A present, non-null member, or nullptr. OpenAI treats an explicit null as "not given".
const json* Member(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

bool GetNumber(const json& body, const char* key, double lo, double hi, float* out, ApiError* error) {
  const json* v = Member(body, key);
  if (v == nullptr) return true;
  if (!v->is_number()) {
    *error = WrongType(key, "a number", *v);
    return false;
  }
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi)) {
    *error = OutOfRange(key, "between " + json(lo).dump() + " and " + json(hi).dump());
    return false;
  }
  *out = static_cast<float>(d);
  return true;
}

// An integer in [lo, hi]; a decimal with an integral value (2.0) counts as an integer.
bool GetInteger(const json& body, const char* key, int64_t lo, int64_t hi,
                std::optional<int64_t>* out, ApiError* error) {
  const json* v = Member(body, key);
  if (v == nullptr) return true;
  int64_t value = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *error = OutOfRange(key, "between " + std::to_string(lo) + " and " + std::to_string(hi));
      return false;
    }
    value = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    value = v->get<int64_t>();
  } else if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) != d || !(std::fabs(d) < 9.0e18)) {
      *error = WrongType(key, "an integer", *v);
      return false;
    }
    value = static_cast<int64_t>(d);
  } else {
    *error = WrongType(key, "an integer", *v);
    return false;
  }
  if (value < lo || value > hi) {
    *error = OutOfRange(key, "between " + std::to_string(lo) + " and " + std::to_string(hi));
    return false;
  }
  *out = value;
  return true;
}

bool GetBool(const json& body, const char* key, bool* out, ApiError* error) {
  const json* v = Member(body, key);
  if (v == nullptr) return true;
  if (!v->is_boolean()) {
    *error = WrongType(key, "a boolean", *v);
    return false;
  }
  *out = v->get<bool>();
  return true;
}

// Message content: a string, null, or a list of {"type":"text","text":...} parts.
bool ParseContent(const json& content, const std::string& param, std::string* out, ApiError* error) {
  if (content.is_null()) return true;
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) {
    *error = WrongType(param, "a string or an array of content parts", content);
    return false;
  }
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string part_param = param + "[" + std::to_string(i) + "]";
    if (!part.is_object()) {
      *error = WrongType(part_param, "an object", part);
      return false;
    }
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) {
      *error = BadRequest("Missing required parameter: '" + part_param + ".type'.", part_param + ".type",
                          "missing_required_parameter");
      return false;
    }
    if (type->get<std::string>() != "text") {
      *error = Unsupported(part_param + ".type", "Content part type '" + type->get<std::string>() + "'");
      return false;
    }
    auto text = part.find("text");
    if (text == part.end() || !text->is_string()) {
      *error = WrongType(part_param + ".text", "a string", text == part.end() ? json(nullptr) : *text);
      return false;
    }
    if (!out->empty()) out->push_back('\n');
    *out += text->get<std::string>();
  }
  return true;
}

bool ParseMessages(const json& body, std::vector<ChatMessage>* out, ApiError* error) {
  const json* messages = Member(body, "messages");
  if (messages == nullptr) {
    *error = BadRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
    return false;
  }
  if (!messages->is_array()) {
    *error = WrongType("messages", "an array", *messages);
    return false;
  }
  if (messages->empty()) {
    *error = BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.",
                        "messages", "empty_array");
    return false;
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) {
      *error = WrongType(param, "an object", m);
      return false;
    }
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) {
      *error = BadRequest("Missing required parameter: '" + param + ".role'.", param + ".role",
                          "missing_required_parameter");
      return false;
    }
    ChatMessage message;
    message.role = role->get<std::string>();
    if (message.role == "developer") message.role = "system";
    if (message.role != "system" && message.role != "user" && message.role != "assistant" &&
        message.role != "tool") {
      *error = BadRequest("Invalid value: '" + message.role + "'. Supported values are: 'system', "
                          "'developer', 'user', 'assistant' and 'tool'.",
                          param + ".role", "invalid_value");
      return false;
    }
    if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
      *error = Unsupported(param + ".tool_calls", "Tool calls");
      return false;
    }
    auto content = m.find("content");
    if (content == m.end()) {
      *error = BadRequest("Missing required parameter: '" + param + ".content'.", param + ".content",
                          "missing_required_parameter");
      return false;
    }
    if (!ParseContent(*content, param + ".content", &message.content, error)) return false;
    out->push_back(std::move(message));
  }
  return true;
}

bool ParseTokenList(const json& list, const std::string& param, std::vector<int32_t>* out, ApiError* error) {
  for (size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    if (!t.is_number_integer() && !t.is_number_unsigned()) {
      *error = WrongType(param + "[" + std::to_string(i) + "]", "an integer", t);
      return false;
    }
    const int64_t id = t.is_number_unsigned() && t.get<uint64_t>() > INT32_MAX ? -1 : t.get<int64_t>();
    if (id < 0 || id > INT32_MAX) {
      *error = OutOfRange(param + "[" + std::to_string(i) + "]", "a token id (a non-negative integer)");
      return false;
    }
    out->push_back(static_cast<int32_t>(id));
  }
  return true;
}

// Completions prompt: a string, [string], [ids] or [[ids]]; only one prompt (n = 1).
bool ParsePrompt(const json& body, GenerationRequest* out, ApiError* error) {
  const json* prompt = Member(body, "prompt");
  if (prompt == nullptr) {
    *error = BadRequest("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
    return false;
  }
  if (prompt->is_string()) {
    out->prompt = prompt->get<std::string>();
    return true;
  }
  if (!prompt->is_array()) {
    *error = WrongType("prompt", "a string, an array of strings or an array of token ids", *prompt);
    return false;
  }
  if (prompt->empty()) {
    *error = BadRequest("Invalid 'prompt': empty array.", "prompt", "empty_array");
    return false;
  }
  const json& first = (*prompt)[0];
  if (first.is_string() || first.is_array()) {
    if (prompt->size() != 1) {
      *error = Unsupported("prompt", "More than one prompt per request");
      return false;
    }
    if (first.is_string()) {
      out->prompt = first.get<std::string>();
      return true;
    }
    out->prompt_is_tokens = true;
    return ParseTokenList(first, "prompt[0]", &out->prompt_tokens, error);
  }
  out->prompt_is_tokens = true;
  return ParseTokenList(*prompt, "prompt", &out->prompt_tokens, error);
}

bool ParseStop(const json& body, std::vector<std::string>* out, ApiError* error) {
  const json* stop = Member(body, "stop");
  if (stop == nullptr) return true;
  if (stop->is_string()) {
    if (!stop->get<std::string>().empty()) out->push_back(stop->get<std::string>());
    return true;
  }
  if (!stop->is_array()) {
    *error = WrongType("stop", "a string or an array of strings", *stop);
    return false;
  }
  if (stop->size() > kMaxStopStrings) {
    *error = BadRequest("Invalid 'stop': array too long. Expected an array with maximum length " +
                            std::to_string(kMaxStopStrings) + ", but got an array with length " +
                            std::to_string(stop->size()) + " instead.",
                        "stop", "array_above_max_length");
    return false;
  }
  for (size_t i = 0; i < stop->size(); ++i) {
    const json& s = (*stop)[i];
    if (!s.is_string()) {
      *error = WrongType("stop[" + std::to_string(i) + "]", "a string", s);
      return false;
    }
    if (!s.get<std::string>().empty()) out->push_back(s.get<std::string>());
  }
  return true;
}

// The generation library takes stop strings as C strings, so an embedded NUL would silently
// cut one short: refuse it instead.
bool CheckStopHasNoNul(const std::vector<std::string>& stops, ApiError* error) {
  for (const std::string& s : stops) {
    if (s.find('\0') != std::string::npos) {
      *error = BadRequest("Invalid 'stop': stop strings must not contain the NUL character (\\u0000).", "stop",
                          "invalid_value");
      return false;
    }
  }
  return true;
}

// logit_bias: {"<token id>": bias in [-100, 100]}.
bool ParseLogitBias(const json& body, std::vector<std::pair<int32_t, float>>* out, ApiError* error) {
  const json* bias = Member(body, "logit_bias");
  if (bias == nullptr) return true;
  if (!bias->is_object()) {
    *error = WrongType("logit_bias", "an object", *bias);
    return false;
  }
  if (bias->size() > kMaxLogitBiasEntries) {
    *error = BadRequest("Invalid 'logit_bias': at most " + std::to_string(kMaxLogitBiasEntries) +
                            " entries are allowed.",
                        "logit_bias", "invalid_value");
    return false;
  }
  for (auto it = bias->begin(); it != bias->end(); ++it) {
    const std::string& key = it.key();
    const bool digits = !key.empty() && key.size() <= 10 &&
                        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    const long long id = digits ? std::strtoll(key.c_str(), nullptr, 10) : -1;
    if (id < 0 || id > INT32_MAX) {
      *error = BadRequest("Invalid key in 'logit_bias': '" + key + "' is not a token id.", "logit_bias",
                          "invalid_value");
      return false;
    }
    if (!it.value().is_number()) {
      *error = WrongType("logit_bias." + key, "a number", it.value());
      return false;
    }
    const double b = it.value().get<double>();
    if (!(b >= -100.0 && b <= 100.0)) {
      *error = OutOfRange("logit_bias." + key, "between -100 and 100");
      return false;
    }
    out->emplace_back(static_cast<int32_t>(id), static_cast<float>(b));
  }
  std::sort(out->begin(), out->end());
  return true;
}

bool ParseResponseFormat(const json& body, GenerationRequest* out, ApiError* error) {
  const json* format = Member(body, "response_format");
  if (format == nullptr) return true;
  if (!format->is_object()) {
    *error = WrongType("response_format", "an object", *format);
    return false;
  }
  auto type = format->find("type");
  if (type == format->end() || !type->is_string()) {
    *error = BadRequest("Missing required parameter: 'response_format.type'.", "response_format.type",
                        "missing_required_parameter");
    return false;
  }
  const std::string t = type->get<std::string>();
  if (t == "text") return true;
  if (t == "json_object") {
    out->response_format = ResponseFormat::kJsonObject;
    return true;
  }
  if (t == "json_schema") {
    auto spec = format->find("json_schema");
    if (spec == format->end() || !spec->is_object()) {
      *error = BadRequest("Missing required parameter: 'response_format.json_schema'.",
                          "response_format.json_schema", "missing_required_parameter");
      return false;
    }
    auto schema = spec->find("schema");
    if (schema != spec->end() && !schema->is_object() && !schema->is_boolean()) {
      *error = WrongType("response_format.json_schema.schema", "an object", *schema);
      return false;
    }
    out->response_format = ResponseFormat::kJsonSchema;
    out->json_schema = schema == spec->end() ? "{}" : schema->dump();
    return true;
  }
  *error = BadRequest("Invalid value: '" + t + "'. Supported values are: 'text', 'json_object' and "
                      "'json_schema'.",
                      "response_format.type", "invalid_value");
  return false;
}

bool ParseObject(Endpoint endpoint, const json& body, GenerationRequest* out, ApiError* error) {
  out->endpoint = endpoint;
  if (const json* model = Member(body, "model")) {
    if (!model->is_string()) {
      *error = WrongType("model", "a string", *model);
      return false;
    }
    out->model = model->get<std::string>();
  }
  const bool chat = endpoint == Endpoint::kChatCompletions;
  if (chat ? !ParseMessages(body, &out->messages, error) : !ParsePrompt(body, out, error)) return false;

  // max_completion_tokens supersedes max_tokens (OpenAI deprecated the latter for chat).
  std::optional<int64_t> max_tokens;
  if (!GetInteger(body, "max_tokens", 1, kMaxTokensLimit, &max_tokens, error)) return false;
  if (chat && !GetInteger(body, "max_completion_tokens", 1, kMaxTokensLimit, &max_tokens, error)) return false;
  if (max_tokens) out->max_tokens = static_cast<int32_t>(*max_tokens);
  if (!chat && !max_tokens && Member(body, "max_tokens") == nullptr) out->max_tokens = 16;  // OpenAI's default

  if (!GetNumber(body, "temperature", 0.0, 2.0, &out->temperature, error)) return false;
  if (!GetNumber(body, "top_p", 0.0, 1.0, &out->top_p, error)) return false;
  if (!GetNumber(body, "presence_penalty", -2.0, 2.0, &out->presence_penalty, error)) return false;
  if (!GetNumber(body, "frequency_penalty", -2.0, 2.0, &out->frequency_penalty, error)) return false;
  std::optional<int64_t> seed;
  if (!GetInteger(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                  &seed, error)) {
    return false;
  }
  if (seed) out->seed = static_cast<uint64_t>(*seed);
  std::optional<int64_t> n;
  if (!GetInteger(body, "n", 1, 128, &n, error)) return false;
  if (n && *n != 1) {
    // TODO(batch): several choices per request would decode as one batch.
    *error = Unsupported("n", "n other than 1 (several choices per request)");
    return false;
  }
  if (!ParseStop(body, &out->stop, error) || !CheckStopHasNoNul(out->stop, error)) return false;
  if (!ParseLogitBias(body, &out->logit_bias, error)) return false;
  if (!GetBool(body, "stream", &out->stream, error)) return false;
  if (const json* options = Member(body, "stream_options")) {
    if (!options->is_object()) {
      *error = WrongType("stream_options", "an object", *options);
      return false;
    }
    if (!out->stream) {
      *error = BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                          "stream_options", "invalid_value");
      return false;
    }
    if (!GetBool(*options, "include_usage", &out->include_usage, error)) {
      error->param = "stream_options.include_usage";
      return false;
    }
  }
  if (chat && !ParseResponseFormat(body, out, error)) return false;

  // Features this server does not implement are refused, never silently ignored.
  if (chat) {
    bool logprobs = false;
    if (!GetBool(body, "logprobs", &logprobs, error)) return false;
    if (logprobs) {
      *error = Unsupported("logprobs", "logprobs");
      return false;
    }
    if (Member(body, "tools") != nullptr || Member(body, "functions") != nullptr) {
      *error = Unsupported(Member(body, "tools") ? "tools" : "functions", "Tool and function calling");
      return false;
    }
  } else {
    if (Member(body, "logprobs") != nullptr) {
      *error = Unsupported("logprobs", "logprobs");
      return false;
    }
    std::optional<int64_t> best_of;
    if (!GetInteger(body, "best_of", 1, 128, &best_of, error)) return false;
    if (best_of && *best_of != 1) {
      *error = Unsupported("best_of", "best_of other than 1");
      return false;
    }
    if (const json* suffix = Member(body, "suffix")) {
      if (!suffix->is_string() || !suffix->get<std::string>().empty()) {
        *error = Unsupported("suffix", "suffix");
        return false;
      }
    }
    if (!GetBool(body, "echo", &out->echo, error)) return false;
  }
  return true;
}

}  // namespace

bool ParseGenerationRequest(Endpoint endpoint, std::string_view body, GenerationRequest* out,
                            ApiError* error) {
  *out = GenerationRequest();
  json parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    *error = BadRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
        "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid "
        "JSON.)",
        "", "invalid_json");
    return false;
  }
  if (!parsed.is_object()) {
    *error = BadRequest(std::string("The request body must be a JSON object, not ") + TypeName(parsed) + ".",
                        "", "invalid_json");
    return false;
  }
  try {
    return ParseObject(endpoint, parsed, out, error);
  } catch (const std::exception& e) {
    // Defensive: every access above is type-checked first, so this is a bug; still a 400.
    *error = BadRequest(std::string("Invalid request: ") + e.what());
    return false;
  }
}

bool CheckSupported(const GenerationRequest& request, const BackendCapabilities& caps, ApiError* error) {
  if ((request.presence_penalty != 0.0f || request.frequency_penalty != 0.0f) && !caps.penalties) {
    *error = Unsupported(request.presence_penalty != 0.0f ? "presence_penalty" : "frequency_penalty",
                         "A non-zero presence_penalty or frequency_penalty (not supported yet)");
    return false;
  }
  if (!request.logit_bias.empty() && !caps.logit_bias) {
    *error = Unsupported("logit_bias", "logit_bias (not supported yet)");
    return false;
  }
  if (caps.n_vocab > 0) {
    for (const auto& [id, bias] : request.logit_bias) {
      if (id >= caps.n_vocab) {
        *error = OutOfRange("logit_bias", "keyed by token ids below " + std::to_string(caps.n_vocab));
        return false;
      }
    }
    for (int32_t id : request.prompt_tokens) {
      if (id >= caps.n_vocab) {
        *error = OutOfRange("prompt", "token ids below " + std::to_string(caps.n_vocab));
        return false;
      }
    }
  }
  return true;
}

}  // namespace ember::server
