#include "agentd/request_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agentd/v1/agent.pb.h"
#include "agentd/v1/memory.pb.h"
#include "agentd/v1/model.pb.h"

namespace agentd {
namespace {

using ::testing::HasSubstr;
using namespace agentd::v1;

RequestLimits SmallLimits() {
  RequestLimits limits;
  limits.max_request_bytes = 4096;
  limits.max_field_bytes = 100;
  limits.max_items = 3;
  return limits;
}

TEST(RequestValidatorTest, AcceptsAWellFormedRequest) {
  StartRunRequest request;
  request.set_plan("report");
  request.set_inputs_json(R"({"topic": "x"})");
  (*request.mutable_labels())["team"] = "research";
  EXPECT_TRUE(ValidateRequest(request, RequestLimits()).ok());
}

TEST(RequestValidatorTest, MissingRequiredFieldsAreNamed) {
  StartRunRequest start;
  absl::Status status = ValidateRequest(start, RequestLimits());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "plan: is required");

  IngestRequest ingest;
  ingest.set_collection("c");
  EXPECT_EQ(ValidateRequest(ingest, RequestLimits()).message(),
            "documents: is required (at least one item)");
  ingest.add_documents()->set_text("hello");
  ingest.add_documents();
  EXPECT_EQ(ValidateRequest(ingest, RequestLimits()).message(), "documents[1].text: is required");

  ChatRequest chat;
  chat.add_messages()->set_content("hi");
  EXPECT_THAT(ValidateRequest(chat, RequestLimits()).message(),
              HasSubstr("messages[0].role: is required (one of ROLE_SYSTEM"));
}

TEST(RequestValidatorTest, UnknownEnumValuesAreRejected) {
  ListRunsRequest list;
  list.add_states(RUN_STATE_RUNNING);
  list.add_states(static_cast<RunState>(42));
  EXPECT_THAT(ValidateRequest(list, RequestLimits()).message(),
              HasSubstr("states[1]: unknown value 42 for agentd.v1.RunState"));

  SearchRequest search;
  search.set_collection("c");
  search.set_query("q");
  search.set_mode(static_cast<SearchMode>(9));
  EXPECT_THAT(ValidateRequest(search, RequestLimits()).message(), HasSubstr("mode: unknown value 9"));

  GenerateRequest generate;
  generate.set_prompt("p");
  generate.mutable_speculation()->set_mode(static_cast<SpeculationMode>(-1));
  EXPECT_THAT(ValidateRequest(generate, RequestLimits()).message(),
              HasSubstr("speculation.mode: unknown value -1"));
}

TEST(RequestValidatorTest, SizeLimitsFromAnnotationsAndDefaults) {
  StartRunRequest start;
  start.set_plan(std::string(129, 'p'));  // annotated max_bytes 128
  EXPECT_EQ(ValidateRequest(start, RequestLimits()).message(),
            "plan: is 129 bytes; at most 128 allowed");

  // Not annotated: the configured default applies.
  ToolCall call;
  call.set_name("x");
  SearchRequest search;
  search.set_collection("c");
  search.set_query("q");
  search.mutable_filter()->add_document_ids("a");
  search.mutable_filter()->add_document_ids("b");
  EXPECT_TRUE(ValidateRequest(search, SmallLimits()).ok());

  // Map entries are named by key and obey the map's max_bytes.
  StartRunRequest labelled;
  labelled.set_plan("report");
  (*labelled.mutable_labels())["team"] = std::string(1025, 'x');
  EXPECT_EQ(ValidateRequest(labelled, RequestLimits()).message(),
            "labels[\"team\"].value: is 1025 bytes; at most 1024 allowed");

  // Default item limit on a repeated field without max_items.
  ChatRequest chat;
  auto* message = chat.add_messages();
  message->set_role(ROLE_ASSISTANT);
  for (int i = 0; i < 4; ++i) message->add_tool_calls()->set_name("t");
  EXPECT_TRUE(ValidateRequest(chat, SmallLimits()).ok());  // annotated max_items = 64
  GetRunRequest get;
  get.set_run_id(std::string(200, 'r'));
  EXPECT_THAT(ValidateRequest(get, SmallLimits()).message(), HasSubstr("run_id: is 200 bytes"));
}

TEST(RequestValidatorTest, WholeRequestLimitNamesTheLargestField) {
  IngestRequest ingest;
  ingest.set_collection("c");
  ingest.add_documents()->set_text(std::string(5000, 'x'));
  absl::Status status = ValidateRequest(ingest, SmallLimits());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("documents: request is"));
  EXPECT_THAT(status.message(), HasSubstr("limits.max_request_bytes"));
}

TEST(RequestValidatorTest, OneofMembersAreCheckedOnlyWhenSet) {
  GenerateRequest generate;
  EXPECT_TRUE(ValidateRequest(generate, RequestLimits()).ok());
  generate.set_prompt(std::string(4194305, 'x'));
  EXPECT_THAT(ValidateRequest(generate, RequestLimits()).message(), HasSubstr("prompt: is 4194305 bytes"));
}

}  // namespace
}  // namespace agentd
