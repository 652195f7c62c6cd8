// The CPU KV cache: a block table into a KvBlockPool. Per layer and position it holds two rows:
//   MLA:  a = normalised compressed latent c_kv [kv_lora_rank], b = rotated k_rope [rope_dim]
//   GQA:  a = key [kv_heads * head_dim],                        b = value [kv_heads * head_dim]
// and, when the pool keeps them, the final hidden state of the position.
#ifndef AGENTD_ENGINE_MODEL_KV_CACHE_H_
#define AGENTD_ENGINE_MODEL_KV_CACHE_H_

#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "engine/kv_block_pool.h"
#include "engine/model.h"

namespace engine::model {

// The rows one position keeps per layer for `config` (above), `layers` deep, with the final
// hidden state when `store_hidden`.
inline KvRowShape CacheRowShape(const ModelConfig& config, int layers, bool store_hidden) {
  KvRowShape shape{.layers = layers};
  if (config.is_mla()) {
    shape.a_width = config.kv_lora_rank;
    shape.b_width = config.qk_rope_head_dim;
  } else {
    shape.a_width = shape.b_width = static_cast<int64_t>(config.num_key_value_heads) * config.head_dim;
  }
  shape.hidden_width = store_hidden ? config.hidden_size : 0;
  return shape;
}

class PagedKvCache final : public KvCache {
 public:
  explicit PagedKvCache(std::shared_ptr<KvBlockPool> pool) : pool_(std::move(pool)) {}
  ~PagedKvCache() override { ReleaseFrom(0); }

  int64_t length() const override { return length_; }
  void Truncate(int64_t length) override {
    if (length >= length_) return;
    length_ = std::max<int64_t>(0, length);
    ReleaseFrom(BlocksFor(length_));
  }
  uint64_t bytes() const override { return blocks_.size() * pool_->block_bytes(); }

  KvBlockPool& pool() { return *pool_; }
  const std::shared_ptr<KvBlockPool>& shared_pool() const { return pool_; }
  std::span<const int32_t> blocks() const { return blocks_; }
  int num_layers() const { return pool_->shape().layers; }

  // Makes positions [length, length + extra) writable: allocates blocks, and copies a shared
  // block the new positions would write into. ResourceExhausted when the pool is full (nothing
  // changes then). length grows by CommitAppend once the rows are written.
  absl::Status Reserve(int64_t extra);
  void CommitAppend(int64_t extra) { length_ += extra; }
  // Starts an empty cache with `blocks` (full blocks another cache or the prefix cache holds),
  // taking a reference to each: positions [0, blocks.size() × block_size) are then cached.
  void AdoptPrefix(std::span<const int32_t> blocks);

  // One layer's rows by position, for attention.
  class LayerView {
   public:
    LayerView(PagedKvCache* cache, int layer) : cache_(cache), layer_(layer) {}
    float* a(int64_t pos) const { return cache_->pool_->a(Block(pos), layer_, Offset(pos)); }
    float* b(int64_t pos) const { return cache_->pool_->b(Block(pos), layer_, Offset(pos)); }

   private:
    int32_t Block(int64_t pos) const { return cache_->blocks_[pos >> cache_->pool_->block_shift()]; }
    int64_t Offset(int64_t pos) const { return pos & (cache_->pool_->block_size() - 1); }
    PagedKvCache* cache_;
    int layer_;
  };
  LayerView layer(int i) { return LayerView(this, i); }
  // The final hidden state at `pos`; only when the pool stores them.
  float* hidden(int64_t pos) {
    return pool_->hidden(blocks_[pos >> pool_->block_shift()], pos & (pool_->block_size() - 1));
  }

 private:
  int64_t BlocksFor(int64_t positions) const {
    return (positions + pool_->block_size() - 1) >> pool_->block_shift();
  }
  void ReleaseFrom(int64_t first_block) {
    for (size_t i = first_block; i < blocks_.size(); ++i) pool_->Release(blocks_[i]);
    if (first_block < static_cast<int64_t>(blocks_.size())) blocks_.resize(first_block);
  }

  std::shared_ptr<KvBlockPool> pool_;
  std::vector<int32_t> blocks_;
  int64_t length_ = 0;
};

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_KV_CACHE_H_
