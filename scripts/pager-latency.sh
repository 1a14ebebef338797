#!/usr/bin/env bash
# Foreground latency while the expiry pager reclaims 1,000,000 expired items, against the
# same load with an idle pager, in one run.
#
#   scripts/pager-latency.sh            # server on CPU 0, load on CPU 1
#
# 1. corecached --threads 1 -m 1024 pinned to CPU 0; 100,000 "live" keys prefilled.
# 2. Idle: the generator reads and writes the live keys for 8 s (pipeline 1, 10 clients).
# 3. 1,000,000 items with a 5 s TTL are loaded under another prefix; then the same load runs
#    for 8 s, during which they expire and the pager reclaims them (checked with `stats`).
# Prints p50/p99/p99.9 of both runs and the ratio of the p99s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin corecached --bin corecached-bench
B=target/release
PORT=${PORT:-23411}
$B/corecached -p "$PORT" -t 1 --cpus 0 -m 1024 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

load() {
    $B/corecached-bench -p "$PORT" -t 1 -c 10 --pipeline 1 -d 32 --ratio 1:10 \
        --key-prefix live- --key-maximum 99999 --test-time 8 --cpu 1 --hide-histogram \
        --print-percentiles 50,99,99.9 "$@" | grep -E '^Totals'
}
stat() { printf 'stats\r\nquit\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; cat <&3" | tr -d '\r' | awk -v k="$1" '$2==k {print $3}'; }

$B/corecached-bench -p "$PORT" -t 1 -c 10 --pipeline 32 -d 32 --key-prefix live- \
    --key-maximum 99999 --prefill-only --cpu 1 > /dev/null
idle=$(load)
$B/corecached-bench -p "$PORT" -t 1 -c 10 --pipeline 64 -d 100 --key-prefix ttl- \
    --key-maximum 999999 --expiry-range 5-5 --prefill-only --cpu 1 > /dev/null
before=$(stat reclaimed)
busy=$(load)
after=$(stat reclaimed)
echo "                     ops/s      avg(ms)    p50(ms)    p99(ms)    p99.9(ms)"
echo "idle pager:  $(echo "$idle" | awk '{printf "%10s %10s %10s %10s %10s", $2, $5, $6, $7, $8}')"
echo "reclaiming:  $(echo "$busy" | awk '{printf "%10s %10s %10s %10s %10s", $2, $5, $6, $7, $8}')"
echo "items reclaimed during the second run: $((after - before))"
python3 -c "print('p99 ratio (reclaiming / idle): %.2f' % ($(echo "$busy" | awk '{print $7}') / $(echo "$idle" | awk '{print $7}')))"
