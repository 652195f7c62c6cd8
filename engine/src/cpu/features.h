// What this CPU's vector units offer, asked once per process: kernels with an AVX-512 version
// choose it by these, and fall back to their portable loops elsewhere.
#ifndef AGENTD_ENGINE_CPU_FEATURES_H_
#define AGENTD_ENGINE_CPU_FEATURES_H_

namespace engine::cpu {

inline bool HasAvx512F() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

// AVX-512 with byte and word instructions (vpmovdb and friends).
inline bool HasAvx512BW() {
  static const bool has = HasAvx512F() && __builtin_cpu_supports("avx512bw");
  return has;
}

}  // namespace engine::cpu

#endif  // AGENTD_ENGINE_CPU_FEATURES_H_
