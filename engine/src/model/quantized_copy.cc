#include "model/quantized_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cpu/quantized.h"

namespace engine::model {
namespace {

constexpr char kMagic[8] = {'A', 'G', 'E', 'N', 'T', 'D', 'Q', 'W'};
// 1: the layouts of cpu/matmul_q8.h and cpu/matmul_q4.h as of their first kernel-order version.
// Bump when either layout or either quantiser's choices change.
constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kAlignment = 64;

// FNV-1a: a stable hash for the file name (the identity itself is what is compared).
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string FileName(const std::string& identity, cpu::Quantization q) {
  return absl::StrCat(absl::Hex(Fnv1a(identity), absl::kZeroPad16), ".", std::string(cpu::QuantizationName(q)), ".agentdq");
}

// Bounds-checked reads from the mapped file.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  bool Read(T* out) {
    if (size_ - pos_ < sizeof(T)) return false;
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool ReadString(uint64_t length, std::string* out) {
    if (size_ - pos_ < length) return false;
    out->assign(reinterpret_cast<const char*>(data_ + pos_), length);
    pos_ += length;
    return true;
  }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

template <typename T>
void Append(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

absl::StatusOr<std::string> QuantizedCopy::Identity(const std::string& model_dir, cpu::Quantization q) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(model_dir, error)) {
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
  }
  if (error) return absl::NotFoundError(absl::StrCat(model_dir, ": ", error.message()));
  std::sort(files.begin(), files.end());
  std::ifstream config(fs::path(model_dir) / "config.json", std::ios::binary);
  std::stringstream identity;
  identity << "scheme " << cpu::QuantizationName(q) << "\nconfig.json " << config.rdbuf() << "\n";
  for (const fs::path& file : files) {
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) return absl::NotFoundError(absl::StrCat(file.string(), ": ", std::strerror(errno)));
    identity << file.filename().string() << " " << info.st_size << " " << info.st_mtim.tv_sec << "." << info.st_mtim.tv_nsec
             << "\n";
  }
  return identity.str();
}

std::unique_ptr<QuantizedCopy> QuantizedCopy::Open(const std::string& dir, const std::string& identity,
                                                   cpu::Quantization q) {
  std::unique_ptr<QuantizedCopy> copy(new QuantizedCopy());
  copy->path_ = (std::filesystem::path(dir) / FileName(identity, q)).string();
  copy->identity_ = identity;
  copy->quantization_ = q;
  const int fd = open(copy->path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return copy;
  struct stat info {};
  if (fstat(fd, &info) == 0 && info.st_size > 0) {
    void* mapping = mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_SHARED, fd, 0);
    if (mapping != MAP_FAILED) {
      copy->mapping_ = mapping;
      copy->mapping_size_ = static_cast<size_t>(info.st_size);
    }
  }
  close(fd);
  if (copy->mapping_ != nullptr && !copy->Parse()) {
    munmap(copy->mapping_, copy->mapping_size_);
    copy->mapping_ = nullptr;
    copy->index_.clear();
  }
  return copy;
}

QuantizedCopy::~QuantizedCopy() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
}

