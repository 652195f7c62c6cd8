// Reading GGUF files, llama.cpp's single-file model format, memory-mapped.
//
// A GGUF file (version 2 or 3) is a header (magic "GGUF", version, tensor and metadata counts),
// typed key/value metadata (the architecture's hyper-parameters, the tokenizer's vocabulary and
// merges), a directory of tensors (name, dimensions innermost first, ggml type, offset), then
// the tensor data, aligned to `general.alignment` (32 by default). GgufFile::Open maps the file
// read-only and validates all of it before returning — every count, string and array against
// the bytes left, every tensor's bytes inside the file and matching its type and dimensions —
// so a truncated or hostile file is an error naming the file and the field, never a crash or a
// huge allocation later.
//
//   auto gguf = engine::GgufFile::Open("/models/Qwen3-30B-A3B-Q4_0.gguf");
//   absl::StatusOr<std::string> arch = (*gguf)->GetString("general.architecture");
//   const engine::GgufTensor* t = (*gguf)->FindTensor("blk.0.attn_q.weight");
//
// Models are read from it by Model::Load and Tokenizer::Load when given a .gguf path
// (engine/model.h); this header is the format alone.
#ifndef AGENTD_ENGINE_GGUF_H_
#define AGENTD_ENGINE_GGUF_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace engine {

// The ggml tensor types this reader knows the block layout of (the values are ggml's).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

// "F32", "F16", "Q4_0", "Q8_0", "Q4_K", "BF16"...; "ggml type N" for types it has no layout of.
std::string GgmlTypeName(uint32_t type);

// One metadata value. Scalars of every integer width read as `integer` (uint64 above INT64_MAX
// is refused), floats as `number`, bools as `integer` 0/1; arrays hold strings or numbers.
struct GgufValue {
  enum class Kind { kInteger, kNumber, kString, kStringArray, kNumberArray };
  Kind kind = Kind::kInteger;
  int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<std::string> strings;
  std::vector<double> numbers;  // integer arrays too (exact below 2^53)
};

struct GgufTensor {
  std::string name;
  uint32_t type = 0;            // ggml type (GgmlType for the known ones)
  std::vector<uint64_t> dims;   // innermost first: a [rows, cols] matrix is {cols, rows}
  const uint8_t* data = nullptr;
  uint64_t size_bytes = 0;
};

class GgufFile {
 public:
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::map<std::string, GgufTensor>& tensors() const { return tensors_; }
  // nullptr when absent.
  const GgufValue* Find(const std::string& key) const;
  const GgufTensor* FindTensor(const std::string& name) const;

  // Typed reads; NotFound when absent, InvalidArgument naming the key when of another kind.
  absl::StatusOr<int64_t> GetInteger(const std::string& key) const;
  absl::StatusOr<double> GetNumber(const std::string& key) const;  // integers too
  absl::StatusOr<std::string> GetString(const std::string& key) const;

 private:
  GgufFile() = default;
  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::map<std::string, GgufTensor> tensors_;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_GGUF_H_
