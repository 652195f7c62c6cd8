// ModelService on the real daemon started with --model (the tiny DeepSeek-V3 checkpoint with a
// small tokenizer): info, streaming generation, chat, tokenize, embed, refusals, cancellation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "sdk/client.h"
#include "support/daemon_process.h"
#include "support/shared_daemon.h"

namespace {

using ::testing::HasSubstr;
using namespace agentd::v1;

// Creates "reports" with the daemon's embedding model, ingests the AI Agent report and asks the
// market-size question by vector search, top 5.
// Eight tokens streamed after "DeepSeek-V3 is": the call's end, its non-empty deltas and text.
struct ShortGeneration {
  grpc::Status status;
  int deltas = 0;
  std::string text;
};
ShortGeneration GenerateEightTokens(sdk::Client* client) {
  GenerateRequest generate;
  generate.set_prompt("DeepSeek-V3 is");
  generate.set_max_tokens(8);
  auto context = client->NewContext(false);
  auto reader = client->models().Generate(context.get(), generate);
  GenerateResponse response;
  ShortGeneration generated;
  while (reader->Read(&response)) {
    generated.deltas += response.text().empty() ? 0 : 1;
    generated.text += response.text();
  }
  generated.status = reader->Finish();
  return generated;
}

void IngestAgentReportAndSearch(sdk::Client* client, Collection* created, SearchResponse* hits) {
  CreateCollectionRequest create;
  create.set_name("reports");
  ASSERT_TRUE(client->memory().CreateCollection(client->NewContext().get(), create, created).ok());
  IngestRequest ingest;
  ingest.set_collection("reports");
  auto* doc = ingest.add_documents();
  doc->set_id("agent-market");
  doc->set_text(testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/002_43b260d425d982aa.txt"));
  IngestResponse ingested;
  ASSERT_TRUE(client->memory().Ingest(client->NewContext().get(), ingest, &ingested).ok());
  SearchRequest search;
  search.set_collection("reports");
  search.set_query("2023年中国AI Agent市场规模是多少？");
  search.set_k(5);
  search.set_mode(SEARCH_MODE_VECTOR);
  ASSERT_TRUE(client->memory().Search(client->NewContext().get(), search, hits).ok());
}

class ModelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& shared = testing_support::GetSharedDaemon(
        "model", "", {"--model", testing_support::TinyChatModelDir()});
    ASSERT_NE(shared.daemon, nullptr) << shared.error;
    client_ = shared.client;
  }

  // Reads a whole Generate/Chat stream.
  template <typename Reader>
  static std::pair<std::string, GenerationFinished> Drain(Reader* reader, grpc::Status* status) {
    std::string text;
    GenerationFinished finished;
    GenerateResponse response;
    while (reader->Read(&response)) {
      text += response.text();
      if (response.has_finished()) finished = response.finished();
    }
    *status = reader->Finish();
    return {text, finished};
  }

  // How a Chat call ends (for requests that must be refused).
  grpc::Status ChatStatus(const ChatRequest& request) {
    auto context = client_->NewContext(false);
    auto reader = client_->models().Chat(context.get(), request);
    grpc::Status status;
    Drain(reader.get(), &status);
    return status;
  }

  sdk::Client* client_ = nullptr;
};

