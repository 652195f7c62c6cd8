// Bad requests sent over gRPC to the real daemon come back INVALID_ARGUMENT naming the field,
// for every service, before any handler work happens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "sdk/client.h"
#include "support/shared_daemon.h"

namespace {

using ::testing::HasSubstr;
using namespace agentd::v1;

class ValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A small request limit so the over-limit case needs little memory.
    const auto& shared =
        testing_support::GetSharedDaemon("validation", R"({"limits": {"max_request_bytes": 65536}})", {});
    ASSERT_NE(shared.daemon, nullptr) << shared.error;
    client_ = shared.client;
  }

  sdk::Client* client_ = nullptr;
};

void ExpectInvalid(const grpc::Status& status, const std::string& message) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(message));
}

TEST_F(ValidationTest, AgentServiceRequiredFieldsAndEnums) {
  StartRunRequest start;
  StartRunResponse started;
  ExpectInvalid(client_->agents().StartRun(client_->NewContext().get(), start, &started),
                "plan: is required");

  start.set_plan("report");
  start.set_inputs_json("[1, 2]");
  ExpectInvalid(client_->agents().StartRun(client_->NewContext().get(), start, &started),
                "inputs_json: must be a JSON object");

  ListRunsRequest list;
  list.add_states(static_cast<RunState>(77));
  ListRunsResponse listed;
  ExpectInvalid(client_->agents().ListRuns(client_->NewContext().get(), list, &listed),
                "states[0]: unknown value 77 for agentd.v1.RunState");

  StreamRunRequest stream_request;
  auto context = client_->NewContext();
  auto reader = client_->agents().StreamRun(context.get(), stream_request);
  RunEvent event;
  EXPECT_FALSE(reader->Read(&event));
  ExpectInvalid(reader->Finish(), "run_id: is required");
}

TEST_F(ValidationTest, MemoryServiceNestedFieldsAndSizes) {
  IngestRequest ingest;
  ingest.set_collection("seeds");
  ingest.add_documents()->set_text("ok");
  ingest.add_documents()->set_title("no text");
  IngestResponse ingested;
  ExpectInvalid(client_->memory().Ingest(client_->NewContext().get(), ingest, &ingested),
                "documents[1].text: is required");

  ingest.mutable_documents(1)->set_text(std::string(70000, 'x'));
  ExpectInvalid(client_->memory().Ingest(client_->NewContext().get(), ingest, &ingested),
                "limits.max_request_bytes");

  CreateCollectionRequest create;
  create.set_name("bad name!");
  Collection collection;
  ExpectInvalid(client_->memory().CreateCollection(client_->NewContext().get(), create, &collection),
                "name: may contain only");
  create.set_name("ok");
  create.mutable_index()->set_kind(static_cast<IndexKind>(12));
  ExpectInvalid(client_->memory().CreateCollection(client_->NewContext().get(), create, &collection),
                "index.kind: unknown value 12");

  SearchRequest search;
  search.set_collection("seeds");
  search.set_query("q");
  search.set_k(5000);
  SearchResponse found;
  ExpectInvalid(client_->memory().Search(client_->NewContext().get(), search, &found),
                "k: must be at most 1000");
}

TEST_F(ValidationTest, ModelServiceStreamsAndSampling) {
  GenerateRequest generate;
  generate.set_prompt("hello");
  generate.mutable_sampling()->set_top_p(1.5f);
  auto context = client_->NewContext();
  auto reader = client_->models().Generate(context.get(), generate);
  GenerateResponse response;
  EXPECT_FALSE(reader->Read(&response));
  ExpectInvalid(reader->Finish(), "sampling.top_p: must be between 0 and 1");

  ChatRequest chat;
  chat.add_messages()->set_content("hi");
  auto chat_context = client_->NewContext();
  auto chat_reader = client_->models().Chat(chat_context.get(), chat);
  EXPECT_FALSE(chat_reader->Read(&response));
  ExpectInvalid(chat_reader->Finish(), "messages[0].role: is required");

  // A valid request reaches the service, which says what is missing.
  ModelInfoRequest info_request;
  ModelInfoResponse info;
  grpc::Status status = client_->models().ModelInfo(client_->NewContext().get(), info_request, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("--model"));
}

