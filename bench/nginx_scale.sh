#!/usr/bin/env bash
# The nginx recipe's evidence: 1, 2 and 3 corral instances behind nginx
# (deploy/nginx/nginx.conf.template as shipped), each measured with `corral bench` through nginx.
# Prints a Markdown table: requests answered per instance (from each instance's
# corral:requests_total), failures (503s and errors), p95 TTFT and p95 end-to-end latency.
# Not a test: it takes minutes. Instances share the machine's cores (CORRAL_THREADS each), so on a
# small machine more instances split the same CPU: read the figures with the load average printed.
#
# usage: bench/nginx_scale.sh [MODEL.gguf]   (default ../shared/models/stories260K-ctx512.gguf)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_FILE=$(realpath "${1:-../shared/models/stories260K-ctx512.gguf}")
CORRAL=${CORRAL:-build/bin/corral}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
CONCURRENCY=${CONCURRENCY:-24}
REQUESTS=${REQUESTS:-240}
NUM_PREDICT=${NUM_PREDICT:-64}
THREADS=${CORRAL_THREADS:-1}
PARALLEL=${OLLAMA_NUM_PARALLEL:-4}
[[ -x $NGINX ]] || { echo "nginx is not installed (scripts/setup installs it)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
nginx_pid=
cleanup() {
  [[ -n $nginx_pid ]] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
served() {  # requests answered 200 by the instance on port $1
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk '/^corral:requests_total\{model="bench:latest",status="200"\}/ {print $2; f=1} END {if (!f) print 0}'
}

mkdir -p "$work/models"
printf 'FROM %s\n' "$MODEL_FILE" >"$work/Modelfile"
# The model store all instances share (read-only while they serve), made through one server.
port=$(free_port)
OLLAMA_MODELS="$work/models" OLLAMA_HOST="127.0.0.1:$port" "$CORRAL" serve >"$work/create.log" 2>&1 &
create_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/version" >/dev/null && break; sleep 0.1; done
OLLAMA_HOST="127.0.0.1:$port" "$CORRAL" create bench -f "$work/Modelfile" >/dev/null
kill "$create_pid"; wait "$create_pid" 2>/dev/null || true

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| instances | requests per instance | failures (503 / errors) | TTFT p95 | E2E p95 | output tok/s |"
echo "|---|---|---|---|---|---|"
for n in ${INSTANCES:-1 2 3}; do
  ports=()
  for i in $(seq "$n"); do
    port=$(free_port)
    OLLAMA_MODELS="$work/models" OLLAMA_HOST="127.0.0.1:$port" OLLAMA_NUM_PARALLEL=$PARALLEL OLLAMA_MAX_QUEUE=512 \
      CORRAL_PRELOAD=bench CORRAL_THREADS=$THREADS "$CORRAL" serve >"$work/corral-$n-$i.log" 2>&1 &
    pids+=($!)
    ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  done
  lb=$(free_port)
  servers=""
  for port in "${ports[@]}"; do servers+="server 127.0.0.1:$port max_fails=3 fail_timeout=10s; "; done
  mkdir -p "$work/nginx-$n"
  sed -e "s|{{RUN_DIR}}|$work/nginx-$n|" -e "s|{{LISTEN}}|127.0.0.1:$lb|" -e "s|{{SERVERS}}|$servers|" \
    deploy/nginx/nginx.conf.template >"$work/nginx-$n/nginx.conf"
  "$NGINX" -p "$work/nginx-$n" -c "$work/nginx-$n/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$lb/api/version" >/dev/null && break; sleep 0.1; done
  "$CORRAL" bench --host "127.0.0.1:$lb" -m bench -c "$CONCURRENCY" -n "$REQUESTS" --num-predict "$NUM_PREDICT" \
    --warmup 0 --json >"$work/bench-$n.json"
  per=""
  for port in "${ports[@]}"; do per+="$(served "$port") "; done
  python3 - "$work/bench-$n.json" "$n" "$per" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
l = run["levels"][0]
if l["error_samples"]:
    print("errors, e.g.: %s" % l["error_samples"][:2], file=sys.stderr)
print("| %s | %s | %d / %d | %.2f s | %.2f s | %.1f |" % (sys.argv[2], sys.argv[3].strip().replace(" ", ", "),
      l["rejected_503"], l["errors"], l["ttft_s"]["p95"], l["e2e_s"]["p95"], l["output_tokens_per_s"]))
PY
  kill -QUIT "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  pids=()
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
