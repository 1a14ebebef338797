#!/usr/bin/env python3
"""Fairness under load: one pipeline-1 client beside heavy pipelined clients.

A busy corecached shard reads a connection's next request without going back to its
reactor (see Conn::recv_after_others), so its task queue can stay busy for as long as some
connection always has bytes waiting. This measures what that does to a client that is not
one of them: memcached (-t 1) and corecached (--threads 1) each pinned to CPU 0; from CPU 1,
--heavy connections at pipeline --heavy-pipeline run for --time seconds while one more
connection at pipeline 1 runs inside that window. Rounds are interleaved; the table gives
medians of the light client's latency and the heavy clients' ops/s.

    scripts/fairness.py                         # 10 heavy connections at pipeline 16
    scripts/fairness.py --rounds 5 --heavy 20

memcached must be installed. Everything listens on 127.0.0.1 and every run is bounded.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the harness's server and generator helpers)


def run_pair(args, server):
    gen = os.path.join(compare.BIN, "corecached-bench")
    common = ["-s", "127.0.0.1", "-p", str(server.port), "-t", "1", "-d", "32",
              "--key-maximum", str(args.keys - 1), "--key-pattern", "R:R", "--ratio", "1:10",
              "--hide-histogram", "--cpu", "1"]
    heavy = subprocess.Popen([gen] + common + ["-c", str(args.heavy), "--pipeline",
                                               str(args.heavy_pipeline), "--test-time",
                                               str(args.time)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The light client runs inside the heavy clients' window: start after they connect,
    # stop before they do.
    time.sleep(0.5)
    light = subprocess.run([gen] + common + ["-c", "1", "--pipeline", "1", "--test-time",
                                             str(max(1, args.time - 2))],
                           capture_output=True, text=True, timeout=args.time + 60)
    h_out, h_err = heavy.communicate(timeout=args.time + 60)
    rows = {}
    for name, out in (("light", light.stdout), ("heavy", h_out)):
        m = next((compare.TOTALS.match(l) for l in out.splitlines() if compare.TOTALS.match(l)),
                 None)
        if not m:
            raise SystemExit(f"{name} load against {server.name}: no Totals line:\n{out}")
        rows[name] = m
    light_m, heavy_m = rows["light"], rows["heavy"]
    return {"light_ops": float(light_m.group(1)), "light_p50": float(light_m.group(5)),
            "light_p99": float(light_m.group(6)), "light_p999": float(light_m.group(7)),
            "heavy_ops": float(heavy_m.group(1))}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time", type=int, default=6, help="seconds of heavy load per run")
    ap.add_argument("--heavy", type=int, default=10, help="heavy connections")
    ap.add_argument("--heavy-pipeline", type=int, default=16)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    compare.prepare(args.no_build)
    opts = argparse.Namespace(mode="one", memory=1024, conn_limit=4096, no_noop=True,
                              protocol="memcache_text", data_size=32, keys=args.keys)
    servers = compare.start_servers(opts)
    try:
        for s in servers:
            compare.prefill(opts, s)
        results = {s.name: [] for s in servers}
        for _ in range(args.rounds):
            for s in servers:
                results[s.name].append(run_pair(args, s))
        print(f"{args.heavy} connections at pipeline {args.heavy_pipeline} for {args.time}s, "
              f"one connection at pipeline 1 beside them; 32-byte values, SET:GET 1:10, "
              f"{args.keys} keys; {args.rounds} interleaved rounds (medians)\n")
        print("| server | light client ops/s | light p50 ms | light p99 ms | light p99.9 ms "
              "| heavy clients ops/s |")
        print("|---|---|---|---|---|---|")
        med = {}
        for name, rows in results.items():
            med[name] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
            m = med[name]
            print(f"| {name} | {m['light_ops']:,.0f} | {m['light_p50']:.3f} | "
                  f"{m['light_p99']:.3f} | {m['light_p999']:.3f} | {m['heavy_ops']:,.0f} |")
        c, o = med.get("corecached"), med.get("memcached")
        if c and o:
            print(f"\n- corecached / memcached: light p99 {c['light_p99'] / o['light_p99']:.2f}x, "
                  f"light p99.9 {c['light_p999'] / o['light_p999']:.2f}x, heavy ops/s "
                  f"{c['heavy_ops'] / o['heavy_ops']:.2f}x")
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
