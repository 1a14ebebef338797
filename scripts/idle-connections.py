#!/usr/bin/env python3
"""10,000 concurrent connections, 50 busy and the rest idle: corecached vs memcached.

For each server (pinned to CPU 0, load on CPU 1): the busy clients' throughput with no idle
connections, then with 9,950 idle connections open (each has sent one `version`, so the
server has really set it up), and the resident memory those idle connections cost.

corecached parks connections idle for `--park-after-ms` (1 s by default): the script waits
(bounded) until `stats` shows every idle connection parked and resident memory has settled,
and reports the cost both just after the connections were set up ("before parking") and
once parked (the steady state, measured while the busy clients run against them).

    scripts/idle-connections.py [--idle 9950] [--time 5] [--repeat 5] [--memtier]

Each round measures the busy clients alone and with the idle connections open, in turns
(alone first in even rounds, idle first in odd ones, so a drift of the machine's speed over
a round falls on both sides alike). On a shared machine single runs vary by tens of percent,
so the table's change is the median of the per-round ratios, for the busy clients' ops and
for the server's CPU per request (from /proc: the steadier of the two, as the server is pinned
and the load runs on the other CPU). Memory is the first round's (a fresh process; later
rounds reuse what earlier connections freed).

The busy clients are the project's generator, or memtier_benchmark with `--memtier` (it
must be on PATH: build it from its public source), the tool per-core figures are judged by.

Needs `ulimit -n` above 2 x (idle + 100). Listens on 127.0.0.1 only.
"""

import argparse
import os
import sys
import resource
import shutil
import socket
import statistics
import subprocess
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from procstat import cpu_seconds, rss_kb  # noqa: E402


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stats(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"stats\r\n")
    buf = b""
    while not buf.endswith(b"END\r\n"):
        buf += s.recv(65536)
    s.close()
    return dict(l.split(" ", 2)[1:] for l in buf.decode().splitlines() if l.startswith("STAT "))


def wait_parked(port, pid, n):
    """Waits (bounded) until n connections are parked, then until resident memory settles."""
    end = time.time() + 60
    while int(stats(port).get("parked_connections", 0)) < n:
        if time.time() > end:
            raise SystemExit(f"only {stats(port).get('parked_connections')} of {n} parked")
        time.sleep(0.2)
    prev = rss_kb(pid)
    while time.time() < end:
        time.sleep(1.2)  # the sweep that returns freed memory runs once a second
        cur = rss_kb(pid)
        if cur >= prev:
            return cur
        prev = cur
    return prev


def wait_closed(port):
    """Waits (bounded) until the server has closed what the last round opened."""
    end = time.time() + 60
    while int(stats(port)["curr_connections"]) > 100:
        if time.time() > end:
            raise SystemExit("the idle connections were not closed")
        time.sleep(0.2)


def median(xs):
    return statistics.median(xs)


def wait_port(port):
    end = time.time() + 10
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no server on {port}")


def busy(port, pid, seconds, memtier):
    """The busy clients for `seconds`: (ops/s, p99 ms, the server's CPU µs per request)."""
    common = ["-p", str(port), "-t", "1", "-c", "50", "--pipeline", "1", "-d", "32",
              "--ratio", "1:10", "--key-maximum", "9999", "--test-time", str(seconds),
              "--hide-histogram"]
    if memtier:
        argv = ["taskset", "-c", "1", "memtier_benchmark", "-s", "127.0.0.1",
                "-P", "memcache_text"] + common
    else:
        argv = [os.path.join(BIN, "corecached-bench"), "--cpu", "1"] + common
    c0 = cpu_seconds(pid)
    run = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    c1 = cpu_seconds(pid)
    line = next((l for l in run.stdout.splitlines() if l.startswith("Totals")), None)
    if line is None:
        raise SystemExit(f"{argv[0]}: no Totals line:\n{run.stdout}{run.stderr}")
    f = line.split()
    ops, p99 = float(f[1]), float(f[6])
    return ops, p99, (c1 - c0) / (ops * seconds) * 1e6


