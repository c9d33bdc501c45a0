#!/usr/bin/env bash
# Live co-editing load test: the stock ShareDB client (shared/bench/peers)
# against the stock ShareDB server and against Docket, alternating, one
# fresh server per run, server on one core and load on the other.
#
#   scripts/bench-live.sh [OUTDIR]
#
# Env: PEERS_DIR [/tmp/peers] (npm install sharedb@7.0.0 ot-text-unicode@4.0.0
#      ws@8.23.0 @teamwork/websocket-json-stream@2.0.0 there first),
#      CONFIGS ["100x50"], THINK [100], REPS [3], SYSTEMS ["sharedb docket"],
#      CLIENT [node]: node = the stock sharedb client (load-sharedb.js);
#      go = the Go protocol client (internal/cmd/liveload), which does the
#      same work at a fraction of the CPU, so it shows the server's latency
#      where the Node client saturates its core.
# Prints one JSON line per run to OUTDIR/results.jsonl; Docket's live
# metrics (server-side commit and ack histograms) after each run go to
# OUTDIR/metrics-NxM-REP.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="$ROOT/../shared/bench/peers"
export PEERS_DIR="${PEERS_DIR:-/tmp/peers}"
OUT="${1:-/tmp/docket-bench-$(date +%Y%m%d-%H%M%S)}"
CONFIGS="${CONFIGS:-100x50}"
THINK="${THINK:-100}"
REPS="${REPS:-3}"
SYSTEMS="${SYSTEMS:-sharedb docket}"
CLIENT="${CLIENT:-node}"
PORT=18500
mkdir -p "$OUT"
[ -d "$PEERS_DIR/node_modules/sharedb" ] || { echo "missing $PEERS_DIR/node_modules (see the header)" >&2; exit 2; }
go build -o "$OUT/docket" "$ROOT/cmd/docket"
go build -o "$OUT/liveload" "$ROOT/internal/cmd/liveload"

# load URL COLLECTION DOC TOKEN N M SEED PID: one run of the chosen client.
load() {
  if [ "$CLIENT" = go ]; then
    taskset -c 1 timeout 700 "$OUT/liveload" --url "$1" --collection "$2" --doc "$3" ${4:+--token "$4"} --create \
      --clients "$5" --ops "$6" --think "${THINK}ms" --timeout 600s --seed "$7" --server-pid "$8" ${LIVELOAD_ARGS:-} || true
  else
    taskset -c 1 timeout 700 node "$PEERS/load-sharedb.js" --url "$1" --collection "$2" ${3:+--doc "$3"} ${4:+--token "$4"} \
      --clients "$5" --ops "$6" --think "$THINK" --timeout 600 --seed "$7" --server-pid "$8" || true
  fi
}

wait_port() { local i=0; until curl -s -o /dev/null "http://127.0.0.1:$1/$2"; do i=$((i+1)); [ $i -le 100 ] || return 1; sleep 0.1; done; }

run_sharedb() { # n m rep
  PORT=$((PORT+1))
  taskset -c 0 node "$PEERS/peer-sharedb-server.js" "$PORT" --ttl 900 >/dev/null 2>&1 &
  local pid=$!
  wait_port "$PORT" ""
  local doc=""
  [ "$CLIENT" = go ] && doc="bench-$PORT-$3"
  load "ws://127.0.0.1:$PORT" bench "$doc" "" "$1" "$2" "$3" "$pid" | sed 's/"system":"[a-z-]*"/"system":"sharedb"/'
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}

run_docket() { # n m rep
  PORT=$((PORT+1))
  local data="$OUT/data-$PORT"
  echo "bench password" | "$OUT/docket" user add --data "$data" --email b@example.com --name Bench >/dev/null
  taskset -c 0 "$OUT/docket" serve --data "$data" --addr "127.0.0.1:$PORT" --log-format json ${DOCKET_PPROF:+--pprof $DOCKET_PPROF} >"$OUT/serve-$PORT.log" 2>&1 &
  local pid=$!
  wait_port "$PORT" healthz
  local base="http://127.0.0.1:$PORT"
  curl -s -c "$OUT/jar" -H 'Content-Type: application/json' -d '{"email":"b@example.com","password":"bench password"}' "$base/api/auth/login" >/dev/null
  local token doc
  token=$(curl -s -b "$OUT/jar" -H "Origin: $base" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$base/api/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
  curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"slug":"bench","name":"Bench"}' "$base/api/spaces" >/dev/null
  doc=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"space":"bench","title":"Bench","body":""}' "$base/api/docs" | sed 's/.*"id":"\([^"]*\)".*/\1/' | head -c 16)
  load "ws://127.0.0.1:$PORT/api/live" docs "$doc" "$token" "$1" "$2" "$3" "$pid" | sed 's/"system":"[a-z-]*"/"system":"docket"/'
  curl -s -b "$OUT/jar" "$base/metrics" | grep '^docket_live_' >"$OUT/metrics-$1x$2-$3.txt" || true # server-side commit and ack latency
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

for cfg in $CONFIGS; do
  n=${cfg%x*}; m=${cfg#*x}
  for rep in $(seq 1 "$REPS"); do
    for sys in $SYSTEMS; do
      "run_$sys" "$n" "$m" "$rep" | tail -n1 | sed "s/^{/{\"client\":\"$CLIENT\",/" | tee -a "$OUT/results.jsonl"
    done
  done
done
echo "results: $OUT/results.jsonl"
