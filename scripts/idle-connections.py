#!/usr/bin/env python3
"""10,000 concurrent connections, 50 busy and the rest idle: corecached vs memcached.

For each server (pinned to CPU 0, load on CPU 1): the busy clients' throughput with no idle
connections, then with 9,950 idle connections open (each has sent one `version`, so the
server has really set it up), and the resident memory those idle connections cost.

corecached parks connections idle for `--park-after-ms` (1 s by default): the script waits
(bounded) until `stats` shows every idle connection parked and resident memory has settled,
and reports the cost both just after the connections were set up ("before parking") and
once parked (the steady state, measured while the busy clients run against them).

    scripts/idle-connections.py [--idle 9950] [--time 5] [--repeat 3]

Each round measures the busy clients alone, then opens the idle connections, measures again
and closes them; the table shows throughput medians over the rounds (on a shared machine
single runs vary by tens of percent) and the memory of the first round (a fresh process;
later rounds reuse what earlier connections freed).

Needs `ulimit -n` above 2 x (idle + 100). Listens on 127.0.0.1 only.
"""

import argparse
import os
import sys
import resource
import socket
import subprocess
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from procstat import rss_kb  # noqa: E402


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
    return sorted(xs)[len(xs) // 2]


def wait_port(port):
    end = time.time() + 10
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no server on {port}")


def busy(port, seconds):
    out = subprocess.run(
        [os.path.join(BIN, "corecached-bench"), "-p", str(port), "-t", "1", "-c", "50",
         "--pipeline", "1", "-d", "32", "--ratio", "1:10", "--key-maximum", "9999",
         "--test-time", str(seconds), "--cpu", "1", "--hide-histogram"],
        capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(l for l in out.splitlines() if l.startswith("Totals"))
    f = line.split()
    return float(f[1]), float(f[6])


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
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
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
            for _ in range(args.repeat):
                ops0, p99_0 = busy(port, args.time)
                rss0 = rss_kb(proc.pid)
                idle = open_idle(port, args.idle)
                rss1 = rss_kb(proc.pid)
                rss2 = wait_parked(port, proc.pid, args.idle) if name == "corecached" else rss1
                ops1, p99_1 = busy(port, args.time)
                rss3 = rss_kb(proc.pid)
                for s in idle:
                    s.close()
                wait_closed(port)
                runs.append((ops0, ops1, p99_0, p99_1, (rss1 - rss0) * 1024 / args.idle,
                             (max(rss2, rss3) - rss0) * 1024 / args.idle))
            # Throughput: medians. Memory: the first round, on a fresh process (later rounds
            # reuse what the previous round's connections freed).
            rows.append((name,) + tuple(median([r[i] for r in runs]) for i in range(4))
                        + runs[0][4:])
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"50 busy connections (pipeline 1), then with {args.idle} idle connections open; "
          f"medians of {args.repeat} rounds")
    print("| server | busy ops/s alone | with idle | change | p99 ms alone | with idle |"
          " resident bytes per idle connection | before parking |")
    print("|---|---|---|---|---|---|---|---|")
    for name, a, b, pa, pb, early, per in rows:
        print(f"| {name} | {a:,.0f} | {b:,.0f} | {100 * (b - a) / a:+.1f}% | {pa:.3f} | {pb:.3f} "
              f"| {per:,.0f} | {early:,.0f} |")


if __name__ == "__main__":
    main()
