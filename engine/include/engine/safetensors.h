// Reading model weights in the safetensors format, memory-mapped.
//
// A safetensors file is an 8-byte little-endian header length, a JSON header mapping each
// tensor name to {dtype, shape, data_offsets}, then the raw bytes. SafetensorsFile maps the file
// read-only and validates the header completely (offsets inside the file, sizes matching shapes
// and dtypes), so a truncated or corrupt file is an error naming the file, never a crash later.
//
// TensorStore gathers the tensors of a model directory: the shards named by
// model.safetensors.index.json when present, otherwise every *.safetensors file in it.
//
//   auto store = engine::TensorStore::OpenDirectory("/models/DeepSeek-V2-Lite");
//   const engine::TensorInfo* t = (*store)->Find("model.embed_tokens.weight");
#ifndef AGENTD_ENGINE_SAFETENSORS_H_
#define AGENTD_ENGINE_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/dtype.h"

namespace engine {

struct TensorInfo {
  std::string name;
  // The safetensors dtype string as stored ("BF16", "F8_E4M3", "I64", ...).
  std::string dtype_name;
  // Set when the dtype is one the engine computes with; nullopt for others (I64, BOOL, ...).
  std::optional<DType> dtype;
  std::vector<int64_t> shape;
  // Points into the memory-mapped file; valid while the owning file is open.
  const uint8_t* data = nullptr;
  uint64_t size_bytes = 0;
  // The file it lives in (for error messages).
  std::string file;

  int64_t NumElements() const;
  std::string ShapeString() const;  // "[320, 64]"
};

class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

class TensorStore {
 public:
  static absl::StatusOr<std::unique_ptr<TensorStore>> OpenDirectory(const std::string& dir);
  // Tensors that point into memory `owner` keeps alive (a GGUF file's mapping: model.h reads
  // .gguf paths through this). Names must be distinct.
  static absl::StatusOr<std::unique_ptr<TensorStore>> FromTensors(std::vector<TensorInfo> tensors,
                                                                  std::shared_ptr<const void> owner);

  // nullptr when absent.
  const TensorInfo* Find(const std::string& name) const;
  const std::map<std::string, const TensorInfo*>& all() const { return index_; }
  uint64_t total_bytes() const;

 private:
  TensorStore() = default;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::shared_ptr<const void> owner_;
  std::vector<std::unique_ptr<TensorInfo>> owned_;
  std::map<std::string, const TensorInfo*> index_;
};

}  // namespace engine

#endif  // AGENTD_ENGINE_SAFETENSORS_H_
