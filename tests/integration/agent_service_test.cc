// AgentService end to end on the real daemon with the tiny test model: the built-in report plan,
// SIGKILL mid-run and resume, cancellation, broken plans, event streams that reconnect, API
// tokens and tenants, and the agentctl runner.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>
#include <tuple>

#include <codecvt>
#include <filesystem>
#include <fstream>
#include <locale>
#include <map>
#include <sstream>
#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "sdk/client.h"
#include "support/daemon_process.h"
#include "support/http_test_server.h"

namespace {

using namespace agentd::v1;
using RunT = agentd::v1::Run;
using ::testing::HasSubstr;
using testing_support::DaemonProcess;
using testing_support::RunCommand;
using testing_support::StartDaemonOrThrow;
using testing_support::TempDir;
using Json = nlohmann::json;

std::string TinyChatModelDir() { return std::string(AGENTD_TEST_DATA_DIR) + "/models/deepseek_v3_tiny_chat"; }
std::string SeedsDir() { return std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds"; }

bool IsValidUtf8(const std::string& text) {
  try {
    std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(text);
    return true;
  } catch (const std::range_error&) {
    return false;
  }
}

std::unique_ptr<sdk::Client> Connect(const DaemonProcess& daemon, const std::string& token = "") {
  sdk::ClientOptions options;
  options.address = daemon.address();
  options.token = token;
  auto client = sdk::Client::Create(options);
  EXPECT_TRUE(client.ok());
  return std::move(*client);
}

// A plan whose second step spins in Lua long enough to be caught in the middle.
constexpr char kSlowPlan[] = R"lua(
plan{
  name = "slow",
  run = function(ctx, inputs)
    local first = ctx.step("first", function()
      return {tokens = ctx.llm.generate{prompt = "alpha", max_tokens = 4}.completion_tokens}
    end)
    local second = ctx.step("second", function()
      local x = 0
      for i = 1, inputs.spins or 30000000 do x = x + i % 7 end
      return {x = x}
    end)
    ctx.step("third", function() return {ok = true} end)
    return {media_type = "text/plain", content = "first " .. first.tokens .. " second " .. second.x}
  end,
}
)lua";

class AgentServiceTest : public ::testing::Test {
 protected:
  void StartDaemon(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--model", TinyChatModelDir(), "--plans-dir", plans_.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    daemon_.emplace(StartDaemonOrThrow(data_.path(), args));
    client_ = Connect(*daemon_);
  }

