// GGUF tensor rows as float32, exactly as ggml dequantises them: for the weight loader's
// matrices of a scheme the kernels do not take as they are, and for matrices llama.cpp stores
// in another layout than the engine's (deepseek2's W_UK, split off and transposed per head).
#ifndef AGENTD_ENGINE_GGUF_DEQUANTIZE_H_
#define AGENTD_ENGINE_GGUF_DEQUANTIZE_H_

#include <cstdint>

#include "engine/gguf.h"

namespace engine {

// True for the types DequantizeGgufRow reads: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K.
bool IsDequantizableGgmlType(uint32_t type);

// One row of `cols` values (whole blocks of the type) from `row` into out[0, cols); false (nothing
// written) for a type IsDequantizableGgmlType refuses.
bool DequantizeGgufRow(GgmlType type, const uint8_t* row, int64_t cols, float* out);

}  // namespace engine

#endif  // AGENTD_ENGINE_GGUF_DEQUANTIZE_H_
