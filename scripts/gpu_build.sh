#!/usr/bin/env bash
# Run on the GPU machine, in the repository root (after scripts/gpu_prepare.sh here, with .gpu
# carried): unpacks the engine's Debian libraries into a prefix and builds the engine, its
# tests and benchmarks alone, with the CUDA backend for Hopper.
#
#   bash scripts/gpu_build.sh            # build into build-gpu/
#   bash scripts/gpu_build.sh test       # and run the engine's tests
# AGENTD_CMAKE_ARGS adds CMake options (for a rehearsal on a machine that has the packages in
# /usr: AGENTD_CMAKE_ARGS=-DCMAKE_IGNORE_PREFIX_PATH=/usr).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=/tmp/agentd-prefix
if [[ ! -d .gpu/debs ]]; then
  echo "gpu_build: no .gpu/debs (run scripts/gpu_prepare.sh on the development machine and carry .gpu)" >&2
  exit 1
fi
# RUNPATH covers a binary's own libraries, not theirs: abseil's libraries find each other
# through the loader's path (on the device machine nothing of theirs is in /usr).
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [[ ! -f "$prefix/.unpacked" ]]; then
  for f in .gpu/debs/*.deb; do dpkg -x "$f" "$prefix"; done
  touch "$prefix/.unpacked"
fi
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DAGENTD_ENGINE_ONLY=ON -DAGENTD_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$prefix/usr" \
  -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST ${AGENTD_CMAKE_ARGS:-} > build-gpu.log
# AGENTD_BUILD_TARGETS limits the build to some targets (scripts/gpu_check.sh builds only what it runs).
cmake --build build-gpu -j "$(nproc)" ${AGENTD_BUILD_TARGETS:+--target $AGENTD_BUILD_TARGETS} >> build-gpu.log 2>&1 || { tail -50 build-gpu.log; exit 1; }
echo "gpu_build: built $(ls build-gpu/bin | tr '\n' ' ')"
if [[ "${1:-}" == test ]]; then
  ctest --test-dir build-gpu -j 8 --output-on-failure
fi
