#include "http/http_frontend.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agentd/listen_address.h"
#include "engine/constraint.h"
#include "engine/json_nesting.h"
#include "http/openai_api.h"
#include "http/run_viewer.h"
#include "http/serving_metrics.h"
#include "log.h"

namespace agentd::http {
namespace {

using Json = nlohmann::json;

std::string RandomId(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[25];
  std::snprintf(hex, sizeof hex, "%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return absl::StrCat(prefix, hex);
}

// "localhost", an IPv4 literal or a bracketed IPv6 literal, with or without a port.
// An absent Host (HTTP/1.0; browsers always send one) passes.
bool HostIsAnAddress(absl::string_view host) {
  if (host.empty()) return true;
  if (absl::StartsWith(host, "[")) return host.find(']') != absl::string_view::npos;
  host = host.substr(0, host.find(':'));
  const std::string name = absl::AsciiStrToLower(host);
  if (name == "localhost" || name == "localhost.") return true;
  if (host.empty()) return false;
  for (char c : host) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

int64_t UnixSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

class HttpFrontendImpl : public HttpFrontend {
 public:
  explicit HttpFrontendImpl(const HttpFrontendOptions& options)
      : options_(options), started_(UnixSeconds()), metrics_(options.metrics) {}
  ~HttpFrontendImpl() override { Stop(); }

  absl::Status Init() {
    absl::StatusOr<ListenAddress> address = ParseListenAddress(options_.listen);
    if (!address.ok()) return absl::InvalidArgumentError(absl::StrCat("http_listen: ", address.status().message()));
    if (!options_.tls_cert_file.empty()) {
      auto tls = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(), options_.tls_key_file.c_str());
      if (!tls->is_valid()) return absl::InvalidArgumentError("http_listen: the TLS certificate or key cannot be used");
      server_ = std::move(tls);
    } else {
      server_ = std::make_unique<httplib::Server>();
    }
    const int threads = std::max(2, options_.threads);
    server_->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    server_->set_payload_max_length(options_.max_request_bytes);
    server_->set_read_timeout(std::chrono::seconds(5));
    Routes();
    const std::string host = address->host;
    port_ = address->port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, address->port) ? address->port : -1);
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen, " for HTTP (address in use or not available)"));
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() does nothing until the listening loop runs: a Stop() right after Start() (a later
    // start-up step failing) would wait for it for ever.
    for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log::Info("serving http", {{"addr", options_.listen}, {"port", port_}, {"tls", !options_.tls_cert_file.empty()}});
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    // Generations in progress end at their next token (CompletionOptions::cancelled).
    stopping_ = true;
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // The caller's tenant from "Authorization: Bearer TOKEN", or an error.
  absl::StatusOr<std::string> Authenticate(const httplib::Request& request) const {
    if (options_.api_tokens.empty()) return std::string("default");
    const std::string header = request.get_header_value("Authorization");
    if (header.empty()) return absl::UnauthenticatedError("authorization: this server requires an API token (Authorization: Bearer TOKEN)");
    if (!absl::StartsWith(header, "Bearer ")) return absl::UnauthenticatedError("authorization: expected \"Bearer TOKEN\"");
    const auto found = options_.api_tokens.find(header.substr(7));
    if (found == options_.api_tokens.end()) return absl::UnauthenticatedError("authorization: the API token is not valid");
    return found->second;
  }

  void SendError(httplib::Response& response, const std::string& endpoint, const absl::Status& status) {
    const ApiError error = ToApiError(status);
    response.status = error.http_status;
    response.set_content(ResponseText(ErrorBody(error)), "application/json");
    metrics_->CountRequest(endpoint, error.http_status);
  }

  void SendJson(httplib::Response& response, const std::string& endpoint, const Json& body) {
    response.status = 200;
    response.set_content(ResponseText(body), "application/json");
    metrics_->CountRequest(endpoint, 200);
  }

  // The request's JSON body: INVALID_ARGUMENT when it is not JSON or is nested too deeply.
  static absl::StatusOr<Json> Body(const httplib::Request& request) {
    if (engine::JsonNestedTooDeeply(request.body)) {
      return absl::InvalidArgumentError(absl::StrCat("body: nested more than ", engine::kMaxJsonNesting, " levels deep"));
    }
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return absl::InvalidArgumentError("body: not valid JSON");
    return body;
  }

  // A slot among the requests one tenant may have in flight (half the threads, so no tenant can
  // take every thread and /metrics stays reachable); released on destruction.
  class TenantSlot {
   public:
    TenantSlot(HttpFrontendImpl* frontend, std::string tenant) : frontend_(frontend), tenant_(std::move(tenant)) {}
    ~TenantSlot() {
      std::lock_guard<std::mutex> lock(frontend_->in_flight_mutex_);
      if (--frontend_->in_flight_[tenant_] == 0) frontend_->in_flight_.erase(tenant_);
    }

    // The daemon-wide generation slot this request holds (HttpFrontendOptions::stream_slots).
    std::optional<services::StreamSlots::Slot> generation;

   private:
    HttpFrontendImpl* frontend_;
    std::string tenant_;
  };
  std::shared_ptr<TenantSlot> TakeSlot(const std::string& tenant) {
    std::lock_guard<std::mutex> lock(in_flight_mutex_);
    int& count = in_flight_[tenant];
    if (count >= std::max(1, options_.threads / 2)) {
      if (count == 0) in_flight_.erase(tenant);
      return nullptr;
    }
    ++count;
    return std::make_shared<TenantSlot>(this, tenant);
  }

  void Routes() {
    // Before any body is read: httplib checks its size limit against Content-Length only, and
    // would read a chunked or compressed body (a small gzip bomb) of any size; a Range header
    // would have it copy a response once per range.
    // A loopback listener without tokens: what only a browser on this machine can reach. (One
    // that others can reach without tokens was asked for with --insecure-listen, and is reached
    // by whatever names its operator gives it.)
    const absl::StatusOr<ListenAddress> address = ParseListenAddress(options_.listen);
    const bool loopback = address.ok() && (address->host == "localhost" || absl::StartsWith(address->host, "127.") ||
                                           address->host == "::1");
    const bool open_server = options_.api_tokens.empty() && loopback;
    server_->set_pre_routing_handler([open_server](const httplib::Request& request, httplib::Response& response) {
      std::string refusal;
      int status = 400;
      if (request.has_header("Range")) {
        refusal = "Range: not supported";
        // httplib 0.11 would cut even this refusal into one part per range. The request object
        // is the server's own (not const), so clearing them here is defined.
        const_cast<httplib::Request&>(request).ranges.clear();
      } else if (open_server && !HostIsAnAddress(request.get_header_value("Host"))) {
        // Without tokens, anything that reaches the port is served: a web page on another site
        // could reach it through the visitor's browser by rebinding its own name to 127.0.0.1.
        refusal = "Host: without API tokens this server answers only requests addressed to localhost or an IP address";
        status = 403;
      } else if (open_server && request.method == "POST" &&
                 !absl::StartsWith(absl::AsciiStrToLower(request.get_header_value("Content-Type")), "application/json")) {
        // A page on another site can make a browser POST a form or text/plain without asking; it
        // cannot send application/json without a preflight this server never grants.
        refusal = "Content-Type: must be application/json";
        status = 415;
      } else if (request.method == "POST" &&
                 (request.has_header("Transfer-Encoding") || request.has_header("Content-Encoding"))) {
        refusal = "body: send it with a Content-Length, without transfer or content encoding";
        status = 411;
      } else if (request.method == "POST" && !request.has_header("Content-Length")) {
        refusal = "body: a Content-Length is required";
        status = 411;
      }
      if (refusal.empty()) return httplib::Server::HandlerResponse::Unhandled;
      response.status = status;
      response.set_header("Connection", "close");
      response.set_content(ResponseText(ErrorBody(ApiError{status, "invalid_request_error", "", refusal})), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
    server_->Get("/v1/models", [this](const httplib::Request& request, httplib::Response& response) {
      if (auto tenant = Authenticate(request); !tenant.ok()) return SendError(response, "models", tenant.status());
      Json data = Json::array();
      for (engine::Engine* engine : {options_.engine, options_.embedding_engine}) {
        if (engine == nullptr) continue;
        const std::string& name = engine->info().name;
        bool listed = false;
        for (const Json& model : data) listed = listed || model["id"] == name;
        if (!listed) data.push_back({{"id", name}, {"object", "model"}, {"created", started_}, {"owned_by", "agentd"}});
      }
      SendJson(response, "models", {{"object", "list"}, {"data", data}});
    });
    server_->Post("/v1/chat/completions", [this](const httplib::Request& request, httplib::Response& response) {
      ChatCompletions(request, response);
    });
    server_->Post("/v1/completions", [this](const httplib::Request& request, httplib::Response& response) {
      Completions(request, response);
    });
    server_->Post("/v1/embeddings", [this](const httplib::Request& request, httplib::Response& response) {
      Embeddings(request, response);
    });
    server_->Get("/metrics", [this](const httplib::Request& request, httplib::Response& response) {
      if (!options_.api_tokens.empty()) {
        const std::string header = request.get_header_value("Authorization");
        if (!absl::StartsWith(header, "Bearer ") || !options_.admin_tokens.count(header.substr(7))) {
          response.status = header.empty() ? 401 : 403;
          response.set_content("metrics need an admin token (Authorization: Bearer TOKEN)\n", "text/plain");
          return;
        }
      }
      engine::SchedulerStats stats;
      if (options_.engine != nullptr) stats = options_.engine->scheduler_stats();
      response.set_content(metrics_->Render(options_.engine != nullptr ? &stats : nullptr), "text/plain; version=0.0.4");
    });
    if (options_.runs != nullptr && options_.memory != nullptr) {
      RunViewerOptions viewer;
      viewer.runs = options_.runs;
      viewer.memory = options_.memory;
      viewer.limits = options_.limits;
      viewer.authenticate = [this](const httplib::Request& request) { return Authenticate(request); };
      viewer.take_slot = [this](const std::string& tenant) -> std::shared_ptr<void> { return TakeSlot(tenant); };
      viewer.stopping = &stopping_;
      // Half the threads stay free for everything else.
      viewer.max_event_streams = std::max(1, options_.threads / 2);
      viewer.count_request = [this](const std::string& endpoint, int status) { metrics_->CountRequest(endpoint, status); };
      AddRunViewerRoutes(*server_, viewer);
    }
    server_->set_error_handler([](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty()) return;
      ApiError error;
      error.http_status = response.status;
      error.type = response.status == 404 ? "not_found_error" : "invalid_request_error";
      error.message = response.status == 404 ? absl::StrCat(request.method, " ", request.path, ": no such endpoint")
                      : response.status == 413 ? "body: larger than this server accepts"
                                               : absl::StrCat("HTTP ", response.status);
      response.set_content(ResponseText(ErrorBody(error)), "application/json");
    });
    server_->set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
      ApiError error{500, "server_error", "", "the request failed inside the server"};
      response.status = 500;
      response.set_content(ResponseText(ErrorBody(error)), "application/json");
    });
  }

  // Runs a stream's body. It runs past httplib's own try/catch, where an exception would end the
  // process: here it ends the stream with an error event.
  template <typename Body>
  static bool GuardedStream(httplib::DataSink& sink, const Body& body) {
    try {
      return body();
    } catch (const std::exception& e) {
      WriteEvent(sink, ResponseText(ErrorBody(ApiError{500, "server_error", "", e.what()})));
      return false;
    }
  }

  // The stream's last event.
  static bool EndStream(httplib::DataSink& sink) {
    WriteEvent(sink, "[DONE]");
    sink.done();
    return true;
  }

  // Emits one server-sent event; false when the client has gone.
  static bool WriteEvent(httplib::DataSink& sink, const std::string& data) {
    const std::string event = absl::StrCat("data: ", data, "\n\n");
    return sink.write(event.data(), event.size());
  }

  // Tokens by endpoint; the engine's observer counts the rest (latencies, speculation).
  void CountGeneration(const std::string& endpoint, const engine::GenerationResult& result) {
    metrics_->CountTokens(endpoint, result.prompt_tokens, result.completion_tokens);
  }

  // Authenticates, checks a model is loaded, and reads and parses the body with `parse`: the
  // call, its tenant set, or nullptr once the error is sent.
  template <typename Call, typename Parse>
  std::shared_ptr<Call> Begin(const httplib::Request& request, httplib::Response& response, const std::string& endpoint,
                              const Parse& parse, std::shared_ptr<TenantSlot>* slot) {
    absl::StatusOr<std::string> tenant = Authenticate(request);
    absl::Status status = tenant.status();
    if (status.ok() && options_.engine == nullptr) status = absl::UnavailableError("no model is loaded");
    if (status.ok() && (*slot = TakeSlot(*tenant)) == nullptr) {
      status = absl::ResourceExhaustedError("too many requests in flight for this API token; retry shortly");
    }
    if (status.ok() && options_.stream_slots != nullptr) {
      absl::StatusOr<services::StreamSlots::Slot> generation = options_.stream_slots->TryTake(*tenant);
      if (!generation.ok()) {
        status = absl::ResourceExhaustedError(absl::StrCat(generation.status().message(), "; retry shortly"));
      } else {
        (*slot)->generation.emplace(std::move(*generation));
      }
    }
    absl::StatusOr<Json> body = status.ok() ? Body(request) : absl::StatusOr<Json>(status);
    absl::StatusOr<Call> parsed = body.ok() ? parse(*body, options_.engine->info()) : absl::StatusOr<Call>(body.status());
    if (!parsed.ok()) {
      SendError(response, endpoint, parsed.status());
      return nullptr;
    }
    // A response format the constraint cannot enforce is refused now, with its 400, rather than
    // inside a stream that has already answered 200.
    if (parsed->options.constraint.kind != engine::ResponseConstraint::Kind::kNone) {
      auto constraint = engine::TokenConstraint::Create(parsed->options.constraint, options_.engine->tokenizer());
      if (!constraint.ok()) {
        SendError(response, endpoint,
                  absl::InvalidArgumentError(absl::StrCat("response_format.", constraint.status().message())));
        return nullptr;
      }
    }
    auto call = std::make_shared<Call>(std::move(*parsed));
    call->options.tenant = *tenant;
    call->options.origin = "http";
    call->options.cancelled = &stopping_;
    return call;
  }

  void ChatCompletions(const httplib::Request& request, httplib::Response& response) {
    const std::string endpoint = "chat_completions";
    std::shared_ptr<TenantSlot> slot;
    std::shared_ptr<ChatCall> call = Begin<ChatCall>(request, response, endpoint, ParseChatCompletion, &slot);
    if (call == nullptr) return;
    const int top_logprobs = call->top_logprobs;
    const std::string id = RandomId("chatcmpl-");
    const int64_t created = UnixSeconds();
    const std::string model = options_.engine->info().name;
    engine::Engine* engine = options_.engine;
    if (!call->stream) {
      std::vector<engine::TokenChoice> logprobs;
      auto result = engine->Chat(call->messages, call->tools, call->options, [&](const engine::GenerationDelta& delta) {
        logprobs.insert(logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
        return true;
      });
      if (!result.ok()) return SendError(response, endpoint, result.status());
      CountGeneration(endpoint, result->generation);
      const bool calls = !result->reply.tool_calls.empty();
      Json message = {{"role", "assistant"}, {"content", calls && result->reply.content.empty() ? Json(nullptr) : Json(result->reply.content)}};
      if (calls) message["tool_calls"] = ToolCallsJson(result->reply.tool_calls, false);
      Json choice = {{"index", 0}, {"message", message}, {"finish_reason", FinishReasonName(result->generation.finish_reason, calls)}};
      choice["logprobs"] = call->logprobs ? Json{{"content", TrimTop(LogprobEntries(logprobs, engine->tokenizer()), top_logprobs)}}
                                          : Json(nullptr);
      return SendJson(response, endpoint,
                      {{"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model},
                       {"choices", Json::array({choice})}, {"usage", Usage(result->generation)}, {"system_fingerprint", nullptr}});
    }
    metrics_->CountRequest(endpoint, 200);
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider("text/event-stream", [this, call, slot, id, created, model, engine, top_logprobs, endpoint](
                                                                   size_t, httplib::DataSink& sink) {
      return GuardedStream(sink, [&]() -> bool {
        auto chunk = [&](const Json& delta, const Json& finish, const Json& logprobs) {
          Json choice = {{"index", 0}, {"delta", delta}, {"finish_reason", finish}};
          choice["logprobs"] = logprobs;
          return ResponseText({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                       {"choices", Json::array({choice})}, {"system_fingerprint", nullptr}});
        };
        bool connected = WriteEvent(sink, chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr));
        // With tools, the text may turn into a tool call written in the model's own syntax: it is
        // held back and sent as content or tool calls once the reply is parsed.
        const bool hold_text = !call->tools.empty();
          auto result = engine->Chat(call->messages, call->tools, call->options, [&](const engine::GenerationDelta& delta) {
            if (!connected) return false;
          if (hold_text || (delta.text.empty() && delta.logprobs.empty())) return connected = sink.is_writable();
          const Json logprobs = call->logprobs ? Json{{"content", TrimTop(LogprobEntries(delta.logprobs, engine->tokenizer()), top_logprobs)}}
                                               : Json(nullptr);
          connected = WriteEvent(sink, chunk({{"content", delta.text}}, nullptr, logprobs));
          return connected;
        });
        if (!connected) return false;
        if (!result.ok()) {
          WriteEvent(sink, ResponseText(ErrorBody(ToApiError(result.status()))));
        } else {
          CountGeneration(endpoint, result->generation);
          const bool calls = !result->reply.tool_calls.empty();
          if (hold_text && !result->reply.content.empty()) WriteEvent(sink, chunk({{"content", result->reply.content}}, nullptr, nullptr));
          if (calls) WriteEvent(sink, chunk({{"tool_calls", ToolCallsJson(result->reply.tool_calls, true)}}, nullptr, nullptr));
          WriteEvent(sink, chunk(Json::object(), FinishReasonName(result->generation.finish_reason, calls), nullptr));
          if (call->include_usage) {
            WriteEvent(sink, ResponseText({{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                                   {"choices", Json::array()}, {"usage", Usage(result->generation)}}));
          }
        }
        return EndStream(sink);
      });
    });
  }

  // Top alternatives cut to what the request asked (the engine returns at least one).
  static Json TrimTop(Json entries, int top) {
    for (Json& entry : entries) {
      Json& alternatives = entry["top_logprobs"];
      while (static_cast<int>(alternatives.size()) > top) alternatives.erase(alternatives.size() - 1);
    }
    return entries;
  }

  // Legacy completions' logprobs: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
  static Json CompletionLogprobs(const std::vector<engine::TokenChoice>& choices, const engine::Tokenizer& tokenizer) {
    Json tokens = Json::array(), token_logprobs = Json::array(), top = Json::array(), offsets = Json::array();
    size_t offset = 0;
    for (const engine::TokenChoice& choice : choices) {
      const std::string token = engine::ToValidUtf8(tokenizer.TokenBytes(choice.chosen.id));
      tokens.push_back(token);
      token_logprobs.push_back(choice.chosen.logprob);
      Json alternatives = Json::object();
      for (const engine::TokenLogprob& alternative : choice.top) {
        alternatives[engine::ToValidUtf8(tokenizer.TokenBytes(alternative.id))] = alternative.logprob;
      }
      top.push_back(alternatives);
      offsets.push_back(offset);
      offset += token.size();
    }
    return {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
  }

  void Completions(const httplib::Request& request, httplib::Response& response) {
    const std::string endpoint = "completions";
    std::shared_ptr<TenantSlot> slot;
    std::shared_ptr<CompletionCall> call = Begin<CompletionCall>(request, response, endpoint, ParseCompletion, &slot);
    if (call == nullptr) return;
    const std::string id = RandomId("cmpl-");
    const int64_t created = UnixSeconds();
    const std::string model = options_.engine->info().name;
    engine::Engine* engine = options_.engine;
    const bool want_logprobs = call->options.logprobs > 0;
    if (!call->stream) {
      std::vector<engine::TokenChoice> logprobs;
      auto result = engine->Complete(call->prompt, call->options, [&](const engine::GenerationDelta& delta) {
        logprobs.insert(logprobs.end(), delta.logprobs.begin(), delta.logprobs.end());
        return true;
      });
      if (!result.ok()) return SendError(response, endpoint, result.status());
      CountGeneration(endpoint, *result);
      Json choice = {{"index", 0}, {"text", result->text}, {"finish_reason", FinishReasonName(result->finish_reason, false)}};
      choice["logprobs"] = want_logprobs ? CompletionLogprobs(logprobs, engine->tokenizer()) : Json(nullptr);
      return SendJson(response, endpoint,
                      {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                       {"choices", Json::array({choice})}, {"usage", Usage(*result)}});
    }
    metrics_->CountRequest(endpoint, 200);
    response.set_header("Cache-Control", "no-cache");
    response.set_chunked_content_provider("text/event-stream", [this, call, slot, id, created, model, engine, want_logprobs, endpoint](
                                                                   size_t, httplib::DataSink& sink) {
      return GuardedStream(sink, [&]() -> bool {
        auto chunk = [&](const std::string& text, const Json& finish, const Json& logprobs) {
          Json choice = {{"index", 0}, {"text", text}, {"finish_reason", finish}};
          choice["logprobs"] = logprobs;
          return ResponseText({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                       {"choices", Json::array({choice})}});
        };
        bool connected = true;
          auto result = engine->Complete(call->prompt, call->options, [&](const engine::GenerationDelta& delta) {
            if (delta.text.empty() && delta.logprobs.empty()) return connected;
          connected = connected && WriteEvent(sink, chunk(delta.text, nullptr,
                                                          want_logprobs ? CompletionLogprobs(delta.logprobs, engine->tokenizer())
                                                                        : Json(nullptr)));
          return connected;
        });
        if (!connected) return false;
        if (!result.ok()) {
          WriteEvent(sink, ResponseText(ErrorBody(ToApiError(result.status()))));
        } else {
          CountGeneration(endpoint, *result);
          WriteEvent(sink, chunk("", FinishReasonName(result->finish_reason, false), nullptr));
          if (call->include_usage) {
            WriteEvent(sink, ResponseText({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
                                   {"choices", Json::array()}, {"usage", Usage(*result)}}));
          }
        }
        return EndStream(sink);
      });
    });
  }

  void Embeddings(const httplib::Request& request, httplib::Response& response) {
    const std::string endpoint = "embeddings";
    auto tenant = Authenticate(request);
    if (!tenant.ok()) return SendError(response, endpoint, tenant.status());
    // Up to 2048 inputs a request: one token's requests hold at most its share of the threads,
    // as completions do.
    const std::shared_ptr<TenantSlot> slot = TakeSlot(*tenant);
    if (slot == nullptr) {
      return SendError(response, endpoint,
                       absl::ResourceExhaustedError("too many requests in flight for this API token; retry shortly"));
    }
    engine::Engine* engine = options_.embedding_engine != nullptr ? options_.embedding_engine : options_.engine;
    if (engine == nullptr) return SendError(response, endpoint, absl::UnavailableError("no embedding model is loaded"));
    auto body = Body(request);
    if (!body.ok()) return SendError(response, endpoint, body.status());
    if (body->contains("model") && (!(*body)["model"].is_string() || (*body)["model"] != engine->info().name)) {
      return SendError(response, endpoint,
                       absl::NotFoundError(absl::StrCat("model: not served here for embeddings (use '", engine->info().name, "')")));
    }
    auto texts = ParseEmbeddingInput(*body);
    if (!texts.ok()) return SendError(response, endpoint, texts.status());
    engine::EmbedOptions embed_options;
    embed_options.tenant = *tenant;  // one tenant's 2048 inputs wait their turn with everyone else's
    embed_options.cancelled = &stopping_;  // a shutdown does not wait for all of them
    auto vectors = engine->Embed(*texts, embed_options);
    if (!vectors.ok()) return SendError(response, endpoint, vectors.status());
    int64_t tokens = 0;
    for (const std::string& text : *texts) tokens += static_cast<int64_t>(engine->tokenizer().Encode(text).size());
    // base64: the float32 values' little-endian bytes (what OpenAI's own clients ask for).
    const bool base64 = body->contains("encoding_format") && (*body)["encoding_format"] == "base64";
    Json data = Json::array();
    for (size_t i = 0; i < vectors->size(); ++i) {
      const std::vector<float>& vector = (*vectors)[i];
      Json embedding = vector;
      if (base64) {
        embedding = absl::Base64Escape(
            absl::string_view(reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float)));
      }
      data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
    }
    metrics_->CountTokens(endpoint, tokens, 0);
    SendJson(response, endpoint,
             {{"object", "list"}, {"data", data}, {"model", engine->info().name},
              {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
  }

  HttpFrontendOptions options_;
  const int64_t started_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> stopping_{false};
  std::mutex in_flight_mutex_;
  std::map<std::string, int> in_flight_;  // tenant → requests being served
  ServingMetrics* metrics_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpFrontend>> HttpFrontend::Start(const HttpFrontendOptions& options) {
  if (options.metrics == nullptr) return absl::InvalidArgumentError("http frontend: metrics is required");
  auto frontend = std::make_unique<HttpFrontendImpl>(options);
  absl::Status status = frontend->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<HttpFrontend>(std::move(frontend));
}

}  // namespace agentd::http
