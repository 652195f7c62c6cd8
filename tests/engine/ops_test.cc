// The elementwise ops of the forward pass (engine/src/cpu/ops.h) against their plain forms.
#include "cpu/ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace engine::cpu {
namespace {

TEST(OpsTest, ArgMaxFindsTheFirstLargestAsMaxElementDoes) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  for (const int64_t n : {1, 2, 15, 16, 17, 31, 33, 100, 1000, 151936}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> x(n);
      for (float& v : x) v = normal(rng);
      if (trial % 4 == 1) {  // the largest value twice: the first one counts
        const size_t a = rng() % n, b = rng() % n;
        x[a] = x[b] = 1e6f;
      }
      if (trial % 4 == 2) std::fill(x.begin(), x.end(), -std::numeric_limits<float>::infinity());
      if (trial % 4 == 3) x[rng() % n] = std::numeric_limits<float>::quiet_NaN();
      EXPECT_EQ(ArgMax(x.data(), n), std::max_element(x.begin(), x.end()) - x.begin()) << "n " << n << " trial " << trial;
    }
  }
}

}  // namespace
}  // namespace engine::cpu
