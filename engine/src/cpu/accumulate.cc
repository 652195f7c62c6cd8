#include "cpu/accumulate.h"

#include <vector>

#include "cpu/matmul_q8.h"
#include "cpu/ops.h"

namespace engine::cpu {

void AccumulateRows(const float* coeffs, int64_t n, const Matrix& w, float* out) {
  // 8-bit rows are read in place (decode's W_UK of every head, every step), the same bits as
  // dequantising them first.
  if (w.quantized != nullptr && w.quantization == Quantization::kQ8 && w.block_offsets == nullptr && w.panel_rows == 0) {
    return q8::AccumulateRows(coeffs, n, w, out);
  }
  // Other quantised matrices read back through RowToF32 whatever their checkpoint dtype.
  const bool direct = w.dtype == DType::kF32 && w.quantized == nullptr;
  std::vector<float> converted(direct ? 0 : w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    const float* row;
    if (direct) {
      row = static_cast<const float*>(w.data) + r * w.cols;
    } else {
      w.RowToF32(r, converted.data());
      row = converted.data();
    }
    for (int64_t i = 0; i < n; ++i) {
      const float a = coeffs[i * w.rows + r];
      float* o = out + i * w.cols;
      cpu::Axpy(a, row, o, w.cols);
    }
  }
}

}  // namespace engine::cpu
