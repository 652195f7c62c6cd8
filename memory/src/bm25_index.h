// Okapi BM25 over chunks (k1 = 1.2, b = 0.75), held in memory and rebuilt from the store's
// postings at open. Scores are computed exhaustively over the query terms' postings, which is
// exact and fast at the collection sizes a research corpus has.
#ifndef AGENTD_MEMORY_BM25_INDEX_H_
#define AGENTD_MEMORY_BM25_INDEX_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace memory::internal {

class Bm25Index {
 public:
  // term → frequency in the chunk.
  using TermCounts = std::unordered_map<std::string, uint32_t>;

  void Add(uint64_t chunk_id, const TermCounts& terms);
  void Remove(uint64_t chunk_id);
  // Best `k` chunks for the query terms, score descending; `accept` filters chunk ids.
  template <typename Accept>
  std::vector<std::pair<uint64_t, double>> Search(const std::vector<std::string>& query_terms, size_t k,
                                                  const Accept& accept) const;

  size_t chunk_count() const { return lengths_.size(); }
  size_t term_count() const { return postings_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, uint32_t>>> postings_;
  std::unordered_map<uint64_t, uint32_t> lengths_;
  std::unordered_map<uint64_t, std::vector<std::string>> chunk_terms_;  // for removal
  uint64_t total_length_ = 0;
};

std::vector<std::pair<uint64_t, double>> TopK(std::unordered_map<uint64_t, double>& scores, size_t k);

template <typename Accept>
std::vector<std::pair<uint64_t, double>> Bm25Index::Search(const std::vector<std::string>& query_terms, size_t k,
                                                           const Accept& accept) const {
  constexpr double k1 = 1.2, b = 0.75;
  const double n = static_cast<double>(lengths_.size());
  if (n == 0) return {};
  const double average = static_cast<double>(total_length_) / n;
  std::unordered_map<std::string, uint32_t> query_counts;
  for (const std::string& t : query_terms) ++query_counts[t];
  std::unordered_map<uint64_t, double> scores;
  for (const auto& [term, query_tf] : query_counts) {
    auto it = postings_.find(term);
    if (it == postings_.end()) continue;
    const double df = static_cast<double>(it->second.size());
    const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    for (const auto& [chunk, tf] : it->second) {
      if (!accept(chunk)) continue;
      const double length = lengths_.at(chunk);
      scores[chunk] += query_tf * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average));
    }
  }
  return TopK(scores, k);
}

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_BM25_INDEX_H_
