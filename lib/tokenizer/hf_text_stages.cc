#include "lib/tokenizer/hf_text_stages.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"
#include "lib/tokenizer/spm_vocab.h"
#include "lib/tokenizer/utf8.h"
#include "utf8proc.h"

namespace ember::hf {

using nlohmann::json;

std::string StringOr(const json& j, const char* key, std::string fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return fallback;
}

bool BoolOr(const json& j, const char* key, bool fallback) {
  if (j.is_object() && j.contains(key) && j[key].is_boolean()) return j[key].get<bool>();
  return fallback;
}

void ReplaceAll(std::string_view from, std::string_view to, std::string* s) {
  if (from.empty() || s->find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s->size());
  size_t pos = 0;
  for (size_t hit; (hit = s->find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(*s, pos, hit - pos);
    out.append(to);
  }
  out.append(*s, pos, std::string::npos);
  s->swap(out);
}

namespace {

// {"type": "Replace", "pattern": {"String": from}, "content": to}; false for Regex patterns.
bool ParseStringReplace(const json& j, std::string* from, std::string* to) {
  if (!j.contains("pattern") || !j["pattern"].is_object() || !j["pattern"].contains("String") ||
      !j["pattern"]["String"].is_string() || !j.contains("content") || !j["content"].is_string()) {
    return false;
  }
  *from = j["pattern"]["String"].get<std::string>();
  *to = j["content"].get<std::string>();
  return true;
}

// Older files say add_prefix_space (bool) instead of prepend_scheme.
std::string PrependScheme(const json& j) {
  return StringOr(j, "prepend_scheme", BoolOr(j, "add_prefix_space", true) ? "always" : "never");
}

}  // namespace

// ---- Normalizer -----------------------------------------------------------------------------

absl::StatusOr<Normalizer> Normalizer::FromJson(const json& j, std::string_view source) {
  Normalizer n;
  EMBER_RETURN_IF_ERROR(n.Parse(j, source));
  return n;
}

absl::Status Normalizer::Parse(const json& j, std::string_view source) {
  if (j.is_null()) return absl::OkStatus();
  const std::string type = TypeOf(j);
  Step step;
  if (type == "Sequence" && j.contains("normalizers") && j["normalizers"].is_array()) {
    for (const json& sub : j["normalizers"]) EMBER_RETURN_IF_ERROR(Parse(sub, source));
    return absl::OkStatus();
  } else if (type == "Prepend" && j.contains("prepend") && j["prepend"].is_string()) {
    step.kind = Step::Kind::kPrepend;
    step.to = j["prepend"].get<std::string>();
  } else if (type == "Replace" && ParseStringReplace(j, &step.from, &step.to)) {
    step.kind = Step::Kind::kReplace;
  } else if (type == "NFC") {
    step.kind = Step::Kind::kNfc;
  } else if (type == "NFD") {
    step.kind = Step::Kind::kNfd;
  } else if (type == "NFKC") {
    step.kind = Step::Kind::kNfkc;
  } else if (type == "NFKD") {
    step.kind = Step::Kind::kNfkd;
  } else {
    return UnsupportedError(absl::StrCat(AV(source), ": normalizer '", type, "' is not supported"));
  }
  steps_.push_back(std::move(step));
  return absl::OkStatus();
}

void Normalizer::Apply(std::string* s) const {
  for (const Step& step : steps_) {
    int options = UTF8PROC_STABLE;
    switch (step.kind) {
      case Step::Kind::kPrepend:
        if (!s->empty()) s->insert(0, step.to);  // HF leaves empty text empty
        continue;
      case Step::Kind::kReplace:
        ReplaceAll(step.from, step.to, s);
        continue;
      case Step::Kind::kNfc:
        options |= UTF8PROC_COMPOSE;
        break;
      case Step::Kind::kNfd:
        options |= UTF8PROC_DECOMPOSE;
        break;
      case Step::Kind::kNfkc:
        options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
        break;
      case Step::Kind::kNfkd:
        options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
        break;
    }
    utf8proc_uint8_t* result = nullptr;
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s->data()),
                                            static_cast<utf8proc_ssize_t>(s->size()), &result,
                                            static_cast<utf8proc_option_t>(options));
    // The text is valid UTF-8, so failure can only be out of memory: leave it unchanged.
    if (n >= 0 && result != nullptr) s->assign(reinterpret_cast<char*>(result), n);
    std::free(result);
  }
}

