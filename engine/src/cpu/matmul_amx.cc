#include "cpu/matmul_amx.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstring>

namespace engine::cpu::amx {

#if defined(__x86_64__)
namespace {

constexpr int64_t kTile = 16;       // rows of a tile; tokens of a B tile
constexpr int64_t kTileK = 32;      // bf16 elements of k per tile row (64 bytes)
constexpr int64_t kL1Slices = 4;    // how far ahead the next lines of the current rows are requested

// Linux hands out the 8 KiB of tile data state per process, on request (arch_prctl
// ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); without it the first tile instruction faults.
bool HasAmxFeature(unsigned bit) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  const bool amx_tile = edx & (1u << 24);
  return amx_tile && (edx & (1u << bit));
}

bool RequestTileState() {
  constexpr long kArchReqXcompPerm = 0x1023;
  constexpr long kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// Palette 1: tiles 0-3 accumulate (16 rows × 16 float32), 4-5 hold weights (16 rows × 32
// bf16), 6-7 tokens (16 rows of 16 bf16 pairs).
struct alignas(64) TileConfig {
  uint8_t palette_id = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

}  // namespace

__attribute__((target("amx-tile"))) void ConfigureTiles() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  // GCC does not see ldtilecfg read its operand and drops the stores above as dead (found when
  // this function stopped being inlined: the tiles came up unconfigured and the first tile load
  // faulted); the empty asm tells it the memory is read.
  asm volatile("" : : "r"(&config) : "memory");
  _tile_loadconfig(&config);
  configured = true;
}

bool Available() {
  static const bool available = HasAmxFeature(22) && RequestTileState();  // AMX-BF16
  return available;
}

bool AvailableInt8() {
  static const bool available = HasAmxFeature(25) && RequestTileState();  // AMX-INT8
  return available;
}

bool Suits(const Matrix& w) {
  constexpr int64_t kHeadRows = 32768;  // vocabularies are 32k-160k rows
  return w.quantized == nullptr && w.dtype == DType::kBF16 && w.cols % kTileK == 0 && w.rows >= kTile && w.rows < kHeadRows;
}

std::vector<uint16_t> PackWeights(const Matrix& w) {
  const int64_t k = w.cols, blocks = w.rows / kTile, slices = k / kTileK;
  const uint16_t* rows = static_cast<const uint16_t*>(w.data);
  std::vector<uint16_t> packed(static_cast<size_t>(blocks * kTile * k));
  // Done at load for every matrix the kernel takes: on every core.
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t s = 0; s < slices; ++s) {
      uint16_t* tile = packed.data() + (b * slices + s) * kTile * kTileK;
      for (int64_t i = 0; i < kTile; ++i) std::memcpy(tile + i * kTileK, rows + (b * kTile + i) * k + s * kTileK, 64);
    }
  }
  return packed;
}

int64_t PackedSize(int64_t n, int64_t k) { return (n + kTile - 1) / kTile * kTile * k; }

void PackTokens(const uint16_t* rounded, int64_t stride, int64_t n, int64_t k, uint16_t* packed) {
  const int64_t slices = k / kTileK;
  const int64_t blocks = (n + kTile - 1) / kTile;
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t s = 0; s < slices; ++s) {
      // One B tile: 16 rows (pairs of k) × 16 tokens, 32 bits each; past n, zeros.
      uint32_t* tile = reinterpret_cast<uint32_t*>(packed + (b * slices + s) * kTile * kTileK);
      for (int64_t j = 0; j < kTile; ++j) {
        const int64_t token = b * kTile + j;
        for (int64_t i = 0; i < kTileK / 2; ++i) {
          uint32_t pair = 0;
          if (token < n) std::memcpy(&pair, rounded + token * stride + s * kTileK + 2 * i, sizeof pair);
          tile[i * kTile + j] = pair;
        }
      }
    }
  }
}

