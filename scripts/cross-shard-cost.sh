#!/usr/bin/env bash
# CPU per request added by cross-shard forwarding, with --threads 2.
#
# Runs corecached --threads 2 --cpus 0,1 twice, alternating, under the same load: normally
# (a random key lives on the other shard half of the time) and with --bench-no-forward
# (every shard serves every key itself: same process, same connections, no forwarding).
# The difference in server CPU per request, divided by the forwarded fraction (1/2), is
# the cost of forwarding one request. Load: 1 generator thread, 50 connections. Also
# printed: each pair of rounds' own difference (the machine drifts between rounds; their
# median is steadier than the difference of medians) and the rescheduling and call
# interrupts per request on both CPUs (from /proc/interrupts).
#
#   scripts/cross-shard-cost.sh [PIPELINE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
PIPE=${1:-16}
ROUNDS=${2:-3}
cargo build --release --quiet --bin corecached --bin corecached-bench
B=target/release
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }
# Rescheduling and function-call interrupts taken by both CPUs so far.
ipis() { awk '$1 == "RES:" || $1 == "CAL:" {n += $2 + $3} END {print n}' /proc/interrupts; }
run() { # port pid -> "ops us_per_op user_us_per_op interrupts_per_op"
    local c0 c1 i0 i1 ops
    c0=$(cpu "$2")
    i0=$(ipis)
    ops=$($B/corecached-bench -p "$1" -t 1 -c 50 --pipeline "$PIPE" -d 32 --ratio 1:10 \
        --key-maximum 99999 --test-time 4 --hide-histogram | awk '/^Totals/ {print $2}')
    c1=$(cpu "$2")
    i1=$(ipis)
    # shellcheck disable=SC2086 # c0 and c1 are two numbers each (user, kernel ticks)
    python3 -c '
import sys
ops, u0, s0, u1, s1, tck, i0, i1 = map(float, sys.argv[1:])
per = 1e6 / tck / (ops * 4)
print("%.0f %.3f %.3f %.4f" % (ops, (u1 - u0 + s1 - s0) * per, (u1 - u0) * per,
                             (i1 - i0) / (ops * 4)))
' "$ops" $c0 $c1 "$(getconf CLK_TCK)" "$i0" "$i1"
}
$B/corecached -p 23501 -t 2 --cpus 0,1 & A=$!
$B/corecached -p 23502 -t 2 --cpus 0,1 --bench-no-forward & N=$!
trap 'kill $A $N 2>/dev/null || true' EXIT
sleep 0.5
for p in 23501 23502; do
    $B/corecached-bench -p $p -t 1 -c 10 --pipeline 32 -d 32 --key-maximum 99999 --prefill-only > /dev/null
done
fwd=(); loc=()
for _ in $(seq "$ROUNDS"); do
    fwd+=("$(run 23501 $A)")
    loc+=("$(run 23502 $N)")
done
python3 - "$PIPE" "${fwd[@]}" -- "${loc[@]}" <<'PY'
import statistics, sys
pipe = sys.argv[1]
args = sys.argv[2:]
cut = args.index("--")
fwd = [tuple(map(float, a.split())) for a in args[:cut]]
loc = [tuple(map(float, a.split())) for a in args[cut + 1:]]
def med(rows, i):
    return statistics.median(r[i] for r in rows)
f, l = med(fwd, 1), med(loc, 1)
fu, lu = med(fwd, 2), med(loc, 2)
print(f"pipeline {pipe}: routed {f:.3f} us/request ({med(fwd, 0):,.0f} ops/s), "
      f"no forwarding {l:.3f} us/request ({med(loc, 0):,.0f} ops/s)")
print(f"  user space: routed {fu:.3f}, no forwarding {lu:.3f}; "
      f"kernel: routed {f - fu:.3f}, no forwarding {l - lu:.3f} us/request")
print(f"forwarding adds {f - l:.3f} us per request on average, {2 * (f - l):.3f} us per forwarded "
      f"request ({2 * (fu - lu):.3f} user, {2 * ((f - fu) - (l - lu)):.3f} kernel)")
print(f"  rescheduling and call interrupts (both CPUs) per request: routed {med(fwd, 3):.4f}, "
      f"no forwarding {med(loc, 3):.4f}")
# Rounds ran in pairs (routed, then no forwarding): each pair's own difference shows how far
# the machine moved during the run; their median is less sensitive to one slow round.
pairs = sorted(2 * (a[1] - b[1]) for a, b in zip(fwd, loc))
print(f"  per pair of rounds, us per forwarded request: {' '.join('%.3f' % p for p in pairs)} "
      f"(median {statistics.median(pairs):.3f})")
PY
