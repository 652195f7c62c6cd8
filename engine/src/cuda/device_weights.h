// The model's weights in GPU memory, arranged as CudaModel's forward pass reads them: uploaded
// once from the CPU loader's Weights (model/weights.h), or made on the device at random for
// benchmarks of shapes too big to write to disk. Matrices are bf16 (the bf16 mode: bf16
// checkpoints as stored, others rounded) or float32 (the parity mode, for f32 checkpoints); the
// router, MLA's kv_b (read per head by cuBLAS's batched products) and vectors are float32 in
// both.
#ifndef AGENTD_ENGINE_CUDA_DEVICE_WEIGHTS_H_
#define AGENTD_ENGINE_CUDA_DEVICE_WEIGHTS_H_

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model_config.h"
#include "model/weights.h"

namespace engine::cuda {

// Device memory handed out from large allocations (a checkpoint is thousands of matrices), each
// piece 256-byte aligned; freed all at once.
class DeviceArena {
 public:
  DeviceArena() = default;
  ~DeviceArena();
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;
  absl::StatusOr<void*> Take(uint64_t bytes);
  uint64_t bytes() const { return used_; }

 private:
  std::vector<void*> chunks_;
  char* next_ = nullptr;
  uint64_t left_ = 0, used_ = 0;
};

// A row-major [rows, cols] matrix on the device.
struct DeviceMatrix {
  void* data = nullptr;
  int64_t rows = 0, cols = 0;
  bool bf16 = false;
  bool empty() const { return data == nullptr; }
  const float* f32() const { return static_cast<const float*>(data); }
  const uint16_t* b16() const { return static_cast<const uint16_t*>(data); }
  uint64_t bytes() const { return static_cast<uint64_t>(rows) * cols * (bf16 ? 2 : 4); }
  // Rows [first, first + count): a pointer into the same memory.
  DeviceMatrix Rows(int64_t first, int64_t count) const {
    return {static_cast<char*>(data) + first * cols * (bf16 ? 2 : 4), count, cols, bf16};
  }
};

struct DeviceMlp {
  DeviceMatrix gate, up, down;
};

struct DeviceLayer {
  const float* input_norm = nullptr;
  const float* post_attention_norm = nullptr;
  // MLA: q_a, q_a_norm and q_b with q-LoRA, else q; kv_a; kv_b float32 [heads·(nope + v), rank].
  DeviceMatrix q_a, q_b, q, kv_a, o;
  const float* q_a_norm = nullptr;
  const float* kv_a_norm = nullptr;
  const float* kv_b = nullptr;
  // GQA (Qwen3): q, k, v, o as above; per-head norms.
  DeviceMatrix k, v;
  const float* q_norm = nullptr;
  const float* k_norm = nullptr;
  bool is_moe = false;
  DeviceMlp mlp;
  // MoE: router float32 [experts, hidden]; the experts' matrices as device arrays of device
  // pointers (GroupedMatmulArgs::weights), one per projection.
  DeviceMatrix router;
  const float* correction_bias = nullptr;
  void* const* expert_gate = nullptr;
  void* const* expert_up = nullptr;
  void* const* expert_down = nullptr;
  int64_t expert_width = 0;
  bool has_shared = false;
  DeviceMlp shared;
};

struct DeviceWeights {
  bool bf16 = false;  // the matrices' type (the bf16 mode)
  DeviceMatrix embed, lm_head;
  std::vector<DeviceLayer> layers;
  const float* final_norm = nullptr;
  uint64_t parameters = 0;         // every parameter
  uint64_t active_parameters = 0;  // those one token reads (its embedding row aside)
  uint64_t active_bytes = 0;       // their bytes as held on the device
  DeviceArena arena;
};

// Every matrix of `host` (unquantised: bf16, f16 or f32) onto the device, as bf16 when `bf16`,
// else as float32.
absl::StatusOr<std::unique_ptr<DeviceWeights>> UploadWeights(const ModelConfig& config, const model::Weights& host,
                                                             bool bf16, cudaStream_t stream);
// A model of `config`'s shape with bf16 weights uniform of standard deviation 0.02 and norms of
// ones, made on the device (nothing is read or written on the host).
absl::StatusOr<std::unique_ptr<DeviceWeights>> RandomDeviceWeights(const ModelConfig& config, uint64_t seed,
                                                                   cudaStream_t stream);

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_DEVICE_WEIGHTS_H_
