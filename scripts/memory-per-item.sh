#!/usr/bin/env bash
# Resident memory per item, corecached vs memcached, in the same run.
#
# Each server starts fresh with -m $MEM and one thread (pinned to CPU $SERVER_CPU); VmRSS is
# read from /proc/PID/status, $ITEMS items with 16-byte keys (key:000000000001 ...) and
# $VALUE_SIZE-byte values are stored (corecached-hitratio --load, every reply must be
# STORED), VmRSS is read again, and bytes per item = (RSS after - RSS before) / items.
# The servers' own accounting (stats bytes, store_memory, curr_items) is shown alongside.
#
# Usage: scripts/memory-per-item.sh      (ITEMS=1000000 VALUE_SIZE=100 MEM=4096 override)
#   MEMCACHED=/usr/bin/memcached  SKIP_BUILD=1
set -euo pipefail

cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
MEM=${MEM:-4096}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
TARGET=${TARGET:-140}

# shellcheck source=scripts/lib/servers.sh
source scripts/lib/servers.sh

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status"; }
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }

# measure SERVER -> sets RSS0 RSS1 (KiB), BPI (bytes/item), and the load's JSON in $WORK/SERVER.json
measure() {
    local server=$1
    start_server "$server" "$MEM"
    sleep 0.5
    RSS0=$(rss_kib)
    local out=$WORK/$server.json
    if ! timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$CLIENT" -p "$PORT" --json \
        --label "$server" --load "$ITEMS" --value-size "$VALUE_SIZE" --max-seconds "$RUN_TIMEOUT" \
        >"$out"; then
        echo "WARNING: load against $server failed or was incomplete: $(cat "$out")" >&2
    fi
    sleep 0.5
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "$server exited during the load; its log:" >&2
        cat "$WORK/$server.log" >&2 || true
        exit 1
    fi
    RSS1=$(rss_kib)
    stop_server
    BPI=$(awk -v a="$RSS0" -v b="$RSS1" -v n="$ITEMS" 'BEGIN { printf "%.1f", (b - a) * 1024 / n }')
    echo "  $server: VmRSS $RSS0 KiB -> $RSS1 KiB, $BPI bytes/item; $(cat "$out")" >&2
}

measure memcached
MC_RSS0=$RSS0 MC_RSS1=$RSS1 MC_BPI=$BPI
measure corecached
CC_RSS0=$RSS0 CC_RSS1=$RSS1 CC_BPI=$BPI

m=$WORK/memcached.json
c=$WORK/corecached.json
per() { awk -v x="$1" -v n="$2" 'BEGIN { if (x == "" || x < 0) print "-"; else printf "%.1f", x / n }'; }

echo
echo "Memory per item: $ITEMS items, 16-byte keys, ${VALUE_SIZE}-byte values, -m $MEM, 1 server thread"
echo
FMT='| %-10s | %14s | %14s | %14s | %8s | %10s | %20s | %21s |\n'
# shellcheck disable=SC2059
printf "$FMT" server "VmRSS before" "VmRSS after" "RSS bytes/item" stored curr_items "stats bytes (/item)" "store_memory (/item)"
echo "|------------|---------------:|---------------:|---------------:|---------:|-----------:|---------------------:|----------------------:|"
for s in memcached corecached; do
    f=$WORK/$s.json
    if [[ $s == memcached ]]; then r0=$MC_RSS0 r1=$MC_RSS1 bpi=$MC_BPI; else r0=$CC_RSS0 r1=$CC_RSS1 bpi=$CC_BPI; fi
    bytes=$(field bytes <"$f")
    sm=$(field store_memory <"$f")
    if [[ -n $sm ]]; then sm="$sm ($(per "$sm" "$ITEMS"))"; else sm="-"; fi
    # shellcheck disable=SC2059
    printf "$FMT" "$s" "$r0 KiB" "$r1 KiB" "$bpi" \
        "$(field stored <"$f")" "$(field curr_items <"$f")" "$bytes ($(per "$bytes" "$ITEMS"))" "$sm"
done
echo
awk -v c="$CC_BPI" -v m="$MC_BPI" -v t="$TARGET" 'BEGIN {
    printf "corecached / memcached = %.3f; corecached %s the %d bytes/item target.\n", c / m, (c <= t ? "meets" : "MISSES"), t
}'
