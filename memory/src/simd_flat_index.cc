#include "simd_flat_index.h"

// GCC 12 warns falsely inside its own AVX-512 reduction intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <queue>
#include <vector>

#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>

namespace memory::internal {
namespace {

bool HasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

__attribute__((target("avx512f"))) float InnerProductAvx512(const float* a, const float* b, size_t d) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= d; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < d; ++i) sum += a[i] * b[i];
  return sum;
}

__attribute__((target("avx512f"))) float SquaredL2Avx512(const float* a, const float* b, size_t d) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m512 diff = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc = _mm512_fmadd_ps(diff, diff, acc);
  }
  float sum = _mm512_reduce_add_ps(acc);
  for (; i < d; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

class SimdDistance final : public faiss::FlatCodesDistanceComputer {
 public:
  SimdDistance(const SimdFlatIndex& index)
      : faiss::FlatCodesDistanceComputer(index.codes.data(), index.code_size),
        d_(static_cast<size_t>(index.d)),
        ip_(index.metric_type == faiss::METRIC_INNER_PRODUCT) {}
  void set_query(const float* x) override { query_ = x; }
  float distance_to_code(const uint8_t* code) override {
    const float* v = reinterpret_cast<const float*>(code);
    return ip_ ? InnerProduct(query_, v, d_) : SquaredL2(query_, v, d_);
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    const float* a = reinterpret_cast<const float*>(codes + i * code_size);
    const float* b = reinterpret_cast<const float*>(codes + j * code_size);
    return ip_ ? InnerProduct(a, b, d_) : SquaredL2(a, b, d_);
  }

 private:
  size_t d_;
  bool ip_;
  const float* query_ = nullptr;
};

}  // namespace

float InnerProduct(const float* a, const float* b, size_t d) {
  if (HasAvx512()) return InnerProductAvx512(a, b, d);
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += a[i] * b[i];
  return sum;
}

float SquaredL2(const float* a, const float* b, size_t d) {
  if (HasAvx512()) return SquaredL2Avx512(a, b, d);
  float sum = 0;
  for (size_t i = 0; i < d; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

faiss::FlatCodesDistanceComputer* SimdFlatIndex::get_FlatCodesDistanceComputer() const { return new SimdDistance(*this); }

void SimdFlatIndex::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  const bool ip = metric_type == faiss::METRIC_INNER_PRODUCT;
  const float* base = get_xb();
  const size_t dim = static_cast<size_t>(d);
  const faiss::IDSelector* selector = params ? params->sel : nullptr;
  using Entry = std::pair<float, idx_t>;
  // Heap order puts the worst kept entry on top: the smallest score for IP, the largest L2.
  auto worse = [ip](const Entry& a, const Entry& b) { return ip ? a.first > b.first : a.first < b.first; };
  auto better = [ip](float a, float b) { return ip ? a > b : a < b; };
  // Scans rows [begin, end) for one query, keeping the k best.
  auto scan = [&](const float* query, idx_t begin, idx_t end, std::vector<Entry>* heap) {
    for (idx_t i = begin; i < end; ++i) {
      if (selector != nullptr && !selector->is_member(i)) continue;
      const float v = ip ? InnerProduct(query, base + i * dim, dim) : SquaredL2(query, base + i * dim, dim);
      if (static_cast<idx_t>(heap->size()) < k) {
        heap->emplace_back(v, i);
        std::push_heap(heap->begin(), heap->end(), worse);
      } else if (better(v, heap->front().first)) {
        std::pop_heap(heap->begin(), heap->end(), worse);
        heap->back() = {v, i};
        std::push_heap(heap->begin(), heap->end(), worse);
      }
    }
  };
  auto emit = [&](idx_t q, std::vector<Entry>* heap) {
    std::sort_heap(heap->begin(), heap->end(), worse);  // best first
    for (idx_t j = 0; j < k; ++j) {
      const bool have = j < static_cast<idx_t>(heap->size());
      distances[q * k + j] = have ? (*heap)[j].first
                                  : (ip ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity());
      labels[q * k + j] = have ? (*heap)[j].second : -1;
    }
  };
  if (n == 1) {
    // One query (the service's case): split the rows across threads and merge their k best.
    const int threads = omp_get_max_threads();
    std::vector<std::vector<Entry>> partial(threads);
#pragma omp parallel num_threads(threads) if (ntotal > 20000)
    {
      const int t = omp_get_thread_num(), count = omp_get_num_threads();
      const idx_t begin = ntotal * t / count, end = ntotal * (t + 1) / count;
      scan(x, begin, end, &partial[t]);
    }
    std::vector<Entry> merged;
    for (const auto& p : partial) {
      for (const Entry& e : p) {
        if (static_cast<idx_t>(merged.size()) < k) {
          merged.push_back(e);
          std::push_heap(merged.begin(), merged.end(), worse);
        } else if (better(e.first, merged.front().first)) {
          std::pop_heap(merged.begin(), merged.end(), worse);
          merged.back() = e;
          std::push_heap(merged.begin(), merged.end(), worse);
        }
      }
    }
    emit(0, &merged);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (idx_t q = 0; q < n; ++q) {
    std::vector<Entry> heap;
    scan(x + q * dim, 0, ntotal, &heap);
    emit(q, &heap);
  }
}

SimdFlatIndex* ToSimd(faiss::IndexFlat* flat) {
  auto* simd = new SimdFlatIndex(flat->d, flat->metric_type);
  simd->codes.swap(flat->codes);
  simd->ntotal = flat->ntotal;
  simd->is_trained = flat->is_trained;
  delete flat;
  return simd;
}

}  // namespace memory::internal
