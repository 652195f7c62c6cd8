#include "tokenizer/regex_splitter.h"

#include <oniguruma.h>

#include <mutex>

#include "absl/strings/str_cat.h"

namespace engine::tokenizer {
namespace {

void InitializeOnigurumaOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

class OnigurumaSplitter final : public RegexSplitter {
 public:
  explicit OnigurumaSplitter(regex_t* regex) : regex_(regex) {}
  ~OnigurumaSplitter() override { onig_free(regex_); }

  // Searching is re-entrant: the compiled regex is read-only and each call has its own region.
  void FindMatches(const std::string& text, std::vector<std::pair<size_t, size_t>>* matches) const override {
    matches->clear();
    const auto* begin = reinterpret_cast<const OnigUChar*>(text.data());
    const auto* end = begin + text.size();
    OnigRegion* region = onig_region_new();
    size_t position = 0;
    while (position <= text.size()) {
      int at = onig_search(regex_, begin, end, begin + position, end, region, ONIG_OPTION_NONE);
      if (at < 0) break;
      const size_t match_begin = static_cast<size_t>(region->beg[0]);
      const size_t match_end = static_cast<size_t>(region->end[0]);
      if (match_end > match_begin) {
        matches->emplace_back(match_begin, match_end);
        position = match_end;
      } else {
        // An empty match: step over one character and search again.
        if (match_begin >= text.size()) break;
        size_t step = 1;
        const auto lead = static_cast<unsigned char>(text[match_begin]);
        if (lead >= 0xf0) step = 4;
        else if (lead >= 0xe0) step = 3;
        else if (lead >= 0xc0) step = 2;
        position = match_begin + step;
      }
    }
    onig_region_free(region, 1);
  }

 private:
  regex_t* regex_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RegexSplitter>> RegexSplitter::Create(const std::string& pattern) {
  InitializeOnigurumaOnce();
  regex_t* regex = nullptr;
  OnigErrorInfo error_info;
  const auto* begin = reinterpret_cast<const OnigUChar*>(pattern.data());
  int result = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                        ONIG_SYNTAX_DEFAULT, &error_info);
  if (result != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, result, &error_info);
    return absl::InvalidArgumentError(absl::StrCat("regex \"", pattern, "\": ", reinterpret_cast<char*>(message)));
  }
  return std::unique_ptr<RegexSplitter>(new OnigurumaSplitter(regex));
}

}  // namespace engine::tokenizer
