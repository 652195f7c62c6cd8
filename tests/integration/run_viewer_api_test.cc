// The run viewer's side of the real daemon (--http-listen), with an HTTP client: its page,
// script and style under a content security policy; the token probe; a report run started from
// the viewer's API and its event stream, which resumes after any sequence without gaps or
// repeats; cited passages read back at their exact offsets; and refusals — no token, another
// tenant, hostile parameters — each naming what was wrong.
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <codecvt>
#include <thread>
#include <fstream>
#include <locale>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "support/daemon_process.h"

namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing_support::DaemonProcess;
using testing_support::TempDir;

constexpr char kAlice[] = "viewer-alice-token-0001";
constexpr char kBob[] = "viewer-bob-token-000001";

std::string SeedsDir() { return std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds"; }

// Code points [start, end) of a file, as UTF-8.
std::string FileSpan(const std::string& path, uint64_t start, uint64_t end) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t> utf8;
  const std::u32string wide = utf8.from_bytes(text.str());
  return utf8.to_bytes(wide.substr(start, end - start));
}

struct SentEvent {
  uint64_t id = 0;
  std::string kind = "message";
  Json data;
};

// The events of a text/event-stream body.
std::vector<SentEvent> ParseEvents(const std::string& body) {
  std::vector<SentEvent> events;
  std::istringstream in(body);
  std::string line;
  SentEvent current;
  std::string data;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!data.empty()) {
        current.data = Json::parse(data, nullptr, false);
        events.push_back(current);
      }
      current = SentEvent();
      data.clear();
    } else if (line.rfind("id: ", 0) == 0) {
      current.id = std::stoull(line.substr(4));
    } else if (line.rfind("event: ", 0) == 0) {
      current.kind = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      data += line.substr(6);
    }
  }
  return events;
}

class RunViewerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing_support::WriteFile(scratch_.Join("config.json"), ConfigJson());
    std::string error;
    std::optional<DaemonProcess> started = DaemonProcess::Start(
        data_.path(), {"--model", "default", "--config", scratch_.Join("config.json"), "--http-listen", "127.0.0.1:0",
                       "--http-port-file", scratch_.Join("http_port")},
        &error);
    ASSERT_TRUE(started.has_value()) << error;
    daemon_ = std::make_unique<DaemonProcess>(std::move(*started));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", std::stoi(testing_support::ReadFile(scratch_.Join("http_port"))));
    client_->set_read_timeout(180, 0);
  }

  static std::string ConfigJson() {
    return std::string(R"({"auth": {"tokens": [{"token": ")") + kAlice + R"(", "tenant": "alice"}, {"token": ")" + kBob +
           R"(", "tenant": "bob"}]}})";
  }

  static httplib::Headers As(const char* token) { return {{"Authorization", std::string("Bearer ") + token}}; }

  std::pair<int, Json> Get(const std::string& path, const char* token) {
    auto response = token ? client_->Get(path.c_str(), As(token)) : client_->Get(path.c_str());
    if (!response) return {0, Json()};
    return {response->status, Json::parse(response->body, nullptr, false)};
  }

  std::pair<int, Json> Post(const std::string& path, const std::string& body, const char* token) {
    auto response = client_->Post(path.c_str(), As(token), body, "application/json");
    if (!response) return {0, Json()};
    return {response->status, Json::parse(response->body, nullptr, false)};
  }

  void IngestSeeds(const char* token) {
    const std::string agentctl = testing_support::BinaryPath("agentctl");
    auto created = testing_support::RunCommand({agentctl, "--addr", daemon_->address(), "--token", token, "memory", "create", "reports"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto ingested = testing_support::RunCommand({agentctl, "--addr", daemon_->address(), "--token", token, "memory", "ingest",
                                                 "reports", SeedsDir() + "/002_43b260d425d982aa.txt",
                                                 SeedsDir() + "/004_c2b6eb545692ecdc.txt"},
                                                std::chrono::seconds(120));
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  }

  // Starts a report run from the viewer's API and follows its events to the end.
  Json RunReport(const std::string& topic) {
    auto [status, started] = Post("/api/runs", Json{{"topic", topic}, {"collection", "reports"}, {"style", "extractive"}}.dump(), kAlice);
    EXPECT_EQ(status, 200) << started.dump();
    const std::string id = started["run_id"];
    auto events = client_->Get(("/api/runs/" + id + "/events?after=0").c_str(), As(kAlice));
    EXPECT_TRUE(events);
    return Get("/api/runs/" + id, kAlice).second;
  }

  // Starts alice's run of a plan whose step spins for minutes: a run that stays live.
  void StartSpinningRun(std::string* run_id) {
    const std::string plan = scratch_.Join("spin.lua");
    testing_support::WriteFile(plan, R"lua(plan{name = "spin", run = function(ctx, inputs)
      ctx.step("spin", function() local x = 0 for i = 1, 4000000000 do x = x + i % 7 end return {x = x} end)
      return {media_type = "text/plain", content = "done"}
    end})lua");
    auto started = testing_support::RunCommand({testing_support::BinaryPath("agentctl"), "--addr", daemon_->address(),
                                                "--token", kAlice, "run", "spin", "--plan-file", plan, "--detach"});
    ASSERT_EQ(started.exit_code, 0) << started.err;
    *run_id = started.out;
    run_id->erase(run_id->find_last_not_of(" \n") + 1);
    *run_id = run_id->substr(run_id->find_last_of(' ') + 1);
  }

  TempDir data_, scratch_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RunViewerApiTest, ServesThePageUnderAPolicyThatRunsOnlyItsOwnScript) {
  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->body, HasSubstr("<script src=\"/viewer.js\""));
  const std::string policy = page->get_header_value("Content-Security-Policy");
  EXPECT_THAT(policy, HasSubstr("script-src 'self'"));
  EXPECT_THAT(policy, HasSubstr("default-src 'none'"));
  EXPECT_EQ(page->get_header_value("X-Content-Type-Options"), "nosniff");
  auto script = client_->Get("/viewer.js");
  ASSERT_TRUE(script);
  EXPECT_THAT(script->get_header_value("Content-Type"), HasSubstr("text/javascript"));
  EXPECT_THAT(script->body, HasSubstr("textContent"));
  auto style = client_->Get("/viewer.css");
  ASSERT_TRUE(style);
  EXPECT_THAT(style->get_header_value("Content-Type"), HasSubstr("text/css"));
  // Nothing else is served from the file system.
  auto missing = client_->Get("/../../etc/passwd");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(RunViewerApiTest, TheTokenDecidesTheTenantAndWithoutOneNothingIsShown) {
  auto [anonymous_status, anonymous] = Get("/api/whoami", nullptr);
  EXPECT_EQ(anonymous_status, 200);
  EXPECT_EQ(anonymous["authenticated"], false);
  EXPECT_THAT(anonymous["message"].get<std::string>(), HasSubstr("API token"));
  auto [alice_status, alice] = Get("/api/whoami", kAlice);
  EXPECT_EQ(alice["authenticated"], true);
  EXPECT_EQ(alice["tenant"], "alice");
  for (const char* path : {"/api/runs", "/api/collections", "/api/runs/run-x", "/api/runs/run-x/events",
                           "/api/passage?collection=reports&document_id=a&start=0&end=1"}) {
    auto [status, body] = Get(path, nullptr);
    EXPECT_EQ(status, 401) << path;
    EXPECT_EQ(body["error"]["type"], "authentication_error") << path;
  }
  auto [status, body] = Post("/api/runs", R"({"topic": "x", "collection": "reports"})", "wrong-token");
  EXPECT_EQ(status, 401);
}

