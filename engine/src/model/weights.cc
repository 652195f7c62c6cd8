#include "model/weights.h"

#include "cpu/matmul.h"
#include "cpu/matmul_amx.h"
#include "cpu/matmul_q4.h"
#include "cpu/kquants.h"
#include "cpu/legacy_quants.h"
#include "cpu/matmul_q8.h"
#include "cpu/quantized.h"
#include "engine/gguf.h"
#include "gguf_dequantize.h"
#include "status_macros.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace engine::model {
namespace {

constexpr int64_t kFp8Block = 128;

// A GGUF block type the loader reads: its blocks, and the kernels' scheme it becomes.
struct GgufBlocks {
  GgmlType type;
  int64_t block;        // weights per block
  int64_t block_bytes;
  Quantization quantization;
  bool has_offsets;     // affine levels (cpu/kquants.h): the matrix carries block offsets
};

std::optional<GgufBlocks> GgufBlocksOf(const std::string& dtype_name) {
  using cpu::kquants::kSuperBlock;
  if (dtype_name == "Q8_0") return GgufBlocks{GgmlType::kQ8_0, 32, cpu::q8::kQ8_0BlockBytes, Quantization::kQ8, false};
  if (dtype_name == "Q4_0") return GgufBlocks{GgmlType::kQ4_0, 32, cpu::q4::kQ4_0BlockBytes, Quantization::kQ4, false};
  using cpu::legacy_quants::BlockBytes;
  using LegacyKind = cpu::legacy_quants::Kind;
  if (dtype_name == "Q4_1") return GgufBlocks{GgmlType::kQ4_1, 32, BlockBytes(LegacyKind::kQ4_1), Quantization::kQ4, true};
  if (dtype_name == "Q5_0") return GgufBlocks{GgmlType::kQ5_0, 32, BlockBytes(LegacyKind::kQ5_0), Quantization::kQ8, false};
  if (dtype_name == "Q5_1") return GgufBlocks{GgmlType::kQ5_1, 32, BlockBytes(LegacyKind::kQ5_1), Quantization::kQ8, true};
  if (dtype_name == "Q4_K") return GgufBlocks{GgmlType::kQ4_K, kSuperBlock, cpu::kquants::kQ4_KBytes, Quantization::kQ4, true};
  if (dtype_name == "Q5_K") return GgufBlocks{GgmlType::kQ5_K, kSuperBlock, cpu::kquants::kQ5_KBytes, Quantization::kQ8, true};
  if (dtype_name == "Q6_K") return GgufBlocks{GgmlType::kQ6_K, kSuperBlock, cpu::kquants::kQ6_KBytes, Quantization::kQ8, false};
  return std::nullopt;
}

class WeightLoader {
 public:
  WeightLoader(const ModelConfig& config, const TensorStore& store, const LoadOptions& options, Weights* weights)
      : config_(config), store_(store), options_(options), weights_(weights) {}

  // What a matrix is for decides how far it may be quantised.
  enum class Role {
    kProjection,  // quantised as asked
    kVocabulary,  // output heads, and embeddings tied to one: LoadOptions::vocabulary (8 bits at
                  // most under q4: llama.cpp keeps its output head above 4 bits too, the logits
                  // carry the whole model's error; 4 bits under q4-pure)
    kEmbedding,   // input embeddings with no head tied to them: LoadOptions::embeddings
    kRouter,      // never: a small error in the MoE router picks other experts, which changes the
                  // output far more than the error itself (llama.cpp keeps it in f32 too)
    kRowSlices,   // quantised as asked, read a slice of rows at a time (MLA's kv_b: a head's W_UK
                  // and W_UV, whose rows need not start at multiples of 16, and W_UK along its
                  // rows by AccumulateRows): kept in row layout, never in panels
  };

