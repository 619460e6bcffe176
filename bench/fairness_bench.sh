#!/usr/bin/env bash
# Runs bench/fairness_bench against fresh `corral serve` instances on a loopback port: the
# noisy-neighbour experiment with CORRAL_FAIRNESS=tenant (with tenant-share preemption, the
# default, and without: CORRAL_TENANT_PREEMPT=0) and =fcfs side by side, then the priority
# experiment without and with CORRAL_PREEMPT=1. Usage: bench/fairness_bench.sh MODEL.gguf [SECONDS] [FLOOD]
# (build first: cmake --build build --target corral fairness_bench). Figures: docs/fairness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
GGUF=${1:?usage: $0 MODEL.gguf [SECONDS] [FLOOD]}
SECONDS_PER_PHASE=${2:-30}
FLOOD=${3:-64}
BIN=build/bin
STORE=$(mktemp -d)
trap 'rm -rf "$STORE"' EXIT
printf 'FROM %s\n' "$(realpath "$GGUF")" >"$STORE/Modelfile"
PORT=$((20000 + RANDOM % 20000))
export OLLAMA_HOST=127.0.0.1:$PORT OLLAMA_MODELS="$STORE/models"

serve() {  # serve FAIRNESS: starts a server, sets $pid
  OLLAMA_NUM_PARALLEL=4 OLLAMA_MAX_QUEUE=1024 CORRAL_FAIRNESS=$1 "$BIN/corral" serve >"$STORE/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
}

serve tenant
"$BIN/corral" create bench -f "$STORE/Modelfile" >/dev/null
kill "$pid"
wait "$pid" || true

run() {  # run FAIRNESS EXPERIMENT [CORRAL_PREEMPT] [CORRAL_TENANT_PREEMPT]
  CORRAL_PREEMPT=${3:-0} CORRAL_TENANT_PREEMPT=${4:-1} serve "$1"
  echo "# CORRAL_FAIRNESS=$1 CORRAL_PREEMPT=${3:-0} CORRAL_TENANT_PREEMPT=${4:-1} experiment=$2 flood=$FLOOD seconds=$SECONDS_PER_PHASE load: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$BIN/fairness_bench" --url "http://127.0.0.1:$PORT" --model bench --experiment "$2" --flood "$FLOOD" \
    --seconds "$SECONDS_PER_PHASE"
  kill "$pid"
  wait "$pid" || true
}

echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
run tenant noisy
run tenant noisy 0 0
run fcfs noisy
run tenant priority
run tenant priority 1
