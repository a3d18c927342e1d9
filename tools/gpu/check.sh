#!/usr/bin/env bash
# The GPU checks of the cuda device (docs/cuda.md), for a machine with an NVIDIA GPU, the
# CUDA Toolkit at /usr/local/cuda and the packages of tools/install-deps.sh; PyTorch and
# transformers for the peer numbers. Builds the CUDA targets, runs the GPU tests, the
# attention benchmark and its PyTorch peer, the logits comparison on the 1b preset, and
# end-to-end decode of a Llama-2-7B-shape model at batch 1 and 64. Every stage writes its
# output under OUT (default ./gpu-out) and the summary goes to OUT/summary.txt; a stage
# that fails is reported and the next one runs.
#
#   OUT=/tmp/gpu-out tools/gpu/check.sh [--skip-7b]
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-$PWD/gpu-out}
mkdir -p "$out"
build=${BUILD:-build-gpu}
jobs=$(nproc)
skip_7b=0
[[ "${1:-}" == "--skip-7b" ]] && skip_7b=1
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }
stage() {  # stage NAME LIMIT_S COMMAND...: runs it with output in OUT/NAME.log
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  say "$(printf '%-14s rc=%-3s %4ss  %s' "$name" "$rc" "$((SECONDS - t0))" "$out/$name.log")"
  return $rc
}

say "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
say "cpu: $(lscpu | sed -n 's/^Model name: *//p')"

# The build's packages (tools/install-deps.sh installs them where the network allows).
stage deps 300 bash tools/install-deps.sh || say "some packages are missing: see $out/deps.log"
stage configure 300 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBRICKS_CUDA=ON \
  -DBRICKS_BUILD_BENCH=OFF -DCMAKE_CUDA_ARCHITECTURES=90 || { say "cannot configure"; exit 1; }
stage build 900 cmake --build "$build" -j "$jobs" --target bricks bricks_plugins test_cuda_device \
  conformance_attention_test test_cuda_paged_plan cuda_attention_bench || { say "cannot build"; exit 1; }
bin="$build/bin"

# GPU tests: nothing may skip here.
stage tests 600 bash -c "'$bin/test_cuda_paged_plan' && \
  '$bin/conformance_attention_test' --gtest_filter='*cuda_paged*' && '$bin/test_cuda_device'"
grep -h "SKIPPED\|FAILED" "$out/tests.log" | sort | uniq -c | head -20 | tee -a "$summary"

stage attention 300 "$bin/cuda_attention_bench"
stage sdpa 300 python3 tools/gpu/sdpa_reference.py
paste -d'\n' "$out/attention.log" /dev/null | grep '^{' >> "$summary"
grep '^{' "$out/sdpa.log" >> "$summary"

# Logits on the 1b preset: cuda against cpu and against transformers on the same file.
models="$out/models"
mkdir -p "$models"
stage model-1b 300 "$bin/bricks" make-model --preset 1b --dtype bf16 --out "$models/1b-bf16.gguf" --force
prompt="Once upon a time, in a small village by the sea, there lived"
stage gen-cuda 300 bash -c "'$bin/bricks' generate --model '$models/1b-bf16.gguf' --device cuda \
  --json --logprobs 20 -n 32 -p '$prompt' > '$out/gen-cuda.json'"
stage gen-cpu 600 bash -c "'$bin/bricks' generate --model '$models/1b-bf16.gguf' --device cpu \
  --compute bf16 --json --logprobs 20 -n 32 -p '$prompt' > '$out/gen-cpu.json'"
stage logits 300 python3 tools/gpu/compare_logits.py "$out/gen-cuda.json" "$out/gen-cpu.json" \
  "$models/1b-bf16.gguf"
tail -1 "$out/logits.log" >> "$summary"

# The shipped manifest on the GPU (the 1b model it names is made under ./models).
stage manifest 600 "$bin/bricks" run manifests/cuda.textproto --no-progress \
  --report-json "$out/cuda-report.json" --trace-out "$out/cuda-trace.json"
grep -E "throughput|TTFT|TPOT|device" "$out/manifest.log" | head -8 >> "$summary"

# End-to-end decode of a Llama-2-7B-shape model: batch 1 (generate --stats) and batch 64
# (64 requests of 128 prompt and 256 output tokens, all at once).
if [[ $skip_7b == 0 ]]; then
  stage model-7b 600 "$bin/bricks" make-model --preset 7b --dtype bf16 --out "$models/7b-bf16.gguf" --force
  stage decode-b1 300 "$bin/bricks" generate --model "$models/7b-bf16.gguf" --device cuda \
    -n 256 -p "$prompt" --stats
  grep "tok/s" "$out/decode-b1.log" >> "$summary"
  sed -e "s|builtin: \"1b\"|path: \"$models/7b-bf16.gguf\"|" -e 's|dtype: "bf16"||' \
    -e 's|num_requests: 256|num_requests: 64|' -e 's|rate: 64|rate: 0|' \
    -e 's|prompt_len_min: 64|prompt_len_min: 128|' -e 's|prompt_len_max: 1024|prompt_len_max: 128|' \
    -e 's|output_len_min: 32|output_len_min: 256|' -e 's|output_len_max: 256|output_len_max: 256|' \
    -e 's|sampling {.*|sampling { temperature: 0 ignore_eos: true }|' \
    -e 's|kv_cache_bytes: [0-9]*|kv_cache_bytes: 0|' \
    manifests/cuda.textproto > "$out/decode-b64.textproto"
  stage decode-b64 600 "$bin/bricks" run "$out/decode-b64.textproto" --no-progress \
    --report-json "$out/decode-b64.json"
  grep -E "throughput|TPOT" "$out/decode-b64.log" | head -4 >> "$summary"
  # The sim device against the GPU: measured step times of the 7B shape as a calibration
  # table, and the sim's roofline for Llama-2-7B on its nearest preset (h100-80gb) beside it.
  stage calibrate 600 "$bin/bricks" calibrate manifests/cuda.textproto \
    --model "$models/7b-bf16.gguf" --out "$out/h200-llama-2-7b.csv" \
    --prefill 0,128,512,2048 --decodes 0,1,16,64 --context-sums 64,4096
  for sim in calibrated roofline; do
    cal=""
    [[ $sim == calibrated ]] && cal="calibration_file: \"$out/h200-llama-2-7b.csv\""
    sed -e "s|kind: \"cuda\"|kind: \"sim\" gpu: \"h100-80gb\" sim_model: \"llama-2-7b\" $cal|" \
      -e '/cuda_device:/d' -e '/compute:/d' -e 's|name: "cuda_paged"|name: "reference"|' \
      -e '/^model {/,/^}/d' manifests/cuda.textproto > "$out/sim-$sim.textproto"
    stage "step-cost-$sim" 120 "$bin/bricks" step-cost "$out/sim-$sim.textproto" \
      --decodes 1,16,64 --context 1024 --prompts 128,512,2048
  done
  rm -f "$models/7b-bf16.gguf"
fi
rm -f "$models/1b-bf16.gguf"
say "done; outputs in $out"