  absl::StatusOr<Matrix> GetMatrix(const std::string& name, int64_t rows, int64_t cols,
                                   Role role = Role::kProjection) {
    const TensorInfo* t = store_.Find(name);
    if (t == nullptr) return Missing(name);
    if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols) {
      return Misshapen(*t, absl::StrCat("[", rows, ", ", cols, "]"));
    }
    if (const std::optional<GgufBlocks> blocks = GgufBlocksOf(t->dtype_name)) {
      return FromGgufBlocks(*t, *blocks, rows, cols, role);
    }
    if (!t->dtype) return BadDType(*t);
    Matrix m;
    m.rows = rows;
    m.cols = cols;
    const Quantization q = role == Role::kRouter       ? Quantization::kNone
                           : role == Role::kVocabulary ? options_.vocabulary
                           : role == Role::kEmbedding  ? options_.embeddings
                                                       : options_.quantize;
    if (options_.copy != nullptr && cpu::CanQuantize(m, q)) {
      // Already quantised in the saved copy: the checkpoint's own bytes are never read.
      if (const uint8_t* saved = options_.copy->Find(name, rows, cols, q); saved != nullptr) {
        m.dtype = *t->dtype;
        m.data = t->data;
        m.quantization = q;
        m.quantized = saved;
        m.panel_rows = PanelRows(q, rows, role);  // saved as they were laid out
        quantized_.push_back({name, m});
        return m;
      }
    }
    std::unique_ptr<std::vector<uint16_t>> dequantized;
    if (*t->dtype == DType::kF8E4M3) {
      absl::StatusOr<std::unique_ptr<std::vector<uint16_t>>> bf16 = Dequantize(*t);
      if (!bf16.ok()) return bf16.status();
      dequantized = std::move(*bf16);
      m.dtype = DType::kBF16;
      m.data = dequantized->data();
    } else {
      m.dtype = *t->dtype;
      m.data = t->data;
    }
    // Quantised, the kernels read only the blocks: a dequantised FP8 copy is not kept.
    if (cpu::CanQuantize(m, q)) {
      m = Quantized(m, q, role);
      // The kernels read only the blocks; `data` stays the checkpoint's own (never a buffer
      // freed on return), as for matrices found in the saved copy.
      m.dtype = *t->dtype;
      m.data = t->data;
      quantized_.push_back({name, m});
      ++freshly_quantized_;
      return m;
    }
    if (dequantized != nullptr) weights_->owned.push_back(std::move(dequantized));
    return WithTiles(m);
  }

