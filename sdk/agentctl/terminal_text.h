// Text from models, documents, plans and file names on its way to a terminal: control
// characters made visible (so they are shown, never obeyed) and lengths cut at whole UTF-8
// characters (so a progress line stays one line).
#ifndef AGENTD_SDK_AGENTCTL_TERMINAL_TEXT_H_
#define AGENTD_SDK_AGENTCTL_TERMINAL_TEXT_H_

#include <cstddef>
#include <cstdio>
#include <string>

namespace agentctl {

// `text` with tabs and line breaks as spaces (line breaks kept with `keep_lines`) and other
// control characters (C0, DEL, C1) as "?".
std::string Printable(const std::string& text, bool keep_lines = false);
// `text` (line breaks kept) printable when `stream` is a terminal, as it is otherwise: a report
// printed to a terminal must not move its cursor, set its clipboard or hide a link behind other
// words (a document's title or sentence carries whatever bytes its author chose), while one
// piped to a file stays the artifact, byte for byte.
std::string ForStream(const std::string& text, std::FILE* stream);
// The first `max_chars` characters of `text`, printable, "…" after them when it was longer.
std::string Clip(const std::string& text, size_t max_chars);
// The last `max_chars` characters of `text`, printable, "…" before them when it was longer
// (for file names, whose ends tell them apart).
std::string ClipFront(const std::string& text, size_t max_chars);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_TERMINAL_TEXT_H_
