#include "cuda/device_kv_blocks.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace engine::cuda {

DeviceKvBlocks::DeviceKvBlocks(int64_t block_floats, int64_t max_blocks, cudaStream_t stream,
                               std::weak_ptr<const void> owner)
    : block_floats_(block_floats), max_blocks_(max_blocks), stream_(stream), owner_(std::move(owner)) {
  if (max_blocks_ > 0) Provide(static_cast<int32_t>(max_blocks_ - 1));  // else they come as asked
}

DeviceKvBlocks::~DeviceKvBlocks() {
  // The pool may outlive the model and its stream: wait for the whole device.
  cudaDeviceSynchronize();
  for (void* chunk : chunks_) cudaFree(chunk);
  cudaFree(device_table_);
}

bool DeviceKvBlocks::Provide(int32_t block) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (block < 0) return false;
  if (static_cast<size_t>(block) < bases_.size()) return true;
  // Grow by doubling (at least 16 blocks, at most to the bound), so a long prompt's many blocks
  // come in few allocations; if that much is not free, just what is asked.
  const int64_t have = static_cast<int64_t>(bases_.size());
  const int64_t needed = static_cast<int64_t>(block) + 1 - have;
  int64_t grow = std::max<int64_t>({needed, have, 16});
  if (max_blocks_ > 0) grow = std::max<int64_t>(needed, std::min(grow, max_blocks_ - have));
  void* chunk = nullptr;
  const size_t block_bytes = static_cast<size_t>(block_floats_) * sizeof(float);
  if (cudaMalloc(&chunk, grow * block_bytes) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free allocation error
    grow = needed;
    if (cudaMalloc(&chunk, grow * block_bytes) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
  }
  chunks_.push_back(chunk);
  for (int64_t i = 0; i < grow; ++i) bases_.push_back(static_cast<float*>(chunk) + i * block_floats_);
  table_stale_ = true;
  return true;
}

void DeviceKvBlocks::CopyBlock(int32_t from, int32_t to) {
  std::lock_guard<std::mutex> lock(mutex_);
  cudaMemcpyAsync(bases_[to], bases_[from], block_floats_ * sizeof(float), cudaMemcpyDeviceToDevice, stream_);
}

uint64_t DeviceKvBlocks::bytes_allocated() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bases_.size() * static_cast<uint64_t>(block_floats_) * sizeof(float);
}

absl::StatusOr<float* const*> DeviceKvBlocks::DeviceTable() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!table_stale_) return device_table_;
  if (bases_.size() > device_table_capacity_) {
    cudaStreamSynchronize(stream_);
    cudaFree(device_table_);
    device_table_ = nullptr;
    device_table_capacity_ = 0;
    const size_t capacity = std::max<size_t>(bases_.size() * 2, 64);
    if (cudaMalloc(&device_table_, capacity * sizeof(float*)) != cudaSuccess) {
      cudaGetLastError();
      return absl::ResourceExhaustedError(absl::StrCat("KV cache: no GPU memory for a table of ", capacity, " blocks"));
    }
    device_table_capacity_ = capacity;
  }
  // On the pass's stream, waited for: the host vector may grow (and move) once this returns.
  cudaError_t copied = cudaMemcpyAsync(device_table_, bases_.data(), bases_.size() * sizeof(float*),
                                       cudaMemcpyHostToDevice, stream_);
  if (copied == cudaSuccess) copied = cudaStreamSynchronize(stream_);
  if (copied != cudaSuccess) return absl::InternalError(absl::StrCat("KV cache table upload: ", cudaGetErrorString(copied)));
  table_stale_ = false;
  return device_table_;
}

}  // namespace engine::cuda
