// The HTTP side of the real daemon (--http-listen) with an HTTP client: the OpenAI-compatible
// endpoints (models, chat completions plain and streamed, JSON-schema replies, tool calls,
// completions with logprobs, embeddings), OpenAI-shaped errors with the right status codes,
// authentication, hostile bodies, and /metrics counters that move as requests are served.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "support/daemon_process.h"

namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing_support::DaemonProcess;
using testing_support::TempDir;

class HttpApiTest : public ::testing::Test {
 protected:
  void Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--model", "default", "--http-listen", "127.0.0.1:0", "--http-port-file",
                                     scratch_.Join("http_port")};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    std::optional<DaemonProcess> started = DaemonProcess::Start(data_.path(), args, &error);
    ASSERT_TRUE(started.has_value()) << error;
    daemon_ = std::make_unique<DaemonProcess>(std::move(*started));
    port_ = std::stoi(testing_support::ReadFile(scratch_.Join("http_port")));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(120, 0);
  }

  // POSTs JSON; returns the status and the parsed body.
  std::pair<int, Json> Post(const std::string& path, const Json& body, const httplib::Headers& headers = {}) {
    auto response = client_->Post(path.c_str(), headers, body.dump(), "application/json");
    if (!response) return {0, Json()};
    return {response->status, Json::parse(response->body, nullptr, false)};
  }

  // Sends raw bytes over one connection and returns what comes back until it closes.
  std::string RawExchange(const std::string& request) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close(fd);
      return "connect failed";
    }
    timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    (void)!write(fd, request.data(), request.size());
    std::string answer;
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, static_cast<size_t>(n));
    close(fd);
    return answer;
  }

  void WriteFileForConfig() {
    testing_support::WriteFile(scratch_.Join("config.json"), R"({"auth": {"tokens": [
        {"token": "acme-token-0000000001", "tenant": "acme"}, {"token": "ops-token-00000000001", "tenant": "ops", "admin": true}]}})");
  }

  TempDir data_, scratch_;
  std::unique_ptr<DaemonProcess> daemon_;
  int port_ = 0;
  std::unique_ptr<httplib::Client> client_;
};

Json Chat(const std::string& content, int max_tokens) {
  return {{"model", "agentd-default"}, {"messages", {{{"role", "user"}, {"content", content}}}}, {"max_tokens", max_tokens},
          {"temperature", 0}};
}

