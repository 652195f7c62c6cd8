// A collection's FAISS index keyed by chunk id (IndexIDMap2 over Flat, HNSW or IVF-PQ), with
// persistence to one file stamped with the RocksDB sequence number it reflects:
//   "AGENTD-FAISS" u32 version, u64 sequence, u64 dead count, faiss index bytes.
// HNSW cannot delete: removed ids are left in place and skipped by the caller (they no longer
// exist in the store), and the caller rebuilds once too many are dead. IVF-PQ searches a flat
// index until it has enough vectors to train on (39 × nlist, and 16 per PQ centroid).
#ifndef AGENTD_MEMORY_VECTOR_INDEX_H_
#define AGENTD_MEMORY_VECTOR_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "memory/types.h"

namespace faiss {
struct Index;
}

namespace rocksdb {
class FileSystem;
}

namespace memory::internal {

class VectorIndex {
 public:
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Create(int dimension, const IndexSpec& spec);
  // nullptr result (with OK status) when the file is missing; an error when it is corrupt.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Load(const std::string& path, int dimension,
                                                          const IndexSpec& spec, uint64_t* sequence);
  ~VectorIndex();

  absl::Status Add(const std::vector<uint64_t>& ids, const std::vector<float>& vectors);
  void Remove(const std::vector<uint64_t>& ids);
  // Up to k (id, similarity) pairs, best first; may include removed ids (see above).
  std::vector<std::pair<uint64_t, float>> Search(const std::vector<float>& query, size_t k) const;
  // Writes the index to `path` through `fs` as a whole or not at all: into PATH.tmp, synced,
  // then renamed over PATH and the directory synced. On failure PATH is untouched and PATH.tmp
  // removed, so a full disk neither replaces a good index nor keeps the space a partial copy
  // took. A full disk is RESOURCE_EXHAUSTED.
  absl::Status Save(const std::string& path, uint64_t sequence, rocksdb::FileSystem* fs) const;

  uint64_t size() const;
  uint64_t dead() const { return dead_; }
  uint64_t bytes() const;

 private:
  VectorIndex(int dimension, const IndexSpec& spec);
  absl::Status MaybeTrain();

  int dimension_;
  IndexSpec spec_;
  std::unique_ptr<faiss::Index> index_;
  bool trained_ivf_ = false;
  uint64_t dead_ = 0;
};

// `spec` with every 0 replaced by its default.
IndexSpec WithDefaults(const IndexSpec& spec, int dimension);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_VECTOR_INDEX_H_
