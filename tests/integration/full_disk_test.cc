// The real daemon with its data directory on a small tmpfs that fills up: the writes it refuses
// and how, what keeps working, a run whose checkpoints stop fitting, and the recovery once space
// is freed — without a restart, then across one. Mounting needs root (CI runs as root); where it
// is not permitted the test is skipped and says so. The stores' own behaviour on a full disk is
// tested without a mount, by fault injection (StateStoreTest, MemoryStoreTest).
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sdk/client.h"
#include "support/daemon_process.h"

namespace {

using namespace agentd::v1;
using ::testing::HasSubstr;
using testing_support::DaemonProcess;
using testing_support::TempDir;
using RunT = agentd::v1::Run;

// Each step returns 256 KiB, so the run's record (rewritten whole at every step's start and end)
// writes ever more: some 30 MiB by step 11. The disk fills with the plan's own checkpoints.
constexpr char kFillingPlan[] = R"lua(
plan{
  name = "filling",
  run = function(ctx, inputs)
    for i = 1, 400 do
      ctx.step("s" .. i, function() return string.rep(string.char(65 + i % 26), 256 * 1024) end)
    end
    return {media_type = "text/plain", content = "done"}
  end,
}
)lua";

constexpr char kHelloPlan[] = R"lua(
plan{
  name = "hello",
  run = function(ctx, inputs)
    local greeting = ctx.step("greet", function() return "hello" end)
    return {media_type = "text/plain", content = greeting}
  end,
}
)lua";

// A tmpfs of `megabytes` mounted on a fresh directory, unmounted on destruction.
class SmallDisk {
 public:
  explicit SmallDisk(int megabytes) {
    const std::string options = "size=" + std::to_string(megabytes) + "m";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, options.c_str()) != 0) {
      error_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (error_.empty()) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string Join(const std::string& name) const { return dir_.Join(name); }

 private:
  TempDir dir_;
  std::string error_;
};

