// What one tenant can do to the daemon through the gRPC edge itself, on the real daemon: slow
// calls that hold threads, event streams it never reads, and how much each costs the others.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "sdk/client.h"
#include "support/daemon_process.h"

namespace {

using namespace agentd::v1;
using ::testing::HasSubstr;
using testing_support::DaemonProcess;
using testing_support::StartDaemonOrThrow;
using testing_support::TempDir;
using Json = nlohmann::json;

std::unique_ptr<sdk::Client> Connect(const DaemonProcess& daemon, const std::string& token, double timeout_seconds = 60) {
  sdk::ClientOptions options;
  options.address = daemon.address();
  options.token = token;
  options.timeout_seconds = timeout_seconds;
  auto client = sdk::Client::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(*client);
}

// The run once it has ended (polled for two minutes at most, a guard against a hang).
absl::StatusOr<agentd::v1::Run> RunOnceEnded(sdk::Client& client, const std::string& run_id) {
  for (int i = 0; i < 12000; ++i) {
    absl::StatusOr<agentd::v1::Run> run = client.GetRun(run_id);
    if (run.ok() && (run->state() == RUN_STATE_SUCCEEDED || run->state() == RUN_STATE_FAILED ||
                     run->state() == RUN_STATE_CANCELLED)) {
      return run;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat("run ", run_id, " did not end"));
}

// A TCP listener on 127.0.0.1 that accepts connections and answers none of them until Release():
// an HTTP server a tool waits on for as long as the test wants.
class HoldingListener {
 public:
  HoldingListener() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(listener_, 128);
    thread_ = std::thread([this] {
      while (true) {
        const int client = accept(listener_, nullptr, nullptr);
        if (client < 0) return;
        std::lock_guard<std::mutex> lock(mutex_);
        if (released_) {
          close(client);
          continue;
        }
        clients_.push_back(client);
        accepted_.notify_all();
      }
    });
  }
  ~HoldingListener() {
    Release();
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }
  int port() const { return port_; }
  // Waits (up to a minute, a guard against hangs) until `count` connections are held.
  bool WaitForConnections(size_t count) {
    std::unique_lock<std::mutex> lock(mutex_);
    return accepted_.wait_for(lock, std::chrono::minutes(1), [&] { return clients_.size() >= count; });
  }
  // Closes every held connection, and each later one at once (the requests fail at once).
  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    for (int client : clients_) close(client);
    clients_.clear();
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable accepted_;
  std::vector<int> clients_;
  bool released_ = false;
};

// gRPC runs every callback handler on a few threads of its own (two on a 2-core machine, at most
// 16). Tool calls, ingests, embeddings and a plan's top level at StartRun used to run there, so a
// tenant with a few slow calls in flight held up every call of every tenant. Here one tenant
// holds 24 tool calls on an HTTP server that does not answer; another tenant's calls, slow kinds
// included, must still be answered.
TEST(ServiceEdgeTest, OneTenantsSlowCallsLeaveEveryoneElseServed) {
  TempDir dir;
  HoldingListener held;
  std::filesystem::create_directories(dir.Join("tools"));
  testing_support::WriteFile(dir.Join("tools/wait.lua"),
                             "tool{ name = 'wait', description = 'Fetches a URL.', "
                             "params = {type = 'object', properties = {url = {type = 'string'}}, required = {'url'}}, "
                             "handler = function(args) return http.get(args.url, {timeout = 300}).status end }\n");
  testing_support::WriteFile(dir.Join("config.json"),
                             Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                                        {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}},
                                  {"http_allowed_hosts", {"127.0.0.1:" + std::to_string(held.port())}}}
                                 .dump());
  DaemonProcess daemon =
      StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json"), "--tools-dir", dir.Join("tools")});
  auto acme = Connect(daemon, "token-of-acme-0000001", 600);
  // The other tenant's calls give up after 30 s: long enough for any machine, and they would
  // wait for the held calls (minutes) if those held gRPC's threads.
  auto globex = Connect(daemon, "token-of-globex-00001", 30);

  constexpr int kHeldCalls = 24;  // more than gRPC's callback threads on any machine (16 at most)
  std::vector<grpc::Status> held_status(kHeldCalls);
  std::vector<std::thread> callers;
  for (int i = 0; i < kHeldCalls; ++i) {
    callers.emplace_back([&, i] {
      InvokeToolRequest request;
      request.set_name("wait");
      request.set_arguments_json(Json{{"url", "http://127.0.0.1:" + std::to_string(held.port()) + "/"}}.dump());
      request.set_timeout_ms(300000);
      InvokeToolResponse response;
      held_status[i] = acme->tools().InvokeTool(acme->NewContext().get(), request, &response);
    });
  }
  ASSERT_TRUE(held.WaitForConnections(2)) << "the held tool calls never reached the listener";

  ListRunsResponse runs;
  grpc::Status listed = globex->agents().ListRuns(globex->NewContext().get(), ListRunsRequest(), &runs);
  EXPECT_TRUE(listed.ok()) << listed.error_code() << ": " << listed.error_message();
  InvokeToolRequest sum;
  sum.set_name("calculator");
  sum.set_arguments_json(R"({"expression": "6 * 7"})");
  InvokeToolResponse answer;
  grpc::Status called = globex->tools().InvokeTool(globex->NewContext().get(), sum, &answer);
  EXPECT_TRUE(called.ok()) << called.error_code() << ": " << called.error_message();
  EXPECT_THAT(answer.result_json(), HasSubstr("42"));
  StartRunRequest start;
  start.set_plan("quick");
  start.set_plan_source("plan{name = 'quick', run = function(ctx) return {content = 'ok'} end}");
  StartRunResponse started;
  grpc::Status run = globex->agents().StartRun(globex->NewContext().get(), start, &started);
  EXPECT_TRUE(run.ok()) << run.error_code() << ": " << run.error_message();

  // The held calls all end once the server lets go (none is lost in a queue).
  held.Release();
  for (std::thread& caller : callers) caller.join();
  for (const grpc::Status& status : held_status) {
    EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  }
}

