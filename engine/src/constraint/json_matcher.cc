#include "constraint/json_matcher.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "engine/json_nesting.h"

namespace engine::constraint {
namespace {

using OrderedJson = nlohmann::ordered_json;
using Kind = SchemaNode::Kind;

constexpr int kMaxSchemaDepth = 32;
// Nodes of one compiled schema. A list of types compiles the schema once per type, so 16
// levels of {"type": [4 types], "properties": ...} in 1 KB would expand to 4^16 nodes.
constexpr size_t kMaxSchemaNodes = 20000;
constexpr int kMaxCandidates = 64;  // keys of one object, values of one enum: bits of Frame::mask
constexpr size_t kMaxAnyDepth = 12;  // nesting of values of unconstrained shape
// Alternatives (anyOf, oneOf, a list of types) the matcher may follow at once. The mask copies
// and feeds every live alternative once per token of the vocabulary, on the scheduler thread
// that runs every tenant's batch: 64 alternatives took 2.1 s per token with Qwen3's 151,669
// tokens, and 4 KB of nested anyOf (3,072 open at once) 116 s.
constexpr uint64_t kMaxOpenAlternatives = 16;
// Long enough for any double written by a person, short enough that every number parses to a
// finite double: at most 15 characters before the exponent and a two-digit exponent.
constexpr int kMaxMantissaLength = 15;
constexpr int kMaxExponentDigits = 2;

// Frame states, per kind of node.
enum ObjectState : uint8_t { kObjOpen, kObjFirst, kObjKey, kObjFreeKey, kObjColon, kObjValue, kObjAfter, kObjNext };
enum ArrayState : uint8_t { kArrOpen, kArrFirst, kArrItem, kArrAfter };
// kStrLow*: after the escape of a high surrogate (\uD800-\uDBFF), the escape of its low half.
enum StringState : uint8_t { kStrOpen, kStrChars, kStrUtf8, kStrEscape, kStrHex, kStrLowBackslash, kStrLowU, kStrLowHex };
// Numbers: a DFA over sign, integer part, fraction and exponent.
enum NumberState : uint8_t { kNumStart, kNumSign, kNumZero, kNumInt, kNumDot, kNumFrac, kNumE, kNumExpSign, kNumExp };

bool IsDigit(uint8_t b) { return b >= '0' && b <= '9'; }
bool IsHex(uint8_t b) { return IsDigit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }
bool NumberAccepting(uint8_t state) {
  return state == kNumZero || state == kNumInt || state == kNumFrac || state == kNumExp;
}

// Properties that may be written after property `last` (-1: none yet): the following ones up to
// and including the first required one, which cannot be skipped.
uint64_t NextKeyMask(const SchemaNode& node, int last) {
  uint64_t mask = 0;
  for (size_t i = static_cast<size_t>(last + 1); i < node.keys.size(); ++i) {
    mask |= uint64_t{1} << i;
    if (node.required[i]) break;
  }
  return mask;
}

bool RequiredAfter(const SchemaNode& node, int last) {
  for (size_t i = static_cast<size_t>(last + 1); i < node.keys.size(); ++i) {
    if (node.required[i]) return true;
  }
  return false;
}

uint64_t AllCandidates(size_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

// A literal frame that has matched one of its candidates exactly.
bool LiteralComplete(const JsonMatcher::Frame& f) {
  if (f.state == 0) return false;
  for (size_t i = 0; i < f.node->literals.size(); ++i) {
    if ((f.mask >> i & 1) && f.node->literals[i].size() == static_cast<size_t>(f.pos)) return true;
  }
  return false;
}

class Compiler {
 public:
  explicit Compiler(CompiledSchema* out) : out_(out) {}

  absl::StatusOr<const SchemaNode*> Compile(const OrderedJson& s, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) return Error(path, "nested too deeply");
    if (out_->node_count() > kMaxSchemaNodes) {
      return Error(path, absl::StrCat("the schema expands to more than ", kMaxSchemaNodes, " nodes"));
    }
    if (s.is_boolean()) {
      if (s.get<bool>()) return out_->any();
      return Error(path, "the schema false matches nothing");
    }
    if (!s.is_object()) return Error(path, "a schema must be an object");
    static const std::set<std::string> kSupported = {
        "type", "properties", "required", "items", "minItems", "maxItems", "minLength", "maxLength",
        "enum", "const", "anyOf", "oneOf", "description", "title", "default", "examples", "$schema",
        "$id", "additionalProperties", "$comment", "propertyOrdering",
        // Bounds on a number's value: the mask keeps the number's shape and leaves the bound to
        // validation after decoding (tools::ValidateJson), as the tool registry and plans do.
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"};
    for (const auto& [key, value] : s.items()) {
      if (!kSupported.count(key)) return Error(path, absl::StrCat("keyword '", key, "' is not supported"));
    }
    if (s.contains("const")) return Literal({s["const"]});
    if (s.contains("enum")) {
      const OrderedJson& values = s["enum"];
      if (!values.is_array() || values.empty()) return Error(path + ".enum", "must be a non-empty array");
      if (values.size() > kMaxCandidates) return Error(path + ".enum", "at most 64 values");
      return Literal(std::vector<OrderedJson>(values.begin(), values.end()));
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const OrderedJson& alternatives = s[key];
      if (!alternatives.is_array() || alternatives.empty()) return Error(path + "." + key, "must be a non-empty array");
      SchemaNode* node = out_->NewNode(Kind::kAnyOf);
      for (size_t i = 0; i < alternatives.size(); ++i) {
        auto alt = Compile(alternatives[i], absl::StrCat(path, ".", key, "[", i, "]"), depth + 1);
        if (!alt.ok()) return alt.status();
        node->alternatives.push_back(*alt);
      }
      return node;
    }
    if (!s.contains("type")) {
      // Object, array or string keywords without a type: the value is meant to be one (a schema
      // {"properties": ...} matched as any value left its property schemas unchecked, while
      // validation applied them — found by fuzz_json_matcher).
      const char* implied = s.contains("properties") || s.contains("required")                       ? "object"
                            : s.contains("items") || s.contains("minItems") || s.contains("maxItems")    ? "array"
                            : s.contains("minLength") || s.contains("maxLength")                         ? "string"
                                                                                                         : nullptr;
      if (implied == nullptr) return out_->any();
      OrderedJson typed = s;
      typed["type"] = implied;
      return Compile(typed, path, depth);
    }
    const OrderedJson& type = s["type"];
    if (type.is_array()) {
      if (type.empty()) return Error(path + ".type", "must not be empty");
      SchemaNode* node = out_->NewNode(Kind::kAnyOf);
      for (const OrderedJson& t : type) {
        OrderedJson single = s;
        single["type"] = t;
        auto alt = Compile(single, path, depth + 1);
        if (!alt.ok()) return alt.status();
        node->alternatives.push_back(*alt);
      }
      return node;
    }
    if (!type.is_string()) return Error(path + ".type", "must be a string or an array of strings");
    const std::string t = type.get<std::string>();
    if (t == "object") return Object(s, path, depth);
    if (t == "array") return Array(s, path, depth);
    if (t == "string") {
      SchemaNode* node = out_->NewNode(Kind::kString);
      auto min = Count(s, "minLength", path, 0);
      auto max = Count(s, "maxLength", path, INT_MAX);
      if (!min.ok()) return min.status();
      if (!max.ok()) return max.status();
      if (*min > *max) return Error(path, "minLength is larger than maxLength");
      node->min_length = *min;
      node->max_length = *max;
      return node;
    }
    if (t == "number") return out_->NewNode(Kind::kNumber);
    if (t == "integer") return out_->NewNode(Kind::kInteger);
    if (t == "boolean") return Literal({OrderedJson(true), OrderedJson(false)});
    if (t == "null") return Literal({OrderedJson(nullptr)});
    return Error(path + ".type", absl::StrCat("unknown type '", t, "'"));
  }

 private:
  absl::Status Error(const std::string& path, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
  }

  const SchemaNode* Literal(const std::vector<OrderedJson>& values) {
    SchemaNode* node = out_->NewNode(Kind::kLiteral);
    for (const OrderedJson& v : values) node->literals.push_back(v.dump());
    return node;
  }

  absl::StatusOr<int> Count(const OrderedJson& s, const char* key, const std::string& path, int fallback) {
    if (!s.contains(key)) return fallback;
    const OrderedJson& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT_MAX) {
      return Error(absl::StrCat(path, ".", key), "must be a non-negative integer");
    }
    return static_cast<int>(v.get<int64_t>());
  }

  absl::StatusOr<const SchemaNode*> Object(const OrderedJson& s, const std::string& path, int depth) {
    if (!s.contains("properties")) {
      // Required names must be properties (below): without any, an object matched as any object
      // left them unchecked while validation applied them (found by fuzz_json_matcher).
      if (s.contains("required") && !(s["required"].is_array() && s["required"].empty())) {
        return Error(path + ".required", "names properties, but the object has none");
      }
      return out_->any_object();
    }
    const OrderedJson& properties = s["properties"];
    if (!properties.is_object()) return Error(path + ".properties", "must be an object");
    if (properties.size() > kMaxCandidates) return Error(path + ".properties", "at most 64 properties");
    SchemaNode* node = out_->NewNode(Kind::kObject);
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return Error(path + ".required", "must be an array of names");
      for (const OrderedJson& name : s["required"]) {
        if (!name.is_string()) return Error(path + ".required", "must be an array of names");
        if (!properties.contains(name.get<std::string>())) {
          return Error(path + ".required", absl::StrCat("names '", name.get<std::string>(), "', which is not in properties"));
        }
        required.insert(name.get<std::string>());
      }
    }
    // Written in the schema's order, or in propertyOrdering's (for schemas built from
    // unordered maps, such as Lua tables) followed by any properties it leaves out.
    std::vector<std::string> order;
    if (s.contains("propertyOrdering")) {
      const OrderedJson& ordering = s["propertyOrdering"];
      if (!ordering.is_array()) return Error(path + ".propertyOrdering", "must be an array of property names");
      for (const OrderedJson& name : ordering) {
        if (!name.is_string() || !properties.contains(name.get<std::string>())) {
          return Error(path + ".propertyOrdering", "must name properties of this object");
        }
        order.push_back(name.get<std::string>());
      }
    }
    for (const auto& [key, value] : properties.items()) {
      if (std::find(order.begin(), order.end(), key) == order.end()) order.push_back(key);
    }
    for (const std::string& key : order) {
      const OrderedJson& value = properties[key];
      auto child = Compile(value, absl::StrCat(path, ".properties.", key), depth + 1);
      if (!child.ok()) return child.status();
      std::string quoted = OrderedJson(key).dump();
      node->keys.push_back(quoted.substr(1, quoted.size() - 2));
      node->values.push_back(*child);
      node->required.push_back(required.count(key) > 0);
    }
    return node;
  }

