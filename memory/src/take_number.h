// A small number written at the front of a text, in digits or Chinese numerals, taken off it:
// a month's or a quarter's ("5月", "十二月", "前三季度") for the sentence ranker, an ordinal's
// ("第二类", "第 20 届") for versioned names.
//
//   std::string_view rest = "十二月31日";
//   const int month = TakeNumber(rest);   // 12, rest == "月31日"
#ifndef AGENTD_MEMORY_TAKE_NUMBER_H_
#define AGENTD_MEMORY_TAKE_NUMBER_H_

#include <string_view>

namespace memory::internal {

// Up to three digits ("5", "12"), or a Chinese numeral from 一 to 九十九 ("五", "两", "十二",
// "二十三"); 0 when `text` opens on neither (then `text` is left as it was).
int TakeNumber(std::string_view& text);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_TAKE_NUMBER_H_
