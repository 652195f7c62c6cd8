// Every CUDA op against its CPU reference on the same random inputs, shape class by shape class
// (cuda/ops.h). Without a GPU the device tests skip with the probe's reason; the references'
// own agreement with the CPU engine (CudaReferenceTest) runs everywhere.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <random>
#include <string>
#include <vector>

#include "cpu/attention.h"
#include "cpu/matmul.h"
#include "cpu/matrix.h"
#include "cpu/ops.h"
#include "cpu/rope.h"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "cuda/random_fill.h"
#include "cuda/reference.h"
#include "cuda/router_params.h"
#include "engine/device.h"
#include "engine/dtype.h"
#include "gtest/gtest.h"
#include "model/router.h"

namespace engine::cuda {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<uint16_t> RandomBf16(size_t n, uint32_t seed, float scale = 1.0f) {
  std::vector<uint16_t> out(n);
  const std::vector<float> values = Random(n, seed, scale);
  for (size_t i = 0; i < n; ++i) out[i] = F32ToBf16(values[i]);
  return out;
}

// The largest |got − want| relative to the largest |want| (so tiny entries do not dominate).
double RelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double scale = 0, worst = 0;
  for (float w : want) scale = std::max(scale, std::fabs(static_cast<double>(w)));
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(diff <= worst)) worst = diff;  // NaN counts as the worst
  }
  return scale > 0 ? worst / scale : worst;
}

