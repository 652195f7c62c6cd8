#include "cuda/reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cpu/ops.h"
#include "engine/dtype.h"

namespace engine::cuda::reference {

Dispatch MoeDispatch(const std::vector<int32_t>& choices, int experts) {
  Dispatch d;
  d.offsets.assign(experts + 1, 0);
  d.order.resize(choices.size());
  d.slot_of.resize(choices.size());
  for (int32_t e : choices) ++d.offsets[e + 1];
  for (int e = 0; e < experts; ++e) d.offsets[e + 1] += d.offsets[e];
  std::vector<int32_t> next(d.offsets.begin(), d.offsets.end() - 1);
  for (size_t i = 0; i < choices.size(); ++i) {
    const int32_t slot = next[choices[i]]++;
    d.order[slot] = static_cast<int32_t>(i);
    d.slot_of[i] = slot;
  }
  return d;
}

void GroupedMatmul(const std::vector<float>& x, bool gather_tokens, int k, const Dispatch& dispatch,
                   const std::vector<std::vector<uint16_t>>& weights, int64_t out_features, int64_t in_features,
                   std::vector<float>* y) {
  y->assign(dispatch.order.size() * out_features, 0.0f);
  for (size_t e = 0; e < weights.size(); ++e) {
    for (int32_t s = dispatch.offsets[e]; s < dispatch.offsets[e + 1]; ++s) {
      const int64_t src = gather_tokens ? dispatch.order[s] / k : s;
      for (int64_t o = 0; o < out_features; ++o) {
        double sum = 0;
        for (int64_t i = 0; i < in_features; ++i) {
          sum += static_cast<double>(Bf16ToF32(weights[e][o * in_features + i])) * x[src * in_features + i];
        }
        (*y)[s * out_features + o] = static_cast<float>(sum);
      }
    }
  }
}

void MoeCombine(const std::vector<float>& y, const std::vector<int32_t>& choices, const std::vector<float>& weights,
                const std::vector<int32_t>& slot_of, int64_t n, int k, int64_t hidden, const float* shared,
                std::vector<float>* out) {
  out->assign(n * hidden, 0.0f);
  for (int64_t t = 0; t < n; ++t) {
    std::vector<int> by_expert(k);
    std::iota(by_expert.begin(), by_expert.end(), 0);
    std::sort(by_expert.begin(), by_expert.end(), [&](int a, int b) { return choices[t * k + a] < choices[t * k + b]; });
    float* o = &(*out)[t * hidden];
    for (int j : by_expert) cpu::Axpy(weights[t * k + j], &y[slot_of[t * k + j] * hidden], o, hidden);
    if (shared != nullptr) cpu::Axpy(1.0f, shared + t * hidden, o, hidden);
  }
}

void PagedAttention(const AttentionArgs& args, int64_t rows, const PagedKvLayout& kv, const KvRows& where) {
  const int64_t block_size = int64_t{1} << kv.block_shift;
  auto row_of = [&](const int32_t* table, int64_t pos, bool a) {
    const int32_t block = table[pos >> kv.block_shift];
    float* base = kv.block_bases != nullptr ? kv.block_bases[block] : kv.arena + block * kv.block_floats;
    const int64_t offset = pos & (block_size - 1);
    return a ? base + (args.layer * block_size + offset) * kv.a_width
             : base + kv.b_start + (args.layer * block_size + offset) * kv.b_width;
  };
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* table = where.tables + where.table_start[r];
    const int64_t visible = where.positions[r] + 1;
    for (int h = 0; h < args.heads; ++h) {
      const int64_t kv_offset = static_cast<int64_t>(h / args.group) * args.kv_head_stride;
      const float* q = args.q + r * args.q_row_stride + h * args.q_head_stride;
      std::vector<double> scores(visible);
      for (int64_t s = 0; s < visible; ++s) {
        const float* a = row_of(table, s, true) + kv_offset;
        const float* b = row_of(table, s, false) + kv_offset;
        double dot = 0;
        for (int d = 0; d < args.score_a; ++d) dot += static_cast<double>(q[d]) * a[d];
        for (int d = 0; d < args.score_b; ++d) dot += static_cast<double>(q[args.score_a + d]) * b[d];
        scores[s] = dot * args.scale;
      }
      const double max_score = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (double& s : scores) sum += (s = std::exp(s - max_score));
      float* out = args.out + (r * args.heads + h) * static_cast<int64_t>(args.value_width);
      for (int d = 0; d < args.value_width; ++d) {
        double v = 0;
        for (int64_t s = 0; s < visible; ++s) v += scores[s] / sum * row_of(table, s, args.values_from_a)[kv_offset + d];
        out[d] = static_cast<float>(v);
      }
    }
  }
}

}  // namespace engine::cuda::reference
