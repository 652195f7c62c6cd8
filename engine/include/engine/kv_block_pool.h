// Fixed-size blocks of KV-cache memory that sequences share (paged attention, as vLLM calls
// it). A block holds `block_size` consecutive positions of every layer: the cached rows (MLA:
// latent and rotary key; GQA: keys and values) and, when the pool keeps them, the model's final
// hidden states, which multi-token prediction reads. A sequence's cache is a table of block ids,
// so sequences that start with the same tokens can point at the same blocks (prefix caching)
// and memory is handed out a block at a time instead of a context length per request.
//
// Blocks are reference counted: a block that several caches (or the prefix cache) hold is never
// written; a cache that must write into one copies it first. Pools come from
// Model::NewBlockPool; a bounded pool (max_blocks > 0) answers Allocate with -1 when it is full.
// Allocation and reference counts are thread-safe; reading and writing a block's rows is the
// business of the cache that holds it.
#ifndef AGENTD_ENGINE_KV_BLOCK_POOL_H_
#define AGENTD_ENGINE_KV_BLOCK_POOL_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace engine {

struct KvBlockPoolOptions {
  // Positions per block; a power of two. Default 16.
  int block_size = 16;
  // Most blocks held at once; 0 = unbounded (the pool grows as caches ask). Default 0.
  int64_t max_blocks = 0;
  // Also keep each position's final hidden state (for MTP drafting after a prefix-cache hit).
  // Default false.
  bool store_hidden = false;
};

// The widths of one position's rows, per layer and overall; Model::NewBlockPool fills them in.
struct KvRowShape {
  int layers = 0;
  int64_t a_width = 0;
  int64_t b_width = 0;
  int64_t hidden_width = 0;
};

// Where a pool's rows live when not in host memory (the CUDA backend keeps them on its GPU): the
// pool hands out block ids and counts references, the storage holds each block's rows and
// copies them.
class KvBlockStorage {
 public:
  virtual ~KvBlockStorage() = default;
  // Memory for block `block`, the first time the pool hands that id out (the lowest free ids
  // go first); false when there is none, and the pool then answers Allocate with -1. Called
  // with the pool's lock held.
  virtual bool Provide(int32_t block) = 0;
  virtual void CopyBlock(int32_t from, int32_t to) = 0;
  virtual uint64_t bytes_allocated() const = 0;
};

class KvBlockPool {
 public:
  KvBlockPool(const KvRowShape& shape, const KvBlockPoolOptions& options);
  // Rows kept by `storage` rather than in host memory: a(), b() and hidden() are not to be
  // called, and the shape keeps no hidden states (hidden_width 0).
  KvBlockPool(const KvRowShape& shape, const KvBlockPoolOptions& options, std::unique_ptr<KvBlockStorage> storage);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  // A free block with reference count 1, or -1 when a bounded pool has none left.
  int32_t Allocate();
  void AddRef(int32_t block);
  // Drops one reference; the block is free again at zero.
  void Release(int32_t block);
  int ref_count(int32_t block) const;

  int block_size() const { return block_size_; }
  int block_shift() const { return block_shift_; }
  const KvRowShape& shape() const { return shape_; }
  bool stores_hidden() const { return shape_.hidden_width > 0; }
  // Blocks now referenced, and the bound (0 = unbounded).
  int64_t blocks_in_use() const;
  int64_t max_blocks() const { return max_blocks_; }
  // Blocks a bounded pool can still hand out (a large number when unbounded).
  int64_t free_blocks() const;
  uint64_t block_bytes() const { return block_floats_ * sizeof(float); }
  uint64_t bytes_allocated() const;

  // Row `offset` (< block_size) of layer `layer` in `block`.
  float* a(int32_t block, int layer, int64_t offset) {
    return base_[block] + (layer * block_size_ + offset) * shape_.a_width;
  }
  float* b(int32_t block, int layer, int64_t offset) {
    return base_[block] + b_start_ + (layer * block_size_ + offset) * shape_.b_width;
  }
  float* hidden(int32_t block, int64_t offset) {
    return base_[block] + hidden_start_ + offset * shape_.hidden_width;
  }
  // Copies every row of `from` into `to` (copy-on-write).
  void CopyBlock(int32_t from, int32_t to);
  // The storage the rows live in; nullptr when they are in host memory.
  KvBlockStorage* storage() const { return storage_owner_.get(); }

 private:
  const KvRowShape shape_;
  const int block_size_;
  const int block_shift_;
  const int64_t max_blocks_;
  const int64_t b_start_, hidden_start_, block_floats_;
  const std::unique_ptr<KvBlockStorage> storage_owner_;
  mutable std::mutex mutex_;
  // Block memory; a bounded pool sizes `base_` once so readers never see it move.
  std::vector<std::unique_ptr<float[]>> storage_;
  std::vector<float*> base_;
  std::vector<int> refs_;
  std::vector<bool> provided_;  // with storage_owner_: the blocks it has memory for
  std::vector<int32_t> free_;
  int64_t in_use_ = 0;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_KV_BLOCK_POOL_H_
