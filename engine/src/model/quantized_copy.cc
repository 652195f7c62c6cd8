#include "model/quantized_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cpu/quantized.h"

namespace engine::model {
namespace {

// The bytes of a matrix's quantised blocks (Matrix::bytes() counts its block offsets too, which
// live in their own buffer).
uint64_t BlockBytes(const cpu::Matrix& m) {
  return static_cast<uint64_t>(cpu::QuantizedBytes(m.quantization, m.rows, m.cols));
}

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'A', 'G', 'E', 'N', 'T', 'D', 'Q', 'W'};
// 1: the layouts of cpu/matmul_q8.h and cpu/matmul_q4.h as of their kernel-order version, with
// a CRC-32C per matrix. 2: q8 scales in f16 (were float32). 3: q4 rows in whole panels of 16
// (Matrix::panel_rows), MLA's kv_b too. 4: q8 rows in panels as well, kv_b always in rows.
// 5: untied input embeddings no longer quantised under q8 and q4 (a version 4 copy holds them,
// bytes that would be mapped and never read). A copy records no layout (the loader infers it
// from each matrix's role), so bump whenever either layout, which matrices are in panels or
// quantised, or either quantiser's choices change.
constexpr uint32_t kFormatVersion = 5;
constexpr uint64_t kAlignment = 64;
constexpr char kSuffix[] = ".agentdq";

// FNV-1a: a stable hash for the file name (the identity itself is what is compared).
uint64_t Fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// CRC-32C (Castagnoli), with SSE4.2's instruction where there is one.
uint32_t Crc32cPortable(const uint8_t* data, uint64_t size) {
  uint32_t crc = ~0u;
  for (uint64_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const uint8_t* data, uint64_t size) {
  uint64_t crc = ~0u;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, data + i, 8);
    crc = _mm_crc32_u64(crc, word);
  }
  auto crc32 = static_cast<uint32_t>(crc);
  for (; i < size; ++i) crc32 = _mm_crc32_u8(crc32, data[i]);
  return ~crc32;
}
#endif

uint32_t Crc32c(const uint8_t* data, uint64_t size) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return Crc32cSse42(data, size);
#endif
  return Crc32cPortable(data, size);
}

// What identifies the checkpoint in `model_dir` for scheme `q`. Change and inode times cannot be
// set by a copy tool, so a rewrite that keeps sizes and modification times still changes it.
absl::StatusOr<std::string> IdentityOf(const std::string& model_dir, std::string_view scheme) {
  std::error_code error;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(model_dir, error)) {
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
  }
  if (error) return absl::NotFoundError(absl::StrCat(model_dir, ": ", error.message()));
  std::sort(files.begin(), files.end());
  std::ostringstream identity;
  identity << "scheme " << scheme << "\n";
  for (const char* name : {"config.json", "model.safetensors.index.json"}) {
    std::ifstream in(fs::path(model_dir) / name, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    identity << name << " " << text.size() << "\n" << text << "\n";
  }
  for (const fs::path& file : files) {
    struct stat info {};
    if (stat(file.c_str(), &info) != 0) return absl::NotFoundError(absl::StrCat(file.string(), ": ", std::strerror(errno)));
    identity << file.filename().string() << " size " << info.st_size << " mtime " << info.st_mtim.tv_sec << "."
             << info.st_mtim.tv_nsec << " ctime " << info.st_ctim.tv_sec << "." << info.st_ctim.tv_nsec << " inode "
             << info.st_ino << " device " << info.st_dev << "\n";
  }
  return identity.str();
}

// Bounds-checked reads.
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
  size_t position() const { return pos_; }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

