// libFuzzer target: GgufFile::Parse on arbitrary bytes, then every accessor on whatever
// it accepted, so that a view pointing outside the input shows up under ASan.
#include <cstddef>
#include <cstdint>
#include <string>

#include "lib/base/mapped_file.h"
#include "lib/format/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parsed = ember::GgufFile::Parse(
      ember::MappedFile::FromBuffer(absl::Span<const uint8_t>(data, size), "fuzz.gguf"));
  if (!parsed.ok()) return 0;
  const ember::GgufFile& f = **parsed;
  volatile uint64_t sink = 0;
  for (const std::string& key : f.metadata_keys()) {
    const ember::GgufValue* v = f.Find(key);
    if (v == nullptr) __builtin_trap();
    sink = sink + v->u + v->str.size();
    for (std::string_view s : v->strings) {
      if (!s.empty()) sink = sink + static_cast<uint8_t>(s.front()) + static_cast<uint8_t>(s.back());
    }
    (void)f.GetUint(key);
    (void)f.GetFloat(key);
    (void)f.GetBool(key);
    (void)f.GetString(key);
    (void)f.GetStringArray(key);
    auto floats = f.GetFloatArray(key);
    if (floats.ok()) for (float x : *floats) sink = sink + static_cast<uint64_t>(x != x);
    auto ints = f.GetInt32Array(key);
    if (ints.ok()) for (int32_t x : *ints) sink = sink + static_cast<uint64_t>(x);
  }
  for (const ember::TensorView& t : f.tensors()) {
    if (f.FindTensor(t.name) != &t) __builtin_trap();
    if (t.nbytes == 0) __builtin_trap();
    // First and last byte of every view: out-of-range views fault under ASan.
    sink = sink + t.data[0] + t.data[t.nbytes - 1];
    sink = sink + static_cast<uint64_t>(t.n_elements());
  }
  return 0;
}