bool QuantizedCopy::Parse() {
  const auto* base = static_cast<const uint8_t*>(mapping_);
  Reader in(base, mapping_size_);
  char magic[8];
  uint32_t version = 0, scheme = 0;
  uint64_t identity_length = 0, count = 0;
  std::string identity;
  if (!in.Read(&magic) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) return false;
  if (!in.Read(&version) || version != kFormatVersion) return false;
  if (!in.Read(&scheme) || scheme != static_cast<uint32_t>(quantization_)) return false;
  if (!in.Read(&identity_length) || !in.ReadString(identity_length, &identity) || identity != identity_) return false;
  if (!in.Read(&count) || count > mapping_size_) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t name_length = 0;
    std::string name;
    Located located{};
    uint32_t entry_scheme = 0;
    uint64_t offset = 0;
    if (!in.Read(&name_length) || !in.ReadString(name_length, &name) || !in.Read(&entry_scheme)) return false;
    if (!in.Read(&located.rows) || !in.Read(&located.cols) || !in.Read(&offset) || !in.Read(&located.bytes)) return false;
    if (entry_scheme != static_cast<uint32_t>(cpu::Quantization::kQ8) &&
        entry_scheme != static_cast<uint32_t>(cpu::Quantization::kQ4)) {
      return false;
    }
    located.quantization = static_cast<cpu::Quantization>(entry_scheme);
    if (located.rows <= 0 || located.cols <= 0 || located.cols % 64 != 0) return false;
    if (located.bytes != static_cast<uint64_t>(cpu::QuantizedBytes(located.quantization, located.rows, located.cols))) {
      return false;
    }
    if (offset > mapping_size_ || mapping_size_ - offset < located.bytes) return false;
    located.data = base + offset;
    index_[name] = located;
  }
  return true;
}

const uint8_t* QuantizedCopy::Find(const std::string& name, int64_t rows, int64_t cols, cpu::Quantization q) const {
  auto it = index_.find(name);
  if (it == index_.end() || it->second.rows != rows || it->second.cols != cols || it->second.quantization != q) {
    return nullptr;
  }
  return it->second.data;
}

absl::Status QuantizedCopy::Save(const std::vector<Entry>& matrices) const {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(fs::path(path_).parent_path(), error);
  if (error) return absl::InternalError(absl::StrCat(fs::path(path_).parent_path().string(), ": ", error.message()));
  std::string header(kMagic, sizeof(kMagic));
  Append(&header, kFormatVersion);
  Append(&header, static_cast<uint32_t>(quantization_));
  Append(&header, static_cast<uint64_t>(identity_.size()));
  header += identity_;
  Append(&header, static_cast<uint64_t>(matrices.size()));
  uint64_t index_bytes = 0;
  for (const Entry& e : matrices) index_bytes += 4 + e.name.size() + 4 + 8 * 4;
  uint64_t offset = (header.size() + index_bytes + kAlignment - 1) / kAlignment * kAlignment;
  std::vector<uint64_t> offsets;
  for (const Entry& e : matrices) {
    const uint64_t bytes = e.matrix->bytes();
    Append(&header, static_cast<uint32_t>(e.name.size()));
    header += e.name;
    Append(&header, static_cast<uint32_t>(e.matrix->quantization));
    Append(&header, e.matrix->rows);
    Append(&header, e.matrix->cols);
    Append(&header, offset);
    Append(&header, bytes);
    offsets.push_back(offset);
    offset = (offset + bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  std::mt19937_64 rng(std::random_device{}());
  const std::string temporary = absl::StrCat(path_, ".tmp-", getpid(), "-", absl::Hex(rng()));
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat(temporary, ": ", std::strerror(errno)));
  auto write_at = [&](const void* data, uint64_t size, uint64_t at) -> bool {
    const auto* bytes = static_cast<const uint8_t*>(data);
    while (size > 0) {
      const ssize_t n = pwrite(fd, bytes, std::min<uint64_t>(size, 1u << 30), static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes += n;
      at += static_cast<uint64_t>(n);
      size -= static_cast<uint64_t>(n);
    }
    return true;
  };
  bool ok = write_at(header.data(), header.size(), 0);
  for (size_t i = 0; ok && i < matrices.size(); ++i) {
    ok = write_at(matrices[i].matrix->quantized, matrices[i].matrix->bytes(), offsets[i]);
  }
  ok = ok && ftruncate(fd, static_cast<off_t>(offset)) == 0 && fsync(fd) == 0;
  const int saved_errno = errno;
  close(fd);
  if (!ok || rename(temporary.c_str(), path_.c_str()) != 0) {
    const int cause = ok ? errno : saved_errno;
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("writing ", path_, ": ", std::strerror(cause)));
  }
  return absl::OkStatus();
}

}  // namespace engine::model
