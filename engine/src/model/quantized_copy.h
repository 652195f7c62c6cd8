// The saved copy of a checkpoint's quantised matrices, so that a restart maps them instead of
// quantising again (a 30B checkpoint takes minutes to quantise and seconds to map). One file per
// checkpoint and scheme in a cache directory, named by a hash of what identifies the checkpoint
// (its config.json, and each weight file's name, size and modification time) and the scheme;
// the identity itself is stored in the file and compared on open, so a changed checkpoint never
// reads another's blocks. A file that is missing, truncated, of another format version or
// inconsistent in any way is ignored and written again; writes go to a temporary file renamed
// into place, so a crash never leaves a partial copy under the real name.
//
// Layout (little-endian): magic "AGENTDQW", u32 format version, u32 scheme (cpu::Quantization),
// u64 identity length + identity bytes, u64 matrix count, then per matrix u32 name length +
// name, u32 its own scheme (a 4-bit model keeps its heads at 8 bits), i64 rows, i64 cols, u64
// offset, u64 bytes; the blocks at their offsets (64-aligned).
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

namespace engine::model {

class QuantizedCopy {
 public:
  // What identifies the checkpoint in `model_dir` for scheme `q`: config.json's bytes and each
  // *.safetensors file's name, size and modification time.
  static absl::StatusOr<std::string> Identity(const std::string& model_dir, cpu::Quantization q);

  // The copy in `dir` for `identity` when there is a valid one; otherwise one that finds nothing
  // (Save writes it). Never fails: a copy that cannot be read is as good as none.
  static std::unique_ptr<QuantizedCopy> Open(const std::string& dir, const std::string& identity,
                                             cpu::Quantization q);
  ~QuantizedCopy();
  QuantizedCopy(const QuantizedCopy&) = delete;
  QuantizedCopy& operator=(const QuantizedCopy&) = delete;

  // The saved blocks of matrix `name` when the copy has it with these dimensions and scheme;
  // else nullptr. Valid while this object lives.
  const uint8_t* Find(const std::string& name, int64_t rows, int64_t cols, cpu::Quantization q) const;
  // True when the copy was read from disk.
  bool mapped() const { return mapping_ != nullptr; }
  const std::string& path() const { return path_; }

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
  };
  bool Parse();

  std::string path_, identity_;
  cpu::Quantization quantization_ = cpu::Quantization::kNone;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, Located> index_;
};

}  // namespace engine::model

#endif  // AGENTD_ENGINE_MODEL_QUANTIZED_COPY_H_
