#include "lib/runtime/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "lib/base/errors.h"

namespace ember {
namespace {

// Growth step: small sessions stay small, long ones do not reallocate at every token.
constexpr int64_t kMinGrowSlots = 256;

}  // namespace

KvCache::KvCache(int n_layer, int64_t kv_dim, int64_t capacity)
    : kv_dim_(kv_dim), capacity_(capacity), k_(n_layer), v_(n_layer) {
  rows_.capacity = capacity;
  rows_.kv_dim = kv_dim;
  rows_.k.assign(n_layer, nullptr);
  rows_.v.assign(n_layer, nullptr);
}

uint64_t KvCache::BytesFor(int n_layer, int64_t kv_dim, int64_t slots) {
  return 2ull * static_cast<uint64_t>(n_layer) * static_cast<uint64_t>(kv_dim) *
         static_cast<uint64_t>(slots) * sizeof(float);
}

absl::Status KvCache::Reserve(int64_t n_positions) {
  const int64_t needed = std::min(n_positions, capacity_);
  if (needed <= slots_) return absl::OkStatus();
  // Grow geometrically so that decoding token by token reallocates O(log n) times.
  const int64_t slots = std::min(capacity_, std::max({needed, 2 * slots_, kMinGrowSlots}));
  const size_t floats = static_cast<size_t>(slots * kv_dim_);
  const size_t keep = static_cast<size_t>(slots_ * kv_dim_);
  std::vector<std::unique_ptr<float[]>> k(k_.size()), v(v_.size());
  for (size_t l = 0; l < k_.size(); ++l) {
    k[l].reset(new (std::nothrow) float[floats]);
    v[l].reset(new (std::nothrow) float[floats]);
    if (k[l] == nullptr || v[l] == nullptr) {
      return OutOfMemoryError(absl::StrCat("cannot allocate the KV cache: ",
                                           BytesFor(static_cast<int>(k_.size()), kv_dim_, slots),
                                           " bytes for ", slots, " positions"));
    }
    // Before the ring wraps, slot = position, so the rows written so far keep their place.
    if (keep > 0) {
      std::memcpy(k[l].get(), k_[l].get(), keep * sizeof(float));
      std::memcpy(v[l].get(), v_[l].get(), keep * sizeof(float));
    }
    std::memset(k[l].get() + keep, 0, (floats - keep) * sizeof(float));
    std::memset(v[l].get() + keep, 0, (floats - keep) * sizeof(float));
  }
  k_ = std::move(k);
  v_ = std::move(v);
  slots_ = slots;
  for (size_t l = 0; l < k_.size(); ++l) {
    rows_.k[l] = k_[l].get();
    rows_.v[l] = v_[l].get();
  }
  return absl::OkStatus();
}

}  // namespace ember
