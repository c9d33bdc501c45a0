#!/usr/bin/env bash
# Idle live connections: a fresh server on core 0, internal/cmd/idleconns
# on core 1 opening CONNS subscribed connections over DOCS documents and
# sampling the server's RSS after subscribing and after HOLD idle, plus the
# server's CPU while idle.
#
#   scripts/bench-idle.sh [extra docket serve flags, e.g. --memory-limit 256MiB]
#
# Env: CONNS [10000], DOCS [1000], HOLD [30s], PORT [18700], BIN (a docket
# binary; built from this tree if unset). Needs `ulimit -n` above CONNS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CONNS="${CONNS:-10000}"
DOCS="${DOCS:-1000}"
HOLD="${HOLD:-30s}"
PORT="${PORT:-18700}"
OUT="$(mktemp -d /tmp/docket-idle.XXXXXX)"
if [ -z "${BIN:-}" ]; then
  BIN="$OUT/docket"
  go build -o "$BIN" "$ROOT/cmd/docket"
fi
go build -o "$OUT/idleconns" "$ROOT/internal/cmd/idleconns"
data="$OUT/data"
echo "bench password" | "$BIN" user add --data "$data" --email b@example.com --name Bench >/dev/null
# One account holds every socket here, so its cap (256 by default) is lifted.
taskset -c 0 "$BIN" serve --data "$data" --addr "127.0.0.1:$PORT" --log-format json --live-conns-per-user "$CONNS" "$@" >"$OUT/serve.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$OUT"' EXIT
base="http://127.0.0.1:$PORT"
i=0; until curl -s -o /dev/null "$base/healthz"; do i=$((i+1)); [ $i -le 100 ] || exit 1; sleep 0.1; done
curl -s -c "$OUT/jar" -H 'Content-Type: application/json' -d '{"email":"b@example.com","password":"bench password"}' "$base/api/auth/login" >/dev/null
token=$(curl -s -b "$OUT/jar" -H "Origin: $base" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$base/api/tokens" | sed 's/.*"token":"\([^"]*\)".*/\1/')
taskset -c 1 "$OUT/idleconns" --url "$base" --token "$token" --docs "$DOCS" --conns "$CONNS" --pid "$pid" --hold "$HOLD" >"$OUT/idle.txt" &
load=$!
# Server CPU over 10 s of idling, from 5 s after the last subscription.
until grep -q subscribed "$OUT/idle.txt" 2>/dev/null; do sleep 0.2; done
sleep 5
a=$(awk '{print $14+$15}' "/proc/$pid/stat"); sleep 10; b=$(awk '{print $14+$15}' "/proc/$pid/stat")
wait $load
cat "$OUT/idle.txt"
echo "idle server CPU: $(awk -v t=$((b - a)) -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.3f", t/hz/10}') core"
