#!/usr/bin/env bash
# Instructions per request in the server's user space, with valgrind --tool=callgrind:
# repeatable where wall-clock A/Bs on a shared machine are not.
#
#   scripts/callgrind-per-request.sh [SERVER_BINARY] [PIPELINE] [REQUESTS_PER_CLIENT] [SET:GET]
#
# The server (default target/release/corecached, one shard) starts under callgrind with
# instrumentation off, is prefilled with 100,000 keys, then instrumentation is on for
# 50 connections x REQUESTS_PER_CLIENT requests (default 800) at PIPELINE (default 16),
# SET:GET (default 1:10), 32-byte values. Prints the total and the count per request, and leaves the
# profile for callgrind_annotate. Needs valgrind (apt-get install valgrind). 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/corecached}
PIPE=${2:-16}
N=${3:-800}
RATIO=${4:-1:10}
GEN=target/release/corecached-bench
command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install valgrind" >&2; exit 2; }
[ -x "$GEN" ] || cargo build --release --quiet --bin corecached-bench
OUT=$(mktemp -d /tmp/callgrind.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/cg.%p" \
  "$BIN" -l 127.0.0.1 -p "$PORT" -t 1 >"$OUT/valgrind.log" 2>&1 &
V=$!
trap 'kill $V 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 $V 2>/dev/null || { cat "$OUT/valgrind.log" >&2; exit 1; }
  sleep 0.1
done
"$GEN" -s 127.0.0.1 -p "$PORT" -t 1 -c 10 --pipeline 32 -d 32 --key-maximum 99999 --prefill-only >/dev/null
callgrind_control -i on $V >/dev/null
"$GEN" -s 127.0.0.1 -p "$PORT" -t 1 -c 50 --pipeline "$PIPE" -d 32 --ratio "$RATIO" \
  --key-maximum 99999 -n "$N" --hide-histogram >/dev/null
callgrind_control -i off $V >/dev/null
callgrind_control -d $V >/dev/null
kill $V; wait $V 2>/dev/null || true
total=0
for f in "$OUT"/cg.*; do
  t=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  case "$t" in ''|*[!0-9]*) t=0 ;; esac  # a part with no events prints no number
  total=$((total + t))
done
python3 -c "print(f'{$total:,} instructions, {$total / (50 * $N):,.0f} per request')"
echo "profiles: $OUT (callgrind_annotate the largest)"
