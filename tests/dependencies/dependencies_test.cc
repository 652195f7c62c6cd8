// Every third-party library the project builds on links into one binary and works: a FAISS
// search over OpenBLAS, a RocksDB round trip, Lua, utf8proc, libcurl and gRPC (Oniguruma in
// oniguruma_test.cc: its header clashes with glibc's <regex.h>, which RocksDB pulls in).
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <faiss/IndexFlat.h>
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <utf8proc.h>

#include <cstring>

#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "support/daemon_process.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

namespace {

TEST(DependenciesTest, FaissFindsTheNearestVector) {
  faiss::IndexFlatL2 index(4);
  std::vector<float> data = {0, 0, 0, 0, 1, 1, 1, 1, 5, 5, 5, 5};
  index.add(3, data.data());
  float query[4] = {0.9f, 1.1f, 1.0f, 1.0f};
  float distance;
  faiss::Index::idx_t label;
  index.search(1, query, 1, &distance, &label);
  EXPECT_EQ(label, 1);
}

TEST(DependenciesTest, RocksDbRoundTrip) {
  testing_support::TempDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, dir.Join("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "k", "v").ok());
  std::string value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "k", &value).ok());
  EXPECT_EQ(value, "v");
}

TEST(DependenciesTest, LuaRunsAChunk) {
  lua_State* state = luaL_newstate();
  luaL_openlibs(state);
  ASSERT_EQ(luaL_dostring(state, "return 6 * 7"), LUA_OK);
  EXPECT_EQ(lua_tointeger(state, -1), 42);
  lua_close(state);
}

TEST(DependenciesTest, Utf8procNormalizesToNfc) {
  const char* decomposed = "e\xCC\x81";  // e + combining acute
  utf8proc_uint8_t* nfc = utf8proc_NFC(reinterpret_cast<const utf8proc_uint8_t*>(decomposed));
  EXPECT_STREQ(reinterpret_cast<char*>(nfc), "\xC3\xA9");
  free(nfc);
}

TEST(DependenciesTest, CurlAndGrpcAndJsonAreUsable) {
  curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  ASSERT_NE(info, nullptr);
  EXPECT_NE(info->protocols, nullptr);
  EXPECT_FALSE(grpc::Version().empty());
  EXPECT_EQ(nlohmann::json::parse(R"({"a": [1, 2]})")["a"][1], 2);
  EXPECT_GT(benchmark::CPUInfo::Get().num_cpus, 0);
}

}  // namespace