def open_idle(port, n):
    conns = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"version\r\n")
        conns.append(s)
    for s in conns:
        s.settimeout(10)
        buf = b""
        while not buf.endswith(b"\r\n"):
            buf += s.recv(100)
    return conns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--idle", type=int, default=9950)
    ap.add_argument("--time", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--memtier", action="store_true",
                    help="memtier_benchmark (on PATH) as the busy clients")
    args = ap.parse_args()
    if args.memtier and not shutil.which("memtier_benchmark"):
        raise SystemExit("--memtier: memtier_benchmark is not on PATH")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "corecached", "--bin",
                    "corecached-bench"], cwd=ROOT, check=True)
    limit = str(args.idle + 200)
    user = ["-u", "root"] if os.geteuid() == 0 else []
    rows = []
    for name in ("memcached", "corecached"):
        port = free_port()
        if name == "memcached":
            argv = ["taskset", "-c", "0", "memcached"] + user + [
                "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "1", "-c", limit]
        else:
            argv = [os.path.join(BIN, "corecached"), "-p", str(port), "-t", "1", "--cpus", "0",
                    "-c", limit]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            subprocess.run([os.path.join(BIN, "corecached-bench"), "-p", str(port), "-t", "1",
                            "-c", "10", "--pipeline", "32", "-d", "32", "--key-maximum", "9999",
                            "--prefill-only"], capture_output=True, check=True)
            runs = []
            for r in range(args.repeat):
                rss0 = rss_kb(proc.pid)
                if r % 2 == 0:
                    alone = busy(port, proc.pid, args.time, args.memtier)
                idle = open_idle(port, args.idle)
                rss1 = rss_kb(proc.pid)
                rss2 = wait_parked(port, proc.pid, args.idle) if name == "corecached" else rss1
                with_idle = busy(port, proc.pid, args.time, args.memtier)
                rss3 = rss_kb(proc.pid)
                for s in idle:
                    s.close()
                wait_closed(port)
                if r % 2 == 1:
                    alone = busy(port, proc.pid, args.time, args.memtier)
                runs.append(dict(alone=alone, idle=with_idle,
                                 early=(rss1 - rss0) * 1024 / args.idle,
                                 parked=(max(rss2, rss3) - rss0) * 1024 / args.idle))
            rows.append((name, runs))
        finally:
            proc.terminate()
            proc.wait(10)
    tool = "memtier_benchmark" if args.memtier else "corecached-bench"
    print(f"50 busy connections ({tool}, pipeline 1, 1:10, 32-byte values), alone and with "
          f"{args.idle} idle connections open; {args.repeat} rounds, medians (change: "
          f"median of the per-round ratios)")
    print("| server | busy ops/s alone | with idle | ops change | per round |"
          " server CPU µs per request alone | with idle | CPU change | p99 ms alone | with idle |"
          " resident bytes per idle connection | before parking |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, runs in rows:
        ops_ratio = [r["idle"][0] / r["alone"][0] for r in runs]
        cpu_ratio = [r["idle"][2] / r["alone"][2] for r in runs]
        col = [[median([r[k][i] for r in runs]) for i in range(3)] for k in ("alone", "idle")]
        print(f"| {name} | {col[0][0]:,.0f} | {col[1][0]:,.0f} | "
              f"{100 * (median(ops_ratio) - 1):+.1f}% | "
              f"{' '.join(f'{100 * (x - 1):+.1f}' for x in ops_ratio)} | "
              f"{col[0][2]:.2f} | {col[1][2]:.2f} | {100 * (median(cpu_ratio) - 1):+.1f}% | "
              f"{col[0][1]:.3f} | {col[1][1]:.3f} | {runs[0]['parked']:,.0f} | "
              f"{runs[0]['early']:,.0f} |")

if __name__ == "__main__":
    main()
