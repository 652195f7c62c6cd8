#include "cpu/stealing_shares.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace engine::cpu {
namespace {

TEST(StealingSharesTest, AThreadAloneTakesItsShareInOrderThenTheOthersFromTheirBacks) {
  StealingShares shares({3, 2, 0});
  std::vector<std::pair<int, int64_t>> taken;
  StealingShares::Piece piece;
  while (shares.Next(0, &piece)) taken.emplace_back(piece.share, piece.index);
  // Its own front to back; then the share with the most left, from its back.
  const std::vector<std::pair<int, int64_t>> expected = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 0}};
  EXPECT_EQ(taken, expected);
  EXPECT_FALSE(shares.Next(1, &piece));
  EXPECT_FALSE(shares.Next(2, &piece));
}

TEST(StealingSharesTest, TheOwnerKeepsItsFrontWhileAnotherTakesItsBack) {
  StealingShares shares({4, 1});
  StealingShares::Piece piece;
  ASSERT_TRUE(shares.Next(1, &piece));  // thread 1's own single piece
  EXPECT_EQ(piece.share, 1);
  ASSERT_TRUE(shares.Next(1, &piece));  // then share 0's last
  EXPECT_EQ(piece.share, 0);
  EXPECT_EQ(piece.index, 3);
  ASSERT_TRUE(shares.Next(0, &piece));  // the owner still starts at its front
  EXPECT_EQ(piece.share, 0);
  EXPECT_EQ(piece.index, 0);
}

TEST(StealingSharesTest, EveryPieceIsHandedOutOnceWhateverTheInterleaving) {
  constexpr int kThreads = 4;
  const std::vector<int64_t> counts = {5000, 1, 3000, 0};
  for (int round = 0; round < 20; ++round) {
    StealingShares shares(counts);
    std::vector<std::vector<std::atomic<int>>> seen;
    for (int64_t c : counts) seen.emplace_back(static_cast<size_t>(c));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        StealingShares::Piece piece;
        while (shares.Next(t, &piece)) seen[static_cast<size_t>(piece.share)][static_cast<size_t>(piece.index)]++;
      });
    }
    for (std::thread& t : threads) t.join();
    for (size_t s = 0; s < counts.size(); ++s) {
      for (int64_t i = 0; i < counts[s]; ++i) ASSERT_EQ(seen[s][static_cast<size_t>(i)].load(), 1) << s << " " << i;
    }
  }
}

}  // namespace
}  // namespace engine::cpu
