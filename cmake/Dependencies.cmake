# Every dependency comes from a Debian 12 package (scripts/install_deps.sh installs them).
# Nothing is vendored or downloaded at build time.

# What the engine needs; with AGENTD_ENGINE_ONLY that is all (scripts/gpu_build.sh brings these
# packages to a machine without them, unpacked into a prefix named in CMAKE_PREFIX_PATH).
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(OpenMP REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
if(AGENTD_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()

# Oniguruma and utf8proc through pkg-config, or, for an unpacked prefix (whose .pc files name
# /usr), by their headers and libraries under CMAKE_PREFIX_PATH.
function(agentd_find_plain_library target header library)
  find_path(${target}_INCLUDE_DIR ${header} REQUIRED)
  find_library(${target}_LIBRARY ${library} REQUIRED)
  add_library(PkgConfig::${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(PkgConfig::${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${${target}_INCLUDE_DIR}"
                                                         INTERFACE_LINK_LIBRARIES "${${target}_LIBRARY}")
endfunction()
if(AGENTD_ENGINE_ONLY)
  agentd_find_plain_library(ONIGURUMA oniguruma.h onig)
  agentd_find_plain_library(UTF8PROC utf8proc.h utf8proc)
  return()
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(ONIGURUMA REQUIRED IMPORTED_TARGET oniguruma)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

# gRPC + protobuf (abseil comes with gRPC).
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_program(GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)

# Snowball stemmers for English lexical search (libstemmer-dev ships no pkg-config file).
agentd_find_plain_library(STEMMER libstemmer.h stemmer)

# Storage and retrieval. Debian's FAISS config expects OpenMP and BLAS to be found first.
find_package(RocksDB CONFIG REQUIRED)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
find_package(faiss CONFIG REQUIRED)

# Scripting, networking.
pkg_check_modules(LUA REQUIRED IMPORTED_TARGET lua5.4)
# The HTTP side (OpenAI-compatible API, /metrics): Debian's cpp-httplib, built with OpenSSL.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # SHA-256 content hashes
# PDF text for `agentctl memory ingest` (poppler's C++ interface; the daemon never parses a PDF).
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
# The PDF reader's sandbox (sdk/agentctl/reader_sandbox.h): a seccomp filter on the child that parses.
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)

if(AGENTD_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
