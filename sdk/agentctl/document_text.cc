#include "document_text.h"

#include <fcntl.h>
#include <iconv.h>
#include <poll.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "input_file.h"
#include "reader_sandbox.h"
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

// Whether a regular file opens with a PDF's header: a PDF under another name ("report", no
// extension) is read as one, by its own size limit rather than a text's. (Not a FIFO or a
// device: those are left for ReadInputFile to refuse without reading.)
bool StartsAsPdf(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::ifstream in(path, std::ios::binary);
  char head[5] = {};
  in.read(head, sizeof head);
  return in.gcount() == 5 && std::string(head, 5) == "%PDF-";
}

bool HasText(const std::string& text) { return text.find_first_not_of(" \t\r\n\f\v") != std::string::npos; }

std::string Mib(uint64_t bytes) { return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20)); }

absl::Status TooMuchText(const std::string& path, uint64_t bytes, uint64_t limit) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": its text is ", Mib(bytes), ", more than a document may hold (",
                                                 Mib(limit), "); split the file"));
}

// A page's text as UTF-8, converted here rather than by poppler's ustring::to_utf8, which loads
// an iconv module (a shared object) the confined reader may not map; a surrogate that pairs
// with none becomes U+FFFD.
std::string Utf8Of(const poppler::ustring& utf16) {
  std::string out;
  out.reserve(utf16.size());
  utf8proc_uint8_t encoded[4];
  for (size_t i = 0; i < utf16.size(); ++i) {
    utf8proc_int32_t cp = utf16[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < utf16.size() && utf16[i + 1] >= 0xDC00 && utf16[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (utf16[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    out.append(reinterpret_cast<const char*>(encoded), static_cast<size_t>(utf8proc_encode_char(cp, encoded)));
  }
  return out;
}

// poppler reports what it repairs in a damaged file on stderr; agentctl says what matters itself.
void IgnorePopplerMessage(const std::string&, void*) {}

// (poppler's messages are silenced by the caller, PdfTextChild, before its first document.)
absl::StatusOr<std::string> PdfText(const std::string& path, const std::string& bytes, uint64_t max_text_bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return absl::InvalidArgumentError(path + ": is larger than a PDF poppler reads (2 GiB)");
  }
  std::unique_ptr<poppler::document> pdf(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (pdf == nullptr) {
    return absl::InvalidArgumentError(path + ": is not a PDF that can be read (damaged, or not a PDF)");
  }
  if (pdf->is_locked()) {
    return absl::InvalidArgumentError(path + ": is an encrypted PDF; decrypt it first, e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf");
  }
  std::string text;
  for (int i = 0; i < pdf->pages(); ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (page == nullptr) continue;
    // Reading order with blocks apart by blank lines (a paragraph, a heading, a table's row run),
    // not the page's columns padded with spaces.
    std::string page_text = Utf8Of(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout));
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

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;  // their shadow memory does not fit under an address-space limit
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Runs `agentctl __pdf-text PATH` under the options' time and memory limits and reads its
// answer, at most max_text_bytes of text: the parser's work on a hostile file ends with the
// child, whatever it was.
absl::StatusOr<std::string> PdfTextInChild(const std::string& path, const DocumentTextOptions& options) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError(path + ": cannot start the PDF reader (" + std::strerror(errno) + ")");
  // Everything the child needs is made before fork: between fork and exec it may only make
  // system calls (agentctl has threads).
  const char* argv[] = {"agentctl", "__pdf-text", path.c_str(), nullptr};
  // The child keeps no descriptor of agentctl's but its answer's pipe: standard input and
  // standard error become /dev/null (agentctl's terminal would let a reader's exploit read what
  // the user types and draw on the screen), and everything else is closed (a pipe inherited
  // from agentctl's own parent could be reopened through /proc/self/fd).
  const int null_device = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_device < 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError(path + ": cannot start the PDF reader (/dev/null: " + std::strerror(errno) + ")");
  }
  rlimit cpu{static_cast<rlim_t>(options.pdf_seconds), static_cast<rlim_t>(options.pdf_seconds) + 1};
  rlimit memory{static_cast<rlim_t>(options.pdf_memory_bytes), static_cast<rlim_t>(options.pdf_memory_bytes)};
  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    close(null_device);
    return absl::InternalError(path + ": cannot start the PDF reader (" + std::strerror(errno) + ")");
  }
  if (pid == 0) {
    dup2(null_device, STDIN_FILENO);  // (dup2 clears close-on-exec on the copy)
    dup2(out[1], STDOUT_FILENO);
    dup2(null_device, STDERR_FILENO);
    close_range(3, ~0u, 0);
    setrlimit(RLIMIT_CPU, &cpu);
    if (!kSanitized) setrlimit(RLIMIT_AS, &memory);
    execv("/proc/self/exe", const_cast<char* const*>(argv));
    _exit(127);
  }
  close(out[1]);
  close(null_device);
  const uint64_t most = options.max_text_bytes + 64;  // the text and the answer's first line
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.pdf_seconds + 5);
  std::string answer;
  bool timed_out = false, too_long = false;
  char buffer[1 << 16];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd ready{out[0], POLLIN, 0};
    const int polled = poll(&ready, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (polled < 0 && errno != EINTR) break;
    if (polled <= 0) continue;
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
    if (answer.size() > most) {
      too_long = true;
      break;
    }
  }
  close(out[0]);
  if (timed_out || too_long) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (too_long) return TooMuchText(path, answer.size(), options.max_text_bytes);
  const bool out_of_time = timed_out || (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU);
  if (out_of_time) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": took more than ", options.pdf_seconds,
                                                   " s to read (a damaged or hostile PDF?)"));
  }
  if (WIFEXITED(status) && answer.rfind("OK\n", 0) == 0) return answer.substr(3);
  if (WIFEXITED(status) && answer.rfind("ERR\n", 0) == 0) return absl::InvalidArgumentError(answer.substr(4));
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
    return absl::InvalidArgumentError(path + ": the PDF reader tried what reading a PDF never needs (a system call its sandbox "
                                             "refuses) and was stopped: a hostile PDF?");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return absl::InternalError(path + ": cannot start the PDF reader (/proc/self/exe)");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": the PDF reader stopped (",
      WIFSIGNALED(status) ? absl::StrCat("signal ", WTERMSIG(status)) : absl::StrCat("exit ", WEXITSTATUS(status)),
      ") within ", Mib(options.pdf_memory_bytes), " of memory: a damaged or hostile PDF?"));
}

}  // namespace

