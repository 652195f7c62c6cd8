#!/usr/bin/env bash
# The one-shot device check of the CUDA backend (issue 20), for the rare, short loan of a GPU
# machine: builds what it needs, runs every kernel against its CPU reference, runs them again
# under compute-sanitizer's memcheck, times the kernels against the copy roofline and
# transformers' generate on the DeepSeek-V2-Lite shape, and writes gpu_check.json and
# gpu_check.md to $OUT. Each stage has its own time limit, so a hang costs one stage, not the
# loan; without a GPU every device stage says "skipped" with the reason (a rehearsal).
#
#   bash scripts/gpu_prepare.sh                           # here, once: .gpu/ with the libraries
#   run: OUT=$OUT bash scripts/gpu_check.sh   carry [".gpu"]   # on the device machine
#   bash scripts/gpu_check.sh                             # rehearsal here: OUT=/tmp/gpu_check
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
stages="$OUT/stages.jsonl"
: > "$stages"
started=$(date +%s)

# record STAGE STATUS SECONDS DETAIL
record() {
  /usr/bin/env python3 -c 'import json,sys; print(json.dumps({"stage":sys.argv[1],"status":sys.argv[2],"seconds":int(sys.argv[3]),"detail":sys.argv[4]}))' \
    "$1" "$2" "$3" "$4" >> "$stages"
  echo "gpu_check: $1: $2 ($3 s) $4"
}

# run_stage NAME LIMIT_SECONDS OUTPUT_FILE COMMAND... — the command's output goes to the file.
run_stage() {
  local name=$1 limit=$2 output=$3
  shift 3
  local t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$output" 2>&1
  local rc=$? elapsed=$(( $(date +%s) - t0 ))
  if [[ $rc -eq 0 ]]; then
    record "$name" passed "$elapsed" "$(basename "$output")"
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    record "$name" failed "$elapsed" "timed out after $limit s; $(basename "$output") has what it printed"
  else
    record "$name" failed "$elapsed" "exit $rc; $(tail -c 300 "$output" | tr '\n' ' ')"
  fi
  return $rc
}

targets="engine_cuda_ops_tests engine_cuda_model_tests cuda_ops_bench cuda_model_bench"
# 1. Build: on the device machine from the carried .debs (scripts/gpu_build.sh), here in build/.
if [[ -d .gpu/debs ]]; then
  bin=build-gpu/bin
  # The unpacked libraries' own dependencies are found through the loader's path (gpu_build.sh).
  export LD_LIBRARY_PATH="/tmp/agentd-prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  run_stage build 300 "$OUT/build.log" env AGENTD_BUILD_TARGETS="$targets" bash scripts/gpu_build.sh
else
  bin=build/bin
  run_stage build 600 "$OUT/build.log" bash -c "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null && cmake --build build --target $targets"
fi
built=$?
[[ -x $bin/engine_cuda_ops_tests ]] && ldd "$bin/engine_cuda_ops_tests" > "$OUT/ldd.txt" 2>&1

gpu=""
{ nproc; cmake --version | head -1; nvcc --version | tail -2; command -v compute-sanitizer; python3 --version; } > "$OUT/environment.txt" 2>&1
if command -v nvidia-smi > /dev/null && nvidia-smi -L > "$OUT/nvidia-smi.txt" 2>&1; then gpu=$(head -1 "$OUT/nvidia-smi.txt"); fi
no_gpu="no GPU on this machine (nvidia-smi found none)"

if [[ $built -ne 0 ]]; then
  for s in kernel_tests model_tests memcheck memcheck_model kernel_bench model_bench model_bench_unverified transformers_reference; do
    record "$s" skipped 0 "the build failed"
  done
else
  # 2. Every kernel against its CPU reference (the device cases skip without a GPU; the
  #    references' own checks run anyway).
  run_stage kernel_tests 180 "$OUT/kernel_tests.log" "$bin/engine_cuda_ops_tests" --gtest_output="json:$OUT/kernel_tests.json"
  # The whole forward pass on the fixtures against transformers (f32 to 1e-4, bf16 to 2e-2).
  run_stage model_tests 180 "$OUT/model_tests.log" "$bin/engine_cuda_model_tests" --gtest_output="json:$OUT/model_tests.json"
  if [[ -z "$gpu" ]]; then
    for s in memcheck memcheck_model kernel_bench model_bench model_bench_unverified transformers_reference; do record "$s" skipped 0 "$no_gpu"; done
  else
    # 3. The same tests under memcheck: out-of-bounds and misaligned accesses, leaks.
    sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
    run_stage memcheck 150 "$OUT/memcheck.log" "$sanitizer" --tool memcheck --error-exitcode 3 --leak-check full \
      "$bin/engine_cuda_ops_tests" --gtest_filter='CudaOpsTest.*'
    run_stage memcheck_model 150 "$OUT/memcheck_model.log" "$sanitizer" --tool memcheck --error-exitcode 3 --leak-check full \
      "$bin/engine_cuda_model_tests" --gtest_filter='CudaCacheTest.*:Fixtures/CudaModelTest.BatchedSequencesMatchAloneAndTheCpu/*'
    # 4. The kernels and the whole model against the copy roofline, and transformers on the same shape.
    run_stage kernel_bench 120 "$OUT/cuda_ops_bench.json" "$bin/cuda_ops_bench" --iterations 30
    run_stage model_bench 240 "$OUT/cuda_model_bench.json" "$bin/cuda_model_bench" --shape bench/shapes/deepseek_v2_lite.json
    # The same with the kernels written but not yet run on a GPU (CudaModelOptions::unverified_kernels),
    # whose correctness kernel_tests and model_tests check first.
    run_stage model_bench_unverified 240 "$OUT/cuda_model_bench_unverified.json" "$bin/cuda_model_bench" \
      --shape bench/shapes/deepseek_v2_lite.json --unverified-kernels
    run_stage transformers_reference 180 "$OUT/transformers.json" \
      python3 bench/gpu/transformers_generate.py bench/shapes/deepseek_v2_lite.json --batches 1,16
  fi
fi
record total done $(( $(date +%s) - started )) "${gpu:-$no_gpu}"
/usr/bin/env python3 scripts/gpu_check_report.py "$OUT"
# At most 8 files come back from a device run: every log goes back in one archive, beside the
# report.
if [[ -n "$gpu" ]]; then
  (cd "$OUT" && tar czf /tmp/gpu_check_logs.tar.gz --exclude gpu_check.md --exclude gpu_check.json . && \
     find . -maxdepth 1 -type f ! -name gpu_check.md ! -name gpu_check.json -delete && \
     mv /tmp/gpu_check_logs.tar.gz logs.tar.gz)
fi
