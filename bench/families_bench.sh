#!/usr/bin/env bash
# Issue #11 model-family benchmarks: writes random-weight Q4_K_M files of real shapes with
# `corral synth` (qwen3-1.7b = Qwen3-1.7B; qwen3moe-30b-a3b-slim = Qwen3-30B-A3B's layers, 4 of
# its 48; gemma3-1b = Gemma-3-1B) into DIR when missing, measures the machine's memory read
# bandwidth (kernels_bench), then runs engine_bench on each file (pp512, tg128, batched 1..16).
# Per file it prints engine_bench's JSON line and a "read" JSON line: the weight bytes one decode
# step reads (a MoE step reads the non-expert weights plus expert_used / expert_count of the
# experts, not the whole file) and the bandwidth roofline tok/s with tg128's share of it.
#
# Usage: bench/families_bench.sh DIR [--tiny]
#   --tiny: tiny shapes of the same archs and short runs, to check the script in seconds.
# Environment: THREADS (default 2), REPS (default 3), BANDWIDTH (GB/s; skips the measurement),
#   CORRAL_TEST_DATA (the shared data directory, default ../shared: the Qwen vocabulary).
# Build first: ./scripts/build (or cmake --build build --target corral engine_bench kernels_bench).
# Run it on an idle machine: the numbers are only as quiet as the box.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 ]]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
DIR=$1
TINY=${2:-}
THREADS=${THREADS:-2}
REPS=${REPS:-3}
DATA=${CORRAL_TEST_DATA:-../shared}
BIN=build/bin
for b in corral engine_bench kernels_bench; do
  [[ -x $BIN/$b ]] || { echo "missing $BIN/$b: build first (./scripts/build)" >&2; exit 1; }
done
QWEN_VOCAB=$DATA/vocab/ggml-vocab-qwen2.gguf  # Qwen2/Qwen3's tokenizer: 151936 tokens, as the models
[[ -f $QWEN_VOCAB ]] || { echo "missing $QWEN_VOCAB (set CORRAL_TEST_DATA)" >&2; exit 1; }
mkdir -p "$DIR"

if [[ $TINY == --tiny ]]; then
  # name preset synth-args
  MODELS=("qwen3-tiny qwen3-tiny --vocab $DATA/vocab/ggml-vocab-syn-qwen3.gguf"
          "qwen3moe-tiny qwen3moe-tiny --vocab $DATA/vocab/ggml-vocab-syn-qwen3.gguf"
          "gemma3-tiny gemma3-tiny --n-vocab 1024")
  BENCH_ARGS=(-p 64 -n 16 --parallel 1,2 --batched-prompt 16 --batched-gen 8 -r 1)
elif [[ -z $TINY ]]; then
  MODELS=("qwen3-1.7b qwen3-1.7b --vocab $QWEN_VOCAB"
          "qwen3moe-30b-a3b-slim qwen3moe-30b-a3b-slim --vocab $QWEN_VOCAB"
          "gemma3-1b gemma3-1b")  # Gemma 3's 262144-token vocabulary size, byte tokens (no real vocab here)
  BENCH_ARGS=(-p 512 -n 128 --parallel 1,2,4,8,16 -r "$REPS")
else
  echo "unknown option $TINY (only --tiny)" >&2
  exit 2
fi

if [[ -z ${BANDWIDTH:-} ]]; then
  # kernels_bench's memory/read_bandwidth_2_threads: sums a 1 GiB array on the compute pool.
  BANDWIDTH=$($BIN/kernels_bench --benchmark_filter='^memory/read_bandwidth' --benchmark_format=json 2>/dev/null |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)["benchmarks"][0]["GB/s"], 2))')
fi
echo "{\"bandwidth_gbs\": $BANDWIDTH, \"source\": \"${BANDWIDTH_SOURCE:-kernels_bench memory/read_bandwidth_2_threads}\"}"

for m in "${MODELS[@]}"; do
  read -r name preset synth_args <<<"$m"
  file=$DIR/$name-q4_k_m.gguf
  if [[ ! -f $file ]]; then
    # shellcheck disable=SC2086  # synth_args is a word list
    $BIN/corral synth --preset "$preset" --type q4_k_m $synth_args -t "$THREADS" -o "$file.part" >&2
    mv "$file.part" "$file"
  fi
  echo "== $name ($(du -h "$file" | cut -f1)) ==" >&2
  bench_json=$($BIN/engine_bench -m "$file" -t "$THREADS" --bandwidth "$BANDWIDTH" "${BENCH_ARGS[@]}" | tee /dev/stderr |
    tail -n 1)
  echo "$bench_json"
  python3 bench/gguf_read_bytes.py "$file" --bandwidth "$BANDWIDTH" |
    BENCH="$bench_json" python3 -c '
import json, os, sys
r = json.load(sys.stdin)
b = json.loads(os.environ["BENCH"])
r["tg_tps"] = b["tg_tps"]
r["roofline_pct"] = round(100 * b["tg_tps"] / r["roofline_tps"], 1)
r["s_tg"] = {str(x["parallel"]): round(x["s_tg"], 1) for x in b["batched"]}
print(json.dumps(r))'
done
