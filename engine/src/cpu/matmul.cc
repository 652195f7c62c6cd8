#include "cpu/matmul.h"

#include "cpu/matmul_amx.h"
#include "cpu/quantized_amx.h"
#include "cpu/matmul_q4.h"
#include "cpu/matmul_q8.h"
#include "cpu/quantized.h"
#include "cpu/quantized_tokens.h"
#include "cpu/stealing_shares.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <omp.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace engine::cpu {

uint64_t Matrix::bytes() const {
  if (quantized != nullptr) {
    const int64_t offsets = block_offsets != nullptr ? BlockOffsetsCount(rows, cols) * static_cast<int64_t>(sizeof(uint16_t)) : 0;
    return static_cast<uint64_t>(QuantizedBytes(quantization, rows, cols) + offsets);
  }
  return static_cast<uint64_t>(rows * cols) * DTypeSize(dtype);
}

void Matrix::RowToF32(int64_t r, float* out) const {
  if (quantized != nullptr) {
    DequantizeRow(*this, r, out);
    if (block_offsets != nullptr) {
      for (int64_t c = 0; c < cols; ++c) out[c] += F16ToF32(block_offsets[BlockOffsetIndex(block_offsets_row + r, c / kQuantBlock, cols)]);
    }
    return;
  }
  switch (dtype) {
    case DType::kF32: {
      const float* row = static_cast<const float*>(data) + r * cols;
      std::copy(row, row + cols, out);
      return;
    }
    case DType::kBF16: {
      const uint16_t* row = static_cast<const uint16_t*>(data) + r * cols;
      // bf16 is the top half of a float32: widening is a shift, which vectorises.
      uint32_t* bits = reinterpret_cast<uint32_t*>(out);
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) bits[c] = static_cast<uint32_t>(row[c]) << 16;
      return;
    }
    case DType::kF16: {
      const uint16_t* row = static_cast<const uint16_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = F16ToF32(row[c]);
      return;
    }
    case DType::kF8E4M3: {
      const uint8_t* row = static_cast<const uint8_t*>(data) + r * cols;
      for (int64_t c = 0; c < cols; ++c) out[c] = F8E4M3ToF32(row[c]);
      return;
    }
  }
}

Matrix Matrix::Rows(int64_t first, int64_t count) const {
  // A view cannot start inside a panel: its rows would be interleaved with rows before it.
  assert(first >= panel_rows || first % kPanelRows == 0);
  Matrix view = *this;
  view.rows = count;
  view.data = static_cast<const uint8_t*>(data) + first * cols * DTypeSize(dtype);
  view.tiles = tiles != nullptr && first % 16 == 0 && count >= 16 ? tiles + first * cols : nullptr;
  view.quantized = quantized != nullptr ? quantized + QuantizedBytes(quantization, first, cols) : nullptr;
  view.block_offsets_row = block_offsets_row + first;
  view.panel_rows = std::max<int64_t>(0, panel_rows - first);
  return view;
}

void MatmulTransposedReference(const float* x, int64_t n, const Matrix& w, float* y) {
  // What the fast path multiplies: with bf16 products, the tokens rounded to bf16; with quantised
  // weights, the tokens quantised to 8 bits (and the weights as dequantised by RowToF32).
  std::vector<float> tokens(x, x + n * w.cols);
  if (w.quantized != nullptr) {
    std::vector<uint8_t> quantized(static_cast<size_t>(QuantizedTokenBytes(n, w.cols)));
    QuantizeTokens(x, n, w.cols, quantized.data());
    const QuantizedTokens view(quantized.data(), n, w.cols);
    for (int64_t i = 0; i < n; ++i) view.Dequantize(i, &tokens[i * w.cols]);
  } else if (w.dtype == DType::kBF16 && UsesBf16Products()) {
    for (float& v : tokens) v = Bf16ToF32(F32ToBf16(v));
  }
  std::vector<float> row(w.cols);
  for (int64_t r = 0; r < w.rows; ++r) {
    w.RowToF32(r, row.data());
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;
      for (int64_t c = 0; c < w.cols; ++c) sum += static_cast<double>(tokens[i * w.cols + c]) * row[c];
      y[i * w.rows + r] = static_cast<float>(sum);
    }
  }
}

