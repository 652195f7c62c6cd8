#include "tools/json_schema.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace tools {
namespace {

using Json = nlohmann::json;

bool HasType(const Json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    return value.is_number_integer() || (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  }
  return false;
}

// Written with invalid UTF-8 replaced: values from Lua may hold any bytes, and dump() throws.
std::string Text(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

absl::Status Fail(const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// Calls of Validate per top-level validation: anyOf alternatives times array items is
// otherwise unbounded (1M shared alternatives × 500k items was 5e11 calls on a request thread).
constexpr int64_t kMaxValidationSteps = 1000000;

absl::Status Validate(const Json& schema, const Json& value, const std::string& path, int64_t* steps) {
  if (++*steps > kMaxValidationSteps) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": too costly to check against its schema (more than ",
                                                   kMaxValidationSteps, " steps)"));
  }
  if (schema.is_boolean()) return schema.get<bool>() ? absl::OkStatus() : Fail(path, "is not allowed");
  if (!schema.is_object()) return absl::OkStatus();
  if (schema.contains("type")) {
    const Json& type = schema["type"];
    bool ok = false;
    std::string names;
    if (type.is_string()) {
      ok = HasType(value, type.get<std::string>());
      names = type.get<std::string>();
    } else if (type.is_array()) {
      for (const Json& t : type) {
        if (t.is_string() && HasType(value, t.get<std::string>())) ok = true;
        names += (names.empty() ? "" : " or ") + t.get<std::string>();
      }
    }
    if (!ok) return Fail(path, absl::StrCat("must be ", names == "integer" || names == "array" || names == "object" ? "an " : "a ", names));
  }
  if (schema.contains("const") && value != schema["const"]) return Fail(path, absl::StrCat("must be ", Text(schema["const"])));
  if (schema.contains("enum") && schema["enum"].is_array()) {
    bool found = false;
    for (const Json& option : schema["enum"]) found = found || option == value;
    if (!found) return Fail(path, absl::StrCat("must be one of ", Text(schema["enum"])));
  }
  if (value.is_number()) {
    const double v = value.get<double>();
    if (schema.contains("minimum") && v < schema["minimum"].get<double>()) return Fail(path, absl::StrCat("must be at least ", schema["minimum"].dump()));
    if (schema.contains("maximum") && v > schema["maximum"].get<double>()) return Fail(path, absl::StrCat("must be at most ", schema["maximum"].dump()));
    if (schema.contains("exclusiveMinimum") && v <= schema["exclusiveMinimum"].get<double>()) return Fail(path, absl::StrCat("must be greater than ", schema["exclusiveMinimum"].dump()));
    if (schema.contains("exclusiveMaximum") && v >= schema["exclusiveMaximum"].get<double>()) return Fail(path, absl::StrCat("must be less than ", schema["exclusiveMaximum"].dump()));
  }
  if (value.is_string()) {
    const size_t n = CodePoints(value.get<std::string>());
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) return Fail(path, absl::StrCat("must have at least ", schema["minLength"].dump(), " characters"));
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return Fail(path, absl::StrCat("must have at most ", schema["maxLength"].dump(), " characters"));
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) return Fail(path, absl::StrCat("must have at least ", schema["minItems"].dump(), " items"));
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) return Fail(path, absl::StrCat("must have at most ", schema["maxItems"].dump(), " items"));
    if (schema.contains("items")) {
      for (size_t i = 0; i < value.size(); ++i) {
        absl::Status status = Validate(schema["items"], value[i], absl::StrCat(path, "[", i, "]"), steps);
        if (!status.ok()) return status;
      }
    }
  }
  if (value.is_object()) {
    const Json properties = schema.value("properties", Json::object());
    if (schema.contains("required") && schema["required"].is_array()) {
      for (const Json& key : schema["required"]) {
        if (key.is_string() && !value.contains(key.get<std::string>())) return Fail(absl::StrCat(path, ".", key.get<std::string>()), "is required");
      }
    }
    for (const auto& [key, item] : value.items()) {
      if (properties.contains(key)) {
        absl::Status status = Validate(properties[key], item, absl::StrCat(path, ".", key), steps);
        if (!status.ok()) return status;
      } else if (schema.contains("additionalProperties")) {
        absl::Status status = Validate(schema["additionalProperties"], item, absl::StrCat(path, ".", key), steps);
        if (!status.ok()) return Fail(absl::StrCat(path, ".", key), "is not a known argument");
      }
    }
  }
  if (schema.contains("anyOf") && schema["anyOf"].is_array()) {
    for (const Json& option : schema["anyOf"]) {
      absl::Status status = Validate(option, value, path, steps);
      if (status.ok()) return absl::OkStatus();
      if (*steps > kMaxValidationSteps) return status;
    }
    return Fail(path, "matches none of the allowed forms");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateJson(const Json& schema, const Json& value, const std::string& path) {
  // A schema that did not pass CheckSchema (the decoding constraint accepts bounds of any type)
  // can hold values of the wrong type where a number or a name is read: that is the schema's
  // error, reported, not an exception through the caller.
  int64_t steps = 0;
  try {
    return Validate(schema, value, path, &steps);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("schema: cannot be checked (", e.what(), ")"));
  }
}

