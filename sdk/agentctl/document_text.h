// The text `agentctl memory ingest` sends for a file, read by what the file is: UTF-8 text and
// Markdown as they are; HTML as web_fetch reads a page (tools::HtmlToText; its <title> names the
// document); PDF from its text layer with poppler, page by page, its blocks apart by blank lines,
// as the research reports this product is for usually come. The daemon takes text only: a PDF's
// parser runs here, in the process of the person who named the file, never in the daemon that
// serves every tenant.
//
//   absl::StatusOr<DocumentText> doc = ReadDocumentText("q3_report.pdf");
//   if (!doc.ok()) return Fail(doc.status());  // "scan.pdf: has no text layer (a scanned PDF?) ..."
//   request.add_documents()->set_text(doc->text);
#ifndef AGENTD_SDK_AGENTCTL_DOCUMENT_TEXT_H_
#define AGENTD_SDK_AGENTCTL_DOCUMENT_TEXT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "agentd/v1/memory.pb.h"

namespace agentctl {

struct DocumentText {
  std::string text;
  // Empty: the daemon names the document from its text (agentd.v1.Document.title).
  std::string title;
  agentd::v1::ContentType content_type = agentd::v1::CONTENT_TYPE_TEXT;
};

struct DocumentTextOptions {
  // The most text a document may hold (agentd.v1.Document.text). Default 8 MiB.
  uint64_t max_text_bytes = 8u << 20;
  // The largest PDF or HTML file read (its text is usually a small part of it). Default 256 MiB.
  uint64_t max_file_bytes = 256u << 20;
  // A PDF is read in a child process (this program again, as `agentctl __pdf-text FILE`) that
  // may take this long and this much memory: a few kilobytes of compressed content or nested
  // forms can spell gigabytes of text and hours of work, and a file from the web can be built to.
  // Defaults: 120 s, 4 GiB.
  int pdf_seconds = 120;
  uint64_t pdf_memory_bytes = 4ull << 30;
};

// A PDF is known by its extension or by its "%PDF-" header, HTML by its extension (.html, .htm,
// .xhtml), Markdown by .md or .markdown; anything else is read as UTF-8 text. INVALID_ARGUMENT
// naming the path, with what to do about it, for text that is not UTF-8, a file with no text (a
// scanned PDF among them), a PDF that cannot be read or is encrypted, and text over the limit;
// NOT_FOUND when the file cannot be opened.
absl::StatusOr<DocumentText> ReadDocumentText(const std::string& path, const DocumentTextOptions& options = {});

// The child's side of reading a PDF: writes "OK\n" and the text, or "ERR\n" and the reason, to
// standard output, and returns the exit status. main() runs it for `agentctl __pdf-text FILE`.
int PdfTextChild(const std::string& path, const DocumentTextOptions& options = {});

// Whether `path` names, by its extension, a kind of file ReadDocumentText reads as more than
// plain bytes or as text by name (.txt, .text, .md, .markdown, .html, .htm, .xhtml, .pdf): what a
// directory given to `memory ingest` contributes.
bool IsDocumentFile(const std::string& path);

}  // namespace agentctl

#endif  // AGENTD_SDK_AGENTCTL_DOCUMENT_TEXT_H_