// The daemon's resident memory in MiB, from /proc.
long ResidentMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

agentd::v1::Run WaitForEnd(sdk::Client& client, const std::string& run_id) {
  for (int i = 0; i < 6000; ++i) {
    absl::StatusOr<agentd::v1::Run> run = client.GetRun(run_id);
    if (run.ok() && (run->state() == RUN_STATE_SUCCEEDED || run->state() == RUN_STATE_FAILED ||
                     run->state() == RUN_STATE_CANCELLED)) {
      return *run;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "run " << run_id << " did not end";
  return agentd::v1::Run();
}

// A stream read its run's events 64 at a time whatever their size, and a plan's warnings (or
// tool arguments and results) could be as large as its Lua memory: eight streams that read one
// event each, on a run of 64 one-MiB warnings, held 420 MB of the daemon. Events now carry at
// most 64 KiB of each text, and a stream reads ahead at most 256 KiB.
TEST(ServiceEdgeTest, EventStreamsHoldLittleForClientsThatDoNotRead) {
  TempDir dir;
  DaemonProcess daemon = StartDaemonOrThrow(dir.Join("data"));
  auto client = Connect(daemon, "");
  StartRunRequest start;
  start.set_plan("loud");
  start.set_plan_source(R"(plan{name = "loud", run = function(ctx)
    for i = 1, 64 do ctx.warn(string.rep("w", 1024 * 1024)) end
    ctx.step("call", function() return ctx.tools.call("calculator", {expression = "1+" .. string.rep("1", 1024 * 1024)}) end)
    return {content = "ok"}
  end})");
  StartRunResponse started;
  ASSERT_TRUE(client->agents().StartRun(client->NewContext().get(), start, &started).ok());
  WaitForEnd(*client, started.run_id());

  // Every event is small, whatever the plan made of it.
  std::vector<RunEvent> events;
  ASSERT_TRUE(client->FollowRun(started.run_id(), 0, false, [&](const RunEvent& e) {
    events.push_back(e);
    return true;
  }).ok());
  int warnings = 0;
  bool saw_call = false;
  for (const RunEvent& event : events) {
    EXPECT_LE(event.ByteSizeLong(), 65u * 1024) << event.ShortDebugString().substr(0, 200);
    if (event.has_warning()) {
      ++warnings;
      const std::string& message = event.warning().message();
      EXPECT_THAT(message.substr(message.size() > 64 ? message.size() - 64 : 0), HasSubstr("(983040 more bytes)"))
          << message.size() << " bytes";
    }
    if (event.has_tool_called()) {
      saw_call = true;
      const Json arguments = Json::parse(event.tool_called().arguments_json(), nullptr, false);
      ASSERT_TRUE(arguments.is_object()) << event.tool_called().arguments_json();
      EXPECT_GT(arguments.value("clipped_bytes", 0), 1024 * 1024);
    }
  }
  EXPECT_EQ(warnings, 64);
  EXPECT_TRUE(saw_call);

  // Streams that read one event and then nothing.
  const long before = ResidentMiB(daemon.pid());
  std::vector<std::unique_ptr<sdk::Client>> clients;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<RunEvent>>> readers;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(Connect(daemon, ""));
    contexts.push_back(clients.back()->NewContext(false));
    StreamRunRequest request;
    request.set_run_id(started.run_id());
    readers.push_back(clients.back()->agents().StreamRun(contexts.back().get(), request));
    RunEvent first;
    ASSERT_TRUE(readers.back()->Read(&first));
  }
  const long after = ResidentMiB(daemon.pid());
  std::printf("  daemon resident memory: %ld MiB before the streams, %ld MiB with 8 open\n", before, after);
  EXPECT_LT(after - before, 64);
  for (auto& context : contexts) context->TryCancel();
}

