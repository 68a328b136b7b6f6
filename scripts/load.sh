#!/usr/bin/env bash
# Load test of `aimds serve` on this machine (loopback only, bounded duration).
#
#   scripts/load.sh                       # default and agent-guard configs, 1/16/64 connections, 10 s each
#   SECONDS_PER_RUN=5 CONNECTIONS="16" CONFIGS="default" scripts/load.sh
#   LOAD_TOOL=wrk scripts/load.sh         # use wrk (apt-get install wrk) instead of the built-in generator
#   SKIP_BUILD=1 AIMDS=target/release/aimds LOADGEN=target/release/examples/loadgen scripts/load.sh
#
# Each run starts a fresh server on 127.0.0.1:<free port> with a throw-away memory, posts the same ~1 KB benign
# prompt to /v1/scan over keep-alive connections (closed loop: each connection sends its next request when the
# answer arrived), and prints requests/s, p50/p99 latency and errors. The server and the load generator share
# this machine's cores, so the numbers are what one box does with both on it.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
CONFIGS=${CONFIGS:-"default agent-guard"}
LOAD_TOOL=${LOAD_TOOL:-rust}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
AIMDS=${AIMDS:-$TARGET_DIR/release/aimds}
LOADGEN=${LOADGEN:-$TARGET_DIR/release/examples/loadgen}

if (( SECONDS_PER_RUN < 1 || SECONDS_PER_RUN > 120 )); then
  echo "SECONDS_PER_RUN must be 1..120" >&2; exit 2
fi
if [[ -z "${SKIP_BUILD:-}" ]]; then
  cargo build --release --bin aimds --example loadgen
fi
if [[ "$LOAD_TOOL" == wrk ]] && ! command -v wrk >/dev/null; then
  echo "wrk is not installed (apt-get install wrk); use LOAD_TOOL=rust" >&2; exit 2
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A ~1 KB prompt: an ordinary support request, the shape most traffic has.
python3 - "$work/body.json" <<'EOF'
import json, sys
text = ("Hi team, I'm preparing the quarterly report for our European customers and need help. "
        "Could you summarise the attached notes on churn, list the three biggest drivers of support tickets, "
        "and suggest two experiments we could run next quarter to reduce response times? Please keep the tone "
        "neutral, cite the figures from the notes where possible, and flag anything that looks inconsistent. "
        "The audience is the leadership team, so avoid jargon, keep each section under 150 words, and end with "
        "a short list of open questions. For context: we moved to a new ticketing system in March, the team grew "
        "from 12 to 18 people, and the Berlin office now handles weekend shifts. Last quarter's report was "
        "criticised for being too long, so brevity matters more than completeness. Thanks a lot for your help!")
text = (text + " " + text)[:1024]
json.dump({"text": text, "source": "user"}, open(sys.argv[1], "w"))
EOF
cat > "$work/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open("$work/body.json"):read("*a")
EOF

start_server() { # $1 = config name
  local args=(serve --listen 127.0.0.1:0 --db "$work/memory-$1.db")
  [[ "$1" != default ]] && args+=(--config "swarm-configs/$1.yaml")
  "$AIMDS" "${args[@]}" > "$work/server.out" 2> "$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 200); do
    addr=$(sed -n 's|.*listening on http://||p' "$work/server.out" | head -1)
    [[ -n "$addr" ]] && return 0
    sleep 0.05
  done
  echo "the server did not start:" >&2; cat "$work/server.err" >&2; exit 1
}

stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
}

printf '%-12s %5s %10s %9s %9s %9s %8s %8s\n' config conns "req/s" "p50_ms" "p99_ms" "max_ms" errors non200
for cfg in $CONFIGS; do
  for c in $CONNECTIONS; do
    start_server "$cfg"
    if [[ "$LOAD_TOOL" == wrk ]]; then
      threads=$(( c < 2 ? 1 : 2 ))
      out=$(wrk -t"$threads" -c"$c" -d"${SECONDS_PER_RUN}s" --latency -s "$work/post.lua" "http://$addr/v1/scan")
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      p50=$(awk '$1=="50%" {print $2}' <<<"$out")
      p99=$(awk '$1=="99%" {print $2}' <<<"$out")
      max=$(awk '$1=="Latency" {print $4}' <<<"$out")
      errs=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' <<<"$out"); errs=${errs:-0}
      non200=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non200=${non200:-0}
      printf '%-12s %5s %10s %9s %9s %9s %8s %8s\n' "$cfg" "$c" "$rps" "$p50" "$p99" "$max" "$errs" "$non200"
    else
      out=$("$LOADGEN" --addr "$addr" --path /v1/scan --body-file "$work/body.json" \
            --connections "$c" --seconds "$SECONDS_PER_RUN" --warmup "$WARMUP")
      python3 -c '
import json, sys
r = json.loads(sys.argv[3])
print("%-12s %5s %10.0f %9.3f %9.3f %9.3f %8d %8d" % (sys.argv[1], sys.argv[2], r["rps"], r["p50_us"] / 1e3,
      r["p99_us"] / 1e3, r["max_us"] / 1e3, r["errors"], r["non_200"]))' "$cfg" "$c" "$out"
    fi
    stop_server
  done
done
