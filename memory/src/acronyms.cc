#include "acronyms.h"

#include <algorithm>

#include "memory/lexical.h"

namespace memory::internal {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The ASCII words of `text` (runs of letters; anything else separates them).
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsAsciiLetter(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && IsAsciiLetter(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

bool IsLinkingWord(std::string_view word) {
  static constexpr std::string_view kLinking[] = {"of", "and", "for", "the"};
  std::string lower(word);
  for (char& c : lower) c = Lower(c);
  return std::find(std::begin(kLinking), std::end(kLinking), lower) != std::end(kLinking);
}

}  // namespace

std::vector<QueryAcronym> QueryAcronyms(std::string_view query) {
  std::vector<QueryAcronym> out;
  size_t i = 0;
  while (i < query.size()) {
    // Whole words only: "GPT-4" is an acronym, "iPhone" and "DeepSeek" are not.
    while (i < query.size() && !IsAsciiLetter(query[i])) ++i;
    const size_t start = i;
    while (i < query.size() && IsAsciiLetter(query[i])) ++i;
    if (i == start) continue;
    if (i < query.size() && (static_cast<unsigned char>(query[i]) >= 0x80 || (query[i] >= '0' && query[i] <= '9'))) continue;
    std::string_view word = query.substr(start, i - start);
    if (word.size() > 2 && word.back() == 's') word.remove_suffix(1);
    if (word.size() < 3 || word.size() > 6) continue;  // two letters are spelled by chance ("and in" for AI)
    if (!std::all_of(word.begin(), word.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) continue;
    const std::vector<std::string> terms = LexicalTerms(word);
    if (terms.size() != 1) continue;  // a stop word ("IT", "US" fold to ones)
    if (std::none_of(out.begin(), out.end(), [&](const QueryAcronym& a) { return a.letters == word; })) {
      out.push_back({std::string(word), terms[0]});
    }
  }
  return out;
}

bool SpellsOut(std::string_view text, std::string_view letters) {
  if (letters.empty()) return false;
  const std::vector<std::string_view> words = Words(text);
  for (size_t first = 0; first < words.size(); ++first) {
    size_t matched = 0;
    for (size_t w = first; w < words.size() && matched < letters.size(); ++w) {
      if (Lower(words[w][0]) == Lower(letters[matched])) {
        ++matched;
      } else if (matched == 0 || !IsLinkingWord(words[w])) {
        break;
      }
    }
    if (matched == letters.size()) return true;
  }
  return false;
}

}  // namespace memory::internal