TEST_F(RunViewerApiTest, ARunsEventsResumeAfterAnySequenceAndCitationsReadBackTheirPassages) {
  IngestSeeds(kAlice);
  auto [collections_status, collections] = Get("/api/collections", kAlice);
  ASSERT_EQ(collections_status, 200);
  ASSERT_EQ(collections["collections"].size(), 1u);
  EXPECT_EQ(collections["collections"][0]["documents"], 2);

  const Json run = RunReport("中国AI Agent市场规模与增长");
  ASSERT_EQ(run["state"], "RUN_STATE_SUCCEEDED") << run.dump();
  const std::string id = run["run_id"];
  EXPECT_EQ(Json::parse(run["labels"].dump())["started_by"], "viewer");
  const uint64_t last = std::stoull(run["last_sequence"].get<std::string>());
  ASSERT_GT(last, 10u);

  // From the start: every event once, in order, then the end.
  auto all = client_->Get(("/api/runs/" + id + "/events").c_str(), As(kAlice));
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_THAT(all->get_header_value("Content-Type"), HasSubstr("text/event-stream"));
  std::vector<SentEvent> events = ParseEvents(all->body);
  ASSERT_EQ(events.size(), last + 1);
  for (uint64_t i = 0; i < last; ++i) {
    EXPECT_EQ(events[i].id, i + 1);
    EXPECT_EQ(std::stoull(events[i].data["sequence"].get<std::string>()), i + 1);
  }
  EXPECT_TRUE(events[last - 1].data.contains("run_ended"));
  EXPECT_EQ(events.back().kind, "end");
  bool tokens = false;
  for (const SentEvent& event : events) tokens = tokens || event.data.contains("token_delta");
  EXPECT_TRUE(tokens) << "the viewer's stream carries the generated text";

  // From the middle, by query or by the Last-Event-ID header a reconnecting EventSource sends.
  for (const uint64_t after : {uint64_t{1}, last / 2, last - 1, last}) {
    auto query = client_->Get(("/api/runs/" + id + "/events?after=" + std::to_string(after)).c_str(), As(kAlice));
    httplib::Headers headers = As(kAlice);
    headers.emplace("Last-Event-ID", std::to_string(after));
    auto header = client_->Get(("/api/runs/" + id + "/events").c_str(), headers);
    for (const auto* response : {&query, &header}) {
      ASSERT_TRUE(*response);
      std::vector<SentEvent> rest = ParseEvents((*response)->body);
      ASSERT_EQ(rest.size(), last - after + 1) << "after " << after;
      if (after < last) {
        EXPECT_EQ(rest.front().id, after + 1);
      }
      EXPECT_EQ(rest.back().kind, "end");
    }
  }

  // Every reference reads back as the ingested file's text at its offsets, inside a window of
  // the document around it that keeps the document's offsets.
  ASSERT_GE(run["artifact"]["references"].size(), 2u);
  for (const Json& reference : run["artifact"]["references"]) {
    const std::string start = reference["span"]["start"], end = reference["span"]["end"];
    const std::string document = reference["document_id"];
    auto [status, passage] = Get("/api/passage?collection=reports&document_id=" + document + "&start=" + start + "&end=" + end, kAlice);
    ASSERT_EQ(status, 200) << passage.dump();
    EXPECT_EQ(passage["title"], reference["title"]);
    const uint64_t from = std::stoull(start), to = std::stoull(end), window = passage["window_start"];
    ASSERT_LE(window, from);
    ASSERT_GE(passage["window_end"].get<uint64_t>(), to);
    std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t> utf8;
    const std::u32string text = utf8.from_bytes(passage["text"].get<std::string>());
    EXPECT_EQ(text.size(), passage["window_end"].get<uint64_t>() - window);
    EXPECT_EQ(utf8.to_bytes(text.substr(from - window, to - from)), FileSpan(SeedsDir() + "/" + document, from, to))
        << "[" << reference["number"] << "]";
  }

  // The list has the run; the other tenant sees neither it, its events nor its passages.
  auto [list_status, list] = Get("/api/runs", kAlice);
  ASSERT_EQ(list_status, 200);
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["run_id"], id);
  EXPECT_EQ(Get("/api/runs", kBob).second["runs"].size(), 0u);
  EXPECT_EQ(Get("/api/runs/" + id, kBob).first, 404);
  EXPECT_EQ(Get("/api/runs/" + id + "/events", kBob).first, 404);
  EXPECT_EQ(Post("/api/runs/" + id + "/cancel", "{}", kBob).first, 404);
  const Json& cited = run["artifact"]["references"][0];
  const std::string bob_passage = "/api/passage?collection=reports&document_id=" + cited["document_id"].get<std::string>() +
                                  "&start=" + cited["span"]["start"].get<std::string>() + "&end=" + cited["span"]["end"].get<std::string>();
  EXPECT_EQ(Get(bob_passage, kBob).first, 404);
  // Cancelling a run that has ended is refused, naming why.
  auto [cancel_status, cancel] = Post("/api/runs/" + id + "/cancel", "{}", kAlice);
  EXPECT_EQ(cancel_status, 400) << cancel.dump();
}

