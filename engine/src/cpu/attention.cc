#include "cpu/attention.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/features.h"
#include "cpu/ops.h"

namespace engine::cpu {

namespace {

// Scores of one query against keys [0, visible), 16 keys per step: for each dimension, the
// query's element times that dimension's row of the transposed panel. Every score is the sum
// over dimensions in order, whatever the query.
void ScoresPortable(const float* q, const KeyValuePanel& panel, int64_t visible, float scale, float* scores) {
  const int64_t blocks = (visible + 15) / 16;
  for (int64_t b = 0; b < blocks; ++b) {
    float acc[16] = {};
    for (int64_t i = 0; i < panel.key_dim; ++i) {
      const float* row = panel.keys_t + i * panel.stride + b * 16;
      for (int j = 0; j < 16; ++j) acc[j] += q[i] * row[j];
    }
    const int64_t take = std::min<int64_t>(16, visible - b * 16);
    for (int64_t j = 0; j < take; ++j) scores[b * 16 + j] = acc[j] * scale;
  }
}

__attribute__((target("avx512f"))) void ScoresAvx512(const float* q, const KeyValuePanel& panel, int64_t visible,
                                                    float scale, float* scores) {
  const int64_t blocks = (visible + 15) / 16;
  const __m512 scale_v = _mm512_set1_ps(scale);
  int64_t b = 0;
  // Four blocks at a time: each query element is broadcast once for 64 keys.
  for (; b + 4 <= blocks; b += 4) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const float* base = panel.keys_t + b * 16;
    for (int64_t i = 0; i < panel.key_dim; ++i) {
      const __m512 qi = _mm512_set1_ps(q[i]);
      const float* row = base + i * panel.stride;
      acc0 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row), acc0);
      acc1 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 16), acc1);
      acc2 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 32), acc2);
      acc3 = _mm512_fmadd_ps(qi, _mm512_loadu_ps(row + 48), acc3);
    }
    _mm512_storeu_ps(scores + b * 16, _mm512_mul_ps(acc0, scale_v));
    _mm512_storeu_ps(scores + b * 16 + 16, _mm512_mul_ps(acc1, scale_v));
    _mm512_storeu_ps(scores + b * 16 + 32, _mm512_mul_ps(acc2, scale_v));
    _mm512_storeu_ps(scores + b * 16 + 48, _mm512_mul_ps(acc3, scale_v));
  }
  for (; b < blocks; ++b) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < panel.key_dim; ++i) {
      acc = _mm512_fmadd_ps(_mm512_set1_ps(q[i]), _mm512_loadu_ps(panel.keys_t + i * panel.stride + b * 16), acc);
    }
    _mm512_storeu_ps(scores + b * 16, _mm512_mul_ps(acc, scale_v));  // scratch has room to the stride
  }
}

// out = Σ_s p[s] · V[s], in order of s.
void WeightedValuesPortable(const float* p, const KeyValuePanel& panel, int64_t visible, float* out) {
  const int64_t dim = panel.value_dim;
  std::fill(out, out + dim, 0.0f);
  for (int64_t s = 0; s < visible; ++s) {
    for (int64_t i = 0; i < dim; ++i) out[i] += p[s] * panel.values[s * dim + i];
  }
}

// 64 dimensions at a time, held in four registers across all the keys.
__attribute__((target("avx512f"))) void WeightedValuesAvx512(const float* p, const KeyValuePanel& panel,
                                                            int64_t visible, float* out) {
  const int64_t dim = panel.value_dim;
  for (int64_t c = 0; c < dim; c += 64) {
    __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    const float* v = panel.values + c;
    for (int64_t s = 0; s < visible; ++s, v += dim) {
      const __m512 ps = _mm512_set1_ps(p[s]);
      o0 = _mm512_fmadd_ps(ps, _mm512_loadu_ps(v), o0);
      o1 = _mm512_fmadd_ps(ps, _mm512_loadu_ps(v + 16), o1);
      o2 = _mm512_fmadd_ps(ps, _mm512_loadu_ps(v + 32), o2);
      o3 = _mm512_fmadd_ps(ps, _mm512_loadu_ps(v + 48), o3);
    }
    _mm512_storeu_ps(out + c, o0);
    _mm512_storeu_ps(out + c + 16, o1);
    _mm512_storeu_ps(out + c + 32, o2);
    _mm512_storeu_ps(out + c + 48, o3);
  }
}

