// MemoryService on the real daemon (with the tiny model as embedder): collections, ingest,
// search with provenance, agentctl memory commands and their --json output, and durability: a
// daemon killed with SIGKILL in the middle of a stream of ingests loses no acknowledged
// document, and its index agrees with the store after restart.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "sdk/client.h"
#include "support/daemon_process.h"

namespace {

using ::testing::HasSubstr;
using testing_support::BinaryPath;
using testing_support::CommandResult;
using testing_support::DaemonProcess;
using testing_support::RunCommand;
using testing_support::TempDir;
using namespace agentd::v1;

DaemonProcess Start(const std::string& data_dir) {
  return testing_support::StartDaemonOrThrow(data_dir, {"--model", testing_support::TinyChatModelDir()});
}

std::unique_ptr<sdk::Client> Connect(const DaemonProcess& daemon) {
  sdk::ClientOptions options;
  options.address = daemon.address();
  return std::move(*sdk::Client::Create(options));
}

// Ingest shows its progress on a terminal (files, chunks, rate, time left, the file being
// worked on), clears it before the result, and stays quiet when standard error is not a
// terminal or the output is --json. The terminal is a pseudo-terminal from script(1).
TEST(MemoryServiceTest, IngestShowsProgressOnATerminalOnly) {
  TempDir dir;
  DaemonProcess daemon = Start(dir.Join("data"));
  const std::string agentctl = BinaryPath("agentctl");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon.address(), "memory", "create", "c", "--embedding-model", "none"}).exit_code, 0);
  const std::string seeds = std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/";
  const std::string first = seeds + "000_37400ed1cf531c96.txt", second = seeds + "001_8105c39df311472b.txt";
  CommandResult tty = RunCommand({"/usr/bin/script", "-qec",
                                  agentctl + " --addr " + daemon.address() + " memory ingest c --batch 1 " + first + " " + second,
                                  "/dev/null"});
  ASSERT_EQ(tty.exit_code, 0) << tty.out << tty.err;
  EXPECT_THAT(tty.out, HasSubstr("\r\033[K[....................] 0/2 files, 0 chunks"));
  EXPECT_THAT(tty.out, HasSubstr("000_37400ed1cf531c96.txt 0:0"));
  EXPECT_THAT(tty.out, ::testing::ContainsRegex("1/2 files, [0-9]+ chunks \\([0-9]+ chunks/s\\), about [0-9:]+ left"));
  // The line is cleared before the result is printed.
  EXPECT_THAT(tty.out, HasSubstr("\r\033[Kingested 2 files into c: 2 created"));

  CommandResult piped = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "c", first, second});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
  EXPECT_EQ(piped.out, "ingested 2 files into c: 0 created, 0 updated, 2 unchanged (" +
                           std::to_string(nlohmann::json::parse(RunCommand({agentctl, "--addr", daemon.address(), "memory",
                                                                            "stats", "c", "--json"}).out)["chunks"].get<int>()) +
                           " chunks)\n");
  CommandResult json = RunCommand({"/usr/bin/script", "-qec",
                                   agentctl + " --addr " + daemon.address() + " memory ingest c --json " + first, "/dev/null"});
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_THAT(json.out, ::testing::Not(HasSubstr("files, ")));
  EXPECT_THAT(json.out, HasSubstr("\"unchanged\": 1"));
}

