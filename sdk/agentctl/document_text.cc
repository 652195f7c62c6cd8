#include "document_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "input_file.h"
#include "tools/html_text.h"

namespace agentctl {
namespace {

enum class Kind { kText, kMarkdown, kHtml, kPdf };

std::string LowerExtension(const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension;
}

Kind KindByName(const std::string& path) {
  const std::string extension = LowerExtension(path);
  if (extension == ".pdf") return Kind::kPdf;
  if (extension == ".html" || extension == ".htm" || extension == ".xhtml") return Kind::kHtml;
  if (extension == ".md" || extension == ".markdown") return Kind::kMarkdown;
  return Kind::kText;
}

// The byte offset of the first invalid UTF-8 sequence, or -1 when the text is valid.
long FirstInvalidUtf8(const std::string& text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto size = static_cast<utf8proc_ssize_t>(text.size());
  for (utf8proc_ssize_t at = 0; at < size;) {
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + at, size - at, &cp);
    if (n <= 0) return static_cast<long>(at);
    at += n;
  }
  return -1;
}

bool HasText(const std::string& text) { return text.find_first_not_of(" \t\r\n\f\v") != std::string::npos; }

std::string Mib(uint64_t bytes) { return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

absl::Status TooMuchText(const std::string& path, uint64_t bytes, uint64_t limit) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": its text is ", Mib(bytes), ", more than a document may hold (",
                                                 Mib(limit), "); split the file"));
}

// poppler reports what it repairs in a damaged file on stderr; agentctl says what matters itself.
void IgnorePopplerMessage(const std::string&, void*) {}

absl::StatusOr<std::string> PdfText(const std::string& path, const std::string& bytes, uint64_t max_text_bytes) {
  poppler::set_debug_error_function(IgnorePopplerMessage, nullptr);
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (pdf == nullptr) {
    return absl::InvalidArgumentError(path + ": is not a PDF that can be read (damaged, or not a PDF)");
  }
  if (pdf->is_locked()) {
    return absl::InvalidArgumentError(path + ": is an encrypted PDF; decrypt it first, e.g. qpdf --decrypt");
  }
  std::string text;
  for (int i = 0; i < pdf->pages(); ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (page == nullptr) continue;
    // Reading order with blocks apart by blank lines (a paragraph, a heading, a table's row run),
    // not the page's columns padded with spaces.
    const poppler::byte_array utf8 =
        page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
    std::string page_text(utf8.begin(), utf8.end());
    page_text.erase(std::remove(page_text.begin(), page_text.end(), '\f'), page_text.end());
    if (!HasText(page_text)) continue;
    if (!text.empty()) text += "\n\n";
    text += page_text;
    if (text.size() > max_text_bytes) return TooMuchText(path, text.size(), max_text_bytes);
  }
  if (!HasText(text)) {
    return absl::InvalidArgumentError(path + ": has no text layer (a scanned PDF?); run OCR on it first, e.g. ocrmypdf");
  }
  if (const long bad = FirstInvalidUtf8(text); bad >= 0) {
    return absl::InvalidArgumentError(path + ": its text layer is not UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
  }
  return text;
}

}  // namespace

bool IsDocumentFile(const std::string& path) {
  const std::string extension = LowerExtension(path);
  return extension == ".txt" || extension == ".text" || KindByName(path) != Kind::kText;
}

absl::StatusOr<DocumentText> ReadDocumentText(const std::string& path, const DocumentTextOptions& options) {
  Kind kind = KindByName(path);
  const bool converted = kind == Kind::kPdf || kind == Kind::kHtml;
  absl::StatusOr<std::string> bytes = ReadInputFile(path, converted ? options.max_file_bytes : options.max_text_bytes,
                                                    kind == Kind::kPdf ? "a PDF to read" : converted ? "an HTML file to read" : "a document");
  if (!bytes.ok()) return bytes.status();
  if (bytes->rfind("%PDF-", 0) == 0) kind = Kind::kPdf;  // a PDF under another name

  DocumentText doc;
  switch (kind) {
    case Kind::kPdf: {
      absl::StatusOr<std::string> text = PdfText(path, *bytes, options.max_text_bytes);
      if (!text.ok()) return text.status();
      doc.text = std::move(*text);
      return doc;
    }
    case Kind::kHtml: {
      if (const long bad = FirstInvalidUtf8(*bytes); bad >= 0) {
        return absl::InvalidArgumentError(path + ": is not UTF-8 HTML (invalid byte at offset " + std::to_string(bad) +
                                          "); convert it first, e.g. iconv -f GBK -t UTF-8");
      }
      tools::PageText page = tools::HtmlToText(*bytes);
      if (!HasText(page.text)) return absl::InvalidArgumentError(path + ": has no text");
      if (page.text.size() > options.max_text_bytes) return TooMuchText(path, page.text.size(), options.max_text_bytes);
      doc.text = std::move(page.text);
      // A title longer than a document's may be (1 KiB) is left to the daemon to name.
      if (page.title.size() <= 1024 && FirstInvalidUtf8(page.title) < 0) doc.title = std::move(page.title);
      return doc;
    }
    case Kind::kText:
    case Kind::kMarkdown:
      break;
  }
  if (const long bad = FirstInvalidUtf8(*bytes); bad >= 0) {
    return absl::InvalidArgumentError(path + ": is not UTF-8 text (invalid byte at offset " + std::to_string(bad) +
                                      "); convert it first, e.g. iconv -f GBK -t UTF-8");
  }
  if (!HasText(*bytes)) return absl::InvalidArgumentError(path + ": has no text");
  doc.text = std::move(*bytes);
  doc.content_type = kind == Kind::kMarkdown ? agentd::v1::CONTENT_TYPE_MARKDOWN : agentd::v1::CONTENT_TYPE_TEXT;
  return doc;
}

}  // namespace agentctl
