#include "http/run_viewer.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agentd/request_validator.h"
#include "http/openai_api.h"
#include "http/viewer_assets.h"
#include "nlohmann/json.hpp"

namespace agentd::http {
namespace {

using Json = nlohmann::json;

// Every page the viewer serves runs only its own script and style, and reads only this origin:
// a report quotes tenant documents, and nothing in one may run as script.
constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

// Wakes an event stream when its run appends an event.
struct EventSignal {
  std::mutex mutex;
  std::condition_variable changed;
  bool pending = false;
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      pending = true;
    }
    changed.notify_all();
  }
  // True when notified within `timeout`.
  bool Wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    const bool notified = changed.wait_for(lock, timeout, [this] { return pending; });
    pending = false;
    return notified;
  }
};

class RunViewer : public std::enable_shared_from_this<RunViewer> {
 public:
  explicit RunViewer(const RunViewerOptions& options) : options_(options) {}

  void Register(httplib::Server& server) {
    std::shared_ptr<RunViewer> self = shared_from_this();
    for (const char* path : {"/", "/index.html", "/viewer.js", "/viewer.css"}) {
      server.Get(path, [self](const httplib::Request& request, httplib::Response& response) { self->Asset(request, response); });
    }
    // A probe, so it answers 200 either way: the page asks for a token without a failed request.
    server.Get("/api/whoami", [self](const httplib::Request& request, httplib::Response& response) {
      absl::StatusOr<std::string> tenant = self->options_.authenticate(request);
      const Json answer = tenant.ok() ? Json{{"authenticated", true}, {"tenant", *tenant}}
                                      : Json{{"authenticated", false}, {"message", tenant.status().message()}};
      response.set_header("Cache-Control", "no-store");
      response.set_content(ResponseText(answer), "application/json");
      self->Count("viewer_whoami", 200);
    });
    server.Get("/api/collections", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_collections", [&](const std::string& tenant) { return self->Collections(tenant); });
    });
    server.Get("/api/runs", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_runs", [&](const std::string& tenant) { return self->ListRuns(tenant, request); });
    });
    server.Post("/api/runs", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_start", [&](const std::string& tenant) { return self->StartRun(tenant, request); });
    });
    server.Get(R"(/api/runs/([^/]+))", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_run", [&](const std::string& tenant) -> absl::StatusOr<std::string> {
        absl::StatusOr<agentd::v1::Run> run = self->options_.runs->Get(tenant, request.matches[1], false);
        if (!run.ok()) return run.status();
        return ProtoJson(*run);
      });
    });
    server.Post(R"(/api/runs/([^/]+)/cancel)", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_cancel", [&](const std::string& tenant) -> absl::StatusOr<std::string> {
        absl::StatusOr<agentd::v1::Run> run = self->options_.runs->Cancel(tenant, request.matches[1], "cancelled in the run viewer");
        if (!run.ok()) return run.status();
        return ProtoJson(*run);
      });
    });
    server.Get(R"(/api/runs/([^/]+)/events)", [self](const httplib::Request& request, httplib::Response& response) {
      self->Events(request, response);
    });
    server.Get("/api/passage", [self](const httplib::Request& request, httplib::Response& response) {
      self->Handle(request, response, "viewer_passage", [&](const std::string& tenant) { return self->Passage(tenant, request); });
    });
  }

 private:
  void Count(const std::string& endpoint, int status) {
    if (options_.count_request) options_.count_request(endpoint, status);
  }

  void SendError(httplib::Response& response, const std::string& endpoint, const absl::Status& status) {
    const ApiError error = ToApiError(status);
    response.status = error.http_status;
    response.set_header("Cache-Control", "no-store");
    response.set_content(ResponseText(ErrorBody(error)), "application/json");
    Count(endpoint, error.http_status);
  }

  // Authenticates, runs `body` for the tenant and sends its JSON text or its error.
  template <typename Body>
  void Handle(const httplib::Request& request, httplib::Response& response, const std::string& endpoint, const Body& body) {
    absl::StatusOr<std::string> tenant = options_.authenticate(request);
    if (!tenant.ok()) return SendError(response, endpoint, tenant.status());
    std::shared_ptr<void> slot = options_.take_slot(*tenant);
    if (slot == nullptr) {
      return SendError(response, endpoint,
                       absl::ResourceExhaustedError("too many requests in flight for this API token; retry shortly"));
    }
    absl::StatusOr<std::string> text = body(*tenant);
    if (!text.ok()) return SendError(response, endpoint, text.status());
    response.status = 200;
    response.set_header("Cache-Control", "no-store");
    response.set_content(*text, "application/json");
    Count(endpoint, 200);
  }

  static void Asset(const httplib::Request& request, httplib::Response& response) {
    const std::string path = request.path == "/" ? "/index.html" : request.path;
    std::optional<ViewerAsset> asset = FindViewerAsset(path.substr(1));
    if (!asset) {
      response.status = 404;
      return;
    }
    response.set_header("Content-Security-Policy", kContentSecurityPolicy);
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_header("Referrer-Policy", "no-referrer");
    response.set_header("Cache-Control", "no-cache");
    response.set_content(std::string(asset->content), std::string(asset->media_type));
  }

  absl::StatusOr<std::string> Collections(const std::string& tenant) {
    absl::StatusOr<std::vector<memory::CollectionInfo>> collections = options_.memory->ListCollections(tenant);
    if (!collections.ok()) return collections.status();
    Json list = Json::array();
    for (const memory::CollectionInfo& info : *collections) {
      list.push_back({{"name", info.spec.name},
                      {"description", info.spec.description},
                      {"documents", info.document_count},
                      {"chunks", info.chunk_count}});
    }
    return ResponseText({{"collections", list}});
  }

  absl::StatusOr<std::string> ListRuns(const std::string& tenant, const httplib::Request& request) {
    agentd::v1::ListRunsRequest list;
    list.set_page_token(request.get_param_value("page_token"));
    const std::string size = request.get_param_value("page_size");
    uint32_t page_size = 0;
    if (!size.empty() && (!absl::SimpleAtoi(size, &page_size) || page_size > 1000)) {
      return absl::InvalidArgumentError("page_size: must be a number from 1 to 1000");
    }
    list.set_page_size(page_size);
    if (absl::Status valid = ValidateRequest(list, options_.limits); !valid.ok()) return valid;
    absl::StatusOr<agentd::v1::ListRunsResponse> runs = options_.runs->List(tenant, list);
    if (!runs.ok()) return runs.status();
    return ProtoJson(*runs);
  }

  // A report run from the viewer's form: {"topic", "collection", "style"}.
  absl::StatusOr<std::string> StartRun(const std::string& tenant, const httplib::Request& request) {
    if (request.body.size() > 64 * 1024) return absl::InvalidArgumentError("body: larger than 64 KiB");
    const Json body = Json::parse(request.body, nullptr, false);
    if (!body.is_object()) return absl::InvalidArgumentError("body: must be a JSON object");
    Json inputs = Json::object();
    for (const char* field : {"topic", "collection", "style"}) {
      if (!body.contains(field)) continue;
      if (!body[field].is_string()) return absl::InvalidArgumentError(absl::StrCat(field, ": must be a string"));
      inputs[field] = body[field];
    }
    if (!inputs.contains("topic") || inputs["topic"].get_ref<const std::string&>().empty()) {
      return absl::InvalidArgumentError("topic: required");
    }
    if (!inputs.contains("collection") || inputs["collection"].get_ref<const std::string&>().empty()) {
      return absl::InvalidArgumentError("collection: required");
    }
    agentd::v1::StartRunRequest start;
    start.set_plan("report");
    start.set_inputs_json(ResponseText(inputs));
    (*start.mutable_labels())["started_by"] = "viewer";
    if (absl::Status valid = ValidateRequest(start, options_.limits); !valid.ok()) return valid;
    bool existing = false;
    absl::StatusOr<agentd::v1::Run> run = options_.runs->Start(tenant, start, &existing);
    if (!run.ok()) return run.status();
    agentd::v1::StartRunResponse started;
    started.set_run_id(run->run_id());
    *started.mutable_run() = *run;
    return ProtoJson(started);
  }

  absl::StatusOr<std::string> Passage(const std::string& tenant, const httplib::Request& request) {
    memory::PassageQuery query;
    query.tenant = tenant;
    query.collection = request.get_param_value("collection");
    query.document_id = request.get_param_value("document_id");
    if (query.collection.empty()) return absl::InvalidArgumentError("collection: required");
    if (query.document_id.empty() || query.document_id.size() > 1024) {
      return absl::InvalidArgumentError("document_id: required, at most 1024 bytes");
    }
    for (auto [name, value] : {std::pair{"start", &query.start}, std::pair{"end", &query.end}}) {
      if (!absl::SimpleAtoi(request.get_param_value(name), value)) {
        return absl::InvalidArgumentError(absl::StrCat(name, ": must be a whole number of characters"));
      }
    }
    if (request.has_param("context")) {
      if (!absl::SimpleAtoi(request.get_param_value("context"), &query.context)) {
        return absl::InvalidArgumentError("context: must be a whole number of characters");
      }
    }
    absl::StatusOr<memory::PassageWindow> window = options_.memory->ReadPassage(query);
    if (!window.ok()) return window.status();
    return ResponseText({{"collection", query.collection},
                 {"document_id", window->document_id},
                 {"title", window->title},
                 {"source", window->source},
                 {"date", window->date},
                 {"start", query.start},
                 {"end", query.end},
                 {"window_start", window->window_start},
                 {"window_end", window->window_end},
                 {"document_end", window->document_end},
                 {"text", window->text}});
  }

  // The run's events after ?after=N as server-sent events, live until the run ends; a client
  // that reconnects with the last id it saw misses nothing and sees nothing twice.
  void Events(const httplib::Request& request, httplib::Response& response) {
    const std::string endpoint = "viewer_events";
    absl::StatusOr<std::string> tenant = options_.authenticate(request);
    if (!tenant.ok()) return SendError(response, endpoint, tenant.status());
    const std::string run_id = request.matches[1];
    uint64_t after = 0;
    std::string after_text = request.get_param_value("after");
    if (after_text.empty()) after_text = request.get_header_value("Last-Event-ID");
    if (!after_text.empty() && !absl::SimpleAtoi(after_text, &after)) {
      return SendError(response, endpoint, absl::InvalidArgumentError("after: must be an event sequence number"));
    }
    // The run must exist for this tenant before the stream answers 200.
    absl::StatusOr<agentd::v1::Run> run = options_.runs->Get(*tenant, run_id, false);
    if (!run.ok()) return SendError(response, endpoint, run.status());
    // An ended run's events are a backlog sent at once: an ordinary request. A live run's stream
    // waits for news, holding a thread: it takes one of the daemon's event streams, a few per
    // tenant, and leaves the tenant's requests to its other calls.
    const bool live = run->state() == agentd::v1::RUN_STATE_PENDING || run->state() == agentd::v1::RUN_STATE_RUNNING;
    std::shared_ptr<void> slot = live ? TakeStream(*tenant) : options_.take_slot(*tenant);
    if (slot == nullptr) {
      return SendError(response, endpoint,
                       absl::ResourceExhaustedError(
                           live ? absl::StrCat("run event streams are all open (", options_.max_event_streams, " in all, ",
                                               PerTenantStreams(), " per API token); retry shortly")
                                : std::string("too many requests in flight for this API token; retry shortly")));
    }
    Count(endpoint, 200);
    response.set_header("Cache-Control", "no-store");
    std::shared_ptr<RunViewer> self = shared_from_this();
    response.set_chunked_content_provider(
        "text/event-stream", [self, slot, tenant = *tenant, run_id, after](size_t, httplib::DataSink& sink) {
          try {
            return self->StreamEvents(tenant, run_id, after, sink);
          } catch (const std::exception& e) {
            // Past httplib's own try/catch an exception would end the process.
            return false;
          }
        });
  }

  int PerTenantStreams() const { return std::max(1, options_.max_event_streams / 4); }

  // One of the daemon's event streams for `tenant`, given back on release; null when all are
  // open, or the tenant's share is.
  std::shared_ptr<void> TakeStream(const std::string& tenant) {
    {
      std::lock_guard<std::mutex> lock(streams_mutex_);
      int& mine = tenant_streams_[tenant];
      if (open_streams_ >= options_.max_event_streams || mine >= PerTenantStreams()) {
        if (mine == 0) tenant_streams_.erase(tenant);
        return nullptr;
      }
      ++mine;
      ++open_streams_;
    }
    class Ticket {
     public:
      Ticket(std::shared_ptr<RunViewer> viewer, std::string tenant) : viewer_(std::move(viewer)), tenant_(std::move(tenant)) {}
      Ticket(const Ticket&) = delete;
      Ticket& operator=(const Ticket&) = delete;
      ~Ticket() {
        std::lock_guard<std::mutex> lock(viewer_->streams_mutex_);
        --viewer_->open_streams_;
        if (--viewer_->tenant_streams_[tenant_] == 0) viewer_->tenant_streams_.erase(tenant_);
      }

     private:
      std::shared_ptr<RunViewer> viewer_;
      std::string tenant_;
    };
    return std::make_shared<Ticket>(shared_from_this(), tenant);
  }

  bool StreamEvents(const std::string& tenant, const std::string& run_id, uint64_t after, httplib::DataSink& sink) {
    auto write = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
    auto signal = std::make_shared<EventSignal>();
    // Subscribed before the first read, so no event appended in between goes unnoticed.
    const uint64_t subscription = options_.runs->Subscribe(run_id, [signal] { signal->Notify(); });
    struct Unsubscribe {
      runs::RunManager* runs;
      const std::string& run_id;
      uint64_t token;
      ~Unsubscribe() { runs->Unsubscribe(run_id, token); }
    } unsubscribe{options_.runs, run_id, subscription};
    uint64_t cursor = after;
    int quiet_seconds = 0;
    // A stream ends after a while without "end"; the page reconnects after its last sequence,
    // so no client holds a thread for a whole run.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    while (!options_.stopping->load() && std::chrono::steady_clock::now() < give_up) {
      absl::StatusOr<runs::RunManager::EventBatch> batch = options_.runs->ReadEvents(tenant, run_id, cursor, 256, 1 << 20);
      if (!batch.ok()) {
        write(absl::StrCat("event: error\ndata: ", ResponseText(ErrorBody(ToApiError(batch.status()))), "\n\n"));
        break;
      }
      for (const agentd::v1::RunEvent& event : batch->events) {
        if (!write(absl::StrCat("id: ", event.sequence(), "\ndata: ", ProtoJson(event), "\n\n"))) return false;
        cursor = event.sequence();
      }
      if (batch->ended) {
        write("event: end\ndata: {}\n\n");
        break;
      }
      if (!batch->events.empty()) continue;
      if (signal->Wait(std::chrono::seconds(1))) {
        quiet_seconds = 0;
      } else if (++quiet_seconds >= 15) {
        // A comment line: keeps proxies from closing an idle stream, and finds a client gone.
        if (!write(": waiting\n\n")) return false;
        quiet_seconds = 0;
      }
    }
    sink.done();
    return true;
  }

  const RunViewerOptions options_;
  std::mutex streams_mutex_;
  int open_streams_ = 0;                       // live event streams
  std::map<std::string, int> tenant_streams_;  // tenant → its live event streams
};

}  // namespace

void AddRunViewerRoutes(httplib::Server& server, const RunViewerOptions& options) {
  std::make_shared<RunViewer>(options)->Register(server);
}

}  // namespace agentd::http