// Each stream holds a subscription its run wakes at every event and what it read ahead; one
// tenant may have 64 open, and another tenant's streams are not counted against it.
TEST(ServiceEdgeTest, OneTenantsOpenStreamsAreBounded) {
  TempDir dir;
  testing_support::WriteFile(dir.Join("config.json"),
                             Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                                        {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}}}
                                 .dump());
  DaemonProcess daemon = StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json")});
  auto acme = Connect(daemon, "token-of-acme-0000001");
  auto globex = Connect(daemon, "token-of-globex-00001");
  auto start = [](sdk::Client& client) {
    StartRunRequest request;
    request.set_plan("wait");
    request.set_plan_source(R"(plan{name = "wait", run = function(ctx)
      return ctx.step("spin", function() while true do end end)
    end})");
    request.mutable_limits()->set_deadline_seconds(300);
    StartRunResponse started;
    EXPECT_TRUE(client.agents().StartRun(client.NewContext().get(), request, &started).ok());
    return started.run_id();
  };
  const std::string acme_run = start(*acme);
  struct Stream {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientReader<RunEvent>> reader;
  };
  auto open = [](sdk::Client& client, const std::string& run_id) {
    Stream stream;
    stream.context = client.NewContext(false);
    StreamRunRequest request;
    request.set_run_id(run_id);
    stream.reader = client.agents().StreamRun(stream.context.get(), request);
    return stream;
  };
  std::vector<Stream> streams;
  for (int i = 0; i < 64; ++i) {
    streams.push_back(open(*acme, acme_run));
    RunEvent first;
    ASSERT_TRUE(streams.back().reader->Read(&first)) << "stream " << i;
  }
  Stream refused = open(*acme, acme_run);
  RunEvent event;
  EXPECT_FALSE(refused.reader->Read(&event));
  grpc::Status status = refused.reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("tenant acme already has 64 StreamRun calls open"));

  // Globex, with a run of its own, is not held to acme's streams.
  absl::StatusOr<agentd::v1::Run> globex_run = globex->StartRun([] {
    StartRunRequest request;
    request.set_plan("quick");
    request.set_plan_source("plan{name = 'quick', run = function(ctx) return {content = 'ok'} end}");
    return request;
  }());
  ASSERT_TRUE(globex_run.ok()) << globex_run.status();
  Stream other = open(*globex, globex_run->run_id());
  EXPECT_TRUE(other.reader->Read(&event));

  // A stream that ends gives its place back.
  streams.back().context->TryCancel();
  streams.back().reader->Finish().IgnoreError();
  streams.pop_back();
  bool reopened = false;
  for (int attempt = 0; attempt < 500 && !reopened; ++attempt) {
    Stream again = open(*acme, acme_run);
    reopened = again.reader->Read(&event);
    if (reopened) {
      streams.push_back(std::move(again));
    } else {
      again.reader->Finish().IgnoreError();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(reopened);
  EXPECT_TRUE(acme->CancelRun(acme_run).ok());
  for (Stream& stream : streams) {
    while (stream.reader->Read(&event)) {
    }
    EXPECT_TRUE(stream.reader->Finish().ok());
  }
}

// Generate/Chat streams each hold one of the daemon's engine.max_streams slots (gRPC and HTTP
// together) for as long as they are open. One tenant holding all of them (256 long generations)
// had every other tenant's generation calls refused; with two tenants configured each may now
// hold a quarter (here 2 of 8).
TEST(ServiceEdgeTest, OneTenantsGenerationStreamsLeaveOtherTenantsServed) {
  TempDir dir;
  testing_support::WriteFile(dir.Join("config.json"),
                             Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                                        {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}},
                                  {"engine", {{"max_streams", 8}}}}
                                 .dump());
  DaemonProcess daemon = StartDaemonOrThrow(
      dir.Join("data"), {"--config", dir.Join("config.json"), "--model", "default"});
  auto acme = Connect(daemon, "token-of-acme-0000001");
  auto globex = Connect(daemon, "token-of-globex-00001");
  struct Stream {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientReader<GenerateResponse>> reader;
  };
  // A stream acme reads once: the shipped model takes seconds for 1000 tokens, so it is still
  // streaming while the few milliseconds of checks below run.
  auto open = [](sdk::Client& client, Stream* stream) {
    GenerateRequest request;
    request.set_prompt("The market for AI agents");
    request.set_max_tokens(1000);
    request.set_logprobs(20);
    stream->context = client.NewContext(false);
    stream->reader = client.models().Generate(stream->context.get(), request);
    GenerateResponse first;
    return stream->reader->Read(&first);
  };
  std::vector<Stream> held;
  grpc::Status refused;
  for (int i = 0; i < 8; ++i) {
    Stream stream;
    if (!open(*acme, &stream)) {
      refused = stream.reader->Finish();
      break;
    }
    held.push_back(std::move(stream));
  }
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("tenant acme already has 2 generation calls streaming"));
  EXPECT_THAT(refused.error_message(), HasSubstr("engine.max_streams_per_tenant"));

  // Globex is served while acme holds all it may.
  GenerateRequest small;
  small.set_prompt("ok");
  small.set_max_tokens(2);
  auto context = globex->NewContext(false);
  auto reader = globex->models().Generate(context.get(), small);
  GenerateResponse response;
  while (reader->Read(&response)) {
  }
  const grpc::Status served = reader->Finish();
  EXPECT_TRUE(served.ok()) << served.error_message();

  for (Stream& stream : held) stream.context->TryCancel();
  for (Stream& stream : held) {
    while (stream.reader->Read(&response)) {
    }
    const grpc::StatusCode code = stream.reader->Finish().error_code();
    EXPECT_TRUE(code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::OK) << code;
  }
}

