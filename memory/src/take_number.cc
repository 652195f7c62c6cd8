#include "take_number.h"

#include <cctype>
#include <string>
#include <utility>

namespace memory::internal {
namespace {

// The digit a Chinese numeral from 一 to 九 (两 for 二) at the front of `text` writes, taken off
// it; 0 when there is none.
int TakeDigit(std::string_view& text) {
  static constexpr std::pair<std::string_view, int> kDigits[] = {{"一", 1}, {"二", 2}, {"两", 2}, {"三", 3}, {"四", 4},
                                                                 {"五", 5}, {"六", 6}, {"七", 7}, {"八", 8}, {"九", 9}};
  for (const auto& [numeral, value] : kDigits) {
    if (text.starts_with(numeral)) {
      text.remove_prefix(numeral.size());
      return value;
    }
  }
  return 0;
}

}  // namespace

int TakeNumber(std::string_view& text) {
  size_t digits = 0;
  while (digits < text.size() && digits < 3 && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits > 0) {
    const int value = std::stoi(std::string(text.substr(0, digits)));
    text.remove_prefix(digits);
    return value;
  }
  static constexpr std::string_view kTen = "十";
  int value = TakeDigit(text);
  if (text.starts_with(kTen)) {
    text.remove_prefix(kTen.size());
    value = (value == 0 ? 1 : value) * 10 + TakeDigit(text);
  }
  return value;
}

}  // namespace memory::internal
