#!/usr/bin/env python3
"""A/B of server builds: user and kernel CPU per request, ops/s and p99, rounds interleaved.

Each server runs pinned to CPU 0 (for --threads 1) and is prefilled with --keys keys (100,000) of
--data-size bytes (32); then,
round after round, each is driven in turn by corecached-bench on CPU 1. CPU time comes from
/proc/PID/stat (utime, stime) around each run. Use it to tell whether a change moved user
time, which compare.py's totals mix with the kernel's loopback cost. Interrupts per request are
CPU 0's rescheduling and function-call interrupts (/proc/interrupts RES and CAL) over the run.

    scripts/ab.py target/release/corecached /tmp/old-corecached
    scripts/ab.py target/release/corecached:--bench-noop "memcached:-U 0 -u nobody" --pipeline 1
    scripts/ab.py --cross-shard target/release/corecached /tmp/old-corecached
    scripts/ab.py --memtier target/release/corecached /tmp/old-corecached --pipeline 1

--memtier drives the measured rounds with memtier_benchmark (on PATH; built by hand from its
public source, it is not packaged) instead of the project's generator, with the same options:
memtier is the judge of per-core targets (the generator sends in bursts).

--cross-shard runs each corecached build twice, `-t 2 --cpus 0,1` routed and with
--bench-no-forward, the generator unpinned (as scripts/cross-shard-cost.sh does for one build),
and prints the CPU each forwarded request adds: each pair of rounds' difference in CPU per
request, times 2 (half the keys live on the other shard), and their median.

A server is `path[:flags]`; `-p PORT -t THREADS -l 127.0.0.1` are added. Everything listens on
127.0.0.1 and every run stops after --time seconds.
"""

import argparse
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, wait_port  # noqa: E402  (the harness's helpers)

GEN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target",
                   "release", "corecached-bench")
TICK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(f[11]), int(f[12])


def ipis():
    """Rescheduling and function-call interrupts taken by CPU 0 so far."""
    n = 0
    for line in open("/proc/interrupts"):
        f = line.split()
        if f and f[0] in ("RES:", "CAL:"):
            n += int(f[1])
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("servers", nargs="+")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--time", type=int, default=4)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-size", type=int, default=32)
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--ratio", default="1:10", help="SET:GET of the measured load")
    ap.add_argument("--gen", default="", help="more corecached-bench options")
    ap.add_argument("--memtier", action="store_true",
                    help="measure with memtier_benchmark instead of corecached-bench")
    ap.add_argument("--cross-shard", action="store_true",
                    help="each build routed and --bench-no-forward, 2 shards (see above)")
    a = ap.parse_args()
    runs = []  # (label, executable, flags) of every server started
    for spec in a.servers:
        exe, _, flags = spec.partition(":")
        if a.cross_shard:
            runs.append((spec + " routed", exe, flags + " --cpus 0,1"))
            runs.append((spec + " no-forward", exe, flags + " --cpus 0,1 --bench-no-forward"))
        else:
            runs.append((spec, exe, flags))
    if a.cross_shard:
        a.threads = 2
    procs = []
    try:
        for label, exe, flags in runs:
            port = free_port()
            cmd = [exe, "-l", "127.0.0.1", "-p", str(port), "-t", str(a.threads)] + flags.split()
            if a.threads == 1:
                cmd = ["taskset", "-c", "0"] + cmd
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append((label, port, p))
            wait_port(port, p)
            subprocess.run([GEN, "-s", "127.0.0.1", "-p", str(port), "-t", "1", "-c", "10",
                            "--pipeline", "32", "-d", str(a.data_size), "--key-maximum", str(a.keys - 1),
                            "--prefill-only"], stdout=subprocess.DEVNULL, check=True, timeout=300)
        res = {spec: [] for spec, _, _ in procs}
        for _ in range(a.rounds):
            for spec, port, p in procs:
                u0, s0 = cpu(p.pid)
                i0 = ipis()
                pin = [] if a.cross_shard else ["taskset", "-c", "1"]
                tool = ["memtier_benchmark", "-P", "memcache_text", "--key-pattern", "R:R"] \
                    if a.memtier else [GEN]
                out = subprocess.run(
                    pin + tool + ["-s", "127.0.0.1", "-p", str(port), "-t", "1",
                     "-c", str(a.clients), "--pipeline", str(a.pipeline), "-d", str(a.data_size), "--ratio",
                     a.ratio, "--key-maximum", str(a.keys - 1), "--test-time", str(a.time),
                     "--hide-histogram"] + a.gen.split(),
                    capture_output=True, text=True, timeout=a.time + 60).stdout
                u1, s1 = cpu(p.pid)
                i1 = ipis()
                tot = [line for line in out.splitlines() if line.startswith("Totals")][0].split()
                ops = float(tot[1])
                n = ops * a.time
                res[spec].append((ops, (u1 - u0) / TICK / n * 1e6, (s1 - s0) / TICK / n * 1e6,
                                  float(tot[6]), (i1 - i0) / n))
    finally:
        for _, _, p in procs:
            p.kill()
            p.wait()
    for spec, rs in res.items():
        med = [statistics.median(x[i] for x in rs) for i in range(5)]
        print(f"{spec}: ops/s {med[0]:,.0f}, user {med[1]:.3f} + kernel {med[2]:.3f} = "
              f"{med[1] + med[2]:.3f} us/request, p99 {med[3]:.3f} ms, CPU 0's rescheduling and "
              f"call interrupts {med[4]:.3f}/request; user per round "
              f"{' '.join('%.3f' % x[1] for x in rs)}")
    if a.cross_shard:
        for spec in a.servers:
            routed, local = res[spec + " routed"], res[spec + " no-forward"]
            pairs = sorted(2 * ((r[1] + r[2]) - (n[1] + n[2])) for r, n in zip(routed, local))
            upairs = [2 * (r[1] - n[1]) for r, n in zip(routed, local)]
            print(f"{spec}: forwarding adds {statistics.median(pairs):.3f} us per forwarded "
                  f"request (median of paired rounds; user {statistics.median(upairs):.3f}); "
                  f"pairs {' '.join('%.2f' % x for x in pairs)}")


if __name__ == "__main__":
    main()
