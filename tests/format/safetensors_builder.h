// Test helper: writes small safetensors files byte by byte, valid or deliberately broken.
#ifndef EMBER_TESTS_FORMAT_SAFETENSORS_BUILDER_H_
#define EMBER_TESTS_FORMAT_SAFETENSORS_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"

namespace ember::testing {

struct StTensor {
  std::string name;
  std::string dtype;           // "F32", "I64", ...
  std::vector<int64_t> shape;  // outermost first, as safetensors lists it
  std::string bytes;           // the data
};

// 8-byte little-endian length, then `header_text`, then `data`: nothing is checked, so
// tests can lie in any field.
inline std::string SafetensorsBytes(uint64_t header_len, std::string_view header_text,
                                    std::string_view data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header_len >> (8 * i)) & 0xff);
  out.append(header_text);
  out.append(data);
  return out;
}
inline std::string SafetensorsBytes(std::string_view header_text, std::string_view data) {
  return SafetensorsBytes(header_text.size(), header_text, data);
}

// A valid file: tensors laid out back to back in the given order, header padded with spaces
// to a multiple of 8 as the reference writer does.
inline std::string BuildSafetensors(const std::vector<StTensor>& tensors,
                                    const nlohmann::json& metadata = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const StTensor& t : tensors) {
    header[t.name] = {{"dtype", t.dtype},
                      {"shape", t.shape},
                      {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');
  return SafetensorsBytes(text, data);
}

inline std::string FloatBytes(const std::vector<float>& values) {
  std::string out(values.size() * sizeof(float), '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_FORMAT_SAFETENSORS_BUILDER_H_
