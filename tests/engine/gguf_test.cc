// GGUF files: the reader against well-formed and hostile bytes, and models read from GGUF against
// the same weights read from their Hugging Face checkpoint.
#include "engine/gguf.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "engine/safetensors.h"
#include "engine/tokenizer.h"
#include "nlohmann/json.hpp"
#include "support/daemon_process.h"
#include "support/gguf_model.h"

namespace engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// GGUF bytes built field by field, so a test can write exactly the file it means, hostile ones
// included.
class GgufBytes {
 public:
  GgufBytes& U32(uint32_t v) { return Raw(&v, 4); }
  GgufBytes& U64(uint64_t v) { return Raw(&v, 8); }
  GgufBytes& F32(float v) { return Raw(&v, 4); }
  GgufBytes& Str(const std::string& s) {
    U64(s.size());
    bytes_.append(s);
    return *this;
  }
  GgufBytes& Raw(const void* p, size_t n) {
    bytes_.append(static_cast<const char*>(p), n);
    return *this;
  }
  GgufBytes& Pad(size_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back('\0');
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// A small well-formed file: metadata of each kind, an F32 [2, 3] matrix and a Q8_0 [2, 64] one.
std::string WellFormed() {
  GgufBytes b;
  b.U32(0x46554747).U32(3).U64(2).U64(5);
  b.Str("general.architecture").U32(8).Str("qwen3moe");
  b.Str("qwen3moe.block_count").U32(4).U32(28);
  b.Str("qwen3moe.rope.freq_base").U32(6).F32(1e6f);
  b.Str("tokenizer.ggml.tokens").U32(9).U32(8).U64(3).Str("a").Str("b").Str("ab");
  b.Str("tokenizer.ggml.token_type").U32(9).U32(5).U64(3).U32(1).U32(1).U32(3);
  b.Str("m.f32").U32(2).U64(3).U64(2).U32(0).U64(0);
  b.Str("m.q8").U32(2).U64(64).U64(2).U32(8).U64(32);
  b.Pad(32);
  for (int i = 0; i < 6; ++i) b.F32(static_cast<float>(i));
  b.Pad(32);
  for (int row = 0; row < 2; ++row) {
    for (int block = 0; block < 2; ++block) {
      const uint16_t d = F32ToF16(0.5f);
      b.Raw(&d, 2);
      for (int i = 0; i < 32; ++i) {
        const int8_t q = static_cast<int8_t>(i - 16);
        b.Raw(&q, 1);
      }
    }
  }
  return b.bytes();
}

class GgufFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("agentd-gguf-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& bytes, const std::string& name = "m.gguf") {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(GgufFileTest, ReadsMetadataAndTensors) {
  auto file = GgufFile::Open(Write(WellFormed()));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->version(), 3u);
  EXPECT_EQ(*(*file)->GetString("general.architecture"), "qwen3moe");
  EXPECT_EQ(*(*file)->GetInteger("qwen3moe.block_count"), 28);
  EXPECT_EQ(*(*file)->GetNumber("qwen3moe.rope.freq_base"), 1e6);
  EXPECT_THAT((*file)->Find("tokenizer.ggml.tokens")->strings, ::testing::ElementsAre("a", "b", "ab"));
  EXPECT_THAT((*file)->Find("tokenizer.ggml.token_type")->numbers, ::testing::ElementsAre(1, 1, 3));
  EXPECT_TRUE(absl::IsInvalidArgument((*file)->GetInteger("general.architecture").status()));
  EXPECT_TRUE(absl::IsNotFound((*file)->GetString("general.name").status()));

  const GgufTensor* f32 = (*file)->FindTensor("m.f32");
  ASSERT_NE(f32, nullptr);
  EXPECT_THAT(f32->dims, ::testing::ElementsAre(3, 2));
  EXPECT_EQ(f32->size_bytes, 24u);
  float values[6];
  std::memcpy(values, f32->data, sizeof values);
  EXPECT_EQ(values[5], 5.0f);
  const GgufTensor* q8 = (*file)->FindTensor("m.q8");
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(GgmlTypeName(q8->type), "Q8_0");
  EXPECT_EQ(q8->size_bytes, 2u * 2u * 34u);
  EXPECT_EQ(static_cast<int8_t>(q8->data[2]), -16);
}

TEST_F(GgufFileTest, EveryTruncationIsAnErrorNamingTheFile) {
  const std::string whole = WellFormed();
  for (size_t length = 0; length < whole.size(); ++length) {
    const std::string path = Write(whole.substr(0, length));
    auto file = GgufFile::Open(path);
    ASSERT_FALSE(file.ok()) << "a file cut at " << length << " of " << whole.size() << " bytes opened";
    EXPECT_THAT(file.status().message(), HasSubstr(path));
  }
}

TEST_F(GgufFileTest, HostileCountsSizesAndOffsetsAreRefusedByName) {
  struct Case {
    const char* what;
    std::string bytes;
    const char* message;
  };
  auto header = [](uint64_t tensors, uint64_t kvs) {
    GgufBytes b;
    b.U32(0x46554747).U32(3).U64(tensors).U64(kvs);
    return b;
  };
  std::vector<Case> cases;
  cases.push_back({"wrong magic", GgufBytes().U32(0x46554746).U32(3).U64(0).U64(0).bytes(), "no GGUF magic"});
  cases.push_back({"version 1", GgufBytes().U32(0x46554747).U32(1).U64(0).U64(0).bytes(), "format version 1"});
  cases.push_back({"big-endian version", GgufBytes().U32(0x46554747).U32(3u << 24).U64(0).U64(0).bytes(), "format version"});
  cases.push_back({"2^60 metadata entries", header(0, 1ull << 60).bytes(), "metadata entries cannot fit"});
  cases.push_back({"2^60 tensors", header(1ull << 60, 0).bytes(), "tensors cannot fit"});
  cases.push_back({"a 2^62-byte string", header(0, 1).Str("k").U32(8).U64(1ull << 62).bytes(), "k: a string of"});
  cases.push_back({"a 2^61-element array", header(0, 1).Str("k").U32(9).U32(4).U64(1ull << 61).bytes(), "k: an array of"});
  cases.push_back({"an array of arrays", header(0, 1).Str("k").U32(9).U32(9).U64(1).bytes(), "arrays of arrays"});
  cases.push_back({"an unknown value type", header(0, 1).Str("k").U32(99).U32(0).bytes(), "unknown value type"});
  cases.push_back({"a bool of 7", header(0, 1).Str("k").U32(7).Raw("\x07", 1).bytes(), "a bool of 7"});
  cases.push_back({"a uint64 above int64", header(0, 1).Str("k").U32(10).U64(~0ull).bytes(), "out of range"});
  cases.push_back({"a key twice", header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2).bytes(), "key k twice"});
  cases.push_back({"alignment 3", header(0, 1).Str("general.alignment").U32(4).U32(3).bytes(), "general.alignment"});
  cases.push_back({"5 dimensions", header(1, 0).Str("t").U32(5).U64(1).U64(1).U64(1).U64(1).U64(1).U32(0).U64(0).bytes(),
                   "tensor t: 5 dimensions"});
  cases.push_back({"a zero dimension", header(1, 0).Str("t").U32(1).U64(0).U32(0).U64(0).bytes(), "dimension 0 of 0"});
  cases.push_back({"2^80 elements", header(1, 0).Str("t").U32(2).U64(1ull << 40).U64(1ull << 40).U32(0).U64(0).bytes(),
                   "tensor t: dimension 1"});
  cases.push_back({"an unknown ggml type", header(1, 0).Str("t").U32(1).U64(4).U32(77).U64(0).bytes(), "ggml type 77"});
  cases.push_back({"rows not whole blocks", header(1, 0).Str("t").U32(1).U64(48).U32(8).U64(0).bytes(),
                   "not whole Q8_0 blocks of 32"});
  cases.push_back({"a misaligned offset", header(1, 0).Str("t").U32(1).U64(4).U32(0).U64(4).bytes(), "not aligned"});
  cases.push_back({"data past the end", header(1, 0).Str("t").U32(1).U64(1 << 20).U32(0).U64(0).Pad(32).bytes(),
                   "runs past the end"});
  cases.push_back({"a huge offset", header(1, 0).Str("t").U32(1).U64(4).U32(0).U64(~0ull - 31).Pad(32).bytes(),
                   "is at offset 18446744073709551584, not 0"});
  // Two tensors over the same bytes: each would be converted or widened on its own, so a small
  // file could claim any amount of memory.
  cases.push_back({"overlapping tensors", header(2, 0).Str("a").U32(1).U64(8).U32(0).U64(0).Str("b").U32(1).U64(8).U32(0)
                                              .U64(0).Pad(32).Raw(std::string(64, '\0').data(), 64).bytes(),
                   "tensor b is at offset 0, not 32"});
  cases.push_back({"a tensor twice", header(2, 0).Str("t").U32(1).U64(8).U32(0).U64(0).Str("t").U32(1).U64(8).U32(0).U64(32)
                                         .Pad(32).Raw(std::string(64, '\0').data(), 64).bytes(),
                   "tensor t twice"});
  cases.push_back({"a 2^23-element array", [&] {
                     GgufBytes b = header(0, 1);
                     b.Str("k").U32(9).U32(0).U64(uint64_t{1} << 23);
                     const std::string zeros(size_t{1} << 23, '\0');
                     return b.Raw(zeros.data(), zeros.size()).bytes();
                   }(),
                   "k: an array of 8388608 elements (at most 4194304)"});
  for (const Case& c : cases) {
    auto file = GgufFile::Open(Write(c.bytes));
    ASSERT_FALSE(file.ok()) << c.what << " was accepted";
    EXPECT_THAT(file.status().message(), HasSubstr(c.message)) << c.what;
  }
}

