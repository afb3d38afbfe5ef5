// Per-call memo of the ids of text pieces: prose repeats its words, so most pieces cut out
// by MergeBoundaries are encoded once and then copied.
#ifndef EMBER_TOKENIZER_PIECE_CACHE_H_
#define EMBER_TOKENIZER_PIECE_CACHE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace ember {

class PieceCache {
 public:
  // Appends the ids of `piece` to `ids`, calling encode(piece, ids) the first time.
  template <typename EncodeFn>
  void Append(std::string_view piece, EncodeFn&& encode, std::vector<int32_t>* ids) {
    const absl::string_view key(piece.data(), piece.size());
    const auto it = map_.find(key);
    if (it != map_.end()) {
      ids->insert(ids->end(), store_.begin() + it->second.begin,
                  store_.begin() + it->second.begin + it->second.size);
      return;
    }
    const size_t first = ids->size();
    encode(piece, ids);
    map_.try_emplace(std::string(key), Range{store_.size(), ids->size() - first});
    store_.insert(store_.end(), ids->begin() + first, ids->end());
  }

 private:
  struct Range {
    size_t begin, size;
  };
  absl::flat_hash_map<std::string, Range> map_;
  std::vector<int32_t> store_;
};

}  // namespace ember

#endif  // EMBER_TOKENIZER_PIECE_CACHE_H_
