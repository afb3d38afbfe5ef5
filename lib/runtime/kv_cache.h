// Keys and values of every layer, [slots][n_head_kv * head_dim] per layer, stored as
// float32, IEEE half or bfloat16 (converted when written, read by attention as they are).
//
// Position p lives in slot p % capacity. For full-attention models capacity = n_ctx and
// the slot is simply p. For sliding-window models the cache is a ring of
// window + max_chunk slots: evaluating a chunk of at most max_chunk tokens at positions
// >= n then never overwrites the window of keys (n - window, n) that a query at n needs,
// so a failed or cancelled chunk leaves the state before it intact.
//
// Memory grows with use (Reserve) up to capacity, then stays constant.
//
// A slot whose size is a multiple of 1 KiB (Phi-2: 2560 floats, Mistral: 1024) is padded by
// one cache line: attention reads one head's slice of many consecutive slots, and at such
// strides those slices all fall into a few cache sets and evict each other (measured:
// Phi-2 prefill attention ran ~10x above its FMA count).
#ifndef EMBER_RUNTIME_KV_CACHE_H_
#define EMBER_RUNTIME_KV_CACHE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "kernels/dtype.h"
#include "lib/model/forward.h"

namespace ember {

class KvCache {
 public:
  // type: DType::kF32, kF16 or kBF16.
  KvCache(int n_layer, int64_t kv_dim, int64_t capacity, DType type);

  // Elements from one slot to the next (kv_dim, or kv_dim plus one cache line).
  static int64_t SlotStride(int64_t kv_dim, DType type);
  // Bytes a cache of `slots` positions holds.
  static uint64_t BytesFor(int n_layer, int64_t kv_dim, int64_t slots,
                           DType type = DType::kF32);

  // Makes positions [0, n_positions) addressable: allocates min(n_positions, capacity)
  // slots or more, keeping the rows already written. OutOfMemoryError leaves the cache as
  // it was.
  absl::Status Reserve(int64_t n_positions);

  // Makes this cache a copy of `other`, which must have the same shape, capacity and type
  // (a clone of a session). OutOfMemoryError leaves this cache as it was.
  absl::Status CopyFrom(const KvCache& other);

  int64_t capacity() const { return capacity_; }
  int64_t allocated_slots() const { return slots_; }
  uint64_t bytes() const {
    return BytesFor(static_cast<int>(k_.size()), kv_dim_, slots_, rows_.type);
  }
  // The rows as the forward pass addresses them (valid until the next Reserve).
  const KvRows& rows() const { return rows_; }

 private:
  int64_t kv_dim_;
  int64_t capacity_;
  int64_t slots_ = 0;
  // calloc'd: zeroed pages come from the OS on first touch, so a new session pays for the
  // rows it writes, not for its whole growth step (freed with std::free).
  struct FreeBytes {
    void operator()(char* p) const;
  };
  using Bytes = std::unique_ptr<char, FreeBytes>;
  std::vector<Bytes> k_, v_;
  KvRows rows_;
};

}  // namespace ember

#endif  // EMBER_RUNTIME_KV_CACHE_H_
