// Flat vector storage for FAISS whose distance computations use AVX-512 (with a portable
// fallback). Debian's libfaiss is built without SIMD, so its own inner products run a scalar
// loop — 75% of HNSW build and search time in a profile here. Everything that reads raw vectors
// goes through this class instead: exact (Flat) search, HNSW graph construction and traversal,
// and IVF coarse quantisation. On disk it is an ordinary IndexFlat; after loading, ToSimd()
// swaps the plain one back for this.
#ifndef AGENTD_MEMORY_SIMD_FLAT_INDEX_H_
#define AGENTD_MEMORY_SIMD_FLAT_INDEX_H_

#include <faiss/IndexFlat.h>

namespace memory::internal {

class SimdFlatIndex : public faiss::IndexFlat {
 public:
  SimdFlatIndex(idx_t d, faiss::MetricType metric) : faiss::IndexFlat(d, metric) {}

  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override;
};

// A SimdFlatIndex holding the same vectors as `flat` (which is deleted).
SimdFlatIndex* ToSimd(faiss::IndexFlat* flat);

// Inner product and squared L2 distance of two float vectors of length d.
float InnerProduct(const float* a, const float* b, size_t d);
float SquaredL2(const float* a, const float* b, size_t d);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_SIMD_FLAT_INDEX_H_
