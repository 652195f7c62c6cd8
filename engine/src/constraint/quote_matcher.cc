#include "constraint/quote_matcher.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace engine::constraint {

absl::StatusOr<std::shared_ptr<const QuoteSet>> QuoteSet::Create(const ResponseConstraint& spec) {
  if (spec.quotes.empty()) return absl::InvalidArgumentError("quote: no sentences given (the passages had none to quote)");
  auto set = std::make_shared<QuoteSet>();
  std::map<std::string, int> sentence_index;
  std::vector<std::pair<std::string, int>> units;
  for (size_t i = 0; i < spec.quotes.size(); ++i) {
    const Quote& quote = spec.quotes[i];
    const std::string field = absl::StrCat("quote.sentences[", i, "]");
    if (quote.text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ".text: is empty"));
    if (quote.text.find_first_of("[]") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".text: contains '[' or ']', which only citations may use"));
    }
    if (quote.citation < 1) return absl::InvalidArgumentError(absl::StrCat(field, ".citation: must be at least 1"));
    auto [it, inserted] = sentence_index.emplace(quote.text, static_cast<int>(sentence_index.size()));
    units.emplace_back(absl::StrCat(quote.text, "[", quote.citation, "]"), it->second);
  }
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  for (auto& [unit, sentence] : units) {
    set->units.push_back(std::move(unit));
    set->sentence_of.push_back(sentence);
  }
  set->sentences = static_cast<int>(sentence_index.size());
  set->separator = spec.quote_separator;
  set->min_units = std::max(1, spec.min_units);
  set->max_units = spec.max_units > 0 ? std::min(spec.max_units, set->sentences) : set->sentences;
  if (set->min_units > set->max_units) {
    return absl::InvalidArgumentError(absl::StrCat("quote.min_units: ", set->min_units, " is more than the ",
                                                   set->max_units, " sentences that may be written"));
  }
  return std::shared_ptr<const QuoteSet>(std::move(set));
}

QuoteMatcher::QuoteMatcher(std::shared_ptr<const QuoteSet> set)
    : set_(std::move(set)), used_(std::make_shared<const std::vector<bool>>(set_->sentences, false)) {}

bool QuoteMatcher::Unused(int lo, int hi) const {
  for (int u = lo; u < hi; ++u) {
    if (!(*used_)[set_->sentence_of[u]]) return true;
  }
  return false;
}

bool QuoteMatcher::Accept(uint8_t byte) {
  if (!in_unit_) {
    if (units_done_ >= set_->max_units) return false;
    if (units_done_ > 0 && separator_pos_ < set_->separator.size()) {
      if (static_cast<uint8_t>(set_->separator[separator_pos_]) != byte) return false;
      ++separator_pos_;
      return true;
    }
    in_unit_ = true;
    lo_ = 0;
    hi_ = static_cast<int>(set_->units.size());
    depth_ = 0;
  }
  // Within [lo_, hi_) every unit is longer than depth_ (none is a prefix of another) and the
  // units are sorted by their byte at depth_.
  const auto& units = set_->units;
  auto byte_at = [&](int u) { return static_cast<uint8_t>(units[u][depth_]); };
  int lo = lo_, hi = hi_;
  {
    int a = lo, b = hi;  // first unit whose byte is >= byte
    while (a < b) {
      const int mid = (a + b) / 2;
      if (byte_at(mid) < byte) a = mid + 1; else b = mid;
    }
    lo = a;
    b = hi;  // first unit whose byte is > byte
    while (a < b) {
      const int mid = (a + b) / 2;
      if (byte_at(mid) <= byte) a = mid + 1; else b = mid;
    }
    hi = a;
  }
  if (lo >= hi || !Unused(lo, hi)) return false;
  lo_ = lo;
  hi_ = hi;
  ++depth_;
  if (units[lo_].size() == depth_) {
    auto used = std::make_shared<std::vector<bool>>(*used_);
    (*used)[set_->sentence_of[lo_]] = true;
    used_ = std::move(used);
    ++units_done_;
    in_unit_ = false;
    separator_pos_ = 0;
  }
  return true;
}

bool QuoteMatcher::IsComplete() const {
  return !in_unit_ && separator_pos_ == 0 && units_done_ >= set_->min_units;
}

}  // namespace engine::constraint