TEST_F(RunViewerApiTest, LiveEventStreamsAreShared) {
  // A live run's stream holds a server thread: a tenant gets a quarter of the daemon's live
  // streams (2 of 8 here), past that 429, while another tenant still gets streams and an ended
  // run's backlog is an ordinary request.
  std::string run_id;
  ASSERT_NO_FATAL_FAILURE(StartSpinningRun(&run_id));
  const int port = std::stoi(testing_support::ReadFile(scratch_.Join("http_port")));
  std::atomic<bool> release{false};
  std::atomic<int> open{0};
  std::vector<std::thread> streams;
  for (int i = 0; i < 2; ++i) {
    streams.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(120, 0);
      client.Get(("/api/runs/" + run_id + "/events").c_str(), As(kAlice), [&](const char*, size_t) {
        static thread_local bool counted = false;
        if (!counted) {
          counted = true;
          ++open;
        }
        return !release.load();
      });
    });
  }
  for (int i = 0; i < 600 && open.load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(open.load(), 2) << "run " << run_id;
  auto [third, refusal] = Get("/api/runs/" + run_id + "/events", kAlice);
  EXPECT_EQ(third, 429);
  EXPECT_THAT(refusal["error"]["message"].get<std::string>(), HasSubstr("per API token"));
  // The tenant's other calls are not held up by its streams.
  EXPECT_EQ(Get("/api/runs", kAlice).first, 200);
  EXPECT_EQ(Get("/api/runs/" + run_id, kAlice).first, 200);
  // Cancelled, the run ends its streams.
  auto [cancelled, run] = Post("/api/runs/" + run_id + "/cancel", "{}", kAlice);
  EXPECT_EQ(cancelled, 200) << run.dump();
  release = true;
  for (std::thread& stream : streams) stream.join();
  // Its events are now a backlog: read as often as asked.
  for (int i = 0; i < 3; ++i) {
    auto backlog = client_->Get(("/api/runs/" + run_id + "/events").c_str(), As(kAlice));
    ASSERT_TRUE(backlog);
    EXPECT_EQ(backlog->status, 200);
    EXPECT_EQ(ParseEvents(backlog->body).back().kind, "end");
  }
}

