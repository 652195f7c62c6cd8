// A byte-at-a-time recogniser for quote-grounded text: a sequence of units, each one of the
// given sentences copied byte for byte and followed by its own citation "[n]", units joined by
// a fixed separator, each sentence used at most once, between min_units and max_units units.
// The citation is part of the unit, so a sentence can only ever be cited to the passage it
// came from.
//
// There is no trie: the units (sentence + "[n]") are kept sorted, so the units that share the
// bytes read so far are one contiguous range, narrowed by binary search on the next byte. A
// sentence holds no '[' (QuoteSet::Create refuses one), hence no unit is a prefix of another
// and a unit is complete exactly when the range's first unit has been read to its end.
#ifndef AGENTD_ENGINE_CONSTRAINT_QUOTE_MATCHER_H_
#define AGENTD_ENGINE_CONSTRAINT_QUOTE_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/constraint.h"

namespace engine::constraint {

// The immutable part, shared by every copy of a matcher.
struct QuoteSet {
  std::vector<std::string> units;  // sorted: sentence bytes + "[n]"
  std::vector<int> sentence_of;    // per unit: index of its sentence text (equal texts share one)
  int sentences = 0;
  std::string separator;
  int min_units = 1;
  int max_units = 1;

  // INVALID_ARGUMENT naming the field for an empty list, an empty sentence, one with '[' or
  // ']', a citation below 1 or bounds that cannot be met.
  static absl::StatusOr<std::shared_ptr<const QuoteSet>> Create(const ResponseConstraint& spec);
};

class QuoteMatcher {
 public:
  explicit QuoteMatcher(std::shared_ptr<const QuoteSet> set);

  bool Accept(uint8_t byte);
  bool IsComplete() const;

 private:
  bool Unused(int lo, int hi) const;

  std::shared_ptr<const QuoteSet> set_;
  // Sentences already written; copied on write (a unit completes rarely, a matcher is copied
  // for every token the mask examines).
  std::shared_ptr<const std::vector<bool>> used_;
  int units_done_ = 0;
  bool in_unit_ = false;
  size_t separator_pos_ = 0;  // bytes of the separator read after the last unit
  int lo_ = 0, hi_ = 0;       // units matching the bytes of the current unit so far
  size_t depth_ = 0;          // bytes of the current unit read
};

}  // namespace engine::constraint

#endif  // AGENTD_ENGINE_CONSTRAINT_QUOTE_MATCHER_H_
