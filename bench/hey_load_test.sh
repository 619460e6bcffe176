#!/usr/bin/env bash
# The parallel-inference guide's load test, with `hey`, against a real `corral serve`:
# one request alone, then `hey -n 8 -c 8` and `hey -n 20 -c 8`, each for OLLAMA_NUM_PARALLEL
# 1 and 8. Prints a Markdown table (total time, ratio to one request, p95 latency, aggregate
# output tokens/s) and one JSON line per setting. Not a test: it takes minutes.
#
# usage: bench/hey_load_test.sh MODEL.gguf [PORT]
#   e.g. build/bin/corral synth --preset llama3.2-1b --type q4_k_m \
#          --vocab ../shared/vocab/ggml-vocab-llama-bpe.gguf -o /tmp/1b.gguf
#        bench/hey_load_test.sh /tmp/1b.gguf
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_FILE=$(realpath "${1:?usage: bench/hey_load_test.sh MODEL.gguf [PORT]}")
PORT=${2:-11499}
CORRAL=${CORRAL:-build/bin/corral}  # another build to compare: CORRAL=/path/to/corral
NUM_PREDICT=${NUM_PREDICT:-64}
THREADS=${CORRAL_THREADS:-2}
command -v hey >/dev/null || { echo "hey is not installed (scripts/setup installs it)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A fixed prompt of about 31 tokens (the Llama 3 vocabulary), as llama-server was measured with.
PROMPT="Write a short story about a robot who learns to paint landscapes in the mountains, and describe the colours it chooses for the sky."
body=$(printf '{"model":"bench","prompt":"%s","stream":false,"options":{"num_predict":%d,"temperature":0}}' "$PROMPT" "$NUM_PREDICT")
echo "$body" >"$work/body.json"

start_server() {  # $1 = OLLAMA_NUM_PARALLEL
  OLLAMA_MODELS="$work/models" OLLAMA_HOST="127.0.0.1:$PORT" OLLAMA_NUM_PARALLEL=$1 OLLAMA_MAX_QUEUE=256 \
    OLLAMA_KEEP_ALIVE=-1 CORRAL_THREADS=$THREADS "$CORRAL" serve >"$work/server-$1.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/version" >/dev/null && return; sleep 0.1; done
  echo "the server did not start; its log:" >&2; cat "$work/server-$1.log" >&2; exit 1
}
stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=; }

# From hey's summary: "Total: 12.3 secs", "Slowest: 11.2 secs", "[200] 8 responses", and the
# p95 line "95% in 11.2 secs". hey fills a percentile only when a request sits at or past it
# (for 8 requests it prints "0% in 0.0000 secs" for 90, 95 and 99), so where the line is
# missing p95 is the slowest request, which is its nearest-rank value for 20 or fewer.
hey_run() {  # $1 = -n, $2 = -c; prints "total p95"
  hey -n "$1" -c "$2" -t 600 -m POST -T application/json -D "$work/body.json" \
    "http://127.0.0.1:$PORT/api/generate" >"$work/hey.txt"
  # hey splits -n evenly over the -c workers and drops the remainder: -n 20 -c 8 sends 16.
  local ok sent=$(($1 / $2 * $2))
  ok=$(awk '$1 == "[200]" {print $2}' "$work/hey.txt")
  if [[ ${ok:-0} -ne $sent ]]; then echo "hey: ${ok:-0} of $sent requests returned 200" >&2; cat "$work/hey.txt" >&2; exit 1; fi
  awk '/Total:/ {t = $2} /Slowest:/ {s = $2} /95% in/ {p = $3}
       END {if (p == "") p = s; printf "%.2f %.2f\n", t, p}' "$work/hey.txt"
}

echo "| OLLAMA_NUM_PARALLEL | test | requests sent | total s | ratio to one request | p95 latency s | output tok/s |"
echo "|---|---|---|---|---|---|---|"
json=()
for np in 1 8; do
  start_server "$np"
  printf 'FROM %s\n' "$MODEL_FILE" >"$work/Modelfile"
  OLLAMA_HOST="127.0.0.1:$PORT" "$CORRAL" create bench -f "$work/Modelfile" >/dev/null 2>&1
  curl -sf "http://127.0.0.1:$PORT/api/generate" -d "$(cat "$work/body.json")" >/dev/null  # warm-up: load the model
  read -r one_total one_p95 < <(hey_run 1 1)
  read -r b8_total b8_p95 < <(hey_run 8 8)
  read -r b20_total b20_p95 < <(hey_run 20 8)
  stop_server
  for row in "1x1 $one_total $one_p95 1" "8x8 $b8_total $b8_p95 8" "20x8 $b20_total $b20_p95 16"; do
    read -r name total p95 n <<<"$row"
    ratio=$(awk -v t="$total" -v o="$one_total" 'BEGIN {printf "%.2f", t / o}')
    tps=$(awk -v t="$total" -v n="$n" -v p="$NUM_PREDICT" 'BEGIN {printf "%.1f", n * p / t}')
    echo "| $np | hey -n ${name%x*} -c ${name#*x} | $n | $total | ${ratio}x | $p95 | $tps |"
    json+=("{\"num_parallel\":$np,\"requests\":${name%x*},\"concurrency\":${name#*x},\"sent\":$n,\"total_s\":$total,\"ratio\":$ratio,\"p95_s\":$p95,\"output_tps\":$tps}")
  done
done
(IFS=,; echo "{\"model\":\"$MODEL_FILE\",\"num_predict\":$NUM_PREDICT,\"threads\":$THREADS,\"runs\":[${json[*]}]}")
