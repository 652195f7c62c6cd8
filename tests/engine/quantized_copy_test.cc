// The saved quantised copy: written on the first quantised load, mapped on the next with the
// same logits bit for bit, never used for another checkpoint or scheme, and ignored (then
// written again) when damaged; a directory it cannot be written to costs only the time.
#include <sys/stat.h>
#include <sys/time.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model.h"
#include "engine/random_checkpoint.h"
#include "support/daemon_process.h"

namespace engine {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<float> Logits(Model& model) {
  auto cache = model.NewCache();
  ForwardResult result;
  const std::vector<int32_t> ids = {5, 17, 2, 40, 9, 11};
  EXPECT_TRUE(model.Forward(ids, cache.get(), {.all_logits = true}, &result).ok());
  return result.logits;
}

std::vector<fs::path> CopiesIn(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) out.push_back(entry.path());
  return out;
}

class QuantizedCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string config_json =
        testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/models/qwen3_moe_tiny/config.json");
    ASSERT_TRUE(WriteRandomCheckpoint(config_json, model_dir_).ok());
  }
  absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& scheme, const std::string& copies) {
    return Model::Load({.model_dir = model_dir_, .quantize = scheme, .quantized_copy_dir = copies});
  }

  testing_support::TempDir dir_;
  const std::string model_dir_ = dir_.Join("model");
  const std::string copies_ = dir_.Join("copies");
};

TEST_F(QuantizedCopyTest, SavedOnceThenMappedWithTheSameLogits) {
  auto first = Load("q4", copies_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT((*first)->quantized_copy_note(), StartsWith("quantised and saved to " + copies_));
  const std::vector<fs::path> files = CopiesIn(copies_);
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(files[0], std::ios::binary);
  char magic[8];
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic, 8), "AGENTDQW");

  auto second = Load("q4", copies_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->quantized_copy_note(), "mapped from " + files[0].string());
  EXPECT_EQ(Logits(**second), Logits(**first));
  EXPECT_EQ((*second)->weight_dtype(), "q4");
  EXPECT_EQ((*second)->active_weight_bytes(), (*first)->active_weight_bytes());

  // Another scheme is another copy beside it.
  auto eight = Load("q8", copies_);
  ASSERT_TRUE(eight.ok()) << eight.status();
  EXPECT_THAT((*eight)->quantized_copy_note(), StartsWith("quantised and saved"));
  EXPECT_EQ(CopiesIn(copies_).size(), 2u);
  EXPECT_NE(Logits(**eight), Logits(**first));

  // So is q4-pure's (its output head at 4 bits too: fewer bytes a token), mapped once saved.
  auto pure = Load("q4-pure", copies_);
  ASSERT_TRUE(pure.ok()) << pure.status();
  EXPECT_THAT((*pure)->quantized_copy_note(), StartsWith("quantised and saved"));
  EXPECT_EQ(CopiesIn(copies_).size(), 3u);
  EXPECT_EQ((*pure)->weight_dtype(), "q4-pure");
  EXPECT_LT((*pure)->active_weight_bytes(), (*first)->active_weight_bytes());
  EXPECT_NE(Logits(**pure), Logits(**first));
  auto pure_again = Load("q4-pure", copies_);
  ASSERT_TRUE(pure_again.ok()) << pure_again.status();
  EXPECT_THAT((*pure_again)->quantized_copy_note(), StartsWith("mapped from"));
  EXPECT_EQ(Logits(**pure_again), Logits(**pure));
  auto four_again = Load("q4", copies_);
  ASSERT_TRUE(four_again.ok()) << four_again.status();
  EXPECT_EQ((*four_again)->quantized_copy_note(), "mapped from " + files[0].string());
}

