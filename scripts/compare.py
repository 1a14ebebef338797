#!/usr/bin/env python3
"""Comparison harness: memcached vs corecached vs corecached's no-op responder.

Each server runs in turn under the same load generator with the same options; rounds are
interleaved (A, B, C, A, B, C, ...) so drift on a shared machine hits all alike, and the table
reports medians and ratios measured in this one run. Server CPU time per request comes from
/proc/PID/stat (utime + stime) over each run.

    scripts/compare.py                          # one core: servers on CPU 0, load on CPU 1
    scripts/compare.py --mode two               # 2 shards / 2 threads, unpinned
    scripts/compare.py --pipeline 1 --clients 50
    scripts/compare.py --data-size 4096 --ratio 1:1
    scripts/compare.py --memtier                # also memtier_benchmark, if on PATH
    scripts/compare.py --protocol memcache_binary   # binary protocol (memcache_meta: meta)
    scripts/compare.py --memtier-only --pipeline 1 --rounds 9 \\
        --server 'spike=env RINGMODE=coop /path/to/uring-noop {port}'   # issue 21's judge

--server NAME=COMMAND adds a server to every round (repeatable): COMMAND is split on spaces,
`{port}` is replaced by the port it must listen on (127.0.0.1), and in --mode one it is pinned
to CPU 0 like the others. A second corecached build, say, for an A/B; or a reference program
such as a C no-op responder, which is not part of this project.

It builds the release binaries first. memcached must be installed (apt-get install
memcached). Everything listens on 127.0.0.1 only and every run is bounded by --time.

--protocol (memcache_text, memcache_binary or memcache_meta) is passed to the generator, also
for the prefill. The no-op responder (corecached --bench-noop) speaks only the text protocol,
so it is skipped for the others; memtier_benchmark has no meta protocol, so it is skipped for
memcache_meta.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from procstat import cpu_split, rss_kb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, deadline=10.0):
    end = time.time() + deadline
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


class Server:
    def __init__(self, name, argv, port):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_servers(args):
    shards = 1 if args.mode == "one" else 2
    pin = ["taskset", "-c", "0"] if args.mode == "one" else []
    cpus = ["--cpus", "0"] if args.mode == "one" else []
    user = ["-u", "root"] if os.geteuid() == 0 else []
    servers = []
    p = free_port()
    servers.append(Server("memcached", pin + ["memcached"] + user + [
        "-l", "127.0.0.1", "-p", str(p), "-U", "0", "-t", str(shards), "-m", str(args.memory),
        "-c", str(args.conn_limit)], p))
    p = free_port()
    servers.append(Server("corecached", [os.path.join(BIN, "corecached"), "-p", str(p), "-t",
                                         str(shards), "-m", str(args.memory), "-c",
                                         str(args.conn_limit)] + cpus, p))
    if not args.no_noop and args.protocol == "memcache_text":
        p = free_port()
        servers.append(Server("noop", [os.path.join(BIN, "corecached"), "--bench-noop", "-p",
                                       str(p), "-t", str(shards), "-c",
                                       str(args.conn_limit)] + cpus, p))
    for name, command in args.server:
        p = free_port()
        servers.append(Server(name, pin + command.replace("{port}", str(p)).split(), p))
    return servers


def named_command(text):
    name, sep, command = text.partition("=")
    if not sep or not name or "{port}" not in command:
        raise argparse.ArgumentTypeError("expected NAME=COMMAND with {port} in COMMAND")
    if name in ("memcached", "corecached", "noop"):
        raise argparse.ArgumentTypeError(f"{name} is one of the built-in servers' names")
    return name, command


def gen_argv(args, port, tool):
    threads = 1 if args.mode == "one" else 2
    common = ["-s", "127.0.0.1", "-p", str(port), "-t", str(threads), "-c", str(args.clients),
              "--ratio", args.ratio, "--pipeline", str(args.pipeline), "-d",
              str(args.data_size), "--key-maximum", str(args.keys - 1), "--key-pattern", "R:R",
              "--test-time", str(args.time), "--hide-histogram", "-P", args.protocol]
    if args.multi_key_get:
        common += ["--multi-key-get", str(args.multi_key_get)]
    if tool == "memtier":
        pin = ["taskset", "-c", "1"] if args.mode == "one" else []
        return pin + ["memtier_benchmark"] + common
    pin = ["--cpu", "1"] if args.mode == "one" else []
    return [os.path.join(BIN, "corecached-bench")] + common + pin


TOTALS = re.compile(r"^Totals\s+([\d.]+)\s+([\d.-]+)\s+([\d.-]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")


def run_load(args, server, tool):
    argv = gen_argv(args, server.port, tool)
    (u0, s0), t0 = cpu_split(server.proc.pid), time.time()
    run = subprocess.run(argv, capture_output=True, text=True, timeout=args.time + 60)
    out = run.stdout
    (u1, s1), t1 = cpu_split(server.proc.pid), time.time()
    m = next((TOTALS.match(l) for l in out.splitlines() if TOTALS.match(l)), None)
    if not m:
        raise SystemExit(f"{tool} against {server.name} ({args.protocol}): no Totals line:\n"
                         f"{out}{run.stderr}")
    ops = float(m.group(1))
    requests = ops * args.time
    if args.multi_key_get:
        # Keys per second: gets carry N keys each.
        gets = requests * 10 / 11 if args.ratio == "1:10" else requests
        keys = gets * args.multi_key_get + (requests - gets)
    else:
        keys = requests
    cpu = (u1 - u0) + (s1 - s0)
    return {
        "ops": ops, "kbs": float(m.group(8)), "avg": float(m.group(4)), "p50": float(m.group(5)),
        "p99": float(m.group(6)), "p999": float(m.group(7)), "cpu": cpu,
        "us_per_op": cpu * 1e6 / requests if requests else 0.0,
        "user_us": (u1 - u0) * 1e6 / requests if requests else 0.0,
        "sys_us": (s1 - s0) * 1e6 / requests if requests else 0.0,
        "per_core_s": requests / cpu if cpu else 0.0, "keys_s": keys / args.time,
        "wall": t1 - t0,
    }


def prefill(args, server):
    argv = [os.path.join(BIN, "corecached-bench"), "-s", "127.0.0.1", "-p", str(server.port),
            "-t", "1", "-c", "10", "--pipeline", "32", "-d", str(args.data_size),
            "--key-maximum", str(args.keys - 1), "--prefill-only", "-P", args.protocol]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise SystemExit(f"prefill of {server.name} ({args.protocol}) failed:\n"
                         f"{run.stdout}{run.stderr}")


def table(args, tool, results):
    names = list(results)
    med = {n: {k: statistics.median(r[k] for r in results[n]) for k in results[n][0]}
           for n in names}
    lines = [f"load: {tool}, {args.protocol}, mode {args.mode}, {args.clients} clients/thread, "
             f"pipeline {args.pipeline}, {args.data_size}-byte values, ratio {args.ratio}, "
             f"{args.keys} keys, {args.rounds} rounds of {args.time}s (medians)" +
             (f", multi-key-get {args.multi_key_get}" if args.multi_key_get else ""), "",
             "| server | ops/s | keys/s | KB/s | p50 ms | p99 ms | p99.9 ms | server CPU µs/op |"
             " user / kernel µs/op | ops per server-core-s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        m = med[n]
        lines.append(f"| {n} | {m['ops']:,.0f} | {m['keys_s']:,.0f} | {m['kbs']:,.0f} | "
                     f"{m['p50']:.3f} | {m['p99']:.3f} | {m['p999']:.3f} | {m['us_per_op']:.2f} "
                     f"| {m['user_us']:.2f} / {m['sys_us']:.2f} | {m['per_core_s']:,.0f} |")
    lines.append("")
    c = med.get("corecached")
    for other in ("memcached", "noop"):
        o = med.get(other)
        if c and o:
            lines.append(f"- corecached / {other}: ops/s {c['ops'] / o['ops']:.2f}x, keys/s "
                         f"{c['keys_s'] / o['keys_s']:.2f}x, KB/s {c['kbs'] / o['kbs']:.2f}x, "
                         f"CPU per op {c['us_per_op'] / o['us_per_op']:.2f}x, ops per "
                         f"server-core-second {c['per_core_s'] / o['per_core_s']:.2f}x, p99 "
                         f"{c['p99'] / o['p99']:.2f}x")
    # Rounds are interleaved, so each round's ratio compares runs a few seconds apart: on a
    # shared machine whose speed drifts from minute to minute, the spread of these paired
    # ratios says how far one table's medians can be trusted. Issue 21's targets are their
    # medians: every server against memcached, corecached against its no-op, and the no-op
    # against each added server (a reference no-op).
    pairs = [(n, "memcached") for n in names if n != "memcached"]
    pairs += [("corecached", "noop")] + [("noop", name) for name, _ in args.server]
    for a, b in pairs:
        if a not in results or b not in results:
            continue
        rounds = list(zip(results[a], results[b]))
        cpu = [x["us_per_op"] / y["us_per_op"] for x, y in rounds if y["us_per_op"]]
        ops = [x["ops"] / y["ops"] for x, y in rounds if y["ops"]]
        p99 = [x["p99"] / y["p99"] for x, y in rounds if y["p99"]]
        if cpu and ops and p99:
            lines.append(f"- per round, {a} / {b}: CPU per request "
                         f"{' '.join(f'{x:.2f}' for x in cpu)} (median "
                         f"{statistics.median(cpu):.3f}x); ops median "
                         f"{statistics.median(ops):.3f}x; p99 "
                         f"{' '.join(f'{x:.2f}' for x in p99)} (median "
                         f"{statistics.median(p99):.2f}x)")
    return "\n".join(lines)


def prepare(no_build):
    """Checks that memcached is installed and builds the server and the generator."""
    if not shutil.which("memcached"):
        raise SystemExit("memcached is not installed: apt-get install memcached")
    if not no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "corecached", "--bin",
                        "corecached-bench"], cwd=ROOT, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["one", "two"], default="one")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time", type=int, default=8)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--data-size", type=int, default=32)
    ap.add_argument("--ratio", default="1:10")
    ap.add_argument("--keys", type=int, default=100_000)
    ap.add_argument("--memory", type=int, default=1024, help="-m for both servers")
    ap.add_argument("--conn-limit", type=int, default=4096)
    ap.add_argument("--multi-key-get", type=int, default=0)
    ap.add_argument("-P", "--protocol", default="memcache_text",
                    choices=["memcache_text", "memcache_binary", "memcache_meta"],
                    help="wire protocol of the load (default memcache_text)")
    ap.add_argument("--memtier", action="store_true", help="also run memtier_benchmark")
    ap.add_argument("--memtier-only", action="store_true",
                    help="run memtier_benchmark alone, not the project's generator")
    ap.add_argument("--server", action="append", default=[], type=named_command,
                    metavar="NAME=COMMAND", help="another server in every round ({port} in "
                    "COMMAND is its port); repeatable")
    ap.add_argument("--no-noop", action="store_true")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    prepare(args.no_build)
    tools = [] if args.memtier_only else ["corecached-bench"]
    if args.memtier or args.memtier_only:
        if not shutil.which("memtier_benchmark"):
            print("memtier_benchmark is not on PATH: skipping it", file=sys.stderr)
        elif args.protocol == "memcache_meta":
            print("memtier_benchmark has no meta protocol: skipping it", file=sys.stderr)
        elif args.protocol == "memcache_binary" and args.multi_key_get > 1:
            print("memtier_benchmark has no binary multi-key get: skipping it", file=sys.stderr)
        else:
            tools.append("memtier")
    if not tools:
        raise SystemExit("--memtier-only: memtier_benchmark cannot run this load")
    if args.protocol != "memcache_text" and not args.no_noop:
        print(f"skipping the no-op responder: corecached --bench-noop speaks only memcache_text, "
              f"not {args.protocol}", file=sys.stderr)
    servers = start_servers(args)
    try:
        for s in servers:
            if s.name != "noop":
                prefill(args, s)
        for tool in tools:
            results = {s.name: [] for s in servers}
            for r in range(args.rounds):
                # Each round starts with another server, so no server always runs first
                # after a pause or right after the same neighbour.
                k = r % len(servers)
                for s in servers[k:] + servers[:k]:
                    results[s.name].append(run_load(args, s, tool))
            print(table(args, tool, results))
            print()
        print("resident memory after the runs: " +
              ", ".join(f"{s.name} {rss_kb(s.proc.pid) // 1024} MiB" for s in servers))
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