// Device memory for one vector, freed with the buffer.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { EXPECT_EQ(cudaMalloc(&data_, std::max<size_t>(n, 1) * sizeof(T)), cudaSuccess); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { Upload(host); }
  ~DeviceBuffer() { cudaFree(data_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void Upload(const std::vector<T>& host) {
    ASSERT_EQ(host.size(), n_);
    ASSERT_EQ(cudaMemcpy(data_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  std::vector<T> Download() const {
    std::vector<T> host(n_);
    EXPECT_EQ(cudaMemcpy(host.data(), data_, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }
  T* get() const { return data_; }

 private:
  size_t n_;
  T* data_ = nullptr;
};

class CudaOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const DeviceReport report = ProbeDevices();
    if (report.gpus.empty()) GTEST_SKIP() << "no GPU: " << report.no_gpu_reason;
    ASSERT_EQ(cudaStreamCreate(&stream_), cudaSuccess);
  }
  void TearDown() override {
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  // Waits for the stream; a kernel fault shows here with the op's name.
  void Sync(const char* op) { ASSERT_EQ(cudaStreamSynchronize(stream_), cudaSuccess) << op << ": " << cudaGetErrorString(cudaGetLastError()); }

  cudaStream_t stream_ = nullptr;
};

TEST_F(CudaOpsTest, RmsNormMatchesTheCpu) {
  for (const auto& [rows, dim] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 7}, {5, 128}, {2, 4099}, {64, 2048}}) {
    const std::vector<float> x = Random(rows * dim, 1), weight = Random(dim, 2);
    std::vector<float> want(rows * dim);
    cpu::RmsNorm(x.data(), rows, dim, weight.data(), 1e-6f, want.data());
    DeviceBuffer<float> dx(x), dw(weight), dout(rows * dim);
    ASSERT_EQ(RmsNorm(dx.get(), rows, dim, dw.get(), 1e-6f, dout.get(), stream_), cudaSuccess);
    ASSERT_EQ(RmsNorm(dx.get(), rows, dim, dw.get(), 1e-6f, dx.get(), stream_), cudaSuccess);  // in place
    Sync("RmsNorm");
    EXPECT_LT(RelativeError(dout.Download(), want), 1e-5) << rows << "x" << dim;
    EXPECT_LT(RelativeError(dx.Download(), want), 1e-5) << rows << "x" << dim << " in place";
  }
}

TEST_F(CudaOpsTest, SiluMulMatchesTheCpu) {
  for (int64_t n : {1, 1000, 100003}) {
    std::vector<float> gate = Random(n, 3, 4.0f);
    const std::vector<float> up = Random(n, 4);
    DeviceBuffer<float> dg(gate), du(up);
    cpu::SiluMul(gate.data(), up.data(), n);
    ASSERT_EQ(SiluMul(dg.get(), du.get(), n, stream_), cudaSuccess);
    Sync("SiluMul");
    EXPECT_LT(RelativeError(dg.Download(), gate), 1e-6) << n;
  }
}

TEST_F(CudaOpsTest, EmbeddingWidensTheRowsAsked) {
  const int64_t vocab = 1000, cols = 136;
  const std::vector<uint16_t> table = RandomBf16(vocab * cols, 5);
  const std::vector<int32_t> ids = {0, 999, 17, 17, 512};
  std::vector<float> want(ids.size() * cols);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (int64_t c = 0; c < cols; ++c) want[i * cols + c] = Bf16ToF32(table[ids[i] * cols + c]);
  }
  DeviceBuffer<uint16_t> dt(table);
  DeviceBuffer<int32_t> di(ids);
  DeviceBuffer<float> dout(want.size());
  ASSERT_EQ(EmbeddingBf16(dt.get(), cols, di.get(), static_cast<int64_t>(ids.size()), dout.get(), stream_), cudaSuccess);
  Sync("EmbeddingBf16");
  EXPECT_EQ(dout.Download(), want);

  std::vector<float> wide(table.size());
  for (size_t i = 0; i < wide.size(); ++i) wide[i] = Bf16ToF32(table[i]);
  DeviceBuffer<float> dwide(wide), dout32(want.size());
  ASSERT_EQ(EmbeddingF32(dwide.get(), cols, di.get(), static_cast<int64_t>(ids.size()), dout32.get(), stream_), cudaSuccess);
  Sync("EmbeddingF32");
  EXPECT_EQ(dout32.Download(), want);
}

TEST_F(CudaOpsTest, RandomFillIsTheHashOnTheCpu) {
  const int64_t n = 100003;
  const float limit = 0.0346f;
  std::vector<float> want(n);
  std::vector<uint16_t> want_bf16(n);
  for (int64_t i = 0; i < n; ++i) {
    want[i] = RandomWeight(7, i, limit);
    want_bf16[i] = F32ToBf16(want[i]);
  }
  DeviceBuffer<float> d32(n), ones(5);
  DeviceBuffer<uint16_t> d16(n);
  ASSERT_EQ(FillRandomF32(d32.get(), n, 7, limit, stream_), cudaSuccess);
  ASSERT_EQ(FillRandomBf16(d16.get(), n, 7, limit, stream_), cudaSuccess);
  ASSERT_EQ(FillF32(ones.get(), 5, 1.0f, stream_), cudaSuccess);
  Sync("FillRandom");
  EXPECT_EQ(d32.Download(), want);
  EXPECT_EQ(d16.Download(), want_bf16);
  EXPECT_EQ(ones.Download(), std::vector<float>(5, 1.0f));
}

TEST_F(CudaOpsTest, Bf16ConversionRoundsAsTheCpuDoes) {
  std::vector<float> x = Random(4099, 6, 100.0f);
  // Ties, both signs of zero, infinities, NaN, the largest float (rounds to infinity).
  const float specials[] = {0.0f, -0.0f, 1.00390625f, 1.01171875f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()};
  x.insert(x.end(), std::begin(specials), std::end(specials));
  std::vector<uint16_t> want(x.size());
  for (size_t i = 0; i < x.size(); ++i) want[i] = F32ToBf16(x[i]);
  DeviceBuffer<float> dx(x);
  DeviceBuffer<uint16_t> dout(x.size());
  ASSERT_EQ(ConvertF32ToBf16(dx.get(), static_cast<int64_t>(x.size()), dout.get(), stream_), cudaSuccess);
  Sync("ConvertF32ToBf16");
  EXPECT_EQ(dout.Download(), want);
}

// DeepSeek's MLA query layout (rope part after the nope part, interleaved, YaRN) and Qwen's
// (whole heads, halves, no scaling).
TEST_F(CudaOpsTest, RopeMatchesTheCpuInBothLayouts) {
  ModelConfig deepseek;
  deepseek.architecture = Architecture::kDeepseekV3;
  deepseek.qk_nope_head_dim = 128;
  deepseek.qk_rope_head_dim = 64;
  deepseek.rope_interleave = true;
  deepseek.rope_theta = 10000;
  deepseek.max_position_embeddings = 163840;
  deepseek.rope_scaling = {.type = RopeScaling::Type::kYarn, .factor = 40, .original_max_position_embeddings = 4096,
                           .mscale = 1.0, .mscale_all_dim = 1.0};
  ModelConfig qwen;
  qwen.architecture = Architecture::kQwen3Moe;
  qwen.head_dim = 128;
  qwen.rope_theta = 1000000;
  struct Case {
    const ModelConfig* config;
    int64_t heads, head_stride, offset;
  };
  for (const Case& c : {Case{&deepseek, 16, 192, 128}, Case{&qwen, 4, 128, 0}}) {
    const cpu::RotaryEmbedding rope(*c.config);
    const std::vector<int32_t> positions = {0, 1, 15, 16, 4095, 4096, 70000};
    const int64_t rows = static_cast<int64_t>(positions.size()), row_stride = c.heads * c.head_stride;
    std::vector<float> x = Random(rows * row_stride, 7);
    DeviceBuffer<float> dx(x), dfreq(rope.inv_freq());
    DeviceBuffer<int32_t> dpos(positions);
    for (int64_t r = 0; r < rows; ++r) rope.Apply(&x[r * row_stride + c.offset], c.heads, c.head_stride, positions[r]);
    const RopeParams params{.inv_freq = dfreq.get(), .dim = rope.dim(), .interleaved = c.config->rope_interleave,
                            .attention_factor = rope.attention_factor()};
    ASSERT_EQ(Rope(dx.get() + c.offset, rows, row_stride, c.heads, c.head_stride, dpos.get(), params, stream_), cudaSuccess);
    Sync("Rope");
    EXPECT_LT(RelativeError(dx.Download(), x), 2e-6) << (c.config->rope_interleave ? "interleaved" : "halves");
  }
}

// The gating schemes of the supported checkpoints (model/router.h).
std::vector<ModelConfig> RouterConfigs() {
  std::vector<ModelConfig> configs;
  ModelConfig qwen;
  qwen.architecture = Architecture::kQwen3Moe;
  qwen.num_routed_experts = 128;
  qwen.num_experts_per_tok = 8;
  qwen.norm_topk_prob = true;
  configs.push_back(qwen);
  ModelConfig v2 = qwen;
  v2.architecture = Architecture::kDeepseekV2;
  v2.num_routed_experts = 160;
  v2.num_experts_per_tok = 6;
  v2.topk_method = TopkMethod::kGroupLimitedGreedy;
  v2.n_group = 8;
  v2.topk_group = 3;
  v2.norm_topk_prob = false;
  v2.routed_scaling_factor = 16.0;
  configs.push_back(v2);
  ModelConfig v2_normalised = v2;  // DeepSeek-V2 routing with its top-k weights renormalised
  v2_normalised.norm_topk_prob = true;
  configs.push_back(v2_normalised);
  ModelConfig v2_lite = v2;
  v2_lite.num_routed_experts = 64;
  v2_lite.topk_method = TopkMethod::kGreedy;
  v2_lite.n_group = 1;
  v2_lite.topk_group = 1;
  v2_lite.routed_scaling_factor = 1.0;
  configs.push_back(v2_lite);
  ModelConfig v3 = qwen;
  v3.architecture = Architecture::kDeepseekV3;
  v3.num_routed_experts = 256;
  v3.num_experts_per_tok = 8;
  v3.scoring_func = ScoringFunc::kSigmoid;
  v3.topk_method = TopkMethod::kNoauxTc;
  v3.n_group = 8;
  v3.topk_group = 4;
  v3.routed_scaling_factor = 2.5;
  configs.push_back(v3);
  return configs;
}

TEST_F(CudaOpsTest, RouteChoosesTheCpuRoutersExpertsAndWeights) {
  for (const ModelConfig& config : RouterConfigs()) {
    const int64_t n = 37, experts = config.num_routed_experts, k = config.num_experts_per_tok;
    const std::vector<float> logits = Random(n * experts, 8, 2.0f);
    const std::vector<float> bias = config.scoring_func == ScoringFunc::kSigmoid ? Random(experts, 9, 0.1f) : std::vector<float>{};
    DeviceBuffer<float> dlogits(logits), dbias(bias.empty() ? std::vector<float>{0.0f} : bias), dweights(n * k);
    DeviceBuffer<int32_t> dexperts(n * k);
    const RouterParams params = RouterParamsFor(config, bias.empty() ? nullptr : dbias.get());
    ASSERT_EQ(Route(dlogits.get(), n, params, dexperts.get(), dweights.get(), stream_), cudaSuccess);
    Sync("Route");
    const std::vector<int32_t> got_experts = dexperts.Download();
    const std::vector<float> got_weights = dweights.Download();
    for (int64_t t = 0; t < n; ++t) {
      model::RouterChoice choice;
      model::Route(config, &logits[t * experts], bias, &choice);
      for (int64_t j = 0; j < k; ++j) {
        ASSERT_EQ(got_experts[t * k + j], choice.experts[j]) << ArchitectureName(config.architecture) << " token " << t;
        EXPECT_NEAR(got_weights[t * k + j], choice.weights[j], 1e-5 * std::max(1.0f, std::fabs(choice.weights[j])))
            << ArchitectureName(config.architecture) << " token " << t;
      }
    }
  }
}

// Each token's k distinct experts, drawn at random.
std::vector<int32_t> RandomChoices(int64_t n, int k, int experts, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> all(experts), choices;
  std::iota(all.begin(), all.end(), 0);
  for (int64_t t = 0; t < n; ++t) {
    std::shuffle(all.begin(), all.end(), rng);
    choices.insert(choices.end(), all.begin(), all.begin() + k);
  }
  return choices;
}

TEST_F(CudaOpsTest, DispatchGroupsChoicesByExpertInOrder) {
  // n = 0: a batch whose tokens all went elsewhere still leaves valid (all-zero) offsets.
  for (const auto& [n, k, experts] :
       std::vector<std::tuple<int64_t, int, int>>{{0, 4, 8}, {1, 1, 8}, {7, 6, 64}, {300, 8, 256}, {2048, 8, 128}}) {
    const std::vector<int32_t> choices = RandomChoices(n, k, experts, 10);
    const reference::Dispatch want = reference::MoeDispatch(choices, experts);
    DeviceBuffer<int32_t> dchoices(choices), doffsets(experts + 1), dorder(n * k), dslot(n * k);
    // Offsets that were not written would show as this.
    ASSERT_EQ(cudaMemset(doffsets.get(), 0x7f, (experts + 1) * sizeof(int32_t)), cudaSuccess);
    ASSERT_EQ(MoeDispatch(dchoices.get(), n, k, experts, doffsets.get(), dorder.get(), dslot.get(), stream_), cudaSuccess);
    Sync("MoeDispatch");
    EXPECT_EQ(doffsets.Download(), want.offsets) << n << " tokens";
    EXPECT_EQ(dorder.Download(), want.order) << n << " tokens";
    EXPECT_EQ(dslot.Download(), want.slot_of) << n << " tokens";
  }
}

TEST_F(CudaOpsTest, GroupedMatmulMatchesPerExpertProducts) {
  struct Case {
    int64_t n;
    int k, experts;
    int64_t out, in;
    bool gather;
  };
  // Decode (1 token), small batches, a batch over 16 with tiles that do not divide (tensor cores
  // not taken) and ones that do, gathered and not.
  for (const Case& c : {Case{1, 6, 64, 1408, 2048, true}, Case{1, 6, 64, 2048, 1408, false}, Case{13, 2, 8, 33, 64, true},
                        Case{200, 8, 16, 96, 136, false}, Case{64, 6, 64, 1408, 2048, true},
                        Case{64, 6, 64, 2048, 1408, false}, Case{40, 2, 8, 48, 272, true}}) {
    const std::vector<int32_t> choices = RandomChoices(c.n, c.k, c.experts, 11);
    const reference::Dispatch dispatch = reference::MoeDispatch(choices, c.experts);
    const int64_t x_rows = c.gather ? c.n : c.n * c.k;
    const std::vector<float> x = Random(x_rows * c.in, 12);
    std::vector<std::vector<uint16_t>> weights;
    std::vector<std::unique_ptr<DeviceBuffer<uint16_t>>> dweights;
    std::vector<const uint16_t*> pointers;
    for (int e = 0; e < c.experts; ++e) {
      weights.push_back(RandomBf16(c.out * c.in, 100 + e, 0.05f));
      dweights.push_back(std::make_unique<DeviceBuffer<uint16_t>>(weights.back()));
      pointers.push_back(dweights.back()->get());
    }
    std::vector<float> want;
    reference::GroupedMatmul(x, c.gather, c.k, dispatch, weights, c.out, c.in, &want);
    // Over 16 tokens (whole 16-row tiles and columns) the bf16 kernel runs on the tensor cores,
    // whose inputs are bf16: its reference rounds them so.
    std::vector<float> want_bf16_inputs = want;
    const bool tensor_cores = c.n > 16 && c.out % 16 == 0 && c.in % 16 == 0;
    if (tensor_cores) {
      std::vector<float> rounded(x.size());
      for (size_t i = 0; i < x.size(); ++i) rounded[i] = Bf16ToF32(F32ToBf16(x[i]));
      reference::GroupedMatmul(rounded, c.gather, c.k, dispatch, weights, c.out, c.in, &want_bf16_inputs);
    }
    DeviceBuffer<float> dx(x), dy(c.n * c.k * c.out);
    DeviceBuffer<int32_t> dorder(dispatch.order), doffsets(dispatch.offsets);
    DeviceBuffer<const uint16_t*> dpointers(pointers);
    const GroupedMatmulArgs args{.x = dx.get(), .gather_tokens = c.gather, .k = c.k, .order = dorder.get(),
                                 .offsets = doffsets.get(), .experts = c.experts, .weights = dpointers.get(),
                                 .out_features = c.out, .in_features = c.in, .y = dy.get()};
    ASSERT_EQ(GroupedMatmulBf16(args, c.n, stream_), cudaSuccess);
    Sync("GroupedMatmulBf16");
    EXPECT_LT(RelativeError(dy.Download(), want), 1e-5) << c.n << " tokens, " << c.out << "x" << c.in;
    // With the tensor cores allowed (taken over 16 tokens with whole tiles).
    GroupedMatmulArgs tensor_args = args;
    tensor_args.tensor_cores = true;
    ASSERT_EQ(GroupedMatmulBf16(tensor_args, c.n, stream_), cudaSuccess);
    Sync("GroupedMatmulBf16 (tensor cores)");
    EXPECT_LT(RelativeError(dy.Download(), want_bf16_inputs), 1e-5)
        << c.n << " tokens, " << c.out << "x" << c.in << (tensor_cores ? " (tensor cores)" : "");

    // The parity mode's float32 weights (the same values, widened) give the same products.
    std::vector<std::unique_ptr<DeviceBuffer<float>>> dwide;
    std::vector<const float*> wide_pointers;
    for (int e = 0; e < c.experts; ++e) {
      std::vector<float> wide(weights[e].size());
      for (size_t i = 0; i < wide.size(); ++i) wide[i] = Bf16ToF32(weights[e][i]);
      dwide.push_back(std::make_unique<DeviceBuffer<float>>(wide));
      wide_pointers.push_back(dwide.back()->get());
    }
    DeviceBuffer<const float*> dwide_pointers(wide_pointers);
    DeviceBuffer<float> dy32(c.n * c.k * c.out);
    GroupedMatmulArgs wide_args = args;
    wide_args.weights = nullptr;
    wide_args.weights_f32 = dwide_pointers.get();
    wide_args.y = dy32.get();
    ASSERT_EQ(GroupedMatmulF32(wide_args, c.n, stream_), cudaSuccess);
    Sync("GroupedMatmulF32");
    EXPECT_LT(RelativeError(dy32.Download(), want), 1e-5) << "f32, " << c.n << " tokens, " << c.out << "x" << c.in;
  }
}

TEST_F(CudaOpsTest, CombineAddsInTheCpuOrder) {
  for (const bool with_shared : {false, true}) {
    const int64_t n = 29, hidden = 520;
    const int k = 6, experts = 64;
    const std::vector<int32_t> choices = RandomChoices(n, k, experts, 13);
    const reference::Dispatch dispatch = reference::MoeDispatch(choices, experts);
    const std::vector<float> y = Random(n * k * hidden, 14), weights = Random(n * k, 15), shared = Random(n * hidden, 16);
    std::vector<float> want;
    reference::MoeCombine(y, choices, weights, dispatch.slot_of, n, k, hidden, with_shared ? shared.data() : nullptr, &want);
    DeviceBuffer<float> dy(y), dweights(weights), dshared(shared), dout(n * hidden);
    DeviceBuffer<int32_t> dchoices(choices), dslot(dispatch.slot_of);
    ASSERT_EQ(MoeCombine(dy.get(), dchoices.get(), dweights.get(), dslot.get(), n, k, hidden,
                         with_shared ? dshared.get() : nullptr, dout.get(), stream_),
              cudaSuccess);
    Sync("MoeCombine");
    EXPECT_LT(RelativeError(dout.Download(), want), 1e-6) << (with_shared ? "with" : "without") << " shared experts";
  }
}

TEST_F(CudaOpsTest, ArgmaxTakesTheLowestIndexOnTies) {
  const int64_t rows = 3, vocab = 50000;
  std::vector<float> logits = Random(rows * vocab, 17);
  logits[0 * vocab + 40000] = 100.0f;
  logits[1 * vocab + 7] = logits[1 * vocab + 30000] = 100.0f;  // a tie
  logits[2 * vocab + vocab - 1] = 100.0f;
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<int32_t> dout(rows);
  ASSERT_EQ(ArgmaxRows(dlogits.get(), rows, vocab, dout.get(), stream_), cudaSuccess);
  Sync("ArgmaxRows");
  EXPECT_EQ(dout.Download(), (std::vector<int32_t>{40000, 7, vocab - 1}));
}

TEST_F(CudaOpsTest, ArgmaxTiesWithinOneThreadAndSmallVocabularies) {
  // A block of 1024 threads reads index i in thread i % 1024: 5 and 5 + 1024 meet in one thread,
  // 1023 and 2047 in another, the later index seen after the earlier.
  const int64_t vocab = 3000;
  std::vector<float> logits = Random(2 * vocab, 21);
  logits[5 + 1024] = logits[5] = 50.0f;
  logits[vocab + 2047] = logits[vocab + 1023] = 50.0f;
  DeviceBuffer<float> dlogits(logits);
  DeviceBuffer<int32_t> dout(2);
  ASSERT_EQ(ArgmaxRows(dlogits.get(), 2, vocab, dout.get(), stream_), cudaSuccess);
  Sync("ArgmaxRows");
  EXPECT_EQ(dout.Download(), (std::vector<int32_t>{5, 1023}));
  // Fewer logits than threads, and a single one: most threads see nothing.
  for (const int64_t small : {int64_t{1}, int64_t{37}, int64_t{1000}}) {
    std::vector<float> row = Random(small, 22);
    row[small / 2] = 50.0f;
    if (small > 1) row[small - 1] = 50.0f;  // tied with a later index
    DeviceBuffer<float> drow(row);
    DeviceBuffer<int32_t> done(1);
    ASSERT_EQ(ArgmaxRows(drow.get(), 1, small, done.get(), stream_), cudaSuccess);
    Sync("ArgmaxRows");
    EXPECT_EQ(done.Download(), (std::vector<int32_t>{static_cast<int32_t>(small / 2)})) << small << " logits";
  }
}

// A paged cache of two sequences whose blocks are scattered through the arena, as after
// allocations and frees in a shared pool.
struct PagedCase {
  int layers = 2, block_shift = 4;
  int64_t a_width, b_width;
  std::vector<int64_t> lengths = {37, 300};  // 300: three chunks of 128 keys in the kernel
  std::vector<int32_t> tables, table_start_of_sequence;
  std::vector<float> arena;
  int64_t block_floats() const { return (int64_t{1} << block_shift) * layers * (a_width + b_width); }
  int64_t b_start() const { return (int64_t{1} << block_shift) * layers * a_width; }

  PagedCase(int64_t a, int64_t b) : a_width(a), b_width(b) {
    int64_t blocks = 0;
    for (int64_t len : lengths) blocks += (len + (1 << block_shift) - 1) >> block_shift;
    std::vector<int32_t> ids(blocks);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), std::mt19937(18));
    int32_t next = 0;
    for (int64_t len : lengths) {
      table_start_of_sequence.push_back(static_cast<int32_t>(tables.size()));
      for (int64_t i = 0; i < (len + (1 << block_shift) - 1) >> block_shift; ++i) tables.push_back(ids[next++]);
    }
    arena = Random(blocks * block_floats(), 19);
  }
  PagedKvLayout Layout(float* base) const {
    return {.arena = base, .block_floats = block_floats(), .block_shift = block_shift, .a_width = a_width,
            .b_width = b_width, .b_start = b_start(), .layers = layers};
  }
};

