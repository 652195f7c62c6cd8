// Rounding to the nearest integer (ties to even) that compilers vectorise: std::nearbyint is a
// library call unless the build allows fast math, and quantising a checkpoint calls it once per
// weight. Adding and taking away 1.5 · 2^23 leaves no fraction bits; exact for |x| < 2^22.
#ifndef AGENTD_ENGINE_CPU_ROUND_H_
#define AGENTD_ENGINE_CPU_ROUND_H_

namespace engine::cpu {

inline float RoundToNearest(float x) {
  constexpr float kShift = 0x1.8p23f;
  return (x + kShift) - kShift;
}

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_ROUND_H_