TEST_F(QuantizedCopyTest, ADamagedCopyIsIgnoredAndWrittenAgain) {
  auto first = Load("q4", copies_);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::vector<float> expected = Logits(**first);
  const fs::path copy = CopiesIn(copies_).at(0);
  const auto size = fs::file_size(copy);
  for (const auto damage : {size / 2, uint64_t{12}, uint64_t{0}}) {
    // Cut short (blocks missing), cut inside the header, and emptied.
    fs::resize_file(copy, damage);
    auto reloaded = Load("q4", copies_);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_THAT((*reloaded)->quantized_copy_note(), StartsWith("quantised and saved")) << damage;
    EXPECT_EQ(Logits(**reloaded), expected) << damage;
    EXPECT_EQ(fs::file_size(copy), size);
  }
  // One byte of the blocks changed: their CRC-32C no longer matches.
  {
    std::fstream file(copy, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(size / 2));
    const char byte = static_cast<char>(file.get() ^ 0x10);
    file.seekp(static_cast<std::streamoff>(size / 2));
    file.put(byte);
  }
  {
    auto reloaded = Load("q4", copies_);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_THAT((*reloaded)->quantized_copy_note(), StartsWith("quantised and saved"));
    EXPECT_EQ(Logits(**reloaded), expected);
  }
  // A FIFO planted under the copy's name: opening it must not wait for a writer.
  fs::remove(copy);
  ASSERT_EQ(mkfifo(copy.c_str(), 0600), 0);
  {
    auto reloaded = Load("q4", copies_);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_THAT((*reloaded)->quantized_copy_note(), StartsWith("quantised and saved"));
    EXPECT_TRUE(fs::is_regular_file(copy));
  }
  // A header that claims blocks beyond the end of the file.
  {
    std::fstream file(copy, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<char> bytes(static_cast<size_t>(size));
    file.read(bytes.data(), static_cast<std::streamsize>(size));
    const std::string name = "lm_head.weight";
    auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
    ASSERT_NE(at, bytes.end());
    // After the name: u32 scheme, i64 rows, i64 cols, then the u64 offset.
    const auto offset_field = (at - bytes.begin()) + static_cast<std::ptrdiff_t>(name.size()) + 4 + 16;
    const uint64_t huge = uint64_t{1} << 60;
    file.seekp(offset_field);
    file.write(reinterpret_cast<const char*>(&huge), 8);
  }
  auto reloaded = Load("q4", copies_);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_THAT((*reloaded)->quantized_copy_note(), StartsWith("quantised and saved"));
  EXPECT_EQ(Logits(**reloaded), expected);
}

TEST_F(QuantizedCopyTest, AChangedCheckpointIsQuantisedAgain) {
  auto first = Load("q4", copies_);
  ASSERT_TRUE(first.ok()) << first.status();
  // New weights under the same path (rewritten with another seed; its time moves on).
  const std::string config_json = testing_support::ReadFile(model_dir_ + "/config.json");
  ASSERT_TRUE(WriteRandomCheckpoint(config_json, model_dir_, {.seed = 2}).ok());
  struct timeval later[2] = {{2000000000, 0}, {2000000000, 0}};
  ASSERT_EQ(utimes((model_dir_ + "/model.safetensors").c_str(), later), 0);
  auto changed = Load("q4", copies_);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_THAT((*changed)->quantized_copy_note(), StartsWith("quantised and saved"));
  EXPECT_EQ(CopiesIn(copies_).size(), 1u) << "the old checkpoint's copy is replaced, not kept beside";
  EXPECT_NE(Logits(**changed), Logits(**first));
  auto unquantized_twin = Load("q4", "");
  ASSERT_TRUE(unquantized_twin.ok());
  EXPECT_EQ(Logits(**changed), Logits(**unquantized_twin)) << "the old copy's blocks were used";
}

TEST_F(QuantizedCopyTest, ACopyThatCannotBeWrittenCostsOnlyTime) {
  { std::ofstream(dir_.Join("a_file")) << "x"; }
  auto model = Load("q4", dir_.Join("a_file") + "/copies");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_THAT((*model)->quantized_copy_note(), StartsWith("quantised; not saved: "));
  auto without = Load("q4", "");
  ASSERT_TRUE(without.ok());
  EXPECT_EQ((*without)->quantized_copy_note(), "");
  EXPECT_EQ(Logits(**model), Logits(**without));
}

}  // namespace
}  // namespace engine