// agentctl reads the files it is given whatever they are: a FIFO made `memory ingest` and
// `run --plan-file` wait for ever, /dev/zero was read until memory ran out, and a file larger
// than the daemon takes was read whole and sent (and `engine tokenize --jsonl` read /dev/zero as
// one endless line). Each is now refused by what it is, at once.
TEST(ServiceEdgeTest, AgentctlRefusesFilesItCannotSendWithoutReadingThem) {
  TempDir dir;
  DaemonProcess daemon = StartDaemonOrThrow(dir.Join("data"));
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {agentctl, "--addr", daemon.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    // A guard against hangs: each answers at once.
    return testing_support::RunCommand(argv, std::chrono::seconds(60));
  };
  ASSERT_EQ(run({"memory", "create", "notes", "--embedding-model", "none"}).exit_code, 0);
  ASSERT_EQ(mkfifo(dir.Join("fifo").c_str(), 0600), 0);
  testing_support::WriteFile(dir.Join("big.txt"), std::string(9u << 20, 'a'));
  testing_support::WriteFile(dir.Join("big.lua"), "-- " + std::string(2u << 20, 'a') + "\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"memory", "ingest", "notes", dir.Join("fifo")}, "fifo: is a FIFO, not a regular file"},
      {{"memory", "ingest", "notes", "/dev/zero"}, "/dev/zero: is a character device, not a regular file"},
      {{"memory", "ingest", "notes", dir.Join("big.txt")}, "big.txt: 9.0 MiB is more than a document may hold (8 MiB)"},
      {{"run", "p", "--plan-file", dir.Join("fifo")}, "fifo: is a FIFO, not a regular file"},
      {{"run", "p", "--plan-file", dir.Join("big.lua")}, "big.lua: 2.0 MiB is more than a plan may hold (1 MiB)"},
      // In-process, no daemon: /dev/zero was one endless line read until memory ran out.
      {{"engine", "tokenize", "--jsonl", "/dev/zero"}, "--jsonl: /dev/zero: is a character device, not a regular file"},
      {{"engine", "tokenize", "--jsonl", dir.Join("fifo")}, "--jsonl: " + dir.Join("fifo") + ": is a FIFO"},
  };
  for (const auto& [args, message] : cases) {
    testing_support::CommandResult result = run(args);
    EXPECT_EQ(result.exit_code, 1) << args[args.size() - 1] << ": " << result.err.substr(0, 300);
    EXPECT_THAT(result.err, HasSubstr(message));
  }
}

