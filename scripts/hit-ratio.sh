#!/usr/bin/env bash
# Cache-aside hit ratio, memcached vs corecached, on the same deterministic traces.
#
# For each workload a fresh memcached (-t 1 -m $MEM) and a fresh corecached
# (--threads 1 -m $MEM) are started on free ports (pinned to CPU $SERVER_CPU), the
# corecached-hitratio client (pinned to CPU $CLIENT_CPU) replays the trace, and the
# server is stopped. The key space is far larger than $MEM MiB holds, so the eviction
# policy decides the hit ratio. Prints a table: workload, memcached, corecached, difference.
#
# Usage: scripts/hit-ratio.sh            (environment variables below override defaults)
#   MEM=64 MEM_Z12=16 KEYS=3000000 REQUESTS=1500000 WARMUP=1000000 scripts/hit-ratio.sh
#   MIXED_KEYS / MIXED_REQUESTS / MIXED_WARMUP: the mixed value size run (50-5000 bytes)
#   MEMCACHED=/usr/bin/memcached  SKIP_BUILD=1  RAW_LOG=/path (JSON lines of every run)
set -euo pipefail

cd "$(dirname "$0")/.."

MEM=${MEM:-64}
# Zipf 1.2 touches few distinct keys (~200k of 3M in 2.5M requests): it runs with less memory
# so that eviction matters there too.
MEM_Z12=${MEM_Z12:-$((MEM / 4))}
KEYS=${KEYS:-3000000}
REQUESTS=${REQUESTS:-1500000}
WARMUP=${WARMUP:-1000000}
VALUE_SIZE=${VALUE_SIZE:-100}
SCAN_FRACTION=${SCAN_FRACTION:-0.3}
SCAN_BURST=${SCAN_BURST:-10000}
MIXED_RANGE=${MIXED_RANGE:-50-5000}
MIXED_THRESHOLD=${MIXED_THRESHOLD:-1000}
MIXED_KEYS=${MIXED_KEYS:-1000000}
MIXED_REQUESTS=${MIXED_REQUESTS:-1000000}
MIXED_WARMUP=${MIXED_WARMUP:-500000}
SEED=${SEED:-1}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
MEMCACHED=${MEMCACHED:-/usr/bin/memcached}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
RAW_LOG=${RAW_LOG:-}

# shellcheck source=scripts/lib/servers.sh
source scripts/lib/servers.sh

# field NAME < json-line
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }

# run SERVER LABEL MiB client-args...  -> the client's JSON line in $WORK/SERVER.LABEL.json
run() {
    local server=$1 label=$2 mem=$3
    shift 3
    start_server "$server" "$mem"
    local out=$WORK/$server.$label.json
    if ! timeout "$RUN_TIMEOUT" taskset -c "$CLIENT_CPU" "$CLIENT" -p "$PORT" --json \
        --label "$server:$label" --seed "$SEED" --max-seconds "$RUN_TIMEOUT" "$@" >"$out"; then
        echo "WARNING: client failed against $server ($label): $(cat "$out")" >&2
        echo '{"failed":true}' >"$out"
        echo "  $server log:" >&2
        tail -n 20 "$WORK/$server.log" >&2 || true
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "WARNING: $server exited during $label; its log:" >&2
        cat "$WORK/$server.log" >&2 || true
    fi
    stop_server
    [[ -n $RAW_LOG ]] && cat "$out" >>"$RAW_LOG"
    echo "  $server $label: $(field hit_ratio <"$out") hits, $(field evictions <"$out") evictions, $(field curr_items <"$out") items, $(field elapsed_s <"$out") s" >&2
}

both() {
    run memcached "$@"
    run corecached "$@"
}

START=$(date +%s)
COMMON=(--keys "$KEYS" --requests "$REQUESTS" --warmup "$WARMUP" --value-size "$VALUE_SIZE")
WORKLOADS=(zipf-0.8 zipf-1.0 zipf-1.2 scan-mix)
both zipf-0.8 "$MEM" "${COMMON[@]}" --dist zipf --zipf-exp 0.8
both zipf-1.0 "$MEM" "${COMMON[@]}" --dist zipf --zipf-exp 1.0
both zipf-1.2 "$MEM_Z12" "${COMMON[@]}" --dist zipf --zipf-exp 1.2
both scan-mix "$MEM" "${COMMON[@]}" --dist scan-mix --zipf-exp 1.0 \
    --scan-fraction "$SCAN_FRACTION" --scan-burst "$SCAN_BURST"
both mixed "$MEM" --keys "$MIXED_KEYS" --requests "$MIXED_REQUESTS" --warmup "$MIXED_WARMUP" \
    --value-range "$MIXED_RANGE" --size-threshold "$MIXED_THRESHOLD" --dist zipf --zipf-exp 1.0
END=$(date +%s)

pct() { if [[ -z $1 ]]; then echo FAILED; else awk -v x="$1" 'BEGIN { printf "%.2f%%", x * 100 }'; fi; }
diff_pp() {
    if [[ -z $1 || -z $2 ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f pp", (b - a) * 100 }'; fi
}
row() { # workload memcached-ratio corecached-ratio notes
    printf '| %-44s | %10s | %10s | %10s | %s |\n' "$1" "$(pct "$2")" "$(pct "$3")" "$(diff_pp "$2" "$3")" "$4"
}

echo
echo "Hit ratio, cache-aside, -m $MEM, 1 server thread; keys=$KEYS requests=$REQUESTS (after warmup $WARMUP) values=${VALUE_SIZE}B seed=$SEED"
echo
echo "| workload                                     |  memcached | corecached | difference | evictions / items at end (memcached; corecached) |"
echo "|----------------------------------------------|-----------:|-----------:|-----------:|------|"
for w in "${WORKLOADS[@]}" mixed; do
    m=$WORK/memcached.$w.json
    c=$WORK/corecached.$w.json
    name=$w
    case $w in
    zipf-1.2) name="zipf-1.2 (-m $MEM_Z12)" ;;
    scan-mix) name="scan-mix (zipf 1.0, ${SCAN_FRACTION} scan, bursts $SCAN_BURST)" ;;
    mixed) name="mixed ${MIXED_RANGE}B zipf 1.0 (${MIXED_KEYS} keys)" ;;
    esac
    notes="$(field evictions <"$m") / $(field curr_items <"$m"); $(field evictions <"$c") / $(field curr_items <"$c")"
    bad=$(($(field bad_values <"$m") + 0 + $(field bad_values <"$c") + 0))
    errs="$(field set_errors <"$m")/$(field set_errors <"$c")"
    [[ $bad -ne 0 ]] && notes="$notes; BAD VALUES: $bad"
    [[ $errs != 0/0 ]] && notes="$notes; set errors $errs"
    row "$name" "$(field hit_ratio <"$m")" "$(field hit_ratio <"$c")" "$notes"
    if [[ $w == mixed ]]; then
        row "  mixed: small (<=${MIXED_THRESHOLD}B)" "$(field small_hit_ratio <"$m")" "$(field small_hit_ratio <"$c")" \
            "$(field small_hits <"$m")+$(field small_misses <"$m") requests"
        row "  mixed: large (>${MIXED_THRESHOLD}B)" "$(field large_hit_ratio <"$m")" "$(field large_hit_ratio <"$c")" \
            "$(field large_hits <"$m")+$(field large_misses <"$m") requests"
        row "  mixed: byte hit ratio" "$(field byte_hit_ratio <"$m")" "$(field byte_hit_ratio <"$c")" ""
    fi
done
echo
echo "Total time $((END - START)) s."
