// How deeply JSON text nests, found by scanning its brackets outside strings, without parsing.
// nlohmann's parser and destructor are iterative, but copying, comparing and writing a value
// recurse once per level: a request holding 200,000 '[' overflowed the daemon's stack. So
// every JSON text a tenant or a model controls is measured before it is parsed, and text nested
// deeper than kMaxJsonNesting is refused with a clear error.
//
//   if (engine::JsonNestedTooDeeply(text)) return InvalidArgument("arguments_json: nested more than 128 levels deep");
#ifndef AGENTD_ENGINE_JSON_NESTING_H_
#define AGENTD_ENGINE_JSON_NESTING_H_

#include <string_view>

namespace engine {

// Deep enough for any schema, tool call or document a person writes.
inline constexpr int kMaxJsonNesting = 128;

// The deepest nesting of '[' and '{' in `text` outside string literals (escapes honoured);
// the scan stops at limit + 1. Malformed text is measured as far as its brackets go.
inline int JsonNesting(std::string_view text, int limit = kMaxJsonNesting) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

inline bool JsonNestedTooDeeply(std::string_view text, int limit = kMaxJsonNesting) {
  return JsonNesting(text, limit) > limit;
}

}  // namespace engine

#endif  // AGENTD_ENGINE_JSON_NESTING_H_
