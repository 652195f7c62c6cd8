// A random Qwen3-MoE model with the real Qwen3 vocabulary (or a DeepSeek-V3 one with DeepSeek's),
// as a Hugging Face checkpoint and as
// GGUF files written by the peer benchmark's writer (bench/peer/write_gguf.py, whose files
// llama.cpp loads in that benchmark), for tests that read GGUF through the engine or the daemon.
#ifndef AGENTD_TESTS_SUPPORT_GGUF_MODEL_H_
#define AGENTD_TESTS_SUPPORT_GGUF_MODEL_H_

#include <string>

namespace testing_support {

// Why GGUF files cannot be written here ("" when they can): the writer needs /usr/bin/python3
// with numpy.
std::string GgufWriterUnavailable();

struct RandomQwen3MoeOptions {
  // Hidden size and each expert's width (default 64 and 64; K-quants need rows of 256).
  int hidden = 64;
  int expert_width = 64;
};

// Writes DIR/hf: 2 layers, hidden 64, 8 experts of 64 (or as `options` says), vocabulary 151936,
// bf16 weights of spread 0.25 (random models at HF's 0.02 give logits that are all ties), the
// MoE routers in f32 as llama.cpp's converter stores them, so a bf16 GGUF holds the very same
// weights. Returns the directory; "" on failure (with a gtest failure recorded).
std::string WriteRandomQwen3Moe(const std::string& dir, const RandomQwen3MoeOptions& options = {});

// Writes DIR/hf: a DeepSeek-V3-layout model (MLA with q-LoRA, rank 64, 4 heads of nope 32 + rope
// 16 and v 32; first layer dense, then 8 routed experts top-2 in 2 groups plus 1 shared; YaRN),
// vocabulary 129280, bf16 weights of spread 0.25, routers in f32. "" on failure.
std::string WriteRandomDeepseekV3(const std::string& dir);

// Writes DIR/hf: a DeepSeek-V2-Lite-layout model (MLA without q-LoRA, softmax greedy top-3 of 8
// routed experts plus 2 shared, a dense first layer, YaRN) with DeepSeek-V3's vocabulary (129280),
// whose GGUF carries llama.cpp's "deepseek-llm" pre-tokenizer. "" on failure.
std::string WriteRandomDeepseekV2(const std::string& dir);

// DIR/model-TYPE.gguf from one of these checkpoints (the tokenizer its model_type uses); TYPE is bf16,
// q8_0, q4_0, q4_k_m or q5_k_m. "" on failure.
std::string WriteGguf(const std::string& checkpoint, const std::string& dir, const std::string& type);

}  // namespace testing_support

#endif  // AGENTD_TESTS_SUPPORT_GGUF_MODEL_H_
