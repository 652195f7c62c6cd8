#include "store_layout.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace memory::internal {
namespace {

using Json = nlohmann::json;

Json SpecToJson(const CollectionInfo& info, uint32_t id) {
  const CollectionSpec& s = info.spec;
  return Json{{"id", id},
              {"tenant", s.tenant},
              {"name", s.name},
              {"embedding_model", s.embedding_model},
              {"description", s.description},
              {"dimension", info.dimension},
              {"created_at_ms", info.created_at_ms},
              {"lexical_version", info.lexical_version},
              {"index",
               {{"kind", static_cast<int>(s.index.kind)},
                {"metric", static_cast<int>(s.index.metric)},
                {"hnsw_m", s.index.hnsw_m},
                {"hnsw_ef_construction", s.index.hnsw_ef_construction},
                {"hnsw_ef_search", s.index.hnsw_ef_search},
                {"ivf_nlist", s.index.ivf_nlist},
                {"ivf_nprobe", s.index.ivf_nprobe},
                {"pq_m", s.index.pq_m},
                {"pq_nbits", s.index.pq_nbits}}},
              {"chunking", {{"max_chars", s.chunking.max_chars}, {"overlap_chars", s.chunking.overlap_chars}}}};
}

CollectionInfo SpecFromJson(const Json& j, uint32_t* id) {
  CollectionInfo info;
  *id = j.at("id").get<uint32_t>();
  CollectionSpec& s = info.spec;
  s.tenant = j.at("tenant");
  s.name = j.at("name");
  s.embedding_model = j.at("embedding_model");
  s.description = j.value("description", "");
  info.dimension = j.at("dimension");
  info.created_at_ms = j.value("created_at_ms", int64_t{0});
  info.lexical_version = j.value("lexical_version", 1);
  const Json& x = j.at("index");
  s.index.kind = static_cast<IndexKind>(x.at("kind").get<int>());
  s.index.metric = static_cast<Metric>(x.at("metric").get<int>());
  s.index.hnsw_m = x.at("hnsw_m");
  s.index.hnsw_ef_construction = x.at("hnsw_ef_construction");
  s.index.hnsw_ef_search = x.at("hnsw_ef_search");
  s.index.ivf_nlist = x.at("ivf_nlist");
  s.index.ivf_nprobe = x.at("ivf_nprobe");
  s.index.pq_m = x.at("pq_m");
  s.index.pq_nbits = x.at("pq_nbits");
  s.chunking.max_chars = j.at("chunking").at("max_chars");
  s.chunking.overlap_chars = j.at("chunking").at("overlap_chars");
  return info;
}

Json DocToJson(const DocumentMeta& d) {
  Json j{{"title", d.title}, {"source", d.source}, {"date", d.date}, {"sha256", d.sha256},
              {"metadata", d.metadata}, {"chunks", d.chunks}};
  if (!d.articles.empty()) {
    Json articles = Json::array();
    for (const ArticleStart& a : d.articles) articles.push_back(Json::array({a.offset, a.title}));
    j["articles"] = std::move(articles);
  }
  if (d.stored_bytes > 0) j["bytes"] = d.stored_bytes;
  if (!d.issuer.empty()) j["issuer"] = d.issuer;
  return j;
}

DocumentMeta DocFromJson(const Json& j) {
  DocumentMeta d;
  d.title = j.value("title", "");
  d.source = j.value("source", "");
  d.date = j.value("date", "");
  d.sha256 = j.value("sha256", "");
  d.metadata = j.value("metadata", std::map<std::string, std::string>());
  d.chunks = j.value("chunks", std::vector<uint64_t>());
  d.stored_bytes = j.value("bytes", uint64_t{0});
  d.issuer = j.value("issuer", "");
  if (j.contains("articles")) {
    for (const Json& a : j.at("articles")) d.articles.push_back(ArticleStart{a.at(0).get<uint64_t>(), a.at(1).get<std::string>()});
  }
  return d;
}

}  // namespace

std::string BigEndian32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
  return s;
}
std::string BigEndian64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  return s;
}
uint64_t ReadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::string Prefix(uint32_t collection) { return BigEndian32(collection); }
std::string ChunkKey(uint32_t c, uint64_t chunk) { return Prefix(c) + BigEndian64(chunk); }
std::string DocKey(uint32_t c, const std::string& id) { return Prefix(c) + id; }
std::string PostingKey(uint32_t c, const std::string& term, uint64_t chunk) {
  return Prefix(c) + term + std::string(1, '\0') + BigEndian64(chunk);
}
std::string CounterKey(uint32_t c) { return "next_chunk/" + Prefix(c); }
std::string CollectionKey(const std::string& tenant, const std::string& name) {
  return tenant + std::string(1, '\0') + name;
}
// The smallest key greater than every key with this prefix.
std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  for (int i = static_cast<int>(end.size()) - 1; i >= 0; --i) {
    if (static_cast<unsigned char>(end[i]) != 0xff) {
      end[i] = static_cast<char>(static_cast<unsigned char>(end[i]) + 1);
      end.resize(i + 1);
      return end;
    }
  }
  return std::string(prefix.size() + 1, '\xff');
}

std::string CollectionRecord(const CollectionInfo& info, uint32_t id) { return SpecToJson(info, id).dump(); }

absl::StatusOr<CollectionInfo> ParseCollectionRecord(const std::string& record, uint32_t* id) {
  const Json j = Json::parse(record, nullptr, false);
  if (!j.is_object()) return absl::DataLossError("memory store: unreadable collection record");
  try {
    return SpecFromJson(j, id);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("memory store: damaged collection record (", e.what(), ")"));
  }
}

std::string DocumentRecord(const DocumentMeta& meta) {
  return DocToJson(meta).dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<DocumentMeta> ParseDocumentRecord(const std::string& record) {
  const Json j = Json::parse(record, nullptr, false);
  if (!j.is_object()) return absl::DataLossError("memory store: unreadable document record");
  try {
    return DocFromJson(j);
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("memory store: damaged document record (", e.what(), ")"));
  }
}

}  // namespace memory::internal
