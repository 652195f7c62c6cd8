#include "cpu/quantized.h"

#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"

namespace engine::cpu {

std::optional<Quantization> ParseQuantization(std::string_view name) {
  if (name.empty()) return Quantization::kNone;
  if (name == "q8") return Quantization::kQ8;
  if (name == "q4") return Quantization::kQ4;
  return std::nullopt;
}

std::string_view QuantizationName(Quantization q) {
  switch (q) {
    case Quantization::kNone: return "";
    case Quantization::kQ8: return "q8";
    case Quantization::kQ4: return "q4";
  }
  return "?";
}

bool CanQuantize(const Matrix& w, Quantization q) {
  // Whole pairs of blocks: the kernels read 64 weights at a time.
  return q != Quantization::kNone && w.rows > 0 && w.cols % 64 == 0;
}

int64_t QuantizedBytes(Quantization q, int64_t rows, int64_t cols) {
  switch (q) {
    case Quantization::kNone: return 0;
    case Quantization::kQ8: return q8::QuantizedBytes(rows, cols);
    case Quantization::kQ4: return q4::QuantizedBytes(rows, cols);
  }
  return 0;
}

std::vector<uint8_t> Quantize(const Matrix& w, Quantization q) {
  std::vector<uint8_t> out(static_cast<size_t>(QuantizedBytes(q, w.rows, w.cols)));
  // Rows are independent: a 30B checkpoint's quantisation is load time, so it uses every core.
#pragma omp parallel
  {
    std::vector<float> row(static_cast<size_t>(w.cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < w.rows; ++r) {
      w.RowToF32(r, row.data());
      uint8_t* blocks = out.data() + QuantizedBytes(q, r, w.cols);
      if (q == Quantization::kQ8) q8::QuantizeRow(row.data(), w.cols, blocks);
      if (q == Quantization::kQ4) q4::QuantizeRow(row.data(), w.cols, blocks);
    }
  }
  return out;
}

void DequantizeRow(Quantization q, const uint8_t* blocks, int64_t cols, int64_t r, float* out) {
  if (q == Quantization::kQ8) q8::DequantizeRow(blocks, cols, r, out);
  if (q == Quantization::kQ4) q4::DequantizeRow(blocks, cols, r, out);
}

}  // namespace engine::cpu