namespace {

// Tokens rounded to bf16 are stored in rows of this many elements: k rounded up to whole blocks
// of 32, zero-padded.
int64_t Bf16Stride(int64_t k) { return (k + 31) & ~int64_t{31}; }

// One dot product of the portable path. Not inlined: inlined into RowsPortable's loops, GCC
// summed an item's first row in another order than the rest, so a row's bits depended on where
// the work items began.
__attribute__((noinline)) float RowDot(const float* a, const float* b, int64_t k) {
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < k; ++c) sum += a[c] * b[c];
  return sum;
}

#if defined(__x86_64__)
constexpr int64_t kPrefetchBytes = 8192;

__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadBf16x16(const uint16_t* p) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

__attribute__((target("avx512f,avx512bw"))) inline __m512 LoadF16x16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Rows [r0, r1) of y for n tokens, in tiles of 4 weight rows × up to 4 tokens: each 16-bit
// weight vector is widened once and used for 4 tokens, each token vector is loaded once for 4
// rows, and the 16 accumulators are independent chains, so neither loads nor FMA latency bound
// the loop. Weights stream from memory exactly once.
template <bool kIsBf16, int kRows, int kTokens>
__attribute__((target("avx512f,avx512bw,fma"), always_inline)) inline void Tile(const float* x, int64_t k, const uint16_t* w,
                                                                 int64_t w_stride, float* y, int64_t y_stride) {
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  const int64_t k16 = k & ~int64_t{15};
  for (int64_t c = 0; c < k16; c += 16) {
    __m512 xv[kTokens];
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) xv[t] = _mm512_loadu_ps(x + t * k + c);
    // Hardware prefetchers lose track of the kRows interleaved streams; asking for the line
    // 8 KiB ahead (into L2) keeps enough reads in flight to approach full bandwidth
    // (18 → 26 GB/s on a 151936×1024 bf16 GEMV with 2 threads here).
    if ((c & 31) == 0) {
#pragma GCC unroll 4
      for (int r = 0; r < kRows; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(w + r * w_stride + c) + kPrefetchBytes, _MM_HINT_T1);
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512 wv = kIsBf16 ? LoadBf16x16(w + r * w_stride + c) : LoadF16x16(w + r * w_stride + c);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) {
      float sum = _mm512_reduce_add_ps(acc[r][t]);
      for (int64_t c = k16; c < k; ++c) {
        const uint16_t h = w[r * w_stride + c];
        sum += (kIsBf16 ? Bf16ToF32(h) : F16ToF32(h)) * x[t * k + c];
      }
      y[t * y_stride + r] = sum;
    }
  }
}

template <bool kIsBf16, int kRows>
__attribute__((target("avx512f,avx512bw,fma"))) void RowBlock(const float* x, int64_t n, const Matrix& w, float* y,
                                                             int64_t r) {
  const int64_t k = w.cols;
  const uint16_t* rows = static_cast<const uint16_t*>(w.data) + r * k;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) Tile<kIsBf16, kRows, 4>(x + i * k, k, rows, k, y + i * w.rows + r, w.rows);
  for (; i < n; ++i) Tile<kIsBf16, kRows, 1>(x + i * k, k, rows, k, y + i * w.rows + r, w.rows);
}

template <bool kIsBf16>
__attribute__((target("avx512f,avx512bw,fma"))) void Half16RowsAvx512(const float* x, int64_t n, const Matrix& w,
                                                                     float* y, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) RowBlock<kIsBf16, 4>(x, n, w, y, r);
  for (; r < r1; ++r) RowBlock<kIsBf16, 1>(x, n, w, y, r);
}