  absl::StatusOr<const SchemaNode*> Array(const OrderedJson& s, const std::string& path, int depth) {
    SchemaNode* node = out_->NewNode(Kind::kArray);
    node->items = out_->any();
    if (s.contains("items")) {
      auto items = Compile(s["items"], path + ".items", depth + 1);
      if (!items.ok()) return items.status();
      node->items = *items;
    }
    auto min = Count(s, "minItems", path, 0);
    auto max = Count(s, "maxItems", path, INT_MAX);
    if (!min.ok()) return min.status();
    if (!max.ok()) return max.status();
    if (*min > *max) return Error(path, "minItems is larger than maxItems");
    node->min_items = *min;
    node->max_items = *max;
    return node;
  }

  CompiledSchema* out_;
};

}  // namespace

SchemaNode* CompiledSchema::NewNode(SchemaNode::Kind kind) {
  nodes_.push_back(std::make_unique<SchemaNode>());
  nodes_.back()->kind = kind;
  return nodes_.back().get();
}

absl::StatusOr<std::shared_ptr<const CompiledSchema>> CompiledSchema::Compile(const std::string& schema_json) {
  auto schema = std::make_shared<CompiledSchema>();
  schema->any_ = schema->NewNode(Kind::kAny);
  SchemaNode* object = schema->NewNode(Kind::kObject);
  object->free_keys = true;
  schema->any_object_ = object;
  SchemaNode* array = schema->NewNode(Kind::kArray);
  array->items = schema->any_;
  schema->any_array_ = array;
  schema->any_string_ = schema->NewNode(Kind::kString);
  schema->any_number_ = schema->NewNode(Kind::kNumber);
  SchemaNode* scalars = schema->NewNode(Kind::kLiteral);
  scalars->literals = {"true", "false", "null"};
  schema->any_scalar_literal_ = scalars;
  if (schema_json.empty()) {
    schema->root_ = schema->any_;
    return std::shared_ptr<const CompiledSchema>(schema);
  }
  // Compile itself stops at kMaxSchemaDepth, but values inside a schema ("default", "const")
  // are copied whole, one recursion per level.
  if (JsonNestedTooDeeply(schema_json)) {
    return absl::InvalidArgumentError(absl::StrCat("json_schema: nested more than ", kMaxJsonNesting, " levels deep"));
  }
  OrderedJson parsed = OrderedJson::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("json_schema: not valid JSON");
  Compiler compiler(schema.get());
  absl::StatusOr<const SchemaNode*> root = compiler.Compile(parsed, "json_schema", 0);
  if (!root.ok()) return root.status();
  schema->root_ = *root;
  if (absl::Status open = CheckOpenAlternatives(*schema); !open.ok()) return open;
  return std::shared_ptr<const CompiledSchema>(schema);
}

