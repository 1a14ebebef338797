#!/usr/bin/env bash
# Persistence (issue 23): warm-up rate against the disk's sequential read rate, and the write
# path's rate, in the same run. Not run by the tests; figures go to bench/RESULTS.md.
#
# 1. corecached -t $THREADS --data-dir $DIR starts empty; $ITEMS items with 16-byte keys
#    (key:000000000001 ...) and $VALUE_SIZE-byte values are stored (corecached-hitratio
#    --load); the load's rate and the flusher's bytes (ep_io_bytes_written) over its time
#    are the write path's figures. SIGTERM writes everything.
# 2. The page cache is dropped (echo 3 > /proc/sys/vm/drop_caches: it slows everyone on the
#    machine for a moment) and the journal files are read with dd iflag=direct bs=8M: the
#    disk's sequential read rate.
# 3. corecached starts again on DIR and warms up; the time from its start to its start-up
#    line, and its shards' "warm-up done" lines, give items/s and MB/s, set against (2).
#
# Usage: scripts/persist-warmup.sh   (ITEMS=10000000 VALUE_SIZE=100 MEM=4096 THREADS=2
#   DIR=/tmp/corecached-warmup SKIP_BUILD=1 override)
set -euo pipefail

cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-10000000}
VALUE_SIZE=${VALUE_SIZE:-100}
MEM=${MEM:-4096}
THREADS=${THREADS:-2}
DIR=${DIR:-/tmp/corecached-warmup}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
CORECACHED=target/release/corecached
CLIENT=target/release/corecached-hitratio

if [[ -z "${SKIP_BUILD:-}" ]]; then
    cargo build --release --bin corecached --bin corecached-hitratio >&2
fi
[[ $(id -u) -eq 0 ]] || { echo "dropping the page cache needs root" >&2; exit 1; }

LOG=$(mktemp)
PID=
cleanup() {
    [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -f "$LOG"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts corecached on DIR; waits (at most RUN_TIMEOUT) for its start-up line; sets PID, PORT
# and STARTED_S (seconds from exec to serving).
start() {
    PORT=$(port)
    : >"$LOG"
    local t0
    t0=$(date +%s.%N)
    "$CORECACHED" -l 127.0.0.1 -p "$PORT" -t "$THREADS" -m "$MEM" --data-dir "$DIR" -v 2>"$LOG" &
    PID=$!
    local i
    for i in $(seq $((RUN_TIMEOUT * 10))); do
        grep -q "serving tcp" "$LOG" && break
        kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
        sleep 0.1
    done
    STARTED_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

stat() {
    python3 - "$PORT" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
for line in buf.decode().splitlines():
    f = line.split()
    if len(f) == 3 and f[1] == sys.argv[2]:
        print(f[2])
EOF
}

stop() {
    kill -TERM "$PID"
    wait "$PID" || true
    PID=
}

rm -rf "$DIR"
start
t0=$(date +%s.%N)
timeout "$RUN_TIMEOUT" "$CLIENT" -p "$PORT" --load "$ITEMS" --value-size "$VALUE_SIZE" \
    --max-seconds "$RUN_TIMEOUT" >/dev/null
load_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
written=$(stat ep_io_bytes_written)
stop
disk_bytes=$(du -cb "$DIR"/*.log | tail -1 | cut -f1)

sync
echo 3 >/proc/sys/vm/drop_caches
t0=$(date +%s.%N)
for f in "$DIR"/*.log; do
    dd if="$f" of=/dev/null bs=8M iflag=direct status=none
done
dd_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
echo 3 >/proc/sys/vm/drop_caches

start
items=$(stat curr_items)
grep "warm-up done" "$LOG" >&2 || true
stop

awk -v n="$ITEMS" -v ls="$load_s" -v w="$written" -v d="$disk_bytes" -v dd="$dd_s" \
    -v ws="$STARTED_S" -v items="$items" -v vs="$VALUE_SIZE" -v t="$THREADS" 'BEGIN {
    printf "Write: %d items of %d bytes in %.1f s (%.0f items/s), flusher %.1f MB/s\n",
        n, vs, ls, n / ls, w / ls / 1e6
    printf "Disk: %.1f MB of journal files, read with O_DIRECT at %.1f MB/s\n", d / 1e6, d / dd / 1e6
    printf "Warm-up (%d shards): %d items in %.2f s to serving: %.0f items/s, %.1f MB/s = %.2fx the disk (target 0.7x)\n",
        t, items, ws, items / ws, d / ws / 1e6, (d / ws) / (d / dd)
}'