// A 64-wide row of floats as four vectors, and acc[k] += x · row[k] for each: the step both
// four-query kernels repeat, a key row for scores and a value row for outputs. Unrolled by
// hand: left as loops, GCC kept the 16 accumulators and the row on the stack, and every FMA
// waited on a store and a load (a third of the FMA peak on a 2048-token prefill).
__attribute__((target("avx512f"), always_inline)) inline void LoadRow(const float* from, __m512 row[4]) {
  row[0] = _mm512_loadu_ps(from);
  row[1] = _mm512_loadu_ps(from + 16);
  row[2] = _mm512_loadu_ps(from + 32);
  row[3] = _mm512_loadu_ps(from + 48);
}
__attribute__((target("avx512f"), always_inline)) inline void FmaRow(__m512 x, const __m512 row[4], __m512 acc[4]) {
  acc[0] = _mm512_fmadd_ps(x, row[0], acc[0]);
  acc[1] = _mm512_fmadd_ps(x, row[1], acc[1]);
  acc[2] = _mm512_fmadd_ps(x, row[2], acc[2]);
  acc[3] = _mm512_fmadd_ps(x, row[3], acc[3]);
}

// Four queries' scores at once, each key load shared by the four (a long prompt's keys are read
// from L2 once per four queries instead of once per query). Each score is the same sum, in the
// same order, as ScoresAvx512 takes for one query; keys past a query's own `visible` are
// scored too and not used.
__attribute__((target("avx512f"))) void ScoresAvx512x4(const float* const q[4], const KeyValuePanel& panel,
                                                      int64_t visible, float scale, float* const scores[4]) {
  const int64_t blocks = (visible + 15) / 16;
  const __m512 scale_v = _mm512_set1_ps(scale);
  int64_t b = 0;
  for (; b + 4 <= blocks; b += 4) {
    __m512 acc[4][4];
    for (int j = 0; j < 4; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = _mm512_setzero_ps();
    const float* base = panel.keys_t + b * 16;
    for (int64_t i = 0; i < panel.key_dim; ++i) {
      __m512 keys[4];
      LoadRow(base + i * panel.stride, keys);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) FmaRow(_mm512_set1_ps(q[j][i]), keys, acc[j]);
    }
    for (int j = 0; j < 4; ++j) {
      for (int k = 0; k < 4; ++k) _mm512_storeu_ps(scores[j] + (b + k) * 16, _mm512_mul_ps(acc[j][k], scale_v));
    }
  }
  for (; b < blocks; ++b) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t i = 0; i < panel.key_dim; ++i) {
      const __m512 k = _mm512_loadu_ps(panel.keys_t + i * panel.stride + b * 16);
      for (int j = 0; j < 4; ++j) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(q[j][i]), k, acc[j]);
    }
    for (int j = 0; j < 4; ++j) _mm512_storeu_ps(scores[j] + b * 16, _mm512_mul_ps(acc[j], scale_v));
  }
}

