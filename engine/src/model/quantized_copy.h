// The saved copy of a checkpoint's quantised matrices, so that a restart maps them instead of
// quantising again (a 30B checkpoint takes minutes to quantise and a second to map). One file per
// checkpoint directory and scheme in a cache directory, named by a hash of the directory's path
// and the scheme, so a checkpoint that changes replaces its copy instead of leaving one behind.
// The file holds the checkpoint's identity — config.json's and the shard index's bytes, and each
// weight file's name, size, modification and change times, inode and device — and is used only
// when that identity is the checkpoint's now. A file that is missing, not a regular file,
// truncated, of another format version, inconsistent in any way, or whose blocks fail their
// CRC-32C is ignored and written again; writes go to a temporary file that is synced and renamed
// into place, so a crash never leaves a partial copy under the real name.
//
// Layout (little-endian): magic "AGENTDQW", u32 format version, u32 scheme (cpu::Quantization),
// u64 identity length + identity bytes, u64 matrix count, then per matrix u32 name length +
// name, u32 its own scheme (a 4-bit model keeps its heads at 8 bits), i64 rows, i64 cols, u64
// offset, u64 bytes, u32 CRC-32C of the bytes; the blocks at their offsets (64-aligned, after
// the index, in order).
#ifndef AGENTD_ENGINE_MODEL_QUANTIZED_COPY_H_
#define AGENTD_ENGINE_MODEL_QUANTIZED_COPY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cpu/matrix.h"
#include "cpu/quantized.h"

namespace engine::model {

class QuantizedCopy {
 public:
  // The copy in `copy_dir` of the checkpoint in `model_dir` for `scheme`, mapped when there is
  // a valid one for the checkpoint as it is now; otherwise one that finds nothing (Save writes
  // it). Fails only when the checkpoint's files cannot be examined.
  static absl::StatusOr<std::unique_ptr<QuantizedCopy>> Open(const std::string& copy_dir, const std::string& model_dir,
                                                             const cpu::QuantizationScheme& scheme);
  ~QuantizedCopy();
  QuantizedCopy(const QuantizedCopy&) = delete;
  QuantizedCopy& operator=(const QuantizedCopy&) = delete;

  // The saved blocks of matrix `name` when the copy has it with these dimensions and scheme;
  // else nullptr. Valid while this object lives.
  const uint8_t* Find(const std::string& name, int64_t rows, int64_t cols, cpu::Quantization q) const;
  // True when the copy was read from disk.
  bool mapped() const { return mapping_ != nullptr; }
  const std::string& path() const { return path_; }
  // True when the checkpoint's identity is still the one Open saw (it did not change while it
  // was being loaded).
  bool CheckpointUnchanged() const;

  // Writes `matrices` (each with its quantised blocks) as the copy, replacing any other.
  struct Entry {
    std::string name;
    const cpu::Matrix* matrix;
  };
  absl::Status Save(const std::vector<Entry>& matrices) const;

 private:
  QuantizedCopy() = default;
  struct Located {
    cpu::Quantization quantization;
    int64_t rows, cols;
    const uint8_t* data;
    uint64_t bytes;
    uint32_t crc;
  };
  bool Parse();

  std::string path_, model_dir_, identity_, scheme_name_;
  cpu::Quantization quantization_ = cpu::Quantization::kNone;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, Located> index_;
};

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_QUANTIZED_COPY_H_
