#include "cuda/device_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cuda/ops.h"
#include "engine/dtype.h"
#include "status_macros.h"

namespace engine::cuda {

DeviceArena::~DeviceArena() {
  for (void* chunk : chunks_) cudaFree(chunk);
}

absl::StatusOr<void*> DeviceArena::Take(uint64_t bytes) {
  constexpr uint64_t kAlign = 256, kChunk = uint64_t{1} << 30;
  bytes = (std::max<uint64_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  if (bytes > left_) {
    const uint64_t size = std::max(bytes, kChunk);
    void* chunk = nullptr;
    const cudaError_t error = cudaMalloc(&chunk, size);
    if (error != cudaSuccess) {
      cudaGetLastError();
      return absl::ResourceExhaustedError(absl::StrCat("GPU memory: ", size >> 20, " MiB more for weights (",
                                                       used_ >> 20, " MiB taken): ", cudaGetErrorString(error)));
    }
    chunks_.push_back(chunk);
    next_ = static_cast<char*>(chunk);
    left_ = size;
  }
  void* piece = next_;
  next_ += bytes;
  left_ -= bytes;
  used_ += bytes;
  return piece;
}

namespace {

// Walks the architecture's weights once, taking each from the host checkpoint (host != nullptr)
// or making it at random on the device.
class Builder {
 public:
  Builder(const ModelConfig& config, const model::Weights* host, bool bf16, uint64_t seed, cudaStream_t stream,
          DeviceWeights* out)
      : c_(config), host_(host), bf16_(bf16), seed_(seed), stream_(stream), out_(out) {}

  absl::Status Build() {
    out_->bf16 = bf16_;
    const int64_t hidden = c_.hidden_size;
    ASSIGN_OR_RETURN(out_->embed, Matrix(host_ ? &host_->embed : nullptr, c_.vocab_size, hidden, false, "embed_tokens"));
    active_ -= out_->embed.rows * out_->embed.cols;  // a token reads one row
    active_bytes_ -= out_->embed.bytes();
    for (int l = 0; l < c_.num_hidden_layers; ++l) {
      DeviceLayer layer;
      absl::Status status = Layer(l, host_ ? &host_->layers[l] : nullptr, &layer);
      if (!status.ok()) return status;
      out_->layers.push_back(layer);
    }
    ASSIGN_OR_RETURN(out_->final_norm, Vector(host_ ? &host_->final_norm : nullptr, hidden, 1.0f));
    const bool tied = host_ != nullptr ? host_->lm_head.data == host_->embed.data : c_.tie_word_embeddings;
    if (tied) {
      out_->lm_head = out_->embed;
      active_ += out_->embed.rows * out_->embed.cols;
      active_bytes_ += out_->embed.bytes();
    } else {
      ASSIGN_OR_RETURN(out_->lm_head, Matrix(host_ ? &host_->lm_head : nullptr, c_.vocab_size, hidden, false, "lm_head"));
    }
    out_->parameters = parameters_;
    out_->active_parameters = static_cast<uint64_t>(active_);
    out_->active_bytes = static_cast<uint64_t>(active_bytes_);
    const cudaError_t synced = cudaStreamSynchronize(stream_);
    if (synced != cudaSuccess) return absl::InternalError(absl::StrCat("weights on the GPU: ", cudaGetErrorString(synced)));
    return absl::OkStatus();
  }

 private:
  absl::Status Layer(int l, const model::LayerWeights* h, DeviceLayer* d) {
    const int64_t hidden = c_.hidden_size, heads = c_.num_attention_heads;
    const std::string name = absl::StrCat("layer ", l, " ");
    ASSIGN_OR_RETURN(d->input_norm, Vector(h ? &h->input_norm : nullptr, hidden, 1.0f));
    ASSIGN_OR_RETURN(d->post_attention_norm, Vector(h ? &h->post_attention_norm : nullptr, hidden, 1.0f));
    if (c_.is_mla()) {
      const int64_t qk = c_.qk_nope_head_dim + c_.qk_rope_head_dim, rank = c_.kv_lora_rank;
      if (c_.q_lora_rank > 0) {
        ASSIGN_OR_RETURN(d->q_a, Matrix(h ? &h->mla.q_a : nullptr, c_.q_lora_rank, hidden, false, name + "q_a_proj"));
        ASSIGN_OR_RETURN(d->q_a_norm, Vector(h ? &h->mla.q_a_norm : nullptr, c_.q_lora_rank, 1.0f));
        ASSIGN_OR_RETURN(d->q_b, Matrix(h ? &h->mla.q_b : nullptr, heads * qk, c_.q_lora_rank, false, name + "q_b_proj"));
      } else {
        ASSIGN_OR_RETURN(d->q, Matrix(h ? &h->mla.q : nullptr, heads * qk, hidden, false, name + "q_proj"));
      }
      ASSIGN_OR_RETURN(d->kv_a, Matrix(h ? &h->mla.kv_a : nullptr, rank + c_.qk_rope_head_dim, hidden, false,
                                              name + "kv_a_proj_with_mqa"));
      ASSIGN_OR_RETURN(d->kv_a_norm, Vector(h ? &h->mla.kv_a_norm : nullptr, rank, 1.0f));
      DeviceMatrix kv_b;
      ASSIGN_OR_RETURN(kv_b, Matrix(h ? &h->mla.kv_b : nullptr, heads * (c_.qk_nope_head_dim + c_.v_head_dim), rank,
                                           true, name + "kv_b_proj"));
      d->kv_b = kv_b.f32();
      ASSIGN_OR_RETURN(d->o, Matrix(h ? &h->mla.o : nullptr, hidden, heads * c_.v_head_dim, false, name + "o_proj"));
    } else {
      const int64_t dim = c_.head_dim, kv = c_.num_key_value_heads;
      ASSIGN_OR_RETURN(d->q, Matrix(h ? &h->gqa.q : nullptr, heads * dim, hidden, false, name + "q_proj"));
      ASSIGN_OR_RETURN(d->k, Matrix(h ? &h->gqa.k : nullptr, kv * dim, hidden, false, name + "k_proj"));
      ASSIGN_OR_RETURN(d->v, Matrix(h ? &h->gqa.v : nullptr, kv * dim, hidden, false, name + "v_proj"));
      ASSIGN_OR_RETURN(d->o, Matrix(h ? &h->gqa.o : nullptr, hidden, heads * dim, false, name + "o_proj"));
      if (h == nullptr || !h->gqa.q_norm.empty()) {
        ASSIGN_OR_RETURN(d->q_norm, Vector(h ? &h->gqa.q_norm : nullptr, dim, 1.0f));
        ASSIGN_OR_RETURN(d->k_norm, Vector(h ? &h->gqa.k_norm : nullptr, dim, 1.0f));
      }
    }
    d->is_moe = c_.IsMoeLayer(l);
    if (!d->is_moe) return Mlp(h ? &h->mlp : nullptr, c_.intermediate_size, name + "mlp", &d->mlp);

    const int experts = c_.num_routed_experts;
    ASSIGN_OR_RETURN(d->router, Matrix(h ? &h->moe.router : nullptr, experts, hidden, true, name + "router"));
    if (c_.topk_method == TopkMethod::kNoauxTc) {
      ASSIGN_OR_RETURN(d->correction_bias, Vector(h ? &h->moe.correction_bias : nullptr, experts, 0.0f));
    }
    const int64_t width = c_.moe_intermediate_size;
    if (hidden % 8 != 0 || width % 8 != 0) {
      return absl::UnimplementedError(absl::StrCat("CUDA backend: hidden_size (", hidden, ") and moe_intermediate_size (",
                                                   width, ") must be multiples of 8"));
    }
    d->expert_width = width;
    std::vector<void*> gate(experts), up(experts), down(experts);
    const int64_t before = active_, before_bytes = active_bytes_;
    for (int e = 0; e < experts; ++e) {
      DeviceMlp mlp;
      absl::Status status = Mlp(h ? &h->moe.experts[e] : nullptr, width, absl::StrCat(name, "expert ", e), &mlp);
      if (!status.ok()) return status;
      gate[e] = mlp.gate.data;
      up[e] = mlp.up.data;
      down[e] = mlp.down.data;
    }
    // A token reads k of the experts.
    const int64_t per_expert = (active_ - before) / experts, per_expert_bytes = (active_bytes_ - before_bytes) / experts;
    active_ = before + per_expert * c_.num_experts_per_tok;
    active_bytes_ = before_bytes + per_expert_bytes * c_.num_experts_per_tok;
    ASSIGN_OR_RETURN(d->expert_gate, PointerArray(gate));
    ASSIGN_OR_RETURN(d->expert_up, PointerArray(up));
    ASSIGN_OR_RETURN(d->expert_down, PointerArray(down));
    if (c_.num_shared_experts > 0) {
      d->has_shared = true;
      return Mlp(h ? &h->moe.shared : nullptr, width * c_.num_shared_experts, name + "shared experts", &d->shared);
    }
    return absl::OkStatus();
  }

  absl::Status Mlp(const model::MlpWeights* h, int64_t width, const std::string& name, DeviceMlp* d) {
    const int64_t hidden = c_.hidden_size;
    ASSIGN_OR_RETURN(d->gate, Matrix(h ? &h->gate : nullptr, width, hidden, false, name + " gate_proj"));
    ASSIGN_OR_RETURN(d->up, Matrix(h ? &h->up : nullptr, width, hidden, false, name + " up_proj"));
    ASSIGN_OR_RETURN(d->down, Matrix(h ? &h->down : nullptr, hidden, width, false, name + " down_proj"));
    return absl::OkStatus();
  }

  absl::StatusOr<void* const*> PointerArray(const std::vector<void*>& pointers) {
    void* memory;
    ASSIGN_OR_RETURN(memory, out_->arena.Take(pointers.size() * sizeof(void*)));
    const cudaError_t copied = cudaMemcpy(memory, pointers.data(), pointers.size() * sizeof(void*), cudaMemcpyHostToDevice);
    if (copied != cudaSuccess) return absl::InternalError(cudaGetErrorString(copied));
    return static_cast<void* const*>(memory);
  }

  // A matrix as bf16 (the bf16 mode, unless `f32`) or float32.
  absl::StatusOr<DeviceMatrix> Matrix(const cpu::Matrix* h, int64_t rows, int64_t cols, bool f32,
                                      const std::string& name) {
    DeviceMatrix d{nullptr, rows, cols, bf16_ && !f32};
    ASSIGN_OR_RETURN(d.data, out_->arena.Take(d.bytes()));
    parameters_ += rows * cols;
    active_ += rows * cols;
    active_bytes_ += d.bytes();
    if (h == nullptr) {
      const float limit = 0.02f * std::sqrt(3.0f);  // uniform with standard deviation 0.02
      const cudaError_t filled = d.bf16 ? FillRandomBf16(static_cast<uint16_t*>(d.data), rows * cols, seed_++, limit, stream_)
                                        : FillRandomF32(static_cast<float*>(d.data), rows * cols, seed_++, limit, stream_);
      if (filled != cudaSuccess) return absl::InternalError(absl::StrCat(name, ": ", cudaGetErrorString(filled)));
      return d;
    }
    if (h->rows != rows || h->cols != cols) {
      return absl::InternalError(absl::StrCat(name, ": [", h->rows, ", ", h->cols, "] on the host, [", rows, ", ", cols,
                                              "] expected"));
    }
    if (h->quantization != cpu::Quantization::kNone) {
      return absl::UnimplementedError(absl::StrCat(name, ": the CUDA backend takes unquantised weights (bf16, f16 or f32)"));
    }
    // A few MiB at a time through host memory: converted, then copied.
    const int64_t chunk_rows = std::max<int64_t>(1, (int64_t{4} << 20) / std::max<int64_t>(cols, 1));
    std::vector<float> row(cols);
    std::vector<uint16_t> halves;
    std::vector<float> floats;
    const size_t element = d.bf16 ? 2 : 4;
    for (int64_t first = 0; first < rows; first += chunk_rows) {
      const int64_t count = std::min(chunk_rows, rows - first);
      const void* source;
      if (d.bf16 && h->dtype == DType::kBF16) {
        source = static_cast<const uint16_t*>(h->data) + first * cols;  // as stored
      } else if (d.bf16) {
        halves.resize(count * cols);
        for (int64_t r = 0; r < count; ++r) {
          h->RowToF32(first + r, row.data());
          for (int64_t i = 0; i < cols; ++i) halves[r * cols + i] = F32ToBf16(row[i]);
        }
        source = halves.data();
      } else {
        floats.resize(count * cols);
        for (int64_t r = 0; r < count; ++r) h->RowToF32(first + r, &floats[r * cols]);
        source = floats.data();
      }
      const cudaError_t copied = cudaMemcpy(static_cast<char*>(d.data) + first * cols * element, source,
                                            count * cols * element, cudaMemcpyHostToDevice);
      if (copied != cudaSuccess) return absl::InternalError(absl::StrCat(name, ": ", cudaGetErrorString(copied)));
    }
    return d;
  }

  absl::StatusOr<const float*> Vector(const std::vector<float>* h, int64_t n, float fill) {
    void* memory;
    ASSIGN_OR_RETURN(memory, out_->arena.Take(n * sizeof(float)));
    parameters_ += n;
    active_ += n;
    active_bytes_ += n * 4;
    cudaError_t error;
    if (h == nullptr) {
      error = FillF32(static_cast<float*>(memory), n, fill, stream_);
    } else if (static_cast<int64_t>(h->size()) != n) {
      return absl::InternalError(absl::StrCat("a vector of ", h->size(), " floats where ", n, " were expected"));
    } else {
      error = cudaMemcpy(memory, h->data(), n * sizeof(float), cudaMemcpyHostToDevice);
    }
    if (error != cudaSuccess) return absl::InternalError(cudaGetErrorString(error));
    return static_cast<const float*>(memory);
  }

  const ModelConfig& c_;
  const model::Weights* host_;
  const bool bf16_;
  uint64_t seed_;
  const cudaStream_t stream_;
  DeviceWeights* out_;
  uint64_t parameters_ = 0;
  int64_t active_ = 0, active_bytes_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<DeviceWeights>> UploadWeights(const ModelConfig& config, const model::Weights& host,
                                                             bool bf16, cudaStream_t stream) {
  auto weights = std::make_unique<DeviceWeights>();
  absl::Status built = Builder(config, &host, bf16, 0, stream, weights.get()).Build();
  if (!built.ok()) return built;
  return weights;
}

absl::StatusOr<std::unique_ptr<DeviceWeights>> RandomDeviceWeights(const ModelConfig& config, uint64_t seed,
                                                                   cudaStream_t stream) {
  auto weights = std::make_unique<DeviceWeights>();
  absl::Status built = Builder(config, nullptr, true, seed, stream, weights.get()).Build();
  if (!built.ok()) return built;
  return weights;
}

}  // namespace engine::cuda