// Research reports mostly come as PDF, and pages as HTML: agentctl sends their text (the PDF's
// text layer, read by poppler on the client; the page as web_fetch reads it, its <title> the
// document's), and says what to do about a file it cannot read rather than sending bytes.
TEST(MemoryServiceTest, AgentctlIngestsPdfAndHtmlFilesAsTheirText) {
  TempDir dir;
  DaemonProcess daemon = Start(dir.Join("data"));
  const std::string agentctl = BinaryPath("agentctl");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon.address(), "memory", "create", "docs", "--embedding-model", "none"}).exit_code, 0);
  const std::string documents = std::string(AGENTD_TEST_DATA_DIR) + "/documents/";
  // A PDF under a name without its extension is known by its header.
  ASSERT_TRUE(std::filesystem::copy_file(documents + "storage_brief.pdf", dir.Join("brief")));
  CommandResult ingested = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "docs",
                                       documents + "storage_brief.pdf", documents + "storage_brief.html", dir.Join("brief")});
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  EXPECT_THAT(ingested.out, HasSubstr("3 created"));
  CommandResult found = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "docs", "--json", "--k", "3",
                                    "储能电池出货量"});
  ASSERT_EQ(found.exit_code, 0) << found.err;
  const nlohmann::json hits = nlohmann::json::parse(found.out)["hits"];
  for (const char* id : {"storage_brief.pdf", "storage_brief.html", "brief"}) {
    bool seen = false;
    for (const auto& hit : hits) {
      if (hit["document"] != id) continue;
      seen = true;
      const std::string text = hit["text"];
      EXPECT_THAT(text, HasSubstr("314 GWh")) << id;
      EXPECT_THAT(text, HasSubstr("$97 per kilowatt-hour")) << id;
      EXPECT_THAT(text, ::testing::Not(HasSubstr("<p>"))) << id;
      EXPECT_THAT(text, ::testing::Not(HasSubstr("obj"))) << id;  // no PDF syntax
      EXPECT_EQ(hit["title"], "光伏储能市场简报") << id;
    }
    EXPECT_TRUE(seen) << id << "\n" << found.out;
  }
  testing_support::WriteFile(dir.Join("damaged.pdf"), "%PDF-1.7\n1 0 obj << /Type /Catalog");
  testing_support::WriteFile(dir.Join("blank.html"), "<html><head><title>t</title></head><body> </body></html>");
  for (const auto& [file, message] : std::vector<std::pair<std::string, std::string>>{
           {dir.Join("damaged.pdf"), "damaged.pdf: is not a PDF that can be read"},
           {documents + "no_text_layer.pdf", "no_text_layer.pdf: has no text layer (a scanned PDF?); run OCR on it first"},
           {dir.Join("blank.html"), "blank.html: has no text"}}) {
    CommandResult refused = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "docs", file});
    EXPECT_EQ(refused.exit_code, 1) << file;
    EXPECT_THAT(refused.err, HasSubstr(message)) << file;
    EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("Syntax Error"))) << "poppler's own messages: " << refused.err;
  }

  // A PDF built to take for ever (forms drawing forms, 8^20 times) is read by a child process
  // under a time limit, and skipped when it runs out: agentctl does not hang on it.
  CommandResult nested = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "docs", "--pdf-timeout", "2",
                                     documents + "nested_forms.pdf"});
  EXPECT_EQ(nested.exit_code, 1) << nested.out;
  EXPECT_THAT(nested.err, HasSubstr("nested_forms.pdf: took more than 2 s to read (a damaged or hostile PDF?)"));

  // The reader is confined (reader_sandbox.h), and ordinary PDFs still read: a page of 144 text
  // cells (glibc's qsort asks sysinfo) and a form whose field holds characters its font lacks
  // (fontconfig looks for a fallback) had ended the first filter's reader as "hostile".
  CommandResult ordinary = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "docs",
                                       documents + "many_blocks.pdf", documents + "form_cjk_field.pdf"});
  EXPECT_EQ(ordinary.exit_code, 0) << ordinary.out << ordinary.err;
  EXPECT_THAT(ordinary.out, HasSubstr("2 created")) << ordinary.err;
  CommandResult cells = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "docs", "--json", "--k", "3", "r17c7"});
  EXPECT_THAT(cells.out, HasSubstr("r17c7")) << cells.out << cells.err;

  // A directory: every text, Markdown, HTML and PDF file below it (not hidden ones, not other
  // kinds), each under its path there, so two notes.md stay two documents; a file that cannot be
  // read is skipped and named, the rest go in, and the exit status says not all did.
  const std::string tree = dir.Join("tree");
  std::filesystem::create_directories(tree + "/2024/q3");
  std::filesystem::create_directories(tree + "/2025");
  std::filesystem::create_directories(tree + "/.cache");
  ASSERT_TRUE(std::filesystem::copy_file(documents + "storage_brief.pdf", tree + "/2024/q3/brief.pdf"));
  ASSERT_TRUE(std::filesystem::copy_file(documents + "no_text_layer.pdf", tree + "/2025/scan.pdf"));
  testing_support::WriteFile(tree + "/2024/notes.md", "# Notes 2024\n\nThe depot ordered 12 straddle carriers.\n");
  testing_support::WriteFile(tree + "/2025/notes.md", "# Notes 2025\n\nThe depot ordered 30 straddle carriers.\n");
  testing_support::WriteFile(tree + "/.cache/old.txt", "a cached copy that is not a document of the collection");
  testing_support::WriteFile(tree + "/2025/photo.jpg", "\xff\xd8\xff\xe0 not text");
  ASSERT_EQ(RunCommand({agentctl, "--addr", daemon.address(), "memory", "create", "tree", "--embedding-model", "none"}).exit_code, 0);
  CommandResult walked = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "tree", tree});
  EXPECT_EQ(walked.exit_code, 1) << walked.out << walked.err;
  EXPECT_THAT(walked.out, HasSubstr("ingested 3 files into tree: 3 created"));
  EXPECT_THAT(walked.out, HasSubstr("; 1 skipped (above)"));
  EXPECT_THAT(walked.err, HasSubstr("agentctl: skipped " + tree + "/2025/scan.pdf: has no text layer"));
  CommandResult carriers = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "tree", "--json", "--k", "5",
                                       "straddle carriers ordered"});
  ASSERT_EQ(carriers.exit_code, 0) << carriers.err;
  std::set<std::string> ids;
  const nlohmann::json carrier_hits = nlohmann::json::parse(carriers.out)["hits"];
  for (const auto& hit : carrier_hits) ids.insert(hit["document"].get<std::string>());
  EXPECT_TRUE(ids.count("2024/notes.md") && ids.count("2025/notes.md")) << carriers.out;
  CommandResult stats = RunCommand({agentctl, "--addr", daemon.address(), "memory", "stats", "tree", "--json"});
  EXPECT_EQ(nlohmann::json::parse(stats.out)["documents"], 3) << stats.out;  // brief.pdf and the two notes
  // Two files named alike, given by name, would be one document: refused before anything is sent.
  CommandResult alike = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "tree", tree + "/2024/notes.md",
                                    tree + "/2025/notes.md"});
  EXPECT_EQ(alike.exit_code, 1);
  EXPECT_THAT(alike.err, HasSubstr("would both be stored as \"notes.md\""));
  CommandResult missing = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "tree", dir.Join("nope")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nope: no such file or directory"));
}

