# Every dependency comes from a Debian 12 package (scripts/install_deps.sh installs them).
# Nothing is vendored or downloaded at build time.

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# gRPC + protobuf (+ abseil, which gRPC already brings).
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
find_program(GRPC_PYTHON_PLUGIN grpc_python_plugin REQUIRED)

# Storage and retrieval. Debian's FAISS config expects OpenMP and BLAS to be found first.
find_package(RocksDB CONFIG REQUIRED)
find_package(OpenMP REQUIRED)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
find_package(faiss CONFIG REQUIRED)

# Scripting, networking, text.
pkg_check_modules(LUA REQUIRED IMPORTED_TARGET lua5.4)
pkg_check_modules(ONIGURUMA REQUIRED IMPORTED_TARGET oniguruma)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)  # SHA-256 content hashes
find_package(nlohmann_json CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

if(AGENTD_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(AGENTD_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