// bf16 weights on CPUs with AVX512-BF16 (Intel since Cooper Lake, AMD since Zen 4): the tokens
// are rounded to bf16 once per call (as llama.cpp does for bf16 weights), and vdpbf16ps
// multiplies 32 weight-token pairs and adds them into 16 float32 lanes in one instruction — twice
// the products of an f32 FMA, with no widening of the weights, which took the same ports as the
// FMAs. The same tiles as above: 4 weight rows × up to 4 tokens, 16 independent chains. The
// last partial block of 32 reads the weights masked and the (zero-padded) tokens whole, so every
// output is the same sum in the same order whatever the tile, n or thread: batching and
// speculation's verify passes give exactly what one token alone gives.
template <int kRows, int kTokens>
__attribute__((target("avx512f,avx512bw,avx512bf16"), always_inline)) inline void TileBf16(
    const uint16_t* x, int64_t x_stride, int64_t k, const uint16_t* w, int64_t w_stride, float* y, int64_t y_stride) {
  __m512 acc[kRows][kTokens];
#pragma GCC unroll 4
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  const int64_t k32 = k & ~int64_t{31};
  for (int64_t c = 0; c < k32; c += 32) {
    __m512i xv[kTokens];
#pragma GCC unroll 4
    for (int t = 0; t < kTokens; ++t) xv[t] = _mm512_loadu_si512(x + t * x_stride + c);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      _mm_prefetch(reinterpret_cast<const char*>(w + r * w_stride + c) + kPrefetchBytes, _MM_HINT_T1);
    }
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512i wv = _mm512_loadu_si512(w + r * w_stride + c);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv, (__m512bh)xv[t]);
    }
  }
  if (k32 < k) {
    const __mmask32 tail = static_cast<__mmask32>((uint64_t{1} << (k - k32)) - 1);
#pragma GCC unroll 4
    for (int r = 0; r < kRows; ++r) {
      const __m512i wv = _mm512_maskz_loadu_epi16(tail, w + r * w_stride + k32);
#pragma GCC unroll 4
      for (int t = 0; t < kTokens; ++t) {
        const __m512i xv = _mm512_loadu_si512(x + t * x_stride + k32);
        acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv, (__m512bh)xv);
      }
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int t = 0; t < kTokens; ++t) y[t * y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
  }
}

// Rows [r0, r1) of y = x · Wᵀ from tokens already rounded to bf16 (`x` [n, x_stride], each row
// zero-padded to x_stride, a multiple of 32).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void Bf16RowsAvx512Bf16(const uint16_t* x, int64_t x_stride,
                                                                               int64_t n, const Matrix& w, float* y,
                                                                               int64_t r0, int64_t r1) {
  const int64_t k = w.cols;
  const uint16_t* weights = static_cast<const uint16_t*>(w.data);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) TileBf16<4, 4>(x + i * x_stride, x_stride, k, weights + r * k, k, y + i * w.rows + r, w.rows);
    for (; i < n; ++i) TileBf16<4, 1>(x + i * x_stride, x_stride, k, weights + r * k, k, y + i * w.rows + r, w.rows);
  }
  for (; r < r1; ++r) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) TileBf16<1, 4>(x + i * x_stride, x_stride, k, weights + r * k, k, y + i * w.rows + r, w.rows);
    for (; i < n; ++i) TileBf16<1, 1>(x + i * x_stride, x_stride, k, weights + r * k, k, y + i * w.rows + r, w.rows);
  }
}

// x [n, k] float32 → bf16 rows of x_stride (k rounded up to 32, zero-padded), rounding to
// nearest even as the hardware conversion does.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void RoundTokensToBf16(const float* x, int64_t n, int64_t k,
                                                                              int64_t x_stride, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x + i * k;
    uint16_t* dst = out + i * x_stride;
    for (int64_t c = 0; c < x_stride; c += 32) {
      const int64_t left = k - c;
      const __mmask16 lo = left >= 16 ? __mmask16(0xFFFF) : left > 0 ? __mmask16((1u << left) - 1) : __mmask16(0);
      const __mmask16 hi = left >= 32 ? __mmask16(0xFFFF) : left > 16 ? __mmask16((1u << (left - 16)) - 1) : __mmask16(0);
      const __m512 a = _mm512_maskz_loadu_ps(lo, row + c);
      const __m512 b = _mm512_maskz_loadu_ps(hi, row + c + 16);
      _mm512_storeu_si512(dst + c, (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
  }
}

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("fma");
  return has;
}
#endif

