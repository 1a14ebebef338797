#!/usr/bin/env bash
# Runs each cargo-fuzz target in fuzz/ for a bounded time and prints libFuzzer's figures
# (executions, coverage, features, corpus) for each.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      defaults: 60 s; text_parser meta_parser
#                                               binary_parser store_ops
#
# Environment:
#   FUZZ_TOOLCHAIN  a rustup toolchain to run cargo fuzz with (e.g. nightly). Default: the
#                   active one, with RUSTC_BOOTSTRAP=1 so that a stable toolchain accepts the
#                   -Z flags cargo fuzz passes (sanitizer, coverage instrumentation).
#   FUZZ_ARGS       extra libFuzzer flags (e.g. "-max_len=16384").
#
# Corpora go to fuzz/corpus/<target> (seeded with a few valid inputs when empty), crashes to
# fuzz/artifacts/<target>; both are ignored by git. Logs: fuzz/logs/<target>.log.
# Exit status: 0 when every target ran its time without a failure; 1 on a failure (the
# crashing input is named in the log); 2 when cargo fuzz cannot run here (reason printed).
set -uo pipefail

SECS=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(text_parser meta_parser binary_parser store_ops)
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FUZZ="$ROOT/fuzz"
cd "$FUZZ" || exit 2

cannot() {
    echo "fuzz.sh: cargo fuzz cannot run here: $*" >&2
    exit 2
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked >&2 ||
        cannot "cargo-fuzz is not installed and 'cargo install cargo-fuzz' failed"
fi

CARGO=(cargo)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    CARGO=(cargo "+$FUZZ_TOOLCHAIN")
else
    # cargo fuzz passes -Zsanitizer=address and friends, which only a nightly compiler
    # accepts, unless RUSTC_BOOTSTRAP=1 lets the stable one.
    export RUSTC_BOOTSTRAP=1
fi

# A few valid inputs to start from (libFuzzer mutates them): for the parsers, a config byte,
# a cut-seed byte, then the stream; for store_ops, two config bytes, then operations.
seed_corpus() {
    local t=$1 dir="$FUZZ/corpus/$1"
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return
    case $t in
    text_parser)
        printf '\x01\x07set k 0 0 5\r\nhello\r\nget k a b\r\ngets k\r\n' >"$dir/seed-set-get"
        printf '\x00\x03set k 1 2 200\r\n%0200d\r\nget k\r\n' 0 >"$dir/seed-too-large"
        printf '\x02\x09cas k 0 0 1 7 noreply\r\nx\r\nincr n 5\r\ndecr n 1 noreply\r\n' >"$dir/seed-cas-arith"
        printf '\x03\x11touch k 10\r\ngat 5 k\r\ndelete k 0\r\nflush_all 3 noreply\r\nverbosity 1\r\nstats items\r\nversion\r\nmn\r\nquit\r\n' >"$dir/seed-misc"
        printf '\x01\x05append k 0 0 2\nab\r\nprepend k 0 0 0\r\n\r\nGET / HTTP/1.1\r\n' >"$dir/seed-http"
        # Lines over 2048 bytes: a multi-get (allowed) and a set (closes when read in pieces).
        { printf '\x02\x21get'; for i in $(seq 1 300); do printf ' key%d' "$i"; done; printf '\r\nget a\r\n'; } >"$dir/seed-long-get"
        { printf '\x01\x13set '; printf '%02100d' 0; printf ' 0 0 1\r\nx\r\n'; } >"$dir/seed-long-set"
        ;;
    meta_parser)
        # Each line gets a meta command word chosen by its first byte (0 mg, 1 ms, 2 md,
        # 3 ma, 4 me, 5 mn): here mg, ms (with its data line given to mg), md, ma, me, mn.
        printf '\x01\x07\x00k v f t s c k h l O123 q\r\n\x01k 5 T30 F7 I\r\n\x00hello\r\n\x02k q I T30\r\n\x03n N0 J13 D2 v MI\r\n\x04k\r\n\x05\r\n' >"$dir/seed-meta"
        printf '\x00\x05\x00a2V5MQ== b k v N30 R10 E9\r\n\x01a2V5MQ== 200 b MA\r\n' >"$dir/seed-meta-b64"
        ;;
    binary_parser)
        # set k=hello flags 7, getk k, getkq missing, noop, then an unknown opcode.
        {
            printf '\x01\x07'
            printf '\x80\x01\x00\x01\x08\x00\x00\x00\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00'
            printf '\x00\x00\x00\x07\x00\x00\x00\x00khello'
            printf '\x80\x0c\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00k'
            printf '\x80\x0d\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00m'
            printf '\x80\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00'
            printf '\x80\x77\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00zz'
        } >"$dir/seed-binary"
        ;;
    store_ops)
        # set k1 "..."; get k1; append; incr; flush; pager; advance; headroom.
        printf '\x03\x10\x00\x01\x00\x05\x04\x01\x00\x01\x03\x02\x09\x01\x0a\x02\x0b\x20\x0c\x81\x0d\x00' >"$dir/seed-mix"
        printf '\x02\x05\x00\x02\x00\x7f\x00\x03\x00\x7f\x00\x04\x00\x7f\x00\x05\x00\x7f\x00\x06\x00\x7f\x0d\x00\x04\x02' >"$dir/seed-evict"
        ;;
    esac
}

mkdir -p "$FUZZ/logs"
status=0
printf 'fuzz.sh: %s s per target; %s; %s\n' "$SECS" "$("${CARGO[@]}" fuzz --version 2>/dev/null)" \
    "$(rustc ${FUZZ_TOOLCHAIN:++$FUZZ_TOOLCHAIN} --version)"
for t in "${TARGETS[@]}"; do
    seed_corpus "$t"
    log="$FUZZ/logs/$t.log"
    # -a: debug assertions on (the store's debug_assert!s); release optimisation otherwise.
    if ! "${CARGO[@]}" fuzz build -a "$t" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        cannot "building target $t failed (log: $log)"
    fi
    # shellcheck disable=SC2086
    "${CARGO[@]}" fuzz run -a "$t" "corpus/$t" -- \
        -max_total_time="$SECS" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
        ${FUZZ_ARGS:-} >>"$log" 2>&1
    rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
    rate=$(grep -E '^stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}')
    rss=$(grep -E '^stat::peak_rss_mb' "$log" | tail -n 1 | awk '{print $2}')
    echo "== $t: exit $rc, executions ${execs:-?} (${rate:-?}/s), peak RSS ${rss:-?} MB"
    echo "   last status: ${last:-none}"
    if [ $rc -ne 0 ]; then
        status=1
        echo "   FAILED: see $log" >&2
        grep -E 'panicked|SUMMARY|Test unit written to' "$log" | head -n 5 >&2
    fi
done
exit $status
