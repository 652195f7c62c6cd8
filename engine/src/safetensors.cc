#include "engine/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Headers of real checkpoints are well under this; anything larger is corrupt.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::optional<DType> ParseDType(const std::string& name) {
  if (name == "F32") return DType::kF32;
  if (name == "BF16") return DType::kBF16;
  if (name == "F16") return DType::kF16;
  if (name == "F8_E4M3") return DType::kF8E4M3;
  return std::nullopt;
}

// Sizes of the dtypes safetensors defines, for validating tensors we do not compute with.
std::optional<uint64_t> StoredElementSize(const std::string& name) {
  static const std::map<std::string, uint64_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
      {"I8", 1},  {"U8", 1},  {"U16", 2}, {"U32", 4},  {"U64", 8}, {"BOOL", 1}, {"F8_E4M3", 1},
      {"F8_E5M2", 1}};
  auto it = sizes.find(name);
  if (it == sizes.end()) return std::nullopt;
  return it->second;
}

absl::Status Corrupt(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("safetensors file ", path, ": ", why));
}

}  // namespace

int64_t TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::ShapeString() const { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("safetensors file ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("safetensors file ", path, ": fstat failed"));
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    close(fd);
    return Corrupt(path, absl::StrCat("only ", file_size, " bytes; too short for a header"));
  }
  void* mapping = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping == MAP_FAILED) {
    return absl::InternalError(absl::StrCat("safetensors file ", path, ": mmap: ", std::strerror(errno)));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = mapping;
  file->mapping_size_ = file_size;

  const auto* bytes = static_cast<const uint8_t*>(mapping);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  if (header_size > kMaxHeaderBytes || header_size > file_size - 8) {
    return Corrupt(path, absl::StrCat("header length ", header_size, " exceeds the file (",
                                      file_size, " bytes): truncated or not safetensors"));
  }
  Json header = Json::parse(bytes + 8, bytes + 8 + header_size, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return Corrupt(path, "header is not a JSON object");

  const uint8_t* data_start = bytes + 8 + header_size;
  const uint64_t data_size = file_size - 8 - header_size;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (entry.is_object()) {
        for (const auto& [key, value] : entry.items()) {
          if (value.is_string()) file->metadata_[key] = value.get<std::string>();
        }
      }
      continue;
    }
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets") || !entry["dtype"].is_string() ||
        !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      return Corrupt(path, absl::StrCat("tensor ", name, ": malformed header entry"));
    }
    TensorInfo info;
    info.name = name;
    info.file = path;
    info.dtype_name = entry["dtype"].get<std::string>();
    info.dtype = ParseDType(info.dtype_name);
    std::optional<uint64_t> element_size = StoredElementSize(info.dtype_name);
    if (!element_size) {
      return Corrupt(path, absl::StrCat("tensor ", name, ": unknown dtype ", info.dtype_name));
    }
    uint64_t elements = 1;
    for (const Json& dim : entry["shape"]) {
      if (!dim.is_number_unsigned()) return Corrupt(path, absl::StrCat("tensor ", name, ": bad shape"));
      uint64_t d = dim.get<uint64_t>();
      if (d != 0 && elements > (1ull << 62) / d) return Corrupt(path, absl::StrCat("tensor ", name, ": shape overflows"));
      elements *= d;
      info.shape.push_back(static_cast<int64_t>(d));
    }
    const Json& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return Corrupt(path, absl::StrCat("tensor ", name, ": bad data_offsets"));
    }
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return Corrupt(path, absl::StrCat("tensor ", name, ": data [", begin, ", ", end,
                                        ") lies outside the file's ", data_size,
                                        " data bytes (truncated?)"));
    }
    if (elements > UINT64_MAX / *element_size || end - begin != elements * *element_size) {
      return Corrupt(path, absl::StrCat("tensor ", name, ": ", end - begin, " bytes for shape ",
                                        info.ShapeString(), " of ", info.dtype_name));
    }
    info.data = data_start + begin;
    info.size_bytes = end - begin;
    file->tensors_.emplace(name, std::move(info));
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

absl::StatusOr<std::unique_ptr<TensorStore>> TensorStore::OpenDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("model directory ", dir, ": not a directory"));
  }
  std::vector<std::string> files;
  std::map<std::string, std::string> weight_map;
  fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(index_path, ec)) {
    std::ifstream in(index_path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    Json index = Json::parse(buffer.str(), nullptr, false);
    if (index.is_discarded() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
      return absl::DataLossError(absl::StrCat(index_path.string(), ": no weight_map object"));
    }
    std::set<std::string> unique;
    for (const auto& [name, file] : index["weight_map"].items()) {
      if (!file.is_string()) return absl::DataLossError(absl::StrCat(index_path.string(), ": bad entry ", name));
      std::string file_name = file.get<std::string>();
      if (file_name.find('/') != std::string::npos || file_name == "..") {
        return absl::DataLossError(absl::StrCat(index_path.string(), ": shard ", file_name, " is outside the directory"));
      }
      weight_map[name] = file_name;
      unique.insert(file_name);
    }
    for (const std::string& f : unique) files.push_back((fs::path(dir) / f).string());
  } else {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".safetensors") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
  }
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat("model directory ", dir, ": no *.safetensors files"));
  }

  std::unique_ptr<TensorStore> store(new TensorStore());
  for (const std::string& path : files) {
    auto file = SafetensorsFile::Open(path);
    if (!file.ok()) return file.status();
    for (const auto& [name, info] : (*file)->tensors()) {
      auto [it, inserted] = store->index_.emplace(name, &info);
      if (!inserted) {
        return absl::DataLossError(absl::StrCat("tensor ", name, " appears in both ", it->second->file,
                                                " and ", path));
      }
    }
    store->files_.push_back(std::move(*file));
  }
  for (const auto& [name, file] : weight_map) {
    auto it = store->index_.find(name);
    if (it == store->index_.end()) {
      return absl::DataLossError(absl::StrCat("tensor ", name, " is listed in ", index_path.string(),
                                              " but missing from ", file));
    }
  }
  return store;
}

absl::StatusOr<std::unique_ptr<TensorStore>> TensorStore::FromTensors(std::vector<TensorInfo> tensors,
                                                                      std::shared_ptr<const void> owner) {
  std::unique_ptr<TensorStore> store(new TensorStore());
  store->owner_ = std::move(owner);
  for (TensorInfo& t : tensors) {
    store->owned_.push_back(std::make_unique<TensorInfo>(std::move(t)));
    const TensorInfo* info = store->owned_.back().get();
    if (!store->index_.emplace(info->name, info).second) {
      return absl::DataLossError(absl::StrCat("tensor ", info->name, " appears twice in ", info->file));
    }
  }
  return store;
}

const TensorInfo* TensorStore::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

uint64_t TensorStore::total_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, info] : index_) total += info->size_bytes;
  return total;
}

}  // namespace engine
