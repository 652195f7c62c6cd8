#include "cpu/stealing_shares.h"

#include <algorithm>

namespace engine::cpu {

StealingShares::StealingShares(const std::vector<int64_t>& piece_counts)
    : count_(static_cast<int>(piece_counts.size())), ranges_(std::make_unique<Range[]>(piece_counts.size())) {
  for (int s = 0; s < count_; ++s) {
    const uint64_t pieces = static_cast<uint64_t>(std::clamp<int64_t>(piece_counts[static_cast<size_t>(s)], 0, INT32_MAX));
    ranges_[s].front_back.store(Pack(0, pieces), std::memory_order_relaxed);
  }
}

bool StealingShares::Take(int share, bool from_back, int64_t* index) {
  std::atomic<uint64_t>& range = ranges_[share].front_back;
  uint64_t seen = range.load(std::memory_order_acquire);
  while (true) {
    const uint64_t front = seen & 0xffffffffu, back = seen >> 32;
    if (front >= back) return false;
    const uint64_t claimed = from_back ? Pack(front, back - 1) : Pack(front + 1, back);
    if (range.compare_exchange_weak(seen, claimed, std::memory_order_acq_rel)) {
      *index = static_cast<int64_t>(from_back ? back - 1 : front);
      return true;
    }
  }
}

bool StealingShares::Next(int self, Piece* piece) {
  if (self >= 0 && self < count_ && Take(self, /*from_back=*/false, &piece->index)) {
    piece->share = self;
    return true;
  }
  while (true) {
    // The share with the most left: its owner is the furthest from done.
    int most = -1;
    uint64_t most_left = 0;
    for (int s = 0; s < count_; ++s) {
      const uint64_t seen = ranges_[s].front_back.load(std::memory_order_relaxed);
      const uint64_t front = seen & 0xffffffffu, back = seen >> 32;
      if (back > front && back - front > most_left) {
        most = s;
        most_left = back - front;
      }
    }
    if (most < 0) return false;
    if (Take(most, /*from_back=*/true, &piece->index)) {
      piece->share = most;
      return true;
    }
  }
}

}  // namespace engine::cpu