  // A GGUF file's quantised matrix in the layout the kernels read, whatever `quantize` asks:
  // Q8_0, Q4_0 and Q5_0 blocks rearranged without loss, the K-quants and Q4_1 / Q5_1 as
  // cpu/kquants.h and cpu/legacy_quants.h convert them. The few matrices the kernels cannot take
  // so (rows not whole pairs of blocks, the MoE router) are widened to float32, which holds every
  // Q8_0 / Q4_0 / Q5_0 weight exactly.
  absl::StatusOr<Matrix> FromGgufBlocks(const TensorInfo& t, const GgufBlocks& kind, int64_t rows, int64_t cols,
                                        Role role) {
    const int64_t row_bytes = cols / kind.block * kind.block_bytes;
    if (cols % kind.block != 0 || t.size_bytes != static_cast<uint64_t>(rows * row_bytes)) {
      return Misshapen(t, absl::StrCat("[", rows, ", ", cols, "] in blocks of ", kind.block));
    }
    Matrix m;
    m.rows = rows;
    m.cols = cols;
    m.quantization = kind.quantization;
    if (cpu::CanQuantize(m, m.quantization) && role != Role::kRouter) {
      auto blocks = std::make_unique<std::vector<uint8_t>>(
          static_cast<size_t>(cpu::QuantizedBytes(m.quantization, rows, cols)));
      std::unique_ptr<std::vector<uint8_t>> offsets;
      if (kind.has_offsets) {
        offsets = std::make_unique<std::vector<uint8_t>>(static_cast<size_t>(cpu::BlockOffsetsCount(rows, cols)) * sizeof(uint16_t));
      }
      const int64_t out_row = cpu::QuantizedBytes(m.quantization, 1, cols);
      std::atomic<int64_t> unheld_row{-1};
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        const uint8_t* in = t.data + r * row_bytes;
        uint8_t* out = blocks->data() + r * out_row;
        std::vector<uint16_t> row_offsets(static_cast<size_t>(kind.has_offsets ? cols / 32 : 0));
        bool held = true;
        switch (kind.type) {
          case GgmlType::kQ8_0: held = cpu::q8::FromQ8_0(in, cols, out); break;
          case GgmlType::kQ4_0: held = cpu::q4::FromQ4_0(in, cols, out); break;
          case GgmlType::kQ4_K: held = cpu::kquants::Q4_KToQ4(in, cols, out, row_offsets.data()); break;
          case GgmlType::kQ5_K: held = cpu::kquants::Q5_KToQ8(in, cols, out, row_offsets.data()); break;
          case GgmlType::kQ6_K: held = cpu::kquants::Q6_KToQ8(in, cols, out); break;
          case GgmlType::kQ4_1: held = cpu::legacy_quants::Q4_1ToQ4(in, cols, out, row_offsets.data()); break;
          case GgmlType::kQ5_0: held = cpu::legacy_quants::Q5_0ToQ8(in, cols, out); break;
          case GgmlType::kQ5_1: held = cpu::legacy_quants::Q5_1ToQ8(in, cols, out, row_offsets.data()); break;
          default: break;
        }
        if (!held) unheld_row.store(r);
        uint16_t* interleaved = offsets != nullptr ? reinterpret_cast<uint16_t*>(offsets->data()) : nullptr;
        for (int64_t b = 0; b < static_cast<int64_t>(row_offsets.size()); ++b) {
          interleaved[cpu::BlockOffsetIndex(r, b, cols)] = row_offsets[b];
        }
      }
      if (const int64_t r = unheld_row.load(); r >= 0) {
        return absl::DataLossError(absl::StrCat("tensor ", t.name, " in ", t.file, ": row ", r, " has a ", t.dtype_name,
                                                " block whose scale or min is NaN, infinite or beyond f16's range"));
      }
      m.panel_rows = PanelRows(m.quantization, rows, role);
      cpu::ToPanels(m.quantization, blocks->data(), m.panel_rows, cols);
      m.quantized = blocks->data();
      if (offsets != nullptr) m.block_offsets = reinterpret_cast<const uint16_t*>(offsets->data());
      // Nothing reads `data` of a quantised matrix but its emptiness: the file's own blocks.
      m.dtype = DType::kBF16;
      m.data = t.data;
      weights_->owned_bytes.push_back(std::move(blocks));
      if (offsets != nullptr) weights_->owned_bytes.push_back(std::move(offsets));
      return m;
    }
    auto widened = std::make_unique<std::vector<uint8_t>>(static_cast<size_t>(rows * cols) * sizeof(float));
    float* out = reinterpret_cast<float*>(widened->data());
    for (int64_t r = 0; r < rows; ++r) DequantizeGgufRow(kind.type, t.data + r * row_bytes, cols, out + r * cols);
    m.quantization = Quantization::kNone;
    m.dtype = DType::kF32;
    m.data = out;
    weights_->owned_bytes.push_back(std::move(widened));
    return m;
  }

  Matrix Quantized(Matrix m, Quantization q, Role role) {
    auto blocks = std::make_unique<std::vector<uint8_t>>(cpu::Quantize(m, q));
    m.quantization = q;
    m.panel_rows = PanelRows(q, m.rows, role);
    cpu::ToPanels(q, blocks->data(), m.panel_rows, m.cols);
    m.quantized = blocks->data();
    weights_->owned_bytes.push_back(std::move(blocks));
    return m;
  }

  // The rows a matrix of this role keeps in panels (Matrix::panel_rows): the same whether it is
  // quantised here or found in the saved copy, which holds them as they were laid out.
  static int64_t PanelRows(Quantization q, int64_t rows, Role role) {
    return role == Role::kRowSlices ? 0 : cpu::PanelRows(q, rows);
  }

  // With the AMX kernel in use, a tile-ordered copy of the matrix beside the mapped one.
  Matrix WithTiles(Matrix m) {
    if (!cpu::UsesAmx() || !cpu::amx::Suits(m)) return m;
    auto tiles = std::make_unique<std::vector<uint16_t>>(cpu::amx::PackWeights(m));
    m.tiles = tiles->data();
    weights_->owned.push_back(std::move(tiles));
    return m;
  }

  absl::StatusOr<std::vector<float>> GetVector(const std::string& name, int64_t size) {
    const TensorInfo* t = store_.Find(name);
    if (t == nullptr) return Missing(name);
    if (t->shape.size() != 1 || t->shape[0] != size) {
      return Misshapen(*t, absl::StrCat("[", size, "]"));
    }
    if (!t->dtype || *t->dtype == DType::kF8E4M3) return BadDType(*t);
    Matrix m{*t->dtype, 1, size, t->data};
    std::vector<float> out(size);
    m.RowToF32(0, out.data());
    return out;
  }

  bool Has(const std::string& name) const { return store_.Find(name) != nullptr; }

  // Every quantised matrix so far, and how many were quantised here rather than found saved.
  const std::vector<std::pair<std::string, Matrix>>& quantized() const { return quantized_; }
  int freshly_quantized() const { return freshly_quantized_; }

 private:
  absl::Status Missing(const std::string& name) const {
    return absl::NotFoundError(absl::StrCat("tensor ", name, " is missing from the checkpoint (",
                                            ArchitectureName(config_.architecture), " layout)"));
  }
  absl::Status Misshapen(const TensorInfo& t, const std::string& expected) const {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " has shape ",
                                                   t.ShapeString(), "; config.json implies ", expected));
  }
  absl::Status BadDType(const TensorInfo& t) const {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " has dtype ",
                                                   t.dtype_name, "; supported: F32, BF16, F16, GGUF's Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K",
                                                   " (and F8_E4M3 matrices with weight_scale_inv)"));
  }

  // DeepSeek-V3's FP8 weights carry one float scale per 128×128 block in `<name>_scale_inv`;
  // the product is stored as bf16, the dtype the kernels stream fastest.
  absl::StatusOr<std::unique_ptr<std::vector<uint16_t>>> Dequantize(const TensorInfo& t) {
    const std::string scale_name = t.name + "_scale_inv";
    const TensorInfo* s = store_.Find(scale_name);
    const int64_t rows = t.shape[0], cols = t.shape[1];
    const int64_t block_rows = (rows + kFp8Block - 1) / kFp8Block;
    const int64_t block_cols = (cols + kFp8Block - 1) / kFp8Block;
    if (s == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file,
                                                     " is F8_E4M3 but ", scale_name, " is missing"));
    }
    if (s->shape.size() != 2 || s->shape[0] != block_rows || s->shape[1] != block_cols) {
      return Misshapen(*s, absl::StrCat("[", block_rows, ", ", block_cols, "] (128×128 blocks)"));
    }
    if (!s->dtype || *s->dtype == DType::kF8E4M3) return BadDType(*s);
    Matrix scales{*s->dtype, block_rows, block_cols, s->data};
    auto buffer = std::make_unique<std::vector<uint16_t>>(static_cast<size_t>(rows * cols));
    const uint8_t* q = t.data;
    float value_of[256];  // E4M3 has 256 codes: decode each once, not once per weight
    for (int code = 0; code < 256; ++code) value_of[code] = F8E4M3ToF32(static_cast<uint8_t>(code));
    // Blocks of 128 rows are independent; a 30B checkpoint is dequantised at load on every core.
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t block = 0; block < block_rows; ++block) {
      std::vector<float> scale_row(block_cols);
      scales.RowToF32(block, scale_row.data());
      for (int64_t r = block * kFp8Block; r < std::min(rows, (block + 1) * kFp8Block); ++r) {
        for (int64_t c = 0; c < cols; ++c) {
          (*buffer)[r * cols + c] = F32ToBf16(value_of[q[r * cols + c]] * scale_row[c / kFp8Block]);
        }
      }
    }
    return buffer;
  }

  const ModelConfig& config_;
  const TensorStore& store_;
  const LoadOptions& options_;
  Weights* weights_;
  std::vector<std::pair<std::string, Matrix>> quantized_;
  int freshly_quantized_ = 0;
};