void WriteFiller(const std::string& path, size_t megabytes) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(1 << 20, 'f');
  for (size_t i = 0; i < megabytes; ++i) out.write(block.data(), static_cast<std::streamsize>(block.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Takes whatever room is left, in 4 KiB blocks.
void FillTheRest(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(4096, 'f');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

std::unique_ptr<sdk::Client> Connect(const DaemonProcess& daemon) {
  sdk::ClientOptions options;
  options.address = daemon.address();
  auto client = sdk::Client::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(*client);
}

grpc::Status Ingest(sdk::Client& client, const std::string& id, const std::string& text) {
  IngestRequest request;
  request.set_collection("c");
  Document* document = request.add_documents();
  document->set_id(id);
  document->set_text(text);
  IngestResponse response;
  auto context = client.NewContext();
  return client.memory().Ingest(context.get(), request, &response);
}

std::vector<std::string> Found(sdk::Client& client, const std::string& query) {
  SearchRequest request;
  request.set_collection("c");
  request.set_query(query);
  request.set_k(10);
  request.set_mode(SEARCH_MODE_LEXICAL);
  SearchResponse response;
  auto context = client.NewContext();
  grpc::Status status = client.memory().Search(context.get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> ids;
  for (const SearchHit& hit : response.hits()) ids.push_back(hit.document_id());
  return ids;
}

absl::StatusOr<RunT> Start(sdk::Client& client, const std::string& plan, const std::string& source) {
  StartRunRequest request;
  request.set_plan(plan);
  request.set_plan_source(source);
  return client.StartRun(request);
}

// Reads the run's events to the end of the stream; the stream must end, not hang.
grpc::Status ReadToEnd(sdk::Client& client, const std::string& run_id, std::vector<RunEvent>* events) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  StreamRunRequest request;
  request.set_run_id(run_id);
  auto reader = client.agents().StreamRun(&context, request);
  RunEvent event;
  while (reader->Read(&event)) events->push_back(event);
  return reader->Finish();
}

// Before: the daemon aborted (SIGABRT in RocksDB's info log) within a second of its first write
// that found the disk full; had it not, every write would have failed with INTERNAL until a
// restart, the run whose checkpoint failed would have stayed RUNNING with no worker, and its
// event stream would have waited for an event that was never stored.
TEST(FullDiskTest, TheDaemonRefusesWritesByNameFailsTheRunCleanlyAndWritesAgainOnceFreed) {
  SmallDisk disk(48);
  if (!disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.error() << "); needs root";
  }
  const std::string data = disk.Join("data");
  ASSERT_NO_FATAL_FAILURE(WriteFiller(disk.Join("filler"), 16));
  std::optional<DaemonProcess> daemon(testing_support::StartDaemonOrThrow(data));
  auto client = Connect(*daemon);
  {
    CreateCollectionRequest request;
    request.set_name("c");
    request.set_embedding_model("none");
    Collection collection;
    auto context = client->NewContext();
    ASSERT_TRUE(client->memory().CreateCollection(context.get(), request, &collection).ok());
  }
  ASSERT_TRUE(Ingest(*client, "before", "written before the disk filled: alpha").ok());
  absl::StatusOr<RunT> hello = Start(*client, "hello", kHelloPlan);
  ASSERT_TRUE(hello.ok()) << hello.status();

  absl::StatusOr<RunT> filling = Start(*client, "filling", kFillingPlan);
  ASSERT_TRUE(filling.ok()) << filling.status();
  std::vector<RunEvent> events;
  grpc::Status streamed = ReadToEnd(*client, filling->run_id(), &events);
  EXPECT_TRUE(streamed.ok()) << streamed.error_code() << " " << streamed.error_message();
  absl::StatusOr<RunT> failed = client->GetRun(filling->run_id());
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->state(), RUN_STATE_FAILED);
  EXPECT_THAT(failed->error(), HasSubstr("is full"));
  EXPECT_THAT(failed->error(), HasSubstr(data + "/state"));
  EXPECT_LT(failed->steps_size(), 400);

  // Full: writes are refused by name, reads go on, the daemon serves. (What the run could not
  // write may leave room for a smaller write: that room is taken too.)
  FillTheRest(disk.Join("filler-2"));
  // (Larger than the room left in the pages the WAL already has.)
  grpc::Status refused = Ingest(*client, "during", "refused while the disk is full: beta " + std::string(256 << 10, 'b'));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr(data + "/memory"));
  absl::StatusOr<RunT> refused_run = Start(*client, "hello", kHelloPlan);
  ASSERT_FALSE(refused_run.ok());
  EXPECT_EQ(refused_run.status().code(), absl::StatusCode::kResourceExhausted) << refused_run.status();
  EXPECT_THAT(Found(*client, "alpha"), ::testing::ElementsAre("before"));
  EXPECT_TRUE(client->GetRun(hello->run_id()).ok());
  EXPECT_EQ(client->ResumeRun(filling->run_id()).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client->Health().value_or(""), "SERVING");

  // Freed: the same daemon writes again, and the run's end, kept until then, is stored.
  std::filesystem::remove(disk.Join("filler"));
  std::filesystem::remove(disk.Join("filler-2"));
  grpc::Status ingested = Ingest(*client, "after", "written once space was freed: gamma");
  EXPECT_TRUE(ingested.ok()) << ingested.error_message();
  absl::StatusOr<RunT> after = Start(*client, "hello", kHelloPlan);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_THAT(Found(*client, "gamma"), ::testing::ElementsAre("after"));

  // And across a restart: everything acknowledged is there, the refused is not, and the failed
  // run stays failed (its end was stored) rather than running again.
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->WaitForExit(std::chrono::seconds(60)), 0) << daemon->Log();
  daemon.reset();
  daemon.emplace(testing_support::StartDaemonOrThrow(data));
  client = Connect(*daemon);
  EXPECT_THAT(Found(*client, "alpha"), ::testing::ElementsAre("before"));
  EXPECT_THAT(Found(*client, "gamma"), ::testing::ElementsAre("after"));
  EXPECT_TRUE(Found(*client, "beta").empty());
  absl::StatusOr<RunT> stored = client->GetRun(filling->run_id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state(), RUN_STATE_FAILED);
  EXPECT_EQ(client->GetRun(hello->run_id())->state(), RUN_STATE_SUCCEEDED);
  // The daemon never died on its own.
  EXPECT_THAT(daemon->Log(), ::testing::Not(HasSubstr("Assertion")));
}

}  // namespace
