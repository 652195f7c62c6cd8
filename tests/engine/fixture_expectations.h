// The tiny fixtures' reference outputs from Hugging Face transformers (tests/data/models/NAME:
// expected.json's token sequences and greedy continuations, expected.safetensors' logits) and
// the comparisons the parity tests make with them, for the CPU path (model_parity_test.cc) and
// the GPU one (cuda_model_test.cc) alike.
#ifndef AGENTD_TESTS_ENGINE_FIXTURE_EXPECTATIONS_H_
#define AGENTD_TESTS_ENGINE_FIXTURE_EXPECTATIONS_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/safetensors.h"
#include "nlohmann/json.hpp"

namespace engine::testing_fixtures {

inline std::string ModelDir(const std::string& name) { return std::string(AGENTD_TEST_DATA_DIR) + "/models/" + name; }

struct Expected {
  std::vector<std::vector<int32_t>> sequences;
  std::vector<std::vector<int32_t>> greedy;
  std::unique_ptr<SafetensorsFile> tensors;

  std::vector<float> Tensor(const std::string& name) const {
    auto it = tensors->tensors().find(name);
    if (it == tensors->tensors().end()) return {};
    const float* data = reinterpret_cast<const float*>(it->second.data);
    return std::vector<float>(data, data + it->second.NumElements());
  }
};

inline Expected LoadExpected(const std::string& name) {
  Expected e;
  std::ifstream in(ModelDir(name) + "/expected.json");
  nlohmann::json j = nlohmann::json::parse(in);
  e.sequences = j["sequences"].get<std::vector<std::vector<int32_t>>>();
  e.greedy = j["greedy"].get<std::vector<std::vector<int32_t>>>();
  e.tensors = std::move(*SafetensorsFile::Open(ModelDir(name) + "/expected.safetensors"));
  return e;
}

// ‖ours − ref‖ / ‖ref‖ over n values.
inline double RelativeError(const float* ours, const float* ref, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    diff += (static_cast<double>(ours[i]) - ref[i]) * (static_cast<double>(ours[i]) - ref[i]);
    norm += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(diff / norm);
}
inline double RelativeError(const float* ours, const std::vector<float>& ref) {
  return RelativeError(ours, ref.data(), ref.size());
}

inline int32_t ArgMax(const float* row, int64_t n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

// Positions whose logits are `bound` or more off the reference (relative), and every
// position's error as " p:err" for a failure message. A near-tied expert choice that rounding
// flips moves one position far while the others stay close; a wrong kernel moves them all.
struct PositionsOff {
  int off = 0, positions = 0;
  std::string by_position;
};
inline PositionsOff CountPositionsOff(const std::vector<float>& ours, const std::vector<float>& ref, int64_t vocab,
                                      double bound) {
  PositionsOff out;
  out.positions = static_cast<int>(ref.size() / static_cast<size_t>(vocab));
  for (int p = 0; p < out.positions; ++p) {
    const double at = RelativeError(&ours[p * vocab], &ref[p * vocab], static_cast<size_t>(vocab));
    out.off += at >= bound;
    char text[32];
    std::snprintf(text, sizeof text, " %d:%.3g", p, at);
    out.by_position += text;
  }
  return out;
}

// Logits for every position of expected sequence `s` from an empty cache, and transformers' own.
inline void ForwardEveryPosition(Model& model, const Expected& expected, size_t s, ForwardResult* result,
                                 std::vector<float>* reference) {
  auto cache = model.NewCache();
  ASSERT_TRUE(model.Forward(expected.sequences[s], cache.get(), {.all_logits = true}, result).ok());
  *reference = expected.Tensor("logits_" + std::to_string(s));
  ASSERT_EQ(result->logits.size(), reference->size());
}

}  // namespace engine::testing_fixtures

#endif  // AGENTD_TESTS_ENGINE_FIXTURE_EXPECTATIONS_H_
