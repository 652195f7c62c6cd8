#include "ingest_files.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "document_text.h"

namespace agentctl {
namespace {

namespace fs = std::filesystem;

uint64_t SizeOf(const fs::path& path) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

bool Hidden(const fs::path& name) { return !name.empty() && name.string()[0] == '.'; }

// The document files below `directory`, sorted by their path under it.
absl::StatusOr<std::vector<IngestFile>> FilesBelow(const std::string& directory) {
  std::vector<IngestFile> out;
  std::error_code error;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, error);
  if (error) return absl::InvalidArgumentError(absl::StrCat(directory, ": cannot be listed (", error.message(), ")"));
  for (const fs::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) return absl::InvalidArgumentError(absl::StrCat(directory, ": cannot be listed (", error.message(), ")"));
    const fs::directory_entry& entry = *it;
    if (Hidden(entry.path().filename())) {
      if (entry.is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    // (A link to a directory is not followed: the iterator does not by default. A link to a
    // file is the file.)
    if (!entry.is_regular_file(error) || !IsDocumentFile(entry.path().string())) continue;
    IngestFile file;
    file.path = entry.path().string();
    file.id = entry.path().lexically_relative(directory).generic_string();
    file.bytes = SizeOf(entry.path());
    out.push_back(std::move(file));
  }
  std::sort(out.begin(), out.end(), [](const IngestFile& a, const IngestFile& b) { return a.id < b.id; });
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(directory, ": holds no text, Markdown, HTML or PDF file"));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<IngestFile>> ListIngestFiles(const std::vector<std::string>& paths) {
  std::vector<IngestFile> out;
  std::set<std::string> taken;                // canonical paths: the same file once
  std::map<std::string, std::string> owner;   // id → the path stored under it
  auto take = [&](IngestFile file) -> absl::Status {
    std::error_code error;
    const fs::path canonical = fs::weakly_canonical(file.path, error);
    const std::string key = error ? file.path : canonical.string();
    if (!taken.insert(key).second) return absl::OkStatus();
    const auto [at, fresh] = owner.emplace(file.id, file.path);
    if (!fresh) {
      return absl::InvalidArgumentError(absl::StrCat(at->second, " and ", file.path, " would both be stored as \"", file.id,
                                                     "\" (the second replacing the first); ingest their directory, "
                                                     "whose paths below it tell them apart, or rename one"));
    }
    out.push_back(std::move(file));
    return absl::OkStatus();
  };
  for (const std::string& path : paths) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    if (fs::is_directory(status)) {
      absl::StatusOr<std::vector<IngestFile>> below = FilesBelow(path);
      if (!below.ok()) return below.status();
      for (IngestFile& file : *below) {
        if (absl::Status taken_status = take(std::move(file)); !taken_status.ok()) return taken_status;
      }
      continue;
    }
    // Anything else named is read as a file: ReadInputFile refuses a FIFO or a device by itself,
    // as it refuses it for every other command.
    IngestFile file;
    file.path = path;
    file.id = fs::path(path).filename().string();
    file.bytes = SizeOf(path);
    if (absl::Status taken_status = take(std::move(file)); !taken_status.ok()) return taken_status;
  }
  return out;
}

}  // namespace agentctl
