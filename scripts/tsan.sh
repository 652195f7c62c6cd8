#!/bin/bash
# ThreadSanitizer over the code's own threads: builds everything with -fsanitize=thread into
# build-tsan and runs the suites where those threads meet without gRPC in between — the engine's
# scheduler with its callers (cancellation, withdrawal from the queue, speculation, the Engine
# facade), the decode thread pool's work stealing, the KV block pool, the memory store under
# concurrent ingest and search, the Lua runtime, the daemon's call pool. Each report goes to a
# log; the script prints the distinct ones and exits non-zero when there is any.
#
#   bash scripts/tsan.sh [GTEST_FILTER]      # default: the suites listed below
#
# Not part of the test command (the instrumented build alone takes ~40 minutes on 2 cores), and
# not over the daemon: Debian's gRPC and abseil are not instrumented, so TSan cannot see their
# locks and reports every hand-off between a gRPC thread and a handler (thousands of reports in
# the integration suites, all through libgrpc/libgpr/absl frames), and protobuf's headers change
# their layout under -fsanitize=thread (PROTOBUF_TSAN) against the uninstrumented libprotobuf,
# which crashes reflection (request_validator_test). Checking the service edge needs gRPC built
# with TSan, which the package registries do not have.
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-*}"

cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENTD_CUDA=OFF \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_CXX_FLAGS=-fsanitize=thread \
  -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan

logs="$(mktemp -d /tmp/agentd-tsan.XXXXXX)"
# OpenMP runs the engine's kernels (and FAISS's searches) on libgomp's threads, whose barriers
# TSan cannot see: every parallel region would be reported. With one OpenMP thread those regions
# run on the thread that enters them, and what is checked is the code's own threads — the
# scheduler and its callers, the call pool, gRPC and HTTP handlers, runs, the memory store. The
# kernels' own splitting of work (StealingShares) is checked by its test's std::threads.
export OMP_NUM_THREADS=1
# log_path is inherited by the daemons the integration tests start: their reports land here too.
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4 log_path=$logs/tsan"
status=0
# Each binary with the tests where its threads meet (a filter given on the command line replaces
# them all).
suites=(
  "engine_generation_tests:SchedulerTest.*:SpeculationTest.*:EngineTest.*"
  "engine_unit_tests:StealingSharesTest.*:MatmulTest.*:KvBlockPoolTest.*"
  "agentd_unit_tests:CallPoolTest.*:DataDirLockTest.*"
  "memory_tests:MemoryStoreTest.*"
  # Less a test that wants each refusal within 5 s, which TSan's slowdown alone exceeds.
  "scripting_tests:*-SandboxTest.JsonKeysCountAgainstTheTextBudget"
)
for suite in "${suites[@]}"; do
  binary="${suite%%:*}"
  tests="${suite#*:}"
  [ -n "${1:-}" ] && tests="$filter"
  echo "== $binary ($tests)"
  if ! (cd build-tsan && timeout 2400 "bin/$binary" --gtest_filter="$tests" --gtest_brief=1 > "$logs/$binary.out" 2>&1); then
    echo "   failed or timed out: $logs/$binary.out"
    tail -5 "$logs/$binary.out" | sed 's/^/   /'
    status=1
  fi
  tail -1 "$logs/$binary.out" | sed 's/^/   /'
done

reports=$(cat "$logs"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer' || true)
echo "== $reports ThreadSanitizer reports (logs in $logs)"
if [ "$reports" -gt 0 ]; then
  # One line per distinct report: its kind and the first two frames in agentd's own code.
  for log in "$logs"/tsan.*; do
    awk '/^WARNING: ThreadSanitizer/ {kind=$0; n=0; next}
         kind != "" && /#[0-9]+ / && /\/work\/|agentd|engine|memory|scripting|tools/ && n < 2 {frames = frames " | " $0; n++}
         /^SUMMARY: ThreadSanitizer/ {print kind frames; kind=""; frames=""}' "$log"
  done | sed 's/  */ /g' | sort | uniq -c | sort -rn | head -40
  status=1
fi
exit $status
