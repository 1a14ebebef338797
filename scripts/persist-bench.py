#!/usr/bin/env python3
"""Issue 23's persistence figures, each beside the disk's own rate measured in the same run.

    scripts/persist-bench.py warmup --items 10000000 --dir /var/tmp/cc-warm
    scripts/persist-bench.py mixed  --rounds 5 --dir /var/tmp/cc-mixed
    scripts/persist-bench.py writes --time 20 --dir /var/tmp/cc-writes

warmup: fills a 2-shard server with --data-dir DIR with --items items (16-byte keys
`memtier-NNNNNNNN`, --value-size 100-byte values) through the project's generator, stops it
with SIGTERM (everything flushed), reads DIR's files once with O_DIRECT (`dd iflag=direct`,
1 MiB blocks: the disk's sequential read rate for these very files), and starts it again. The
warm-up time is from the start to the first reply (the server answers only once every shard
has warmed), less the start-up time of the same server on an empty DIR; it reports
items per second and MB per second against the disk's rate.

With --against B: fills DIR once, then starts --server and B on those same files in
alternating order, --rounds times each (each start after drop_caches and a dd of its own),
and prints each run's ratio to the disk, the medians and the paired time ratio.

mixed: memtier_benchmark (on PATH; built by hand from its public source, it is not packaged)
on CPU 1 against one shard pinned to CPU 0, `--pipeline 16 --ratio 1:10`, with persistence
on and off in interleaved rounds: the ops ratio (issue 23's target: at least 0.8x).

writes: write-only memtier load (`--ratio 1:0 --pipeline 16`) for --time seconds with
persistence on: the sustained ops/s and the bytes the flusher wrote per second (DIR's growth
over the run) against the disk's sequential write rate (`dd oflag=direct` of as many bytes,
right after).

Everything listens on 127.0.0.1; every load stops after its time; DIR is emptied first and
removed at the end.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import free_port, wait_port  # noqa: E402  (the harness's helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SERVER = os.path.join(TARGET, "release", "corecached")
GEN = os.path.join(TARGET, "release", "corecached-bench")


def dir_bytes(d):
    total = 0
    for dp, _, names in os.walk(d):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(dp, n))
            except OSError:
                pass
    return total


def stats(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"stats\r\n")
    buf = b""
    deadline = time.time() + 10
    while not buf.endswith(b"END\r\n") and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    out = {}
    for line in buf.decode().splitlines():
        p = line.split(" ", 2)
        if len(p) == 3 and p[0] == "STAT":
            out[p[1]] = p[2]
    return out


def start(args, port, data_dir, extra=(), cpus=None, server=None):
    argv = [server or args.server, "-l", "127.0.0.1", "-p", str(port), "-m", str(args.memory)]
    argv += ["-t", "1", "--cpus", cpus] if cpus else ["-t", str(args.shards)]
    if data_dir:
        argv += ["--data-dir", data_dir]
    argv += list(extra)
    if cpus:
        argv = ["taskset", "-c", cpus] + argv
    t0 = time.time()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + args.start_timeout
    while time.time() < deadline:
        if p.poll() is not None:
            raise SystemExit(f"server exited with {p.returncode}: {p.stderr.read()}")
        # A reply, not a connection: the kernel completes connections on a listening
        # socket before the server takes them (it listens from the start, and serves only
        # once every shard has warmed).
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=0.2)
            c.settimeout(args.start_timeout)
            c.sendall(b"version\r\n")
            if c.recv(64).startswith(b"VERSION"):
                c.close()
                return p, time.time() - t0
            c.close()
        except OSError:
            time.sleep(0.005)
    p.kill()
    raise SystemExit(f"server did not accept within {args.start_timeout} s")


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise SystemExit("server did not stop within 120 s of SIGTERM")


def fresh(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)


def dd_read_rate(d):
    """Reads every file under d once with O_DIRECT; returns bytes per second."""
    total, secs = 0, 0.0
    for dp, _, names in os.walk(d):
        for n in sorted(names):
            path = os.path.join(dp, n)
            size = os.path.getsize(path)
            if size < (1 << 20):
                continue
            t = time.time()
            subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M", "iflag=direct"],
                           check=True, capture_output=True)
            secs += time.time() - t
            total += size
    return total / secs if secs else 0.0


def dd_write_rate(d, nbytes):
    path = os.path.join(d, "dd-write-probe")
    count = max(64, nbytes >> 20)
    t = time.time()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={count}",
                    "oflag=direct"], check=True, capture_output=True)
    secs = time.time() - t
    os.unlink(path)
    return (count << 20) / secs


def memtier(port, pipeline, ratio, secs, data_size, keys):
    argv = ["taskset", "-c", "1", "memtier_benchmark", "-s", "127.0.0.1", "-p", str(port),
            "--protocol=memcache_text", "-t", "1", "-c", "50", f"--pipeline={pipeline}",
            f"--ratio={ratio}", "-d", str(data_size), f"--key-maximum={keys}",
            f"--test-time={secs}", "--hide-histogram"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 60)
    tot = [l for l in r.stdout.splitlines() if l.startswith("Totals")]
    if not tot:
        raise SystemExit(f"memtier gave no totals: {r.stderr[-500:]}")
    return float(tot[0].split()[1])


def cold_rate(d):
    """Flushes and drops the page cache, then dd's rate over d's files."""
    subprocess.run(["sync"], check=True)
    try:
        open("/proc/sys/vm/drop_caches", "w").write("3\n")
    except OSError:
        pass
    return dd_read_rate(d)


def warmup_ab(args):
    """Fills DIR once with --server, then starts --server and --against on the same files in
    alternating order, --rounds times each; each start after drop_caches and its own dd."""
    d = args.dir
    builds = [("server", args.server), ("against", args.against)]
    fresh(d)
    empty = {}
    for name, binary in builds:
        times = []
        for _ in range(3):
            p, t = start(args, free_port(), d, server=binary)
            stop(p)
            times.append(t)
        empty[name] = statistics.median(times)
    fresh(d)
    port = free_port()
    p, _ = start(args, port, d)
    subprocess.run([GEN, "-s", "127.0.0.1", "-p", str(port), "-t", "1", "-c", "10",
                    "--pipeline", "32", "-d", str(args.value_size), "--key-minimum",
                    "10000000", "--key-maximum", str(10_000_000 + args.items - 1),
                    "--prefill-only"], check=True, stdout=subprocess.DEVNULL)
    stop(p)
    on_disk = dir_bytes(d)
    print(f"{on_disk / 1e6:,.0f} MB on disk; empty starts "
          + ", ".join(f"{n} {t:.3f} s" for n, t in empty.items()), flush=True)
    res = {name: [] for name, _ in builds}
    for r in range(args.rounds):
        for name, binary in (builds if r % 2 == 0 else builds[::-1]):
            rate = cold_rate(d)
            port = free_port()
            p, t = start(args, port, d, server=binary)
            items = int(stats(port).get("curr_items", 0))
            stop(p)
            warm = t - empty[name]
            res[name].append((warm, on_disk / warm / rate))
            print(f"round {r} {name:8s} disk {rate / 1e6:6,.0f} MB/s  warm-up {warm:5.2f} s  "
                  f"{items:,} items  {on_disk / warm / rate:.2f}x the disk", flush=True)
    for name, binary in builds:
        ratios = [x[1] for x in res[name]]
        print(f"{name} ({binary}): warm-up median {statistics.median(x[0] for x in res[name]):.2f} s, "
              f"{statistics.median(ratios):.3f}x the disk (runs {min(ratios):.2f}x-{max(ratios):.2f}x)")
    paired = [b[0] / a[0] for a, b in zip(res["server"], res["against"])]
    print(f"paired warm-up time, against/server: median {statistics.median(paired):.3f} "
          f"({min(paired):.3f}-{max(paired):.3f})")
    shutil.rmtree(d, ignore_errors=True)


def warmup(args):
    if args.against:
        return warmup_ab(args)
    d = args.dir
    fresh(d)
    port = free_port()
    # The empty server's start alone: stopped at once (nothing to flush).
    p, empty_start = start(args, port, d)
    stop(p)
    fresh(d)
    p, _ = start(args, port, d)
    lo, hi = 10_000_000, 10_000_000 + args.items - 1
    t = time.time()
    subprocess.run([GEN, "-s", "127.0.0.1", "-p", str(port), "-t", "1", "-c", "10",
                    "--pipeline", "32", "-d", str(args.value_size), "--key-minimum", str(lo),
                    "--key-maximum", str(hi), "--prefill-only"], check=True,
                   stdout=subprocess.DEVNULL)
    fill = time.time() - t
    before = stats(port)
    t = time.time()
    stop(p)
    flush_stop = time.time() - t
    on_disk = dir_bytes(d)
    subprocess.run(["sync"], check=True)
    try:
        open("/proc/sys/vm/drop_caches", "w").write("3\n")
    except OSError:
        pass
    rate = dd_read_rate(d)
    p, warm_start = start(args, port, d)
    after = stats(port)
    stop(p)
    warm = warm_start - empty_start
    items = int(after.get("curr_items", 0))
    print(f"filled {int(before.get('curr_items', 0)):,} items in {fill:.1f} s; SIGTERM stop "
          f"(flush) {flush_stop:.2f} s; {on_disk / 1e6:,.0f} MB on disk")
    print(f"disk sequential read (dd iflag=direct, 1 MiB): {rate / 1e6:,.0f} MB/s")
    print(f"warm-up: {items:,} items in {warm:.2f} s (start {warm_start:.2f} s less an empty "
          f"start's {empty_start:.2f} s): {items / warm:,.0f} items/s, "
          f"{on_disk / warm / 1e6:,.0f} MB/s = {on_disk / warm / rate:.2f}x the disk's rate")
    for k in ("ep_warmup_time", "ep_warmup_state", "ep_total_persisted"):
        if k in after:
            print(f"  stats {k} {after[k]}")
    shutil.rmtree(d, ignore_errors=True)


def mixed(args):
    fresh(args.dir)
    on_port, off_port = free_port(), free_port()
    on, _ = start(args, on_port, args.dir, cpus="0")
    off, _ = start(args, off_port, None, cpus="0")
    try:
        res = {"on": [], "off": []}
        for port in (on_port, off_port):
            memtier(port, 16, "1:0", 5, args.value_size, args.keys)
        for r in range(args.rounds):
            for name, port in (("on", on_port), ("off", off_port)):
                ops = memtier(port, 16, "1:10", args.time, args.value_size, args.keys)
                res[name].append(ops)
                print(f"r{r} persistence {name:3s} {ops:12,.0f} ops/s", flush=True)
        ratios = [a / b for a, b in zip(res["on"], res["off"])]
        print(f"pipeline 16, 1:10: on/off ops {statistics.median(ratios):.3f}x "
              f"(rounds {min(ratios):.3f}-{max(ratios):.3f}); medians "
              f"{statistics.median(res['on']):,.0f} and {statistics.median(res['off']):,.0f}")
        s = stats(on_port)
        for k in sorted(s):
            if k.startswith("ep_"):
                print(f"  stats {k} {s[k]}")
    finally:
        stop(on)
        stop(off)
        shutil.rmtree(args.dir, ignore_errors=True)


def writes(args):
    fresh(args.dir)
    port = free_port()
    p, _ = start(args, port, args.dir, cpus="0")
    try:
        b0 = dir_bytes(args.dir)
        w0 = int(stats(port).get("ep_io_bytes_written", 0))
        t = time.time()
        ops = memtier(port, 16, "1:0", args.time, args.value_size, args.keys)
        secs = time.time() - t
        # What was acknowledged is on disk within the flush interval.
        time.sleep(1.0)
        grown = dir_bytes(args.dir) - b0
        s = stats(port)
        # The flusher's bytes (the compactor rewrites and removes files meanwhile, so the
        # directory grows by less).
        written = int(s.get("ep_io_bytes_written", 0)) - w0
    finally:
        stop(p)
    wrate = dd_write_rate(args.dir, max(grown, 256 << 20))
    print(f"write-only, pipeline 16: {ops:,.0f} sets/s sustained over {args.time} s")
    print(f"flusher: {written / 1e6:,.0f} MB in {secs:.1f} s = {written / secs / 1e6:,.0f} MB/s "
          f"(the directory grew {grown / 1e6:,.0f} MB, compaction removing the rest); "
          f"disk sequential write (dd oflag=direct, 1 MiB): {wrate / 1e6:,.0f} MB/s "
          f"({written / secs / wrate:.2f}x)")
    for k in sorted(s):
        if k.startswith("ep_"):
            print(f"  stats {k} {s[k]}")
    shutil.rmtree(args.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["warmup", "mixed", "writes"])
    ap.add_argument("--dir", required=True, help="data directory on the disk to measure "
                    "(emptied first, removed at the end)")
    ap.add_argument("--server", default=SERVER)
    ap.add_argument("--against", help="warmup: a second server binary, started on the same "
                    "files as --server in alternating order, --rounds times each")
    ap.add_argument("--items", type=int, default=10_000_000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--keys", type=int, default=100_000, help="memtier's --key-maximum")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--memory", type=int, default=4096, help="-m, MiB")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--time", type=int, default=8)
    ap.add_argument("--start-timeout", type=float, default=300.0)
    args = ap.parse_args()
    {"warmup": warmup, "mixed": mixed, "writes": writes}[args.what](args)


if __name__ == "__main__":
    main()
