#include "serving/prefix_cache.h"

#include <algorithm>

namespace engine::serving {

PrefixCache::Node* PrefixCache::Partition(std::string_view partition, bool create) {
  // A key no token block can have: -1, then the partition's bytes.
  std::vector<int32_t> key = {-1};
  for (char c : partition) key.push_back(static_cast<unsigned char>(c));
  auto it = root_.children.find(key);
  if (it != root_.children.end()) return it->second.get();
  if (!create) return nullptr;
  auto& node = root_.children[key];
  node = std::make_unique<Node>();
  node->parent = &root_;
  return node.get();
}

std::vector<int32_t> PrefixCache::Match(std::string_view partition, std::span<const int32_t> tokens, int64_t keep_uncached) {
  const int64_t b = pool_->block_size();
  const int64_t usable = (static_cast<int64_t>(tokens.size()) - keep_uncached) / b;
  std::vector<int32_t> blocks;
  Node* node = Partition(partition, /*create=*/false);
  if (node == nullptr) return blocks;
  ++clock_;
  for (int64_t i = 0; i < usable; ++i) {
    std::vector<int32_t> key(tokens.begin() + i * b, tokens.begin() + (i + 1) * b);
    auto it = node->children.find(key);
    if (it == node->children.end()) break;
    node = it->second.get();
    node->last_used = clock_;
    blocks.push_back(node->block);
  }
  return blocks;
}

void PrefixCache::Insert(std::string_view partition, std::span<const int32_t> tokens, std::span<const int32_t> blocks) {
  const int64_t b = pool_->block_size();
  const int64_t full = std::min<int64_t>(static_cast<int64_t>(tokens.size()) / b, static_cast<int64_t>(blocks.size()));
  if (full <= 0) return;
  Node* node = Partition(partition, /*create=*/true);
  ++clock_;
  for (int64_t i = 0; i < full; ++i) {
    std::vector<int32_t> key(tokens.begin() + i * b, tokens.begin() + (i + 1) * b);
    auto& child = node->children[key];
    if (child == nullptr) {
      child = std::make_unique<Node>();
      child->block = blocks[i];
      child->parent = node;
      pool_->AddRef(blocks[i]);
      ++nodes_;
    }
    node = child.get();
    node->last_used = clock_;
  }
}

void PrefixCache::CollectEvictable(Node* node, std::vector<Node*>* out) {
  for (auto& [key, child] : node->children) {
    if (child->children.empty()) {
      if (child->block >= 0 && pool_->ref_count(child->block) == 1) out->push_back(child.get());
    } else {
      CollectEvictable(child.get(), out);
    }
  }
}

int64_t PrefixCache::Evict(int64_t free_blocks) {
  int64_t freed = 0;
  while (pool_->free_blocks() < free_blocks) {
    std::vector<Node*> candidates;
    CollectEvictable(&root_, &candidates);
    if (candidates.empty()) break;
    std::sort(candidates.begin(), candidates.end(), [](Node* a, Node* b) { return a->last_used < b->last_used; });
    // Evicting a leaf may make its parent a leaf: collect again after each round.
    for (Node* leaf : candidates) {
      if (pool_->free_blocks() >= free_blocks) break;
      Node* parent = leaf->parent;
      pool_->Release(leaf->block);
      ++freed;
      --nodes_;
      for (auto it = parent->children.begin(); it != parent->children.end(); ++it) {
        if (it->second.get() == leaf) {
          parent->children.erase(it);
          break;
        }
      }
    }
  }
  return freed;
}

void PrefixCache::Clear() {
  std::vector<Node*> stack = {&root_};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (auto& [key, child] : node->children) {
      if (child->block >= 0) pool_->Release(child->block);
      stack.push_back(child.get());
    }
  }
  root_.children.clear();
  nodes_ = 0;
}

}  // namespace engine::serving
