#include "model/scratch.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace engine::model {
namespace {

TEST(ScratchTest, SpansAreAlignedDisjointAndReusedAfterReset) {
  Scratch scratch;
  float* a = scratch.Floats(3);
  float* b = scratch.Floats(1000);
  float* c = scratch.Floats(5 << 20);  // larger than a chunk
  for (float* p : {a, b, c}) EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  EXPECT_GE(b, a + 3);
  for (int i = 0; i < 1000; ++i) b[i] = 1.0f;
  for (int i = 0; i < 3; ++i) a[i] = 2.0f;
  EXPECT_EQ(b[0], 1.0f);  // writing a did not reach b
  const size_t capacity = scratch.capacity();
  scratch.Reset();
  // The same sizes again come from the memory kept: nothing new is allocated.
  scratch.Floats(3);
  scratch.Floats(1000);
  scratch.Floats(5 << 20);
  EXPECT_EQ(scratch.capacity(), capacity);
}

TEST(ScratchTest, ZerosAreZeroEvenInReusedMemory) {
  Scratch scratch;
  float* p = scratch.Floats(4096);
  for (int i = 0; i < 4096; ++i) p[i] = 7.0f;
  scratch.Reset();
  float* z = scratch.Zeros(4096);
  for (int i = 0; i < 4096; ++i) ASSERT_EQ(z[i], 0.0f);
}

TEST(ScratchTest, RewindHandsTheSameMemoryToTheNextLayer) {
  Scratch scratch;
  float* x = scratch.Floats(1000);  // lives across layers
  float* first_layer = nullptr;
  for (int layer = 0; layer < 12; ++layer) {
    const Scratch::Mark mark = scratch.GetMark();
    float* h = scratch.Floats(3 << 20);  // spills into a second chunk
    float* out = scratch.Floats(1 << 10);
    EXPECT_NE(h, x);
    EXPECT_NE(out, h);
    if (layer == 0) first_layer = h;
    EXPECT_EQ(h, first_layer) << "layer " << layer;
    scratch.Rewind(mark);
  }
  // Twelve layers needed no more than one did.
  EXPECT_LE(scratch.capacity(), size_t{2} * (1 << 20) + (3 << 20));
}

TEST(ScratchTest, ResetKeepsNothingOverTheBound) {
  Scratch scratch(/*max_kept_floats=*/3 << 20);
  scratch.Floats(1 << 20);
  scratch.Reset();
  EXPECT_EQ(scratch.capacity(), size_t{1} << 20);  // under the bound: kept
  scratch.Floats(8 << 20);
  EXPECT_EQ(scratch.capacity(), size_t{9} << 20);
  scratch.Reset();
  EXPECT_EQ(scratch.capacity(), 0u);
}

TEST(ScratchPoolTest, ConcurrentPassesGetDistinctScratches) {
  ScratchPool pool;
  ScratchPool::Lease first = pool.Acquire();
  ScratchPool::Lease second = pool.Acquire();
  EXPECT_NE(&*first, &*second);
  float* p = first->Floats(16);
  Scratch* kept = &*first;
  { ScratchPool::Lease moved = std::move(first); }  // returned to the pool, reset
  ScratchPool::Lease again = pool.Acquire();
  EXPECT_EQ(&*again, kept);
  EXPECT_EQ(again->Floats(16), p);  // reset: the first span again
}

}  // namespace
}  // namespace engine::model
