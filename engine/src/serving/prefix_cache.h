// Prefix caching: a tree of token blocks whose nodes own KV blocks. A path from the root spells
// a token prefix block by block, and its nodes' blocks hold that prefix's cached keys and
// values, so a request starting with the same tokens (the plan steps of one run, many runs with
// one system prompt) adopts those blocks instead of running the prefix again. Only full blocks
// are shared; they are never written again (a cache that must write into one copies it).
// Under memory pressure the least recently used leaves whose blocks no sequence is using go
// first.
#ifndef AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_
#define AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "engine/kv_block_pool.h"

namespace engine::serving {

class PrefixCache {
 public:
  explicit PrefixCache(KvBlockPool* pool) : pool_(pool) {}
  ~PrefixCache() { Clear(); }

  // The blocks of the longest cached prefix of `tokens` that leaves at least `keep_uncached`
  // tokens after it (a request must run at least its last prompt token itself).
  std::vector<int32_t> Match(std::span<const int32_t> tokens, int64_t keep_uncached);
  // Records the full blocks of a cache holding `tokens` (its first tokens.size() positions in
  // `blocks`); nodes that already exist keep their block.
  void Insert(std::span<const int32_t> tokens, std::span<const int32_t> blocks);
  // Frees blocks of unused leaves, least recently used first, until the pool has `free_blocks`
  // free or nothing more can go; the number freed.
  int64_t Evict(int64_t free_blocks);
  void Clear();

  int64_t cached_blocks() const { return nodes_; }

 private:
  struct Node {
    int32_t block = -1;
    uint64_t last_used = 0;
    Node* parent = nullptr;
    std::map<std::vector<int32_t>, std::unique_ptr<Node>> children;
  };
  void CollectEvictable(Node* node, std::vector<Node*>* out);

  KvBlockPool* pool_;
  Node root_;
  uint64_t clock_ = 0;
  int64_t nodes_ = 0;
};

}  // namespace engine::serving

#endif  // AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_