TEST(MemoryServiceTest, AgentctlCreatesIngestsAndSearchesTheSeedCorpus) {
  TempDir dir;
  DaemonProcess daemon = Start(dir.Join("data"));
  const std::string agentctl = BinaryPath("agentctl");
  CommandResult created = RunCommand({agentctl, "--addr", daemon.address(), "memory", "create", "seeds", "--index", "hnsw"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_THAT(created.out, HasSubstr("deepseek_v3_tiny_chat"));

  std::vector<std::string> ingest = {agentctl, "--addr", daemon.address(), "memory", "ingest", "seeds"};
  const std::string seeds = std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/";
  for (const char* f : {"000_37400ed1cf531c96.txt", "001_8105c39df311472b.txt", "002_43b260d425d982aa.txt"}) ingest.push_back(seeds + f);
  CommandResult ingested = RunCommand(ingest);
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  EXPECT_THAT(ingested.out, HasSubstr("3 created"));
  CommandResult again = RunCommand(ingest);
  EXPECT_THAT(again.out, HasSubstr("3 unchanged"));

  // Files the daemon could not take are named, with why, before anything is sent.
  testing_support::WriteFile(dir.Join("latin1.txt"), "caf\xe9 au lait");
  testing_support::WriteFile(dir.Join("blank.txt"), " \n\t\n");
  for (const auto& [file, message] : std::vector<std::pair<std::string, std::string>>{
           {dir.Join("latin1.txt"), "latin1.txt: is not UTF-8 text (invalid byte at offset 3)"},
           {dir.Join("blank.txt"), "blank.txt: has no text"},
           {"/bin/ls", "/bin/ls: is not UTF-8 text"}}) {
    CommandResult refused = RunCommand({agentctl, "--addr", daemon.address(), "memory", "ingest", "seeds", file});
    EXPECT_EQ(refused.exit_code, 1) << file;
    EXPECT_THAT(refused.err, HasSubstr(message));
    EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("libprotobuf")));
  }

  CommandResult search = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "seeds", "--k", "5",
                                     "--mode", "lexical", "--json", "2023年中国AI Agent市场规模是多少？"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  nlohmann::json hits = nlohmann::json::parse(search.out)["hits"];
  ASSERT_FALSE(hits.empty());
  bool found = false;
  for (const auto& h : hits) {
    EXPECT_TRUE(h.contains("text") && h.contains("score") && h.contains("document") && h.contains("offsets"));
    found = found || h["text"].get<std::string>().find("554") != std::string::npos;
  }
  EXPECT_TRUE(found);
  // The offsets point at the chunk's text inside the document.
  EXPECT_EQ(hits[0]["offsets"].size(), 2u);
  EXPECT_LT(hits[0]["offsets"][0].get<uint64_t>(), hits[0]["offsets"][1].get<uint64_t>());

  // --whole-sentences: the same chunks in the same order, each at least as wide, none shorter.
  CommandResult whole = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "seeds", "--k", "5", "--mode",
                                    "lexical", "--json", "--whole-sentences", "2023年中国AI Agent市场规模是多少？"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  nlohmann::json widened = nlohmann::json::parse(whole.out)["hits"];
  ASSERT_EQ(widened.size(), hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(widened[i]["chunk_id"], hits[i]["chunk_id"]);
    EXPECT_LE(widened[i]["offsets"][0].get<uint64_t>(), hits[i]["offsets"][0].get<uint64_t>());
    EXPECT_GE(widened[i]["offsets"][1].get<uint64_t>(), hits[i]["offsets"][1].get<uint64_t>());
    EXPECT_NE(widened[i]["text"].get<std::string>().find(hits[i]["text"].get<std::string>()), std::string::npos);
    EXPECT_TRUE(widened[i]["starts_sentence"].is_boolean());
  }

  CommandResult hybrid = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "seeds", "--json", "英伟达股价"});
  EXPECT_EQ(hybrid.exit_code, 0) << hybrid.err;

  CommandResult stats = RunCommand({agentctl, "--addr", daemon.address(), "memory", "stats", "seeds", "--json"});
  nlohmann::json s = nlohmann::json::parse(stats.out);
  EXPECT_EQ(s["documents"], 3);
  EXPECT_EQ(s["vectors"], s["chunks"]);

  CommandResult missing = RunCommand({agentctl, "--addr", daemon.address(), "memory", "search", "nope", "x"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("collection \"nope\" does not exist"));

  CommandResult deleted = RunCommand({agentctl, "--addr", daemon.address(), "memory", "delete", "seeds"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("3 documents"));
}

// Index parameters FAISS cannot live with are refused by name when the collection is made: an
// HNSW graph of one neighbour per node (FAISS then assigns no level to a node and grows a
// histogram without end on the first ingest: bad_alloc or the OOM killer, and again at every
// start, since the vectors are committed first), a search beam of 2^31 (two 8 GiB heaps per
// query), and values past INT_MAX that became negative on the way in.
TEST(MemoryServiceTest, IndexParametersFaissCannotUseAreRefusedByName) {
  TempDir dir;
  DaemonProcess daemon = Start(dir.Join("data"));
  auto client = Connect(daemon);
  struct Case {
    const char* field;
    IndexKind kind;
    void (*set)(IndexSpec*);
  };
  const Case cases[] = {
      {"index.hnsw_m", INDEX_KIND_HNSW, [](IndexSpec* i) { i->set_hnsw_m(1); }},
      {"index.hnsw_ef_search", INDEX_KIND_HNSW, [](IndexSpec* i) { i->set_hnsw_ef_search(2147483647u); }},
      {"index.hnsw_ef_search", INDEX_KIND_HNSW, [](IndexSpec* i) { i->set_hnsw_ef_search(4294967295u); }},
      {"index.hnsw_ef_construction", INDEX_KIND_HNSW, [](IndexSpec* i) { i->set_hnsw_ef_construction(2147483647u); }},
      {"index.ivf_nprobe", INDEX_KIND_IVF_PQ, [](IndexSpec* i) { i->set_ivf_nprobe(4294967295u); }},
      {"index.pq_m", INDEX_KIND_IVF_PQ, [](IndexSpec* i) { i->set_pq_m(4294967295u); }},
      {"index.pq_nbits", INDEX_KIND_IVF_PQ, [](IndexSpec* i) { i->set_pq_nbits(16); }},
  };
  int n = 0;
  for (const Case& c : cases) {
    CreateCollectionRequest create;
    create.set_name("hostile-" + std::to_string(n++));
    create.mutable_index()->set_kind(c.kind);
    c.set(create.mutable_index());
    Collection collection;
    grpc::Status status = client->memory().CreateCollection(client->NewContext().get(), create, &collection);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.field));
  }
  ListCollectionsResponse listed;
  ASSERT_TRUE(client->memory().ListCollections(client->NewContext().get(), ListCollectionsRequest(), &listed).ok());
  EXPECT_EQ(listed.collections_size(), 0) << "a refused collection was stored";

  // The smallest graph and the largest beams allowed are served.
  CreateCollectionRequest create;
  create.set_name("small-graph");
  create.mutable_index()->set_kind(INDEX_KIND_HNSW);
  create.mutable_index()->set_hnsw_m(2);
  create.mutable_index()->set_hnsw_ef_construction(4096);
  create.mutable_index()->set_hnsw_ef_search(4096);
  Collection collection;
  grpc::Status created = client->memory().CreateCollection(client->NewContext().get(), create, &collection);
  ASSERT_TRUE(created.ok()) << created.error_message();
  IngestRequest ingest;
  ingest.set_collection("small-graph");
  for (int i = 0; i < 3; ++i) ingest.add_documents()->set_text("document number " + std::to_string(i) + " about graphs");
  IngestResponse ingested;
  grpc::Status status = client->memory().Ingest(client->NewContext().get(), ingest, &ingested);
  ASSERT_TRUE(status.ok()) << status.error_message();
  SearchRequest search;
  search.set_collection("small-graph");
  search.set_query("graphs");
  search.set_mode(SEARCH_MODE_VECTOR);
  SearchResponse found;
  status = client->memory().Search(client->NewContext().get(), search, &found);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(found.hits_size(), 3);
  for (const SearchHit& hit : found.hits()) EXPECT_EQ(hit.issuer(), "") << "no source line credits anyone";

  // A research report's hits name the institute its source lines credit.
  IngestRequest report;
  report.set_collection("small-graph");
  report.add_documents()->set_text("graphs of demand\n数据来源：Wind，甲证券研究所\n数据来源：Wind，甲证券研究所\n数据来源：甲证券研究所\n");
  ASSERT_TRUE(client->memory().Ingest(client->NewContext().get(), report, &ingested).ok());
  search.set_query("demand");
  search.set_mode(SEARCH_MODE_LEXICAL);
  SearchResponse issued;
  ASSERT_TRUE(client->memory().Search(client->NewContext().get(), search, &issued).ok());
  ASSERT_GE(issued.hits_size(), 1);
  EXPECT_EQ(issued.hits(0).issuer(), "甲证券研究所");
}

