#include "vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "memory/rocksdb_disk.h"
#include "rocksdb/file_system.h"
#include "simd_flat_index.h"

namespace memory::internal {
namespace {

constexpr char kMagic[] = "AGENTD-FAISS";
constexpr uint32_t kVersion = 1;

faiss::MetricType ToFaiss(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

std::unique_ptr<faiss::Index> NewBase(int dimension, const IndexSpec& spec, bool flat_only) {
  const faiss::MetricType metric = ToFaiss(spec.metric);
  if (spec.kind == IndexKind::kHnsw && !flat_only) {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dimension, spec.hnsw_m, metric);
    delete hnsw->storage;
    hnsw->storage = new SimdFlatIndex(dimension, metric);
    hnsw->hnsw.efConstruction = spec.hnsw_ef_construction;
    hnsw->hnsw.efSearch = spec.hnsw_ef_search;
    return hnsw;
  }
  return std::make_unique<SimdFlatIndex>(dimension, metric);
}

// Loaded indexes come back with FAISS's plain (scalar) flat storage; put the SIMD one back.
void UseSimdStorage(faiss::IndexIDMap2* map) {
  if (auto* flat = dynamic_cast<faiss::IndexFlat*>(map->index); flat && !dynamic_cast<SimdFlatIndex*>(flat)) {
    map->index = ToSimd(flat);
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(map->index)) {
    if (auto* storage = dynamic_cast<faiss::IndexFlat*>(hnsw->storage); storage && !dynamic_cast<SimdFlatIndex*>(storage)) {
      hnsw->storage = ToSimd(storage);
    }
  } else if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(map->index)) {
    if (auto* quantizer = dynamic_cast<faiss::IndexFlat*>(ivf->quantizer); quantizer && !dynamic_cast<SimdFlatIndex*>(quantizer)) {
      ivf->quantizer = ToSimd(quantizer);
    }
  }
}

// Whether an index read from its file was built with the collection's settings. The file keeps
// the structure it was built with (HNSW's neighbour count, IVF-PQ's lists and codes); a
// collection whose stored settings were replaced (a value FAISS cannot use, written by an older
// build, gives way to the default) must be rebuilt rather than grow a graph with the old ones.
bool BuiltWith(const faiss::Index& base, const IndexSpec& spec, bool trained_ivf) {
  if (base.metric_type != ToFaiss(spec.metric)) return false;
  const bool flat = dynamic_cast<const faiss::IndexFlat*>(&base) != nullptr;
  switch (spec.kind) {
    case IndexKind::kHnsw: {
      const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(&base);
      return hnsw != nullptr && hnsw->hnsw.cum_nneighbor_per_level.size() >= 2 &&
             hnsw->hnsw.nb_neighbors(0) == 2 * spec.hnsw_m;
    }
    case IndexKind::kIvfPq: {
      if (!trained_ivf) return flat;
      const auto* ivf = dynamic_cast<const faiss::IndexIVFPQ*>(&base);
      return ivf != nullptr && ivf->nlist == static_cast<size_t>(spec.ivf_nlist) &&
             ivf->pq.M == static_cast<size_t>(spec.pq_m) && ivf->pq.nbits == static_cast<size_t>(spec.pq_nbits);
    }
    case IndexKind::kFlat:
      return flat;
  }
  return false;
}

std::unique_ptr<faiss::Index> Wrap(std::unique_ptr<faiss::Index> base) {
  auto map = std::make_unique<faiss::IndexIDMap2>(base.release());
  map->own_fields = true;
  return map;
}

}  // namespace

IndexSpec WithDefaults(const IndexSpec& in, int dimension) {
  IndexSpec s = in;
  if (s.hnsw_m == 0) s.hnsw_m = 32;
  if (s.hnsw_ef_construction == 0) s.hnsw_ef_construction = 200;
  if (s.hnsw_ef_search == 0) s.hnsw_ef_search = 128;
  if (s.ivf_nlist == 0) s.ivf_nlist = 1024;
  if (s.ivf_nprobe == 0) s.ivf_nprobe = 16;
  if (s.pq_m == 0) s.pq_m = std::max(1, dimension / 8);
  if (s.pq_nbits == 0) s.pq_nbits = 8;
  return s;
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(int dimension, const IndexSpec& raw) {
  IndexSpec spec = WithDefaults(raw, dimension);
  if (dimension <= 0) return absl::InvalidArgumentError("vector index: dimension must be positive");
  if (spec.kind == IndexKind::kIvfPq && dimension % spec.pq_m != 0) {
    return absl::InvalidArgumentError(absl::StrCat("index.pq_m: ", spec.pq_m, " does not divide the dimension ", dimension));
  }
  std::unique_ptr<VectorIndex> index(new VectorIndex(dimension, spec));
  try {
    index->index_ = Wrap(NewBase(dimension, spec, /*flat_only=*/spec.kind == IndexKind::kIvfPq));
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("faiss: ", e.what()));
  }
  return index;
}