TEST_F(HttpApiTest, ModelsChatAndCompletionsAnswerInOpenAIsShape) {
  Start();
  auto models = client_->Get("/v1/models");
  ASSERT_TRUE(models);
  const Json listed = Json::parse(models->body);
  ASSERT_EQ(listed["object"], "list");
  EXPECT_EQ(listed["data"][0]["id"], "agentd-default");

  auto [status, reply] = Post("/v1/chat/completions", Chat("What is the AI agent market?", 12));
  ASSERT_EQ(status, 200) << reply.dump();
  EXPECT_EQ(reply["object"], "chat.completion");
  EXPECT_THAT(reply["id"].get<std::string>(), ::testing::StartsWith("chatcmpl-"));
  EXPECT_EQ(reply["choices"][0]["message"]["role"], "assistant");
  EXPECT_FALSE(reply["choices"][0]["message"]["content"].get<std::string>().empty());
  EXPECT_EQ(reply["usage"]["completion_tokens"].get<int>() + reply["usage"]["prompt_tokens"].get<int>(),
            reply["usage"]["total_tokens"].get<int>());
  // Greedy: the same request gives the same reply.
  auto [again_status, again] = Post("/v1/chat/completions", Chat("What is the AI agent market?", 12));
  EXPECT_EQ(again["choices"][0]["message"]["content"], reply["choices"][0]["message"]["content"]);

  // A JSON-schema reply parses and follows the schema; a required tool call names the tool and
  // its arguments follow its parameters.
  Json schema_request = Chat("List two fruits.", 80);
  schema_request["response_format"] = {
      {"type", "json_schema"},
      {"json_schema", {{"name", "fruits"},
                       {"schema", {{"type", "object"},
                                   {"properties", {{"fruits", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 2}, {"maxItems", 2}}}}},
                                   {"required", {"fruits"}}}}}}};
  auto [schema_status, schema_reply] = Post("/v1/chat/completions", schema_request);
  ASSERT_EQ(schema_status, 200) << schema_reply.dump();
  const Json fruits = Json::parse(schema_reply["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(fruits["fruits"].size(), 2u);

  Json tool_request = Chat("Convert 3 km to miles.", 80);
  tool_request["tools"] = {{{"type", "function"},
                            {"function", {{"name", "convert"},
                                          {"parameters", {{"type", "object"},
                                                          {"properties", {{"value", {{"type", "number"}}}, {"unit", {{"enum", {"km", "mi"}}}}}},
                                                          {"required", {"value", "unit"}}}}}}}};
  tool_request["tool_choice"] = "required";
  auto [tool_status, tool_reply] = Post("/v1/chat/completions", tool_request);
  ASSERT_EQ(tool_status, 200) << tool_reply.dump();
  EXPECT_EQ(tool_reply["choices"][0]["finish_reason"], "tool_calls");
  const Json& call = tool_reply["choices"][0]["message"]["tool_calls"][0];
  EXPECT_EQ(call["function"]["name"], "convert");
  const Json arguments = Json::parse(call["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(arguments["value"].is_number());

  // Completions with logprobs: one entry per generated token.
  auto [completion_status, completion] =
      Post("/v1/completions", {{"prompt", "The market"}, {"max_tokens", 5}, {"temperature", 0}, {"logprobs", 2}});
  ASSERT_EQ(completion_status, 200) << completion.dump();
  EXPECT_EQ(completion["object"], "text_completion");
  EXPECT_EQ(completion["choices"][0]["logprobs"]["tokens"].size(), completion["usage"]["completion_tokens"].get<size_t>());

  // Embeddings: one normalised vector per input.
  auto [embed_status, embedded] = Post("/v1/embeddings", {{"input", {"AI agents", "云计算"}}});
  ASSERT_EQ(embed_status, 200) << embedded.dump();
  ASSERT_EQ(embedded["data"].size(), 2u);
  double norm = 0;
  for (double v : embedded["data"][1]["embedding"]) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-3);
}

TEST_F(HttpApiTest, StreamsServerSentEventsThatAddUpToThePlainReply) {
  Start();
  auto [status, plain] = Post("/v1/chat/completions", Chat("Tell me about cloud computing.", 16));
  ASSERT_EQ(status, 200);
  Json streamed = Chat("Tell me about cloud computing.", 16);
  streamed["stream"] = true;
  streamed["stream_options"] = {{"include_usage", true}};
  std::string events;
  auto response = client_->Post("/v1/chat/completions", streamed.dump(), "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->get_header_value("Content-Type"), HasSubstr("text/event-stream"));
  std::string text, finish;
  bool done = false, usage = false;
  size_t at = 0;
  while ((at = response->body.find("data: ", at)) != std::string::npos) {
    const size_t end = response->body.find("\n\n", at);
    const std::string data = response->body.substr(at + 6, end - at - 6);
    at = end;
    if (data == "[DONE]") {
      done = true;
      continue;
    }
    const Json chunk = Json::parse(data);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (chunk.contains("usage")) usage = chunk["usage"]["completion_tokens"] == plain["usage"]["completion_tokens"];
    if (chunk["choices"].empty()) continue;
    const Json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content")) text += delta["content"].get<std::string>();
    if (!chunk["choices"][0]["finish_reason"].is_null()) finish = chunk["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_TRUE(usage);
  EXPECT_EQ(text, plain["choices"][0]["message"]["content"]);
  EXPECT_EQ(finish, plain["choices"][0]["finish_reason"]);
}

TEST_F(HttpApiTest, BadRequestsGetOpenAIErrorsNamingTheField) {
  Start();
  auto expect_error = [&](const std::string& path, const std::string& body, int status, const std::string& message,
                          const std::string& param) {
    auto response = client_->Post(path.c_str(), body, "application/json");
    ASSERT_TRUE(response) << body;
    EXPECT_EQ(response->status, status) << body << " -> " << response->body;
    const Json error = Json::parse(response->body, nullptr, false);
    ASSERT_TRUE(error.contains("error")) << response->body;
    EXPECT_THAT(error["error"]["message"].get<std::string>(), HasSubstr(message)) << body;
    if (!param.empty()) {
      EXPECT_EQ(error["error"]["param"], param) << body;
    }
  };
  expect_error("/v1/chat/completions", "not json", 400, "body: not valid JSON", "body");
  expect_error("/v1/chat/completions", R"({"messages": []})", 400, "messages: must be a non-empty list", "messages");
  expect_error("/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "x"}]})", 400, "must be system", "messages[0].role");
  expect_error("/v1/chat/completions", R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", 400,
               "only parts of type", "messages[0].content[0]");
  expect_error("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "temperature": 5})", 400,
               "between 0 and 2", "temperature");
  expect_error("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "n": 3})", 400, "n: must be", "n");
  // A field inside an object is named by its path (found by fuzz_openai_request).
  expect_error("/v1/chat/completions",
               R"({"messages": [{"role": "user", "content": "x"}], "stream": true, "stream_options": {"include_usage": "yes"}})",
               400, "stream_options.include_usage: must be true or false", "stream_options.include_usage");
  expect_error("/v1/chat/completions", R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]})", 404,
               "is not served here", "");
  expect_error("/v1/chat/completions",
               R"({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "string", "pattern": "a+"}}}})",
               400, "not supported", "");
  // Streamed, the same refusal comes as a 400 before any event, not inside a 200 stream.
  expect_error("/v1/chat/completions",
               R"({"stream": true, "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "string", "pattern": "a+"}}}})",
               400, "response_format.json_schema: keyword 'pattern' is not supported", "response_format.json_schema");
  expect_error("/v1/completions", R"({"prompt": ""})", 400, "prompt: must not be empty", "prompt");
  // A text longer than the model's context could hold is refused before it is tokenized (3 MiB
  // took seconds of a thread and hundreds of MB to be told it was too long).
  const std::string long_text(3 << 20, 'a');
  expect_error("/v1/completions", Json{{"prompt", long_text}}.dump(), 400, "more than the model's context", "prompt");
  expect_error("/v1/chat/completions", Json{{"messages", {{{"role", "user"}, {"content", long_text}}}}}.dump(), 400,
               "more than the model's context", "messages");
  expect_error("/v1/embeddings", R"({"input": [""]})", 400, "input[0]: must not be empty", "input[0]");
  // Nested past 128 levels: refused before parsing, and the daemon keeps serving.
  expect_error("/v1/chat/completions", std::string(100000, '[') + std::string(100000, ']'), 400, "nested more than 128", "body");
  // Bodies httplib would read without its size limit — chunked or compressed — and Range
  // requests are refused before any body is read, and the connection closed.
  for (const std::string& raw :
       {std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        std::string("POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"),
        std::string("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nRange: bytes=0-,0-,0-\r\n\r\n")}) {
    const std::string answer = RawExchange(raw);
    EXPECT_THAT(answer, ::testing::AnyOf(HasSubstr("HTTP/1.1 411"), HasSubstr("HTTP/1.1 400"))) << raw;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << raw;
    EXPECT_THAT(answer, ::testing::Not(HasSubstr("multipart"))) << raw;
  }
  // Without API tokens, what a page on another site could make a browser send is refused: a
  // request addressed to a name other than localhost (DNS rebinding) and a POST that is not
  // application/json (a form, or text/plain, which need no preflight).
  for (const auto& [raw, expected] : std::vector<std::pair<std::string, std::string>>{
           {"GET /v1/models HTTP/1.1\r\nHost: attacker.example:8080\r\nConnection: close\r\n\r\n", "HTTP/1.1 403"},
           {"POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: text/plain\r\n"
            "Content-Length: 15\r\n\r\n{\"prompt\": \"x\"}",
            "HTTP/1.1 415"},
           {"POST /api/runs HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 7\r\n\r\ntopic=x",
            "HTTP/1.1 415"}}) {
    const std::string answer = RawExchange(raw);
    EXPECT_THAT(answer, HasSubstr(expected)) << raw;
    EXPECT_THAT(answer, ::testing::AnyOf(HasSubstr("Host:"), HasSubstr("Content-Type: must be"))) << raw;
  }
  for (const char* host : {"localhost:1234", "LOCALHOST", "localhost.", "127.0.0.1:9", "[::1]:80"}) {
    EXPECT_THAT(RawExchange(std::string("GET /v1/models HTTP/1.1\r\nHost: ") + host + "\r\nConnection: close\r\n\r\n"),
                HasSubstr("HTTP/1.1 200"))
        << host;
  }
  // Media types are case-insensitive.
  EXPECT_THAT(RawExchange("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                          "Content-Type: Application/JSON; charset=utf-8\r\nContent-Length: 32\r\n\r\n"
                          "{\"prompt\": \"x\", \"max_tokens\": 1}"),
              HasSubstr("HTTP/1.1 200"));
  auto missing = client_->Get("/v1/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("no such endpoint"));
  auto [status, reply] = Post("/v1/chat/completions", Chat("Still here?", 4));
  EXPECT_EQ(status, 200);
}