TEST_F(GgufFileTest, AFifoOrADirectoryUnderTheNameIsRefusedWithoutWaiting) {
  const std::string fifo = (dir_ / "pipe.gguf").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto opened = GgufFile::Open(fifo);  // would block in open() without O_NONBLOCK
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr("not a regular file"));
  fs::create_directories(dir_ / "dir.gguf");
  EXPECT_FALSE(GgufFile::Open((dir_ / "dir.gguf").string()).ok());
}

TEST_F(GgufFileTest, AFileOfAnotherArchitectureOrTokenizerSaysWhichAndWhatIsRead) {
  GgufBytes b;
  b.U32(0x46554747).U32(3).U64(0).U64(1).Str("general.architecture").U32(8).Str("llama");
  const std::string path = Write(b.bytes());
  auto model = Model::Load({.model_dir = path});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("architecture \"llama\" is not read from GGUF (qwen3moe, qwen3, deepseek2)"));
  auto tokenizer = Tokenizer::Load(path);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_THAT(tokenizer.status().message(), HasSubstr("tokenizer.ggml.model"));
}

TEST_F(GgufFileTest, InvalidBytesInARopeScalingTypeAreRefusedNotThrown) {
  GgufBytes b;
  b.U32(0x46554747).U32(3).U64(1).U64(5);
  b.Str("general.architecture").U32(8).Str("qwen3moe");
  b.Str("qwen3moe.embedding_length").U32(4).U32(64);
  b.Str("qwen3moe.block_count").U32(4).U32(1);
  b.Str("qwen3moe.attention.head_count").U32(4).U32(4);
  b.Str("qwen3moe.rope.scaling.type").U32(8).Str("\xff\xfe");
  b.Str("token_embd.weight").U32(2).U64(64).U64(2).U32(0).U64(0).Pad(32);
  const std::string zeros(64 * 2 * 4, '\0');
  b.Raw(zeros.data(), zeros.size());
  auto model = Model::Load({.model_dir = Write(b.bytes())});  // the JSON writer threw: an abort
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("rope.scaling.type is not none, linear or yarn"));
}