template <typename T>
void Append(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// Temporary files of writers that died before their rename (their pid is gone).
void RemoveAbandonedTemporaries(const std::string& path) {
  const fs::path target(path);
  const std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(target.parent_path(), error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove(entry.path(), error);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<QuantizedCopy>> QuantizedCopy::Open(const std::string& copy_dir,
                                                                   const std::string& model_dir,
                                                                   const cpu::QuantizationScheme& scheme) {
  absl::StatusOr<std::string> identity = IdentityOf(model_dir, scheme.name);
  if (!identity.ok()) return identity.status();
  std::unique_ptr<QuantizedCopy> copy(new QuantizedCopy());
  std::error_code error;
  const fs::path absolute = fs::weakly_canonical(fs::absolute(model_dir), error);
  const std::string name = absl::StrCat(absl::Hex(Fnv1a(absolute.string()), absl::kZeroPad16), ".",
                                        std::string(scheme.name), kSuffix);
  copy->path_ = (fs::path(copy_dir) / name).string();
  copy->model_dir_ = model_dir;
  copy->identity_ = std::move(*identity);
  copy->quantization_ = scheme.projections;
  copy->scheme_name_ = std::string(scheme.name);
  // Never blocks (a FIFO planted under the name) and never follows a link out of the directory.
  const int fd = open(copy->path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return copy;
  struct stat info {};
  // The header first, so that a copy of another checkpoint or version is not read whole.
  const size_t header_size = sizeof(kMagic) + 4 + 4 + 8 + copy->identity_.size();
  std::string header(header_size, '\0');
  const bool worth_mapping = fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
                             static_cast<uint64_t>(info.st_size) > header_size &&
                             pread(fd, header.data(), header_size, 0) == static_cast<ssize_t>(header_size);
  std::string expected(kMagic, sizeof(kMagic));
  Append(&expected, kFormatVersion);
  Append(&expected, static_cast<uint32_t>(scheme.projections));
  Append(&expected, static_cast<uint64_t>(copy->identity_.size()));
  expected += copy->identity_;
  if (worth_mapping && header == expected) {
    // Populated now: the blocks are all read for their checksums, and decode then runs without
    // page faults.
    void* mapping = mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
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

bool QuantizedCopy::CheckpointUnchanged() const {
  absl::StatusOr<std::string> now = IdentityOf(model_dir_, scheme_name_);
  return now.ok() && *now == identity_;
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
  std::vector<Located*> order;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t name_length = 0;
    std::string name;
    Located located{};
    uint32_t entry_scheme = 0;
    uint64_t offset = 0;
    if (!in.Read(&name_length) || !in.ReadString(name_length, &name) || !in.Read(&entry_scheme)) return false;
    if (!in.Read(&located.rows) || !in.Read(&located.cols) || !in.Read(&offset) || !in.Read(&located.bytes) ||
        !in.Read(&located.crc)) {
      return false;
    }
    if (entry_scheme != static_cast<uint32_t>(cpu::Quantization::kQ8) &&
        entry_scheme != static_cast<uint32_t>(cpu::Quantization::kQ4)) {
      return false;
    }
    located.quantization = static_cast<cpu::Quantization>(entry_scheme);
    // Dimensions no larger than the file before they are multiplied (no overflow), whole pairs of
    // blocks, and exactly the bytes such a matrix takes.
    const auto limit = static_cast<int64_t>(mapping_size_);
    if (located.rows <= 0 || located.cols <= 0 || located.rows > limit || located.cols > limit || located.cols % 64 != 0) {
      return false;
    }
    const auto expected = static_cast<unsigned __int128>(cpu::QuantizedBytes(located.quantization, 1, located.cols)) *
                          static_cast<unsigned __int128>(located.rows);
    if (expected != located.bytes) return false;
    if (offset % kAlignment != 0 || offset > mapping_size_ || mapping_size_ - offset < located.bytes) return false;
    located.data = base + offset;
    auto [it, inserted] = index_.emplace(std::move(name), located);
    if (!inserted) return false;
    order.push_back(&it->second);
  }
  // Blocks after the index and each after the one before: no entry overlaps another or the header.
  uint64_t end = in.position();
  for (const Located* l : order) {
    const auto offset = static_cast<uint64_t>(l->data - base);
    if (offset < end) return false;
    end = offset + l->bytes;
  }
  std::atomic<bool> intact = true;
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < order.size(); ++i) {
    if (Crc32c(order[i]->data, order[i]->bytes) != order[i]->crc) intact = false;
  }
  return intact;
}

const uint8_t* QuantizedCopy::Find(const std::string& name, int64_t rows, int64_t cols, cpu::Quantization q) const {
  auto it = index_.find(name);
  if (it == index_.end() || it->second.rows != rows || it->second.cols != cols || it->second.quantization != q) {
    return nullptr;
  }
  return it->second.data;
}

absl::Status QuantizedCopy::Save(const std::vector<Entry>& matrices) const {
  // A copy holds levels and scales only: block offsets (GGUF K-quants, never saved) would be lost.
  for (const Entry& e : matrices) {
    if (e.matrix->block_offsets != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("quantized copy: ", e.name, " has block offsets, which are not saved"));
    }
  }
  std::error_code error;
  const fs::path directory = fs::path(path_).parent_path();
  fs::create_directories(directory, error);
  if (error) return absl::InternalError(absl::StrCat(directory.string(), ": ", error.message()));
  RemoveAbandonedTemporaries(path_);
  std::string header(kMagic, sizeof(kMagic));
  Append(&header, kFormatVersion);
  Append(&header, static_cast<uint32_t>(quantization_));
  Append(&header, static_cast<uint64_t>(identity_.size()));
  header += identity_;
  Append(&header, static_cast<uint64_t>(matrices.size()));
  uint64_t index_bytes = 0;
  for (const Entry& e : matrices) index_bytes += 4 + e.name.size() + 4 + 8 * 4 + 4;
  uint64_t offset = (header.size() + index_bytes + kAlignment - 1) / kAlignment * kAlignment;
  std::vector<uint64_t> offsets(matrices.size());
  std::vector<uint32_t> crcs(matrices.size());
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < matrices.size(); ++i) crcs[i] = Crc32c(matrices[i].matrix->quantized, BlockBytes(*matrices[i].matrix));
  for (size_t i = 0; i < matrices.size(); ++i) {
    const Entry& e = matrices[i];
    const uint64_t bytes = BlockBytes(*e.matrix);
    Append(&header, static_cast<uint32_t>(e.name.size()));
    header += e.name;
    Append(&header, static_cast<uint32_t>(e.matrix->quantization));
    Append(&header, e.matrix->rows);
    Append(&header, e.matrix->cols);
    Append(&header, offset);
    Append(&header, bytes);
    Append(&header, crcs[i]);
    offsets[i] = offset;
    offset = (offset + bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
  std::mt19937_64 rng(std::random_device{}());
  const std::string temporary = absl::StrCat(path_, ".tmp-", getpid(), "-", absl::Hex(rng()));
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat(temporary, ": ", std::strerror(errno)));
  auto write_at = [&](const void* data, uint64_t size, uint64_t at) -> bool {
    const auto* bytes = static_cast<const uint8_t*>(data);
    while (size > 0) {
      const ssize_t n = pwrite(fd, bytes, std::min<uint64_t>(size, 1u << 30), static_cast<off_t>(at));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (n == 0) errno = EIO;
        return false;
      }
      bytes += n;
      at += static_cast<uint64_t>(n);
      size -= static_cast<uint64_t>(n);
    }
    return true;
  };
  bool ok = write_at(header.data(), header.size(), 0);
  for (size_t i = 0; ok && i < matrices.size(); ++i) {
    ok = write_at(matrices[i].matrix->quantized, BlockBytes(*matrices[i].matrix), offsets[i]);
  }
  ok = ok && ftruncate(fd, static_cast<off_t>(offset)) == 0 && fsync(fd) == 0;
  int cause = errno;
  close(fd);
  if (ok && rename(temporary.c_str(), path_.c_str()) != 0) {
    ok = false;
    cause = errno;
  }
  if (!ok) {
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("writing ", path_, ": ", std::strerror(cause)));
  }
  // The rename itself made durable.
  const int dir_fd = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace engine::model
