#include "tokenizer/bpe.h"

#include <queue>

namespace engine::tokenizer {

void BpeModel::Encode(const std::string& bytes, std::vector<int32_t>* out) const {
  const int n = static_cast<int>(bytes.size());
  // Symbols form a doubly linked list over positions; a merged-away symbol gets id -1.
  std::vector<int32_t> id(n);
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    id[i] = byte_ids_[static_cast<unsigned char>(bytes[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }

  struct Candidate {
    int32_t rank;
    int position;
    int32_t left, right, merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : position > o.position;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int i) {
    if (i < 0 || next[i] < 0) return;
    auto it = merges_.find(Key(id[i], id[next[i]]));
    if (it != merges_.end()) queue.push({it->second.rank, i, id[i], id[next[i]], it->second.merged});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    const int i = c.position;
    // Stale: one side has been merged into something else since this pair was queued.
    if (id[i] != c.left || next[i] < 0 || id[next[i]] != c.right) continue;
    const int j = next[i];
    id[i] = c.merged;
    id[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    consider(prev[i]);
    consider(i);
  }
  for (int i = 0; i >= 0 && i < n; i = next[i]) {
    if (id[i] >= 0) out->push_back(id[i]);
  }
}

}  // namespace engine::tokenizer
