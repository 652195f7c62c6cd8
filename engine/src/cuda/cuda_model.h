// The forward pass on an NVIDIA GPU behind engine::Model (Model::Load with device "cuda"): the
// scheduler, speculation, constraints and sampling above it are unchanged. Weights live in GPU
// memory (cuda/device_weights.h), the KV cache in GPU blocks with the CPU pool's block tables
// (cuda/device_kv_blocks.h), and one pass is: the embedding rows, per layer RMSNorm, attention
// (GQA, or MLA with absorbed up-projections) over the paged blocks, RMSNorm, the dense MLP or
// the routed experts grouped on the device (no host round trip between routing and experts)
// plus shared experts, then the final norm and the head; the host sees only the logits.
// Dense products go through cuBLAS; the rest are the kernels of cuda/ops.h.
#ifndef AGENTD_ENGINE_CUDA_CUDA_MODEL_H_
#define AGENTD_ENGINE_CUDA_CUDA_MODEL_H_

#include <memory>

#include "absl/status/statusor.h"
#include "engine/model.h"
#include "model/weights.h"

namespace engine::cuda {

struct CudaModelOptions {
  // Matrices in bf16 (cuBLAS bf16 products, activations rounded to bf16 on the way in) or
  // float32 (the parity mode: the CPU path's arithmetic to within summation order). Default
  // bf16.
  bool bf16 = true;
  // Kernels written and compiled but not yet run on a GPU (docs/gpu.md), off until a device
  // run's tests pass: MLA attention with a block's heads sharing each cached row
  // (LatentAttention), a prompt's attention with 16 rows sharing each cached row
  // (PrefillAttention) and the routed experts on the tensor cores over 16 tokens. Default false:
  // PagedAttentionSplit and the SIMT expert kernel, both checked on an H200.
  bool unverified_kernels = false;
};

// Uploads `host` (unquantised) and runs on GPU 0. The host weights are not needed afterwards.
absl::StatusOr<std::unique_ptr<Model>> NewCudaModel(const ModelConfig& config, const model::Weights& host,
                                                    const CudaModelOptions& options);
// A model of `config`'s shape with random bf16 weights made on the GPU (benchmarks).
absl::StatusOr<std::unique_ptr<Model>> NewRandomCudaModel(const ModelConfig& config, uint64_t seed,
                                                          const CudaModelOptions& options = {});

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_CUDA_MODEL_H_
