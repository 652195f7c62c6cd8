// Confines the process that parses a file someone else wrote (`agentctl __pdf-text`, see
// document_text.h) to what parsing needs, so that a memory-safety bug in the parser, reached by a
// forged PDF, gains an attacker nothing beyond the text it may write back: after
// ConfineReader() the process computes on the memory it has, grows or returns that memory
// (never executable), writes to its standard output and standard error, learns the status of
// what it has open (not of a path), and opens files only to read them, only under
// `readable_dirs` (and only where the kernel has Landlock; elsewhere it opens none). What an
// exploit needs next — exec, fork, a thread, a socket, a pipe, signalling or tracing another
// process, executable memory, a write to another descriptor — ends the process with SIGSYS; any
// other system call fails with ENOSYS, so that a library's incidental call (glibc's qsort asks
// sysinfo, fontconfig calls access) fails as on an older kernel instead of ending the reading
// of an ordinary PDF. The rlimits the parent sets bound its time and memory; this bounds its
// reach. The caller makes standard input and standard error /dev/null and closes every other
// descriptor first (what is open stays readable).
//
//   absl::StatusOr<std::string> bytes = ReadInputFile(path, ...);  // everything read first
//   if (absl::Status confined = ConfineReader({}); !confined.ok()) return Fail(confined);
//   ... parse *bytes ...
#ifndef AGENTD_SDK_AGENTCTL_READER_SANDBOX_H_
#define AGENTD_SDK_AGENTCTL_READER_SANDBOX_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace agentctl {

struct ReaderSandboxOptions {
  // Directories whose files stay readable (with Landlock): poppler's CMaps and unicode maps,
  // which poppler-data installs and a CJK PDF without its own ToUnicode table needs. A directory
  // that does not exist is passed over. Default: /usr/share/poppler.
  std::vector<std::string> readable_dirs = {"/usr/share/poppler"};
};

// Irreversible for this process (and any it would start). INTERNAL when the kernel refuses the
// seccomp filter (no seccomp): the caller must not parse then. Landlock missing is not an
// error: files are then not opened at all.
absl::Status ConfineReader(const ReaderSandboxOptions& options);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_READER_SANDBOX_H_
