// The CPU KV cache: per layer, two growing float32 arrays of `length` rows.
//   MLA:  a = normalised compressed latent c_kv [len, kv_lora_rank], b = rotated k_rope [len, rope_dim]
//   GQA:  a = keys [len, kv_heads * head_dim],                     b = values [len, kv_heads * head_dim]
#ifndef AGENTD_ENGINE_MODEL_KV_CACHE_H_
#define AGENTD_ENGINE_MODEL_KV_CACHE_H_

#include <vector>

#include "engine/model.h"

namespace engine::model {

class CpuKvCache final : public KvCache {
 public:
  struct Layer {
    std::vector<float> a, b;
  };

  CpuKvCache(int layers, int64_t a_width, int64_t b_width)
      : layers_(layers), a_width_(a_width), b_width_(b_width) {}

  int64_t length() const override { return length_; }
  void Truncate(int64_t length) override {
    if (length >= length_) return;
    length_ = length;
    for (Layer& layer : layers_) {
      layer.a.resize(length * a_width_);
      layer.b.resize(length * b_width_);
    }
  }
  uint64_t bytes() const override {
    uint64_t total = 0;
    for (const Layer& layer : layers_) total += (layer.a.capacity() + layer.b.capacity()) * sizeof(float);
    return total;
  }

  Layer& layer(int i) { return layers_[i]; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  int64_t a_width() const { return a_width_; }
  int64_t b_width() const { return b_width_; }
  // Makes room for `extra` more positions in every layer; length grows by CommitAppend.
  void Reserve(int64_t extra) {
    for (Layer& layer : layers_) {
      layer.a.resize((length_ + extra) * a_width_);
      layer.b.resize((length_ + extra) * b_width_);
    }
  }
  void CommitAppend(int64_t extra) { length_ += extra; }

 private:
  std::vector<Layer> layers_;
  int64_t a_width_, b_width_;
  int64_t length_ = 0;
};

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_KV_CACHE_H_
