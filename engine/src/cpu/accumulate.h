// out[n, cols] += coeffs[n, rows] · W[rows, cols]: the "x · W" product (W not transposed), used
// where a weight matrix is read along its rows, such as MLA's absorbed key projection
// (q_latent = W_UKᵀ · q_nope). Each weight row is read once for all n inputs.
#ifndef AGENTD_ENGINE_CPU_ACCUMULATE_H_
#define AGENTD_ENGINE_CPU_ACCUMULATE_H_

#include "cpu/matrix.h"

namespace engine::cpu {

void AccumulateRows(const float* coeffs, int64_t n, const Matrix& w, float* out);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_ACCUMULATE_H_
