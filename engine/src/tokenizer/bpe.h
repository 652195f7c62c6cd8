// Byte-pair encoding by merge rank: a piece starts as one symbol per byte and the adjacent pair
// with the best (lowest) rank is merged until no known merge remains; among equal ranks the
// leftmost goes first. This is the order HF's BPE model applies.
#ifndef AGENTD_ENGINE_TOKENIZER_BPE_H_
#define AGENTD_ENGINE_TOKENIZER_BPE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace engine::tokenizer {

class BpeModel {
 public:
  // byte_ids[b]: the vocabulary id of byte b's single-character token (-1 if absent).
  explicit BpeModel(const std::array<int32_t, 256>& byte_ids) : byte_ids_(byte_ids) {}

  void AddMerge(int32_t left, int32_t right, int32_t merged, int32_t rank) {
    merges_[Key(left, right)] = {rank, merged};
  }

  // Appends the ids of `bytes` (one pre-tokenized piece) to *out.
  void Encode(const std::string& bytes, std::vector<int32_t>* out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t merged;
  };
  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  std::array<int32_t, 256> byte_ids_;
  absl::flat_hash_map<uint64_t, Merge> merges_;
};

}  // namespace engine::tokenizer

#endif  // AGENTD_ENGINE_TOKENIZER_BPE_H_
