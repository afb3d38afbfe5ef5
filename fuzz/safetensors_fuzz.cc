// libFuzzer target: arbitrary bytes as a safetensors file. Parsing must return a status,
// never crash, read out of bounds or hand out a view outside the buffer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "lib/base/mapped_file.h"
#include "lib/format/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto st = ember::SafetensorsFile::Parse(ember::MappedFile::FromBuffer({data, size}, "fuzz.safetensors"));
  if (!st.ok()) return 0;
  uint64_t checksum = 0;
  for (const ember::TensorView& t : (*st)->tensors()) {
    if (t.data < data || t.nbytes > size || t.data + t.nbytes > data + size) std::abort();
    if (static_cast<uint64_t>(t.n_elements()) * 2 > t.nbytes && t.nbytes != 0) std::abort();
    // Touch the first and last byte so ASan checks the view lies in the buffer.
    if (t.nbytes > 0) checksum += t.data[0] + t.data[t.nbytes - 1];
    if ((*st)->FindTensor(t.name) != &t) std::abort();
  }
  for (const ember::UnsupportedTensor& u : (*st)->unsupported_tensors()) {
    if ((*st)->GetTensor(u.name).ok()) std::abort();
  }
  return checksum == 0xdeadbeef ? 1 : 0;
}