// Relative L2 distance of b from a.
double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
    norm += a[i] * static_cast<double>(a[i]);
  }
  return std::sqrt(diff / norm);
}

// A random Qwen3-MoE checkpoint with the real Qwen3 vocabulary written as GGUF
// (support/gguf_model.h), read back by the engine and compared with the checkpoint itself.
class GgufModelTest : public GgufFileTest {
 protected:
  void SetUp() override {
    GgufFileTest::SetUp();
    if (const std::string why = testing_support::GgufWriterUnavailable(); !why.empty()) GTEST_SKIP() << why;
    checkpoint_ = testing_support::WriteRandomQwen3Moe(dir_.string());
    ASSERT_FALSE(checkpoint_.empty());
  }

  std::string WriteGguf(const std::string& type) { return testing_support::WriteGguf(checkpoint_, dir_.string(), type); }

  // The Q8_0 file with the 4 bytes `skip` past `marker` (a metadata key — its value follows the
  // value's type — or a tensor's name) replaced by `value`, written as `name`; what they held
  // goes to *was. "" (with a failure recorded) when the marker is not in the file.
  std::string PatchedQ8_0(const std::string& marker, size_t skip, uint32_t value, const std::string& name,
                          uint32_t* was = nullptr) {
    std::string bytes;
    {
      std::ifstream in(WriteGguf("q8_0"), std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const size_t at = bytes.find(marker);
    EXPECT_NE(at, std::string::npos) << marker;
    if (at == std::string::npos) return "";
    char* field = bytes.data() + at + marker.size() + skip;
    if (was != nullptr) std::memcpy(was, field, 4);
    std::memcpy(field, &value, 4);
    return Write(bytes, name);
  }

  static std::vector<float> Logits(Model& model, const std::vector<int32_t>& tokens) {
    auto cache = model.NewCache();
    ForwardResult result;
    EXPECT_TRUE(model.Forward(tokens, cache.get(), {.all_logits = true}, &result).ok());
    return result.logits;
  }

  // The checkpoint's Q8_0 and Q4_0 files against its unquantised logits, and against the same
  // weights quantised by the engine itself at load, for scale: a GGUF block read wrongly would be
  // as far off as random weights (a relative error near 1.4), not a few percent.
  // `own_slack`: how far the file's error may exceed agentd's own quantisation's (1.5× + 0.005);
  // looser where near-tied routing makes both errors a matter of which ties flip.
  void ExpectQuantisedFilesCloseToTheCheckpoint(const std::vector<int32_t>& tokens, double q8_bound,
                                                double own_slack = 1.5) {
    auto reference = Model::Load({.model_dir = checkpoint_});
    ASSERT_TRUE(reference.ok()) << reference.status();
    const std::vector<float> expected = Logits(**reference, tokens);
    for (const auto& [type, scheme, bound] : {std::tuple{"q8_0", "q8", q8_bound}, std::tuple{"q4_0", "q4", 0.9}}) {
      auto from_gguf = Model::Load({.model_dir = WriteGguf(type)});
      ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
      EXPECT_EQ((*from_gguf)->weight_dtype(), scheme) << type;
      auto quantised_here = Model::Load({.model_dir = checkpoint_, .quantize = scheme});
      ASSERT_TRUE(quantised_here.ok());
      const double gguf_error = RelativeError(expected, Logits(**from_gguf, tokens));
      const double own_error = RelativeError(expected, Logits(**quantised_here, tokens));
      EXPECT_LT(gguf_error, bound) << type;
      EXPECT_LT(gguf_error, own_slack * own_error + 0.005) << type << " against agentd's " << scheme << ": " << own_error;
      std::cout << type << ": relative error " << gguf_error << " (agentd's " << scheme << ": " << own_error << ")\n";
    }
  }

  std::string checkpoint_;
};


TEST_F(GgufModelTest, ABf16GgufGivesTheCheckpointsLogitsBitForBit) {
  const std::string gguf = WriteGguf("bf16");
  auto from_hf = Model::Load({.model_dir = checkpoint_});
  auto from_gguf = Model::Load({.model_dir = gguf});
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  const ModelConfig& c = (*from_gguf)->config();
  EXPECT_EQ(c.architecture, Architecture::kQwen3Moe);
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_EQ(c.num_routed_experts, 8);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_EQ(c.rope_theta, 1e6);
  const std::vector<int32_t> tokens = {9707, 11, 1879, 0, 151643, 42, 151935, 5, 77, 1000};
  EXPECT_EQ(Logits(**from_gguf, tokens), Logits(**from_hf, tokens));
}

TEST_F(GgufModelTest, Q8_0AndQ4_0GgufsStayCloseToTheCheckpoint) {
  ExpectQuantisedFilesCloseToTheCheckpoint({9707, 11, 1879, 0, 42, 5, 77, 1000}, /*q8_bound=*/0.05);
}

TEST_F(GgufModelTest, KQuantMixesStayCloseToTheCheckpoint) {
  // llama.cpp's Q4_K_M and Q5_K_M mixes (Q6_K for the output head, attn_v and ffn_down of layer
  // 0) on a model whose rows are whole super-blocks of 256 but o_proj's (4 heads of 16), which
  // takes the type llama.cpp's quantiser falls back to: Q5_0 in Q4_K_M, Q5_1 in Q5_K_M.
  const std::string wide = testing_support::WriteRandomQwen3Moe((dir_ / "wide").string(), {.hidden = 256, .expert_width = 256});
  ASSERT_FALSE(wide.empty());
  auto reference = Model::Load({.model_dir = wide});
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<int32_t> tokens = {9707, 11, 1879, 0, 42, 5, 77, 1000};
  const std::vector<float> expected = Logits(**reference, tokens);
  auto quantised_here = Model::Load({.model_dir = wide, .quantize = "q4"});
  ASSERT_TRUE(quantised_here.ok());
  const double own_q4 = RelativeError(expected, Logits(**quantised_here, tokens));
  // A block read wrongly would be as far off as random weights (relative error near 1.4). Read
  // rightly, Q4_K_M lands under our own q4 (its weights are about as exact as Q4_0's, and its
  // output head is Q6_K where ours is q8) and Q5_K_M well under it.
  for (const auto& [type, scheme, bound] : {std::tuple{"q4_k_m", "q4", own_q4}, std::tuple{"q5_k_m", "q8", 0.7 * own_q4}}) {
    const std::string path = testing_support::WriteGguf(wide, dir_.string(), type);
    ASSERT_FALSE(path.empty());
    auto from_gguf = Model::Load({.model_dir = path});
    ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
    EXPECT_EQ((*from_gguf)->weight_dtype(), scheme) << type;
    const double error = RelativeError(expected, Logits(**from_gguf, tokens));
    EXPECT_LT(error, bound) << type << " against agentd's q4: " << own_q4;
    std::cout << type << ": relative error " << error << " (agentd's q4: " << own_q4 << ")\n";
  }
}

TEST_F(GgufModelTest, AMatrixOfAnotherSchemeIsRefusedNamingItsTensorAndType) {
  // The Q8_0 file with its last tensor's type changed to I8 (smaller: the file still
  // opens, since nothing follows it); the type follows n_dims and three dimensions.
  uint32_t type = 0;
  const std::string path = PatchedQ8_0("blk.1.ffn_down_exps.weight", 4 + 3 * 8, /*I8*/ 24, "i8.gguf", &type);
  ASSERT_FALSE(path.empty());
  ASSERT_EQ(type, 8u);  // Q8_0
  auto model = Model::Load({.model_dir = path});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("blk.1.ffn_down_exps.weight has dtype I8; supported: F32, BF16, F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K"));
}

TEST_F(GgufModelTest, AFileClaimingABillionLayersFailsOnTheFirstMissingOne) {
  const std::string path = PatchedQ8_0("qwen3moe.block_count", 4, 1u << 30, "many_layers.gguf");
  ASSERT_FALSE(path.empty());
  auto model = Model::Load({.model_dir = path});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("model.layers.2.input_layernorm.weight is missing"));
}

