// A GGUF file read as the engine's own checkpoint (engine/gguf.h is the format alone): the
// config.json its architecture's metadata implies, its tensors under their Hugging Face names —
// a stacked expert tensor (blk.N.ffn_gate_exps) as one view per expert, no copy — and the
// tokenizer.json and tokenizer_config.json its vocabulary implies, so the loader, the
// tokenizer and the config parser read a GGUF model through the paths they already check.
//
// Architectures: llama.cpp's `qwen3moe`, `qwen3` and `deepseek2` (DeepSeek-V2 and V3, in the
// MLA form its converter writes — W_UK and W_UV as attn_k_b and attn_v_b, joined back into
// kv_b_proj here — or the older one with attn_kv_b; MTP layers are not read). Tensor types: F32, F16, BF16 as stored;
// Q8_0 and Q4_0 blocks, which the weight loader converts without loss into its q8 and q4
// layouts (cpu/matmul_q8.h, cpu/matmul_q4.h); the K-quants Q4_K, Q5_K and Q6_K (what
// llama.cpp's Q4_K_M and Q5_K_M files hold), converted as cpu/kquants.h says, and the Q5_0,
// Q5_1 and Q4_1 blocks those mixes fall back to (cpu/legacy_quants.h). Tokenizers: byte-level BPE (`gpt2`) with the
// `qwen2` or `deepseek-v3` pre-tokenizer.
#ifndef AGENTD_ENGINE_GGUF_CHECKPOINT_H_
#define AGENTD_ENGINE_GGUF_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/gguf.h"
#include "engine/safetensors.h"

namespace engine {

// A path the engine reads as GGUF: a regular file whose name ends in ".gguf".
bool IsGgufPath(const std::string& path);

struct GgufCheckpoint {
  GgufCheckpoint() = default;
  GgufCheckpoint(GgufCheckpoint&&) = default;
  GgufCheckpoint& operator=(GgufCheckpoint&&) = default;
  GgufCheckpoint(const GgufCheckpoint&) = delete;  // `tensors` point into `derived`
  GgufCheckpoint& operator=(const GgufCheckpoint&) = delete;

  std::string config_json;  // for ParseModelConfig
  std::vector<TensorInfo> tensors;  // pointing into the file's mapping, or into `derived`
  // Tensors the file holds in another layout than the engine reads, rebuilt: deepseek2's
  // kv_b_proj from attn_k_b and attn_v_b. Keep them alive as long as `tensors`.
  std::vector<std::vector<uint8_t>> derived;
  uint64_t derived_bytes = 0;  // at most the file's tensor bytes
};
absl::StatusOr<GgufCheckpoint> ReadGgufCheckpoint(const GgufFile& file);

struct GgufTokenizerFiles {
  std::string tokenizer_json;
  std::string tokenizer_config_json;
};
absl::StatusOr<GgufTokenizerFiles> ReadGgufTokenizer(const GgufFile& file);

}  // namespace engine

#endif  // AGENTD_ENGINE_GGUF_CHECKPOINT_H_