absl::Status CheckSchema(const Json& schema) {
  if (schema.is_boolean()) return absl::OkStatus();
  if (!schema.is_object()) return absl::InvalidArgumentError("schema must be an object");
  static const std::set<std::string> known = {"type", "properties", "required", "additionalProperties", "items", "enum",
                                              "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                                              "minLength", "maxLength", "minItems", "maxItems", "anyOf", "description",
                                              "title", "default", "examples", "$schema", "format"};
  static const std::set<std::string> types = {"object", "array", "string", "number", "integer", "boolean", "null"};
  for (const auto& [key, item] : schema.items()) {
    if (!known.count(key)) return absl::InvalidArgumentError(absl::StrCat("schema keyword \"", key, "\" is not supported"));
    if (key == "type") {
      std::vector<Json> listed = item.is_array() ? std::vector<Json>(item.begin(), item.end()) : std::vector<Json>{item};
      for (const Json& t : listed) {
        if (!t.is_string() || !types.count(t.get<std::string>())) return absl::InvalidArgumentError(absl::StrCat("schema type ", Text(t), " is not a JSON type"));
      }
    } else if (key == "properties") {
      if (!item.is_object()) return absl::InvalidArgumentError("schema properties must be an object");
      for (const auto& [name, sub] : item.items()) {
        absl::Status status = CheckSchema(sub);
        if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("properties.", name, ": ", status.message()));
      }
    } else if (key == "items" || key == "additionalProperties") {
      absl::Status status = CheckSchema(item);
      if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat(key, ": ", status.message()));
    } else if (key == "anyOf") {
      // Its forms are schemas too: ValidateJson reads them with the same expectations.
      if (!item.is_array() || item.empty()) return absl::InvalidArgumentError("schema anyOf must be a non-empty list of schemas");
      if (item.size() > 64) return absl::InvalidArgumentError("schema anyOf: at most 64 forms");
      for (size_t i = 0; i < item.size(); ++i) {
        absl::Status status = CheckSchema(item[i]);
        if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat("anyOf[", i, "]: ", status.message()));
      }
    } else if (key == "enum" && !item.is_array()) {
      return absl::InvalidArgumentError("schema enum must be a list of values");
    } else if (key == "required" && !item.is_array()) {
      return absl::InvalidArgumentError("schema required must be a list of names");
    } else if ((key == "minimum" || key == "maximum" || key == "exclusiveMinimum" || key == "exclusiveMaximum") && !item.is_number()) {
      return absl::InvalidArgumentError(absl::StrCat("schema ", key, " must be a number"));
    } else if ((key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems") && !(item.is_number_integer() && item.get<int64_t>() >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("schema ", key, " must be a non-negative integer"));
    }
  }
  return absl::OkStatus();
}

bool HasValueBounds(const nlohmann::json& schema) {
  if (schema.is_array()) {
    for (const nlohmann::json& item : schema) {
      if (HasValueBounds(item)) return true;
    }
    return false;
  }
  if (!schema.is_object()) return false;
  for (const auto& [key, value] : schema.items()) {
    for (const char* bound : kValueBoundKeywords) {
      if (key == bound) return true;
    }
    if (HasValueBounds(value)) return true;
  }
  return false;
}

}  // namespace tools