// Four queries' weighted values at once, each value row loaded once for the four. Query j sums
// keys [0, visible[j]) in order, as WeightedValuesAvx512 does: the keys all four see together,
// then each its own few more.
__attribute__((target("avx512f"))) void WeightedValuesAvx512x4(const float* const p[4], const KeyValuePanel& panel,
                                                              const int64_t visible[4], float* const out[4]) {
  const int64_t dim = panel.value_dim;
  const int64_t common = std::min(std::min(visible[0], visible[1]), std::min(visible[2], visible[3]));
  for (int64_t c = 0; c < dim; c += 64) {
    __m512 o[4][4];
    for (int j = 0; j < 4; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = _mm512_setzero_ps();
    const float* v = panel.values + c;
    for (int64_t s = 0; s < common; ++s, v += dim) {
      __m512 values[4];
      LoadRow(v, values);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) FmaRow(_mm512_set1_ps(p[j][s]), values, o[j]);
    }
    for (int j = 0; j < 4; ++j) {
      const float* w = panel.values + common * dim + c;
      for (int64_t s = common; s < visible[j]; ++s, w += dim) {
        __m512 values[4];
        LoadRow(w, values);
        FmaRow(_mm512_set1_ps(p[j][s]), values, o[j]);
      }
      for (int k = 0; k < 4; ++k) _mm512_storeu_ps(out[j] + c + 16 * k, o[j][k]);
    }
  }
}

void Scores(const float* q, const KeyValuePanel& panel, int64_t visible, float scale, float* scores) {
  if (HasAvx512F()) return ScoresAvx512(q, panel, visible, scale, scores);
  ScoresPortable(q, panel, visible, scale, scores);
}

// The AVX-512 version takes whole 64-wide chunks of the value width (64 and 128 are the head
// widths models use, 512 MLA's latent); other widths take the portable loop.
void WeightedValues(const float* p, const KeyValuePanel& panel, int64_t visible, float* out) {
  if (HasAvx512F() && panel.value_dim % 64 == 0) return WeightedValuesAvx512(p, panel, visible, out);
  WeightedValuesPortable(p, panel, visible, out);
}

// softmax over x[0, n) in place. The exponentials are most of a long prompt's attention time
// (one per query-key pair), so on AVX-512 they are computed 16 at a time: e^x = 2^m · e^r with
// m = round(x / ln 2) and |r| ≤ ln 2 / 2, e^r by its Taylor polynomial to degree 6 (relative
// error under 2e-7, as std::exp's float result).
__attribute__((target("avx512f"), always_inline)) inline __m512 ExpAvx512(__m512 v) {
  v = _mm512_max_ps(v, _mm512_set1_ps(-87.0f));
  const __m512 m = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(m, _mm512_set1_ps(-2.12194440e-4f), _mm512_fnmadd_ps(m, _mm512_set1_ps(0.693359375f), v));
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, m);
}

__attribute__((target("avx512f"))) void SoftmaxAvx512(float* x, int64_t n) {
  __m512 top = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) top = _mm512_max_ps(top, _mm512_loadu_ps(x + i));
  float max_value = _mm512_reduce_max_ps(top);
  for (; i < n; ++i) max_value = std::max(max_value, x[i]);
  const __m512 shift = _mm512_set1_ps(max_value);
  __m512 total = _mm512_setzero_ps();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 e = ExpAvx512(_mm512_sub_ps(_mm512_loadu_ps(x + i), shift));
    _mm512_storeu_ps(x + i, e);
    total = _mm512_add_ps(total, e);
  }
  if (i < n) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = ExpAvx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), shift));
    _mm512_mask_storeu_ps(x + i, tail, e);
    total = _mm512_add_ps(total, _mm512_maskz_mov_ps(tail, e));
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
  for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= _mm512_cvtss_f32(inv);
}

void AttentionSoftmax(float* x, int64_t n) {
  if (HasAvx512F()) return SoftmaxAvx512(x, n);
  Softmax(x, n);
}

// One position's scores of a group's heads (lane h is head h's) into their rows.
__attribute__((target("avx512f"), always_inline)) inline void StoreHeadScores(__m512 scores_v, int64_t heads, float* at,
                                                                              int64_t stride) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, scores_v);
  for (int64_t h = 0; h < heads; ++h) at[h * stride] = lanes[h];
}