TEST(MemoryServiceTest, AcknowledgedIngestsSurviveSigkill) {
  TempDir dir;
  std::vector<std::string> acknowledged;
  {
    DaemonProcess daemon = Start(dir.Join("data"));
    auto client = Connect(daemon);
    CreateCollectionRequest create;
    create.set_name("durable");
    create.mutable_index()->set_kind(INDEX_KIND_HNSW);
    Collection collection;
    ASSERT_TRUE(client->memory().CreateCollection(client->NewContext().get(), create, &collection).ok());

    // A writer ingests one document per call until the daemon dies under it.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::atomic<bool> writer_ended{false};
    std::thread writer([&] {
      for (int i = 0; !stop && i < 100000; ++i) {
        IngestRequest request;
        request.set_collection("durable");
        Document* doc = request.add_documents();
        doc->set_id("doc-" + std::to_string(i));
        doc->set_text("第" + std::to_string(i) + "份报告：唯一标记 token" + std::to_string(i) + " 以及一些正文内容。");
        IngestResponse response;
        if (!client->memory().Ingest(client->NewContext().get(), request, &response).ok()) break;
        std::lock_guard<std::mutex> lock(mutex);
        acknowledged.push_back("doc-" + std::to_string(i));
      }
      writer_ended = true;
    });
    // Until 40 are acknowledged; an ingest that fails ends the writer, and the wait with it.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!writer_ended && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::lock_guard<std::mutex> lock(mutex);
      if (acknowledged.size() >= 40) break;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      EXPECT_GE(acknowledged.size(), 40u) << "the writer's ingests stopped being acknowledged before the kill";
    }
    daemon.Signal(SIGKILL);
    EXPECT_EQ(daemon.WaitForExit(std::chrono::seconds(10)), -1);
    stop = true;
    writer.join();
  }
  ASSERT_GE(acknowledged.size(), 40u);

  DaemonProcess restarted = Start(dir.Join("data"));
  auto client = Connect(restarted);
  StatsRequest stats_request;
  stats_request.set_collection("durable");
  CollectionStats stats;
  ASSERT_TRUE(client->memory().Stats(client->NewContext().get(), stats_request, &stats).ok());
  // Every acknowledged document is there (an unacknowledged last one may be too).
  EXPECT_GE(stats.collection().document_count(), acknowledged.size());
  EXPECT_LE(stats.collection().document_count(), acknowledged.size() + 1);
  // The vector index agrees with the store.
  EXPECT_EQ(stats.vector_count(), stats.collection().chunk_count());
  // Each acknowledged document is searchable, lexically and by vector.
  for (size_t i = 0; i < acknowledged.size(); i += 7) {
    SearchRequest search;
    search.set_collection("durable");
    search.set_query("token" + std::to_string(i));
    search.set_k(1);
    search.set_mode(SEARCH_MODE_LEXICAL);
    SearchResponse response;
    ASSERT_TRUE(client->memory().Search(client->NewContext().get(), search, &response).ok());
    ASSERT_EQ(response.hits_size(), 1);
    EXPECT_EQ(response.hits(0).document_id(), acknowledged[i]);
  }
  SearchRequest vector_search;
  vector_search.set_collection("durable");
  vector_search.set_query("报告");
  vector_search.set_k(static_cast<uint32_t>(acknowledged.size()));
  vector_search.set_mode(SEARCH_MODE_VECTOR);
  SearchResponse vector_hits;
  ASSERT_TRUE(client->memory().Search(client->NewContext().get(), vector_search, &vector_hits).ok());
  EXPECT_EQ(vector_hits.hits_size(), static_cast<int>(acknowledged.size()));
}

}  // namespace
