// A KV block pool's rows in GPU memory (engine::KvBlockStorage): the pool keeps ids and reference
// counts as on the CPU, this keeps the rows, in the CPU blocks' layout (cuda/ops.h's
// PagedKvLayout). It grows a chunk of blocks at a time, so an unbounded pool costs only what its
// caches use, and the kernels find a block through a device table of block addresses.
#ifndef AGENTD_ENGINE_CUDA_DEVICE_KV_BLOCKS_H_
#define AGENTD_ENGINE_CUDA_DEVICE_KV_BLOCKS_H_

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/kv_block_pool.h"

namespace engine::cuda {

class DeviceKvBlocks final : public KvBlockStorage {
 public:
  // `block_floats`: one block's floats (every layer's a and b rows); `max_blocks`: the pool's
  // bound (0: none), whose blocks are taken at once when the memory is there, so that the pool
  // does not promise what the GPU cannot give; `owner`: the model whose caches these are
  // (ForwardBatch checks it; expired once that model is gone, so a later model at the same
  // address is not taken for it, and the stream is used only while it lives).
  DeviceKvBlocks(int64_t block_floats, int64_t max_blocks, cudaStream_t stream, std::weak_ptr<const void> owner);
  ~DeviceKvBlocks() override;

  bool Provide(int32_t block) override;
  void CopyBlock(int32_t from, int32_t to) override;
  uint64_t bytes_allocated() const override;

  // True when `identity` is the owner's (alive).
  bool OwnedBy(const std::shared_ptr<const void>& identity) const { return owner_.lock() == identity; }
  // The device table of block addresses, uploaded again when blocks were added since the last
  // call. Call between passes (nothing in flight reads the old table).
  absl::StatusOr<float* const*> DeviceTable();

 private:
  const int64_t block_floats_, max_blocks_;
  const cudaStream_t stream_;
  const std::weak_ptr<const void> owner_;
  mutable std::mutex mutex_;
  std::vector<void*> chunks_;
  std::vector<float*> bases_;  // host copy of the table
  float** device_table_ = nullptr;
  size_t device_table_capacity_ = 0;
  bool table_stale_ = true;
};

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_DEVICE_KV_BLOCKS_H_
