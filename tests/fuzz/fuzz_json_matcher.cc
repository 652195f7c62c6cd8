// libFuzzer target: the decoding constraint's JSON matcher against an independent judge. The
// input is a JSON Schema and a text, split at the first NUL byte. When the schema compiles and
// the matcher accepts every byte of the text and calls it complete, the text must parse as
// JSON (nlohmann) and be valid against the schema (the tools' validator); any byte the matcher
// refuses must leave it as it was.
#include <cstdint>
#include <string>

#include "constraint/json_matcher.h"
#include "nlohmann/json.hpp"
#include "tools/json_schema.h"

namespace {

// The matcher enforces structure; value bounds are left to validation after decoding, so the
// judge does not hold the matcher to them.
void DropValueBounds(nlohmann::json& schema) {
  if (schema.is_array()) {
    for (nlohmann::json& item : schema) DropValueBounds(item);
  } else if (schema.is_object()) {
    for (const char* key : tools::kValueBoundKeywords) schema.erase(key);
    for (auto& [key, value] : schema.items()) DropValueBounds(value);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  if (split == std::string::npos) return 0;
  const std::string schema_text = input.substr(0, split);
  const std::string text = input.substr(split + 1);
  auto compiled = engine::constraint::CompiledSchema::Compile(schema_text);
  if (!compiled.ok()) return 0;
  engine::constraint::JsonMatcher matcher(*compiled);
  for (unsigned char byte : text) {
    if (!matcher.Accept(byte)) return 0;
  }
  if (!matcher.IsComplete()) return 0;
  const nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded()) __builtin_trap();  // accepted text that is not JSON
  nlohmann::json schema = nlohmann::json::parse(schema_text, nullptr, false);
  if (!schema.is_discarded() && !schema_text.empty()) {
    DropValueBounds(schema);
    absl::Status valid = tools::ValidateJson(schema, value, "value");
    if (!valid.ok()) __builtin_trap();  // accepted a value the schema does not allow
  }
  return 0;
}