// Portable path: converts each weight row to float32 once, then dots it with every token.
void RowsPortable(const float* x, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
  std::vector<float> converted;
  const float* row = nullptr;
  for (int64_t r = r0; r < r1; ++r) {
    if (w.dtype == DType::kF32) {
      row = static_cast<const float*>(w.data) + r * w.cols;
    } else {
      converted.resize(w.cols);
      w.RowToF32(r, converted.data());
      row = converted.data();
    }
    for (int64_t i = 0; i < n; ++i) y[i * w.rows + r] = RowDot(x + i * w.cols, row, w.cols);
  }
}

}  // namespace

namespace {

// AGENTD_MATMUL chooses the kernel for bf16 weights: amx (AMX tiles where the CPU has them, the
// default), avx512bf16 (vdpbf16ps, the default elsewhere), or f32 (widening to float32, the
// kernel before them). On the Sapphire Rapids VM AMX prefills 1.8-1.9× faster than avx512bf16
// and decodes one sequence 10% slower; agent plans read thousands of tokens of passages to
// write hundreds, so the main job's reports come out 8% sooner with it — see BENCHMARKS.md.
std::string_view KernelCap() {
  const char* cap = std::getenv("AGENTD_MATMUL");
  return cap == nullptr ? std::string_view("amx") : std::string_view(cap);
}

}  // namespace

bool UsesBf16Products() {
#if defined(__x86_64__)
  static const bool uses = HasAvx512() && __builtin_cpu_supports("avx512bf16") && KernelCap() != "f32";
  return uses;
#else
  return false;
#endif
}

bool UsesAmx() {
  static const bool uses = UsesBf16Products() && KernelCap() == "amx" && amx::Available();
  return uses;
}

bool UsesQuantizedAmx() {
  static const bool uses = KernelCap() == "amx" && quantized_amx::Available();
  return uses;
}

namespace {

void Rows(const float* x, int64_t n, const Matrix& w, float* y, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
  if (HasAvx512()) {
    if (w.dtype == DType::kBF16) return Half16RowsAvx512<true>(x, n, w, y, r0, r1);
    if (w.dtype == DType::kF16) return Half16RowsAvx512<false>(x, n, w, y, r0, r1);
  }
#endif
  RowsPortable(x, n, w, y, r0, r1);
}

// Buffers for the converted tokens, kept between calls on a thread: a prefill's inputs are
// hundreds of KiB each, and allocated afresh per call they came from the kernel as zeroed pages
// every time (10% of a quantised prefill's time was clearing pages).
template <typename T>
struct Scratch {
  std::vector<std::vector<T>> buffers;
  size_t used = 0;
  std::vector<T>& Next() {
    if (used == buffers.size()) buffers.emplace_back();
    return buffers[used++];
  }
  std::vector<T>& operator[](size_t i) { return buffers[i]; }
};

// For each job whose matrix `wants` its tokens converted (rounded, quantised), the index in
// `copies` of the converted tokens it reads, else -1. Jobs with the same input (the same x, n
// and width, as q/k/v have) share one copy, made once by `convert`.
template <typename T, typename Wants, typename Convert>
std::vector<int> ConvertInputsOnce(const std::vector<MatmulJob>& jobs, const Wants& wants, const Convert& convert,
                                   Scratch<T>* copies) {
  std::vector<int> copy_of(jobs.size(), -1);
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (!wants(*jobs[j].w)) continue;
    for (size_t earlier = 0; earlier < j && copy_of[j] < 0; ++earlier) {
      if (copy_of[earlier] >= 0 && jobs[earlier].x == jobs[j].x && jobs[earlier].n == jobs[j].n &&
          jobs[earlier].w->cols == jobs[j].w->cols) {
        copy_of[j] = copy_of[earlier];
      }
    }
    if (copy_of[j] >= 0) continue;
    copy_of[j] = static_cast<int>(copies->used);
    convert(jobs[j], &copies->Next());
  }
  return copy_of;
}

}  // namespace