namespace {

// The most alternatives the matcher can hold alive at once below `node`: an anyOf holds each of
// its alternatives' (they stay alive until the bytes rule them out), an object or array only the
// one value it is inside at a time. Saturates far above any bound.
uint64_t OpenAlternatives(const SchemaNode* node, std::map<const SchemaNode*, uint64_t>* memo) {
  if (auto it = memo->find(node); it != memo->end()) return it->second;
  uint64_t open = 1;
  if (node->kind == Kind::kAnyOf) {
    open = 0;
    for (const SchemaNode* alternative : node->alternatives) {
      open = std::min<uint64_t>(open + OpenAlternatives(alternative, memo), uint64_t{1} << 40);
    }
  } else if (node->kind == Kind::kObject) {
    for (const SchemaNode* value : node->values) open = std::max(open, OpenAlternatives(value, memo));
  } else if (node->kind == Kind::kArray && node->items != nullptr) {
    open = OpenAlternatives(node->items, memo);
  }
  (*memo)[node] = open;
  return open;
}

}  // namespace

absl::Status CheckOpenAlternatives(const CompiledSchema& schema) {
  std::map<const SchemaNode*, uint64_t> memo;
  const uint64_t open = OpenAlternatives(schema.root(), &memo);
  if (open <= kMaxOpenAlternatives) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "json_schema: up to ", open, " alternatives (anyOf, oneOf, lists of types, nested) can be open at once; at most ",
      kMaxOpenAlternatives, " (each is checked against every token of the vocabulary at every step)"));
}

