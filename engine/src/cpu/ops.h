// The elementwise and normalisation ops of the forward pass, on float32 rows.
#ifndef AGENTD_ENGINE_CPU_OPS_H_
#define AGENTD_ENGINE_CPU_OPS_H_

#include <cstdint>

namespace engine::cpu {

// out[r] = x[r] / rms(x[r]) * weight, for `rows` rows of width `dim`. out may alias x.
void RmsNorm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* out);

// gate[i] = silu(gate[i]) * up[i] — SwiGLU's activation.
void SiluMul(float* gate, const float* up, int64_t n);

// In place, numerically stable.
void Softmax(float* x, int64_t n);

float Sigmoid(float x);

// The index of the first largest of x[0, n) (n > 0), as std::max_element finds it; vectorised
// (greedy decoding scans a 150,000-entry vocabulary per token, on one thread). With a NaN among
// them, std::max_element's own answer.
int64_t ArgMax(const float* x, int64_t n);

// Σ a[i]·b[i], vectorised (the sum may be reassociated).
float Dot(const float* a, const float* b, int64_t n);
// y[i] += alpha · x[i].
void Axpy(float alpha, const float* x, float* y, int64_t n);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_OPS_H_