// Four positions' scores for one group of 16 heads: for each key element, the heads' elements
// times the positions' one, each sum in element order as ScoresAvx512 takes it for one head.
__attribute__((target("avx512f"))) void SharedKeyScoresAvx512(const float* queries_t, int64_t heads_in_group,
                                                             const SharedRows& rows, int64_t begin, int64_t end,
                                                             float scale, float* scores, int64_t stride) {
  const int64_t head_dim = rows.key_dim, dim = rows.key_dim + rows.tail_dim;
  const __m512 scale_v = _mm512_set1_ps(scale);
  int64_t s = begin;
  for (; s + 4 <= end; s += 4) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    const float* k[4] = {rows.keys[s], rows.keys[s + 1], rows.keys[s + 2], rows.keys[s + 3]};
    // The four positions' sums written out, not as a loop: as one, GCC kept them on the stack.
    for (int64_t i = 0; i < head_dim; ++i) {
      const __m512 q = _mm512_loadu_ps(queries_t + i * 16);
      acc[0] = _mm512_fmadd_ps(q, _mm512_set1_ps(k[0][i]), acc[0]);
      acc[1] = _mm512_fmadd_ps(q, _mm512_set1_ps(k[1][i]), acc[1]);
      acc[2] = _mm512_fmadd_ps(q, _mm512_set1_ps(k[2][i]), acc[2]);
      acc[3] = _mm512_fmadd_ps(q, _mm512_set1_ps(k[3][i]), acc[3]);
    }
    if (rows.tail_dim > 0) {
      const float* t[4] = {rows.tails[s], rows.tails[s + 1], rows.tails[s + 2], rows.tails[s + 3]};
      for (int64_t i = 0; i < rows.tail_dim; ++i) {
        const __m512 q = _mm512_loadu_ps(queries_t + (head_dim + i) * 16);
        acc[0] = _mm512_fmadd_ps(q, _mm512_set1_ps(t[0][i]), acc[0]);
        acc[1] = _mm512_fmadd_ps(q, _mm512_set1_ps(t[1][i]), acc[1]);
        acc[2] = _mm512_fmadd_ps(q, _mm512_set1_ps(t[2][i]), acc[2]);
        acc[3] = _mm512_fmadd_ps(q, _mm512_set1_ps(t[3][i]), acc[3]);
      }
    }
    for (int j = 0; j < 4; ++j) StoreHeadScores(_mm512_mul_ps(acc[j], scale_v), heads_in_group, scores + s + j, stride);
  }
  for (; s < end; ++s) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < dim; ++i) {
      const float key = i < head_dim ? rows.keys[s][i] : rows.tails[s][i - head_dim];
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(queries_t + i * 16), _mm512_set1_ps(key), acc);
    }
    StoreHeadScores(_mm512_mul_ps(acc, scale_v), heads_in_group, scores + s, stride);
  }
}

// Four heads' sums at once, each value row loaded once for the four, in order of s as
// WeightedValuesAvx512 takes them; then the heads left one at a time.
__attribute__((target("avx512f"))) void SharedValueSumsAvx512(const float* probabilities, int64_t stride,
                                                             int64_t head_begin, int64_t head_end,
                                                             const SharedRows& rows, float* out) {
  const int64_t dim = rows.value_dim;
  int64_t h = head_begin;
  for (; h + 4 <= head_end; h += 4) {
    for (int64_t c = 0; c < dim; c += 64) {
      __m512 o[4][4];
      for (int j = 0; j < 4; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = _mm512_setzero_ps();
      for (int64_t s = 0; s < rows.length; ++s) {
        __m512 values[4];
        LoadRow(rows.values[s] + c, values);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) FmaRow(_mm512_set1_ps(probabilities[(h + j) * stride + s]), values, o[j]);
      }
      for (int j = 0; j < 4; ++j) {
        for (int k = 0; k < 4; ++k) _mm512_storeu_ps(out + (h + j) * dim + c + 16 * k, o[j][k]);
      }
    }
  }
  for (; h < head_end; ++h) {
    for (int64_t c = 0; c < dim; c += 64) {
      __m512 o[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int64_t s = 0; s < rows.length; ++s) {
        __m512 values[4];
        LoadRow(rows.values[s] + c, values);
        FmaRow(_mm512_set1_ps(probabilities[h * stride + s]), values, o);
      }
      for (int k = 0; k < 4; ++k) _mm512_storeu_ps(out + h * dim + c + 16 * k, o[k]);
    }
  }
}

}  // namespace