JsonMatcher::JsonMatcher(std::shared_ptr<const CompiledSchema> schema) : schema_(std::move(schema)) {
  Frame root;
  root.node = schema_->root();
  root.count = root.node->kind == Kind::kObject ? -1 : 0;
  Expand(Stack{root}, &stacks_);
}

void JsonMatcher::Expand(Stack stack, std::vector<Stack>* out) const {
  if (!stack.empty() && stack.back().node->kind == Kind::kAnyOf && stack.back().state == 0) {
    const Frame top = stack.back();
    for (const SchemaNode* alternative : top.node->alternatives) {
      Stack copy = stack;
      copy.back().node = alternative;
      copy.back().count = alternative->kind == Kind::kObject ? -1 : 0;
      Expand(std::move(copy), out);
    }
    return;
  }
  out->push_back(std::move(stack));
}

namespace {

// The value on top of the stack is complete: pop it and move its parent on.
void PopValue(JsonMatcher::Stack& stack) {
  stack.pop_back();
  if (stack.empty()) return;
  JsonMatcher::Frame& parent = stack.back();
  if (parent.node->kind == Kind::kObject) {
    parent.state = parent.state == kObjFreeKey ? kObjColon : kObjAfter;
  } else if (parent.node->kind == Kind::kArray) {
    ++parent.count;
    parent.state = kArrAfter;
  }
}

void PushValue(JsonMatcher::Stack& stack, const SchemaNode* node, bool space_ok) {
  JsonMatcher::Frame child;
  child.node = node;
  child.space_ok = space_ok;
  if (node->kind == Kind::kObject) child.count = -1;
  stack.push_back(child);
}

}  // namespace

