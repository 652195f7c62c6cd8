#include "memory/lexical.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

#include "utf8_text.h"

namespace memory {
namespace {

std::string Fold(std::string_view text) {
  std::string input(text);
  utf8proc_uint8_t* folded = utf8proc_NFKC_Casefold(reinterpret_cast<const utf8proc_uint8_t*>(input.c_str()));
  if (folded == nullptr) return input;  // invalid UTF-8: index it as it is
  std::string out(reinterpret_cast<char*>(folded));
  std::free(folded);
  return out;
}

bool IsWordChar(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO) ||
         (category >= UTF8PROC_CATEGORY_ND && category <= UTF8PROC_CATEGORY_NO) ||
         category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_MC;
}

bool IsDigit(uint32_t cp) { return cp >= '0' && cp <= '9'; }

void AppendCodePoint(uint32_t cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buffer);
  out->append(reinterpret_cast<char*>(buffer), static_cast<size_t>(n));
}

// Snowball's English stop words that carry no topic, sorted for binary search; "us" stays (the
// country), as do negations.
constexpr std::array<std::string_view, 113> kEnglishStopWords = {
    "a",       "about",   "above",  "after",  "again",   "against", "all",     "am",     "an",    "and",
    "any",     "are",     "as",     "at",     "be",      "because", "been",    "before", "being", "below",
    "between", "both",    "but",    "by",     "can",     "could",   "did",     "do",     "does",  "doing",
    "down",    "during",  "each",   "few",    "for",     "from",    "further", "had",    "has",   "have",
    "having",  "he",      "her",    "here",   "hers",    "herself", "him",     "himself", "his",  "how",
    "i",       "if",      "in",     "into",   "is",      "it",      "its",     "itself", "me",    "more",
    "most",    "my",      "myself", "of",     "off",     "on",      "once",    "only",   "or",    "other",
    "our",     "ours",    "out",    "over",   "own",     "same",    "she",     "should", "so",    "some",
    "such",    "than",    "that",   "the",    "their",   "them",    "then",    "there",  "these", "they",
    "this",    "those",   "through", "to",    "too",     "under",   "until",   "up",     "very",  "was",
    "we",      "were",    "what",   "when",   "where",   "which",   "while",   "who",    "whom",  "why",
    "will",    "with",    "you"};

bool IsAsciiWord(const std::string& word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

}  // namespace

static std::vector<std::string> LexicalTermsV1(std::string_view raw, bool join_broken_words, bool join_cjk_across_spacing);

std::vector<std::string> LexicalTerms(std::string_view raw, int version) {
  std::vector<std::string> terms = LexicalTermsV1(raw, version >= 3, version >= 5);
  if (version < 2) return terms;
  std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(sb_stemmer_new("english", "UTF_8"));
  std::vector<std::string> out;
  out.reserve(terms.size());
  for (std::string& term : terms) {
    if (IsAsciiWord(term)) {
      if (std::binary_search(kEnglishStopWords.begin(), kEnglishStopWords.end(), std::string_view(term))) continue;
      if (stemmer != nullptr) {
        const sb_symbol* stem =
            sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(term.data()), static_cast<int>(term.size()));
        if (stem != nullptr) term.assign(reinterpret_cast<const char*>(stem), static_cast<size_t>(sb_stemmer_length(stemmer.get())));
      }
    }
    out.push_back(std::move(term));
  }
  return out;
}

// Where a word broken across lines by a hyphenation mark goes on: after U+2043 (⁃, which PDF
// text extraction leaves where a line was hyphenated, "Deep⁃\nSeek") and whitespace holding a
// line break, at the next letter or digit; 0 when `at` is no such break.
size_t BrokenWordContinues(const std::vector<uint32_t>& cps, size_t at) {
  if (at >= cps.size() || cps[at] != 0x2043) return 0;
  size_t j = at + 1;
  bool line_break = false;
  for (; j < cps.size() && internal::IsSpace(cps[j]); ++j) {
    if (cps[j] == '\n') line_break = true;
  }
  return line_break && j < cps.size() && IsWordChar(cps[j]) && !internal::IsCjk(cps[j]) ? j : 0;
}

// Version 1: folding, CJK bigrams and words, nothing dropped or stemmed; version 3 also joins
// words broken across lines (`join_broken_words`); version 5 reads a run of CJK characters on
// across spacing between two of them (`join_cjk_across_spacing`).
static std::vector<std::string> LexicalTermsV1(std::string_view raw, bool join_broken_words, bool join_cjk_across_spacing) {
  const std::string text = Fold(raw);
  const internal::DecodedText decoded = internal::DecodeUtf8(text);
  const std::vector<uint32_t>& cps = decoded.code_points;
  std::vector<std::string> terms;
  const size_t n = cps.size();
  size_t i = 0;
  std::vector<uint32_t> run;
  while (i < n) {
    if (internal::IsCjk(cps[i])) {
      run.clear();
      size_t j = i;
      while (j < n) {
        if (internal::IsCjk(cps[j])) {
          run.push_back(cps[j++]);
          continue;
        }
        if (!join_cjk_across_spacing || !internal::IsSpace(cps[j])) break;
        size_t next = j;
        while (next < n && internal::IsSpace(cps[next])) ++next;
        if (next == n || !internal::IsCjk(cps[next])) break;
        j = next;
      }
      if (run.size() == 1) {
        std::string unigram;
        AppendCodePoint(run[0], &unigram);
        terms.push_back(std::move(unigram));
      }
      for (size_t k = 0; k + 1 < run.size(); ++k) {
        std::string bigram;
        AppendCodePoint(run[k], &bigram);
        AppendCodePoint(run[k + 1], &bigram);
        terms.push_back(std::move(bigram));
      }
      i = j;
      continue;
    }
    if (IsWordChar(cps[i])) {
      std::string word;
      size_t j = i;
      while (j < n) {
        if (IsWordChar(cps[j]) && !internal::IsCjk(cps[j])) {
          AppendCodePoint(cps[j], &word);
          ++j;
        } else if ((cps[j] == '.' || cps[j] == ',') && j > i && IsDigit(cps[j - 1]) && j + 1 < n && IsDigit(cps[j + 1])) {
          // 72.6 and 1,234 stay one number (the separator is kept only for the decimal point).
          if (cps[j] == '.') word.push_back('.');
          ++j;
        } else if (const size_t next = join_broken_words ? BrokenWordContinues(cps, j) : 0; next != 0) {
          j = next;
        } else {
          break;
        }
      }
      terms.push_back(std::move(word));
      i = j;
      continue;
    }
    ++i;
  }
  return terms;
}

}  // namespace memory
