// The hash behind FillRandomBf16/FillRandomF32 (cuda/ops.h), callable on host and device so the
// kernels have a CPU reference: splitmix64 of (seed, index), its top 24 bits as a uniform in
// [-limit, limit).
#ifndef AGENTD_ENGINE_CUDA_RANDOM_FILL_H_
#define AGENTD_ENGINE_CUDA_RANDOM_FILL_H_

#include <cstdint>

#ifdef __CUDACC__
#define AGENTD_HOST_DEVICE __host__ __device__
#else
#define AGENTD_HOST_DEVICE
#endif

namespace engine::cuda {

AGENTD_HOST_DEVICE inline float RandomWeight(uint64_t seed, int64_t index, float limit) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(index) + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const float unit = static_cast<float>(z >> 40) * (1.0f / 16777216.0f);  // [0, 1)
  return (2.0f * unit - 1.0f) * limit;
}

}  // namespace engine::cuda

#endif  // AGENTD_ENGINE_CUDA_RANDOM_FILL_H_