JsonMatcher::Step JsonMatcher::AcceptOne(Stack& stack, uint8_t b) const {
  if (stack.empty()) return Step::kRejected;
  Frame& f = stack.back();
  const SchemaNode& node = *f.node;
  // One space before a value that follows ':' or ','.
  const bool at_start = f.state == 0 && (node.kind != Kind::kLiteral || f.pos == 0);
  if (at_start && b == ' ') {
    if (!f.space_ok) return Step::kRejected;
    f.space_ok = false;
    return Step::kConsumed;
  }
  switch (node.kind) {
    case Kind::kAnyOf:
      return Step::kRejected;  // expanded before any byte reaches it
    case Kind::kAny:
      return AcceptAny(stack, f, node, b);
    case Kind::kObject:
      return AcceptObject(stack, f, node, b);
    case Kind::kArray:
      return AcceptArray(stack, f, node, b);
    case Kind::kString:
      return AcceptString(stack, f, node, b);
    case Kind::kNumber:
    case Kind::kInteger:
      return AcceptNumber(stack, f, node, b);
    case Kind::kLiteral:
      return AcceptLiteral(stack, f, node, b);
  }
  return Step::kRejected;
}

// Any value: the first byte decides which kind it is.
JsonMatcher::Step JsonMatcher::AcceptAny(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  const bool may_nest = stack.size() < kMaxAnyDepth;
  if (b == '{' && may_nest) {
    f.node = schema_->any_object();
    f.state = kObjFirst;
    f.count = -1;
    return Step::kConsumed;
  }
  if (b == '[' && may_nest) {
    f.node = schema_->any_array();
    f.state = kArrFirst;
    return Step::kConsumed;
  }
  if (b == '"') {
    f.node = schema_->any_string();
    f.state = kStrChars;
    return Step::kConsumed;
  }
  if (b == '-' || IsDigit(b)) {
    f.node = schema_->any_number();
    return Step::kRetry;
  }
  if (b == 't' || b == 'f' || b == 'n') {
    f.node = schema_->any_scalar_literal();
    f.mask = AllCandidates(3);
    return Step::kRetry;
  }
  return Step::kRejected;
}