// Rows: sequence 0 decoding at its last position, sequence 1 a run of positions (a prefill chunk).
struct QueryRows {
  std::vector<int32_t> table_start, positions;
};
QueryRows RowsOf(const PagedCase& c) {
  QueryRows rows;
  rows.table_start.push_back(c.table_start_of_sequence[0]);
  rows.positions.push_back(static_cast<int32_t>(c.lengths[0] - 1));
  for (int32_t p : {0, 1, 15, 16, 17, 100, 127, 128, 129, 255, 256, 299}) {
    rows.table_start.push_back(c.table_start_of_sequence[1]);
    rows.positions.push_back(p);
  }
  return rows;
}

void CheckAttention(cudaStream_t stream, const PagedCase& c, AttentionArgs args, int64_t q_width) {
  const QueryRows rows = RowsOf(c);
  const int64_t n = static_cast<int64_t>(rows.positions.size());
  std::vector<float> q = Random(n * args.heads * q_width, 20);
  std::vector<float> want(n * args.heads * args.value_width);
  std::vector<float> host_arena = c.arena;
  AttentionArgs host_args = args;
  host_args.q = q.data();
  host_args.out = want.data();
  reference::PagedAttention(host_args, n, c.Layout(host_arena.data()),
                            {c.tables.data(), rows.table_start.data(), rows.positions.data()});
  DeviceBuffer<float> darena(c.arena), dq(q), dout(want.size());
  DeviceBuffer<int32_t> dtables(c.tables), dstart(rows.table_start), dpos(rows.positions);
  args.q = dq.get();
  args.out = dout.get();
  ASSERT_EQ(PagedAttention(args, n, c.Layout(darena.get()), {dtables.get(), dstart.get(), dpos.get()}, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << "PagedAttention";
  const std::vector<float> got = dout.Download();
  EXPECT_LT(RelativeError(got, want), 1e-5);

  // The same blocks found through a table of block addresses (a pool grown in pieces,
  // cuda/device_kv_blocks.h): the same bits.
  std::vector<float*> bases;
  for (int64_t b = 0; b < static_cast<int64_t>(c.arena.size()) / c.block_floats(); ++b) {
    bases.push_back(darena.get() + b * c.block_floats());
  }
  DeviceBuffer<float*> dbases(bases);
  DeviceBuffer<float> dout2(want.size());
  PagedKvLayout by_table{.block_bases = dbases.get(), .block_shift = c.block_shift, .a_width = c.a_width,
                         .b_width = c.b_width, .b_start = c.b_start(), .layers = c.layers};
  args.out = dout2.get();
  ASSERT_EQ(PagedAttention(args, n, by_table, {dtables.get(), dstart.get(), dpos.get()}, stream), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << "PagedAttention over a block table";
  EXPECT_EQ(dout2.Download(), got);

  // Positions shared among blocks and merged (flash-decoding): 3 splits leave some rows'
  // splits empty (row 0 sees 1 position), 16 more so.
  for (const int splits : {3, 16}) {
    DeviceBuffer<float> partial(n * args.heads * splits * (args.value_width + 2)), dout3(want.size());
    args.out = dout3.get();
    ASSERT_EQ(PagedAttentionSplit(args, n, by_table, {dtables.get(), dstart.get(), dpos.get()}, splits, partial.get(),
                                  stream),
              cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << "PagedAttentionSplit " << splits;
    EXPECT_LT(RelativeError(dout3.Download(), want), 1e-5) << splits << " splits";
  }
  if (IsLatentAttention(args)) {
    // The heads-share-the-rows kernel, alone and split.
    for (const int splits : {1, 3, 16, 64}) {
      DeviceBuffer<float> partial(n * args.heads * splits * (args.value_width + 2)), dout4(want.size());
      args.out = dout4.get();
      ASSERT_EQ(LatentAttention(args, n, by_table, {dtables.get(), dstart.get(), dpos.get()}, splits, partial.get(), stream),
                cudaSuccess);
      ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << "LatentAttention " << splits;
      EXPECT_LT(RelativeError(dout4.Download(), want), 1e-5) << "LatentAttention, " << splits << " splits";
    }
  }
  EXPECT_EQ(AttentionSplits(1, 16), 16);
  EXPECT_EQ(LatentAttentionSplits(1, 16), 64);
  EXPECT_EQ(LatentAttentionSplits(512, 16), 1);
  EXPECT_EQ(AttentionSplits(2048, 16), 1);
  EXPECT_EQ(AttentionSplitFloats(2048, 16, 512), 0);
}

// A prompt's rows through PrefillAttention: runs of consecutive positions of sequence 1 (300
// cached positions) — one row, a run from its start shorter than a tile, one across tile and
// chunk edges, a long one, one ending at its last position — against the CPU reference.
void CheckPrefillAttention(cudaStream_t stream, const PagedCase& c, AttentionArgs args, int64_t q_width) {
  ASSERT_TRUE(PrefillAttentionSuits(args));
  EXPECT_EQ(PrefillAttentionMinRows(), 16);
  for (const auto& [begin, end] : std::vector<std::pair<int32_t, int32_t>>{{0, 1}, {0, 13}, {5, 38}, {40, 300}, {283, 300}}) {
    const int64_t n = end - begin;
    std::vector<int32_t> table_start(n, c.table_start_of_sequence[1]), positions(n);
    std::iota(positions.begin(), positions.end(), begin);
    std::vector<float> q = Random(n * args.heads * q_width, 21 + begin);
    std::vector<float> want(n * args.heads * args.value_width);
    std::vector<float> host_arena = c.arena;
    AttentionArgs host_args = args;
    host_args.q = q.data();
    host_args.out = want.data();
    reference::PagedAttention(host_args, n, c.Layout(host_arena.data()), {c.tables.data(), table_start.data(), positions.data()});
    DeviceBuffer<float> darena(c.arena), dq(q), dout(want.size());
    DeviceBuffer<int32_t> dtables(c.tables), dstart(table_start), dpos(positions);
    args.q = dq.get();
    args.out = dout.get();
    ASSERT_EQ(PrefillAttention(args, n, c.Layout(darena.get()), {dtables.get(), dstart.get(), dpos.get()}, stream),
              cudaSuccess);
    ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess) << "PrefillAttention " << begin << ".." << end;
    EXPECT_LT(RelativeError(dout.Download(), want), 1e-5) << "PrefillAttention, positions " << begin << ".." << end;
  }
}

TEST_F(CudaOpsTest, GroupedQueryAttentionOverPagedBlocks) {
  const int kv_heads = 4, group = 4, d = 128;
  const PagedCase c(kv_heads * d, kv_heads * d);
  const AttentionArgs args{.q_row_stride = kv_heads * group * d, .q_head_stride = d, .heads = kv_heads * group,
                           .group = group, .score_a = d, .score_b = 0, .kv_head_stride = d, .values_from_a = false,
                           .value_width = d, .scale = 1.0f / std::sqrt(128.0f), .layer = 1};
  CheckAttention(stream_, c, args, d);
  CheckPrefillAttention(stream_, c, args, d);
}

TEST_F(CudaOpsTest, LatentAttentionOverPagedBlocks) {
  const int heads = 16, rank = 512, rope = 64;
  const PagedCase c(rank, rope);
  const AttentionArgs args{.q_row_stride = heads * (rank + rope), .q_head_stride = rank + rope, .heads = heads,
                           .group = heads, .score_a = rank, .score_b = rope, .kv_head_stride = 0,
                           .values_from_a = true, .value_width = rank, .scale = 0.07f, .layer = 0};
  CheckAttention(stream_, c, args, rank + rope);
  CheckPrefillAttention(stream_, c, args, rank + rope);
}

// 20 heads (a second block of 4) and a latent of 1024 (more shared memory than the default 48 KiB).
TEST_F(CudaOpsTest, LatentAttentionWithUnevenHeadsAndAWideLatent) {
  const int heads = 20, rank = 1024, rope = 64;
  const PagedCase c(rank, rope);
  const AttentionArgs args{.q_row_stride = heads * (rank + rope), .q_head_stride = rank + rope, .heads = heads,
                           .group = heads, .score_a = rank, .score_b = rope, .kv_head_stride = 0,
                           .values_from_a = true, .value_width = rank, .scale = 0.05f, .layer = 1};
  CheckAttention(stream_, c, args, rank + rope);
  EXPECT_FALSE(PrefillAttentionSuits(args));  // a latent of 1024 takes the other kernels
}

TEST_F(CudaOpsTest, KvWriteFillsTheRowsOfEachPosition) {
  PagedCase c(96, 32);
  std::fill(c.arena.begin(), c.arena.end(), 0.0f);
  const QueryRows rows = RowsOf(c);
  const int64_t n = static_cast<int64_t>(rows.positions.size());
  const std::vector<float> src = Random(n * 100, 21);
  DeviceBuffer<float> darena(c.arena), dsrc(src);
  DeviceBuffer<int32_t> dtables(c.tables), dstart(rows.table_start), dpos(rows.positions);
  const KvRows where{dtables.get(), dstart.get(), dpos.get()};
  ASSERT_EQ(PagedKvWrite(dsrc.get(), n, 100, 96, true, 1, c.Layout(darena.get()), where, stream_), cudaSuccess);
  ASSERT_EQ(PagedKvWrite(dsrc.get() + 96, n, 100, 4, false, 0, c.Layout(darena.get()), where, stream_), cudaSuccess);
  Sync("PagedKvWrite");
  const std::vector<float> arena = darena.Download();
  const int64_t block_size = int64_t{1} << c.block_shift;
  for (int64_t r = 0; r < n; ++r) {
    const int64_t pos = rows.positions[r], block = c.tables[rows.table_start[r] + (pos >> c.block_shift)];
    const float* a = &arena[block * c.block_floats() + (1 * block_size + pos % block_size) * c.a_width];
    const float* b = &arena[block * c.block_floats() + c.b_start() + (0 * block_size + pos % block_size) * c.b_width];
    for (int64_t i = 0; i < 96; ++i) ASSERT_EQ(a[i], src[r * 100 + i]) << "row " << r;
    for (int64_t i = 0; i < 4; ++i) ASSERT_EQ(b[i], src[r * 100 + 96 + i]) << "row " << r;
    EXPECT_EQ(b[4], 0.0f) << "row " << r << ": only `width` floats are written";
  }
}

TEST_F(CudaOpsTest, CublasProductsMatchTheCpuMatmul) {
  cublasHandle_t handle;
  ASSERT_EQ(cublasCreate(&handle), CUBLAS_STATUS_SUCCESS);
  ASSERT_EQ(cublasSetStream(handle, stream_), CUBLAS_STATUS_SUCCESS);
  for (const auto& [n, out, in] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 1, 8}, {1, 2048, 1408}, {37, 300, 136}, {512, 1024, 2048}}) {
    const std::vector<float> x = Random(n * in, 22), w = Random(out * in, 23, 0.05f);
    std::vector<float> want(n * out);
    const cpu::Matrix matrix{.dtype = DType::kF32, .rows = out, .cols = in, .data = w.data()};
    cpu::MatmulTransposed(x.data(), n, matrix, want.data());
    DeviceBuffer<float> dx(x), dw(w), dy(n * out);
    ASSERT_EQ(MatmulF32(handle, dx.get(), n, dw.get(), out, in, dy.get()), CUBLAS_STATUS_SUCCESS);
    Sync("MatmulF32");
    EXPECT_LT(RelativeError(dy.Download(), want), 1e-5) << "f32 " << n << "x" << out << "x" << in;

    // bf16: both operands rounded, products accumulated in float32.
    std::vector<uint16_t> xb(x.size()), wb(w.size());
    std::vector<float> xr(x.size()), wr(w.size());
    for (size_t i = 0; i < x.size(); ++i) xr[i] = Bf16ToF32(xb[i] = F32ToBf16(x[i]));
    for (size_t i = 0; i < w.size(); ++i) wr[i] = Bf16ToF32(wb[i] = F32ToBf16(w[i]));
    const cpu::Matrix rounded{.dtype = DType::kF32, .rows = out, .cols = in, .data = wr.data()};
    cpu::MatmulTransposed(xr.data(), n, rounded, want.data());
    DeviceBuffer<uint16_t> dxb(xb), dwb(wb);
    ASSERT_EQ(MatmulBf16(handle, dxb.get(), n, dwb.get(), out, in, dy.get()), CUBLAS_STATUS_SUCCESS);
    Sync("MatmulBf16");
    EXPECT_LT(RelativeError(dy.Download(), want), 1e-4) << "bf16 " << n << "x" << out << "x" << in;
  }
  cublasDestroy(handle);
}

// The references themselves, on the CPU: the paged attention reference is the CPU engine's
// attention, so a kernel that matches it matches the engine.
TEST(CudaReferenceTest, PagedAttentionReferenceIsTheCpuEnginesAttention) {
  const int kv_heads = 2, group = 3, d = 64;
  const PagedCase c(kv_heads * d, kv_heads * d);
  const int64_t length = c.lengths[1], first = 100, count = length - first;
  const std::vector<float> q = Random(count * kv_heads * group * d, 24);
  std::vector<int32_t> table_start(count, c.table_start_of_sequence[1]), positions(count);
  std::iota(positions.begin(), positions.end(), static_cast<int32_t>(first));
  std::vector<float> arena = c.arena, got(count * kv_heads * group * d);
  const float scale = 0.125f;
  const AttentionArgs args{.q = q.data(), .q_row_stride = kv_heads * group * d, .q_head_stride = d,
                           .heads = kv_heads * group, .group = group, .score_a = d, .score_b = 0,
                           .kv_head_stride = d, .values_from_a = false, .value_width = d, .scale = scale,
                           .layer = 1, .out = got.data()};
  const PagedKvLayout kv = c.Layout(arena.data());
  reference::PagedAttention(args, count, kv, {c.tables.data(), table_start.data(), positions.data()});

  const int32_t* table = &c.tables[c.table_start_of_sequence[1]];
  const int64_t block_size = int64_t{1} << c.block_shift;
  auto row = [&](int64_t pos, bool a) {
    float* base = arena.data() + table[pos >> c.block_shift] * c.block_floats();
    return a ? base + (1 * block_size + pos % block_size) * c.a_width
             : base + c.b_start() + (1 * block_size + pos % block_size) * c.b_width;
  };
  for (int g = 0; g < kv_heads; ++g) {
    cpu::KeyValuePanel panel;
    std::vector<float> storage(cpu::PanelFloats(length, d, d));
    cpu::GatherPanel(
        length, d, [&](int64_t s) { return row(s, true) + g * d; }, [&](int64_t s) { return row(s, false) + g * d; },
        storage.data(), &panel);
    for (int h = g * group; h < (g + 1) * group; ++h) {
      std::vector<float> queries(count * d), want(count * d), got_head(count * d);
      for (int64_t t = 0; t < count; ++t) {
        std::copy_n(&q[(t * kv_heads * group + h) * d], d, &queries[t * d]);
        std::copy_n(&got[(t * kv_heads * group + h) * d], d, &got_head[t * d]);
      }
      cpu::CausalAttentionReference(queries.data(), count, first + 1, scale, panel, want.data());
      EXPECT_LT(RelativeError(got_head, want), 1e-5) << "head " << h;
    }
  }
}

// The random weights' hash (the fill kernels' CPU reference): inside its range, centred, with
// the standard deviation a uniform has.
TEST(CudaReferenceTest, RandomWeightsAreUniformInTheirRange) {
  const float limit = 0.02f * std::sqrt(3.0f);
  double sum = 0, squares = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const float w = RandomWeight(5, i, limit);
    ASSERT_GE(w, -limit);
    ASSERT_LT(w, limit);
    sum += w;
    squares += static_cast<double>(w) * w;
  }
  EXPECT_NEAR(sum / n, 0.0, 3e-4);
  EXPECT_NEAR(std::sqrt(squares / n), 0.02, 2e-4);
  EXPECT_NE(RandomWeight(5, 0, limit), RandomWeight(6, 0, limit));
}

TEST(CudaReferenceTest, DispatchListsEveryChoiceOnceByExpert) {
  const std::vector<int32_t> choices = {3, 1, 1, 0, 3, 2};  // 3 tokens, k = 2
  const reference::Dispatch d = reference::MoeDispatch(choices, 4);
  EXPECT_EQ(d.offsets, (std::vector<int32_t>{0, 1, 3, 4, 6}));
  EXPECT_EQ(d.order, (std::vector<int32_t>{3, 1, 2, 5, 0, 4}));
  for (size_t i = 0; i < choices.size(); ++i) EXPECT_EQ(d.order[d.slot_of[i]], static_cast<int32_t>(i));
}

}  // namespace
}  // namespace engine::cuda
