#include "memory/lexical.h"

#include <utf8proc.h>

#include <cstdlib>

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

}  // namespace

std::vector<std::string> LexicalTerms(std::string_view raw) {
  const std::string text = Fold(raw);
  const internal::DecodedText decoded = internal::DecodeUtf8(text);
  const std::vector<uint32_t>& cps = decoded.code_points;
  std::vector<std::string> terms;
  const size_t n = cps.size();
  size_t i = 0;
  while (i < n) {
    if (internal::IsCjk(cps[i])) {
      size_t j = i;
      while (j < n && internal::IsCjk(cps[j])) ++j;
      if (j - i == 1) {
        std::string unigram;
        AppendCodePoint(cps[i], &unigram);
        terms.push_back(std::move(unigram));
      }
      for (size_t k = i; k + 1 < j; ++k) {
        std::string bigram;
        AppendCodePoint(cps[k], &bigram);
        AppendCodePoint(cps[k + 1], &bigram);
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