// An object with the schema's properties in order (or any keys).
JsonMatcher::Step JsonMatcher::AcceptObject(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  auto start_key = [&]() -> Step {
    if (node.free_keys) {
      f.state = kObjFreeKey;
      Frame key;
      key.node = schema_->any_string();
      key.state = kStrChars;
      stack.push_back(key);
      return Step::kConsumed;
    }
    const uint64_t mask = NextKeyMask(node, f.count);
    if (mask == 0) return Step::kRejected;
    f.state = kObjKey;
    f.mask = mask;
    f.pos = 0;
    return Step::kConsumed;
  };
  switch (f.state) {
    case kObjOpen:
      if (b != '{') return Step::kRejected;
      f.state = kObjFirst;
      return Step::kConsumed;
    case kObjFirst:
      if (b == '"') return start_key();
      if (b == '}' && (node.free_keys || !RequiredAfter(node, -1))) {
        PopValue(stack);
        return Step::kConsumed;
      }
      return Step::kRejected;
    case kObjKey: {
      if (b == '"') {
        for (size_t i = 0; i < node.keys.size(); ++i) {
          if ((f.mask >> i & 1) && node.keys[i].size() == static_cast<size_t>(f.pos)) {
            f.count = static_cast<int32_t>(i);
            f.state = kObjColon;
            return Step::kConsumed;
          }
        }
        return Step::kRejected;
      }
      uint64_t mask = 0;
      for (size_t i = 0; i < node.keys.size(); ++i) {
        if ((f.mask >> i & 1) && node.keys[i].size() > static_cast<size_t>(f.pos) &&
            static_cast<uint8_t>(node.keys[i][f.pos]) == b) {
          mask |= uint64_t{1} << i;
        }
      }
      if (mask == 0) return Step::kRejected;
      f.mask = mask;
      ++f.pos;
      return Step::kConsumed;
    }
    case kObjColon: {
      if (b != ':') return Step::kRejected;
      f.state = kObjValue;
      const SchemaNode* value = node.free_keys ? schema_->any() : node.values[f.count];
      PushValue(stack, value, /*space_ok=*/true);
      return Step::kConsumed;
    }
    case kObjAfter:
      if (b == ',' && (node.free_keys || NextKeyMask(node, f.count) != 0)) {
        f.state = kObjNext;
        f.space_ok = true;
        return Step::kConsumed;
      }
      if (b == '}' && (node.free_keys || !RequiredAfter(node, f.count))) {
        PopValue(stack);
        return Step::kConsumed;
      }
      return Step::kRejected;
    case kObjNext:
      if (b == ' ' && f.space_ok) {
        f.space_ok = false;
        return Step::kConsumed;
      }
      if (b == '"') return start_key();
      return Step::kRejected;
    default:
      return Step::kRejected;  // kObjFreeKey/kObjValue: a child frame is on top
  }
}

// An array of the schema's items, between min_items and max_items.
JsonMatcher::Step JsonMatcher::AcceptArray(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  switch (f.state) {
    case kArrOpen:
      if (b != '[') return Step::kRejected;
      f.state = kArrFirst;
      return Step::kConsumed;
    case kArrFirst:
      if (b == ']') {
        if (node.min_items > 0) return Step::kRejected;
        PopValue(stack);
        return Step::kConsumed;
      }
      if (node.max_items == 0) return Step::kRejected;
      f.state = kArrItem;
      PushValue(stack, node.items, /*space_ok=*/false);
      return Step::kRetry;
    case kArrAfter:
      if (b == ',' && f.count < node.max_items) {
        f.state = kArrItem;
        PushValue(stack, node.items, /*space_ok=*/true);
        return Step::kConsumed;
      }
      if (b == ']' && f.count >= node.min_items) {
        PopValue(stack);
        return Step::kConsumed;
      }
      return Step::kRejected;
    default:
      return Step::kRejected;
  }
}

