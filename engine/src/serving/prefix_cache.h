// Prefix caching: a tree of token blocks whose nodes own KV blocks. A path from the root spells
// a token prefix block by block, and its nodes' blocks hold that prefix's cached keys and
// values, so a request starting with the same tokens (the plan steps of one run, many runs with
// one system prompt) adopts those blocks instead of running the prefix again. Only full blocks
// are shared; they are never written again (a cache that must write into one copies it).
// Under memory pressure the least recently used leaves whose blocks no sequence is using go
// first.
//
// The tree is partitioned: a request only ever adopts blocks that requests of its own partition
// (its tenant) cached. A shared cache would let one tenant learn, from how fast its prompt is
// served, whether another tenant sent the same prefix (the timing side channel of vLLM's
// CVE-2025-46570).
#ifndef AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_
#define AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/kv_block_pool.h"

namespace engine::serving {

class PrefixCache {
 public:
  explicit PrefixCache(KvBlockPool* pool) : pool_(pool) {}
  ~PrefixCache() { Clear(); }

  // The blocks of the longest cached prefix of `tokens` that leaves at least `keep_uncached`
  // tokens after it (a request must run at least its last prompt token itself).
  std::vector<int32_t> Match(std::string_view partition, std::span<const int32_t> tokens, int64_t keep_uncached);
  // Records the full blocks of a cache holding `tokens` (its first tokens.size() positions in
  // `blocks`); nodes that already exist keep their block.
  void Insert(std::string_view partition, std::span<const int32_t> tokens, std::span<const int32_t> blocks);
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
  // The partition's node under the root (block -1, never evicted); null when absent and not
  // created.
  Node* Partition(std::string_view partition, bool create);

  KvBlockPool* pool_;
  Node root_;
  uint64_t clock_ = 0;
  int64_t nodes_ = 0;
};

}  // namespace engine::serving

#endif  // AGENTD_ENGINE_SERVING_PREFIX_CACHE_H_