TEST_F(GgufModelTest, AnExpertCountTheTensorsDoNotHoldIsRefusedBeforeAnythingIsBuilt) {
  const std::string path = PatchedQ8_0("qwen3moe.expert_count", 4, 1u << 23, "many_experts.gguf");
  ASSERT_FALSE(path.empty());
  auto model = Model::Load({.model_dir = path});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("is not [8388608, rows, cols] with at most 4096 experts"));
}

TEST_F(GgufModelTest, TheTokenizerInAGgufEncodesAsTheHuggingFaceOne) {
  const std::string gguf = WriteGguf("bf16");
  auto from_gguf = Tokenizer::Load(gguf);
  auto from_hf = Tokenizer::Load(std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/qwen3");
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  std::ifstream cases(std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/qwen3/cases.jsonl");
  int checked = 0;
  for (std::string line; std::getline(cases, line);) {
    const auto c = nlohmann::json::parse(line);
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> ids = (*from_gguf)->Encode(text);
    EXPECT_EQ(ids, c["ids"].get<std::vector<int32_t>>()) << text;
    EXPECT_EQ((*from_gguf)->Decode(ids), (*from_hf)->Decode(ids)) << text;
    ++checked;
  }
  EXPECT_GT(checked, 50);
  EXPECT_EQ((*from_gguf)->eos_id(), (*from_hf)->TokenId("<|im_end|>"));
  EXPECT_TRUE((*from_gguf)->IsSpecial(*(*from_gguf)->TokenId("<|im_start|>")));
}

TEST_F(GgufModelTest, TheDaemonServesAGgufFileAsAgentctlShows) {
  const std::string gguf = WriteGguf("q8_0");
  testing_support::TempDir data;
  testing_support::DaemonProcess daemon =
      testing_support::StartDaemonOrThrow(data.path(), {"--model", gguf, "--embedding-model", "none"});
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  const testing_support::CommandResult info =
      testing_support::RunCommand({agentctl, "--addr", daemon.address(), "model", "info", "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto described = nlohmann::json::parse(info.out);
  EXPECT_EQ(described.value("architecture", ""), "qwen3_moe") << info.out;
  EXPECT_EQ(described.value("vocab_size", 0), 151936) << info.out;
  EXPECT_EQ(described.value("weight_dtype", ""), "q8") << info.out;
  // A chat in Qwen3's format (the file's tokenizer has its special tokens), to its token budget.
  const testing_support::CommandResult chat = testing_support::RunCommand(
      {agentctl, "--addr", daemon.address(), "chat", "--message", "Say hello.", "--max-tokens", "6"});
  EXPECT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_FALSE(chat.out.empty()) << chat.err;  // random weights: some text, whatever it says
}

// The same for llama.cpp's deepseek2 layout: a random DeepSeek-V3-layout checkpoint (MLA with
// q-LoRA, YaRN, a dense first layer, shared and group-routed experts) written as GGUF by the
// same writer, whose W_UK and W_UV halves (attn_k_b, attn_v_b) the reader joins back into
// kv_b_proj.
class DeepseekGgufTest : public GgufModelTest {
 protected:
  void SetUp() override {
    GgufFileTest::SetUp();
    if (const std::string why = testing_support::GgufWriterUnavailable(); !why.empty()) GTEST_SKIP() << why;
    checkpoint_ = testing_support::WriteRandomDeepseekV3(dir_.string());
    ASSERT_FALSE(checkpoint_.empty());
  }
};

// DeepSeek-V2's layout (no q-LoRA) and llama.cpp's "deepseek-llm" pre-tokenizer, here over
// DeepSeek-V3's vocabulary: the ids llama.cpp itself gives for every tokenizer case and corpus
// paragraph through such a file (tests/data/tokenizers/deepseek_llm/llamacpp_cases.jsonl, from
// bench/peer/llamacpp_tokenize.mjs with node-llama-cpp 3.21.1) are the reference.
class DeepseekV2GgufTest : public GgufModelTest {
 protected:
  void SetUp() override {
    GgufFileTest::SetUp();
    if (const std::string why = testing_support::GgufWriterUnavailable(); !why.empty()) GTEST_SKIP() << why;
    checkpoint_ = testing_support::WriteRandomDeepseekV2(dir_.string());
    ASSERT_FALSE(checkpoint_.empty());
  }
};

TEST_F(DeepseekV2GgufTest, TheDeepseekLlmPreTokenizerEncodesAsLlamaCppDoes) {
  auto tokenizer = Tokenizer::Load(WriteGguf("bf16"));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  std::ifstream cases(std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/deepseek_llm/llamacpp_cases.jsonl");
  int checked = 0, differ = 0;
  for (std::string line; std::getline(cases, line);) {
    const auto c = nlohmann::json::parse(line);
    const std::string text = c["text"].get<std::string>();
    const std::vector<int32_t> ids = (*tokenizer)->Encode(text);
    if (ids != c["ids"].get<std::vector<int32_t>>()) {
      if (++differ <= 5) ADD_FAILURE() << "differs from llama.cpp: " << text.substr(0, 200);
    }
    EXPECT_EQ((*tokenizer)->Decode(ids), text) << text.substr(0, 200);
    ++checked;
  }
  EXPECT_EQ(checked, 1485);
  EXPECT_EQ(differ, 0);
}

TEST_F(DeepseekV2GgufTest, ABf16GgufGivesTheCheckpointsLogitsBitForBit) {
  auto from_hf = Model::Load({.model_dir = checkpoint_});
  auto from_gguf = Model::Load({.model_dir = WriteGguf("bf16")});
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  EXPECT_EQ((*from_gguf)->config().q_lora_rank, 0);
  const std::vector<int32_t> tokens = {0, 9707, 11, 1879, 42, 129279, 5, 77, 1000, 100001};
  EXPECT_EQ(Logits(**from_gguf, tokens), Logits(**from_hf, tokens));
}

TEST_F(DeepseekGgufTest, ABf16GgufGivesTheCheckpointsLogitsBitForBit) {
  auto from_hf = Model::Load({.model_dir = checkpoint_});
  auto from_gguf = Model::Load({.model_dir = WriteGguf("bf16")});
  ASSERT_TRUE(from_hf.ok()) << from_hf.status();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  const ModelConfig& c = (*from_gguf)->config();
  EXPECT_EQ(c.architecture, Architecture::kDeepseekV3);
  EXPECT_EQ(c.vocab_size, 129280);
  EXPECT_EQ(c.num_hidden_layers, 3);
  EXPECT_EQ(c.q_lora_rank, 96);
  EXPECT_EQ(c.kv_lora_rank, 64);
  EXPECT_EQ(c.qk_nope_head_dim, 32);
  EXPECT_EQ(c.qk_rope_head_dim, 16);
  EXPECT_EQ(c.v_head_dim, 32);
  EXPECT_EQ(c.num_routed_experts, 8);
  EXPECT_EQ(c.num_shared_experts, 1);
  EXPECT_EQ(c.first_k_dense_replace, 1);
  EXPECT_EQ(c.n_group, 2);
  EXPECT_EQ(c.topk_group, 1);
  EXPECT_EQ(c.scoring_func, ScoringFunc::kSigmoid);
  EXPECT_EQ(c.topk_method, TopkMethod::kNoauxTc);
  EXPECT_TRUE(c.norm_topk_prob);
  EXPECT_DOUBLE_EQ(c.routed_scaling_factor, 2.5);
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
  EXPECT_NEAR(c.rope_scaling.mscale_all_dim, 1.0, 1e-6);
  const std::vector<int32_t> tokens = {0, 9707, 11, 1879, 42, 129279, 5, 77, 1000, 128000};
  EXPECT_EQ(Logits(**from_gguf, tokens), Logits(**from_hf, tokens));
}

TEST_F(DeepseekGgufTest, QuantisedFilesStayCloseToTheCheckpoint) {
  // attn_k_b's rows are W_UK's columns: quantised along the other axis than agentd's own q8 of
  // kv_b_proj, and dequantised back to f32 when read. Group-limited sigmoid routing over random
  // weights has near-ties that 8-bit rounding already flips (agentd's own q8 moves these logits
  // by 4-15%), so the 8-bit bound is loose; a block read wrongly would be near 1.4. Which ties
  // flip is chance: the same Q8_0 file, read bit for bit the same, was at 0.156 against agentd's
  // own q8 at 0.154 with float32 scales and at 0.040 with f16 ones — hence the slack.
  ExpectQuantisedFilesCloseToTheCheckpoint({0, 9707, 11, 1879, 42, 5, 77, 1000}, /*q8_bound=*/0.3, /*own_slack=*/5);
}

TEST_F(DeepseekGgufTest, KQuantMixesOfRowsNarrowerThanASuperBlockStayCloseToTheCheckpoint) {
  // No row of this model is a whole super-block of 256 (hidden 64, q-LoRA 96, nope 32), so
  // llama.cpp's Q4_K_M holds every matrix in Q5_0 and its Q5_K_M in Q5_1 (Q8_0 where the mix
  // asks for Q6_K): the fallback blocks through the whole model, attn_k_b and attn_v_b
  // dequantised into kv_b_proj. Five bits per weight land under agentd's own q4 (a block read
  // wrongly would be near 1.4).
  auto reference = Model::Load({.model_dir = checkpoint_});
  ASSERT_TRUE(reference.ok()) << reference.status();
  const std::vector<int32_t> tokens = {0, 9707, 11, 1879, 42, 5, 77, 1000};
  const std::vector<float> expected = Logits(**reference, tokens);
  auto quantised_here = Model::Load({.model_dir = checkpoint_, .quantize = "q4"});
  ASSERT_TRUE(quantised_here.ok());
  const double own_q4 = RelativeError(expected, Logits(**quantised_here, tokens));
  for (const char* type : {"q4_k_m", "q5_k_m"}) {
    auto from_gguf = Model::Load({.model_dir = WriteGguf(type)});
    ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
    EXPECT_EQ((*from_gguf)->weight_dtype(), "q8") << type;  // Q5_0 and Q5_1 become q8 levels
    const double error = RelativeError(expected, Logits(**from_gguf, tokens));
    EXPECT_LT(error, own_q4) << type;
    std::cout << type << ": relative error " << error << " (agentd's q4: " << own_q4 << ")\n";
  }
}

TEST_F(DeepseekGgufTest, LatentHalvesThatDoNotMatchTheMetadataAreRefusedByName) {
  // kv_lora_rank one less than attn_k_b and attn_v_b hold.
  const std::string path = PatchedQ8_0("deepseek2.attention.kv_lora_rank", 4, 63, "rank.gguf");
  ASSERT_FALSE(path.empty());
  auto model = Model::Load({.model_dir = path});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("attn_k_b.weight and blk.0.attn_v_b.weight must be {32, 63, 4}"));
  // A key width not above the rotary width leaves no nope part.
  const std::string narrow = PatchedQ8_0("deepseek2.attention.key_length_mla", 4, 16, "key.gguf");
  ASSERT_FALSE(narrow.empty());
  model = Model::Load({.model_dir = narrow});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(model.status().message(), HasSubstr("key width 16 must exceed rope.dimension_count 16"));
}

TEST_F(DeepseekGgufTest, TheTokenizerInAGgufEncodesAsTheHuggingFaceOne) {
  auto from_gguf = Tokenizer::Load(WriteGguf("q8_0"));
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status();
  std::ifstream cases(std::string(AGENTD_TEST_DATA_DIR) + "/tokenizers/deepseek_v3/cases.jsonl");
  int checked = 0;
  for (std::string line; std::getline(cases, line) && checked < 200;) {
    const auto c = nlohmann::json::parse(line);
    EXPECT_EQ((*from_gguf)->Encode(c["text"].get<std::string>()), c["ids"].get<std::vector<int32_t>>()) << c["text"];
    ++checked;
  }
  EXPECT_GT(checked, 50);
}

}  // namespace
}  // namespace engine