// One tenant could fill the disk every tenant's data is on: Ingest took documents without end,
// and runs were kept for ever with no way to delete one. Each tenant now has a share of the
// memory store (memory.max_stored_bytes_per_tenant, max_collections_per_tenant) and of stored
// runs (runs.max_stored_runs_per_tenant); DeleteRun frees a place; another tenant's runs are not
// its to delete; the counts hold across a restart.
TEST(ServiceEdgeTest, OneTenantsStoredDataIsBoundedAndTheOthersKeepTheirShare) {
  TempDir dir;
  testing_support::WriteFile(
      dir.Join("config.json"),
      Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                 {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}},
           {"memory", {{"max_stored_bytes_per_tenant", 200000}, {"max_collections_per_tenant", 2}}},
           {"runs", {{"max_stored_runs_per_tenant", 2}}}}
          .dump());
  std::optional<DaemonProcess> daemon;
  daemon.emplace(StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json")}));
  auto acme = Connect(*daemon, "token-of-acme-0000001");
  auto globex = Connect(*daemon, "token-of-globex-00001");

  auto create = [](sdk::Client& client, const std::string& name) {
    CreateCollectionRequest request;
    request.set_name(name);
    request.set_embedding_model("none");
    Collection created;
    return client.memory().CreateCollection(client.NewContext().get(), request, &created);
  };
  ASSERT_TRUE(create(*acme, "a").ok());
  ASSERT_TRUE(create(*acme, "b").ok());
  grpc::Status third = create(*acme, "c");
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(third.error_message(), HasSubstr("max_collections_per_tenant"));
  ASSERT_TRUE(create(*globex, "a").ok());

  // Documents of 20 KB, each with words of its own, until the share is spent.
  auto ingest = [](sdk::Client& client, int n) {
    IngestRequest request;
    request.set_collection("a");
    std::string text;
    for (int i = 0; text.size() < 20000; ++i) text += "d" + std::to_string(n) + "w" + std::to_string(i) + (i % 10 == 9 ? ".\n" : " ");
    request.add_documents()->set_text(text);
    IngestResponse response;
    return client.memory().Ingest(client.NewContext().get(), request, &response);
  };
  int stored = 0;
  grpc::Status refused;
  for (int n = 0; n < 50 && refused.ok(); ++n) {
    refused = ingest(*acme, n);
    if (refused.ok()) ++stored;
  }
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("documents[0]: not written"));
  EXPECT_THAT(refused.error_message(), HasSubstr("max_stored_bytes_per_tenant"));
  EXPECT_GE(stored, 1);
  ListCollectionsResponse listed;
  ASSERT_TRUE(acme->memory().ListCollections(acme->NewContext().get(), ListCollectionsRequest(), &listed).ok());
  EXPECT_EQ(listed.tenant_max_stored_bytes(), 200000u);
  EXPECT_EQ(listed.tenant_max_collections(), 2u);
  EXPECT_LE(listed.tenant_stored_bytes(), 200000u);
  EXPECT_GT(listed.tenant_stored_bytes(), 100000u);
  // The other tenant's share is its own.
  for (int n = 0; n < stored; ++n) ASSERT_TRUE(ingest(*globex, n).ok()) << n;

  auto start = [](sdk::Client& client, const std::string& key, bool spin) {
    StartRunRequest request;
    request.set_plan("p");
    request.set_idempotency_key(key);
    request.set_plan_source(spin ? R"(plan{name = "p", run = function(ctx)
      return ctx.step("spin", function() while true do end end)
    end})"
                                 : R"(plan{name = "p", run = function(ctx)
      return {media_type = "text/plain", content = "done"}
    end})");
    return client.StartRun(request);
  };
  auto ended = [](sdk::Client& client, const std::string& run_id) { return RunOnceEnded(client, run_id).ok(); };
  absl::StatusOr<agentd::v1::Run> first = start(*acme, "k1", false);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<agentd::v1::Run> spinning = start(*acme, "k2", true);
  ASSERT_TRUE(spinning.ok()) << spinning.status();
  absl::StatusOr<agentd::v1::Run> over = start(*acme, "k3", false);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_THAT(over.status().message(), HasSubstr("runs.max_stored_runs_per_tenant"));
  absl::StatusOr<agentd::v1::Run> theirs = start(*globex, "k1", false);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  ASSERT_TRUE(ended(*acme, first->run_id()));

  // Not another tenant's to delete, and not while it runs.
  EXPECT_EQ(globex->DeleteRun(first->run_id()).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(acme->GetRun(first->run_id()).ok());
  absl::Status active = acme->DeleteRun(spinning->run_id());
  EXPECT_EQ(active.code(), absl::StatusCode::kFailedPrecondition) << active;
  EXPECT_THAT(active.message(), HasSubstr("cancel it first"));

  // Deleted: gone with its events, its key free again, its place taken by the next run.
  ASSERT_TRUE(acme->DeleteRun(first->run_id()).ok());
  EXPECT_EQ(acme->GetRun(first->run_id()).status().code(), absl::StatusCode::kNotFound);
  absl::Status events = acme->FollowRun(first->run_id(), 0, false, [](const RunEvent&) { return true; }, 0);
  EXPECT_EQ(events.code(), absl::StatusCode::kNotFound) << events;
  EXPECT_EQ(acme->DeleteRun(first->run_id()).code(), absl::StatusCode::kNotFound);
  absl::StatusOr<agentd::v1::Run> again = start(*acme, "k1", false);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->run_id(), first->run_id());
  ASSERT_TRUE(ended(*acme, again->run_id()));
  EXPECT_TRUE(globex->GetRun(theirs->run_id()).ok());

  // A cancelled run can go once it has stopped.
  ASSERT_TRUE(acme->CancelRun(spinning->run_id()).ok());
  absl::Status deleted = acme->DeleteRun(spinning->run_id());
  for (int i = 0; i < 600 && deleted.code() == absl::StatusCode::kFailedPrecondition; ++i) {
    EXPECT_THAT(deleted.message(), HasSubstr("still stopping"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    deleted = acme->DeleteRun(spinning->run_id());
  }
  ASSERT_TRUE(deleted.ok()) << deleted;

  // After a restart: acme has one stored run and room for one more; its documents' bytes hold.
  acme.reset();
  globex.reset();
  daemon.reset();
  daemon.emplace(StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json")}));
  acme = Connect(*daemon, "token-of-acme-0000001");
  ASSERT_TRUE(start(*acme, "k4", false).ok());
  EXPECT_EQ(start(*acme, "k5", false).status().code(), absl::StatusCode::kResourceExhausted);
  ListCollectionsResponse after;
  ASSERT_TRUE(acme->memory().ListCollections(acme->NewContext().get(), ListCollectionsRequest(), &after).ok());
  EXPECT_EQ(after.tenant_stored_bytes(), listed.tenant_stored_bytes());
  EXPECT_EQ(ingest(*acme, 99).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// Runs are bounded in bytes too: one run may hold up to 64 MiB of step outputs, 16 MiB of
// transcripts and 32 MiB of events an execution, so a count of runs alone let a tenant store
// terabytes. runs.max_stored_bytes_per_tenant counts each run's record and events: a checkpoint
// past it fails the run (what fitted is kept), a tenant past it starts no run until it deletes
// some, and the other tenant's share is its own.
TEST(ServiceEdgeTest, OneTenantsRunsAreBoundedInBytes) {
  TempDir dir;
  testing_support::WriteFile(
      dir.Join("config.json"),
      Json{{"auth", {{"tokens", {{{"token", "token-of-acme-0000001"}, {"tenant", "acme"}},
                                 {{"token", "token-of-globex-00001"}, {"tenant", "globex"}}}}}},
           {"runs", {{"max_stored_bytes_per_tenant", 2000000}}}}
          .dump());
  DaemonProcess daemon = StartDaemonOrThrow(dir.Join("data"), {"--config", dir.Join("config.json")});
  auto acme = Connect(daemon, "token-of-acme-0000001");
  auto globex = Connect(daemon, "token-of-globex-00001");
  auto run = [](sdk::Client& client, const std::string& source) -> absl::StatusOr<agentd::v1::Run> {
    StartRunRequest request;
    request.set_plan("p");
    request.set_plan_source(source);
    absl::StatusOr<agentd::v1::Run> started = client.StartRun(request);
    if (!started.ok()) return started.status();
    return RunOnceEnded(client, started->run_id());
  };
  auto steps = [](int count) {
    return "plan{name = \"p\", run = function(ctx)\n  for i = 1, " + std::to_string(count) +
           " do ctx.step(\"s\" .. i, function() return string.rep(\"x\", 200000) end) end\n"
           "  return {media_type = \"text/plain\", content = \"done\"}\nend}";
  };
  // Its events take it past the share: the run ends FAILED without its artifact.
  absl::StatusOr<agentd::v1::Run> loud = run(*acme, R"(plan{name = "p", run = function(ctx)
    for i = 1, 40 do ctx.warn(string.rep("w", 60000)) end
    return {media_type = "text/plain", content = string.rep("r", 100000)}
  end})");
  ASSERT_TRUE(loud.ok()) << loud.status();
  EXPECT_EQ(loud->state(), RUN_STATE_FAILED);
  EXPECT_THAT(loud->error(), HasSubstr("runs.max_stored_bytes_per_tenant"));
  absl::StatusOr<agentd::v1::Run> refused = run(*acme, steps(1));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("runs.max_stored_bytes_per_tenant"));
  absl::StatusOr<agentd::v1::Run> theirs = run(*globex, steps(3));
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_EQ(theirs->state(), RUN_STATE_SUCCEEDED) << theirs->error();

  // Room made: runs again, and one whose steps outgrow the share fails with the steps that fitted.
  ASSERT_TRUE(acme->DeleteRun(loud->run_id()).ok());
  absl::StatusOr<agentd::v1::Run> fits = run(*acme, steps(3));
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->state(), RUN_STATE_SUCCEEDED) << fits->error();
  absl::StatusOr<agentd::v1::Run> grows = run(*acme, steps(20));
  ASSERT_TRUE(grows.ok()) << grows.status();
  EXPECT_EQ(grows->state(), RUN_STATE_FAILED);
  EXPECT_THAT(grows->error(), HasSubstr("runs.max_stored_bytes_per_tenant"));
  int succeeded = 0;
  for (const Step& step : grows->steps()) succeeded += step.state() == STEP_STATE_SUCCEEDED;
  EXPECT_GT(succeeded, 0);
  EXPECT_LT(succeeded, 10);
}

}  // namespace