TEST_F(HttpApiTest, TokensAreRequiredWhenConfiguredAndMetricsNeedAnAdmin) {
  WriteFileForConfig();
  Start({"--config", scratch_.Join("config.json")});
  auto [no_token, anonymous] = Post("/v1/chat/completions", Chat("hi", 2));
  EXPECT_EQ(no_token, 401);
  EXPECT_EQ(anonymous["error"]["type"], "authentication_error");
  auto [bad_token, refused] = Post("/v1/chat/completions", Chat("hi", 2), {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(bad_token, 401);
  auto [ok, reply] = Post("/v1/chat/completions", Chat("hi", 2), {{"Authorization", "Bearer acme-token-0000000001"}});
  EXPECT_EQ(ok, 200) << reply.dump();
  auto tenant_metrics = client_->Get("/metrics", {{"Authorization", "Bearer acme-token-0000000001"}});
  ASSERT_TRUE(tenant_metrics);
  EXPECT_EQ(tenant_metrics->status, 403);
  auto metrics = client_->Get("/metrics", {{"Authorization", "Bearer ops-token-00000000001"}});
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("agentd_http_requests_total{endpoint=\"chat_completions\",code=\"200\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("agentd_http_requests_total{endpoint=\"chat_completions\",code=\"401\"} 2"));
  // No tenant in any label.
  EXPECT_THAT(metrics->body, ::testing::Not(HasSubstr("acme")));
}

}  // namespace
