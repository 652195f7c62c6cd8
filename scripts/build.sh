#!/usr/bin/env bash
# Configures (once) and builds agentd into ./build. Idempotent; incremental after the first run.
# Build type RelWithDebInfo (-O2 -g): the tests run against the same optimised binaries users
# get, with symbols for debugging.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >build-configure.log 2>&1 || {
    cat build-configure.log >&2
    exit 1
  }
  rm -f build-configure.log
fi
cmake --build build -j"$(nproc)" -- --quiet
