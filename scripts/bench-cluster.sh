#!/usr/bin/env bash
# Cluster against one node, in one sitting: N stock sharedb clients of M
# one-character inserts (think 0.5-1.5x THINK) on one document, first
# against ONE node (bbolt, no cluster), then against THREE cluster nodes
# (a fresh PostgreSQL schema, a NATS server of its own) with the clients
# spread over them; REPS times, alternating. Latency is from submit until
# the last other client has the op (scripts/cluster-load.js); CPU is
# utime+stime over the edit phase of the docket processes, plus, in the
# cluster, the PostgreSQL backends of the nodes (found by their
# application_name) with PostgreSQL's background writers, and the NATS
# server; divided by the acknowledged ops.
#
#   scripts/bench-cluster.sh [OUTDIR]
#
# Env: CLIENTS [60], OPS [50], THINK [100], REPS [3], NODES [3],
#      MODES ["single cluster"], LOAD_TIMEOUT [500 s a run], PEERS_DIR [server/testdata/sharedb-e2e] (npm ci there: the stock
#      client), PG [postgres://postgres@127.0.0.1:5432/test?sslmode=disable].
# Needs psql, nats-server and node. Prints one JSON line per run to
# OUTDIR/results.jsonl and a summary (medians) at the end. Nothing is
# pinned to a core: three nodes, PostgreSQL, NATS and the clients share
# the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export PEERS_DIR="${PEERS_DIR:-$ROOT/server/testdata/sharedb-e2e}"
OUT="${1:-/tmp/docket-bench-cluster-$(date +%Y%m%d-%H%M%S)}"
CLIENTS="${CLIENTS:-60}"
OPS="${OPS:-50}"
THINK="${THINK:-100}"
REPS="${REPS:-3}"
MODES="${MODES:-single cluster}"
NODES="${NODES:-3}"
PG="${PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
PORT=$((19000 + RANDOM % 500 * 10))
mkdir -p "$OUT"
[ -d "$PEERS_DIR/node_modules/sharedb" ] || { echo "missing $PEERS_DIR/node_modules: run npm ci there" >&2; exit 2; }
for cmd in psql nats-server node; do command -v "$cmd" >/dev/null || { echo "needs $cmd" >&2; exit 2; }; done
go build -o "$OUT/docket" "$ROOT/cmd/docket"

PIDS=()   # everything this script started, stopped on exit
SCHEMAS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for s in "${SCHEMAS[@]}"; do psql -q "$PG" -c "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { local i=0; until curl -s -o /dev/null "http://127.0.0.1:$1/healthz"; do i=$((i+1)); [ $i -le 150 ] || { echo "port $1 never answered" >&2; return 1; }; sleep 0.1; done; }

# A NATS server of the bench's own, so that its CPU is the cluster's only.
NATS_PORT=$((PORT + 9))
nats-server -a 127.0.0.1 -p "$NATS_PORT" >"$OUT/nats.log" 2>&1 &
NATS_PID=$!
PIDS+=("$NATS_PID")
sleep 0.5

# account BASE: signs up the first user on BASE and prints an API token.
account() {
  local jar="$OUT/jar-$RANDOM"
  curl -sf -c "$jar" -H 'Content-Type: application/json' \
    -d '{"name":"Bench","email":"b@example.com","password":"bench password"}' "$1/api/auth/signup" >/dev/null
  curl -sf -b "$jar" -H "Origin: $1" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$1/api/tokens" |
    sed 's/.*"token":"\([^"]*\)".*/\1/'
  rm -f "$jar"
}

# document BASE TOKEN: makes a space and an empty document, prints its id.
document() {
  curl -sf -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d '{"slug":"bench","name":"Bench"}' "$1/api/spaces" >/dev/null
  curl -sf -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d '{"space":"bench","title":"Bench","body":""}' "$1/api/docs" |
    sed 's/.*"id":"\([^"]*\)".*/\1/' | head -c 16
}

# commits BASE...: adds the commits (group commits of the live hub, one
# write transaction each), the ops committed, and the commits another
# node beat (retried after ECONFLICT, rebased in the transaction, failed
# after too many conflicts) on every node, from their /metrics, to the
# JSON line on stdin.
commits() {
  local line c=0 o=0 k=0 r=0 f=0 base
  line=$(cat)
  for base in "$@"; do
    local m
    m=$(curl -sf -H 'Authorization: Bearer bench-metrics' "$base/metrics" || true)
    c=$(awk -v c="$c" '$1 == "docket_live_commit_seconds_count" { c += $2 } END { print c + 0 }' <<<"$m")
    o=$(awk -v o="$o" '$1 == "docket_live_ops_total" { o += $2 } END { print o + 0 }' <<<"$m")
    k=$(awk -v k="$k" '$1 == "docket_live_conflicts_total" { k += $2 } END { print k + 0 }' <<<"$m")
    r=$(awk -v r="$r" '$1 == "docket_live_rebases_total" { r += $2 } END { print r + 0 }' <<<"$m")
    f=$(awk -v f="$f" '$1 == "docket_live_conflict_failures_total" { f += $2 } END { print f + 0 }' <<<"$m")
  done
  sed "s/}\$/,\"commits\":$c,\"ops_committed\":$o,\"conflicts\":$k,\"rebases\":$r,\"conflict_failures\":$f}/" <<<"$line"
}

