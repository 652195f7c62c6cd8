#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and UBSan into
# ./build-fuzz, and runs each for SECONDS (default 30) from its seed corpus in tests/fuzz/corpus.
# Prints executions per target; exits non-zero when a target crashes, leaks or hangs (the
# reproducer is left in build-fuzz/artifacts/). Idempotent; incremental after the first build.
#
#   bash scripts/fuzz.sh            # every target, 30 s each
#   bash scripts/fuzz.sh 600 fuzz_json_matcher
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-30}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(fuzz_safetensors fuzz_gguf fuzz_model_config fuzz_tokenizer_json fuzz_json_matcher fuzz_request_validator
           fuzz_lua_json fuzz_plan_runtime fuzz_html_text fuzz_chunker fuzz_sentences fuzz_tables fuzz_openai_request)
fi
bash scripts/install_deps.sh  # clang and its fuzzer and sanitizer runtimes among them
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENTD_FUZZ=ON \
    >build-fuzz-configure.log 2>&1 || { cat build-fuzz-configure.log >&2; exit 1; }
  rm -f build-fuzz-configure.log
fi
cmake --build build-fuzz -j"$(nproc)" --target "${TARGETS[@]}" -- --quiet
mkdir -p build-fuzz/artifacts build-fuzz/corpus
status=0
printf '%-24s %12s %10s %s\n' target executions exec/s result
for target in "${TARGETS[@]}"; do
  # New inputs go to a scratch corpus; the seeds in the repository are only read.
  work="build-fuzz/corpus/$target"
  mkdir -p "$work"
  log="build-fuzz/$target.log"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "build-fuzz/bin/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="build-fuzz/artifacts/$target-" -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  if [ "$rc" -eq 0 ]; then result="no crash"; else result="FAILED (rc $rc, see $log)"; status=1; fi
  printf '%-24s %12s %10s %s\n' "$target" "${runs:-0}" "${speed:-0}" "$result"
done
exit $status
