#include "engine/token_trie.h"

#include <algorithm>

#include "engine/tokenizer.h"

namespace engine {

std::shared_ptr<const TokenTrie> TokenTrie::Build(const Tokenizer& tokenizer) {
  auto trie = std::make_shared<TokenTrie>();
  const int32_t vocab = std::max(tokenizer.vocab_size(), 0);
  trie->bytes_.resize(vocab);
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < vocab; ++id) {
    if (tokenizer.IsSpecial(id) || tokenizer.IsAdded(id)) continue;
    const std::string& bytes = tokenizer.TokenBytes(id);
    // The walks over the tree recurse once per byte: a longer token (no real vocabulary has one
    // past a few hundred bytes) from a malformed tokenizer file must not decide the stack depth.
    if (bytes.empty() || bytes.size() > kMaxTokenBytes) continue;
    trie->bytes_[id] = bytes;
    trie->total_token_bytes_ += bytes.size();
    trie->max_token_bytes_ = std::max(trie->max_token_bytes_, bytes.size());
    ids.push_back(id);
  }
  // Sorted by bytes (std::string compares as unsigned char), the tokens under any prefix are one
  // contiguous range, those that end at the prefix first, then one run per next byte in order.
  const auto& bytes = trie->bytes_;
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return bytes[a] < bytes[b] || (bytes[a] == bytes[b] && a < b); });

  trie->nodes_.reserve(ids.size() * 3);
  trie->Add(ids, 0, ids.size(), 0, 0);
  return trie;
}

// Appends the node of the prefix that ids[lo, hi) share (depth bytes long), then its subtree.
uint32_t TokenTrie::Add(const std::vector<int32_t>& ids, size_t lo, size_t hi, size_t depth, uint8_t byte) {
  const uint32_t index = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(Node{.first_token = static_cast<uint32_t>(tokens_.size()), .byte = byte});
  size_t i = lo;
  for (; i < hi && bytes_[ids[i]].size() == depth; ++i) tokens_.push_back(ids[i]);
  nodes_[index].token_count = static_cast<uint16_t>(tokens_.size() - nodes_[index].first_token);
  uint32_t previous = 0;
  uint16_t children = 0;
  while (i < hi) {
    const uint8_t next = static_cast<uint8_t>(bytes_[ids[i]][depth]);
    size_t end = i;
    while (end < hi && static_cast<uint8_t>(bytes_[ids[end]][depth]) == next) ++end;
    const uint32_t child = Add(ids, i, end, depth + 1, next);
    if (previous != 0) nodes_[previous].next_sibling = child;
    previous = child;
    ++children;
    i = end;
  }
  nodes_[index].child_count = children;
  return index;
}

}  // namespace engine
