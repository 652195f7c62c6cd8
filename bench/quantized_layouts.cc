// Single-token products of quantised matrices stored row after row against the same blocks in
// 16-row panels (Matrix::panel_rows, cpu/quantized_panels.h), alternating, in one process: the
// read bandwidth each layout reaches on a decode-shaped working set — an output head
// (151,936 × 1024 by default) and a layer stack's worth of expert-sized matrices, together far
// larger than the caches.
//
//   build/bin/quantized_layouts [--schemes q8,q4] [--rounds 9]
#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cpu/matmul.h"
#include "cpu/quantized.h"

namespace {

using engine::cpu::Matrix;
using engine::cpu::Quantization;

struct Stored {
  std::vector<uint8_t> rows, panels;
  Matrix in_rows, in_panels;
};

Stored Make(int64_t rows, int64_t cols, Quantization q, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> weights(static_cast<size_t>(rows * cols));
  for (float& v : weights) v = normal(rng);
  const Matrix source{engine::DType::kF32, rows, cols, weights.data()};
  Stored s;
  s.rows = engine::cpu::Quantize(source, q);
  s.panels = s.rows;
  s.in_rows = source;
  s.in_rows.quantization = q;
  s.in_rows.quantized = s.rows.data();
  s.in_panels = s.in_rows;
  s.in_panels.quantized = s.panels.data();
  s.in_panels.panel_rows = engine::cpu::PanelRows(q, rows);
  engine::cpu::ToPanels(q, s.panels.data(), s.in_panels.panel_rows, cols);
  // The kernels read the blocks only; `data` must outlive `weights` and not be null (empty()).
  s.in_rows.data = s.in_panels.data = s.rows.data();
  return s;
}

// Seconds for one pass: every matrix times one token, as decode takes them.
double Pass(const std::vector<Stored>& set, bool panels, const std::vector<float>& x, std::vector<float>* y) {
  const auto start = std::chrono::steady_clock::now();
  for (const Stored& s : set) {
    const Matrix& w = panels ? s.in_panels : s.in_rows;
    engine::cpu::MatmulTransposed(x.data(), 1, w, y->data());
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"quantised single-token products: rows against 16-row panels"};
  std::vector<std::string> schemes = {"q8", "q4"};
  int rounds = 9;
  int64_t head_rows = 151936, hidden = 1024, expert = 512, experts = 96;
  app.add_option("--schemes", schemes, "q8, q4")->delimiter(',');
  app.add_option("--rounds", rounds, "alternating passes of each layout (default 9)")->check(CLI::Range(1, 1000));
  app.add_option("--head-rows", head_rows, "rows of the output head (default 151936)")->check(CLI::Range(16, 1 << 20));
  app.add_option("--experts", experts, "expert-shaped pairs [512 x 1024] + [1024 x 512] (default 96)")->check(CLI::Range(1, 4096));
  CLI11_PARSE(app, argc, argv);
  std::mt19937 rng(7);
  for (const std::string& name : schemes) {
    const std::optional<Quantization> q = engine::cpu::ParseQuantization(name);
    if (!q || *q == Quantization::kNone) {
      std::fprintf(stderr, "quantized_layouts: scheme \"%s\" is not q8 or q4\n", name.c_str());
      return 2;
    }
    std::vector<std::vector<Stored>> sets(2);
    sets[0].push_back(Make(head_rows, hidden, *q, rng));
    for (int64_t e = 0; e < experts; ++e) {
      sets[1].push_back(Make(expert, hidden, *q, rng));
      sets[1].push_back(Make(hidden, expert, *q, rng));
    }
    std::vector<float> x(static_cast<size_t>(hidden)), y(static_cast<size_t>(std::max(head_rows, hidden)));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : x) v = normal(rng);
    const char* names[] = {"output head", "experts"};
    for (int k = 0; k < 2; ++k) {
      uint64_t bytes = 0;
      for (const Stored& s : sets[k]) bytes += s.in_rows.bytes();
      std::vector<double> rows_gbs, panels_gbs;
      for (int r = 0; r < rounds; ++r) {
        rows_gbs.push_back(static_cast<double>(bytes) / Pass(sets[k], false, x, &y) / 1e9);
        panels_gbs.push_back(static_cast<double>(bytes) / Pass(sets[k], true, x, &y) / 1e9);
      }
      std::sort(rows_gbs.begin(), rows_gbs.end());
      std::sort(panels_gbs.begin(), panels_gbs.end());
      std::printf("%s %s (%.0f MB): rows %.1f GB/s, panels %.1f GB/s (medians of %d alternating passes; ranges %.1f-%.1f / %.1f-%.1f)\n",
                  name.c_str(), names[k], static_cast<double>(bytes) / 1e6, rows_gbs[rounds / 2], panels_gbs[rounds / 2],
                  rounds, rows_gbs.front(), rows_gbs.back(), panels_gbs.front(), panels_gbs.back());
    }
  }
  return 0;
}
