// The KV block pool directly: reference counts, freeing at zero, reuse, the bound, and
// copy-on-write copies — what prefix caching and preemption rely on.
#include "engine/kv_block_pool.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <utility>
#include <vector>

namespace engine {
namespace {

KvRowShape SmallShape() { return {.layers = 2, .a_width = 3, .b_width = 2, .hidden_width = 0}; }

TEST(KvBlockPoolTest, BlocksAreFreedWhenTheLastReferenceGoesAndThenReused) {
  KvBlockPool pool(SmallShape(), {.block_size = 4, .max_blocks = 3});
  const int32_t a = pool.Allocate();
  const int32_t b = pool.Allocate();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool.ref_count(a), 1);
  EXPECT_EQ(pool.blocks_in_use(), 2);
  EXPECT_EQ(pool.free_blocks(), 1);

  // Shared (a prefix-cache hit): two references, and one release leaves it held.
  pool.AddRef(a);
  EXPECT_EQ(pool.ref_count(a), 2);
  pool.Release(a);
  EXPECT_EQ(pool.ref_count(a), 1);
  EXPECT_EQ(pool.blocks_in_use(), 2);

  // The bound: the third block is the last one.
  const int32_t c = pool.Allocate();
  ASSERT_GE(c, 0);
  EXPECT_EQ(pool.free_blocks(), 0);
  EXPECT_EQ(pool.Allocate(), -1);

  // At zero the block is free again and is what the next allocation gets.
  pool.Release(b);
  EXPECT_EQ(pool.ref_count(b), 0);
  EXPECT_EQ(pool.blocks_in_use(), 2);
  EXPECT_EQ(pool.Allocate(), b);
  EXPECT_EQ(pool.ref_count(b), 1);
  for (int32_t block : {a, b, c}) pool.Release(block);
  EXPECT_EQ(pool.blocks_in_use(), 0);
  EXPECT_EQ(pool.free_blocks(), 3);
}

TEST(KvBlockPoolTest, CopyBlockCopiesEveryRowOfEveryLayer) {
  KvBlockPool pool(SmallShape(), {.block_size = 4});
  const int32_t from = pool.Allocate();
  const int32_t to = pool.Allocate();
  for (int layer = 0; layer < 2; ++layer) {
    for (int64_t offset = 0; offset < 4; ++offset) {
      for (int64_t i = 0; i < 3; ++i) pool.a(from, layer, offset)[i] = static_cast<float>(100 * layer + 10 * offset + i);
      for (int64_t i = 0; i < 2; ++i) pool.b(from, layer, offset)[i] = static_cast<float>(-(100 * layer + 10 * offset + i));
    }
  }
  pool.CopyBlock(from, to);
  for (int layer = 0; layer < 2; ++layer) {
    for (int64_t offset = 0; offset < 4; ++offset) {
      for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(pool.a(to, layer, offset)[i], pool.a(from, layer, offset)[i]);
      for (int64_t i = 0; i < 2; ++i) EXPECT_EQ(pool.b(to, layer, offset)[i], pool.b(from, layer, offset)[i]);
    }
  }
  // The copy is its own memory: writing it leaves the original as it was.
  pool.a(to, 1, 3)[2] = 7.5f;
  EXPECT_EQ(pool.a(from, 1, 3)[2], 132.0f);
}

TEST(KvBlockPoolTest, AnUnboundedPoolGrowsAndHandsOutDistinctBlocks) {
  KvBlockPool pool(SmallShape(), {.block_size = 2});
  std::set<int32_t> blocks;
  for (int i = 0; i < 100; ++i) {
    const int32_t block = pool.Allocate();
    ASSERT_GE(block, 0);
    EXPECT_TRUE(blocks.insert(block).second) << "block " << block << " handed out twice";
  }
  EXPECT_EQ(pool.blocks_in_use(), 100);
  EXPECT_GE(pool.bytes_allocated(), 100 * pool.block_bytes());
}

// Rows kept elsewhere (the CUDA backend's device blocks): the pool asks the storage once per new
// block, hands out -1 (and the id again later) when it has no memory, and passes copies on.
class FakeStorage final : public KvBlockStorage {
 public:
  bool Provide(int32_t block) override {
    provided.push_back(block);
    return !refuse;
  }
  void CopyBlock(int32_t from, int32_t to) override { copies.emplace_back(from, to); }
  uint64_t bytes_allocated() const override { return 1234; }
  std::vector<int32_t> provided;
  std::vector<std::pair<int32_t, int32_t>> copies;
  bool refuse = false;
};

TEST(KvBlockPoolTest, AStorageProvidesEachBlockOnceAndTakesTheCopies) {
  auto owned = std::make_unique<FakeStorage>();
  FakeStorage* storage = owned.get();
  KvBlockPool pool({.layers = 2, .a_width = 3, .b_width = 2, .hidden_width = 7}, {.block_size = 4}, std::move(owned));
  EXPECT_EQ(pool.storage(), storage);
  EXPECT_FALSE(pool.stores_hidden());  // a storage keeps no hidden states
  const int32_t a = pool.Allocate(), b = pool.Allocate();
  EXPECT_EQ(storage->provided, (std::vector<int32_t>{a, b}));
  pool.Release(a);
  EXPECT_EQ(pool.Allocate(), a);  // reused: not provided again
  EXPECT_EQ(storage->provided.size(), 2u);
  storage->refuse = true;
  EXPECT_EQ(pool.Allocate(), -1);
  EXPECT_EQ(pool.blocks_in_use(), 2);
  storage->refuse = false;
  const int32_t c = pool.Allocate();
  EXPECT_GE(c, 0);
  EXPECT_EQ(storage->provided.back(), c);
  pool.CopyBlock(a, c);
  EXPECT_EQ(storage->copies, (std::vector<std::pair<int32_t, int32_t>>{{a, c}}));
  EXPECT_EQ(pool.bytes_allocated(), 1234u);
}

TEST(KvBlockPoolTest, ABoundedPoolWithAStorageKeepsItsBound) {
  auto owned = std::make_unique<FakeStorage>();
  FakeStorage* storage = owned.get();
  KvBlockPool pool(SmallShape(), {.block_size = 4, .max_blocks = 2}, std::move(owned));
  storage->refuse = true;
  EXPECT_EQ(pool.Allocate(), -1);
  storage->refuse = false;
  EXPECT_GE(pool.Allocate(), 0);
  EXPECT_GE(pool.Allocate(), 0);
  EXPECT_EQ(pool.Allocate(), -1);
  EXPECT_EQ(pool.free_blocks(), 0);
}

}  // namespace
}  // namespace engine