bool SharedRowsSuit(const SharedRows& rows) { return HasAvx512F() && rows.value_dim % 64 == 0 && rows.value_dim > 0; }

void TransposeQueries(const float* queries, int64_t heads, int64_t dim, float* queries_t) {
  const int64_t groups = (heads + 15) / 16;
  for (int64_t g = 0; g < groups; ++g) {
    float* group = queries_t + g * dim * 16;
    for (int64_t i = 0; i < dim; ++i) {
      for (int64_t j = 0; j < 16; ++j) {
        const int64_t h = g * 16 + j;
        group[i * 16 + j] = h < heads ? queries[h * dim + i] : 0.0f;
      }
    }
  }
}

void SharedKeyScores(const float* queries_t, int64_t heads, const SharedRows& rows, int64_t begin, int64_t end, float scale,
                     float* scores, int64_t stride) {
  const int64_t dim = rows.key_dim + rows.tail_dim;
  for (int64_t g = 0; g * 16 < heads; ++g) {
    SharedKeyScoresAvx512(queries_t + g * dim * 16, std::min<int64_t>(16, heads - g * 16), rows, begin, end, scale,
                          scores + g * 16 * stride, stride);
  }
}

void AttentionProbabilities(float* x, int64_t n) { AttentionSoftmax(x, n); }

void SharedValueSums(const float* probabilities, int64_t stride, int64_t head_begin, int64_t head_end, const SharedRows& rows,
                     float* out) {
  SharedValueSumsAvx512(probabilities, stride, head_begin, head_end, rows, out);
}

void CausalAttention(const float* queries, int64_t count, int64_t first_visible, float scale,
                     const KeyValuePanel& panel, float* out, float* score_buffer) {
  int64_t i = 0;
  if (HasAvx512F() && panel.value_dim % 64 == 0 && count >= 4) {
    // Four queries at a time (a prefill's run): the same sums as one at a time, with the keys and
    // values read once per four.
    for (; i + 4 <= count; i += 4) {
      const float* q[4];
      float* scores[4];
      float* outs[4];
      int64_t visible[4];
      for (int j = 0; j < 4; ++j) {
        q[j] = queries + (i + j) * panel.key_dim;
        scores[j] = score_buffer + j * panel.stride;
        outs[j] = out + (i + j) * panel.value_dim;
        visible[j] = first_visible + i + j;
      }
      ScoresAvx512x4(q, panel, visible[3], scale, scores);
      for (int j = 0; j < 4; ++j) AttentionSoftmax(scores[j], visible[j]);
      WeightedValuesAvx512x4(scores, panel, visible, outs);
    }
  }
  for (; i < count; ++i) {
    const int64_t visible = first_visible + i;
    Scores(queries + i * panel.key_dim, panel, visible, scale, score_buffer);
    AttentionSoftmax(score_buffer, visible);
    WeightedValues(score_buffer, panel, visible, out + i * panel.value_dim);
  }
}

void CausalAttentionReference(const float* queries, int64_t count, int64_t first_visible, float scale,
                              const KeyValuePanel& panel, float* out) {
  const int64_t key_dim = panel.key_dim, value_dim = panel.value_dim;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t visible = first_visible + i;
    std::vector<double> p(visible);
    double top = -INFINITY;
    for (int64_t s = 0; s < visible; ++s) {
      double dot = 0;
      for (int64_t d = 0; d < key_dim; ++d) dot += double{queries[i * key_dim + d]} * panel.keys_t[d * panel.stride + s];
      p[s] = dot * scale;
      top = std::max(top, p[s]);
    }
    double total = 0;
    for (double& v : p) total += (v = std::exp(v - top));
    for (int64_t d = 0; d < value_dim; ++d) {
      double o = 0;
      for (int64_t s = 0; s < visible; ++s) o += p[s] / total * panel.values[s * value_dim + d];
      out[i * value_dim + d] = static_cast<float>(o);
    }
  }
}

}  // namespace engine::cpu