TEST_F(ModelServiceTest, ModelInfoDescribesTheLoadedModel) {
  ModelInfoRequest request;
  ModelInfoResponse info;
  grpc::Status status = client_->models().ModelInfo(client_->NewContext().get(), request, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(info.name(), "deepseek_v3_tiny_chat");
  EXPECT_EQ(info.architecture(), "deepseek_v3");
  EXPECT_EQ(info.vocab_size(), 320u);
  EXPECT_EQ(info.num_experts(), 8u);
  EXPECT_TRUE(info.has_mtp());
  EXPECT_THAT(info.device(), ::testing::AnyOf(HasSubstr("cpu"), HasSubstr("cuda")));

  // The serving figures count what the scheduler ran.
  GenerateRequest generate;
  generate.set_prompt("the theory of");
  generate.set_max_tokens(4);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Generate(context.get(), generate);
  Drain(reader.get(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = client_->models().ModelInfo(client_->NewContext().get(), request, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const ServingStats& serving = info.serving();
  EXPECT_GE(serving.requests(), 1u);
  EXPECT_GE(serving.iterations(), 4u);
  EXPECT_GE(serving.prefill_tokens() + serving.prefix_hit_tokens(), 3u);
  EXPECT_GT(serving.kv_blocks_total(), 0u);
  EXPECT_LE(serving.kv_blocks_used(), serving.kv_blocks_total());
  EXPECT_GE(serving.mean_batch_sequences(), 1.0);
  EXPECT_EQ(serving.running(), 0u);
  EXPECT_EQ(serving.preempted_waiting(), 0u);

  request.set_model("some-other-model");
  status = client_->models().ModelInfo(client_->NewContext().get(), request, &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ModelServiceTest, GenerateStreamsDeltasAndFinishes) {
  GenerateRequest request;
  request.set_prompt("the theory of");
  request.set_max_tokens(12);
  request.set_include_token_ids(true);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Generate(context.get(), request);
  GenerateResponse response;
  std::string text;
  int token_count = 0;
  GenerationFinished finished;
  while (reader->Read(&response)) {
    text += response.text();
    token_count += response.token_ids_size();
    if (response.has_finished()) finished = response.finished();
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(finished.reason(), FINISH_REASON_UNSPECIFIED);
  EXPECT_EQ(finished.usage().completion_tokens(), static_cast<uint64_t>(token_count));
  EXPECT_GT(finished.usage().prompt_tokens(), 0u);
  EXPECT_LE(token_count, 12);

  // Same request, greedy: same text — with speculation (the default: n-gram drafts), with
  // MTP drafts, and without.
  auto context2 = client_->NewContext(false);
  auto again = client_->models().Generate(context2.get(), request);
  grpc::Status status2;
  auto [text2, finished2] = Drain(again.get(), &status2);
  ASSERT_TRUE(status2.ok());
  EXPECT_EQ(text2, text);
  EXPECT_EQ(finished2.speculation().mode(), SPECULATION_MODE_NGRAM);
  request.mutable_speculation()->set_mode(SPECULATION_MODE_MTP);
  auto context_mtp = client_->NewContext(false);
  auto with_mtp = client_->models().Generate(context_mtp.get(), request);
  grpc::Status status_mtp;
  auto [text_mtp, finished_mtp] = Drain(with_mtp.get(), &status_mtp);
  ASSERT_TRUE(status_mtp.ok()) << status_mtp.error_message();
  EXPECT_EQ(text_mtp, text);
  EXPECT_EQ(finished_mtp.speculation().mode(), SPECULATION_MODE_MTP);
  request.mutable_speculation()->set_mode(SPECULATION_MODE_NONE);
  auto context3 = client_->NewContext(false);
  auto plain = client_->models().Generate(context3.get(), request);
  grpc::Status status3;
  auto [text3, finished3] = Drain(plain.get(), &status3);
  ASSERT_TRUE(status3.ok());
  EXPECT_EQ(text3, text);
  EXPECT_EQ(finished3.speculation().mode(), SPECULATION_MODE_NONE);
  EXPECT_EQ(finished3.speculation().proposed(), 0u);
}

// Tokenize took a text of up to 8 MiB: 7 MiB (3.67 million tokens) took 7 s and 262 MB of the
// daemon and came back as 25.7 MB, past the 4 MiB a gRPC client receives by default, and the
// call pool runs eight at once. A text is at most 512 KiB now, refused by its size, naming the
// field, before anything is tokenized; the answer to the largest stays under 4 MiB even with
// this small tokenizer's near one token per byte.
TEST_F(ModelServiceTest, TokenizeTakesOnlyTextsWhoseAnswerAClientReceives) {
  const std::string unit = "DeepSeek 的技术创新 tokens. ";
  std::string text;
  while (text.size() + unit.size() <= (size_t{512} << 10)) text += unit;
  text.resize(size_t{512} << 10, ' ');
  TokenizeRequest tokenize;
  tokenize.set_text(text);
  tokenize.set_add_special_tokens(true);
  TokenizeResponse tokens;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = client_->models().Tokenize(client_->NewContext().get(), tokenize, &tokens);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::printf("  512 KiB of text: %d tokens, a %zu-byte answer in %.2f s\n", tokens.ids_size(), tokens.ByteSizeLong(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_GT(tokens.ids_size(), 0);
  EXPECT_LE(tokens.ids_size(), (512 << 10) + 1);
  EXPECT_EQ(tokens.tokens_size(), tokens.ids_size());
  EXPECT_LT(tokens.ByteSizeLong(), size_t{4} << 20);

  tokenize.set_text(text + "x");
  tokens.Clear();
  status = client_->models().Tokenize(client_->NewContext().get(), tokenize, &tokens);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("text: is 524289 bytes; at most 524288 allowed"));
  EXPECT_EQ(tokens.ids_size(), 0);
}

TEST_F(ModelServiceTest, ChatAndTokenizeAndEmbed) {
  ChatRequest chat;
  auto* message = chat.add_messages();
  message->set_role(ROLE_USER);
  message->set_content("hello there");
  chat.set_max_tokens(6);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Chat(context.get(), chat);
  grpc::Status status;
  auto [text, finished] = Drain(reader.get(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(finished.usage().prompt_tokens(), 3u);

  TokenizeRequest tokenize;
  tokenize.set_text("the station");
  tokenize.set_add_special_tokens(true);
  TokenizeResponse tokens;
  ASSERT_TRUE(client_->models().Tokenize(client_->NewContext().get(), tokenize, &tokens).ok());
  ASSERT_GT(tokens.ids_size(), 1);
  EXPECT_EQ(tokens.tokens(0), "<｜begin▁of▁sentence｜>");
  DetokenizeRequest detokenize;
  *detokenize.mutable_ids() = tokens.ids();
  detokenize.set_skip_special_tokens(true);
  DetokenizeResponse detokenized;
  ASSERT_TRUE(client_->models().Detokenize(client_->NewContext().get(), detokenize, &detokenized).ok());
  EXPECT_EQ(detokenized.text(), "the station");

  EmbedRequest embed;
  embed.add_texts("alpha");
  embed.add_texts("beta");
  embed.set_normalize(true);
  EmbedResponse embeddings;
  ASSERT_TRUE(client_->models().Embed(client_->NewContext().get(), embed, &embeddings).ok());
  ASSERT_EQ(embeddings.embeddings_size(), 2);
  EXPECT_EQ(embeddings.dimension(), 64u);
  EXPECT_EQ(embeddings.embeddings(0).values_size(), 64);
}

TEST(ModelServiceDraftModelTest, ADraftModelSpeculatesWithTheSameOutput) {
  // The model drafting for itself: nearly every greedy draft is accepted (a one-token pass and
  // a multi-token pass may round a near tie differently), and the text is unchanged.
  const auto& shared = testing_support::GetSharedDaemon(
      "model_draft", "", {"--model", testing_support::TinyChatModelDir(), "--draft-model", testing_support::TinyChatModelDir()});
  ASSERT_NE(shared.daemon, nullptr) << shared.error;
  ModelInfoRequest info_request;
  ModelInfoResponse info;
  ASSERT_TRUE(shared.client->models().ModelInfo(shared.client->NewContext().get(), info_request, &info).ok());
  EXPECT_THAT(info.speculation_modes(), ::testing::Contains(SPECULATION_MODE_DRAFT_MODEL));
  EXPECT_THAT(info.speculation_modes(), ::testing::Contains(SPECULATION_MODE_MTP));

  GenerateRequest request;
  request.set_prompt("the station of the theory of");
  request.set_max_tokens(40);
  request.mutable_speculation()->set_mode(SPECULATION_MODE_NONE);
  std::string texts[2];
  GenerationFinished finished[2];
  for (int i = 0; i < 2; ++i) {
    if (i == 1) {
      request.mutable_speculation()->set_mode(SPECULATION_MODE_DRAFT_MODEL);
      request.mutable_speculation()->set_num_draft_tokens(4);
    }
    auto context = shared.client->NewContext(false);
    auto reader = shared.client->models().Generate(context.get(), request);
    GenerateResponse response;
    while (reader->Read(&response)) {
      texts[i] += response.text();
      if (response.has_finished()) finished[i] = response.finished();
    }
    ASSERT_TRUE(reader->Finish().ok());
  }
  EXPECT_EQ(texts[1], texts[0]);
  EXPECT_EQ(finished[1].speculation().mode(), SPECULATION_MODE_DRAFT_MODEL);
  EXPECT_GT(finished[1].speculation().proposed(), 0u);
  EXPECT_GE(finished[1].speculation().accepted() * 10, finished[1].speculation().proposed() * 8);
}

TEST(ModelServiceEmbeddingModelTest, AnEmbeddingModelServesEmbedAndMemory) {
  // The project's trained embedding model beside the tiny chat model: Embed and memory use it
  // unless a request names the chat model.
  const std::string embedding_model = std::string(AGENTD_SOURCE_DIR) + "/engine/models/agentd-embed";
  const auto& shared = testing_support::GetSharedDaemon(
      "model_embed", "", {"--model", testing_support::TinyChatModelDir(), "--embedding-model", embedding_model});
  ASSERT_NE(shared.daemon, nullptr) << shared.error;
  sdk::Client* client = shared.client;
  ModelInfoRequest info_request;
  ModelInfoResponse info;
  ASSERT_TRUE(client->models().ModelInfo(client->NewContext().get(), info_request, &info).ok());
  EXPECT_EQ(info.name(), "deepseek_v3_tiny_chat");
  EXPECT_EQ(info.embedding_model(), "agentd-embed");
  EXPECT_EQ(info.embedding_dimension(), 256u);
  EXPECT_EQ(info.embedding_pooling(), "mean");

  EmbedRequest embed;
  embed.add_texts("2023年中国AI Agent市场规模是多少？");
  embed.set_normalize(true);
  EmbedResponse document, query, chat_model;
  ASSERT_TRUE(client->models().Embed(client->NewContext().get(), embed, &document).ok());
  EXPECT_EQ(document.model(), "agentd-embed");
  EXPECT_EQ(document.dimension(), 256u);
  embed.set_role(EMBED_ROLE_QUERY);
  ASSERT_TRUE(client->models().Embed(client->NewContext().get(), embed, &query).ok());
  ASSERT_EQ(query.embeddings(0).values_size(), 256);
  EXPECT_NE(query.embeddings(0).values(0), document.embeddings(0).values(0));  // the query prompt is applied
  embed.set_model("deepseek_v3_tiny_chat");
  ASSERT_TRUE(client->models().Embed(client->NewContext().get(), embed, &chat_model).ok());
  EXPECT_EQ(chat_model.model(), "deepseek_v3_tiny_chat");
  EXPECT_EQ(chat_model.dimension(), 64u);
  embed.set_model("nonexistent");
  grpc::Status status = client->models().Embed(client->NewContext().get(), embed, &chat_model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("nonexistent"));

  // A collection records the embedding model, and hybrid search finds the answering passage.
  Collection created;
  SearchResponse hits;
  ASSERT_NO_FATAL_FAILURE(IngestAgentReportAndSearch(client, &created, &hits));
  EXPECT_EQ(created.embedding_model(), "agentd-embed");
  EXPECT_EQ(created.dimension(), 256u);
  bool found = false;
  for (const auto& hit : hits.hits()) found = found || hit.text().find("554") != std::string::npos;
  EXPECT_TRUE(found) << "no passage with the answer (554) among the top 5 vector hits";
}

TEST_F(ModelServiceTest, UnavailableFeaturesAreRefusedByName) {
  GenerateRequest request;
  request.set_prompt("x");
  request.mutable_speculation()->set_mode(SPECULATION_MODE_DRAFT_MODEL);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Generate(context.get(), request);
  grpc::Status status;
  Drain(reader.get(), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("speculation.mode"));
  EXPECT_THAT(status.error_message(), HasSubstr("--draft-model"));

  DetokenizeRequest detokenize;
  detokenize.add_ids(100000);
  DetokenizeResponse out;
  status = client_->models().Detokenize(client_->NewContext().get(), detokenize, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ids[0]"));
}

TEST_F(ModelServiceTest, ResponseFormatConstrainsTheOutputToTheSchema) {
  ChatRequest request;
  ChatMessage* message = request.add_messages();
  message->set_role(ROLE_USER);
  message->set_content("List three fruits as JSON.");
  request.set_max_tokens(1500);
  request.mutable_sampling()->set_temperature(1.0f);
  request.mutable_sampling()->set_seed(5);
  request.mutable_response_format()->set_json_schema(
      R"({"type": "object", "properties": {"fruits": {"type": "array", "minItems": 3, "maxItems": 3,
          "items": {"type": "string", "maxLength": 12}}}, "required": ["fruits"]})");
  auto context = client_->NewContext(false);
  auto reader = client_->models().Chat(context.get(), request);
  grpc::Status status;
  auto [text, finished] = Drain(reader.get(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text;
  EXPECT_EQ(doc["fruits"].size(), 3u);

  request.mutable_response_format()->set_json_schema(R"({"type": "string", "pattern": "^a+$"})");
  status = ChatStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("response_format.json_schema: keyword 'pattern' is not supported"));
}

TEST_F(ModelServiceTest, QuotedSentencesAreCopiedVerbatimWithTheirCitation) {
  // Quote grounding over gRPC: sampled at random temperature, the reply is still a sequence of
  // the given sentences, each with its own citation.
  const std::vector<std::pair<std::string, uint32_t>> sentences = {
      {"2023 年中国 AI Agent 市场规模为 554 亿元。", 1}, {"预计至 2028 年将达 8520 亿元。", 2}, {"特效厅又称特殊厅。", 3}};
  for (uint64_t seed : {1, 2, 3, 4}) {
    ChatRequest request;
    ChatMessage* message = request.add_messages();
    message->set_role(ROLE_USER);
    message->set_content("Quote the passages.");
    request.set_max_tokens(400);
    request.mutable_sampling()->set_temperature(1.0f);
    request.mutable_sampling()->set_seed(seed);
    QuotedSentences* quoted = request.mutable_response_format()->mutable_quoted_sentences();
    for (const auto& [text, citation] : sentences) {
      QuotedSentence* s = quoted->add_sentences();
      s->set_text(text);
      s->set_citation(citation);
    }
    quoted->set_min_units(1);
    quoted->set_max_units(2);
    auto context = client_->NewContext(false);
    auto reader = client_->models().Chat(context.get(), request);
    grpc::Status status;
    auto [text, finished] = Drain(reader.get(), &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    size_t at = 0;
    int units = 0;
    while (at < text.size()) {
      bool matched = false;
      for (const auto& [sentence, citation] : sentences) {
        const std::string unit = sentence + "[" + std::to_string(citation) + "]";
        if (text.compare(at, unit.size(), unit) == 0) {
          at += unit.size();
          matched = true;
          break;
        }
      }
      ASSERT_TRUE(matched) << "not a quoted unit at " << at << ": " << text;
      ++units;
    }
    EXPECT_GE(units, 1);
    EXPECT_LE(units, 2);
  }

  ChatRequest bad;
  ChatMessage* message = bad.add_messages();
  message->set_role(ROLE_USER);
  message->set_content("x");
  bad.mutable_response_format()->mutable_quoted_sentences()->set_min_units(1);
  grpc::Status status = ChatStatus(bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("response_format.quoted_sentences: no sentences"));
  QuotedSentence* s = bad.mutable_response_format()->mutable_quoted_sentences()->add_sentences();
  s->set_text("see [2]");
  s->set_citation(1);
  status = ChatStatus(bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("response_format.quoted_sentences.sentences[0].text"));
}

TEST(ModelServiceShippedModelsTest, WithoutModelFlagsTheDaemonServesTheShippedModels) {
  // `agentd --data-dir DIR` and nothing else: the shipped default model generates and the shipped
  // retrieval model embeds memory.
  testing_support::TempDir data;
  std::string error;
  auto daemon = testing_support::DaemonProcess::Start(data.path(), {}, &error, std::chrono::seconds(60),
                                                      /*add_model_none=*/false);
  ASSERT_TRUE(daemon.has_value()) << error;
  sdk::ClientOptions options;
  options.address = daemon->address();
  auto client = sdk::Client::Create(options);
  ASSERT_TRUE(client.ok());
  ModelInfoResponse info;
  ASSERT_TRUE((*client)->models().ModelInfo((*client)->NewContext().get(), ModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.name(), "agentd-default");
  EXPECT_EQ(info.embedding_model(), "agentd-embed");

  const ShortGeneration generated = GenerateEightTokens(client->get());
  ASSERT_TRUE(generated.status.ok()) << generated.status.error_message();
  EXPECT_GT(generated.deltas, 0);

  Collection created;
  SearchResponse hits;
  ASSERT_NO_FATAL_FAILURE(IngestAgentReportAndSearch(client->get(), &created, &hits));
  EXPECT_EQ(created.embedding_model(), "agentd-embed");
  ASSERT_FALSE(hits.hits().empty());

  // `--model none` runs without one, and a missing model directory is a clear start-up error.
  testing_support::TempDir other;
  auto bare = testing_support::DaemonProcess::Start(other.path(), {"--model", "none"}, &error);
  ASSERT_TRUE(bare.has_value()) << error;
  sdk::ClientOptions bare_options;
  bare_options.address = bare->address();
  auto bare_client = sdk::Client::Create(bare_options);
  grpc::Status status = (*bare_client)->models().ModelInfo((*bare_client)->NewContext().get(), ModelInfoRequest(), &info);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// 30,000 levels of '[' fit in 60 KB; copying such a value recursed once per level and
// overflowed the daemon's stack. Refused by name before parsing, and the daemon keeps serving.
TEST_F(ModelServiceTest, DeeplyNestedSchemasAreRefusedByName) {
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  ChatRequest request;
  ChatMessage* message = request.add_messages();
  message->set_role(ROLE_USER);
  message->set_content("hi");
  request.set_max_tokens(4);
  request.mutable_response_format()->set_json_schema(R"({"default": )" + deep + "}");
  grpc::Status status = ChatStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("json_schema: nested more than 128 levels deep"));
  request.mutable_response_format()->set_json_schema(R"({"const": )" + deep + "}");
  status = ChatStatus(request);
  EXPECT_THAT(status.error_message(), HasSubstr("json_schema: nested more than 128 levels deep"));

  request.clear_response_format();
  ToolSpec* tool = request.add_tools();
  tool->set_name("deep");
  tool->set_parameters_json_schema(R"({"type": "object", "examples": )" + deep.substr(0, 20000) + deep.substr(40000) + "}");
  status = ChatStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("tools: deep: parameters are nested more than 128 levels deep"));

  // 128 levels are fine.
  request.clear_tools();
  request.mutable_response_format()->set_json_schema(R"({"default": )" + std::string(120, '[') + std::string(120, ']') + "}");
  EXPECT_TRUE(ChatStatus(request).ok());
}

TEST_F(ModelServiceTest, RequiredToolCallsFollowTheToolsSchema) {
  ChatRequest request;
  ChatMessage* message = request.add_messages();
  message->set_role(ROLE_USER);
  message->set_content("Convert 3 km to miles.");
  ToolSpec* tool = request.add_tools();
  tool->set_name("convert");
  tool->set_parameters_json_schema(R"({"type": "object", "properties": {"value": {"type": "number"},
      "unit": {"enum": ["km", "mi"]}}, "required": ["value", "unit"]})");
  request.set_tool_choice(TOOL_CHOICE_REQUIRED);
  request.set_max_tokens(300);
  request.mutable_sampling()->set_temperature(1.0f);
  request.mutable_sampling()->set_seed(9);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Chat(context.get(), request);
  grpc::Status status;
  auto [text, finished] = Drain(reader.get(), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(finished.reason(), FINISH_REASON_TOOL_CALLS);
  ASSERT_EQ(finished.tool_calls_size(), 1);
  EXPECT_EQ(finished.tool_calls(0).name(), "convert");
  nlohmann::json args = nlohmann::json::parse(finished.tool_calls(0).arguments_json(), nullptr, false);
  ASSERT_FALSE(args.is_discarded()) << finished.tool_calls(0).arguments_json();
  EXPECT_TRUE(args["value"].is_number());
  EXPECT_TRUE(args["unit"] == "km" || args["unit"] == "mi");
}

TEST_F(ModelServiceTest, ClientCancellationLeavesTheDaemonServing) {
  GenerateRequest request;
  request.set_prompt("a long story");
  request.set_max_tokens(2000);
  auto context = client_->NewContext(false);
  auto reader = client_->models().Generate(context.get(), request);
  GenerateResponse response;
  ASSERT_TRUE(reader->Read(&response));
  context->TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(*client_->Health(), "SERVING");

  GenerateRequest small;
  small.set_prompt("ok");
  small.set_max_tokens(2);
  auto context2 = client_->NewContext(false);
  auto reader2 = client_->models().Generate(context2.get(), small);
  grpc::Status status;
  Drain(reader2.get(), &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(ModelServiceStreamLimitTest, StreamsBeyondMaxStreamsAreRefusedAndTheSlotComesBack) {
  // One stream at a time: a second is refused at once rather than given a thread of its own.
  const auto& shared = testing_support::GetSharedDaemon(
      "model_streams", R"({"engine": {"max_streams": 1}})", {"--model", testing_support::TinyChatModelDir()});
  ASSERT_NE(shared.daemon, nullptr) << shared.error;
  sdk::Client* client = shared.client;
  // A long stream the client stops reading: it cannot finish (2000 tokens with 20 logprobs each
  // outgrow the transport's flow-control window) until the client cancels it.
  GenerateRequest holding;
  holding.set_prompt("a long story");
  holding.set_max_tokens(2000);
  holding.set_logprobs(20);
  auto holding_context = client->NewContext(false);
  auto holding_reader = client->models().Generate(holding_context.get(), holding);
  GenerateResponse response;
  ASSERT_TRUE(holding_reader->Read(&response));

  GenerateRequest small;
  small.set_prompt("ok");
  small.set_max_tokens(2);
  auto generate_status = [&] {
    auto context = client->NewContext(false);
    auto reader = client->models().Generate(context.get(), small);
    GenerateResponse r;
    while (reader->Read(&r)) {
    }
    return reader->Finish();
  };
  const grpc::Status refused = generate_status();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("engine.max_streams"));
  ChatRequest chat;
  chat.add_messages()->set_content("hi");
  chat.mutable_messages(0)->set_role(ROLE_USER);
  chat.set_max_tokens(2);
  auto chat_context = client->NewContext(false);
  auto chat_reader = client->models().Chat(chat_context.get(), chat);
  while (chat_reader->Read(&response)) {
  }
  EXPECT_EQ(chat_reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  holding_context->TryCancel();
  while (holding_reader->Read(&response)) {
  }
  EXPECT_EQ(holding_reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The slot is given back once the cancelled call is done on the server.
  grpc::Status status = generate_status();
  for (int i = 0; i < 300 && status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = generate_status();
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// Starts the shipped model with `--quantize scheme` on `data_dir`, checks that ModelInfo says
// so, and generates eight tokens with it.
void ServeQuantized(const std::string& data_dir, const std::string& scheme,
                    std::optional<testing_support::DaemonProcess>* daemon, ShortGeneration* generated) {
  std::string error;
  auto started = testing_support::DaemonProcess::Start(data_dir, {"--quantize", scheme}, &error, std::chrono::seconds(60),
                                                      /*add_model_none=*/false);
  ASSERT_TRUE(started.has_value()) << error;
  daemon->emplace(std::move(*started));
  sdk::ClientOptions options;
  options.address = (*daemon)->address();
  auto client = sdk::Client::Create(options);
  ASSERT_TRUE(client.ok());
  ModelInfoResponse info;
  ASSERT_TRUE((*client)->models().ModelInfo((*client)->NewContext().get(), ModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.weight_dtype(), scheme);
  *generated = GenerateEightTokens(client->get());
  ASSERT_TRUE(generated->status.ok()) << generated->status.error_message();
  EXPECT_FALSE(generated->text.empty());
}

// `agentd --quantize q8` (and q4-pure): the shipped model loads with 8-bit (4-bit) weights and
// generates; a value the daemon does not know is refused at start, naming the setting.
TEST(ModelServiceQuantizedTest, EightBitWeightsServeAndAnUnknownQuantizationIsRefused) {
  testing_support::TempDir data;
  std::optional<testing_support::DaemonProcess> daemon;
  ShortGeneration generated;
  ASSERT_NO_FATAL_FAILURE(ServeQuantized(data.Join("ok"), "q8", &daemon, &generated));
  // And q4-pure, whose output head is at 4 bits too (ModelInfo says which).
  daemon.reset();
  ASSERT_NO_FATAL_FAILURE(ServeQuantized(data.Join("pure"), "q4-pure", &daemon, &generated));

  std::string error;
  auto refused = testing_support::DaemonProcess::Start(data.Join("bad"), {"--quantize", "q5"}, &error,
                                                       std::chrono::seconds(30), /*add_model_none=*/false);
  EXPECT_FALSE(refused.has_value());
  EXPECT_THAT(error, ::testing::HasSubstr("engine.quantize \"q5\""));
}

// `agentctl engine logits --quantize` loads the weights as `agentd --quantize` does (what
// bench/peer/quality.sh sets beside llama.cpp's distributions): q8's logits are near the
// unquantised ones and not the same, and an unknown scheme is refused by name.
TEST(ModelServiceQuantizedTest, AgentctlWritesTheLogitsOfQuantisedWeights) {
  testing_support::TempDir dir;
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  auto logits = [&](const std::string& out, std::vector<std::string> more) {
    std::vector<std::string> argv = {agentctl, "engine", "logits", "--ids", "5,17,2,40,9,11", "--out", out};
    argv.insert(argv.end(), more.begin(), more.end());
    return testing_support::RunCommand(argv, std::chrono::seconds(120));
  };
  auto floats = [](const std::string& path) {
    const std::string bytes = testing_support::ReadFile(path);
    std::vector<float> values(bytes.size() / sizeof(float));
    std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
    return values;
  };
  ASSERT_EQ(logits(dir.Join("bf16.f32"), {}).exit_code, 0);
  const testing_support::CommandResult q8 = logits(dir.Join("q8.f32"), {"--quantize", "q8"});
  ASSERT_EQ(q8.exit_code, 0) << q8.err;
  const std::vector<float> exact = floats(dir.Join("bf16.f32")), rounded = floats(dir.Join("q8.f32"));
  ASSERT_EQ(rounded.size(), exact.size());
  ASSERT_EQ(exact.size() % 6, 0u);
  double difference = 0, norm = 0;
  for (size_t i = 0; i < exact.size(); ++i) {
    difference += (rounded[i] - exact[i]) * (rounded[i] - exact[i]);
    norm += exact[i] * exact[i];
  }
  EXPECT_GT(difference, 0);
  EXPECT_LT(std::sqrt(difference / norm), 0.05);

  const testing_support::CommandResult refused = logits(dir.Join("q3.f32"), {"--quantize", "q3"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("quantize: \"q3\" is not one of"));
}

// `agentd --quantize q4`: the shipped model serves with 4-bit weights; the quantised copy is
// saved under the data directory, and a restart maps it and generates the same text.
TEST(ModelServiceQuantizedTest, FourBitWeightsAreSavedOnceAndMappedOnRestart) {
  testing_support::TempDir data;
  std::string texts[2];
  for (int start = 0; start < 2; ++start) {
    std::optional<testing_support::DaemonProcess> daemon;
    ShortGeneration generated;
    ASSERT_NO_FATAL_FAILURE(ServeQuantized(data.Join("d"), "q4", &daemon, &generated));
    texts[start] = generated.text;
    EXPECT_THAT(daemon->Log(), ::testing::HasSubstr(start == 0 ? "quantised and saved to " + data.Join("d/quantized/")
                                                               : "mapped from " + data.Join("d/quantized/")));
    daemon->Signal(SIGTERM);
    EXPECT_EQ(daemon->WaitForExit(std::chrono::seconds(30)), 0);
  }
  EXPECT_EQ(texts[1], texts[0]);
}

}  // namespace