VectorIndex::VectorIndex(int dimension, const IndexSpec& spec) : dimension_(dimension), spec_(spec) {}

VectorIndex::~VectorIndex() = default;

uint64_t VectorIndex::size() const { return static_cast<uint64_t>(index_->ntotal); }

uint64_t VectorIndex::bytes() const {
  faiss::VectorIOWriter writer;
  try {
    faiss::write_index(index_.get(), &writer);
  } catch (const faiss::FaissException&) {
    return 0;
  }
  return writer.data.size();
}

absl::Status VectorIndex::MaybeTrain() {
  if (spec_.kind != IndexKind::kIvfPq || trained_ivf_) return absl::OkStatus();
  // k-means wants ~39 points per centroid: nlist coarse centroids, 2^nbits per sub-quantiser.
  const int64_t needed = std::max<int64_t>(39 * static_cast<int64_t>(spec_.ivf_nlist), 16 * (int64_t{1} << spec_.pq_nbits));
  if (index_->ntotal < needed) return absl::OkStatus();
  try {
    auto* map = dynamic_cast<faiss::IndexIDMap2*>(index_.get());
    const int64_t n = map->ntotal;
    std::vector<float> vectors(static_cast<size_t>(n) * dimension_);
    for (int64_t i = 0; i < n; ++i) map->index->reconstruct(i, &vectors[i * dimension_]);
    std::vector<faiss::Index::idx_t> ids(map->id_map.begin(), map->id_map.end());
    const faiss::MetricType metric = ToFaiss(spec_.metric);
    auto* quantizer = new SimdFlatIndex(dimension_, metric);
    auto ivf = std::make_unique<faiss::IndexIVFPQ>(quantizer, dimension_, spec_.ivf_nlist, spec_.pq_m, spec_.pq_nbits, metric);
    ivf->own_fields = true;
    ivf->nprobe = spec_.ivf_nprobe;
    ivf->train(n, vectors.data());
    auto wrapped = Wrap(std::move(ivf));
    wrapped->add_with_ids(n, vectors.data(), ids.data());
    index_ = std::move(wrapped);
    trained_ivf_ = true;
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("faiss: training IVF-PQ: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status VectorIndex::Add(const std::vector<uint64_t>& ids, const std::vector<float>& vectors) {
  if (ids.empty()) return absl::OkStatus();
  if (vectors.size() != ids.size() * static_cast<size_t>(dimension_)) {
    return absl::InvalidArgumentError(absl::StrCat("vector index: ", vectors.size(), " values for ", ids.size(),
                                                   " vectors of dimension ", dimension_));
  }
  std::vector<faiss::Index::idx_t> faiss_ids(ids.begin(), ids.end());
  try {
    index_->add_with_ids(static_cast<faiss::Index::idx_t>(ids.size()), vectors.data(), faiss_ids.data());
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("faiss: add: ", e.what()));
  }
  return MaybeTrain();
}

void VectorIndex::Remove(const std::vector<uint64_t>& ids) {
  if (ids.empty()) return;
  std::vector<faiss::Index::idx_t> faiss_ids(ids.begin(), ids.end());
  faiss::IDSelectorBatch selector(faiss_ids.size(), faiss_ids.data());
  try {
    index_->remove_ids(selector);
  } catch (const faiss::FaissException&) {
    // HNSW: left in place, filtered by the caller. Only ids the index holds are dead: an Ingest
    // still in progress adds its vectors at its end, and a chunk deleted before then is never
    // added (counted, it took a live vector off vector_count, for good: dead_ is saved).
    auto* map = dynamic_cast<faiss::IndexIDMap2*>(index_.get());
    for (uint64_t id : ids) {
      if (map == nullptr || map->rev_map.count(static_cast<faiss::Index::idx_t>(id))) ++dead_;
    }
  }
}

std::vector<std::pair<uint64_t, float>> VectorIndex::Search(const std::vector<float>& query, size_t k) const {
  const int64_t total = index_->ntotal;
  if (total == 0 || k == 0) return {};
  const int64_t want = std::min<int64_t>(static_cast<int64_t>(k), total);
  std::vector<float> distances(want);
  std::vector<faiss::Index::idx_t> labels(want);
  try {
    index_->search(1, query.data(), want, distances.data(), labels.data());
  } catch (const faiss::FaissException&) {
    return {};
  }
  std::vector<std::pair<uint64_t, float>> out;
  for (int64_t i = 0; i < want; ++i) {
    if (labels[i] < 0) continue;
    // L2 distances become similarities (higher is better) like inner products.
    const float similarity = spec_.metric == Metric::kL2 ? -distances[i] : distances[i];
    out.emplace_back(static_cast<uint64_t>(labels[i]), similarity);
  }
  return out;
}

absl::Status VectorIndex::Save(const std::string& path, uint64_t sequence, rocksdb::FileSystem* fs) const {
  faiss::VectorIOWriter writer;
  try {
    faiss::write_index(index_.get(), &writer);
  } catch (const faiss::FaissException& e) {
    return absl::InternalError(absl::StrCat("faiss: write: ", e.what()));
  }
  std::string header(kMagic, sizeof kMagic - 1);
  header.append(reinterpret_cast<const char*>(&kVersion), sizeof kVersion);
  header.append(reinterpret_cast<const char*>(&sequence), sizeof sequence);
  header.append(reinterpret_cast<const char*>(&dead_), sizeof dead_);
  header.push_back(trained_ivf_ ? 1 : 0);

  const std::string temp = path + ".tmp";
  const rocksdb::IOOptions io;
  auto failed = [&](const rocksdb::IOStatus& status, const char* step) {
    fs->DeleteFile(temp, io, nullptr).PermitUncheckedError();
    return RocksStatusToAbsl(status, absl::StrCat("vector index ", path, ": ", step),
                             std::filesystem::path(path).parent_path().string());
  };
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus status = fs->NewWritableFile(temp, rocksdb::FileOptions(), &file, nullptr);
  if (!status.ok()) return failed(status, "create");
  status = file->Append(header, io, nullptr);
  if (status.ok()) {
    status = file->Append(rocksdb::Slice(reinterpret_cast<const char*>(writer.data.data()), writer.data.size()), io, nullptr);
  }
  // Synced before the rename: otherwise a crash soon after could leave PATH naming a file
  // whose blocks never reached the disk.
  if (status.ok()) status = file->Fsync(io, nullptr);
  rocksdb::IOStatus closed = file->Close(io, nullptr);
  if (status.ok()) status = closed;
  if (!status.ok()) return failed(status, "write");
  status = fs->RenameFile(temp, path, io, nullptr);
  if (!status.ok()) return failed(status, "rename");
  std::unique_ptr<rocksdb::FSDirectory> directory;
  status = fs->NewDirectory(std::filesystem::path(path).parent_path().string(), io, &directory, nullptr);
  if (status.ok()) status = directory->Fsync(io, nullptr);
  // The file is whole either way; an unsynced directory only risks the rename, and the older
  // index (or a rebuild) is what a crash would then find.
  status.PermitUncheckedError();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path, int dimension,
                                                              const IndexSpec& raw, uint64_t* sequence) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unique_ptr<VectorIndex>();
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string data = buffer.str();
  const size_t header = sizeof kMagic - 1 + sizeof(uint32_t) + 2 * sizeof(uint64_t) + 1;
  if (data.size() < header || data.compare(0, sizeof kMagic - 1, kMagic) != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a vector index file"));
  }
  uint32_t version;
  std::memcpy(&version, data.data() + sizeof kMagic - 1, sizeof version);
  if (version != kVersion) return absl::DataLossError(absl::StrCat(path, ": format version ", version));
  std::unique_ptr<VectorIndex> index(new VectorIndex(dimension, WithDefaults(raw, dimension)));
  std::memcpy(sequence, data.data() + sizeof kMagic - 1 + 4, 8);
  std::memcpy(&index->dead_, data.data() + sizeof kMagic - 1 + 12, 8);
  index->trained_ivf_ = data[sizeof kMagic - 1 + 20] != 0;
  faiss::VectorIOReader reader;
  reader.data.assign(data.begin() + header, data.end());
  try {
    index->index_.reset(faiss::read_index(&reader));
  } catch (const faiss::FaissException& e) {
    return absl::DataLossError(absl::StrCat(path, ": ", e.what()));
  }
  if (index->index_ == nullptr || index->index_->d != dimension) {
    return absl::DataLossError(absl::StrCat(path, ": dimension does not match the collection"));
  }
  if (auto* map = dynamic_cast<faiss::IndexIDMap2*>(index->index_.get())) {
    if (map->index == nullptr || !BuiltWith(*map->index, index->spec_, index->trained_ivf_)) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": built with other index settings than the collection's"));
    }
    UseSimdStorage(map);
    if (auto* ivf = dynamic_cast<faiss::IndexIVFPQ*>(map->index)) ivf->nprobe = index->spec_.ivf_nprobe;
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(map->index)) hnsw->hnsw.efSearch = index->spec_.hnsw_ef_search;
  } else {
    return absl::DataLossError(absl::StrCat(path, ": not an id-mapped index"));
  }
  return index;
}

}  // namespace memory::internal