# load URLS DOC TOKEN REP PIDS_CMD: one run of the clients.
load() {
  timeout 600 node "$ROOT/scripts/cluster-load.js" --urls "$1" --doc "$2" --token "$3" \
    --clients "$CLIENTS" --ops "$OPS" --think "$THINK" --timeout "${LOAD_TIMEOUT:-500}" --seed "$4" --cpu-pids-cmd "$5" || true
}

run_single() { # rep
  PORT=$((PORT + 10))
  local data="$OUT/data-$PORT"
  "$OUT/docket" serve --data "$data" --addr "127.0.0.1:$PORT" --log-format json --metrics-token bench-metrics >"$OUT/serve-$PORT.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_port "$PORT"
  local base="http://127.0.0.1:$PORT" token doc
  token=$(account "$base")
  doc=$(document "$base" "$token")
  load "ws://127.0.0.1:$PORT/api/live" "$doc" "$token" "$1" "echo docket $pid" | tail -n1 | sed 's/^{/{"mode":"single",/' | commits "$base"
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

run_cluster() { # rep
  PORT=$((PORT + 10))
  local tag
  tag="bench_$(date +%s)_$RANDOM"
  psql -q "$PG" -c "CREATE SCHEMA $tag" >/dev/null
  SCHEMAS+=("$tag")
  local sep='?'; case "$PG" in *\?*) sep='&';; esac
  local store="$PG${sep}search_path=$tag&application_name=$tag"
  local pids=() urls=()
  for i in $(seq 1 "$NODES"); do
    local port=$((PORT + i))
    "$OUT/docket" serve --data "$OUT/data-$port" --addr "127.0.0.1:$port" --log-format json --metrics-token bench-metrics \
      --store "$store" --bus "nats://127.0.0.1:$NATS_PORT" --bus-prefix "$tag" >"$OUT/serve-$port.log" 2>&1 &
    pids+=("$!")
    PIDS+=("$!")
    wait_port "$port"
    urls+=("ws://127.0.0.1:$port/api/live")
  done
  local base="http://127.0.0.1:$((PORT + 1))" token doc
  token=$(account "$base")
  doc=$(document "$base" "$token")
  # The docket processes, this cluster's PostgreSQL backends and the
  # server's background processes (WAL writer, checkpointer, background
  # writer: shared with anyone else on the server), and the NATS server.
  local cmd="for p in ${pids[*]}; do echo docket \$p; done; echo nats $NATS_PID;"
  cmd+=" psql -At '$PG' -c \"SELECT 'postgres', pid FROM pg_stat_activity WHERE application_name = '$tag' OR backend_type IN ('walwriter', 'checkpointer', 'background writer')\" | tr '|' ' '"
  local IFS=,
  load "${urls[*]}" "$doc" "$token" "$1" "$cmd" | tail -n1 | sed "s/^{/{\"mode\":\"cluster\",/" >"$OUT/line"
  unset IFS
  local bases=()
  for i in $(seq 1 "$NODES"); do bases+=("http://127.0.0.1:$((PORT + i))"); done
  commits "${bases[@]}" <"$OUT/line"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for i in $(seq 1 "$NODES"); do rm -rf "$OUT/data-$((PORT + i))"; done
  psql -q "$PG" -c "DROP SCHEMA $tag CASCADE" >/dev/null 2>&1
}

echo "load before: $(cat /proc/loadavg)" | tee "$OUT/load.txt"
for rep in $(seq 1 "$REPS"); do
  for mode in $MODES; do
    # Not in a pipeline: run_* must run in this shell, so that cleanup
    # knows the processes and schemas it made.
    "run_$mode" "$rep" >"$OUT/run.out"
    tail -n1 "$OUT/run.out" | tee -a "$OUT/results.jsonl"
  done
done
echo "load after: $(cat /proc/loadavg)" | tee -a "$OUT/load.txt"

# Medians per mode, and the ratios.
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const med = (xs) => { xs = xs.filter((x) => x != null).sort((a, b) => a - b); return xs.length ? xs[Math.floor((xs.length - 1) / 2)] : null; };
const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
const s = {};
for (const mode of ["single", "cluster"]) {
  const rs = rows.filter((r) => r.mode === mode);
  s[mode] = {
    runs: rs.length, converged: rs.filter((r) => r.converged).length,
    p50_ms: med(rs.map((r) => r.lat_p50_ms)), p99_ms: med(rs.map((r) => r.lat_p99_ms)),
    ack_p99_ms: med(rs.map((r) => r.ack_p99_ms)), wall_ms: med(rs.map((r) => r.wall_ms)),
    commits_per_s: med(rs.map((r) => r.commits / (r.wall_ms / 1000))), ops_per_commit: med(rs.map((r) => r.ops_committed / r.commits)),
    cpu_ms_per_op: med(rs.map((r) => sum(r.cpu_ms) / r.ops_fully_seen)),
    cpu_ms_per_op_by: Object.fromEntries(["docket", "postgres", "nats"].map((g) => [g, med(rs.map((r) => ((r.cpu_ms || {})[g] || 0) / r.ops_fully_seen))])),
  };
}
s.ratio = { p99: s.cluster.p99_ms / s.single.p99_ms, cpu_per_op: s.cluster.cpu_ms_per_op / s.single.cpu_ms_per_op };
console.log(JSON.stringify(s, null, 1));
' "$OUT/results.jsonl" | tee "$OUT/summary.json"