int PdfTextChild(const std::string& path, const DocumentTextOptions& options) {
  auto answer = [](const std::string& head, const std::string& body) {
    std::fwrite(head.data(), 1, head.size(), stdout);
    std::fwrite(body.data(), 1, body.size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 1;
  };
  absl::StatusOr<std::string> bytes = ReadInputFile(path, options.max_file_bytes, "a PDF to read");
  if (!bytes.ok()) return answer("ERR\n", std::string(bytes.status().message()));
  // The file is read; parsing it needs nothing more than memory and standard output
  // (reader_sandbox.h), once what poppler loads on first use is loaded: page::text hands its
  // UTF-8 to ustring::from_utf8, an iconv to UTF-16 whose module (a shared object, mapped
  // executable) glibc keeps while a descriptor for it is open; the time zone a document's
  // dates are read in; and poppler's global state, which scans poppler-data's directories
  // (stating files by path, which the confined reader may not) when a first document is made
  // and lives while one does: a document of our own, one empty page, held open.
  const iconv_t utf16 = iconv_open("UTF-16", "UTF-8");
  tzset();
  poppler::set_debug_error_function(IgnorePopplerMessage, nullptr);
  static constexpr std::string_view kEmptyPdf =
      "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
      "2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
      "3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 10 10]>> endobj\n"
      "trailer <</Root 1 0 R>>\n%%EOF\n";
  const std::unique_ptr<poppler::document> globals_held(
      poppler::document::load_from_raw_data(kEmptyPdf.data(), static_cast<int>(kEmptyPdf.size())));
  if (!kSanitized) {
    if (absl::Status confined = ConfineReader({}); !confined.ok()) {
      return answer("ERR\n", path + ": " + std::string(confined.message()) +
                                  "; PDFs are parsed only confined, and this kernel or container allows no seccomp filter: "
                                  "convert the file to text where it does (e.g. pdftotext -layout FILE.pdf) and ingest that");
    }
  }
  absl::StatusOr<std::string> text = PdfText(path, *bytes, options.max_text_bytes);
  if (utf16 != reinterpret_cast<iconv_t>(-1)) iconv_close(utf16);
  if (!text.ok()) return answer("ERR\n", std::string(text.status().message()));
  return answer("OK\n", *text);
}

bool IsDocumentFile(const std::string& path) {
  const std::string extension = LowerExtension(path);
  return extension == ".txt" || extension == ".text" || KindByName(path) != Kind::kText;
}

absl::StatusOr<DocumentText> ReadDocumentText(const std::string& path, const DocumentTextOptions& options) {
  DocumentText doc;
  auto read_pdf = [&]() -> absl::StatusOr<DocumentText> {
    absl::StatusOr<std::string> text = PdfTextInChild(path, options);
    if (!text.ok()) return text.status();
    doc.text = std::move(*text);
    return doc;
  };
  const Kind kind = KindByName(path);
  if (kind == Kind::kPdf || StartsAsPdf(path)) return read_pdf();  // (the child reads the file)
  absl::StatusOr<std::string> bytes = ReadInputFile(path, kind == Kind::kHtml ? options.max_file_bytes : options.max_text_bytes,
                                                    kind == Kind::kHtml ? "an HTML file to read" : "a document");
  if (!bytes.ok()) return bytes.status();

  switch (kind) {
    case Kind::kHtml: {
      if (const long bad = FirstInvalidUtf8(*bytes); bad >= 0) {
        return absl::InvalidArgumentError(path + ": is not UTF-8 HTML (invalid byte at offset " + std::to_string(bad) +
                                          "); convert it first, e.g. iconv -f GBK -t UTF-8");
      }
      tools::PageText page = tools::HtmlToText(*bytes);
      if (!HasText(page.text)) return absl::InvalidArgumentError(path + ": has no text");
      if (page.text.size() > options.max_text_bytes) return TooMuchText(path, page.text.size(), options.max_text_bytes);
      if (const long bad = FirstInvalidUtf8(page.text); bad >= 0) {  // (what an entity could spell)
        return absl::InvalidArgumentError(path + ": its text is not UTF-8 (invalid byte at offset " + std::to_string(bad) + ")");
      }
      doc.text = std::move(page.text);
      // The title on one line, its spacing collapsed; a blank one, or one longer than a
      // document's may be (1 KiB), is left to the daemon to name from the text.
      std::string title;
      for (const char c : page.title) {
        const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
        if (space && (title.empty() || title.back() == ' ')) continue;
        title += space ? ' ' : c;
      }
      while (!title.empty() && title.back() == ' ') title.pop_back();
      if (title.size() <= 1024 && FirstInvalidUtf8(title) < 0) doc.title = std::move(title);
      return doc;
    }
    case Kind::kPdf:
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
