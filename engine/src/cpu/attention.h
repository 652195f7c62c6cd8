// Causal attention of one query head over a run of consecutive positions (a prefill chunk, a
// decode step, a speculative verify pass), against keys and values gathered from the paged KV
// cache into contiguous panels once per head: the keys transposed ([dim][key], so 16 scores are
// one vector FMA per dimension and need no horizontal sums), the values by row. Scores, softmax
// and the weighted sum are computed the same way for every query whatever the run, so a token's
// output does not depend on what else was in its batch.
#ifndef AGENTD_ENGINE_CPU_ATTENTION_H_
#define AGENTD_ENGINE_CPU_ATTENTION_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace engine::cpu {

// The keys and values of positions [0, length) of one KV head, laid out for attention.
struct KeyValuePanel {
  int64_t length = 0;
  int64_t dim = 0;
  int64_t stride = 0;               // keys_t row length: length rounded up to 16
  std::vector<float> keys_t;        // [dim][stride], zero past length
  std::vector<float> values;        // [length][dim]
};

// Fills `panel` from row accessors: key(s) and value(s) point at position s's `dim` floats.
template <typename KeyAt, typename ValueAt>
void GatherPanel(int64_t length, int64_t dim, const KeyAt& key, const ValueAt& value, KeyValuePanel* panel) {
  panel->length = length;
  panel->dim = dim;
  panel->stride = (length + 15) & ~int64_t{15};
  panel->keys_t.assign(static_cast<size_t>(dim * panel->stride), 0.0f);
  panel->values.resize(static_cast<size_t>(length * dim));
  for (int64_t s = 0; s < length; ++s) {
    const float* k = key(s);
    for (int64_t i = 0; i < dim; ++i) panel->keys_t[i * panel->stride + s] = k[i];
    const float* v = value(s);
    for (int64_t i = 0; i < dim; ++i) panel->values[s * dim + i] = v[i];
  }
}

// For each query i of `count` (row i of `queries`, [count][dim]), which sees keys
// [0, first_visible + i): out[i] = softmax(scale · q·K) · V. `scratch` holds the scores.
void CausalAttention(const float* queries, int64_t count, int64_t first_visible, float scale,
                     const KeyValuePanel& panel, float* out, std::vector<float>* scratch);

// The same in the plainest form, for tests.
void CausalAttentionReference(const float* queries, int64_t count, int64_t first_visible, float scale,
                              const KeyValuePanel& panel, float* out);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_ATTENTION_H_
