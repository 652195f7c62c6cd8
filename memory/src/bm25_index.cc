#include "bm25_index.h"

#include <algorithm>

namespace memory::internal {

void Bm25Index::Add(uint64_t chunk_id, const TermCounts& terms) {
  if (lengths_.count(chunk_id)) Remove(chunk_id);
  uint32_t length = 0;
  std::vector<std::string>& keys = chunk_terms_[chunk_id];
  for (const auto& [term, tf] : terms) {
    postings_[term].emplace_back(chunk_id, tf);
    keys.push_back(term);
    length += tf;
  }
  lengths_[chunk_id] = length;
  total_length_ += length;
}

void Bm25Index::Remove(uint64_t chunk_id) {
  auto length = lengths_.find(chunk_id);
  if (length == lengths_.end()) return;
  total_length_ -= length->second;
  lengths_.erase(length);
  for (const std::string& term : chunk_terms_[chunk_id]) {
    auto it = postings_.find(term);
    if (it == postings_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& p) { return p.first == chunk_id; }), list.end());
    if (list.empty()) postings_.erase(it);
  }
  chunk_terms_.erase(chunk_id);
}

std::vector<std::pair<uint64_t, double>> TopK(std::unordered_map<uint64_t, double>& scores, size_t k) {
  std::vector<std::pair<uint64_t, double>> out(scores.begin(), scores.end());
  auto better = [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); };
  if (out.size() > k) {
    std::partial_sort(out.begin(), out.begin() + k, out.end(), better);
    out.resize(k);
  } else {
    std::sort(out.begin(), out.end(), better);
  }
  return out;
}

}  // namespace memory::internal