absl::Status LoadMlp(WeightLoader& loader, const std::string& prefix, int64_t hidden,
                     int64_t width, MlpWeights* mlp) {
  ASSIGN_OR_RETURN(mlp->gate, loader.GetMatrix(prefix + "gate_proj.weight", width, hidden));
  ASSIGN_OR_RETURN(mlp->up, loader.GetMatrix(prefix + "up_proj.weight", width, hidden));
  ASSIGN_OR_RETURN(mlp->down, loader.GetMatrix(prefix + "down_proj.weight", hidden, width));
  return absl::OkStatus();
}

absl::Status LoadLayer(WeightLoader& loader, const ModelConfig& c, int layer, LayerWeights* w) {
  const std::string p = absl::StrCat("model.layers.", layer, ".");
  const int64_t hidden = c.hidden_size;
  const int64_t heads = c.num_attention_heads;
  ASSIGN_OR_RETURN(w->input_norm, loader.GetVector(p + "input_layernorm.weight", hidden));
  ASSIGN_OR_RETURN(w->post_attention_norm, loader.GetVector(p + "post_attention_layernorm.weight", hidden));

  const std::string a = p + "self_attn.";
  if (c.is_mla()) {
    MlaWeights& m = w->mla;
    const int64_t q_width = heads * c.qk_head_dim();
    if (c.q_lora_rank > 0) {
      ASSIGN_OR_RETURN(m.q_a, loader.GetMatrix(a + "q_a_proj.weight", c.q_lora_rank, hidden));
      ASSIGN_OR_RETURN(m.q_a_norm, loader.GetVector(a + "q_a_layernorm.weight", c.q_lora_rank));
      ASSIGN_OR_RETURN(m.q_b, loader.GetMatrix(a + "q_b_proj.weight", q_width, c.q_lora_rank));
    } else {
      ASSIGN_OR_RETURN(m.q, loader.GetMatrix(a + "q_proj.weight", q_width, hidden));
    }
    ASSIGN_OR_RETURN(m.kv_a, loader.GetMatrix(a + "kv_a_proj_with_mqa.weight",
                                              c.kv_lora_rank + c.qk_rope_head_dim, hidden));
    ASSIGN_OR_RETURN(m.kv_a_norm, loader.GetVector(a + "kv_a_layernorm.weight", c.kv_lora_rank));
    ASSIGN_OR_RETURN(m.kv_b, loader.GetMatrix(a + "kv_b_proj.weight",
                                              heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank,
                                              WeightLoader::Role::kRowSlices));
    ASSIGN_OR_RETURN(m.o, loader.GetMatrix(a + "o_proj.weight", hidden, heads * c.v_head_dim));
  } else {
    GqaWeights& g = w->gqa;
    const int64_t kv = c.num_key_value_heads;
    ASSIGN_OR_RETURN(g.q, loader.GetMatrix(a + "q_proj.weight", heads * c.head_dim, hidden));
    ASSIGN_OR_RETURN(g.k, loader.GetMatrix(a + "k_proj.weight", kv * c.head_dim, hidden));
    ASSIGN_OR_RETURN(g.v, loader.GetMatrix(a + "v_proj.weight", kv * c.head_dim, hidden));
    ASSIGN_OR_RETURN(g.o, loader.GetMatrix(a + "o_proj.weight", hidden, heads * c.head_dim));
    ASSIGN_OR_RETURN(g.q_norm, loader.GetVector(a + "q_norm.weight", c.head_dim));
    ASSIGN_OR_RETURN(g.k_norm, loader.GetVector(a + "k_norm.weight", c.head_dim));
  }

  w->is_moe = c.IsMoeLayer(layer);
  if (!w->is_moe) return LoadMlp(loader, p + "mlp.", hidden, c.intermediate_size, &w->mlp);

  MoeWeights& moe = w->moe;
  ASSIGN_OR_RETURN(moe.router, loader.GetMatrix(p + "mlp.gate.weight", c.num_routed_experts, hidden, WeightLoader::Role::kRouter));
  if (c.topk_method == TopkMethod::kNoauxTc) {
    ASSIGN_OR_RETURN(moe.correction_bias,
                     loader.GetVector(p + "mlp.gate.e_score_correction_bias", c.num_routed_experts));
  }
  // Expert by expert, each once found: a claim of 2^30 experts fails on the first missing one.
  for (int e = 0; e < c.num_routed_experts; ++e) {
    MlpWeights expert;
    absl::Status status = LoadMlp(loader, absl::StrCat(p, "mlp.experts.", e, "."), hidden,
                                  c.moe_intermediate_size, &expert);
    if (!status.ok()) return status;
    moe.experts.push_back(std::move(expert));
  }
  if (c.num_shared_experts > 0) {
    moe.has_shared = true;
    return LoadMlp(loader, p + "mlp.shared_experts.", hidden,
                   static_cast<int64_t>(c.moe_intermediate_size) * c.num_shared_experts, &moe.shared);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Weights>> LoadWeights(const ModelConfig& c, const TensorStore& store,
                                                     const LoadOptions& options) {
  auto weights = std::make_unique<Weights>();
  weights->quantization = options.quantize;
  WeightLoader loader(c, store, options, weights.get());
  const bool head_is_embed = c.tie_word_embeddings && !loader.Has("lm_head.weight");
  ASSIGN_OR_RETURN(weights->embed, loader.GetMatrix("model.embed_tokens.weight", c.vocab_size, c.hidden_size,
                                                    head_is_embed ? WeightLoader::Role::kVocabulary
                                                                  : WeightLoader::Role::kEmbedding));
  // Layer by layer, each only once its tensors are found: a config that claims 2^30 layers fails
  // on the first missing one instead of allocating them all.
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    LayerWeights layer;
    absl::Status status = LoadLayer(loader, c, i, &layer);
    if (!status.ok()) return status;
    weights->layers.push_back(std::move(layer));
  }
  ASSIGN_OR_RETURN(weights->final_norm, loader.GetVector("model.norm.weight", c.hidden_size));
  if (head_is_embed) {
    weights->lm_head = weights->embed;
  } else {
    ASSIGN_OR_RETURN(weights->lm_head, loader.GetMatrix("lm_head.weight", c.vocab_size, c.hidden_size, WeightLoader::Role::kVocabulary));
  }

  // MTP layers are optional: converted checkpoints often drop them. When the first one is there,
  // every tensor of every one must be.
  for (int k = 0; k < c.num_nextn_predict_layers; ++k) {
    const int index = c.num_hidden_layers + k;
    const std::string p = absl::StrCat("model.layers.", index, ".");
    if (!loader.Has(p + "eh_proj.weight")) {
      if (k == 0) break;
      return absl::NotFoundError(absl::StrCat("tensor ", p, "eh_proj.weight is missing (MTP layer ", k, ")"));
    }
    MtpWeights mtp;
    ASSIGN_OR_RETURN(mtp.enorm, loader.GetVector(p + "enorm.weight", c.hidden_size));
    ASSIGN_OR_RETURN(mtp.hnorm, loader.GetVector(p + "hnorm.weight", c.hidden_size));
    ASSIGN_OR_RETURN(mtp.eh_proj, loader.GetMatrix(p + "eh_proj.weight", c.hidden_size, 2 * c.hidden_size));
    absl::Status status = LoadLayer(loader, c, index, &mtp.block);
    if (!status.ok()) return status;
    if (loader.Has(p + "embed_tokens.weight")) {
      ASSIGN_OR_RETURN(mtp.embed, loader.GetMatrix(p + "embed_tokens.weight", c.vocab_size, c.hidden_size, WeightLoader::Role::kEmbedding));
    } else {
      mtp.embed = weights->embed;
    }
    ASSIGN_OR_RETURN(mtp.head_norm, loader.GetVector(p + "shared_head.norm.weight", c.hidden_size));
    if (loader.Has(p + "shared_head.head.weight")) {
      ASSIGN_OR_RETURN(mtp.head, loader.GetMatrix(p + "shared_head.head.weight", c.vocab_size, c.hidden_size, WeightLoader::Role::kVocabulary));
    } else {
      mtp.head = weights->lm_head;
    }
    weights->mtp.push_back(std::move(mtp));
  }
  if (options.copy != nullptr && !options.copy->CheckpointUnchanged()) {
    return absl::AbortedError("the checkpoint's files changed while it was loading; load it again");
  }
  if (options.copy != nullptr && loader.freshly_quantized() > 0) {
    std::vector<QuantizedCopy::Entry> entries;
    for (const auto& [name, matrix] : loader.quantized()) entries.push_back({name, &matrix});
    const absl::Status saved = options.copy->Save(entries);
    weights->copy_note = saved.ok() ? absl::StrCat("quantised and saved to ", options.copy->path())
                                    : absl::StrCat("quantised; not saved: ", saved.message());
  } else if (options.copy != nullptr) {
    weights->copy_note = absl::StrCat("mapped from ", options.copy->path());
  }
  return weights;
}

}  // namespace engine::model
