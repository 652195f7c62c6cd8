#ifndef AGENTD_TESTS_DEPENDENCIES_ONIGURUMA_PROBE_H_
#define AGENTD_TESTS_DEPENDENCIES_ONIGURUMA_PROBE_H_

// Byte offset of the first run of letters (\p{L}+) in UTF-8 `text`, its byte length in *length;
// -1 when there is none.
int FirstLetterRun(const char* text, int* length);

#endif