// Tokens from which quantised matrices go to AMX (where UsesQuantizedAmx): one B tile's worth.
constexpr int64_t kQuantizedAmxMinTokens = 16;
// Batches of at most this many tokens per job are bound by reading the weights (decode, and
// speculation's few drafted tokens), not by arithmetic.
constexpr int64_t kStreamingTokens = 4;
// What one claim of a decode share covers: small enough that a thread done early finds the
// other's pieces to take, large enough that claiming (one compare-exchange) costs nothing next to
// streaming it (128 KiB: ~2.5 µs at 50 GB/s).
constexpr int64_t kPieceBytes = 128 << 10;

void MatmulBatch(const std::vector<MatmulJob>& jobs) {
  // Work items are runs of rows of one job. Big items stream better (each starts cold for the
  // prefetcher and costs a scheduling step: 64 KiB items reached 65% of the bandwidth floor on
  // decode, 512 KiB ones 77-87%), but there must be enough of them to keep every thread busy:
  // about 2 per thread, between 128 KiB and 1 MiB each.
  int64_t total_bytes = 0, work = 0;
  for (const MatmulJob& job : jobs) {
    total_bytes += static_cast<int64_t>(job.w->bytes());
    work += job.w->rows * job.w->cols * job.n;
  }
  const int64_t threads = std::max(1, omp_get_max_threads());
  const int64_t item_bytes = std::clamp<int64_t>(total_bytes / (2 * threads), 128 << 10, 1 << 20);
  struct Item {
    size_t job;
    int64_t r0, r1;
  };
  // AMX takes the rows of a bf16 matrix in whole tiles of 16 when its k is whole tile rows (32);
  // the rows past the last whole tile go to the AVX512-BF16 kernel. Which rows go where depends
  // on the matrix alone, never on n, so batching changes no sum.
  auto amx_rows = [&](const Matrix& w) -> int64_t {
    const bool amx = w.quantized != nullptr ? UsesQuantizedAmx() && quantized_amx::Suits(w) : UsesAmx() && amx::Suits(w);
    return amx ? w.rows & ~int64_t{15} : 0;
  };
  std::vector<Item> items;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Matrix& w = *jobs[j].w;
    const int64_t row_bytes = std::max<int64_t>(1, static_cast<int64_t>(w.bytes()) / std::max<int64_t>(1, w.rows));
    int64_t chunk = std::max<int64_t>(1, item_bytes / row_bytes);
    // A small matrix times many tokens (a MoE router over a prefill) is little to read but much to
    // compute: split it so that every thread takes a share instead of one thread taking it all.
    // In whole 32-row steps, as the byte-sized chunks are (powers of two): kernels tile rows from
    // an item's first row, so boundaries off those steps would regroup rows and change bits.
    if (w.rows * w.cols * jobs[j].n >= (int64_t{1} << 22)) {
      const int64_t share = (w.rows + 2 * threads - 1) / (2 * threads);
      chunk = std::min(chunk, std::max<int64_t>(32, (share + 31) & ~int64_t{31}));
    }
    chunk = amx_rows(w) > 0                                   ? (chunk + 31) & ~int64_t{31}  // whole pairs of AMX tiles
            : w.block_offsets != nullptr || w.panel_rows > 0 ? (chunk + 15) & ~int64_t{15}  // whole offset groups, panels
                                                             : (chunk + 3) & ~int64_t{3};   // whole 4-row tiles
    for (int64_t r = 0; r < w.rows; r += chunk) items.push_back({j, r, std::min(w.rows, r + chunk)});
  }
  // With quantised weights each job's tokens are quantised once, and with bf16 products rounded to
  // bf16 once, before the parallel pass.
  // The calling thread's buffers, named by references: the work items run on other threads,
  // where the thread_local names would mean those threads' own (empty) buffers.
  thread_local Scratch<uint8_t> quantized_buffers;
  thread_local Scratch<uint16_t> rounded_buffers, packed_buffers;
  thread_local Scratch<uint8_t> packed_quantized_buffers;
  Scratch<uint8_t>& quantized = quantized_buffers;
  Scratch<uint16_t>& rounded = rounded_buffers;
  Scratch<uint16_t>& packed = packed_buffers;
  Scratch<uint8_t>& packed_quantized = packed_quantized_buffers;
  quantized.used = rounded.used = 0;
  const std::vector<int> quantized_of = ConvertInputsOnce<uint8_t>(
      jobs, [](const Matrix& w) { return w.quantized != nullptr; },
      [](const MatmulJob& job, std::vector<uint8_t>* out) {
        out->resize(static_cast<size_t>(QuantizedTokenBytes(job.n, job.w->cols)));
        QuantizeTokens(job.x, job.n, job.w->cols, out->data());
      },
      &quantized);
  const std::vector<int> rounded_of = ConvertInputsOnce<uint16_t>(
      jobs, [](const Matrix& w) { return UsesBf16Products() && w.dtype == DType::kBF16 && w.quantized == nullptr; },
      [](const MatmulJob& job, std::vector<uint16_t>* out) {
        const int64_t stride = Bf16Stride(job.w->cols);
        out->resize(static_cast<size_t>(job.n * stride));
#if defined(__x86_64__)
        RoundTokensToBf16(job.x, job.n, job.w->cols, stride, out->data());
#endif
      },
      &rounded);
  // For AMX, the rounded tokens packed into B tiles (once per distinct rounding).
  packed.used = 0;
  while (packed.used < rounded.used) packed.Next();
  std::vector<bool> packed_done(rounded.used, false);
  for (size_t j = 0; j < jobs.size(); ++j) {
    const int index = rounded_of[j];
    if (index < 0 || amx_rows(*jobs[j].w) == 0 || packed_done[index]) continue;
    packed_done[index] = true;
    const int64_t k = jobs[j].w->cols;
    packed[index].resize(static_cast<size_t>(amx::PackedSize(jobs[j].n, k)));
    amx::PackTokens(rounded[index].data(), Bf16Stride(k), jobs[j].n, k, packed[index].data());
  }
  // For quantised AMX, the quantised tokens packed into groups of 16 (once per quantisation).
  packed_quantized.used = 0;
  while (packed_quantized.used < quantized.used) packed_quantized.Next();
  std::vector<bool> packed_quantized_done(quantized.used, false);
  for (size_t j = 0; j < jobs.size(); ++j) {
    const int index = quantized_of[j];
    if (index < 0 || jobs[j].n < kQuantizedAmxMinTokens || amx_rows(*jobs[j].w) == 0 || packed_quantized_done[index] ||
        !NeedsPackedTokens(*jobs[j].w)) {
      continue;
    }
    packed_quantized_done[index] = true;
    const QuantizedTokens tokens(quantized[index].data(), jobs[j].n, jobs[j].w->cols);
    packed_quantized[index].resize(static_cast<size_t>(quantized_amx::PackedBytes(jobs[j].n, jobs[j].w->cols)));
    quantized_amx::PackTokens(tokens, packed_quantized[index].data());
  }
  auto run = [&](const Item& item) {
    const MatmulJob& job = jobs[item.job];
    if (quantized_of[item.job] >= 0) {
      const QuantizedTokens tokens(quantized[quantized_of[item.job]].data(), job.n, job.w->cols);
      const bool q4 = job.w->quantization == Quantization::kQ4;
      // Both kernels give the same bits (cpu/quantized_kernel.h), so the choice may follow n: AMX
      // tiles take 16 tokens at a time, and below that VNNI streams the weights faster.
      const int64_t amx_end = job.n >= kQuantizedAmxMinTokens ? std::min(item.r1, amx_rows(*job.w)) : item.r0;
      if (item.r0 < amx_end) {
        const uint8_t* packed_tokens = packed_quantized[quantized_of[item.job]].data();
        if (q4) q4::RowsAmx(tokens, packed_tokens, *job.w, job.y, item.r0, amx_end);
        else q8::RowsAmx(tokens, packed_tokens, *job.w, job.y, item.r0, amx_end);
      }
      const int64_t rest = std::max(item.r0, amx_end);
      if (rest < item.r1) {
        if (q4) q4::Rows(tokens, *job.w, job.y, rest, item.r1);
        else q8::Rows(tokens, *job.w, job.y, rest, item.r1);
      }
      if (job.w->block_offsets != nullptr) AddBlockOffsets(tokens, *job.w, job.y, item.r0, item.r1);
      return;
    }
#if defined(__x86_64__)
    if (rounded_of[item.job] >= 0) {
      const int64_t amx_end = std::min(item.r1, amx_rows(*job.w));
      if (item.r0 < amx_end) amx::Rows(packed[rounded_of[item.job]].data(), job.n, *job.w, job.y, item.r0, amx_end);
      const int64_t rest = std::max(item.r0, amx_end);
      if (rest < item.r1) {
        Bf16RowsAvx512Bf16(rounded[rounded_of[item.job]].data(), Bf16Stride(job.w->cols), job.n, *job.w, job.y, rest,
                           item.r1);
      }
      return;
    }
#endif
    Rows(job.x, job.n, *job.w, job.y, item.r0, item.r1);
  };
  if (items.size() <= 1 || work < (1 << 15)) {
    for (const Item& item : items) run(item);
    return;
  }
  // A decode step's products take as long as their weights take to read, so each thread gets one
  // contiguous share of equal bytes, which it reads front to back: dynamic items of a few hundred
  // KiB handed out in turn left one thread waiting at every step's end for the other's last item
  // (a decoded token runs five such batches per layer). Threads of equal speed finish their
  // shares together; a slower one (a VM's vCPU the host took for a while) has the pieces at its
  // share's back taken by the other (StealingShares). Shares and pieces are cut at the rows the
  // items are cut at (4-row tiles, 16-row offset groups and panels, 32-row AMX pairs), so no sum
  // changes.
  bool streaming = true;
  for (const MatmulJob& job : jobs) streaming = streaming && job.n <= kStreamingTokens;
  if (streaming && threads > 1) {
    std::vector<std::vector<Item>> shares(static_cast<size_t>(threads));
    const int64_t share_bytes = (total_bytes + threads - 1) / threads;
    int64_t before = 0;  // bytes of the jobs before this one
    for (size_t j = 0; j < jobs.size(); ++j) {
      const Matrix& w = *jobs[j].w;
      if (w.rows <= 0) continue;
      const int64_t granule = amx_rows(w) > 0 ? 32 : w.block_offsets != nullptr || w.panel_rows > 0 ? 16 : 4;
      const double row_bytes = static_cast<double>(w.bytes()) / static_cast<double>(w.rows);
      for (int64_t r = 0; r < w.rows;) {
        const int64_t at = before + static_cast<int64_t>(static_cast<double>(r) * row_bytes);
        const int64_t thread = std::min(threads - 1, at / std::max<int64_t>(1, share_bytes));
        int64_t end = w.rows;
        if (thread < threads - 1) {
          const double into_job = static_cast<double>((thread + 1) * share_bytes - before);
          end = (static_cast<int64_t>(into_job / row_bytes) + granule - 1) / granule * granule;
          end = std::clamp(end, std::min(w.rows, r + granule), w.rows);
        }
        // In pieces of about kPieceBytes, the unit another thread may take.
        const int64_t piece_rows = std::max<int64_t>(
            granule, static_cast<int64_t>(static_cast<double>(kPieceBytes) / row_bytes) / granule * granule);
        for (int64_t p = r; p < end; p += piece_rows) {
          shares[static_cast<size_t>(thread)].push_back({j, p, std::min(end, p + piece_rows)});
        }
        r = end;
      }
      before += static_cast<int64_t>(w.bytes());
    }
    std::vector<int64_t> piece_counts(shares.size());
    for (size_t s = 0; s < shares.size(); ++s) piece_counts[s] = static_cast<int64_t>(shares[s].size());
    StealingShares pieces(piece_counts);
#pragma omp parallel
    {
      // With fewer threads than shares (a nested call), thread t owns share t and the rest are
      // taken from their backs.
      StealingShares::Piece piece;
      while (pieces.Next(omp_get_thread_num(), &piece)) run(shares[static_cast<size_t>(piece.share)][piece.index]);
    }
    return;
  }
  const int64_t count = static_cast<int64_t>(items.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t i = 0; i < count; ++i) run(items[i]);
}

void MatmulTransposed(const float* x, int64_t n, const Matrix& w, float* y) { MatmulBatch({{x, n, &w, y}}); }

}  // namespace engine::cpu
