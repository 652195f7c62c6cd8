// The vocabulary's ordinary tokens (neither special nor added) as a prefix tree over their byte
// strings: one node per distinct prefix, so a byte-at-a-time recogniser walking it reads each
// prefix once however many tokens share it. Constrained decoding masks the vocabulary with it
// every step; built once per tokenizer (Tokenizer::token_trie) and read-only afterwards, so any
// number of constraints on any threads share one.
//
//   const engine::TokenTrie& trie = *tokenizer.token_trie();
//   for (const auto* c = trie.first_child(trie.root()); c != nullptr; c = trie.next_sibling(*c))
//     ...   // c->byte, trie.tokens(*c)
#ifndef AGENTD_ENGINE_TOKEN_TRIE_H_
#define AGENTD_ENGINE_TOKEN_TRIE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace engine {

class Tokenizer;

class TokenTrie {
 public:
  // Nodes are stored in preorder, so a walk reads them nearly in sequence: a node's first child
  // is the next node, its other children follow each other's subtrees by next_sibling.
  struct Node {
    uint32_t next_sibling = 0;  // 0: none (the root is no one's sibling)
    uint32_t first_token = 0;   // the tokens whose bytes end here
    uint16_t child_count = 0;   // at most 256, in byte order
    uint16_t token_count = 0;   // usually 0 or 1 (a vocabulary may spell two ids alike)
    uint8_t byte = 0;           // the byte on the edge from the parent (none for the root)
  };

  // Added and special tokens (chat markup such as "<｜Assistant｜>") are left out: inside
  // constrained output they would be read as structure rather than text. So are tokens longer
  // than kMaxTokenBytes, which bounds the depth of every walk.
  static constexpr size_t kMaxTokenBytes = 1024;
  static std::shared_ptr<const TokenTrie> Build(const Tokenizer& tokenizer);

  const Node& root() const { return nodes_[0]; }
  // nullptr when there is none.
  const Node* first_child(const Node& node) const { return node.child_count > 0 ? &node + 1 : nullptr; }
  const Node* next_sibling(const Node& node) const {
    return node.next_sibling != 0 ? &nodes_[node.next_sibling] : nullptr;
  }
  std::span<const int32_t> tokens(const Node& node) const {
    return std::span<const int32_t>(tokens_).subspan(node.first_token, node.token_count);
  }
  // The bytes of a token in the trie; empty for one left out or outside the vocabulary.
  const std::string& bytes(int32_t id) const {
    static const std::string kNone;
    return id >= 0 && static_cast<size_t>(id) < bytes_.size() ? bytes_[id] : kNone;
  }
  // One past the largest id of the tokenizer it was built from.
  int32_t vocab_size() const { return static_cast<int32_t>(bytes_.size()); }
  size_t node_count() const { return nodes_.size(); }
  // Bytes of all tokens in the trie together: what feeding every token separately reads.
  uint64_t total_token_bytes() const { return total_token_bytes_; }
  // The longest token's bytes: the trie's depth.
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  uint32_t Add(const std::vector<int32_t>& ids, size_t lo, size_t hi, size_t depth, uint8_t byte);

  std::vector<Node> nodes_;  // in preorder: nodes_[0] is the root
  std::vector<int32_t> tokens_;
  std::vector<std::string> bytes_;
  uint64_t total_token_bytes_ = 0;
  size_t max_token_bytes_ = 0;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_TOKEN_TRIE_H_
