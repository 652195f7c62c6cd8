// Validating tool arguments against their JSON Schema before a tool runs. Supports the subset
// tool definitions use: type (one or a list), properties, required, additionalProperties
// (boolean), items, enum, const, minimum/maximum (and exclusive), minLength/maxLength,
// minItems/maxItems, anyOf. Errors name the failing path: "args.query: must be a string".
#ifndef AGENTD_TOOLS_JSON_SCHEMA_H_
#define AGENTD_TOOLS_JSON_SCHEMA_H_

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace tools {

// INVALID_ARGUMENT naming the path when `value` does not satisfy `schema`; `root` names the
// value in messages.
absl::Status ValidateJson(const nlohmann::json& schema, const nlohmann::json& value, const std::string& root = "args");

// Checks that a schema uses only what ValidateJson understands, with well-formed values.
absl::Status CheckSchema(const nlohmann::json& schema);

// The keywords that bound a number's value. The decoding constraint enforces a schema's
// structure and leaves these to validation after decoding.
inline constexpr const char* kValueBoundKeywords[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                                       "multipleOf"};

// Whether any of kValueBoundKeywords appears anywhere in `schema`.
bool HasValueBounds(const nlohmann::json& schema);

}  // namespace tools

#endif  // AGENTD_TOOLS_JSON_SCHEMA_H_
