// A byte-at-a-time recogniser for JSON values that follow a compiled JSON Schema: a pushdown
// automaton whose stack holds one frame per open value. anyOf is handled by keeping every
// alternative's stack alive until the bytes rule it out.
//
// JsonMatcher is a small value type: the token mask walks the vocabulary's prefix tree with it,
// copying it where the tree branches (constraint/trie_mask.h).
#ifndef AGENTD_ENGINE_CONSTRAINT_JSON_MATCHER_H_
#define AGENTD_ENGINE_CONSTRAINT_JSON_MATCHER_H_

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace engine::constraint {

struct SchemaNode {
  enum class Kind { kAny, kObject, kArray, kString, kNumber, kInteger, kLiteral, kAnyOf };
  Kind kind = Kind::kAny;
  // kObject: properties in the order they are written; free_keys for objects of any shape.
  std::vector<std::string> keys;
  std::vector<const SchemaNode*> values;
  std::vector<bool> required;
  bool free_keys = false;
  // kArray
  const SchemaNode* items = nullptr;
  int min_items = 0;
  int max_items = INT_MAX;
  // kString: length in code points.
  int min_length = 0;
  int max_length = INT_MAX;
  // kLiteral: each allowed value as compact JSON text (true, "a", 3, null).
  std::vector<std::string> literals;
  // kAnyOf
  std::vector<const SchemaNode*> alternatives;
};

// Owns the nodes of one compiled schema.
class CompiledSchema {
 public:
  // `schema_json` is JSON Schema text; an empty string means any JSON value.
  static absl::StatusOr<std::shared_ptr<const CompiledSchema>> Compile(const std::string& schema_json);
  const SchemaNode* root() const { return root_; }
  const SchemaNode* any() const { return any_; }
  const SchemaNode* any_object() const { return any_object_; }
  const SchemaNode* any_array() const { return any_array_; }
  const SchemaNode* any_string() const { return any_string_; }
  const SchemaNode* any_number() const { return any_number_; }
  const SchemaNode* any_scalar_literal() const { return any_scalar_literal_; }
  SchemaNode* NewNode(SchemaNode::Kind kind);
  size_t node_count() const { return nodes_.size(); }

 private:
  std::vector<std::unique_ptr<SchemaNode>> nodes_;
  const SchemaNode* root_ = nullptr;
  const SchemaNode* any_ = nullptr;
  const SchemaNode* any_object_ = nullptr;
  const SchemaNode* any_array_ = nullptr;
  const SchemaNode* any_string_ = nullptr;
  const SchemaNode* any_number_ = nullptr;
  const SchemaNode* any_scalar_literal_ = nullptr;
};

// INVALID_ARGUMENT when the schema lets the matcher hold more than 16 alternatives alive at
// once (each costs a pass over the vocabulary per token). Compile checks it.
absl::Status CheckOpenAlternatives(const CompiledSchema& schema);

class JsonMatcher {
 public:
  explicit JsonMatcher(std::shared_ptr<const CompiledSchema> schema);

  // False when `byte` cannot come next; the matcher is then left unchanged.
  bool Accept(uint8_t byte);
  // The bytes so far form a complete value.
  bool IsComplete() const;

  struct Frame {
    const SchemaNode* node = nullptr;
    uint8_t state = 0;
    bool space_ok = false;  // one space may precede the value (after ':' or ',')
    int32_t count = 0;      // object: index of the last property written; array: items; string: code points
    int32_t pos = 0;        // literal/key: bytes matched; string: continuation bytes or hex digits left
    uint64_t mask = 0;      // literal/key: candidates still possible
  };
  using Stack = std::vector<Frame>;

 private:
  enum class Step { kRejected, kConsumed, kRetry };
  Step AcceptOne(Stack& stack, uint8_t byte) const;
  // One byte for the frame on top, by the kind of its schema node.
  Step AcceptAny(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  Step AcceptObject(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  Step AcceptArray(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  Step AcceptString(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  Step AcceptNumber(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  Step AcceptLiteral(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const;
  // Replaces an anyOf frame on top by one stack per alternative (recursively) into `out`.
  void Expand(Stack stack, std::vector<Stack>* out) const;
  static bool CanEnd(const Stack& stack);

  std::shared_ptr<const CompiledSchema> schema_;
  std::vector<Stack> stacks_;  // one per live anyOf alternative; empty stack = value complete
};

}  // namespace engine::constraint

#endif  // AGENTD_ENGINE_CONSTRAINT_JSON_MATCHER_H_