// ---- Metaspace ------------------------------------------------------------------------------

absl::StatusOr<Metaspace> Metaspace::FromJson(const json& j, std::string_view source) {
  Metaspace m;
  if (j.is_null()) return m;
  const std::string type = TypeOf(j);
  if (type == "Sequence" && j.contains("pretokenizers") && j["pretokenizers"].is_array() &&
      j["pretokenizers"].size() == 1) {
    return FromJson(j["pretokenizers"][0], source);
  }
  if (type != "Metaspace") {
    return UnsupportedError(
        absl::StrCat(AV(source), ": pre-tokenizer '", type, "' is not supported"));
  }
  m.enabled_ = true;
  m.replacement_ = StringOr(j, "replacement", std::string(kSpaceMarker));
  if (m.replacement_.empty() || !IsValidUtf8(m.replacement_)) {
    return InvalidModelError(
        absl::StrCat(AV(source), ": Metaspace replacement is empty or not UTF-8"));
  }
  const std::string scheme = PrependScheme(j);
  if (scheme == "always") {
    m.prepend_ = Prepend::kAlways;
  } else if (scheme == "first") {
    m.prepend_ = Prepend::kFirst;
  } else if (scheme == "never") {
    m.prepend_ = Prepend::kNever;
  } else {
    return UnsupportedError(
        absl::StrCat(AV(source), ": Metaspace prepend_scheme '", scheme, "' is not supported"));
  }
  m.split_ = BoolOr(j, "split", true);
  return m;
}

void Metaspace::Split(std::string_view text, bool first,
                      absl::FunctionRef<void(std::string_view)> word) const {
  if (!enabled_) {
    word(text);
    return;
  }
  std::string replaced;
  replaced.reserve(text.size() + text.size() / 2 + replacement_.size());
  for (char c : text) {
    if (c == ' ') {
      replaced.append(replacement_);
    } else {
      replaced.push_back(c);
    }
  }
  // The prefix goes only where the text does not already start with one.
  const bool starts_with_replacement =
      std::string_view(replaced).substr(0, replacement_.size()) == replacement_;
  if (!replaced.empty() && !starts_with_replacement &&
      (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && first))) {
    replaced.insert(0, replacement_);
  }
  const std::string_view all = replaced;
  if (!split_) {
    word(all);
    return;
  }
  // Every replacement character starts a new word.
  size_t begin = 0;
  for (size_t hit = all.find(replacement_, 1); hit != std::string_view::npos;
       hit = all.find(replacement_, hit + replacement_.size())) {
    word(all.substr(begin, hit - begin));
    begin = hit;
  }
  word(all.substr(begin));
}

// ---- Decoder --------------------------------------------------------------------------------

absl::StatusOr<Decoder> Decoder::FromJson(const json& j, std::string_view source) {
  Decoder d;
  EMBER_RETURN_IF_ERROR(d.Parse(j, source));
  return d;
}

