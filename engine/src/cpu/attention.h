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

namespace engine::cpu {

// The keys and values of positions [0, length) of one KV head, laid out for attention in
// memory the caller provides (PanelFloats of them: a pass's scratch, so that a long prompt's
// panels are not fresh pages layer after layer). Keys and values may differ in width: MLA's
// absorbed form scores a query against [latent; rotary key] and takes the latent alone as the
// value.
struct KeyValuePanel {
  int64_t length = 0;
  int64_t key_dim = 0;
  int64_t value_dim = 0;
  int64_t stride = 0;        // keys_t row length: length rounded up to 16
  float* keys_t = nullptr;   // [key_dim][stride], zero past length
  float* values = nullptr;   // [length][value_dim]
};

inline int64_t PanelStride(int64_t length) { return (length + 15) & ~int64_t{15}; }
// The floats a panel of `length` positions takes.
inline int64_t PanelFloats(int64_t length, int64_t key_dim, int64_t value_dim) {
  return key_dim * PanelStride(length) + length * value_dim;
}

// Lays `panel` out in `storage` (PanelFloats(length, key_dim, value_dim) floats) and zeroes its
// keys past `length`; FillPanel then writes the positions.
inline void PreparePanel(int64_t length, int64_t key_dim, int64_t value_dim, float* storage, KeyValuePanel* panel) {
  panel->length = length;
  panel->key_dim = key_dim;
  panel->value_dim = value_dim;
  panel->stride = PanelStride(length);
  panel->keys_t = storage;
  panel->values = storage + key_dim * panel->stride;
  for (int64_t i = 0; i < key_dim; ++i) {
    for (int64_t s = length; s < panel->stride; ++s) panel->keys_t[i * panel->stride + s] = 0.0f;
  }
}

// Writes positions [begin, end) of a prepared panel from row accessors: position s's key is
// key(s)'s floats then tail(s)'s tail_dim floats (key_dim - tail_dim and tail_dim of the
// panel's key_dim), its value value(s)'s value_dim floats. Disjoint ranges may be filled by
// different threads (ranges of 64 positions or more keep them off each other's cache lines).
template <typename KeyAt, typename TailAt, typename ValueAt>
void FillPanel(int64_t begin, int64_t end, const KeyAt& key, int64_t tail_dim, const TailAt& tail, const ValueAt& value,
               const KeyValuePanel& panel) {
  const int64_t stride = panel.stride, head_dim = panel.key_dim - tail_dim, value_dim = panel.value_dim;
  for (int64_t s = begin; s < end; ++s) {
    const float* k = key(s);
    for (int64_t i = 0; i < head_dim; ++i) panel.keys_t[i * stride + s] = k[i];
    if (tail_dim > 0) {
      const float* t = tail(s);
      for (int64_t i = 0; i < tail_dim; ++i) panel.keys_t[(head_dim + i) * stride + s] = t[i];
    }
    const float* v = value(s);
    for (int64_t i = 0; i < value_dim; ++i) panel.values[s * value_dim + i] = v[i];
  }
}

// Both at once, on one thread: the panel of positions [0, length) in `storage`
// (PanelFloats(length, key_dim + tail_dim, value_dim) floats).
template <typename KeyAt, typename TailAt, typename ValueAt>
void GatherPanel(int64_t length, int64_t key_dim, const KeyAt& key, int64_t tail_dim, const TailAt& tail,
                 int64_t value_dim, const ValueAt& value, float* storage, KeyValuePanel* panel) {
  PreparePanel(length, key_dim + tail_dim, value_dim, storage, panel);
  FillPanel(0, length, key, tail_dim, tail, value, *panel);
}

// Keys and values of one width `dim` (grouped-query attention).
template <typename KeyAt, typename ValueAt>
void GatherPanel(int64_t length, int64_t dim, const KeyAt& key, const ValueAt& value, float* storage,
                 KeyValuePanel* panel) {
  GatherPanel(length, dim, key, 0, [](int64_t) -> const float* { return nullptr; }, dim, value, storage, panel);
}

// The floats CausalAttention needs for the scores over a panel of `length` positions.
inline int64_t AttentionScoreFloats(int64_t length) { return 4 * PanelStride(length); }

// For each query i of `count` (row i of `queries`, [count][key_dim]), which sees keys
// [0, first_visible + i): out[i] ([count][value_dim]) = softmax(scale · q·K) · V. `scores` holds
// AttentionScoreFloats(panel.length) floats.
void CausalAttention(const float* queries, int64_t count, int64_t first_visible, float scale,
                     const KeyValuePanel& panel, float* out, float* scores);

// Decoding one position for many heads that share their keys and values — MLA's absorbed form,
// where every head scores the same latents. The rows are read where they lie in the paged KV
// cache, once for all the heads (a panel is neither gathered nor read once per head), and each
// head's output is bit for bit what CausalAttention gives that head alone over a panel of the
// same rows: the same sums in the same order. Three steps, each split among threads by the
// caller: SharedKeyScores over ranges of positions, AttentionProbabilities per head, then
// SharedValueSums over heads.
struct SharedRows {
  int64_t length = 0;                   // positions; the query sees them all
  int64_t key_dim = 0;                  // keys[s] holds key_dim floats ...
  int64_t tail_dim = 0;                 // ... and tails[s] the key's last tail_dim (0: none)
  int64_t value_dim = 0;                // values[s] holds value_dim floats
  const float* const* keys = nullptr;   // [length]
  const float* const* tails = nullptr;  // [length] when tail_dim > 0
  const float* const* values = nullptr; // [length]
};

// Whether the shared-row steps serve rows of this shape on this CPU (AVX-512, values in whole
// chunks of 64 floats, as CausalAttention's own fast path); otherwise the caller gathers a panel.
bool SharedRowsSuit(const SharedRows& rows);

// The floats TransposeQueries writes for `heads` queries of `dim` floats: groups of 16 heads.
inline int64_t TransposedQueryFloats(int64_t heads, int64_t dim) { return (heads + 15) / 16 * dim * 16; }
// queries [heads][dim] → queries_t [group][dim][16]: lane j of row i of group g is head 16g + j's
// element i (0 past the last head).
void TransposeQueries(const float* queries, int64_t heads, int64_t dim, float* queries_t);

// Scores of every head against positions [begin, end): scores[h · stride + s] = scale · q_h·k_s,
// stride at least PanelStride(rows.length).
void SharedKeyScores(const float* queries_t, int64_t heads, const SharedRows& rows, int64_t begin, int64_t end, float scale,
                     float* scores, int64_t stride);

// softmax over x[0, n) in place, as CausalAttention computes it.
void AttentionProbabilities(float* x, int64_t n);

// out[h] = Σ_s p_h[s] · v_s for heads [head_begin, head_end), p_h = probabilities + h · stride.
void SharedValueSums(const float* probabilities, int64_t stride, int64_t head_begin, int64_t head_end, const SharedRows& rows,
                     float* out);

// The same in the plainest form, for tests.
void CausalAttentionReference(const float* queries, int64_t count, int64_t first_visible, float scale,
                              const KeyValuePanel& panel, float* out);

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_ATTENTION_H_
