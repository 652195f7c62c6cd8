// Calls Oniguruma without gtest in the same file: oniguruma.h and glibc's <regex.h> (which
// gtest includes) both define struct re_registers.
#include "dependencies/oniguruma_probe.h"

#include <oniguruma.h>

#include <cstring>

int FirstLetterRun(const char* text, int* length) {
  OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
  onig_initialize(encodings, 1);
  const char* pattern = "\\p{L}+";
  regex_t* regex = nullptr;
  OnigErrorInfo info;
  if (onig_new(&regex, reinterpret_cast<const OnigUChar*>(pattern),
               reinterpret_cast<const OnigUChar*>(pattern + std::strlen(pattern)), ONIG_OPTION_NONE,
               ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info) != ONIG_NORMAL) {
    return -2;
  }
  OnigRegion* region = onig_region_new();
  const auto* start = reinterpret_cast<const OnigUChar*>(text);
  const auto* end = start + std::strlen(text);
  int at = onig_search(regex, start, end, start, end, region, ONIG_OPTION_NONE);
  *length = at >= 0 ? region->end[0] - region->beg[0] : 0;
  onig_region_free(region, 1);
  onig_free(regex);
  onig_end();
  return at;
}