// A string (escapes and UTF-8 checked), between min_length and max_length code points.
JsonMatcher::Step JsonMatcher::AcceptString(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  switch (f.state) {
    case kStrOpen:
      if (b != '"') return Step::kRejected;
      f.state = kStrChars;
      return Step::kConsumed;
    case kStrChars:
      if (b == '"') {
        if (f.count < node.min_length) return Step::kRejected;
        PopValue(stack);
        return Step::kConsumed;
      }
      if (b < 0x20 || f.count >= node.max_length) return Step::kRejected;
      if (b == '\\') {
        f.state = kStrEscape;
        return Step::kConsumed;
      }
      if (b < 0x80) {
        ++f.count;
        return Step::kConsumed;
      }
      if (b >= 0xC2 && b <= 0xDF) {
        f.pos = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        f.pos = 2;
      } else if (b >= 0xF0 && b <= 0xF4) {
        f.pos = 3;
      } else {
        return Step::kRejected;
      }
      // The first continuation byte's range (Unicode's table 3-7): no overlong forms, no
      // surrogates (ED A0..BF), nothing past U+10FFFF. mask holds it as lo << 8 | hi.
      f.mask = b == 0xE0 ? 0xA0BF : b == 0xED ? 0x809F : b == 0xF0 ? 0x90BF : b == 0xF4 ? 0x808F : 0x80BF;
      ++f.count;
      f.state = kStrUtf8;
      return Step::kConsumed;
    case kStrUtf8:
      if (b < (f.mask >> 8) || b > (f.mask & 0xFF)) return Step::kRejected;
      f.mask = 0x80BF;
      if (--f.pos == 0) f.state = kStrChars;
      return Step::kConsumed;
    case kStrEscape:
      if (b == 'u') {
        f.state = kStrHex;
        f.pos = 4;
        f.mask = 0;  // the code unit, digit by digit
      } else if (b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't') {
        f.state = kStrChars;
      } else {
        return Step::kRejected;
      }
      ++f.count;
      return Step::kConsumed;
    case kStrHex:
    case kStrLowHex: {
      if (!IsHex(b)) return Step::kRejected;
      const uint64_t unit = f.mask * 16 + static_cast<uint64_t>(b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
      if (f.pos > 1) {
        f.mask = unit;
        --f.pos;
        return Step::kConsumed;
      }
      // The last digit: a surrogate must come as a high-low pair (JSON parsers refuse a lone one).
      const bool high = unit >= 0xD800 && unit <= 0xDBFF, low = unit >= 0xDC00 && unit <= 0xDFFF;
      if (f.state == kStrHex ? low : !low) return Step::kRejected;
      f.pos = 0;
      f.mask = 0;
      f.state = f.state == kStrHex && high ? kStrLowBackslash : kStrChars;
      return Step::kConsumed;
    }
    case kStrLowBackslash:
      if (b != '\\') return Step::kRejected;
      f.state = kStrLowU;
      return Step::kConsumed;
    case kStrLowU:
      if (b != 'u') return Step::kRejected;
      f.state = kStrLowHex;
      f.pos = 4;
      f.mask = 0;
      return Step::kConsumed;
    default:
      return Step::kRejected;
  }
}

// A JSON number; an integer has no fraction or exponent.
JsonMatcher::Step JsonMatcher::AcceptNumber(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  const bool integer = node.kind == Kind::kInteger;
  // count: characters of the mantissa, then (from 'e' on) 100 + digits of the exponent.
  const bool in_exponent = f.state >= kNumE;
  const bool room = in_exponent ? f.count - 100 < kMaxExponentDigits : f.count < kMaxMantissaLength;
  int next = -1;
  switch (f.state) {
    case kNumStart:
      if (b == '-') next = kNumSign;
      else if (b == '0') next = kNumZero;
      else if (IsDigit(b)) next = kNumInt;
      break;
    case kNumSign:
      if (b == '0') next = kNumZero;
      else if (IsDigit(b)) next = kNumInt;
      break;
    case kNumZero:
      if (!integer && b == '.') next = kNumDot;
      else if (!integer && (b == 'e' || b == 'E')) next = kNumE;
      break;
    case kNumInt:
      if (IsDigit(b)) next = kNumInt;
      else if (!integer && b == '.') next = kNumDot;
      else if (!integer && (b == 'e' || b == 'E')) next = kNumE;
      break;
    case kNumDot:
      if (IsDigit(b)) next = kNumFrac;
      break;
    case kNumFrac:
      if (IsDigit(b)) next = kNumFrac;
      else if (b == 'e' || b == 'E') next = kNumE;
      break;
    case kNumE:
      if (b == '+' || b == '-') next = kNumExpSign;
      else if (IsDigit(b)) next = kNumExp;
      break;
    case kNumExpSign:
    case kNumExp:
      if (IsDigit(b)) next = kNumExp;
      break;
  }
  // '.' needs room for a digit after it; 'e' starts the exponent's own count.
  const bool allowed = next == kNumE ? true : next == kNumDot ? f.count + 1 < kMaxMantissaLength : room;
  if (next >= 0 && allowed) {
    if (next == kNumE) {
      f.count = 100;
    } else if (next != kNumExpSign) {
      ++f.count;
    }
    f.state = static_cast<uint8_t>(next);
    return Step::kConsumed;
  }
  if (f.state != kNumStart && NumberAccepting(f.state)) {
    PopValue(stack);
    return Step::kRetry;
  }
  return Step::kRejected;
}

// One of the schema's literal values (enum/const, true/false/null).
JsonMatcher::Step JsonMatcher::AcceptLiteral(Stack& stack, Frame& f, const SchemaNode& node, uint8_t b) const {
  uint64_t mask = 0;
  const uint64_t candidates = f.state == 0 ? AllCandidates(node.literals.size()) : f.mask;
  for (size_t i = 0; i < node.literals.size(); ++i) {
    if ((candidates >> i & 1) && node.literals[i].size() > static_cast<size_t>(f.pos) &&
        static_cast<uint8_t>(node.literals[i][f.pos]) == b) {
      mask |= uint64_t{1} << i;
    }
  }
  if (mask != 0) {
    f.state = 1;
    f.mask = mask;
    ++f.pos;
    return Step::kConsumed;
  }
  if (LiteralComplete(f)) {
    PopValue(stack);
    return Step::kRetry;
  }
  return Step::kRejected;
}

bool JsonMatcher::Accept(uint8_t byte) {
  // One alternative whose byte neither completes a value nor opens an anyOf (most bytes: inside
  // a string, a number, a key): the general way below would do the same with two more vectors
  // allocated and freed, per byte of every token the mask reads.
  if (stacks_.size() == 1) {
    Stack stack = stacks_.front();
    const Step step = AcceptOne(stack, byte);
    if (step == Step::kRejected) return false;
    if (step == Step::kConsumed && (stack.empty() || stack.back().node->kind != Kind::kAnyOf || stack.back().state != 0)) {
      stacks_.front() = std::move(stack);
      return true;
    }
  }
  std::vector<Stack> next;
  std::vector<Stack> work = stacks_;
  while (!work.empty()) {
    Stack stack = std::move(work.back());
    work.pop_back();
    Step step = AcceptOne(stack, byte);
    if (step == Step::kConsumed) {
      // A literal or number on top may already be complete; its frame stays until a byte ends it.
      Expand(std::move(stack), &next);
    } else if (step == Step::kRetry) {
      Expand(std::move(stack), &work);
    }
  }
  if (next.empty()) return false;
  stacks_ = std::move(next);
  return true;
}

bool JsonMatcher::CanEnd(const Stack& stack) {
  if (stack.empty()) return true;
  if (stack.size() != 1) return false;
  const Frame& f = stack.back();
  if (f.node->kind == Kind::kNumber || f.node->kind == Kind::kInteger) {
    return f.state != kNumStart && NumberAccepting(f.state);
  }
  if (f.node->kind == Kind::kLiteral) return LiteralComplete(f);
  return false;
}

bool JsonMatcher::IsComplete() const {
  return std::any_of(stacks_.begin(), stacks_.end(), [](const Stack& s) { return CanEnd(s); });
}

}  // namespace engine::constraint
