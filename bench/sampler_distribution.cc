// What choosing one token costs the scheduler thread when temperature > 0: Sampler::Sample over
// a row of logits of the vocabulary's size (Qwen3's by default), for common truncation settings,
// on logits shaped like a trained model's (a few tokens hold most of the mass). Median of
// --rounds.
//
//   sampler_distribution [--vocab 151669] [--rounds 50]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "engine/sampler.h"

int main(int argc, char** argv) {
  CLI::App app{"sampler_distribution: the time of one sampled token over a vocabulary"};
  int vocab = 151669;
  int rounds = 50;
  app.add_option("--vocab", vocab, "logits per row (default 151669, Qwen3)");
  app.add_option("--rounds", rounds, "tokens sampled per setting (default 50)");
  CLI11_PARSE(app, argc, argv);

  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> logits(vocab);
  for (int i = 0; i < vocab; ++i) {
    logits[i] = normal(rng) - 2.0f * std::log1p(static_cast<float>((static_cast<int64_t>(i) * 7919) % vocab));
  }
  struct Setting {
    const char* name;
    engine::SamplingParams params;
  };
  const std::vector<Setting> settings = {
      {"temperature 1 (no truncation)", {.temperature = 1.0f}},
      {"top_k 40", {.temperature = 0.7f, .top_k = 40}},
      {"top_p 0.9", {.temperature = 0.7f, .top_p = 0.9f}},
      {"top_k 20, top_p 0.95 (Qwen3's)", {.temperature = 0.6f, .top_k = 20, .top_p = 0.95f}},
      {"min_p 0.05", {.temperature = 1.0f, .min_p = 0.05f}},
  };
  std::printf("vocabulary: %d\n", vocab);
  for (const Setting& s : settings) {
    engine::Sampler sampler(s.params);
    std::vector<double> times;
    for (int r = 0; r < rounds; ++r) {
      std::vector<float> row = logits;
      const auto start = std::chrono::steady_clock::now();
      const int32_t token = sampler.Sample(row, {});
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      if (token < 0) return 1;
    }
    std::sort(times.begin(), times.end());
    std::printf("%-34s median %7.2f ms  min %7.2f ms\n", s.name, times[times.size() / 2], times.front());
  }
  return 0;
}
