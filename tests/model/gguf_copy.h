// Test helper: copies a GGUF file through GgufWriter with edits (metadata dropped or
// added, tensors replaced, renamed or removed), to build broken or re-shaped variants of
// the fixture models. Header-only.
#ifndef EMBER_TESTS_MODEL_GGUF_COPY_H_
#define EMBER_TESTS_MODEL_GGUF_COPY_H_

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/format/gguf.h"
#include "lib/format/gguf_writer.h"
#include "tests/support/test_support.h"

namespace ember::testing {

struct GgufEdits {
  std::set<std::string> drop_keys;
  std::function<void(GgufWriter&)> add_metadata;  // after the copied keys
  // Called for every tensor; returns true if it took care of it (wrote something else or
  // nothing), false to copy it unchanged.
  std::function<bool(const TensorView&, GgufWriter&)> tensor;
};

inline std::string TensorBytes(const TensorView& t) {
  return std::string(reinterpret_cast<const char*>(t.data), t.nbytes);
}

inline std::vector<int64_t> TensorDims(const TensorView& t) {
  return std::vector<int64_t>(t.ne, t.ne + t.n_dims);
}

// Writes the edited copy of `src_path` to a temp file named `name` and returns its path.
inline std::string CopyGguf(const std::string& src_path, const std::string& name,
                            const GgufEdits& edits) {
  auto src = GgufFile::Open(src_path);
  EXPECT_TRUE(src.ok()) << src.status();
  if (!src.ok()) return "";
  GgufWriter w;
  for (const std::string& key : (*src)->metadata_keys()) {
    if (key == "general.alignment" || edits.drop_keys.count(key)) continue;
    const absl::Status st = w.AddValue(key, *(*src)->Find(key));
    EXPECT_TRUE(st.ok()) << st;
  }
  if (edits.add_metadata) edits.add_metadata(w);
  for (const TensorView& t : (*src)->tensors()) {
    if (edits.tensor && edits.tensor(t, w)) continue;
    const absl::Status st = w.AddTensor(t.name, t.type, TensorDims(t), TensorBytes(t));
    EXPECT_TRUE(st.ok()) << st;
  }
  auto bytes = w.ToBytes();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return "";
  return WriteTempFile(name, *bytes);
}

}  // namespace ember::testing

#endif  // EMBER_TESTS_MODEL_GGUF_COPY_H_
