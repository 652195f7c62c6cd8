#include "model/kv_cache.h"

#include "absl/strings/str_cat.h"

namespace engine::model {

absl::Status PagedKvCache::Reserve(int64_t extra) {
  const int64_t needed = BlocksFor(length_ + extra);
  const size_t had = blocks_.size();
  // The block holding position `length` is written from its middle on: it must be ours alone.
  const int64_t first_written = length_ >> pool_->block_shift();
  if (extra > 0 && first_written < static_cast<int64_t>(had) && pool_->ref_count(blocks_[first_written]) > 1) {
    const int32_t copy = pool_->Allocate();
    if (copy < 0) return absl::ResourceExhaustedError("KV cache: no free block to copy a shared block into");
    pool_->CopyBlock(blocks_[first_written], copy);
    pool_->Release(blocks_[first_written]);
    blocks_[first_written] = copy;
  }
  while (static_cast<int64_t>(blocks_.size()) < needed) {
    const int32_t block = pool_->Allocate();
    if (block < 0) {
      ReleaseFrom(had);
      return absl::ResourceExhaustedError(absl::StrCat("KV cache: the pool's ", pool_->max_blocks(),
                                                       " blocks are all in use"));
    }
    blocks_.push_back(block);
  }
  return absl::OkStatus();
}

void PagedKvCache::AdoptPrefix(std::span<const int32_t> blocks) {
  ReleaseFrom(0);
  for (int32_t block : blocks) {
    pool_->AddRef(block);
    blocks_.push_back(block);
  }
  length_ = static_cast<int64_t>(blocks.size()) << pool_->block_shift();
}

}  // namespace engine::model
