// The files `agentctl memory ingest` takes from its command line, and the document id each is
// stored under. A named file is taken whatever it is called, under its file name; a named
// directory contributes every text, Markdown, HTML and PDF file below it (document_text.h's
// IsDocumentFile; hidden entries and links to directories passed over), in path order, each under
// its path relative to that directory ("2024/q3.pdf"), so that two reports both called
// summary.pdf in different folders stay two documents. Ingesting an id again replaces its
// document, so two different files that would share an id are refused before anything is sent.
//
//   absl::StatusOr<std::vector<IngestFile>> files = ListIngestFiles({"reports/", "notes.md"});
//   for (const IngestFile& f : *files) ... f.path, f.id, f.bytes ...
#ifndef AGENTD_SDK_AGENTCTL_INGEST_FILES_H_
#define AGENTD_SDK_AGENTCTL_INGEST_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace agentctl {

struct IngestFile {
  std::string path;  // as given, or the directory given joined with the path below it
  std::string id;    // the document id it is stored under
  uint64_t bytes = 0;
};

// NOT_FOUND for a path that does not exist; INVALID_ARGUMENT for a directory holding no document
// file or that cannot be listed, and for two different files that would be stored under one id
// (naming both). The same file named twice is taken once. Anything else named (a FIFO, a device)
// is listed as a file, for the reading to refuse.
absl::StatusOr<std::vector<IngestFile>> ListIngestFiles(const std::vector<std::string>& paths);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_INGEST_FILES_H_