  void IngestSeeds() {
    const std::string agentctl = testing_support::BinaryPath("agentctl");
    auto created = RunCommand({agentctl, "--addr", daemon_->address(), "memory", "create", "seeds", "--embedding-model", "none"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    auto ingested = RunCommand({agentctl, "--addr", daemon_->address(), "memory", "ingest", "seeds",
                                SeedsDir() + "/000_37400ed1cf531c96.txt", SeedsDir() + "/001_8105c39df311472b.txt"});
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  }

  // All five seed reports into "reports", embedded with the daemon's embedding model.
  void IngestAllSeeds() {
    const std::string agentctl = testing_support::BinaryPath("agentctl");
    auto created = RunCommand({agentctl, "--addr", daemon_->address(), "memory", "create", "reports"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    std::vector<std::string> argv = {agentctl, "--addr", daemon_->address(), "memory", "ingest", "reports"};
    for (const auto& entry : std::filesystem::directory_iterator(SeedsDir())) argv.push_back(entry.path().string());
    auto ingested = RunCommand(argv, std::chrono::seconds(480));
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  }

  // The five English documents (tests/data/corpus_en/seeds) into "english", embedded.
  void IngestEnglish() {
    const std::string agentctl = testing_support::BinaryPath("agentctl");
    ASSERT_EQ(RunCommand({agentctl, "--addr", daemon_->address(), "memory", "create", "english"}).exit_code, 0);
    std::vector<std::string> argv = {agentctl, "--addr", daemon_->address(), "memory", "ingest", "english"};
    for (const auto& entry : std::filesystem::directory_iterator(std::string(AGENTD_TEST_DATA_DIR) + "/corpus_en/seeds")) {
      argv.push_back(entry.path().string());
    }
    auto ingested = RunCommand(argv, std::chrono::seconds(240));
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  }

  RunT StartRun(const std::string& plan, const Json& inputs, const std::string& source = "") {
    StartRunRequest request;
    request.set_plan(plan);
    request.set_inputs_json(inputs.dump());
    request.set_plan_source(source);
    absl::StatusOr<RunT> run = client_->StartRun(request);
    EXPECT_TRUE(run.ok()) << run.status();
    return run.ok() ? *run : RunT();
  }

  // `client`: whose run it is (default: the test's own client).
  RunT WaitForEnd(const std::string& run_id, std::chrono::seconds timeout = std::chrono::seconds(300),
                  sdk::Client* client = nullptr) {
    if (client == nullptr) client = client_.get();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      absl::StatusOr<RunT> run = client->GetRun(run_id);
      if (run.ok() && (run->state() == RUN_STATE_SUCCEEDED || run->state() == RUN_STATE_FAILED ||
                       run->state() == RUN_STATE_CANCELLED)) {
        return *run;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "run " << run_id << " did not end";
    return RunT();
  }

  // Polls until `predicate(run)` holds.
  template <typename Predicate>
  bool WaitFor(const std::string& run_id, Predicate predicate, std::chrono::seconds timeout = std::chrono::seconds(180)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      absl::StatusOr<RunT> run = client_->GetRun(run_id);
      if (run.ok() && predicate(*run)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  std::vector<RunEvent> AllEvents(const std::string& run_id, bool tokens) {
    std::vector<RunEvent> events;
    absl::Status status = client_->FollowRun(run_id, 0, tokens, [&](const RunEvent& e) {
      events.push_back(e);
      return true;
    });
    EXPECT_TRUE(status.ok()) << status;
    return events;
  }

  static const Step* FindStep(const RunT& run, const std::string& name) {
    for (const Step& s : run.steps()) {
      if (s.name() == name) return &s;
    }
    return nullptr;
  }

  TempDir data_;
  TempDir plans_;
  std::optional<DaemonProcess> daemon_;
  std::unique_ptr<sdk::Client> client_;
};

TEST_F(AgentServiceTest, ReportRunSucceedsWithEveryStepOnceAndReferencesThatResolve) {
  StartDaemon();
  IngestSeeds();
  RunT started = StartRun("report", {{"topic", "中国AI Agent市场规模与增长"}, {"collection", "seeds"}, {"max_sections", 2}});
  std::vector<RunEvent> events = AllEvents(started.run_id(), /*tokens=*/true);
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();

  std::vector<std::string> names;
  for (const Step& s : run.steps()) {
    names.push_back(s.name());
    EXPECT_EQ(s.state(), STEP_STATE_SUCCEEDED) << s.name();
    EXPECT_EQ(s.attempts(), 1u) << s.name();
  }
  EXPECT_EQ(names.front(), "outline");
  for (const char* expected : {"search/1", "draft/1", "revise/1", "search/2", "draft/2", "revise/2"}) {
    EXPECT_THAT(names, ::testing::Contains(expected));
  }
  EXPECT_EQ(run.artifact().media_type(), "text/markdown");
  EXPECT_EQ(run.artifact().content().rfind("# ", 0), 0u) << run.artifact().content();
  EXPECT_THAT(run.artifact().content(), HasSubstr("## "));
  EXPECT_THAT(run.artifact().content(), HasSubstr("参考"));  // Chinese topic → Chinese report
  // Every [n] in the report resolves to a listed reference, and references point at ingested
  // documents.
  const std::string& content = run.artifact().content();
  for (size_t at = content.find('['); at != std::string::npos; at = content.find('[', at + 1)) {
    size_t close = content.find(']', at);
    if (close == std::string::npos) break;
    const std::string inner = content.substr(at + 1, close - at - 1);
    if (inner.empty() || inner.find_first_not_of("0123456789") != std::string::npos) continue;
    EXPECT_GE(std::stoi(inner), 1);
    EXPECT_LE(std::stoi(inner), run.artifact().references_size()) << content;
  }
  for (const Reference& r : run.artifact().references()) EXPECT_EQ(r.collection(), "seeds");
  EXPECT_GT(run.usage().completion_tokens(), 0u);

  // The stream: sequences 1..N without gaps, run started first and ended last, retrievals that
  // point at the ingested collection, token deltas per step.
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), i + 1);
  EXPECT_TRUE(events.front().has_run_started());
  EXPECT_TRUE(events.back().has_run_ended());
  EXPECT_EQ(events.back().run_ended().state(), RUN_STATE_SUCCEEDED);
  int retrievals = 0, deltas = 0;
  for (const RunEvent& e : events) {
    if (e.has_retrieval_hits()) {
      ++retrievals;
      for (const Reference& hit : e.retrieval_hits().hits()) EXPECT_FALSE(hit.document_id().empty());
    }
    deltas += e.has_token_delta();
  }
  EXPECT_GT(retrievals, 0);
  EXPECT_GT(deltas, 0);
  EXPECT_EQ(run.last_sequence(), events.size());
}

// The cited passage's text, read from the ingested seed file (spans are code points), with
// whitespace removed: extracted PDF text breaks lines where a sentence has none.
std::string CitedPassageWithoutSpaces(const Reference& reference) {
  std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/" + reference.document_id());
  std::stringstream text;
  text << in.rdbuf();
  std::u32string wide = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(text.str());
  std::u32string span = wide.substr(reference.span().start(), reference.span().end() - reference.span().start());
  // A word hyphenated across lines is quoted whole ("CINI⁃\nTY" as CINITY): the mark goes too.
  std::u32string joined;
  for (size_t i = 0; i < span.size(); ++i) {
    size_t next = i + 1;
    while (next < span.size() && (span[next] == U' ' || span[next] == U'\t')) ++next;
    if ((span[i] == U'\u2043' || span[i] == U'\u00ad') && next < span.size() && span[next] == U'\n') continue;
    joined.push_back(span[i]);
  }
  span = joined;
  std::string out = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().to_bytes(span);
  out.erase(std::remove_if(out.begin(), out.end(), [](char c) { return c == ' ' || c == '\n' || c == '\t'; }), out.end());
  return out;
}

TEST_F(AgentServiceTest, ASentenceQuotedForContextIsFromThePassageItIsCitedTo) {
  // Two documents share a sentence; after it, each goes on differently. A sentence quoted with
  // the one it follows or the one that announces it must come from the passage it is cited to.
  // And an announcing sentence that itself leans ("This changed…") brings no follower that
  // could open the section before it.
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  const std::map<std::string, std::string> documents = {
      {"lidar.md", "# Cell costs in 2024: a steep drop\n\nBattery prices fell sharply. Lidar makers raised new funding "
                   "this year. A steep drop in cell costs during 2024 is expected to continue.\n"},
      {"cells.md", "# Battery cells in 2024\n\nBattery prices fell sharply. This followed a steep drop in cell costs "
                   "during 2024. Cell costs fell by a fifth as new factories opened.\n\nThis changed storage "
                   "economics. It now pays back within seven years.\n"}};
  std::vector<std::string> argv = {testing_support::BinaryPath("agentctl"), "--addr", daemon_->address(), "memory",
                                   "ingest", "shared"};
  for (const auto& [name, text] : documents) {
    const std::string path = data_.path() + "/" + name;
    std::ofstream(path) << text;
    argv.push_back(path);
  }
  auto created = RunCommand({argv[0], "--addr", daemon_->address(), "memory", "create", "shared"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto ingested = RunCommand(argv);
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  for (const std::string topic : {"What followed the sharp fall in battery prices?", "Why did battery cell costs fall in 2024?",
                                  "Battery storage economics"}) {
    RunT run = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "shared"}}).run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    const std::string& content = run.artifact().content();
    std::map<int, std::string> cited;
    for (const Reference& r : run.artifact().references()) {
      const std::string& text = documents.at(std::filesystem::path(r.document_id()).filename().string());
      std::u32string wide = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(text);
      std::string span = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().to_bytes(
          wide.substr(r.span().start(), r.span().end() - r.span().start()));
      std::string& spaced = cited[static_cast<int>(r.number())];  // runs of whitespace as one space
      for (char c : span) {
        const bool space = c == ' ' || c == '\n';
        if (!space || spaced.empty() || spaced.back() != ' ') spaced.push_back(space ? ' ' : c);
      }
    }
    std::istringstream lines(content);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("## References", 0) == 0) break;
      if (line.empty() || line[0] == '#') continue;
      EXPECT_NE(line.rfind("It ", 0), 0u) << "a section opens on a sentence that leans:\n" << content;
      std::string previous;
      for (size_t at = 0; at < line.size();) {
        const size_t open = line.find('[', at), close = line.find(']', open);
        ASSERT_NE(close, std::string::npos) << line;
        std::string sentence = line.substr(at, open - at);
        sentence.erase(0, sentence.find_first_not_of(' '));
        const int number = std::stoi(line.substr(open + 1, close - open - 1));
        ASSERT_TRUE(cited.count(number)) << content;
        EXPECT_NE(cited[number].find(sentence), std::string::npos) << "[" << number << "] does not say: " << sentence
                                                                  << "\n" << content;
        // "This …" and "It …" come right after the sentence they follow in their source: after
        // another one, "This followed a steep drop…" would name what the lidar makers did.
        if (sentence.rfind("This ", 0) == 0 || sentence.rfind("It ", 0) == 0) {
          EXPECT_NE(cited[number].find(previous + " " + sentence), std::string::npos)
              << "\"" << sentence << "\" after \"" << previous << "\"\n" << content;
        }
        previous = sentence;
        at = close + 1;
      }
    }
  }
}

TEST_F(AgentServiceTest, TheShippedModelWritesQuoteGroundedReports) {
  // The shipped default model declares that it writes extractively: every sentence of the report
  // is a sentence of the passage it cites, copied verbatim, none repeats, no junk, and the
  // answer the sources state reaches the report.
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  IngestAllSeeds();
  // Each topic, the answer its sources state and a word every section's heading has, since
  // sections are on the topic's subject ("中国云计算市场规模" shares all but the subject with the
  // first topic).
  // And the sections a report has at least: the answer's sentence alone is the report on the total
  // investment in generative AI (its one heading in the sources, "生成式 AI 产业图谱", held the
  // AI chip market's size and the media industry, no sentence on the investment).
  struct Topic {
    std::string topic, answer, subject;
    int least_headings = 2;
  };
  const std::vector<Topic> topics = {{"2023年中国AI Agent市场规模是多少？", "554", "Agent"},
                                     {"DeepSeek V3 的完整训练成本是多少美元？", "557万美元", ""},
                                     // Its sources state the figure twice, once in a longer sentence.
                                     {"2023年生成式AI总投资额达到多少亿美元？", "252.3", "", 1}};
  int tables_seen = 0;
  for (const auto& [topic, answer, subject, least_headings] : topics) {
    RunT started = StartRun("report", {{"topic", topic}, {"collection", "reports"}});
    RunT run = WaitForEnd(started.run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    const std::string& content = run.artifact().content();
    const Step* outline = FindStep(run, "outline");
    ASSERT_NE(outline, nullptr);
    EXPECT_EQ(Json::parse(outline->output_json())["style"], "extractive");
    EXPECT_GE(run.artifact().references_size(), least_headings == 1 ? 1 : 3) << content;
    std::map<int, std::string> passages;
    for (const Reference& r : run.artifact().references()) passages[static_cast<int>(r.number())] = CitedPassageWithoutSpaces(r);

    // The body: every line between the title and the references is a heading or cited units.
    std::istringstream lines(content);
    std::string line, body;
    std::set<std::string> seen;
    std::vector<std::string> table_cells;
    int units = 0, headings = 0;
    // The report's first two sentences: where a reader looks for the answer.
    std::string opening;
    // A section whose heading asks for a quantity (规模, 增长, ...) quotes sentences with a number
    // of their own when its sources have any: per such section, which units have one.
    bool measuring = false;
    std::set<bool> figures_in_section;
    // No sentence of a section is a shorter one's restatement: 70% of the shorter's letter and
    // digit bigrams (ASCII and CJK) in the longer, as the plan measures it.
    std::vector<std::string> section_sentences;
    // Nor anywhere in the report does one say again what another said (80% of the shorter one's
    // bigrams): "训练成本仅为 557 万美元。" after "…仅用 557.6 万美元和 2048 块英伟达 H800 GPU…".
    std::vector<std::string> report_sentences;
    auto bigrams = [](const std::string& text) {
      std::set<std::pair<uint32_t, uint32_t>> out;
      uint32_t previous = 0;
      for (size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        const int length = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        uint32_t cp = length == 1 ? c : c & (0xFF >> (length + 1));
        for (int k = 1; k < length && i + k < text.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        i += length;
        const bool letter = std::isalnum(static_cast<int>(cp < 0x80 ? cp : 0)) || (cp >= 0x4E00 && cp <= 0x9FFF);
        if (!letter) continue;
        if (previous != 0) out.insert({previous, cp});
        previous = cp;
      }
      return out;
    };
    auto check_section = [&] {
      EXPECT_LE(figures_in_section.size(), 1u) << "a quantity's section quotes sentences without figures:\n" << content;
      figures_in_section.clear();
      for (const std::string& shorter : section_sentences) {
        for (const std::string& longer : section_sentences) {
          if (longer.size() <= shorter.size()) continue;
          const auto a = bigrams(shorter), b = bigrams(longer);
          size_t shared = 0;
          for (const auto& pair : a) shared += b.count(pair);
          EXPECT_LT(static_cast<double>(shared), 0.7 * static_cast<double>(a.size()))
              << "restated in its section: " << shorter << "\nby: " << longer;
        }
      }
      section_sentences.clear();
    };
    while (std::getline(lines, line)) {
      if (line == "## 参考文献") break;
      if (line.rfind("## ", 0) == 0) {
        check_section();
        if (headings > 0) {
          EXPECT_NE(line.find(subject), std::string::npos) << "off the subject:\n" << content;
        }
        measuring = headings > 0 && (line.find("规模") != std::string::npos || line.find("增长") != std::string::npos ||
                                     line.find("增速") != std::string::npos || line.find("占比") != std::string::npos);
        ++headings;
      }
      if (line.empty() || line[0] == '#') continue;
      // A quoted table: every cell is in the passage its source line cites.
      if (line[0] == '|') {
        if (line.find("---") != std::string::npos) continue;
        for (size_t at = 1; at < line.size();) {
          const size_t bar = line.find('|', at);
          std::string cell = line.substr(at, bar - at);
          cell.erase(std::remove(cell.begin(), cell.end(), ' '), cell.end());
          if (!cell.empty()) table_cells.push_back(cell);
          at = bar == std::string::npos ? line.size() : bar + 1;
        }
        continue;
      }
      if (line.rfind("（表格摘自资料 [", 0) == 0) {
        const int number = std::stoi(line.substr(line.find('[') + 1));
        ASSERT_TRUE(passages.count(number)) << content;
        for (const std::string& cell : table_cells) {
          EXPECT_NE(passages[number].find(cell), std::string::npos) << "[" << number << "] has no cell " << cell;
        }
        EXPECT_FALSE(table_cells.empty()) << content;
        table_cells.clear();
        ++tables_seen;
        continue;
      }
      body += line;
      size_t at = 0;
      while (at < line.size()) {
        const size_t open = line.find('[', at);
        ASSERT_NE(open, std::string::npos) << "uncited text: " << line.substr(at);
        const size_t close = line.find(']', open);
        ASSERT_NE(close, std::string::npos) << line;
        std::string sentence = line.substr(at, open - at);
        const int number = std::stoi(line.substr(open + 1, close - open - 1));
        sentence.erase(std::remove(sentence.begin(), sentence.end(), ' '), sentence.end());
        ASSERT_TRUE(passages.count(number)) << content;
        EXPECT_NE(passages[number].find(sentence), std::string::npos) << "[" << number << "] does not say: " << sentence;
        EXPECT_TRUE(seen.insert(sentence).second) << "repeated: " << sentence;
        section_sentences.push_back(sentence);
        report_sentences.push_back(sentence);
        if (units < 2) opening += sentence;
        if (measuring) {
          bool figure = false;  // a digit not written after a letter ("37%", not "H800")
          for (size_t k = 0; k < sentence.size() && !figure; ++k) {
            figure = std::isdigit(static_cast<unsigned char>(sentence[k])) &&
                     (k == 0 || !std::isalnum(static_cast<unsigned char>(sentence[k - 1])));
          }
          figures_in_section.insert(figure);
        }
        ++units;
        at = close + 1;
      }
    }
    check_section();
    for (size_t j = 0; j < report_sentences.size(); ++j) {
      for (size_t i = 0; i < j; ++i) {
        const auto a = bigrams(report_sentences[i]), b = bigrams(report_sentences[j]);
        if (std::min(a.size(), b.size()) < 8) continue;
        size_t shared = 0;
        for (const auto& pair : a) shared += b.count(pair);
        EXPECT_LT(static_cast<double>(shared), 0.8 * static_cast<double>(std::min(a.size(), b.size())))
            << "said again: " << report_sentences[j] << "\nafter: " << report_sentences[i] << "\n" << content;
      }
    }
    EXPECT_GE(headings, least_headings) << content;
    EXPECT_GE(units, least_headings == 1 ? 1 : 2 * headings) << content;
    if (least_headings == 1) {
      EXPECT_THAT(content, ::testing::Not(HasSubstr("AI 芯片行业规模"))) << content;
    }
    for (const char* junk : {"{", "}", "\"", "http", "question"}) EXPECT_EQ(body.find(junk), std::string::npos) << junk << "\n" << content;
    std::string squashed = body;
    squashed.erase(std::remove(squashed.begin(), squashed.end(), ' '), squashed.end());
    EXPECT_NE(squashed.find(answer), std::string::npos) << content;
    EXPECT_NE(opening.find(answer), std::string::npos) << "not answered first:\n" << content;
  }
  // The AI Agent market forecast is a table in its source: the first report quotes it.
  EXPECT_GE(tables_seen, 1);
  // A table goes under the section its caption heads: the forecast's rows sit two lines above
  // "图41：2023-2028 中国 AI Agent 行业市场规模及预测", a heading of the main job's report, whose key
  // findings had quoted it and left that section one sentence on another matter. (Narrowed to a
  // question's year, as in the first report above, it stays with the answer.)
  {
    RunT run = WaitForEnd(StartRun("report", {{"topic", "中国AI Agent市场规模与增长"}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    const std::string& content = run.artifact().content();
    const size_t caption = content.find("\n## 2023-2028 中国 AI Agent 行业市场规模及预测\n");
    ASSERT_NE(caption, std::string::npos) << content;
    const size_t forecast = content.find("| 8520.35 |");
    ASSERT_NE(forecast, std::string::npos) << content;
    EXPECT_GT(forecast, caption) << content;
    EXPECT_EQ(content.find("\n## ", caption + 1), content.find("\n## ", forecast)) << "not in its caption's section:\n" << content;
    EXPECT_EQ(content.find("| 8520.35 |", forecast + 1), std::string::npos) << "quoted twice:\n" << content;
  }
  // A table both captioned above ("表1：…测算") and below ("图1：…及预测"), as seed 002's forecast is,
  // with both captions chosen as headings: it is quoted once, under one of them. (Each section
  // had left it to the other, and the report lost the table and both sections.)
  {
    const std::string agentctl = testing_support::BinaryPath("agentctl");
    ASSERT_EQ(RunCommand({agentctl, "--addr", daemon_->address(), "memory", "create", "captions"}).exit_code, 0);
    auto ingested = RunCommand({agentctl, "--addr", daemon_->address(), "memory", "ingest", "captions",
                                std::string(AGENTD_TEST_DATA_DIR) + "/documents/two_captions.txt"});
    ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
    RunT run = WaitForEnd(StartRun("report", {{"topic", "中国AI机器人市场规模与增长"}, {"collection", "captions"},
                                              {"max_sections", 3}}).run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    const std::string& content = run.artifact().content();
    const size_t row = content.find("| 1120 |");
    ASSERT_NE(row, std::string::npos) << "the table is lost:\n" << content;
    EXPECT_EQ(content.find("| 1120 |", row + 1), std::string::npos) << "quoted twice:\n" << content;
  }
  // The key findings answer the topic: a sentence of another document than the answer's that
  // shares only "阿里云" with the question (a cloud market's ranking) does not follow the answer.
  RunT run = WaitForEnd(
      StartRun("report", {{"topic", "阿里云百炼qwen-max系列模型调价通知是哪天发布的？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  const std::string& content = run.artifact().content();
  const size_t findings = content.find("## 核心结论"), next = content.find("\n## ", findings + 1);
  ASSERT_NE(findings, std::string::npos) << content;
  const std::string key_findings = content.substr(findings, next - findings);
  EXPECT_THAT(key_findings, HasSubstr("1 月 30 日，阿里云发布百炼 qwen-max 系列模型调整通知"));
  EXPECT_THAT(key_findings, ::testing::Not(HasSubstr("公有云IaaS"))) << content;
  // A question on what its Latin names name ("DeepSeek", "NIM") keeps to them past its answer:
  // a sentence on AI in marketing followed the DeepSeek team's universities, and A-share moves
  // the NIM preview's date.
  for (const auto& [question, answer, off_question] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"DeepSeek 团队成员主要来自哪些高校？", "清华大学、北京大学", "营销转化率"},
           {"英伟达哪天发布了搭载DeepSeek-R1 671b的NIM微服务预览版？", "英伟达NIM微服务", "中际旭创"}}) {
    RunT asked = WaitForEnd(StartRun("report", {{"topic", question}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(asked.state(), RUN_STATE_SUCCEEDED) << asked.error();
    const std::string& report = asked.artifact().content();
    const size_t start = report.find("## 核心结论"), end = report.find("\n## ", start + 1);
    ASSERT_NE(start, std::string::npos) << report;
    EXPECT_THAT(report.substr(start, end - start), HasSubstr(answer)) << report;
    EXPECT_THAT(report.substr(start, end - start), ::testing::Not(HasSubstr(off_question))) << report;
  }
  // A question that names a table's column whole ("AIME 2024 pass@1", not "AIME 2024 cons@64")
  // sees the row labels and that column: the cell that answers it, not six columns of scores.
  RunT table_run = WaitForEnd(
      StartRun("report", {{"topic", "DeepSeek-R1-Distill-Qwen-32B 在 AIME 2024 上的 pass@1 是多少？"}, {"collection", "reports"}})
          .run_id());
  ASSERT_EQ(table_run.state(), RUN_STATE_SUCCEEDED) << table_run.error();
  const std::string& with_table = table_run.artifact().content();
  EXPECT_THAT(with_table, HasSubstr("|  | AIME 2024 pass@1 |\n| --- | --- |\n")) << with_table;
  EXPECT_THAT(with_table, HasSubstr("| DeepSeek-R1-Distill-Qwen-32B | 72.6 |\n")) << with_table;
  EXPECT_THAT(with_table, ::testing::Not(HasSubstr("cons@64"))) << with_table;
  // And it follows the first sentence, before the others.
  const size_t first_end = with_table.find("[1]");
  EXPECT_NE(first_end, std::string::npos);
  EXPECT_EQ(with_table.find("\n\n|  | AIME 2024 pass@1 |"), first_end + 3) << with_table;
  // The longest topic the plan takes (500 characters) is written: its draft prompt, which says
  // the topic twice beside six quotable sentences, failed as "prompt of 1170 tokens does not fit
  // the context of 1024"; the worst-ranked sentences and then the topic's repetition give way.
  const std::string unit = "中国AI Agent市场规模与增长，DeepSeek 对英伟达与算力需求的影响，";
  std::string long_topic;
  for (int chars = 0; chars < 500;) {  // 500 code points of `unit` repeated
    for (size_t at = 0; at < unit.size() && chars < 500; ++chars) {
      const unsigned char lead = static_cast<unsigned char>(unit[at]);
      const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      long_topic += unit.substr(at, length);
      at += length;
    }
  }
  RunT long_run = WaitForEnd(StartRun("report", {{"topic", long_topic}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(long_run.state(), RUN_STATE_SUCCEEDED) << long_run.error();
  EXPECT_GE(long_run.artifact().references_size(), 1) << long_run.artifact().content();
  // A question's sections are on what it asks of its subject ("团队", "成员", "高校"), not on its
  // subject, which every source's title names: "FP8 训练混合精度框架", "DeepSeek 发展历程" and
  // "游戏企业主要关注 AIGC 在哪些方面的应用" (through "主要") followed the team's universities.
  RunT team = WaitForEnd(StartRun("report", {{"topic", "DeepSeek 团队成员主要来自哪些高校？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(team.state(), RUN_STATE_SUCCEEDED) << team.error();
  EXPECT_THAT(team.artifact().content(), HasSubstr("清华大学、北京大学"));
  for (const char* off : {"## FP8", "## DeepSeek 发展历程", "## 游戏企业"}) {
    EXPECT_THAT(team.artifact().content(), ::testing::Not(HasSubstr(off))) << team.artifact().content();
  }
  // A source's own numbering is not the report's: "3.1 电影市场：经营恢复正常，业务逐步复苏" headed a
  // report's second section.
  RunT numbered = WaitForEnd(StartRun("report", {{"topic", "2023年全年电影票房收入有多少亿元？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(numbered.state(), RUN_STATE_SUCCEEDED) << numbered.error();
  EXPECT_THAT(numbered.artifact().content(), HasSubstr("\n## 电影市场：经营恢复正常，业务逐步复苏\n")) << numbered.artifact().content();
  EXPECT_THAT(numbered.artifact().content(), ::testing::Not(::testing::ContainsRegex("## [0-9]+\\.[0-9]")))
      << numbered.artifact().content();
  // Nor is a line that lists names a heading: "中际旭创、新易盛、光迅科技、华工科技、剑桥科技、天孚通信等"
  // headed the network-equipment makers under a question on 中际旭创's share price.
  RunT listed = WaitForEnd(StartRun("report", {{"topic", "中际旭创股价在1月27日下跌了多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(listed.state(), RUN_STATE_SUCCEEDED) << listed.error();
  EXPECT_THAT(listed.artifact().content(), HasSubstr("中际旭创1月27 日下跌约 10%")) << listed.artifact().content();
  EXPECT_THAT(listed.artifact().content(), ::testing::Not(HasSubstr("## 中际旭创、"))) << listed.artifact().content();
  // A name no source mentions is said first: a Latin one anywhere, the Han characters a question
  // opens on ("网易在…": the key findings quoted DeepSeek's FP8 framework and "公司发布首个开源文本
  // 大模型" as if they answered). One glued to a figure ("2029Elo") is mentioned, and so is one
  // whose first characters a source has ("台积电股价…": "台积电（TSM.US）股价大跌 13%").
  for (const auto& [question, missing] : std::vector<std::pair<std::string, std::string>>{
           {"Tesla 在 AI Agent 市场的份额是多少？", "Tesla"}, {"DeepSeek-R1 在 Codeforces 上的 Elo 评级是多少？", ""},
           // (lower-case Latin words are no names in a Chinese question; "GPUs" is "GPU")
           {"DeepSeek-V3 训练用了多少 GPUs hours？", ""},
           {"网易在AI大模型上做了什么？", "网易"}, {"1月27日台积电股价跌了多少？", ""}}) {
    RunT asked = WaitForEnd(StartRun("report", {{"topic", question}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(asked.state(), RUN_STATE_SUCCEEDED) << asked.error();
    const std::string& report = asked.artifact().content();
    if (!missing.empty()) {
      EXPECT_THAT(report, HasSubstr("## 核心结论\n\n检索到的资料均未提及 " + missing + "，以下摘录的是资料中与问题最接近的内容。\n\n"))
          << report;
    } else {
      EXPECT_THAT(report, ::testing::Not(HasSubstr("未提及"))) << report;
    }
  }
  // "全年累计票房约425亿元…" is the year's box office of the sentence before it ("2024年，国内电影产业降温
  // 明显。"), which is quoted first: the key findings opened on 特效厅's share of it.
  RunT box_office = WaitForEnd(StartRun("report", {{"topic", "2024年国内电影全年票房是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(box_office.state(), RUN_STATE_SUCCEEDED) << box_office.error();
  EXPECT_THAT(box_office.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\n2024年，国内电影产业降温明显。\\[1\\]全年累计票房约425亿元"))
      << box_office.artifact().content();
  // The count of game licences follows a figure's source line ("资料来源：…山西证券研究所"), which
  // took it into the page furniture that is dropped: it was never offered.
  RunT licences = WaitForEnd(StartRun("report", {{"topic", "2024年前5月累计发放了多少个游戏版号？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(licences.state(), RUN_STATE_SUCCEEDED) << licences.error();
  EXPECT_THAT(licences.artifact().content(), HasSubstr("## 核心结论\n\n2024年版号发行延续常态化趋势，前5月累计发放524个。"))
      << licences.artifact().content();
  // Past the answer, another passage's sentence shares two of the question's keys: the box office
  // of 2023 and of 2024's first five months had followed it through "累计" alone.
  EXPECT_THAT(licences.artifact().content(), ::testing::Not(HasSubstr("548.47"))) << licences.artifact().content();
  // An amount in a year that no key sentence gives beside that year is said not to be answered:
  // the source says only that the 2025 festival set a record, and the report had quoted the 2024
  // special halls' takings as if they answered. Questions answered keep no such notice.
  RunT record = WaitForEnd(StartRun("report", {{"topic", "2025年春节档总票房是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(record.state(), RUN_STATE_SUCCEEDED) << record.error();
  EXPECT_THAT(record.artifact().content(), HasSubstr("## 核心结论\n\n检索到的资料未直接回答这一问题，以下摘录的是资料中与问题最接近的内容。"))
      << record.artifact().content();
  for (const RunT* answered : {&box_office, &licences}) {
    EXPECT_THAT(answered->artifact().content(), ::testing::Not(HasSubstr("未直接回答"))) << answered->artifact().content();
  }
  // A measure of the whole ("行业毛利率为67.8%") is no sector's, whatever its passage names: it had
  // stood as 影视院线's, which the sources do not give.
  RunT sector_margin = WaitForEnd(StartRun("report", {{"topic", "2024年一季度影视院线板块的毛利率是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(sector_margin.state(), RUN_STATE_SUCCEEDED) << sector_margin.error();
  EXPECT_THAT(sector_margin.artifact().content(), HasSubstr("## 核心结论\n\n检索到的资料未直接回答这一问题")) << sector_margin.artifact().content();
  // By how much it fell is a change: the decline answers, not the halls' share of the total.
  RunT fell = WaitForEnd(StartRun("report", {{"topic", "2024年全国电影总票房较2023年下降了多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(fell.state(), RUN_STATE_SUCCEEDED) << fell.error();
  EXPECT_THAT(fell.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\n2024年，国内电影产业降温明显。\\[1\\]全年累计票房约425亿元.*降幅 22.6%"))
      << fell.artifact().content();
  // Asked as "全国电影总票房", the year's box office still answers: the halls' "约占国内电影总票房的20%"
  // holds those words but states the halls' takings (a whole a sentence gives a share of is not
  // what it states), and the passage with the answer, whose PDF lines broke "累计票房", is found
  // (lexical version 5 reads Chinese on across the break).
  RunT total = WaitForEnd(StartRun("report", {{"topic", "2024年全国电影总票房是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(total.state(), RUN_STATE_SUCCEEDED) << total.error();
  EXPECT_THAT(total.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\n2024年，国内电影产业降温明显。\\[1\\]全年累计票房约425亿元"))
      << total.artifact().content();
  // "AI芯片" is a kind of chip: the 光芯片 market (a section's heading, a key finding) and the AI
  // Agent market's 2023 size followed the AI chip market's.
  RunT chips = WaitForEnd(StartRun("report", {{"topic", "2023年中国AI芯片行业规模是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(chips.state(), RUN_STATE_SUCCEEDED) << chips.error();
  EXPECT_THAT(chips.artifact().content(), HasSubstr("2023 年中国 AI 芯片行业规模达人民币1,206 亿元")) << chips.artifact().content();
  for (const char* off : {"光芯片", "AI Agent 市场规模"}) {
    EXPECT_THAT(chips.artifact().content(), ::testing::Not(HasSubstr(off))) << chips.artifact().content();
  }
  // A question why is answered by the sentence naming its causes ("…等因素共同影响传媒指数走势"): the
  // key findings had opened on the film market's recovery, which shares "2024 年上半年".
  RunT index = WaitForEnd(StartRun("report", {{"topic", "为什么2024年上半年传媒指数下跌？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(index.state(), RUN_STATE_SUCCEEDED) << index.error();
  EXPECT_THAT(index.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\n]*等因素共同影响传媒指数走势。\\[1\\]"))
      << index.artifact().content();
  // A topic answered by a list's announcement opens on it and the list's first item: the section's
  // heading, the announcement and the item had run on as one sentence, never offered, and the key
  // findings opened on GPU interconnect ("在通信方面，…降低通信开销").
  RunT telecom = WaitForEnd(StartRun("report", {{"topic", "DeepSeek对通信行业的影响"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(telecom.state(), RUN_STATE_SUCCEEDED) << telecom.error();
  EXPECT_THAT(telecom.artifact().content(), HasSubstr("## 核心结论\n\n我们认为 DeepSeek 对通信行业的推动作用主要体现在两方面："))
      << telecom.artifact().content();
  // A comparison only a table gives is quoted from it, with the columns the question names
  // ("DeepSeek-V3" is the header's "DeepSeekV3"): the key findings had quoted no figure.
  RunT compared = WaitForEnd(StartRun("report", {{"topic", "DeepSeek-V3和GPT-4的训练成本相比如何？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(compared.state(), RUN_STATE_SUCCEEDED) << compared.error();
  EXPECT_THAT(compared.artifact().content(), HasSubstr("| 训练成本 | 6300 万美元 | 557.6 万美元 |")) << compared.artifact().content();
  // A question of one version is answered by that version's sentence: R1's price ("DeepSeek-R1 API
  // 服务定价为…16 元") opened the report on V3's.
  RunT v3 = WaitForEnd(StartRun("report", {{"topic", "DeepSeek-V3的API服务价格是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(v3.state(), RUN_STATE_SUCCEEDED) << v3.error();
  EXPECT_THAT(v3.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\n]*每百万输出 tokens 8 元。\\[1\\]"))
      << v3.artifact().content();
  // An amount of a whole year that the best sentences give only for a part of it ("2024 年前 5 月"),
  // or for another measure (the box office under a company's revenue), is said not to be answered.
  // So is one of a company the sources name only in lists of stocks (万达电影), which 上海电影's
  // "公司…实现票房收入 6.32 亿元" had answered unwarned; 上海电影's own question keeps no notice.
  // And a share no sentence gives (the sources list the top five, no shares: "…12%左右" of AI
  // investment had stood as 华为云's), a count of staff no sentence states, a film's box office
  // the sources never give (they list it among the festival's films).
  for (const char* unanswered : {"寒武纪2024年的营业收入是多少？", "2024年全国电影观影总人次是多少？", "2024年万达电影的票房收入是多少？",
                                 "2023年华为云在中国公有云IaaS市场的份额是多少？", "DeepSeek公司有多少名员工？",
                                 "《哪吒之魔童闹海》的票房是多少？",
                                 // A month the sources do not give: April's 224.32亿元 had stood as May's.
                                 "2024年5月中国游戏市场实际销售收入是多少？",
                                 // A version they give no figure of: V3's subjectless "完整训练仅需 278.8 万 H800
                                 // GPU 小时" had stood as R1's, beside a table whose R1 column is all "-".
                                 "DeepSeek-R1的训练用了多少H800 GPU小时？",
                                 // A year a table's header of years lacks: its rows of 2023 to 2028E had
                                 // stood as the answer.
                                 "2030年中国AI Agent市场规模预计是多少？",
                                 // A count of a holder no key sentence names: CINITY's 180 halls had
                                 // stood as 杜比's.
                                 "截至2024年底国内已开业的杜比影院有多少家？"}) {
    RunT run = WaitForEnd(StartRun("report", {{"topic", unanswered}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    EXPECT_THAT(run.artifact().content(), HasSubstr("## 核心结论\n\n检索到的资料未直接回答这一问题")) << run.artifact().content();
  }
  // A day without its year is of its passage's year: "截至6月25日，传媒行业各子板块累计跌幅分别为：…"
  // answers 2024's question without a notice.
  RunT declines = WaitForEnd(StartRun("report", {{"topic", "截至2024年6月25日，影视院线子板块今年累计跌幅是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(declines.state(), RUN_STATE_SUCCEEDED) << declines.error();
  EXPECT_THAT(declines.artifact().content(), HasSubstr("影视院线-19.7%")) << declines.artifact().content();
  EXPECT_THAT(declines.artifact().content(), ::testing::Not(HasSubstr("未直接回答"))) << declines.artifact().content();
  // V3's own question keeps no notice.
  RunT v3_hours = WaitForEnd(StartRun("report", {{"topic", "DeepSeek-V3完整训练用了多少H800 GPU小时？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(v3_hours.state(), RUN_STATE_SUCCEEDED) << v3_hours.error();
  EXPECT_THAT(v3_hours.artifact().content(), HasSubstr("278.8 万 H800 GPU 小时")) << v3_hours.artifact().content();
  EXPECT_THAT(v3_hours.artifact().content(), ::testing::Not(HasSubstr("未直接回答"))) << v3_hours.artifact().content();
  // A rate asked is answered by the sentence giving it, read after the one naming its industry
  // and quarter ("行业毛利率为 67.8%…" after "2024 年一季度，传媒行业实现营收…"), without a notice.
  RunT margin = WaitForEnd(StartRun("report", {{"topic", "2024年一季度传媒行业的毛利率是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(margin.state(), RUN_STATE_SUCCEEDED) << margin.error();
  EXPECT_THAT(margin.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\\[\n]*传媒行业实现营收[^\\[\n]*\\[1\\]行业毛利率为"))
      << margin.artifact().content();
  EXPECT_THAT(margin.artifact().content(), ::testing::Not(HasSubstr("未直接回答"))) << margin.artifact().content();
  // A figure the longer sentence before it lacks is no restatement of it: "10G光芯片国产化率约60%；"
  // had gone as the 2.5G clause's, and came after it only as the clause it announces.
  RunT ten_g = WaitForEnd(StartRun("report", {{"topic", "10G光芯片的国产化率是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(ten_g.state(), RUN_STATE_SUCCEEDED) << ten_g.error();
  EXPECT_THAT(ten_g.artifact().content(), HasSubstr("## 核心结论\n\n10G光芯片国产化率约60%；[1]")) << ten_g.artifact().content();
  // A "why" whose best-ranked sentence restates what it asks about ("…并不广泛接受。") keeps the
  // causes ranked after it, with the sentence their "他们" names.
  RunT cloud = WaitForEnd(StartRun("report", {{"topic", "为什么大语言模型单纯云端部署不被广泛接受？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(cloud.state(), RUN_STATE_SUCCEEDED) << cloud.error();
  EXPECT_THAT(cloud.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\n[^\n]*88%的参与者倾向于[^\n]*\\[[0-9]\\]他们的主要担忧是："))
      << cloud.artifact().content();
  // And one whose clauses lead up to the asked fact without a causal word answers the "why"
  // ("目前由于良率和损耗问题…", a cause of another fact, had opened the report).
  RunT power = WaitForEnd(StartRun("report", {{"topic", "为什么降功耗成为光模块技术发展的核心诉求？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(power.state(), RUN_STATE_SUCCEEDED) << power.error();
  EXPECT_THAT(power.artifact().content(), HasSubstr("## 核心结论\n\n据统计 2010-2022 年全球数通光模块的整体功耗提升了 26 倍"))
      << power.artifact().content();
  // (The question's modal verb is no part of the fact: "…大幅提升效率, 降低推理成本。" answers
  // "为什么MLA机制能降低推理成本？".)
  RunT mla = WaitForEnd(StartRun("report", {{"topic", "为什么MLA机制能降低推理成本？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(mla.state(), RUN_STATE_SUCCEEDED) << mla.error();
  EXPECT_THAT(mla.artifact().content(), HasSubstr("## 核心结论\n\nMLA 的核心思想是将键和值向量的计算分解成两个步骤")) << mla.artifact().content();
  // A month asked is answered by a sentence of that month: "截至6月25日…等因素共同影响传媒指数走势" had
  // opened the report on January's fall, its cause third.
  RunT january = WaitForEnd(StartRun("report", {{"topic", "为什么2024年1月传媒指数走势低迷？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(january.state(), RUN_STATE_SUCCEEDED) << january.error();
  EXPECT_THAT(january.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\\[\n]*1月份因股市整体表现不佳"))
      << january.artifact().content();
  // A share asked "在…中分别占" is the named thing's: "全球 2%的高端特效厅产出的票房占整体的 25%以上。"
  // had counted as another holder's (the wholes were read as part of the holder) and gone.
  RunT premium = WaitForEnd(StartRun("report", {{"topic", "全球高端特效厅在影厅数量和票房中分别占多大比例？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(premium.state(), RUN_STATE_SUCCEEDED) << premium.error();
  EXPECT_THAT(premium.artifact().content(), HasSubstr("## 核心结论\n\n全球 2%的高端特效厅产出的票房占整体的 25%以上。"))
      << premium.artifact().content();
  // A heading sharing only "整体" (overall) with the question is on another subject: "2024 年原生
  // APP 整体月活跃用户规模及同比增速" had headed a section of an optics question.
  RunT power_growth = WaitForEnd(StartRun("report", {{"topic", "2010-2022年全球数通光模块的整体功耗提升了多少倍？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(power_growth.state(), RUN_STATE_SUCCEEDED) << power_growth.error();
  EXPECT_THAT(power_growth.artifact().content(), HasSubstr("26 倍")) << power_growth.artifact().content();
  EXPECT_THAT(power_growth.artifact().content(), ::testing::Not(HasSubstr("原生 APP"))) << power_growth.artifact().content();
  // "当时" is the time the sentence before names: "当时由于国内仅有十多个 IMAX 影厅…" was quoted
  // without "2010年《阿凡达》在国内上映…", which says when.
  RunT imax = WaitForEnd(StartRun("report", {{"topic", "2019年国内IMAX影厅票房是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(imax.state(), RUN_STATE_SUCCEEDED) << imax.error();
  // And what a report shows against the sentence before is quoted from its fact: "但报告显示，" had
  // made the answer lean on the praise of IMAX before it.
  EXPECT_THAT(imax.artifact().content(), HasSubstr("## 核心结论\n\n国内 IMAX影厅的票房已从2019年的24.3亿元")) << imax.artifact().content();
  const std::string& imax_report = imax.artifact().content();
  if (imax_report.find("当时由于") != std::string::npos) {
    EXPECT_THAT(imax_report, ::testing::ContainsRegex("3D电影体验。\\[[0-9]+\\]当时由于")) << imax_report;
  }
  // What a term is: the definition opens ("正是特效厅在市场份额上的贡献…", a cinema chain's words,
  // had), and one through "其" comes with the sentence naming the term.
  RunT defined = WaitForEnd(StartRun("report", {{"topic", "什么是特效厅？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(defined.state(), RUN_STATE_SUCCEEDED) << defined.error();
  EXPECT_THAT(defined.artifact().content(), HasSubstr("## 核心结论\n\n特效厅又称特殊厅，是包括巨幕厅")) << defined.artifact().content();
  // A long definition opens above the short sentences that only name the term, however it is
  // asked; its passage is searched for as a definition is written ("AI Agent 是一种…").
  for (const char* asked : {"什么是AI Agent？", "AI Agent是什么？"}) {
    RunT agent = WaitForEnd(StartRun("report", {{"topic", asked}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(agent.state(), RUN_STATE_SUCCEEDED) << agent.error();
    EXPECT_THAT(agent.artifact().content(), HasSubstr("## 核心结论\n\nAI Agent 是一种能自主感知周遭环境")) << agent.artifact().content();
  }
  RunT jevons = WaitForEnd(StartRun("report", {{"topic", "什么是杰文斯悖论？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(jevons.state(), RUN_STATE_SUCCEEDED) << jevons.error();
  EXPECT_THAT(jevons.artifact().content(), ::testing::ContainsRegex("“杰文斯悖论”来解释这一现象：[^\n]*\\[1\\]其核心观点为："))
      << jevons.artifact().content();
  // A list asked: the named thing's own list opens (not a sibling's, "天工 AI 搜索…特点包括："),
  // and an announcement ending its line after a sentence comes with its items.
  RunT music = WaitForEnd(StartRun("report", {{"topic", "天工SkyMusic有哪些特点？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(music.state(), RUN_STATE_SUCCEEDED) << music.error();
  EXPECT_THAT(music.artifact().content(), HasSubstr("## 核心结论\n\n天工 SkyMusic 的特点包括：1)")) << music.artifact().content();
  // A list's items are alike in wording: novelty counts little for a question asking which (the
  // clause naming 沐曦 and 摩尔线程 went fourth, behind the cloud vendors, and out of the report).
  RunT gpus = WaitForEnd(StartRun("report", {{"topic", "哪些国产GPU厂商宣布适配或部署DeepSeek模型？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(gpus.state(), RUN_STATE_SUCCEEDED) << gpus.error();
  {
    const std::string& report = gpus.artifact().content();
    const size_t findings = report.find("## 核心结论"), next = report.find("\n## ", findings + 1);
    ASSERT_NE(findings, std::string::npos) << report;
    EXPECT_THAT(report.substr(findings, next - findings), HasSubstr("国产GPU厂商沐曦宣布与DeepSeek的合作")) << report;
  }
  RunT search = WaitForEnd(StartRun("report", {{"topic", "天工AI搜索有哪些技术特点？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(search.state(), RUN_STATE_SUCCEEDED) << search.error();
  EXPECT_THAT(search.artifact().content(),
              HasSubstr("## 核心结论\n\n天工 AI 搜索呈现的具体特点包括：[1]引入跨语言检索技术（CLIR）"))
      << search.artifact().content();
  EXPECT_THAT(search.artifact().content(), HasSubstr("[1]在理解用户搜索指令时，")) << search.artifact().content();
  // An example with more of the question than its claim is quoted without the claim ("…推理的需求
  // 规模往往是训练需求的 5-10 倍", another 规模, had opened "豆包的用户规模"); a sentence leaning on a
  // table's cells ("该耳机接入了…") is not quoted.
  RunT doubao = WaitForEnd(StartRun("report", {{"topic", "豆包的用户规模"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(doubao.state(), RUN_STATE_SUCCEEDED) << doubao.error();
  EXPECT_THAT(doubao.artifact().content(), HasSubstr("## 核心结论\n\n以字节为例，根据 QuestMobile 的数据")) << doubao.artifact().content();
  EXPECT_THAT(doubao.artifact().content(), ::testing::Not(HasSubstr("该耳机"))) << doubao.artifact().content();
  RunT shanghai = WaitForEnd(StartRun("report", {{"topic", "2023年上海电影的票房收入是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(shanghai.state(), RUN_STATE_SUCCEEDED) << shanghai.error();
  EXPECT_THAT(shanghai.artifact().content(), HasSubstr("## 核心结论\n\n2023 年，上海电影实现票房收入 6.32 亿元"))
      << shanghai.artifact().content();
  // What "前述报告显示，" (the report named before) shows is quoted without the pointer: CINITY's
  // box office had never been quoted, the special halls' share opening the report.
  RunT cinity = WaitForEnd(StartRun("report", {{"topic", "2024年CINITY特效厅票房比2019年增长了多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(cinity.state(), RUN_STATE_SUCCEEDED) << cinity.error();
  EXPECT_THAT(cinity.artifact().content(), HasSubstr("## 核心结论\n\n2024年，中影CINITY品牌特效厅的票房达到 2.49亿元"))
      << cinity.artifact().content();
  // A sector's figure, not the whole industry's: the media industry's net profit opened the
  // report on 影视院线's, which the sentence listing the sectors' profit growth gives.
  RunT sector = WaitForEnd(StartRun("report", {{"topic", "2024年一季度影视院线板块归母净利润同比增长多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(sector.state(), RUN_STATE_SUCCEEDED) << sector.error();
  EXPECT_THAT(sector.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\\[\n]*\\[1\\]净利润增速分别为：[^\n]*影视院线\\+32.2%"))
      << sector.artifact().content();
  // A topic on what stands in the way opens on a difficulty, not on the sentence naming its
  // subject best (a list of China's models that ends on "端侧大模型主要以蔚来的 NOMI GPT 大模型为代表").
  RunT edge = WaitForEnd(StartRun("report", {{"topic", "端侧大模型部署的挑战"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(edge.state(), RUN_STATE_SUCCEEDED) << edge.error();
  EXPECT_THAT(edge.artifact().content(), ::testing::ContainsRegex("## 核心结论\n\n[^\\[\n]*困难重重。\\[1\\]"))
      << edge.artifact().content();
  // A sentence may open on a title's mark: the films were never quoted, "视效大片是推动特效厅市场
  // 发展的重要动力。" opening the report instead.
  RunT films = WaitForEnd(StartRun("report", {{"topic", "2025年春节档有哪些视效大片？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(films.state(), RUN_STATE_SUCCEEDED) << films.error();
  EXPECT_THAT(films.artifact().content(), HasSubstr("《射雕英雄传：侠之大者》《封神第二部：战火西岐》《哪吒之魔童闹海》等都是视效大片。"))
      << films.artifact().content();
  // A measure at an extreme without its subject ("月度平均发行数量位于2021年以来的最高值。") reads
  // with the licences' line before it: it had come third, after game revenue.
  RunT monthly = WaitForEnd(StartRun("report", {{"topic", "2024年游戏版号月均发放数量与往年相比怎么样？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(monthly.state(), RUN_STATE_SUCCEEDED) << monthly.error();
  EXPECT_THAT(monthly.artifact().content(),
              HasSubstr("## 核心结论\n\n2024年版号发行延续常态化趋势，前5月累计发放524个。[1]月度平均发行数量位于2021年以来的最高值。"))
      << monthly.artifact().content();
  // One thing's share is not another's: the memory chips' 10% of a server's cost opened the
  // report on the AI chips', which was never quoted.
  RunT share = WaitForEnd(StartRun("report", {{"topic", "AI算力芯片占AI服务器成本的比例是多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(share.state(), RUN_STATE_SUCCEEDED) << share.error();
  EXPECT_THAT(share.artifact().content(), HasSubstr("## 核心结论\n\n根据算力和服务器配置，AI 算力芯片大约占AI 服务器的 30%-60%。"))
      << share.artifact().content();
  // A chart's caption that shares only "变化" with the question heads no section of it.
  RunT games = WaitForEnd(StartRun("report", {{"topic", "2024年一季度游戏板块归母净利润同比变化多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(games.state(), RUN_STATE_SUCCEEDED) << games.error();
  EXPECT_THAT(games.artifact().content(), ::testing::Not(HasSubstr("上座率"))) << games.artifact().content();
  // How it changed is answered by the change with its figures, under the source's 资本支出.
  RunT capex = WaitForEnd(StartRun("report", {{"topic", "美国四大互联网厂商的资本开支增速在2024年怎么变化？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(capex.state(), RUN_STATE_SUCCEEDED) << capex.error();
  EXPECT_THAT(capex.artifact().content(), HasSubstr("## 核心结论\n\n根据我们的跟踪，从季度频率看，这四家公司资本支出同比增速"))
      << capex.artifact().content();
  // Why the special halls' box office fell is said by someone of the decline the sentence before
  // states ("这一方面是因为…"): read with it, it answers first; the key findings had opened on the
  // halls' 85.3亿元 and a "由于" sentence that gives no reason for a decline. Its other side
  // ("另一方面，…") follows it.
  RunT why = WaitForEnd(StartRun("report", {{"topic", "为什么2024年特效厅票房下降？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(why.state(), RUN_STATE_SUCCEEDED) << why.error();
  EXPECT_THAT(why.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\n相较于整体票房，特效厅去年的票房也整体下降23.4%。\\[1\\]"
                                       "有业内人士向记者表示，这一方面是因为好莱坞巨制[^\\[]*\\[1\\]另一方面，行业下行期"))
      << why.artifact().content();
  // A difference is told by a sentence on each of the two, not by the one naming both as one
  // ("公司在开源 DeepSeek-R1-Zero 和 DeepSeek-R1 两个 660B 模型的同时…" had opened the report, the
  // distilled models' benchmark rows after it).
  RunT difference = WaitForEnd(StartRun("report", {{"topic", "DeepSeek-R1-Zero和DeepSeek-R1有什么区别？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(difference.state(), RUN_STATE_SUCCEEDED) << difference.error();
  EXPECT_THAT(difference.artifact().content(),
              ::testing::ContainsRegex("## 核心结论\n\nDeepSeek-R1-Zero 直接用强化学习训练基座模型[^\\[\n]*\\[1\\]DeepSeek-R1 通过冷启动数据"))
      << difference.artifact().content();
  EXPECT_THAT(difference.artifact().content(), ::testing::Not(HasSubstr("Distill"))) << difference.artifact().content();
  // One tier of the export rules is not another: the third tier's sentence ("中国为该新规中定义的
  // 第三类国家") opened the report on the second's limit; and the rules' table, set line by line in
  // the PDF's text, gave two sections their headings, one cut inside a character ("第一类 盟友，
  // 可以不受限制地获" lost its "第" and half of "类" to the heading's numbering).
  RunT tier = WaitForEnd(StartRun("report", {{"topic", "美国AI芯片出口管制框架下第二类国家最多可以获得多少算力？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(tier.state(), RUN_STATE_SUCCEEDED) << tier.error();
  EXPECT_THAT(tier.artifact().content(), HasSubstr("## 核心结论\n\n每个第二类国家或地区最多可以获得 7.9 亿 TPP")) << tier.artifact().content();
  EXPECT_THAT(tier.artifact().content(), ::testing::Not(HasSubstr("盟友"))) << tier.artifact().content();
  EXPECT_TRUE(IsValidUtf8(tier.artifact().content())) << tier.artifact().content();
  // A conclusion that names its own cause is quoted from past its "因此，": leaning on it, the one
  // sentence saying why had not been quoted at all.
  RunT gap = WaitForEnd(StartRun("report", {{"topic", "为什么此前市场认为中国AI大模型能力与美国存在差距？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(gap.state(), RUN_STATE_SUCCEEDED) << gap.error();
  EXPECT_THAT(gap.artifact().content(), HasSubstr("## 核心结论\n\n在 DeepSeek 出现之前，市场普遍认为受制于最先进 AI 算力芯片的限制"))
      << gap.artifact().content();
  // Two things compared: the sentence comparing them ("…比 DeepSeekV2 的…", after "同时 " and
  // without V2's hyphen) opens; Skywork-MoE's own figures had, the comparison never quoted.
  RunT skywork = WaitForEnd(StartRun("report", {{"topic", "Skywork-MoE与DeepSeek-V2的总参数量相比如何？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(skywork.state(), RUN_STATE_SUCCEEDED) << skywork.error();
  EXPECT_THAT(skywork.artifact().content(), HasSubstr("## 核心结论\n\nSkywork-MoE 的总参数大小比 DeepSeekV2 的总参数大小要小 1/3"))
      << skywork.artifact().content();
  // A forecast asked by whose it is: LightCounting's opens, the market's size told as the money it
  // reaches, and no notice (中商产业研究院's forecast of another market had opened, under one).
  RunT forecast = WaitForEnd(StartRun("report", {{"topic", "LightCounting预测2029年400G+光模块市场规模将达到多少？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(forecast.state(), RUN_STATE_SUCCEEDED) << forecast.error();
  EXPECT_THAT(forecast.artifact().content(), HasSubstr("## 核心结论\n\nLightCounting 预测，到 2029 年，400G+市场")) << forecast.artifact().content();
  // A question naming a report's issuer is on that report: the risks it lists open, not another
  // brokerage's (华龙's came in the second section, 银河's first; 浦银国际's answer was a legal
  // notice of 华龙's; a company's risks set in bold were dropped as stray markup). The references
  // name the institute, as a citation of a research report does.
  for (const auto& [topic, says] : std::vector<std::pair<std::string, std::string>>{
           {"华龙证券的报告列出了哪些风险提示？", "## 核心结论\n\n**风险提示：**市场需求增长不及预期"},
           {"浦银国际报告列出了哪些投资风险？", "## 核心结论\n\n投资风险： 全球，包括中国和美国"},
           {"山西证券报告对昆仑万维提示了哪些公司风险？", "**昆仑万维：**AIGC 发展不及预期"}}) {
    RunT issued = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(issued.state(), RUN_STATE_SUCCEEDED) << issued.error();
    const std::string& report = issued.artifact().content();
    EXPECT_THAT(report.substr(0, report.find("\n## ", report.find("## 核心结论") + 1)), HasSubstr(says)) << report;
    EXPECT_THAT(report, ::testing::Not(HasSubstr("法律责任"))) << report;
    if (topic.starts_with("华龙")) {
      EXPECT_THAT(report, HasSubstr("[1] 华龙证券研究所《DeepSeek 重塑 AI 产业格局")) << report;
    }
  }
  // What a term is, by an appositive ("Koala Editor，一个零代码的游戏编辑器"): "Koala Editor 里还配备有…"
  // had opened.
  RunT term = WaitForEnd(StartRun("report", {{"topic", "什么是Koala Editor？"}, {"collection", "reports"}}).run_id());
  ASSERT_EQ(term.state(), RUN_STATE_SUCCEEDED) << term.error();
  EXPECT_THAT(term.artifact().content(), HasSubstr("## 核心结论\n\n游戏核心组成部分是 Koala Editor，一个零代码的游戏编辑器")) << term.artifact().content();
  // Answered, so no notice: a count in words ("十多个"), a year in two digits ("24 年 12 月").
  for (const std::string topic : {"2010年《阿凡达》在国内上映时有多少个IMAX影厅？", "2024年12月AI原生APP的月活跃用户规模是多少？",
                                  "截至2024年底国内已开业的CINITY影厅有多少个？"}) {
    RunT answered = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "reports"}}).run_id());
    ASSERT_EQ(answered.state(), RUN_STATE_SUCCEEDED) << answered.error();
    EXPECT_THAT(answered.artifact().content(), ::testing::Not(HasSubstr("未直接回答"))) << answered.artifact().content();
  }
}

// A Chinese topic's report stays on the topic: its sections are on what it asks of its subject
// (not any heading of a report whose title names DeepSeek), a section's sentences share one of the
// topic's words, and another kind of what the topic names (光芯片 beside "AI 芯片") is left out. Key
// findings with no section beside them quote twice a section's share. A risk notice is quoted
// only when risks are asked for.
TEST_F(AgentServiceTest, TopicReportsInChineseStayOnTheTopic) {
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  IngestAllSeeds();
  auto report_on = [&](const std::string& topic) {
    RunT run = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "reports"}}).run_id());
    EXPECT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    return run.artifact().content();
  };
  const std::string users = report_on("DeepSeek 应用的用户增长与下载表现");
  EXPECT_THAT(users, ::testing::Not(HasSubstr("## DeepSeek-V3 实现多项评测成绩领先"))) << users;
  for (const char* fact : {"18 天内的下载量达到1600万次", "140 个市场", "环比 375%的增长"}) {
    EXPECT_THAT(users, HasSubstr(fact)) << users;
  }
  const std::string chips = report_on("国产 AI 芯片与 GPU 厂商对 DeepSeek 的适配");
  EXPECT_THAT(chips, HasSubstr("海光AI加速卡DCU的适配")) << chips;
  EXPECT_THAT(chips, HasSubstr("DeepSeek-R1/V3 支持华为昇腾平台及 MindIE 引擎")) << chips;
  EXPECT_THAT(chips, ::testing::Not(HasSubstr("光芯片"))) << chips;
  const std::string capex = report_on("中国互联网巨头 AI 资本开支与 AI 基建周期");
  EXPECT_THAT(capex, HasSubstr("## 中国将正式开启 AI 基建超级周期")) << capex;
  EXPECT_THAT(capex, ::testing::Not(HasSubstr("电影"))) << capex;
  // A claim borne out two sentences on by a named source's figures brings them; the giants'
  // budgets bring their total.
  EXPECT_THAT(capex, HasSubstr("但投资力度差异显著。[")) << capex;
  EXPECT_THAT(capex, HasSubstr("根据 CB Insights 数据，2023 年中国 AI 市场的总投资额只有美国的 12%左右。")) << capex;
  EXPECT_THAT(capex, ::testing::ContainsRegex("都主要围绕 AI 开展基础设施建设。\\[[0-9]+\\]中国互联网巨头的整体资本支出")) << capex;
  // A section for each listed subject, on what the topic asks of it: a subject's name is in
  // sentences on anything else ("光模块加驱动 SerDes 的功耗占比…" under 光模块's market size).
  const std::string listed = report_on("光模块、光芯片与服务器的市场规模");
  const size_t chip_section = listed.find("\n## 光芯片\n"), module_section = listed.find("\n## 光模块\n");
  ASSERT_NE(chip_section, std::string::npos) << listed;
  ASSERT_NE(module_section, std::string::npos) << listed;
  EXPECT_THAT(listed.substr(chip_section, listed.find("\n## ", chip_section + 1) - chip_section),
              HasSubstr("2023年中国光芯片市场规模约为137.62亿元")) << listed;
  EXPECT_THAT(listed.substr(module_section, listed.find("\n## ", module_section + 1) - module_section),
              ::testing::Not(HasSubstr("功耗"))) << listed;
  // A milestone quoted for a later sentence naming it comes before that one ("“天工 3.0”在语义理解…"
  // had come without its release), and a sentence right before a list's announcement in its
  // source comes before it, not between the list's items.
  const std::string tiangong = report_on("昆仑万维天工大模型与 AI 业务布局");
  const size_t release = tiangong.find("公司发布“天工 3.0”大模型"), later = tiangong.find("“天工 3.0”在语义理解");
  ASSERT_NE(later, std::string::npos) << tiangong;
  EXPECT_LT(release, later) << tiangong;
  const size_t since_2020 = tiangong.find("公司自 2020 年开始关注大模型"), list = tiangong.find("发展历程如下:");
  ASSERT_NE(list, std::string::npos) << tiangong;
  EXPECT_LT(since_2020, list) << tiangong;
  // "需求" frames a topic (a section on software services' demand had come through it alone), and
  // a parallel claim two sentences on comes with its figures (the power supply's share).
  const std::string energy = report_on("AI 数据中心的能耗与电力需求");
  EXPECT_THAT(energy, HasSubstr("其中，供电系统占比约 69%，制冷系统占比约 18%。")) << energy;
  EXPECT_THAT(energy, ::testing::Not(HasSubstr("软件服务业务需求"))) << energy;
  // Two subjects before one framing share it: the key findings also search "光模块市场前景" (the
  // power share of 51.2T switches had stood there, the modules' outlook unasked).
  const std::string optics = report_on("光模块与光芯片市场前景");
  const size_t optics_findings = optics.find("## 核心结论"), optics_next = optics.find("\n## ", optics_findings + 1);
  ASSERT_NE(optics_findings, std::string::npos) << optics;
  EXPECT_THAT(optics.substr(optics_findings, optics_next - optics_findings),
              HasSubstr("使用基于 SiP 的光模块市场份额将从 2022 年的 24% 增加到 2028 年的 44%")) << optics;
  // The market's revenue brings the domestic games' share of it, the sentence after it.
  const std::string games = report_on("游戏行业收入走势与 AI 在游戏中的应用");
  EXPECT_THAT(games, ::testing::ContainsRegex("但仍为负值。\\[[0-9]+\\]国内市场仍为主要收入来源，2024年4月中国自主研发游戏国内市场"
                                              "实际销售收入181.16亿元")) << games;
  // A brokerage's risk notice is no finding of a report on the company's recovery: it had opened it.
  const std::string recovery = report_on("上海电影经营复苏与 IP 业务进展");
  EXPECT_THAT(recovery, HasSubstr("## 核心结论\n\n2023 年，上海电影实现票房收入 6.32 亿元")) << recovery;
  EXPECT_THAT(recovery, ::testing::Not(HasSubstr("不及预期"))) << recovery;
}

TEST_F(AgentServiceTest, EnglishReportsQuoteTheAnswerWholeAndStayOnTheQuestion) {
  // Under the quote constraint the model may spell a sentence in more tokens than the tokenizer
  // would: a budget of the candidates' own token counts cut the commuter survey's answer at
  // "respondents m…", and a quote without its "[n]" was dropped from the key findings.
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  IngestEnglish();
  RunT started = StartRun("report", {{"topic", "What would persuade drivers to use public transport?"}, {"collection", "english"}});
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  const std::string& content = run.artifact().content();
  EXPECT_NE(content.find("respondents most often named more frequent service (58%)"), std::string::npos) << content;

  // The key findings of a question answer it, not the rest of the answer's document nor another
  // document that shares a word of its framing with it.
  struct Case {
    std::string topic;
    std::vector<std::string> says, never;
  };
  const std::vector<Case> cases = {
      // By the title's words alone the CEO's career and the board's chair joined the supply risk.
      {"What supply risk does Harbor Robotics name?", {"The main risk named in the review is the supply of lidar sensors"},
       {"she ran", "The board is chaired"}},
      {"Who is the CEO of Harbor Robotics?", {"Maria Lindqvist has served as chief executive officer"},
       {"The order backlog stood", "a staff of 1,240"}},
      // "end" is when, not what: an inference price "between early 2023 and the end of 2024" came in.
      {"What was the arabica price at the end of 2024?", {"Arabica futures ended the year at $3.44 per pound"},
       {"llm_inference_costs.md", "output tokens"}},
      // A company's performance is told in its results: the key findings opened on its headcount
      // and its founding, and left the revenue out.
      {"Harbor Robotics business performance in 2024", {"Revenue for the year reached $312 million"},
       {"a staff of 1,240", "The company was founded in 2011"}},
      // Growth is told in changes: the growth half of this topic had brought the storage-site fires
      // (its words "storage" and a year) and not the doubling of installations.
      {"Grid battery storage growth and economics", {"almost double the 88 GWh added in 2023"}, {"Several fires"}},
      // "work" is how it is asked: a headcount "of whom about 700 work in engineering" and a
      // survey of "how people travel to work" followed the answer.
      {"How does speculative decoding work?", {"apply speculative decoding, in which a small draft proposes"},
       {"a staff of 1,240", "surveyed 8,400"}},
      // "roughly halves" is an amount: as a sentence without one, the answer had come under the
      // pre-training's GPU hours (which share "GPU").
      // "even faster" compares with the sentence before, quoted first; "prices" is what is asked,
      // not the subject: an inference price "for a model of comparable quality" had followed.
      {"How did robusta prices move compared with arabica in 2024?",
       {"## Key findings\n\nArabica futures ended the year at $3.44 per pound",
        "70% above where they started the year.[1] Robusta prices, which set the cost of most instant coffee, rose even faster"},
       {"output tokens", "battery"}},
      // A share is a percentage ("one bus every six minutes" came first), and "buses" is "bus".
      {"What share of commuters take the bus compared with the metro?",
       {"## Key findings\n\nBuses carry 23% of commuters, the metro 17%"}, {}},
      // An outlook is what is expected: the year's margin had come before the guidance.
      {"Harbor Robotics outlook", {"Management expects revenue growth between 18% and 22% next year."},
       {"The operating margin improved"}},
      {"How much does newer GPU hardware cut the cost per token?",
       {"## Key findings\n\nMoving the same model from an older accelerator to a current one roughly halves the cost per token"},
       {}},
      // A closing "and why" leaves the kind to the question before it: as a cause, "Overcapacity …
      // is the main reason" (why prices fell) had opened the report.
      {"What are most new grid batteries paired with, and why?",
       {"## Key findings\n\nMost of the new capacity is paired with solar farms"}, {"Overcapacity"}},
      // A superlative shared names nothing shared: the coffee inventories "fell to their lowest
      // level" had joined the punctuality score.
      {"Which aspect of public transport received the lowest satisfaction score?",
       {"## Key findings\n\nPunctuality received the lowest score of any aspect"}, {"arabica"}},
      // A difference asked: one side, then the other, and no notice ("costs" asked no amount here);
      // training's side had come fourth, after two sentences on serving.
      // "assemble" is "assembly"'s: the answer had not counted as naming what is asked.
      {"Where does Harbor Robotics assemble its machines?", {"moved assembly to a contract manufacturer in Gdansk"}, {}},
      // Where someone worked is where they came from, told of them: the company's founding "in
      // Rotterdam" had opened under a notice ("joined" had not named "joining"), and for the CEO the
      // CFO's "joined … from a logistics private-equity fund" did.
      {"Where did Tomas Berg work before joining Harbor Robotics?",
       {"## Key findings\n\nThe chief financial officer, Tomas Berg, joined in 2021 from a logistics private-equity fund."},
       {"None of the sources", "The company was founded"}},
      {"Where did Maria Lindqvist work before joining Harbor Robotics?",
       {"## Key findings\n\nMaria Lindqvist has served as chief executive officer since March 2019.[1] Before joining Harbor "
        "Robotics she ran the automation division of a Swedish forklift maker."},
       {}},
      // "the backlog" is the one the sentence before says is $540 million: quoted after it in a
      // topic's report; a question's answer opens, that sentence right after it. And "the
      // company" comes after the company is named (the topic does not name it): its
      // introduction had come last.
      {"Port automation demand in Southeast Asia",
       {"## Key findings\n\nHarbor Robotics designs autonomous straddle carriers and crane controllers for container "
        "ports.[1] The order backlog stood at $540 million at the end of December, the largest in the company's history.[2] "
        "Two thirds of the backlog comes from ports in Southeast Asia"},
       {}},
      {"Which part of the Harbor Robotics backlog comes from Southeast Asia?",
       {"## Key findings\n\nTwo thirds of the backlog comes from ports in Southeast Asia, where Singapore and Port Klang "
        "are expanding automated terminals.[1] The order backlog stood at $540 million"},
       {}},
      // Asked which, a comparison's own words answer: it opens, what it compares with after it.
      {"Which kind of coffee sets the cost of most instant coffee?",
       {"## Key findings\n\nRobusta prices, which set the cost of most instant coffee, rose even faster in relative "
        "terms.[1] Arabica futures ended the year at $3.44 per pound"},
       {}},
      // In their source's order: serving's "by contrast" after training's side.
      {"What is the difference between training and serving costs?",
       {"## Key findings\n\nTraining remains expensive but happens once.[1]",
        "Serving costs, by contrast, grow with every user, which is why providers invest so heavily in inference efficiency."},
       {"None of the sources"}},
      // Joined inside a phrase ("the costs of training and serving a language model"): training's
      // side had gone unquoted.
      {"How do the costs of training and serving a language model differ?",
       {"## Key findings\n\nTraining remains expensive but happens once.[1]", "Serving costs, by contrast, grow with every user"},
       {"None of the sources"}},
  };
  for (const Case& c : cases) {
    RunT asked = WaitForEnd(StartRun("report", {{"topic", c.topic}, {"collection", "english"}}).run_id());
    ASSERT_EQ(asked.state(), RUN_STATE_SUCCEEDED) << asked.error();
    const std::string& report = asked.artifact().content();
    const size_t findings = report.find("## Key findings"), next = report.find("\n## ", findings + 1);
    ASSERT_NE(findings, std::string::npos) << report;
    const std::string key_findings = report.substr(findings, next - findings);
    for (const std::string& text : c.says) EXPECT_THAT(key_findings, HasSubstr(text)) << report;
    for (const std::string& text : c.never) EXPECT_THAT(key_findings, ::testing::Not(HasSubstr(text))) << report;
    if (c.topic.starts_with("What was the arabica")) {
      for (const Reference& r : asked.artifact().references()) EXPECT_EQ(r.source().find("llm_inference"), std::string::npos) << report;
    }
  }
  // A topic asking one thing of several listed subjects has a section on each, quoting what is
  // asked of it there: searched as a whole, the battery report's deployment figures filled it,
  // and coffee's regulation and inventories (no source says "commodities") and Harbor Robotics'
  // lidar supplier were left out.
  {
    RunT listed = WaitForEnd(StartRun("report", {{"topic", "Supply bottlenecks and regulatory risks across commodities, "
                                                           "batteries and port automation"},
                                                 {"collection", "english"}}).run_id());
    ASSERT_EQ(listed.state(), RUN_STATE_SUCCEEDED) << listed.error();
    const std::string& report = listed.artifact().content();
    const auto section = [&report](const std::string& heading) {
      const size_t at = report.find("\n## " + heading + "\n");
      if (at == std::string::npos) return std::string();
      return report.substr(at + 1, report.find("\n## ", at + 1) - at - 1);
    };
    const std::string commodities = section("Commodities"), batteries = section("Batteries");
    EXPECT_THAT(commodities, HasSubstr("Certified arabica inventories")) << report;
    EXPECT_THAT(commodities, HasSubstr("A new European Union rule on deforestation-free supply chains")) << report;
    EXPECT_THAT(commodities, ::testing::Not(HasSubstr("lidar"))) << report;
    EXPECT_THAT(commodities, ::testing::Not(HasSubstr("batter"))) << report;
    EXPECT_THAT(batteries, HasSubstr("Several fires at storage sites")) << report;
    EXPECT_THAT(report, HasSubstr("a single supplier delivers most of them")) << report;
    EXPECT_THAT(report, ::testing::Not(HasSubstr("Where the batteries went"))) << report;
  }
  // A question's report says first which names it asks about no source mentions: the quotes
  // that follow are the nearest the sources hold, not its answer ("What is Tesla's market share
  // in grid batteries?" was answered with a battery's payback time). Names side by side are one.
  // Mentioned are a unit ("kWh" is "per kilowatt-hour"), a place as an attribute ("Korean" of
  // "South Korea"), an abbreviation the sources spell out ("MoE": "mixture-of-experts model"); a
  // name is not found inside other words ("Elon" in "the longest").
  for (const auto& [topic, notice] : std::vector<std::pair<std::string, std::string>>{
           {"What is Tesla's market share in grid batteries?", "None of the sources found mentions Tesla: "},
           {"What did Henk van Dijk and Elon Musk say about lidar?", "None of the sources found mentions Elon Musk: "},
           {"What did Elon Musk say about commuter trip times?", "None of the sources found mentions Elon Musk: "},
           {"What did a stationary LFP battery pack cost per kWh?", ""},
           {"What did Korean regulators change after the fires?", ""},
           {"How many GPU hours did the MoE model use?", ""},
           // A subject the sources name, asked what they do not say: the review gives revenue, not
           // profit; its best sentences had stood as the answer. Said too, the CEO ("chief executive
           // officer") and where it is based ("headquartered in Rotterdam") are answered.
           {"What was Harbor Robotics' net profit in 2024?", "None of the sources found answers this directly: "},
           {"What did Harbor Robotics pay in dividends?", "None of the sources found answers this directly: "},
           {"Who is the CEO of Harbor Robotics?", ""},
           {"Where is Harbor Robotics based?", ""},
           // An amount asked, and none of the best sentences states a figure: "Robusta prices … rose
           // even faster in relative terms." had stood as the answer. A cause asked of prices is no
           // amount asked.
           {"What was the robusta price at the end of 2024?", "None of the sources found answers this directly: "},
           {"Why did arabica coffee prices rise?", ""},
           // A year no passage of the best sentences names: 2024's revenue stood as 2022's. And "how
           // fast" asks a rate: the question on 2024's revenue and its growth had been said to go
           // unanswered, as no sentence says "fast".
           {"What was Harbor Robotics' revenue in 2022?", "None of the sources found answers this directly: "},
           // Nor is a sentence naming no year of another year than its document's title names:
           // 2024's operating margin ("improved to 9.8%", in the "annual review 2024") had stood as
           // 2023's, its passage naming 2023 for the revenue. 2024's is answered.
           {"What was Harbor Robotics' operating margin in 2023?", "None of the sources found answers this directly: "},
           {"What was Harbor Robotics' operating margin in 2024?", ""},
           // A share asked is answered by a share: the 2022 satisfaction score ("…from 6.4 in the 2022
           // survey") had stood as the metro's 2022 share, which the survey does not give.
           {"What share of commuters used the metro in the 2022 survey?", "None of the sources found answers this directly: "},
           {"What share of commuters drive alone to work?", ""},
           // A company's measure none of the best sentences names ("Two thirds of the backlog comes
           // from ports in Southeast Asia…" had stood as the ports' revenue), and an amount whose
           // only number is a date ("…postponed by twelve months to December 2025…").
           {"What was Harbor Robotics' revenue from Southeast Asian ports in 2024?", "None of the sources found answers this directly: "},
           {"How much coffee did China import in 2024?", "None of the sources found answers this directly: "},
           // A figure of a name asked comes with the name: the worldwide 169 GWh had answered for Germany.
           {"How much grid battery storage did Germany add in 2024?", "None of the sources found answers this directly: "},
           {"What was Harbor Robotics' revenue in 2024?", ""},
           {"How much revenue did Harbor Robotics make in 2024 and how fast did it grow?", ""},
           // What stands before "of" is what is asked: the year's 169 GWh had answered for the
           // batteries' efficiency; the backlog is a company's measure, whose year is the backlog
           // sentence's, not the revenue's "…from $246 million in 2023".
           {"What was the average round-trip efficiency of the grid batteries installed in 2024?",
            "None of the sources found answers this directly: "},
           {"What was Harbor Robotics' order backlog at the end of 2023?", "None of the sources found answers this directly: "},
           {"What was Harbor Robotics' order backlog at the end of 2024?", ""},
           // A year asked is no year required ("…the highest price since 1977…"), and "three to five
           // times" is an amount.
           {"Since which year had arabica prices not been as high as at the end of 2024?", ""},
           {"How much do batching, prefix caching and speculative decoding raise serving throughput?", ""},
           // But four bits' "three times faster" is no figure of eight bits; and "What limits the
           // speed of…" asks no speed.
           {"How much faster does 8-bit quantization make decoding?", "None of the sources found answers this directly: "},
           {"What limits the speed of generating tokens one at a time?", ""}}) {
    RunT asked = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "english"}}).run_id());
    ASSERT_EQ(asked.state(), RUN_STATE_SUCCEEDED) << asked.error();
    const std::string& report = asked.artifact().content();
    if (notice.empty()) {
      EXPECT_THAT(report, ::testing::Not(HasSubstr("None of the sources"))) << report;
    } else {
      EXPECT_THAT(report, HasSubstr("## Key findings\n\n" + notice)) << report;
    }
  }
  // "…make in 2024 and how fast did it grow?": the revenue and its growth are among the best two
  // (the services' share of revenue, "made up 41%", had taken the place through "make").
  RunT grew = WaitForEnd(StartRun("report", {{"topic", "How much revenue did Harbor Robotics make in 2024 and how fast did it grow?"},
                                             {"collection", "english"}})
                             .run_id());
  ASSERT_EQ(grew.state(), RUN_STATE_SUCCEEDED) << grew.error();
  EXPECT_THAT(grew.artifact().content(), HasSubstr("Revenue for the year reached $312 million, up 27%")) << grew.artifact().content();
  // Nor does a question's report end on a section headed by its document's title: every question
  // on Harbor Robotics closed with "Harbor Robotics: annual review 2024" (what it makes, its
  // founding, its lidar risk) after the answer. Its sections are on what it asks of its subject,
  // not on the subject alone: the supply risk and the staff turnover were followed by "Results"
  // (revenue, margin, backlog).
  for (const std::string topic : {"Who chairs the board of Harbor Robotics?", "When was Harbor Robotics founded?",
                                   "What supply risk does Harbor Robotics name?",
                                   "How did staff turnover change at Harbor Robotics?"}) {
    RunT asked = WaitForEnd(StartRun("report", {{"topic", topic}, {"collection", "english"}}).run_id());
    ASSERT_EQ(asked.state(), RUN_STATE_SUCCEEDED) << asked.error();
    EXPECT_THAT(asked.artifact().content(), ::testing::Not(HasSubstr("## Harbor Robotics: annual review 2024")))
        << asked.artifact().content();
    EXPECT_THAT(asked.artifact().content(), ::testing::Not(HasSubstr("## Results"))) << asked.artifact().content();
  }
  // A question on the subject itself keeps its document's overview, which answers it.
  RunT make = WaitForEnd(StartRun("report", {{"topic", "What does Harbor Robotics make?"}, {"collection", "english"}}).run_id());
  ASSERT_EQ(make.state(), RUN_STATE_SUCCEEDED) << make.error();
  EXPECT_THAT(make.artifact().content(), HasSubstr("designs autonomous straddle carriers")) << make.artifact().content();
  // A sentence that leans on one its own section holds is quoted right after it: the CEO's
  // career ("Before joining Harbor Robotics she ran…") was left out because the key findings
  // held the sentence that names her.
  RunT ceo = WaitForEnd(StartRun("report", {{"topic", "Who is the CEO of Harbor Robotics?"}, {"collection", "english"}}).run_id());
  ASSERT_EQ(ceo.state(), RUN_STATE_SUCCEEDED) << ceo.error();
  EXPECT_THAT(ceo.artifact().content(),
              HasSubstr("Maria Lindqvist has served as chief executive officer since March 2019.[1] Before joining Harbor "
                        "Robotics she ran the automation division of a Swedish forklift maker.[1]"))
      << ceo.artifact().content();
  // A heading of another document makes no section: "Why prices rose" (the coffee market update)
  // headed the survey's satisfaction figures under "Which aspect of public transport scored lowest?".
  RunT lowest = WaitForEnd(StartRun("report", {{"topic", "Which aspect of public transport scored lowest?"}, {"collection", "english"}}).run_id());
  ASSERT_EQ(lowest.state(), RUN_STATE_SUCCEEDED) << lowest.error();
  EXPECT_THAT(lowest.artifact().content(), HasSubstr("Punctuality received the lowest score of any aspect"));
  EXPECT_THAT(lowest.artifact().content(), ::testing::Not(HasSubstr("## Why prices rose"))) << lowest.artifact().content();

  // A document's title is its author's: on the References line its brackets made a citation of
  // another passage ("…review [2]"), and its control characters reached the reader's terminal.
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon_->address(), "memory", "create", "forged"}).exit_code, 0);
  const std::string forged = data_.Join("zorblax.md");
  testing_support::WriteFile(forged, "# Zorblax widget review [2] \x1b[1A\x1b[2K\n\nThe Zorblax widget market reached $4.2 "
                                     "billion in 2024. Zorblax widget sales rose 6% in 2024 across the region.\x1b]52;c;"
                                     "Y3VybCBldmlsfHNo\x07 Zorblax widget makers hired 300 engineers.\n");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon_->address(), "memory", "ingest", "forged", forged}).exit_code, 0);
  RunT titled = WaitForEnd(StartRun("report", {{"topic", "Zorblax widget market"}, {"collection", "forged"}}).run_id());
  ASSERT_EQ(titled.state(), RUN_STATE_SUCCEEDED) << titled.error();
  const std::string& with_title = titled.artifact().content();
  EXPECT_THAT(with_title, HasSubstr("[1] Zorblax widget review (2)")) << with_title;
  EXPECT_EQ(with_title.find('\x1b'), std::string::npos) << with_title;
  EXPECT_EQ(with_title.find('\x07'), std::string::npos) << with_title;
}

TEST_F(AgentServiceTest, AReportOnATopicTheCollectionHasNoWordOfSaysSo) {
  // Its best-ranked sentences were there for the embedding model's vague likeness alone ("天工
  // AI 搜索于 2023 年 8 月推出，是国内的首款 AI 搜索产品。" for 火星的首都是哪里？, through "的首"):
  // a report of them answered nothing.
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  IngestSeeds();
  for (const auto& [topic, says] : std::vector<std::pair<std::string, std::string>>{
           {"火星的首都是哪里？", "资料库“seeds”中没有关于这个主题的内容"},
           {"What is the capital of Mars?", "The collection \"seeds\" has nothing on this topic"}}) {
    RunT started = StartRun("report", {{"topic", topic}, {"collection", "seeds"}});
    RunT run = WaitForEnd(started.run_id());
    ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
    EXPECT_THAT(run.artifact().content(), HasSubstr(says)) << run.artifact().content();
    EXPECT_EQ(run.artifact().references_size(), 0) << run.artifact().content();
    bool warned = false;
    for (const RunEvent& e : AllEvents(started.run_id(), false)) warned |= e.has_warning();
    EXPECT_TRUE(warned);
  }
  // A topic it does hold is reported on as before.
  RunT run = WaitForEnd(StartRun("report", {{"topic", "AI Agent 市场规模"}, {"collection", "seeds"}}).run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_GE(run.artifact().references_size(), 1) << run.artifact().content();
}

TEST_F(AgentServiceTest, AbstractiveStyleRunsOnTheShippedModelWhenAsked) {
  daemon_.emplace(StartDaemonOrThrow(data_.path(), {"--model", "default"}));
  client_ = Connect(*daemon_);
  IngestSeeds();
  RunT started = StartRun("report", {{"topic", "AI Agent market size and growth"}, {"collection", "seeds"},
                                     {"max_sections", 2}, {"style", "abstractive"}});
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_EQ(Json::parse(FindStep(run, "outline")->output_json())["style"], "abstractive");
  EXPECT_THAT(run.artifact().content(), HasSubstr("## References"));
  // Done as asked, with a warning that says why the text reads as it does: the shipped model's
  // card says it writes only extractively.
  std::string warnings;
  for (const RunEvent& e : AllEvents(started.run_id(), false)) {
    if (e.has_warning()) warnings += e.warning().message() + "\n";
  }
  EXPECT_THAT(warnings, HasSubstr("inputs.style: abstractive asked of")) << warnings;
  // The report plan declares its inputs: a style it does not know is refused before a run exists.
  StartRunRequest bad;
  bad.set_plan("report");
  bad.set_inputs_json(R"({"topic": "x", "collection": "seeds", "style": "poetic"})");
  absl::StatusOr<RunT> refused = client_->StartRun(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("inputs.style"));
}

TEST_F(AgentServiceTest, ReportUsesWebSearchWhenConfiguredAndAsked) {
  testing_support::HttpTestServer web;
  testing_support::WriteFile(data_.Join("config.json"),
                             Json{{"search_url", web.Url("/searx?format=json&q={query}")},
                                  {"http_allowed_hosts", {"127.0.0.1:" + std::to_string(web.port())}}}.dump());
  StartDaemon({"--config", data_.Join("config.json")});
  IngestSeeds();
  RunT started = StartRun("report", {{"topic", "AI agents"}, {"collection", "seeds"}, {"max_sections", 2}, {"web", true}});
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_EQ(run.tool_calls(), 2u);  // one web_search per section
  const Step* search = FindStep(run, "search/1");
  ASSERT_NE(search, nullptr);
  EXPECT_THAT(search->output_json(), HasSubstr("http://news.example/agents"));
  EXPECT_THAT(search->output_json(), HasSubstr("The AI agent market grew 35% in 2024."));
  int called = 0;
  for (const RunEvent& e : AllEvents(started.run_id(), false)) {
    if (e.has_tool_called()) {
      ++called;
      EXPECT_EQ(e.tool_called().tool(), "web_search");
    }
  }
  EXPECT_EQ(called, 2);
}

TEST_F(AgentServiceTest, SigkillMidRunResumesWithoutRerunningFinishedSteps) {
  StartDaemon();
  RunT started = StartRun("slow", {{"spins", 60000000}}, kSlowPlan);
  ASSERT_TRUE(WaitFor(started.run_id(), [](const RunT& r) {
    const Step* second = FindStep(r, "second");
    return second != nullptr && second->state() == STEP_STATE_RUNNING;
  })) << "the second step never started";
  daemon_->Signal(SIGKILL);
  daemon_->WaitForExit(std::chrono::seconds(10));
  daemon_.reset();

  StartDaemon();  // same data dir: the run resumes by itself
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_EQ(FindStep(run, "first")->attempts(), 1u);
  EXPECT_EQ(FindStep(run, "second")->attempts(), 2u);
  EXPECT_EQ(FindStep(run, "third")->attempts(), 1u);
  EXPECT_THAT(run.artifact().content(), HasSubstr("second "));

  std::vector<RunEvent> events = AllEvents(started.run_id(), true);
  int resumed_starts = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].sequence(), i + 1);
    if (events[i].has_run_started() && events[i].run_started().resumed()) ++resumed_starts;
  }
  EXPECT_EQ(resumed_starts, 1);
}

TEST_F(AgentServiceTest, ARunThatKeepsCrashingTheDaemonIsFailedInsteadOfResumed) {
  // Killed three times in the middle of the same step, the run is not resumed a fourth time:
  // a run that crashes the daemon cannot keep its data directory from starting cleanly.
  StartDaemon();
  RunT started = StartRun("slow", {{"spins", 400000000}}, kSlowPlan);
  for (int kill = 1; kill <= 3; ++kill) {
    ASSERT_TRUE(WaitFor(started.run_id(), [](const RunT& r) {
      const Step* second = FindStep(r, "second");
      return second != nullptr && second->state() == STEP_STATE_RUNNING && r.state() == RUN_STATE_RUNNING;
    })) << "the second step never started (attempt " << kill << ")";
    daemon_->Signal(SIGKILL);
    daemon_->WaitForExit(std::chrono::seconds(10));
    daemon_.reset();
    StartDaemon();
  }
  RunT run = WaitForEnd(started.run_id());
  EXPECT_EQ(run.state(), RUN_STATE_FAILED);
  EXPECT_THAT(run.error(), HasSubstr("crashed the daemon 3 times"));
  EXPECT_EQ(FindStep(run, "first")->state(), STEP_STATE_SUCCEEDED);
  EXPECT_EQ(FindStep(run, "second")->state(), STEP_STATE_FAILED);
  // The daemon serves other runs.
  RunT other = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  EXPECT_EQ(WaitForEnd(other.run_id()).state(), RUN_STATE_SUCCEEDED);
}

TEST_F(AgentServiceTest, HostilePlansFailWithAMessageAndTheDaemonKeepsServing) {
  // Each of these once ended the daemon (an exception thrown on a value the plan chose) or
  // would store data that cannot be read back; each must now fail its own run only, with a
  // message, and the daemon must restart cleanly afterwards.
  StartDaemon();
  IngestSeeds();
  const std::vector<std::pair<std::string, std::string>> plans = {
      {"invalid UTF-8 in tool arguments",
       R"(plan{name = "h", run = function(ctx) return ctx.step("x", function() return ctx.tools.call("calculator", {expression = "\255"}) end) end})"},
      {"a string where memory.search wants a number",
       R"(plan{name = "h", run = function(ctx) return ctx.step("x", function() return ctx.memory.search{collection = "seeds", query = "x", k = "5"} end) end})"},
      {"invalid UTF-8 in a step name",
       R"(plan{name = "h", run = function(ctx) return ctx.step("\255", function() return {} end) end})"},
      {"a reference whose number is a string",
       R"(plan{name = "h", run = function(ctx) return {content = "ok", references = {{number = "one", offsets = {"a", 2}}}} end})"},
      {"an artifact of the wrong shape",
       R"(plan{name = "h", run = function(ctx) return {media_type = 5, content = "x"} end})"},
      {"a plain table instead of an artifact",
       R"(plan{name = "h", run = function(ctx) return {answer = 42} end})"},
      {"JSON nested deeper than the sandbox allows",
       R"(plan{name = "h", run = function(ctx) return {content = tostring(json.decode(string.rep("[", 100000) .. string.rep("]", 100000)))} end})"},
      {"a deep table to json.encode",
       R"(plan{name = "h", run = function(ctx) local t = {} local c = t for i = 1, 100000 do c[1] = {} c = c[1] end return {content = json.encode(t)} end})"},
      {"a warning with invalid UTF-8 and a bad quote constraint",
       R"(plan{name = "h", run = function(ctx) ctx.warn("\255") return ctx.step("x", function() return ctx.llm.chat{messages = {{role = "user", content = "x"}}, quote = {sentences = {{text = "a [1]", citation = 1}}}} end) end})"},
  };
  std::vector<std::string> run_ids;
  for (const auto& [what, source] : plans) {
    RunT started = StartRun("hostile", Json::object(), source);
    RunT run = WaitForEnd(started.run_id());
    EXPECT_EQ(run.state(), RUN_STATE_FAILED) << what << ": " << run.artifact().content();
    EXPECT_FALSE(run.error().empty()) << what;
    std::printf("  %s → %s\n", what.c_str(), run.error().c_str());
    run_ids.push_back(started.run_id());
  }
  // Invalid UTF-8 a plan stores is kept as U+FFFD, so the record stays readable.
  RunT replaced = StartRun("hostile", Json::object(),
                           R"(plan{name = "h", run = function(ctx) ctx.step("x", function() return {a = "\255\254"} end) return {content = "\255"} end})");
  RunT replaced_run = WaitForEnd(replaced.run_id());
  EXPECT_EQ(replaced_run.state(), RUN_STATE_SUCCEEDED) << replaced_run.error();
  EXPECT_EQ(replaced_run.artifact().content(), "\xEF\xBF\xBD");
  run_ids.push_back(replaced.run_id());
  // Still serving, and a restart on the same data directory is clean: every run reads back.
  RunT ok = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  EXPECT_EQ(WaitForEnd(ok.run_id()).state(), RUN_STATE_SUCCEEDED);
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->WaitForExit(std::chrono::seconds(20)), 0);
  daemon_.reset();
  StartDaemon();
  for (const std::string& id : run_ids) {
    absl::StatusOr<RunT> run = client_->GetRun(id);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->state(), id == replaced.run_id() ? RUN_STATE_SUCCEEDED : RUN_STATE_FAILED);
  }
}

TEST_F(AgentServiceTest, HostileScriptsEndAtTheirLimitsWhileOtherRunsSucceed) {
  // What a script can make the process do — loop, backtrack, loop in C, finalize, reach
  // another tenant's plan — ends its own run FAILED with a message, within the run's limits.
  std::filesystem::create_directories(plans_.Join("acme"));
  testing_support::WriteFile(plans_.Join("acme/secret.lua"), "return {key = 'acme-only'}\n");
  StartDaemon();
  const std::vector<std::tuple<std::string, std::string, std::string>> scripts = {
      {"an endless Lua loop", "while true do end", "time limit"},
      {"catastrophic pattern backtracking",
       "return ('a'):rep(40):find(('a?'):rep(40) .. ('a'):rep(40) .. 'b')", "pattern"},
      {"a C loop over 1e15 elements", "table.move({}, 1, 1e15, 2)", "time limit|table.move"},
      {"sorting in a loop", "local t = {} for i = 1, 200000 do t[i] = -i end while true do table.sort(t) end",
       "time limit"},
      {"a finalizer", "setmetatable({}, {__gc = function() while true do end end})", "__gc"},
      {"another tenant's private plan", "return require('acme.secret').key", "acme.secret"},
      {"memory without end", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1000) .. i end", "memory"},
  };
  std::vector<std::pair<size_t, std::string>> started;
  for (size_t i = 0; i < scripts.size(); ++i) {
    StartRunRequest request;
    request.set_plan("hostile");
    request.set_inputs_json("{}");
    request.set_plan_source("plan{name = 'h', run = function(ctx) return ctx.step('x', function()\n"
                            "local function body()\n" + std::get<1>(scripts[i]) + "\nend\nbody() return {} end) end}");
    request.mutable_limits()->set_deadline_seconds(3);
    absl::StatusOr<RunT> run = client_->StartRun(request);
    ASSERT_TRUE(run.ok()) << run.status();
    started.emplace_back(i, run->run_id());
  }
  RunT ok = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  for (const auto& [i, run_id] : started) {
    const auto& [what, code, message] = scripts[i];
    RunT run = WaitForEnd(run_id);
    EXPECT_EQ(run.state(), RUN_STATE_FAILED) << what;
    EXPECT_THAT(run.error(), ::testing::ContainsRegex(message)) << what;
    EXPECT_THAT(run.error(), HasSubstr("step 'x'")) << what;
    std::printf("  %s → %s\n", what.c_str(), run.error().c_str());
  }
  EXPECT_EQ(WaitForEnd(ok.run_id()).state(), RUN_STATE_SUCCEEDED);
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->WaitForExit(std::chrono::seconds(30)), 0);
  daemon_.reset();
  StartDaemon();
  for (const auto& [i, run_id] : started) {
    absl::StatusOr<RunT> run = client_->GetRun(run_id);
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->state(), RUN_STATE_FAILED);
  }
}

// A stream following a run that a shutdown interrupts ends then, saying so: it waited for the
// run's end, which never comes in this process, and held the shutdown for its whole grace.
TEST_F(AgentServiceTest, AShutdownEndsTheStreamsOfTheRunsItInterrupts) {
  StartDaemon();
  RunT started = StartRun("slow", {{"spins", 2000000000}}, kSlowPlan);
  ASSERT_TRUE(WaitFor(started.run_id(), [](const RunT& r) {
    const Step* second = FindStep(r, "second");
    return second != nullptr && second->state() == STEP_STATE_RUNNING;
  }));
  StreamRunRequest request;
  request.set_run_id(started.run_id());
  auto context = client_->NewContext();
  auto reader = client_->agents().StreamRun(context.get(), request);
  RunEvent event;
  ASSERT_TRUE(reader->Read(&event));  // the stream is open
  daemon_->Signal(SIGTERM);
  while (reader->Read(&event)) {
  }
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("the daemon is shutting down; the run resumes at its next start"));
  EXPECT_EQ(daemon_->WaitForExit(std::chrono::seconds(30)), 0);
  daemon_.reset();
}

TEST_F(AgentServiceTest, CancelStopsARunningPlanAndKeepsFinishedSteps) {
  StartDaemon();
  RunT started = StartRun("slow", {{"spins", 2000000000}}, kSlowPlan);
  ASSERT_TRUE(WaitFor(started.run_id(), [](const RunT& r) {
    const Step* second = FindStep(r, "second");
    return second != nullptr && second->state() == STEP_STATE_RUNNING;
  }));
  absl::StatusOr<RunT> cancelled = client_->CancelRun(started.run_id(), "changed my mind");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), RUN_STATE_CANCELLED);
  EXPECT_THAT(cancelled->error(), HasSubstr("changed my mind"));
  EXPECT_EQ(FindStep(*cancelled, "first")->state(), STEP_STATE_SUCCEEDED);
  EXPECT_EQ(FindStep(*cancelled, "second")->state(), STEP_STATE_SKIPPED);
  // Cancelling again is refused; the worker is free for the next run right away.
  EXPECT_EQ(client_->CancelRun(started.run_id()).status().code(), absl::StatusCode::kFailedPrecondition);
  RunT quick = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  EXPECT_EQ(WaitForEnd(quick.run_id(), std::chrono::seconds(30)).state(), RUN_STATE_SUCCEEDED);
  // A cancelled run can be resumed; its finished step is not run again: "second" starts its
  // second attempt while "first" keeps its one attempt and its output.
  const std::string first_output = FindStep(*cancelled, "first")->output_json();
  absl::StatusOr<RunT> resumed = client_->ResumeRun(started.run_id());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(WaitFor(started.run_id(), [](const RunT& r) {
    const Step* second = FindStep(r, "second");
    return second != nullptr && second->state() == STEP_STATE_RUNNING && second->attempts() == 2;
  }));
  absl::StatusOr<RunT> running = client_->GetRun(started.run_id());
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(FindStep(*running, "first")->attempts(), 1u);
  EXPECT_EQ(FindStep(*running, "first")->output_json(), first_output);
  EXPECT_EQ(FindStep(*running, "first")->state(), STEP_STATE_SUCCEEDED);
  client_->CancelRun(started.run_id()).IgnoreError();
}

// A run waiting for a worker lets go of its place when cancelled: it held one of the tenant's
// active runs (StartRun refused "wait for one to end or cancel one") and its resume was refused
// as "still stopping" until a worker came free — for as long as the running run lasted.
TEST_F(AgentServiceTest, CancellingAQueuedRunFreesItsPlaceAtOnce) {
  testing_support::WriteFile(data_.Join("config.json"), R"({"runs": {"workers": 1, "max_active_runs_per_tenant": 2}})");
  StartDaemon({"--config", data_.Join("config.json")});
  RunT running = StartRun("slow", {{"spins", 2000000000}}, kSlowPlan);
  ASSERT_TRUE(WaitFor(running.run_id(), [](const RunT& r) { return r.state() == RUN_STATE_RUNNING; }));
  RunT queued = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  absl::StatusOr<RunT> cancelled = client_->CancelRun(queued.run_id());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), RUN_STATE_CANCELLED);
  absl::StatusOr<RunT> resumed = client_->ResumeRun(queued.run_id());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE(client_->CancelRun(queued.run_id()).ok());
  StartRunRequest another;
  another.set_plan("slow");
  another.set_plan_source(kSlowPlan);
  another.set_inputs_json(R"({"spins": 10})");
  absl::StatusOr<RunT> started = client_->StartRun(another);
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_TRUE(client_->CancelRun(running.run_id()).ok());
  EXPECT_EQ(WaitForEnd(started->run_id(), std::chrono::seconds(120)).state(), RUN_STATE_SUCCEEDED);
}

// A cancelled run's tool call stops with it, and nothing is recorded of the run after its end:
// a tool that ran on wrote its tool_returned event and transcript after run_ended, and held the
// worker (and the run's resume: "still stopping") until it finished.
TEST_F(AgentServiceTest, CancellingARunStopsItsToolCallAndNothingFollowsItsEnd) {
  TempDir tools;
  testing_support::WriteFile(tools.Join("spin.lua"), R"lua(
tool{name = "spin", description = "Spins for a minute.",
     handler = function() local t = os.clock() + 60 while os.clock() < t do end return "done" end})lua");
  testing_support::WriteFile(data_.Join("config.json"), R"({"runs": {"workers": 1}})");
  StartDaemon({"--config", data_.Join("config.json"), "--tools-dir", tools.path()});
  RunT started = StartRun("calls", Json::object(), R"lua(
plan{name = "calls", run = function(ctx)
  return ctx.step("call", function() return ctx.tools.call("spin", {}) end)
end})lua");
  const auto tool_called = [&] {
    for (int i = 0; i < 6000; ++i) {
      absl::StatusOr<RunT> run = client_->GetRun(started.run_id());
      if (run.ok() && run->tool_calls() > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(tool_called());
  ASSERT_TRUE(client_->CancelRun(started.run_id()).ok());
  // The one worker runs the next run once the cancelled one has let go of it.
  RunT next = StartRun("slow", {{"spins", 10}}, kSlowPlan);
  EXPECT_EQ(WaitForEnd(next.run_id(), std::chrono::seconds(120)).state(), RUN_STATE_SUCCEEDED);
  std::vector<RunEvent> events = AllEvents(started.run_id(), true);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.back().has_run_ended()) << events.back().DebugString();
  bool returned = false;
  for (const RunEvent& e : events) returned = returned || e.has_tool_returned();
  EXPECT_FALSE(returned);
  absl::StatusOr<RunT> run = client_->GetRun(started.run_id(), /*include_transcripts=*/true);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->state(), RUN_STATE_CANCELLED);
  for (const Step& step : run->steps()) {
    EXPECT_NE(step.state(), STEP_STATE_RUNNING) << step.name();
    for (const auto& entry : step.transcript()) EXPECT_NE(entry.kind(), agentd::v1::TranscriptEntry::KIND_TOOL_CALL);
  }
}

TEST_F(AgentServiceTest, BrokenPlansFailTheirRunsWithClearMessagesWhileOthersSucceed) {
  StartDaemon();
  RunT good = StartRun("slow", {{"spins", 1000}}, kSlowPlan);
  RunT runtime = StartRun("runtime", Json::object(), R"lua(
plan{name = "runtime", run = function(ctx, inputs)
  return ctx.step("boom", function() local t = nil; return t.field end)
end})lua");
  RunT sandbox = StartRun("sandbox", Json::object(), R"lua(
plan{name = "sandbox", run = function(ctx, inputs)
  return ctx.step("escape", function() return io.open("/etc/passwd") end)
end})lua");
  RunT outside = StartRun("outside", Json::object(), R"lua(
plan{name = "outside", run = function(ctx, inputs) return ctx.llm.generate{prompt = "x"} end})lua");

  EXPECT_EQ(WaitForEnd(good.run_id()).state(), RUN_STATE_SUCCEEDED);
  RunT r = WaitForEnd(runtime.run_id());
  EXPECT_EQ(r.state(), RUN_STATE_FAILED);
  EXPECT_THAT(r.error(), HasSubstr("attempt to index a nil value"));
  EXPECT_THAT(r.error(), HasSubstr(":3:"));
  ASSERT_NE(FindStep(r, "boom"), nullptr);
  EXPECT_EQ(FindStep(r, "boom")->state(), STEP_STATE_FAILED);
  RunT b = WaitForEnd(sandbox.run_id());
  EXPECT_EQ(b.state(), RUN_STATE_FAILED);
  EXPECT_THAT(b.error(), HasSubstr("io"));
  RunT o = WaitForEnd(outside.run_id());
  EXPECT_EQ(o.state(), RUN_STATE_FAILED);
  EXPECT_THAT(o.error(), HasSubstr("must be called inside ctx.step"));

  // Refused up front, with no run created: a plan that does not compile (named by the source's
  // name when the client gives one), an unknown plan, a bad plan name, inputs that are not an
  // object.
  auto count_runs = [&] {
    ListRunsResponse page;
    EXPECT_TRUE(client_->agents().ListRuns(client_->NewContext().get(), ListRunsRequest(), &page).ok());
    return page.runs_size();
  };
  const int runs_before = count_runs();
  StartRunRequest syntax;
  syntax.set_plan("syntax");
  syntax.set_plan_source("plan{name = 'x', run = function(ctx) return { end}");
  absl::StatusOr<RunT> refused = client_->StartRun(syntax);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("plan_source: inline plan 'syntax':1:"));
  syntax.set_plan_source_name("my_plan.lua");
  refused = client_->StartRun(syntax);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("plan_source: my_plan.lua:1:"));
  EXPECT_EQ(count_runs(), runs_before);
  StartRunRequest request;
  request.set_plan("no_such_plan");
  EXPECT_EQ(client_->StartRun(request).status().code(), absl::StatusCode::kNotFound);
  request.set_plan("../etc/passwd");
  EXPECT_EQ(client_->StartRun(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.set_plan("report");
  request.set_inputs_json("[1, 2]");
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()), HasSubstr("inputs_json"));
  // The report plan declares its inputs (plan{inputs = ...}): checked before a run exists.
  request.set_inputs_json(R"({"collection": "seeds"})");
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()), HasSubstr("inputs.topic: is required"));
  request.set_inputs_json(R"({"topic": "x", "collection": "seeds", "max_sections": 20})");
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()), HasSubstr("inputs.max_sections"));
  // A document given as the topic is refused by its length, not failed in the outline's prompt
  // ("prompt of 28081 tokens does not fit the context of 1024").
  request.set_inputs_json(Json{{"topic", std::string(501, 'x')}, {"collection", "seeds"}}.dump());
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()), HasSubstr("inputs.topic: must have at most 500 characters"));
  // A source that never calls plan{}, or declares inputs that are not a schema, is refused too.
  StartRunRequest undefined;
  undefined.set_plan("none");
  undefined.set_plan_source("local x = 1");
  absl::StatusOr<RunT> none = client_->StartRun(undefined);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("does not define a plan"));
  undefined.set_plan_source("plan{name = 'x', inputs = {type = 'object', pattern = 'a'}, run = function() end}");
  none = client_->StartRun(undefined);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("plan: inputs:"));
  // Hostile declarations are refused and leave the daemon serving: a metatable that errors when
  // its fields are read again, an inputs schema whose anyOf holds a type that is not a name, a
  // table shared 60 levels deep (2^60 values when converted), a top level that never ends.
  const char* hostile[] = {
      "plan(setmetatable({}, {__index = function(t, k) n = (n or 0) + 1; if n > 4 then error('late') end;"
      " if k == 'name' then return 'x' elseif k == 'run' then return function() end end end}))",
      "plan{name = 'x', inputs = {anyOf = {{type = {5}}}}, run = function() end}",
      "local t = {} for i = 1, 60 do t = {t, t} end plan{name = 'x', inputs = t, run = function() end}",
      "while true do end",
  };
  for (const char* source : hostile) {
    undefined.set_plan_source(source);
    none = client_->StartRun(undefined);
    EXPECT_TRUE(none.ok() || none.status().code() == absl::StatusCode::kInvalidArgument) << source << ": " << none.status();
    if (none.ok()) WaitForEnd(none->run_id());
  }
  auto health = client_->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  undefined.set_plan_source("plan{name = 'x', inputs = {anyOf = {{type = {5}}}}, run = function() end}");
  EXPECT_THAT(std::string(client_->StartRun(undefined).status().message()), HasSubstr("anyOf[0]"));
  undefined.set_plan_source("local t = {} for i = 1, 60 do t = {t, t} end plan{name = 'x', inputs = t, run = function() end}");
  EXPECT_THAT(std::string(client_->StartRun(undefined).status().message()), HasSubstr("values in all"));
  undefined.set_plan_source_name("evil\x1b[2J.lua");
  EXPECT_THAT(std::string(client_->StartRun(undefined).status().message()), HasSubstr("plan_source_name: control characters"));
}

TEST_F(AgentServiceTest, MapFansOutStepsThatRunConcurrently) {
  StartDaemon();
  RunT started = StartRun("fanout", {{"items", {"2+3", "7*6", "2^10", "10/4"}}}, R"lua(
plan{name = "fanout", run = function(ctx, inputs)
  local results = ctx.map("calc", inputs.items, function(expression, i)
    local value = ctx.tools.call("calculator", {expression = expression})
    local text = ctx.llm.generate{prompt = expression, max_tokens = 3}
    return {i = i, value = value.result, tokens = text.completion_tokens}
  end, {concurrency = 3})
  local parts = {}
  for i, r in ipairs(results) do parts[i] = r.i .. "=" .. tostring(r.value) end
  return {media_type = "text/plain", content = table.concat(parts, ",")}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_THAT(run.artifact().content(), HasSubstr("1=5.0,2=42.0,3=1024.0,4=2.5"));
  for (const char* name : {"calc/1", "calc/2", "calc/3", "calc/4"}) {
    ASSERT_NE(FindStep(run, name), nullptr) << name;
    EXPECT_EQ(FindStep(run, name)->state(), STEP_STATE_SUCCEEDED);
    EXPECT_EQ(FindStep(run, name)->attempts(), 1u);
  }
  EXPECT_EQ(run.tool_calls(), 4u);
  // Three tasks start before any finishes: they wait on their calls side by side.
  int started_before_first_finish = 0;
  for (const RunEvent& e : AllEvents(started.run_id(), false)) {
    if (e.has_step_finished()) break;
    started_before_first_finish += e.has_step_started();
  }
  EXPECT_EQ(started_before_first_finish, 3);

  // A failing task fails the map (and the run) once its siblings have finished.
  RunT failing = StartRun("fanfail", {{"items", {"1+1", "nope(", "2+2"}}}, R"lua(
plan{name = "fanfail", run = function(ctx, inputs)
  return ctx.map("calc", inputs.items, function(expression)
    return ctx.tools.call("calculator", {expression = expression})
  end)
end})lua");
  RunT failed = WaitForEnd(failing.run_id());
  EXPECT_EQ(failed.state(), RUN_STATE_FAILED);
  EXPECT_EQ(FindStep(failed, "calc/1")->state(), STEP_STATE_SUCCEEDED);
  EXPECT_EQ(FindStep(failed, "calc/2")->state(), STEP_STATE_FAILED);
  EXPECT_EQ(FindStep(failed, "calc/3")->state(), STEP_STATE_SUCCEEDED);
}

TEST_F(AgentServiceTest, AMapTaskResumedByThePlanCannotPileUpCalls) {
  // A ctx.map task's coroutine is the plan's to resume: one task took the other's (from
  // coroutine.running()) and resumed it with a made-up result over and over. Each resume
  // submitted another memory call that nothing collected, on a thread of its own: 2,000 were
  // accepted before the bound. Now a run has at most 16 calls in flight, ctx.map's own most.
  StartDaemon();
  RunT started = StartRun("pileup", {{"n", 2000}}, R"lua(
plan{name = "pileup", run = function(ctx, inputs)
  local victim, submitted, message = nil, 0, ""
  pcall(ctx.map, "m", {1, 2}, function(item)
    if item == 1 then
      victim = coroutine.running()
      while true do ctx.memory.search{collection = "nope", query = "x"} end
    end
    for i = 1, inputs.n do
      local ok, value = coroutine.resume(victim, true, {})
      if not ok then message = tostring(value) break end
      submitted = submitted + 1
    end
    return {}
  end, {concurrency = 2})
  return {media_type = "text/plain", content = "submitted " .. submitted .. " " .. message}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  EXPECT_EQ(run.state(), RUN_STATE_FAILED) << run.artifact().content();
  EXPECT_THAT(run.error(), HasSubstr("calls in flight")) << run.artifact().content();
  // The daemon still runs ctx.map as before.
  RunT fanout = StartRun("fanout", {{"items", {"1+1", "2+2", "3+3"}}}, R"lua(
plan{name = "fanout", run = function(ctx, inputs)
  local r = ctx.map("calc", inputs.items, function(e) return ctx.tools.call("calculator", {expression = e}) end)
  return {media_type = "text/plain", content = tostring(r[3].result)}
end})lua");
  RunT fanned = WaitForEnd(fanout.run_id());
  EXPECT_EQ(fanned.state(), RUN_STATE_SUCCEEDED) << fanned.error();
  EXPECT_EQ(fanned.artifact().content(), "6.0");
}

TEST_F(AgentServiceTest, TheCallsInFlightShareOneBoundOnWhatTheirArgumentsBuild) {
  // Each call's arguments become C++ JSON, outside the plan's memory limit. The bound on one
  // conversion (128 MiB of text) held per call, and ctx.map keeps 16 calls in flight: sixteen
  // 1 MiB strings each referenced a hundred times held 1.6 GB. Now the calls in flight share
  // that one bound: twelve 10 MiB queries are held, the thirteenth is refused by name.
  StartDaemon();
  RunT started = StartRun("inflight", Json::object(), R"lua(
plan{name = "inflight", run = function(ctx, inputs)
  local big = string.rep("x", 10 << 20)
  local items = {}
  for i = 1, 16 do items[i] = i end
  local ok, message = pcall(ctx.map, "m", items, function(i)
    return ctx.memory.search{collection = "nope", query = big}
  end, {concurrency = 16})
  return {media_type = "text/plain", content = tostring(message)}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  EXPECT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_THAT(run.artifact().content(), HasSubstr("MiB of text in all, counting the calls still in flight"));
}

TEST_F(AgentServiceTest, AStepWhoseResultIsNotJsonFailsInsteadOfStayingRunning) {
  // A step returned a function, a cyclic table and NaN: json.encode raised after the step's own
  // protected call, so the step stayed RUNNING in the stored record of a run that went on and
  // succeeded. Now each is FAILED with the reason, like a step whose function raised.
  StartDaemon();
  RunT started = StartRun("notjson", Json::object(), R"lua(
plan{name = "notjson", run = function(ctx)
  local cyclic = {} cyclic.self = cyclic
  local errors = {}
  for name, value in pairs({fn = {f = print}, cyclic = cyclic, nan = {x = 0/0}}) do
    local ok, message = pcall(ctx.step, name, function() return value end)
    errors[#errors + 1] = tostring(ok)
  end
  ctx.step("fine", function() return {ok = true} end)
  return {media_type = "text/plain", content = table.concat(errors, ",")}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  EXPECT_EQ(run.artifact().content(), "false,false,false");
  for (const char* name : {"fn", "cyclic", "nan"}) {
    const Step* step = FindStep(run, name);
    ASSERT_NE(step, nullptr) << name;
    EXPECT_EQ(step->state(), STEP_STATE_FAILED) << name;
    EXPECT_THAT(step->error(), HasSubstr("not JSON")) << name << ": " << step->error();
  }
  EXPECT_EQ(FindStep(run, "fine")->state(), STEP_STATE_SUCCEEDED);
}

TEST_F(AgentServiceTest, ARunsTranscriptsAreBounded) {
  // Each memory search carried an ignored 1 MiB field, kept whole in the step's transcript: 200
  // such calls grew the daemon by 1.2 GB and the store by 480 MB, and nothing but the deadline
  // ended it. Now a run's transcripts hold at most 16 MiB; then one entry says so.
  StartDaemon();
  IngestSeeds();
  RunT started = StartRun("transcripts", {{"n", 40}}, R"lua(
plan{name = "transcripts", run = function(ctx, inputs)
  local junk = string.rep("x", 1 << 20)
  return ctx.step("s", function()
    for i = 1, inputs.n do ctx.memory.search{collection = "seeds", query = "battery", k = 1, junk = junk} end
    return {media_type = "text/plain", content = "ok"}
  end)
end})lua");
  RunT ended = WaitForEnd(started.run_id());
  ASSERT_EQ(ended.state(), RUN_STATE_SUCCEEDED) << ended.error();
  absl::StatusOr<RunT> run = client_->GetRun(started.run_id(), /*include_transcripts=*/true);
  ASSERT_TRUE(run.ok()) << run.status();
  const Step* step = FindStep(*run, "s");
  ASSERT_NE(step, nullptr);
  size_t bytes = 0;
  for (const TranscriptEntry& e : step->transcript()) bytes += e.request().size() + e.response().size();
  EXPECT_LE(bytes, size_t{16} << 20);
  EXPECT_GE(step->transcript_size(), 15);
  EXPECT_LE(step->transcript_size(), 17);
  EXPECT_THAT(step->transcript(step->transcript_size() - 1).request(), HasSubstr("not recorded"));
}

TEST_F(AgentServiceTest, AHugeTextIsRefusedByItsSizeBeforeItIsTokenized) {
  // Tokenizing runs outside the plan's memory limit and its instruction checks: a 40 MB text
  // took 6 s and 120 MB to count, and 7 s to be told it did not fit the context. count_tokens
  // takes at most 8 MiB; a prompt longer than the context could hold is refused by its bytes.
  StartDaemon();
  RunT started = StartRun("huge", Json::object(), R"lua(
plan{name = "huge", run = function(ctx, inputs)
  return ctx.step("s", function()
    local huge = string.rep("DeepSeek 的技术创新 tokens. ", (9 << 20) // 26)
    local counted, count_error = pcall(ctx.llm.count_tokens, huge)
    local chatted, chat_error = pcall(ctx.llm.chat, {messages = {{role = "user", content = huge}}, max_tokens = 2})
    return {media_type = "application/json",
            content = json.encode({counted = counted, count_error = tostring(count_error),
                                   small = ctx.llm.count_tokens("DeepSeek 的技术创新"),
                                   spelled = ctx.llm.count_tokens("<｜end▁of▁sentence｜>"),
                                   chatted = chatted, chat_error = tostring(chat_error)})}
  end)
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  const Json result = Json::parse(run.artifact().content());
  EXPECT_FALSE(result["counted"].get<bool>());
  EXPECT_THAT(result["count_error"].get<std::string>(), HasSubstr("ctx.llm.count_tokens: text is"));
  EXPECT_THAT(result["count_error"].get<std::string>(), HasSubstr("at most 8 MiB"));
  EXPECT_GT(result["small"].get<int>(), 0);
  // Counted as a message's text is read: a chat token's spelling is several ordinary tokens.
  EXPECT_GT(result["spelled"].get<int>(), 1);
  EXPECT_FALSE(result["chatted"].get<bool>());
  EXPECT_THAT(result["chat_error"].get<std::string>(), HasSubstr("bytes cannot fit the context"));
}

TEST_F(AgentServiceTest, ARunsEventsAreBounded) {
  // Each event is a synced write: a plan warning in a loop until its deadline could write tens
  // of GB (1,000 warnings of 60 KB took 3 s). Past 32 MiB of such events one warning says later
  // ones are not recorded; the steps' and the run's ends still are.
  StartDaemon();
  RunT started = StartRun("warnings", Json::object(), R"lua(
plan{name = "warnings", run = function(ctx, inputs)
  local long = string.rep("w", 60000)
  ctx.step("loud", function() for i = 1, 700 do ctx.warn(long) end return 1 end)
  ctx.step("after", function() ctx.warn("still here?") return 2 end)
  return {media_type = "text/plain", content = "ok"}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  size_t warning_bytes = 0, warnings = 0;
  bool after_finished = false, ended = false;
  std::string last_warning;
  for (const RunEvent& e : AllEvents(started.run_id(), false)) {
    if (e.has_warning()) {
      ++warnings;
      warning_bytes += e.warning().message().size();
      last_warning = e.warning().message();
    }
    after_finished |= e.has_step_finished() && e.step_finished().step() == "after";
    ended |= e.has_run_ended();
  }
  EXPECT_LE(warning_bytes, size_t{32} << 20);
  EXPECT_GE(warnings, 500u);
  EXPECT_LT(warnings, 700u);
  EXPECT_THAT(last_warning, HasSubstr("not recorded"));
  EXPECT_TRUE(after_finished);
  EXPECT_TRUE(ended);
}

TEST_F(AgentServiceTest, ModelDrivenToolCallsRunWithSchemaValidArguments) {
  StartDaemon();
  // The untrained model samples at temperature 1, so where its arguments end depends on the
  // logits' last bits (thread count, batch shape); 1100 tokens always fit the calculator's
  // expression (at most 1000 characters, which the constraint enforces) and its JSON.
  RunT started = StartRun("agent", Json::object(), R"lua(
plan{name = "agent", run = function(ctx, inputs)
  local answer = ctx.step("solve", function()
    return ctx.agent{messages = {{role = "user", content = "What is 6 times 7? Use the calculator."}},
                     tools = {"calculator"}, tool_choice = "required", max_rounds = 2,
                     max_tokens = 1100, temperature = 1, seed = 3}
  end)
  return {media_type = "application/json", content = json.encode(answer)}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  Json answer = Json::parse(run.artifact().content());
  ASSERT_GE(answer["calls"].size(), 1u) << answer.dump();
  EXPECT_EQ(answer["calls"][0]["name"], "calculator");
  EXPECT_TRUE(answer["calls"][0]["arguments"]["expression"].is_string()) << answer.dump();
  EXPECT_TRUE(answer["calls"][0].contains("result") || answer["calls"][0].contains("error"));
  EXPECT_GE(run.tool_calls(), 1u);
  int called = 0;
  for (const RunEvent& e : AllEvents(started.run_id(), false)) called += e.has_tool_called();
  EXPECT_EQ(called, static_cast<int>(run.tool_calls()));
  // Unknown tools are refused by name.
  RunT bad = StartRun("agent", Json::object(), R"lua(
plan{name = "agent", run = function(ctx, inputs)
  return ctx.step("solve", function()
    return ctx.agent{messages = {{role = "user", content = "x"}}, tools = {"no_such_tool"}}
  end)
end})lua");
  RunT failed = WaitForEnd(bad.run_id());
  EXPECT_EQ(failed.state(), RUN_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("no tool named \"no_such_tool\""));
}

TEST_F(AgentServiceTest, InstalledPlansAndIdempotentStarts) {
  testing_support::WriteFile(plans_.Join("echo.lua"), R"lua(
plan{name = "echo", description = "echoes", run = function(ctx, inputs)
  local out = ctx.step("echo", function() return {said = inputs.say} end)
  return {content = out.said}
end})lua");
  StartDaemon();
  StartRunRequest request;
  request.set_plan("echo");
  request.set_inputs_json(R"({"say": "hello"})");
  request.set_idempotency_key("k-1");
  absl::StatusOr<RunT> first = client_->StartRun(request);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<RunT> again = client_->StartRun(request);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first->run_id(), again->run_id());
  RunT run = WaitForEnd(first->run_id());
  EXPECT_EQ(run.artifact().content(), "hello");

  ListRunsRequest list;
  list.set_plan("echo");
  ListRunsResponse page;
  ASSERT_TRUE(client_->agents().ListRuns(client_->NewContext().get(), list, &page).ok());
  ASSERT_EQ(page.runs_size(), 1);
  EXPECT_EQ(page.runs(0).run_id(), first->run_id());
  EXPECT_TRUE(page.runs(0).artifact().content().empty());  // lists leave the content out

  // A FIFO in a plan's place is refused unread (reading it held StartRun for good), naming the
  // plan and not where the daemon keeps it.
  ASSERT_EQ(mkfifo(plans_.Join("pipe.lua").c_str(), 0600), 0);
  StartRunRequest piped;
  piped.set_plan("pipe");
  absl::StatusOr<RunT> refused = client_->StartRun(piped);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_EQ(refused.status().message(), "plan: pipe.lua in the plans directory: not a regular file");
  // Nor does a directory in the place of a built-in plan let the built-in run instead.
  std::filesystem::create_directory(plans_.Join("report.lua"));
  StartRunRequest shadowed;
  shadowed.set_plan("report");
  shadowed.set_inputs_json(R"({"topic": "x", "collection": "c"})");
  EXPECT_EQ(client_->StartRun(shadowed).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AgentServiceTest, ReconnectingStreamReceivesEveryEventOnce) {
  StartDaemon();
  RunT started = StartRun("slow", {{"spins", 3000000}}, kSlowPlan);
  // Read a few events, hang up, reconnect after the last sequence seen, and so on.
  std::vector<uint64_t> seen;
  bool ended = false;
  for (int round = 0; round < 50 && !ended; ++round) {
    StreamRunRequest request;
    request.set_run_id(started.run_id());
    request.set_after_sequence(seen.empty() ? 0 : seen.back());
    request.set_include_tokens(true);
    auto context = client_->NewContext(false);
    auto reader = client_->agents().StreamRun(context.get(), request);
    RunEvent event;
    for (int i = 0; i < 2 && reader->Read(&event); ++i) {
      seen.push_back(event.sequence());
      if (event.has_run_ended()) ended = true;
    }
    context->TryCancel();
    reader->Finish();
  }
  ASSERT_TRUE(ended);
  std::vector<RunEvent> all = AllEvents(started.run_id(), true);
  ASSERT_EQ(seen.size(), all.size());
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  // Without tokens, step-level events only; a stream of an ended run ends by itself.
  for (const RunEvent& e : AllEvents(started.run_id(), false)) EXPECT_FALSE(e.has_token_delta());
  // Unknown runs are NOT_FOUND.
  EXPECT_EQ(client_->FollowRun("run-missing", 0, false, [](const RunEvent&) { return true; }).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AgentServiceTest, ApiTokensMapCallersToTenantsThatSeeOnlyTheirOwnRuns) {
  testing_support::WriteFile(data_.Join("config.json"), R"({"auth": {"tokens": [
      {"token": "token-of-acme-0000001", "tenant": "acme"},
      {"token": "token-of-globex-00001", "tenant": "globex"},
      {"token": "token-of-operator-001", "tenant": "ops", "admin": true}]}})");
  StartDaemon({"--config", data_.Join("config.json")});
  auto anonymous = Connect(*daemon_);
  auto wrong = Connect(*daemon_, "not-a-valid-token-at-all");
  auto acme = Connect(*daemon_, "token-of-acme-0000001");
  auto globex = Connect(*daemon_, "token-of-globex-00001");

  StartRunRequest request;
  request.set_plan("slow");
  request.set_plan_source(kSlowPlan);
  request.set_inputs_json(R"({"spins": 10})");
  EXPECT_EQ(anonymous->StartRun(request).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong->StartRun(request).status().code(), absl::StatusCode::kUnauthenticated);
  absl::StatusOr<RunT> run = acme->StartRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->tenant(), "acme");
  EXPECT_EQ(globex->GetRun(run->run_id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(globex->CancelRun(run->run_id()).status().code(), absl::StatusCode::kNotFound);
  ListRunsResponse page;
  ASSERT_TRUE(globex->agents().ListRuns(globex->NewContext().get(), ListRunsRequest(), &page).ok());
  EXPECT_EQ(page.runs_size(), 0);
  ASSERT_TRUE(acme->agents().ListRuns(acme->NewContext().get(), ListRunsRequest(), &page).ok());
  EXPECT_EQ(page.runs_size(), 1);

  // Collections are per tenant too.
  CreateCollectionRequest create;
  create.set_name("private");
  create.set_embedding_model("none");
  Collection created;
  ASSERT_TRUE(acme->memory().CreateCollection(acme->NewContext().get(), create, &created).ok());
  StatsRequest stats;
  stats.set_collection("private");
  CollectionStats out;
  EXPECT_EQ(globex->memory().Stats(globex->NewContext().get(), stats, &out).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(anonymous->memory().Stats(anonymous->NewContext().get(), stats, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(acme->memory().Stats(acme->NewContext().get(), stats, &out).ok());

  // Reloading the daemon's tools is an operator's act: a tenant's token is refused.
  auto operator_client = Connect(*daemon_, "token-of-operator-001");
  ReloadResponse reloaded;
  grpc::Status refused = acme->tools().Reload(acme->NewContext().get(), ReloadRequest(), &reloaded);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("ToolService.Reload: needs an admin token"));
  EXPECT_TRUE(operator_client->tools().Reload(operator_client->NewContext().get(), ReloadRequest(), &reloaded).ok());
}

TEST_F(AgentServiceTest, TenantsStayApartInStreamsResumesSameNamedCollectionsAndRunLimits) {
  testing_support::WriteFile(data_.Join("config.json"), R"({"runs": {"max_active_runs_per_tenant": 1},
      "auth": {"tokens": [{"token": "token-of-acme-0000001", "tenant": "acme"},
                          {"token": "token-of-globex-00001", "tenant": "globex"}]}})");
  StartDaemon({"--config", data_.Join("config.json")});
  auto acme = Connect(*daemon_, "token-of-acme-0000001");
  auto globex = Connect(*daemon_, "token-of-globex-00001");

  // The same collection name in both tenants holds each tenant's own documents only, for
  // Search and for a plan's ctx.memory.search.
  for (const auto& [client, text] : {std::pair<sdk::Client*, const char*>{acme.get(), "acme quarterly revenue secret"},
                               std::pair<sdk::Client*, const char*>{globex.get(), "globex quarterly revenue figures"}}) {
    CreateCollectionRequest create;
    create.set_name("docs");
    create.set_embedding_model("none");
    Collection created;
    ASSERT_TRUE(client->memory().CreateCollection(client->NewContext().get(), create, &created).ok());
    IngestRequest ingest;
    ingest.set_collection("docs");
    ingest.add_documents()->set_text(text);
    IngestResponse ingested;
    ASSERT_TRUE(client->memory().Ingest(client->NewContext().get(), ingest, &ingested).ok());
  }
  SearchRequest search;
  search.set_collection("docs");
  search.set_query("quarterly revenue");
  SearchResponse found;
  ASSERT_TRUE(globex->memory().Search(globex->NewContext().get(), search, &found).ok());
  ASSERT_EQ(found.hits_size(), 1);
  EXPECT_THAT(found.hits(0).text(), HasSubstr("globex"));
  StartRunRequest searching;
  searching.set_plan("search");
  searching.set_inputs_json("{}");
  searching.set_plan_source(R"(plan{name = "s", run = function(ctx) return {content = json.encode(ctx.step("x",
      function() return ctx.memory.search{collection = "docs", query = "quarterly revenue", k = 5} end))} end})");
  absl::StatusOr<RunT> searched = globex->StartRun(searching);
  ASSERT_TRUE(searched.ok()) << searched.status();
  RunT searched_run = WaitForEnd(searched->run_id(), std::chrono::seconds(180), globex.get());
  EXPECT_EQ(searched_run.state(), RUN_STATE_SUCCEEDED) << searched_run.error();
  EXPECT_THAT(searched_run.artifact().content(), HasSubstr("globex"));
  EXPECT_THAT(searched_run.artifact().content(), ::testing::Not(HasSubstr("secret")));

  // One active run per tenant: acme's second is refused while globex can still start one.
  StartRunRequest slow;
  slow.set_plan("slow");
  slow.set_plan_source(kSlowPlan);
  slow.set_inputs_json(R"({"spins": 2000000000})");
  absl::StatusOr<RunT> running = acme->StartRun(slow);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(acme->StartRun(slow).status().code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<RunT> other = globex->StartRun(slow);
  ASSERT_TRUE(other.ok()) << other.status();

  // Another tenant's run cannot be streamed, resumed or cancelled: it does not exist for them.
  StreamRunRequest stream_request;
  stream_request.set_run_id(running->run_id());
  auto context = globex->NewContext();
  auto reader = globex->agents().StreamRun(context.get(), stream_request);
  RunEvent event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(globex->ResumeRun(running->run_id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(globex->CancelRun(running->run_id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(acme->CancelRun(running->run_id()).ok());
  EXPECT_TRUE(globex->CancelRun(other->run_id()).ok());
}

// ResumeRun makes an ended run active again, so it counts against the tenant's active runs as
// StartRun does: resuming old runs one after another must not give one tenant every worker and
// an unbounded queue.
TEST_F(AgentServiceTest, ResumingARunCountsAgainstTheTenantsActiveRuns) {
  testing_support::WriteFile(data_.Join("config.json"), R"({"runs": {"max_active_runs_per_tenant": 1}})");
  StartDaemon({"--config", data_.Join("config.json")});
  RunT failed = StartRun("fails", Json::object(), R"lua(
plan{name = "fails", run = function(ctx) return ctx.step("boom", function() error("fails at once") end) end})lua");
  ASSERT_EQ(WaitForEnd(failed.run_id()).state(), RUN_STATE_FAILED);
  // A fresh daemon holds no ended run among its active ones, however quickly its worker let go.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->WaitForExit(std::chrono::seconds(30)), 0);
  daemon_.reset();
  StartDaemon({"--config", data_.Join("config.json")});

  StartRunRequest slow;
  slow.set_plan("slow");
  slow.set_plan_source(kSlowPlan);
  slow.set_inputs_json(R"({"spins": 2000000000})");
  absl::StatusOr<RunT> running = client_->StartRun(slow);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(client_->StartRun(slow).status().code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<RunT> resumed = client_->ResumeRun(failed.run_id());
  EXPECT_EQ(resumed.status().code(), absl::StatusCode::kResourceExhausted) << resumed.status();
  EXPECT_THAT(std::string(resumed.status().message()), HasSubstr("active runs (the limit)"));
  absl::StatusOr<RunT> still = client_->GetRun(failed.run_id());
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_EQ(still->state(), RUN_STATE_FAILED);
  if (resumed.ok()) client_->CancelRun(failed.run_id()).IgnoreError();
  EXPECT_TRUE(client_->CancelRun(running->run_id()).ok());
}

TEST_F(AgentServiceTest, JsonSchemaValueBoundsAreCheckedAfterDecoding) {
  // minimum/maximum are accepted (the mask keeps the structure) and checked once the reply is
  // decoded: a value no integer can meet always comes back as json_error, never as json.
  StartDaemon();
  RunT started = StartRun("bounds", Json::object(), R"lua(
plan{name = "bounds", run = function(ctx)
  local out = ctx.step("ask", function()
    local reply = ctx.llm.chat{messages = {{role = "user", content = "A number."}}, max_tokens = 40,
                               json_schema = {type = "object", required = {"n"},
                                              properties = {n = {type = "integer", minimum = 1e30}}}}
    return {has_json = reply.json ~= nil, error = reply.json_error or ""}
  end)
  return {content = json.encode(out)}
end})lua");
  RunT run = WaitForEnd(started.run_id());
  ASSERT_EQ(run.state(), RUN_STATE_SUCCEEDED) << run.error();
  Json out = Json::parse(run.artifact().content());
  EXPECT_EQ(out["has_json"], false) << out.dump();
  EXPECT_THAT(out["error"].get<std::string>(), HasSubstr("json.n: must be at least")) << out.dump();
}

TEST_F(AgentServiceTest, ClientsCannotRaiseTheDaemonsBudgets) {
  testing_support::WriteFile(data_.Join("config.json"),
                             R"({"runs": {"deadline_seconds": 60, "max_tokens": 5000, "max_tool_calls": 10}})");
  StartDaemon({"--config", data_.Join("config.json")});
  StartRunRequest request;
  request.set_plan("slow");
  request.set_plan_source(kSlowPlan);
  request.set_inputs_json(R"({"spins": 10})");
  request.mutable_limits()->set_deadline_seconds(600);
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()),
              HasSubstr("limits.deadline_seconds: at most 60 (the daemon's runs.deadline_seconds)"));
  request.mutable_limits()->set_deadline_seconds(30);
  request.mutable_limits()->set_max_tool_calls(1000);
  EXPECT_THAT(std::string(client_->StartRun(request).status().message()), HasSubstr("limits.max_tool_calls: at most 10"));
  request.mutable_limits()->set_max_tool_calls(0);  // 0: the daemon's
  request.mutable_limits()->set_max_tokens(100);    // lower is fine
  absl::StatusOr<RunT> run = client_->StartRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->limits().deadline_seconds(), 30u);
  EXPECT_EQ(run->limits().max_tokens(), 100u);
  EXPECT_EQ(run->limits().max_tool_calls(), 10u);
}

// What a person sees when something is wrong: a mistyped command is named with the nearest
// one, a flag's bad value is reported against the flag, and a failed run's events, its cancel
// and its resume say what happened in the words agentctl uses elsewhere.
TEST_F(AgentServiceTest, AgentctlNamesWhatIsWrongAndShowsWhatHappened) {
  StartDaemon();
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  auto typo = RunCommand({agentctl, "--addr", daemon_->address(), "memory", "serach", "x"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_THAT(typo.err, HasSubstr("agentctl memory: 'serach' is not a command; did you mean 'search'?"));
  auto group = RunCommand({agentctl, "--addr", daemon_->address(), "runs"});
  EXPECT_EQ(group.exit_code, 2);
  EXPECT_THAT(group.err, HasSubstr("agentctl runs: a command is required: list, show, cancel, resume, delete, events"));
  auto stray = RunCommand({agentctl, "--addr", daemon_->address(), "--bogus", "health"});
  EXPECT_EQ(stray.exit_code, 2);
  EXPECT_THAT(stray.err, HasSubstr("unexpected argument '--bogus'"));
  auto args = RunCommand({agentctl, "--addr", daemon_->address(), "tools", "call", "calculator", "--args", "{units: 10}"});
  EXPECT_EQ(args.exit_code, 2);
  EXPECT_THAT(args.err, HasSubstr("--args: not valid JSON"));

  // A plan whose second step fails, with a model call in the first (a transcript to show).
  testing_support::WriteFile(data_.Join("fails.lua"), R"lua(
plan{name = "fails", run = function(ctx, inputs)
  ctx.step("ask", function()
    return ctx.llm.chat{messages = {{role = "user", content = "Say hi"}}, max_tokens = 3, temperature = 0}.text
  end)
  ctx.step("break", function() error("the second step breaks", 0) end)
  return {media_type = "text/plain", content = "never"}
end}
)lua");
  auto failed = RunCommand({agentctl, "--addr", daemon_->address(), "run", "fails", "--plan-file", data_.Join("fails.lua"),
                            "--detach", "--json"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err;
  const std::string run_id = Json::parse(failed.out)["run_id"];
  WaitForEnd(run_id);
  auto events = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "events", run_id});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, HasSubstr("step_finished   break  FAILED  error: the second step breaks"));
  EXPECT_THAT(events.out, ::testing::ContainsRegex("run_ended +FAILED  error: .*the second step breaks"));
  auto shown = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "show", run_id, "--transcripts"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("── model call"));
  EXPECT_THAT(shown.out, HasSubstr("Say hi"));
  auto cancel = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "cancel", run_id});
  EXPECT_EQ(cancel.exit_code, 1);
  EXPECT_THAT(cancel.err, HasSubstr("has already ended (FAILED)"));
  EXPECT_THAT(cancel.err, ::testing::Not(HasSubstr("RUN_STATE_")));
  auto resumed = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "resume", run_id, "--follow", "--quiet"});
  EXPECT_EQ(resumed.exit_code, 1) << "resumed, it fails again at the same step";
  EXPECT_THAT(resumed.err, ::testing::Not(HasSubstr("▶")));
  EXPECT_THAT(resumed.err, HasSubstr("the second step breaks"));

  // Progress stays one line per event, however long a warning or a tool's arguments are.
  testing_support::WriteFile(data_.Join("long.lua"), R"lua(
plan{name = "long", run = function(ctx, inputs)
  ctx.step("long", function()
    ctx.warn(string.rep("x", 10000))
    return ctx.tools.call("calculator", {expression = "1" .. string.rep("+1", 3000)})
  end)
  return {content = "done"}
end}
)lua");
  auto long_run = RunCommand({agentctl, "--addr", daemon_->address(), "run", "long", "--plan-file", data_.Join("long.lua")});
  EXPECT_THAT(long_run.err, HasSubstr("  ! xxxxxxxx"));
  EXPECT_THAT(long_run.err, HasSubstr("  ⚙ calculator {\"expression\":\"1+1+1"));
  std::istringstream lines(long_run.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("agentctl: ", 0) == 0) continue;  // the run's final error, said whole
    EXPECT_LT(line.size(), 400u) << line.substr(0, 80);
  }
}

// A report's text is whatever its sources and its plan put in it: printed to a terminal, its
// control characters are shown ("?"), never obeyed — an OSC 52 sequence would set the reader's
// clipboard, "ESC [2J" clear the screen. Written to a pipe or a file it is the artifact, byte for byte.
TEST_F(AgentServiceTest, AgentctlShowsAReportsControlCharactersOnATerminalAndKeepsThemInAPipe) {
  StartDaemon();
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  const std::string content = "# Q3 \x1b]52;c;Y3VybCBldmlsfHNo\x07results\n\x1b[2J\x1b[1Aheld \xc2\x9b" "31m\n";
  const std::string plan = plans_.Join("ansi.lua");
  testing_support::WriteFile(plan, "plan{name = \"ansi\", run = function(ctx, inputs) return {media_type = \"text/markdown\", "
                                   "content = \"# Q3 \\27]52;c;Y3VybCBldmlsfHNo\\7results\\n\\27[2J\\27[1Aheld \\194\\155" "31m\\n\"} end}\n");
  auto piped = RunCommand({agentctl, "--addr", daemon_->address(), "run", "ansi", "--plan-file", plan, "--quiet"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, content);
  auto shown = testing_support::RunCommandInTerminal({agentctl, "--addr", daemon_->address(), "run", "ansi", "--plan-file", plan, "--quiet"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_THAT(shown.out, HasSubstr("# Q3 ?]52;c;Y3VybCBldmlsfHNo?results"));
  EXPECT_THAT(shown.out, HasSubstr("?[2J?[1Aheld ?31m"));
  for (const char control : {'\x1b', '\x07'}) EXPECT_EQ(shown.out.find(control), std::string::npos) << shown.out;
  EXPECT_EQ(shown.out.find("\xc2\x9b"), std::string::npos) << shown.out;
}

TEST_F(AgentServiceTest, AgentctlRunsReportsAndShowsRuns) {
  StartDaemon();
  IngestSeeds();
  const std::string agentctl = testing_support::BinaryPath("agentctl");
  auto detached = RunCommand({agentctl, "--addr", daemon_->address(), "run", "report", "--topic", "AI Agent market",
                              "--collection", "seeds", "--input", "max_sections=2", "--detach", "--json"});
  ASSERT_EQ(detached.exit_code, 0) << detached.err;
  Json id = Json::parse(detached.out);
  const std::string run_id = id["run_id"];
  WaitForEnd(run_id);
  auto shown = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "show", run_id, "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  Json run = Json::parse(shown.out);
  EXPECT_EQ(run["state"], "SUCCEEDED");
  ASSERT_TRUE(run["steps"].is_array());
  EXPECT_EQ(run["steps"][0]["name"], "outline");
  EXPECT_EQ(run["steps"][0]["state"], "SUCCEEDED");
  EXPECT_EQ(run["steps"][0]["attempts"], 1);
  EXPECT_THAT(run["artifact"]["content"].get<std::string>(), HasSubstr("## References"));  // English topic

  const std::string out = data_.Join("report.md");
  auto followed = RunCommand({agentctl, "--addr", daemon_->address(), "run", "report", "--topic", "AI Agent market",
                              "--collection", "seeds", "--input", "max_sections=2", "--out", out});
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  EXPECT_THAT(followed.err, HasSubstr("✓ outline"));
  EXPECT_THAT(followed.err, HasSubstr("run SUCCEEDED"));
  EXPECT_EQ(testing_support::ReadFile(out).rfind("# ", 0), 0u);

  auto listed = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "list"});
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_THAT(listed.out, HasSubstr(run_id));
  auto missing = RunCommand({agentctl, "--addr", daemon_->address(), "runs", "show", "run-none"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no run run-none"));
  auto failing = RunCommand({agentctl, "--addr", daemon_->address(), "run", "report", "--collection", "seeds"});
  EXPECT_EQ(failing.exit_code, 1);
  EXPECT_THAT(failing.err, HasSubstr("inputs.topic"));
}

}  // namespace