TEST_F(RunViewerApiTest, ShutdownEndsOpenEventStreams) {
  // A viewer watching a live run does not keep the daemon from stopping: SIGTERM ends its stream
  // (the run stays RUNNING in the store, to resume at the next start) and the daemon exits 0.
  std::string run_id;
  ASSERT_NO_FATAL_FAILURE(StartSpinningRun(&run_id));
  std::atomic<bool> streaming{false}, returned{false};
  std::thread watcher([&] {
    httplib::Client client("127.0.0.1", std::stoi(testing_support::ReadFile(scratch_.Join("http_port"))));
    client.set_read_timeout(120, 0);
    client.Get(("/api/runs/" + run_id + "/events").c_str(), As(kAlice), [&](const char*, size_t) {
      streaming = true;
      return true;
    });
    returned = true;
  });
  for (int i = 0; i < 600 && !streaming.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(streaming.load());
  daemon_->Signal(SIGTERM);
  const std::optional<int> exit_code = daemon_->WaitForExit(std::chrono::seconds(60));
  watcher.join();
  ASSERT_TRUE(exit_code.has_value()) << "agentd did not stop with a stream open";
  EXPECT_EQ(*exit_code, 0) << daemon_->Log();
  EXPECT_TRUE(returned.load());
}

TEST_F(RunViewerApiTest, HostileParametersAreRefusedByName) {
  IngestSeeds(kAlice);
  struct Case {
    std::string body;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{{"[1, 2]", "body"},
                                         {"not json", "body"},
                                         {R"({"collection": "reports"})", "topic"},
                                         {R"({"topic": 7, "collection": "reports"})", "topic"},
                                         {R"({"topic": "x"})", "collection"},
                                         {R"({"topic": "x", "collection": "reports", "style": ["a"]})", "style"},
                                         {R"({"topic": "x", "collection": "reports", "style": "poetry"})", "style"},
                                         {std::string(R"({"topic": ")") + std::string(70000, 'x') + R"(", "collection": "reports"})", "body"}}) {
    auto [status, body] = Post("/api/runs", c.body, kAlice);
    EXPECT_EQ(status, 400) << c.body.substr(0, 80) << " → " << body.dump();
    EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr(c.field)) << c.body.substr(0, 80);
  }
  const std::string document = "002_43b260d425d982aa.txt";
  const std::string base = "/api/passage?collection=reports&document_id=" + document;
  struct Query {
    std::string path;
    int status;
    std::string field;
  };
  for (const Query& q : std::vector<Query>{{base + "&start=-1&end=5", 400, "start"},
                                           {base + "&start=1e3&end=5", 400, "start"},
                                           {base + "&start=0&end=99999999999999999999999", 400, "end"},
                                           {base + "&start=10&end=10", 400, "span"},
                                           {base + "&start=20&end=10", 400, "span"},
                                           {base + "&start=0&end=999999999", 400, "span"},
                                           {base + "&start=0&end=65537", 400, "span"},
                                           {base + "&start=0&end=10&context=x", 400, "context"},
                                           {"/api/passage?collection=reports&start=0&end=1", 400, "document_id"},
                                           {"/api/passage?document_id=a&start=0&end=1", 400, "collection"},
                                           {"/api/passage?collection=reports&document_id=nope&start=0&end=1", 404, "document_id"},
                                           {"/api/passage?collection=other&document_id=a&start=0&end=1", 404, "other"},
                                           {"/api/runs?page_size=5000", 400, "page_size"},
                                           {"/api/runs/run-nope/events?after=abc", 400, "after"},
                                           {"/api/runs/run-nope", 404, "run"}}) {
    auto [status, body] = Get(q.path, kAlice);
    EXPECT_EQ(status, q.status) << q.path << " → " << body.dump();
    EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr(q.field)) << q.path;
  }
  // A huge context is cut to its limit rather than refused or honoured.
  auto [status, wide] = Get(base + "&start=100&end=200&context=100000000", kAlice);
  ASSERT_EQ(status, 200);
  EXPECT_LE(wide["window_end"].get<uint64_t>() - wide["window_start"].get<uint64_t>(), 100u + 2 * 20000u);
  // The daemon is still serving.
  EXPECT_EQ(Get("/api/whoami", kAlice).second["tenant"], "alice");
}

}  // namespace
