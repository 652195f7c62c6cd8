// libFuzzer target: tokenizer.json text. The input is split at the first NUL byte into the
// tokenizer file and a text; a tokenizer that loads must encode the text, decode the ids, and
// give ids inside its vocabulary, also with parts of the text marked literal (as chat prompts do).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string json = input.substr(0, split);
  const std::string text = split == std::string::npos ? "hello 世界 123" : input.substr(split + 1);
  auto tokenizer = engine::Tokenizer::FromJson(json, "", "fuzz");
  if (!tokenizer.ok()) return 0;
  const std::vector<int32_t> ids = (*tokenizer)->Encode(text);
  for (int32_t id : ids) {
    if (id < 0 || id >= (*tokenizer)->vocab_size()) __builtin_trap();
  }
  (void)(*tokenizer)->Decode(ids);
  // Ranges from the text's own length, cutting wherever that falls (inside an added token's
  // spelling, a UTF-8 sequence, a normalized character).
  const size_t n = text.size();
  const std::vector<engine::TextRange> literal = {{n / 7, n / 3}, {n / 2, n / 2 + (n % 5)}, {(3 * n) / 4 + 1, n}};
  std::vector<engine::TextRange> valid;
  for (const engine::TextRange& range : literal) {
    if (range.begin < range.end && range.end <= n && (valid.empty() || valid.back().end < range.begin)) valid.push_back(range);
  }
  for (int32_t id : (*tokenizer)->EncodeWithLiteralRanges(text, valid)) {
    if (id < 0 || id >= (*tokenizer)->vocab_size()) __builtin_trap();
  }
  return 0;
}