absl::Status Decoder::Parse(const json& j, std::string_view source) {
  if (j.is_null()) return absl::OkStatus();
  const std::string type = TypeOf(j);
  if (type == "Sequence" && j.contains("decoders") && j["decoders"].is_array()) {
    for (const json& sub : j["decoders"]) EMBER_RETURN_IF_ERROR(Parse(sub, source));
    return absl::OkStatus();
  }
  Step step;
  if (type == "Replace" && ParseStringReplace(j, &step.from, &step.to)) {
    step.kind = Step::Kind::kReplace;
  } else if (type == "ByteFallback") {
    step.kind = Step::Kind::kByteFallback;
  } else if (type == "Fuse") {
    step.kind = Step::Kind::kFuse;
  } else if (type == "Strip" && j.contains("content") && j["content"].is_string() &&
             j.contains("start") && j["start"].is_number_unsigned() && j.contains("stop") &&
             j["stop"].is_number_unsigned()) {
    step.kind = Step::Kind::kStrip;
    step.strip = j["content"].get<std::string>();
    constexpr uint64_t kMaxCount = 1 << 20;
    step.start = static_cast<int64_t>(std::min(j["start"].get<uint64_t>(), kMaxCount));
    step.stop = static_cast<int64_t>(std::min(j["stop"].get<uint64_t>(), kMaxCount));
  } else if (type == "Metaspace") {
    step.kind = Step::Kind::kMetaspace;
    step.from = StringOr(j, "replacement", std::string(kSpaceMarker));
    step.prepend = PrependScheme(j) != "never";
  } else {
    return UnsupportedError(absl::StrCat(AV(source), ": decoder '", type, "' is not supported"));
  }
  if (step.from.empty() &&
      (step.kind == Step::Kind::kReplace || step.kind == Step::Kind::kMetaspace)) {
    return InvalidModelError(
        absl::StrCat(AV(source), ": decoder '", type, "' has an empty pattern"));
  }
  steps_.push_back(std::move(step));
  return absl::OkStatus();
}

namespace {

// Bytes taken by the leading (trailing) copies of `c` in `s`, at most `max` copies.
size_t CountLeading(std::string_view s, std::string_view c, int64_t max) {
  size_t n = 0;
  for (int64_t k = 0; k < max && !c.empty() && s.substr(n, c.size()) == c; ++k) n += c.size();
  return n;
}

size_t CountTrailing(std::string_view s, std::string_view c, int64_t max) {
  size_t n = 0;
  for (int64_t k = 0; k < max && !c.empty() && s.size() >= n + c.size() &&
                      s.substr(s.size() - n - c.size(), c.size()) == c;
       ++k) {
    n += c.size();
  }
  return n;
}

// Runs of <0xNN> tokens become their bytes if those are valid UTF-8, else one U+FFFD per
// token.
void ByteFallback(std::vector<std::string>* tokens) {
  std::vector<std::string> out;
  out.reserve(tokens->size());
  std::string bytes;
  size_t run = 0;
  const auto flush = [&] {
    if (run == 0) return;
    if (IsValidUtf8(bytes)) {
      out.push_back(bytes);
    } else {
      for (size_t k = 0; k < run; ++k) out.push_back("\xEF\xBF\xBD");
    }
    bytes.clear();
    run = 0;
  };
  for (std::string& t : *tokens) {
    const int b = ParseByteToken(t);
    if (b >= 0) {
      bytes.push_back(static_cast<char>(b));
      ++run;
    } else {
      flush();
      out.push_back(std::move(t));
    }
  }
  flush();
  tokens->swap(out);
}

}  // namespace

std::string Decoder::Decode(std::vector<std::string> tokens) const {
  if (steps_.empty()) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) absl::StrAppend(&out, i ? " " : "", tokens[i]);
    return out;
  }
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::Kind::kReplace:
        for (std::string& t : tokens) ReplaceAll(step.from, step.to, &t);
        break;
      case Step::Kind::kByteFallback:
        ByteFallback(&tokens);
        break;
      case Step::Kind::kFuse: {
        std::string all;
        for (const std::string& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case Step::Kind::kStrip:
        for (std::string& t : tokens) {
          t.erase(0, CountLeading(t, step.strip, step.start));
          t.erase(t.size() - CountTrailing(t, step.strip, step.stop));
        }
        break;
      case Step::Kind::kMetaspace:
        // As HF does: replacement characters become spaces, except that in the first token
        // they are all dropped when the encoder prepends one.
        for (size_t i = 0; i < tokens.size(); ++i) {
          ReplaceAll(step.from, i == 0 && step.prepend ? "" : " ", &tokens[i]);
        }
        break;
    }
  }
  std::string out;
  for (const std::string& t : tokens) out += t;
  return out;
}

void Decoder::RenderToken(std::string* token) const {
  for (const Step& step : steps_) {
    if (step.kind == Step::Kind::kReplace) ReplaceAll(step.from, step.to, token);
    if (step.kind == Step::Kind::kMetaspace) ReplaceAll(step.from, " ", token);
  }
}

}  // namespace ember::hf
