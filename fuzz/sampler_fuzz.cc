// libFuzzer target: arbitrary bytes as sampler parameters, a logits vector (raw float bits,
// so NaN, infinities and denormals included) and a token history.
//   - ValidateSamplerParams and the C API setters must agree on what is valid;
//   - for valid parameters, Sample must return an id in [0, min(n_valid, n_logits)) (or -1
//     when that range is empty), and the same seed must give the same ids.
// Input layout (little-endian, short inputs are zero-padded):
//   [0,4) temperature f32   [4,8) top_k i32     [8,12) top_p f32   [12,16) min_p f32
//   [16,20) repeat_penalty f32   [20,24) repeat_last_n i32   [24,32) seed u64
//   [32,36) n_valid i32   [36,38) history length u16   then history ids (i32), then logits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ember/ember.h"
#include "lib/runtime/sampler.h"

namespace {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  T Next() {
    uint8_t bytes[sizeof(T)] = {};
    for (size_t i = 0; i < sizeof(T) && pos_ < size_; ++i) bytes[i] = data_[pos_++];
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "sampler_fuzz: %s\n", what);
    std::abort();
  }
}

// Each C API setter, applied alone to default options, must accept exactly the values
// that make ValidateSamplerParams accept the defaults with that one field changed.
void CheckSettersAgree(const ember::SamplerParams& p) {
  ember_sampler_options* o = nullptr;
  Check(ember_sampler_options_create(&o) == EMBER_OK, "ember_sampler_options_create failed");
  const auto agree = [&](ember_status st, const ember::SamplerParams& alone, const char* what) {
    const bool valid = ember::ValidateSamplerParams(alone).ok();
    if ((st == EMBER_OK) != valid) {
      std::fprintf(stderr, "sampler_fuzz: setter %s disagrees with ValidateSamplerParams\n", what);
      std::abort();
    }
    if (st != EMBER_OK) Check(ember_last_error()[0] != '\0', "setter failed without a message");
    ember_sampler_options_free(o);
    Check(ember_sampler_options_create(&o) == EMBER_OK, "ember_sampler_options_create failed");
  };
  ember::SamplerParams alone;
  alone = {};
  alone.temperature = p.temperature;
  agree(ember_sampler_options_set_temperature(o, p.temperature), alone, "temperature");
  alone = {};
  alone.top_k = p.top_k;
  agree(ember_sampler_options_set_top_k(o, p.top_k), alone, "top_k");
  alone = {};
  alone.top_p = p.top_p;
  agree(ember_sampler_options_set_top_p(o, p.top_p), alone, "top_p");
  alone = {};
  alone.min_p = p.min_p;
  agree(ember_sampler_options_set_min_p(o, p.min_p), alone, "min_p");
  alone = {};
  alone.repeat_penalty = p.repeat_penalty;
  alone.repeat_last_n = p.repeat_last_n;
  agree(ember_sampler_options_set_repeat_penalty(o, p.repeat_penalty, p.repeat_last_n), alone,
        "repeat_penalty");
  alone = {};
  alone.seed = p.seed;
  agree(ember_sampler_options_set_seed(o, p.seed), alone, "seed");
  Check(ember_sampler_options_set_temperature(nullptr, 1.0f) == EMBER_ERR_INVALID_ARGUMENT,
        "NULL options accepted");
  ember_sampler_options_free(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  ember::SamplerParams p;
  p.temperature = in.Next<float>();
  p.top_k = in.Next<int32_t>();
  p.top_p = in.Next<float>();
  p.min_p = in.Next<float>();
  p.repeat_penalty = in.Next<float>();
  p.repeat_last_n = in.Next<int32_t>();
  p.seed = in.Next<uint64_t>();
  const int32_t n_valid = in.Next<int32_t>();
  const uint16_t n_history = in.Next<uint16_t>();
  std::vector<int32_t> history;
  for (uint16_t i = 0; i < n_history && in.remaining() > 0; ++i) history.push_back(in.Next<int32_t>());
  std::vector<float> logits;
  while (in.remaining() > 0) logits.push_back(in.Next<float>());

  CheckSettersAgree(p);
  if (!ember::ValidateSamplerParams(p).ok()) return 0;

  const int32_t n_logits = static_cast<int32_t>(logits.size());
  const int32_t bound = n_valid < n_logits ? n_valid : n_logits;
  ember::Sampler a(p), b(p);
  for (int round = 0; round < 3; ++round) {
    const int32_t x = a.Sample(logits, n_valid, history);
    const int32_t y = b.Sample(logits, n_valid, history);
    if (bound <= 0) {
      Check(x == -1, "Sample did not return -1 for an empty range");
    } else {
      Check(x >= 0 && x < bound, "Sample returned an id out of range");
    }
    Check(x == y, "Sample is not deterministic for a seed");
    history.push_back(x);
  }
  return 0;
}