TEST_F(ValidationTest, ToolServiceArguments) {
  InvokeToolRequest invoke;
  InvokeToolResponse invoked;
  ExpectInvalid(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked),
                "name: is required");
  invoke.set_name("calculator");
  invoke.set_arguments_json("not json");
  ExpectInvalid(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked),
                "arguments_json: must be a JSON object");
  invoke.set_arguments_json(R"({"expression": 12})");
  ExpectInvalid(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked),
                "args.expression: must be a string");
  invoke.set_arguments_json(R"({"expression": "6 * 7"})");
  ASSERT_TRUE(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked).ok());
  EXPECT_EQ(invoked.result_json(), R"({"expression":"6 * 7","result":42.0})");
}

// Copying, comparing or writing a JSON value recurses once per level: 30,000 levels (60 KB)
// overflowed the daemon's stack. Such text is refused by name before it is parsed.
TEST_F(ValidationTest, DeeplyNestedJsonIsRefusedByNameAndTheDaemonKeepsServing) {
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  InvokeToolRequest invoke;
  InvokeToolResponse invoked;
  invoke.set_name("calculator");
  invoke.set_arguments_json(R"({"expression": )" + deep + "}");
  ExpectInvalid(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked),
                "arguments_json: nested more than 128 levels deep");
  // Brackets inside strings are text, not nesting.
  invoke.set_arguments_json(R"({"expression": "6 * 7", "note": ")" + deep + R"("})");
  ExpectInvalid(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked), "args.note: is not a known argument");

  StartRunRequest start;
  StartRunResponse started;
  start.set_plan("report");
  start.set_inputs_json(R"({"topic": )" + deep + "}");
  ExpectInvalid(client_->agents().StartRun(client_->NewContext().get(), start, &started),
                "inputs_json: nested more than 128 levels deep");

  invoke.set_arguments_json(R"({"expression": "6 * 7"})");
  ASSERT_TRUE(client_->tools().InvokeTool(client_->NewContext().get(), invoke, &invoked).ok());
}

// Raw bytes to a method path, as a client with another (or a broken) schema sends them.
grpc::Status SendRawBytes(const std::string& address, const std::string& method, const std::string& bytes) {
  grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST_F(ValidationTest, BytesThatDoNotParseAreInvalidArgumentAndUnknownMethodsUnimplemented) {
  const std::string address = testing_support::GetSharedDaemon("validation", "", {}).daemon->address();
  const std::string garbage = "\xff\xff\xff\xff\x0f";
  for (const auto& [method, type] : std::vector<std::pair<std::string, std::string>>{
           {"/agentd.v1.AgentService/StartRun", "agentd.v1.StartRunRequest"},
           {"/agentd.v1.MemoryService/Search", "agentd.v1.SearchRequest"},
           {"/agentd.v1.ModelService/Tokenize", "agentd.v1.TokenizeRequest"},
           {"/agentd.v1.ToolService/InvokeTool", "agentd.v1.InvokeToolRequest"}}) {
    const grpc::Status status = SendRawBytes(address, method, garbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("does not parse as " + type)) << method;
  }
  // A string field holding invalid UTF-8 (field 1 of StartRunRequest, "plan") does not parse either.
  const grpc::Status latin1 = SendRawBytes(address, "/agentd.v1.AgentService/StartRun", std::string("\x0a\x02\xe9t", 4));
  EXPECT_EQ(latin1.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << latin1.error_message();
  for (const std::string method : {"/agentd.v1.NoSuchService/Run", "/agentd.v1.ModelService/NoSuchMethod"}) {
    EXPECT_EQ(SendRawBytes(address, method, garbage).error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
  }
}

TEST_F(ValidationTest, DaemonKeepsServingAfterBadRequests) {
  // Each test runs in its own process with its own daemon, so the bad requests are sent here.
  const std::string address = testing_support::GetSharedDaemon("validation", "", {}).daemon->address();
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(SendRawBytes(address, "/agentd.v1.AgentService/StartRun", std::string(static_cast<size_t>(i * 7), '\xff')).ok());
    StartRunRequest start;
    start.set_plan(i % 2 ? "" : "report");
    start.set_inputs_json("{\"topic\": [");
    StartRunResponse started;
    EXPECT_FALSE(client_->agents().StartRun(client_->NewContext().get(), start, &started).ok());
  }
  auto health = client_->Health();
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(*health, "SERVING");
  TokenizeRequest tokenize;
  tokenize.set_text("still serving");
  TokenizeResponse tokens;
  const grpc::Status status = client_->models().Tokenize(client_->NewContext().get(), tokenize, &tokens);
  EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

}  // namespace