__attribute__((target("amx-tile,amx-bf16,avx512f"))) void Rows(const uint16_t* packed, int64_t n, const Matrix& w,
                                                               float* y, int64_t r0, int64_t r1) {
  ConfigureTiles();
  const int64_t k = w.cols, m = w.rows;
  const int64_t slices = k / kTileK;
  const int64_t blocks = (n + kTile - 1) / kTile;
  const int64_t tile_elements = kTile * kTileK;  // uint16 elements of one packed B tile
  const uint16_t* weights = static_cast<const uint16_t*>(w.data);
  const int64_t stride_bytes = k * 2;
  alignas(64) float sums[4][kTile][kTile];
  // Writes accumulator tile `c` (weight rows r.., tokens of block b) into y, transposed.
  auto scatter = [&](int c, int64_t r, int64_t b) {
    for (int64_t j = 0; j < kTile && b * kTile + j < n; ++j) {
      float* out = y + (b * kTile + j) * m + r;
      for (int64_t i = 0; i < kTile; ++i) out[i] = sums[c][i][j];
    }
  };
  // Where the A tile of 16 rows from `row` and slice s is, and its row stride in bytes.
  const bool packed_weights = w.tiles != nullptr;
  auto weight_tile = [&](int64_t row, int64_t s) -> const uint16_t* {
    return packed_weights ? w.tiles + (row / kTile * slices + s) * kTile * kTileK : weights + row * k + s * kTileK;
  };
  const int64_t a_stride = packed_weights ? 64 : stride_bytes;
  int64_t r = r0;
  while (r < r1) {
    const bool two_row_tiles = r + 2 * kTile <= r1;
    const uint16_t* a0 = weights + r * k;
    for (int64_t b = 0; b < blocks; b += 2) {
      const bool two_token_tiles = b + 1 < blocks;
      const uint16_t* b0 = packed + b * slices * tile_elements;
      const uint16_t* b1 = b0 + slices * tile_elements;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t s = 0; s < slices; ++s) {
        // The weights stream from memory once, in the first pass over the tokens. 32 rows read a
        // line at a time each are more streams than the hardware prefetchers follow, so while
        // this block's slice s is multiplied, slice s of the next block's rows is requested:
        // the next block arrives whole by the time it is needed.
        // A tile load waits for all 16 of its lines, and the next load into the same tile waits
        // for the multiply reading it (tiles are not renamed): with one token tile (decode) that
        // serialises on the L2's latency unless the lines a few slices on are in L1 already.
        if (b == 0 && !packed_weights) {
          const uint16_t* next = a0 + 2 * kTile * k + s * kTileK;
          const int64_t ahead = std::min<int64_t>(s + kL1Slices, slices - 1) * kTileK;
#pragma GCC unroll 8
          for (int64_t i = 0; i < 2 * kTile; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(next + i * k), _MM_HINT_T1);
            _mm_prefetch(reinterpret_cast<const char*>(a0 + i * k + ahead), _MM_HINT_T0);
          }
        } else if (b == 0) {
          // Tile-ordered weights are sequential, but one tile load in flight per stream (a tile
          // is not reloaded until the multiply reading it is done) leaves them latency-bound at
          // one token: the same slice of the next block of rows is requested into L2 (a whole
          // block ahead, as above), and the tiles kL1Slices on into L1.
          const int64_t ahead = std::min<int64_t>(s + kL1Slices, slices - 1);
          const int64_t rows_here = two_row_tiles ? 2 * kTile : kTile;
          for (int64_t t = 0; t < rows_here; t += kTile) {
            const char* near = reinterpret_cast<const char*>(weight_tile(r + t, ahead));
#pragma GCC unroll 16
            for (int64_t line = 0; line < kTile; ++line) _mm_prefetch(near + line * 64, _MM_HINT_T0);
            if (r + rows_here + t + kTile <= w.rows) {
              const char* far = reinterpret_cast<const char*>(weight_tile(r + rows_here + t, s));
#pragma GCC unroll 16
              for (int64_t line = 0; line < kTile; ++line) _mm_prefetch(far + line * 64, _MM_HINT_T1);
            }
          }
        }
        _tile_loadd(4, weight_tile(r, s), a_stride);
        _tile_loadd(6, b0 + s * tile_elements, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (two_token_tiles) {
          _tile_loadd(7, b1 + s * tile_elements, 64);
          _tile_dpbf16ps(1, 4, 7);
        }
        if (two_row_tiles) {
          _tile_loadd(5, weight_tile(r + kTile, s), a_stride);
          _tile_dpbf16ps(2, 5, 6);
          if (two_token_tiles) _tile_dpbf16ps(3, 5, 7);
        }
      }
      _tile_stored(0, sums[0], 64);
      scatter(0, r, b);
      if (two_token_tiles) {
        _tile_stored(1, sums[1], 64);
        scatter(1, r, b + 1);
      }
      if (two_row_tiles) {
        _tile_stored(2, sums[2], 64);
        scatter(2, r + kTile, b);
        if (two_token_tiles) {
          _tile_stored(3, sums[3], 64);
          scatter(3, r + kTile, b + 1);
        }
      }
    }
    r += two_row_tiles ? 2 * kTile : kTile;
  }
}

#else  // not x86-64: no AMX

bool Available() { return false; }
bool AvailableInt8() { return false; }
void ConfigureTiles() {}
bool Suits(const Matrix&) { return false; }
std::vector<uint16_t> PackWeights(const Matrix&) { return {}; }
int64_t PackedSize(int64_t n, int64_t k) { return 0; }
void PackTokens(const uint16_t*, int64_t, int64_t, int64_t, uint16_t*) {}
void Rows(const uint16_t*, int64_t, const Matrix&, float*, int64_t, int64_t) {}

#endif

}  // namespace engine::cpu::amx
