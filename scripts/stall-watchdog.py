#!/usr/bin/env python3
"""Stall watchdog: many kinds of clients against one corecached for a bounded time, and a
record of every request whose reply took longer than --threshold (1 s).

    scripts/stall-watchdog.py                      # 600 s, corecached --threads 2 -m 64
    scripts/stall-watchdog.py --duration 60 --server-args "--threads 1 -m 16"
    scripts/stall-watchdog.py --port 11211         # against a server already running

Clients (threads per kind with --clients, e.g. "cacheaside=4,garbage=3"); scripts/lib/
stall_clients.py and stall_garbage.py have the details:

  cacheaside  the hit-ratio workload: windows of `noreply` sets of the last misses and one
              multi-key get (sometimes gat/gets) over a shared Zipf key space, values
              16 B - 100 KiB; now and then the sets with `mn`
  text        set/get/multi-get/gets/gat/gats/touch/delete/cas/incr/noreply set on the
              thread's own keys; every hit must be the version the thread last wrote
  meta        ms/mg/mg q + mn/mg T/md/ma/mn on own keys, checked the same way
  binary      SET/GET/GAT/GETKQ batches + NOOP/DELETE/TOUCH on own keys, checked
  garbage     a fresh connection each round with broken input, resets, trickled and
              half-closed requests (the valid ones timed and checked)
  nonreader   asks for megabytes of 100 KiB values and does not read them
  control     `version` in a tight loop on its own connection: its per-second maximum
              tells a server stall (one connection waits, the control does not) from a
              starved machine (both wait)

Beside them, unless --no-external: corecached-bench twice (text, and meta with 8-key
gets) for the whole run, and corecached-hitratio replays (--io-timeout 2) one after
another. Every value read is checked whole against its key, so a reply with another key's
bytes is found too (a desync).

The watchdog: each client process has a thread that sees a request waiting past the
threshold while it still waits; the first few such get a snapshot (stats, stats shards,
stats tasks, `ss` of the connection, the server threads' states) and, when the wait
reaches 3 s, gdb backtraces of every server thread. Requests slowed by gdb's pause are
listed apart. Results go to --log-dir: server.log (-vv), stall-N.txt, timeline.csv (per
second: load, CPU busy, server CPU and RSS, maxima per kind), summary.json.

Exit status: 0 when no stall, desync or failure was seen; 1 otherwise; 2 when the run
could not start. Listens on 127.0.0.1 only; stops by itself after --duration.
"""

import argparse
import faulthandler
import json
import math
import multiprocessing as mp
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in scripts/lib
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import stall_clients as sc  # noqa: E402
import stall_garbage as sg  # noqa: E402
from procstat import cpu_seconds, rss_kb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = {"cacheaside": sc.cacheaside, "text": sc.owned_text, "meta": sc.meta,
         "binary": sc.binary, "garbage": sg.garbage, "nonreader": sg.nonreader,
         "control": sc.control}
DEFAULT_CLIENTS = "cacheaside=4,text=3,meta=2,binary=2,garbage=3,nonreader=1,control=1"
# Kinds whose connections fail by design: their errors count only inside a timed request.
LENIENT = {"garbage", "nonreader"}


# ---- the client side: one process per kind --------------------------------------------


class Ctx:
    """What a kind's threads share in their process: counts, latencies, records."""

    def __init__(self, kind, wid, port, opts, t0, threshold, seed, events):
        self.kind, self.wid, self.port, self.opts = kind, wid, port, opts
        self.t0, self.threshold, self.seed, self.events = t0, threshold, seed, events
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.count, self.max, self.max_cmd, self.conns, self.ignored = 0, 0.0, "", 0, 0
        self.hist = [0] * 40  # by log2 of microseconds
        self.per_sec = {}
        self.stalls, self.failures = [], []
        self._shared = {}

    def shared(self, name, make):
        with self.lock:
            if name not in self._shared:
                self._shared[name] = make()
            return self._shared[name]

    def rec(self, slot, **kw):
        return dict(kind=self.kind, conn=slot.name, port=slot.port, id=f"{slot.name}#{slot.seq}",
                    **kw)

    def done(self, slot, cmd, dur):
        now = time.monotonic()
        with self.lock:
            self.count += 1
            if dur > self.max:
                self.max, self.max_cmd = dur, cmd
            self.hist[min(int(math.log2(max(dur * 1e6, 1))), 39)] += 1
            e = self.per_sec.setdefault(int(now - self.t0), [0, 0.0])
            e[0] += 1
            e[1] = max(e[1], dur)
        if dur > self.threshold:
            r = self.rec(slot, cmd=cmd, at=round(now - dur - self.t0, 3), secs=round(dur, 3))
            with self.lock:
                self.stalls.append(r)
            self.events.put(("end", r))

    def fail(self, what, slot, msg):
        if what == "error" and self.kind in LENIENT and not slot.since:
            self.ignored += 1
            return
        r = self.rec(slot, what=what, cmd=slot.cmd,
                     at=round(time.monotonic() - self.t0, 3), msg=msg[:300])
        with self.lock:
            if len(self.failures) < 200:
                self.failures.append(r)
        self.events.put(("fail", r))


def watch(ctx, slots):
    """Reports each request the moment it has waited past the threshold."""
    while not ctx.stop.is_set():
        now = time.monotonic()
        for s in slots:
            since = s.since
            if since and not s.reported and now - since > ctx.threshold:
                s.reported = True
                ctx.events.put(("start", ctx.rec(s, cmd=s.cmd, at=round(since - ctx.t0, 3))))
        time.sleep(0.05)


def worker(kind, wid, n, port, opts, t0, threshold, seed, stop, events, results):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctx = Ctx(kind, wid, port, opts, t0, threshold, seed, events)
    slots, threads = sc.start_threads(ctx, KINDS[kind], n)
    threading.Thread(target=watch, args=(ctx, slots), daemon=True).start()
    stop.wait()
    ctx.stop.set()
    end = time.monotonic() + 10
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    now = time.monotonic()
    waiting = [ctx.rec(s, cmd=s.cmd, at=round(s.since - t0, 3), secs=round(now - s.since, 3))
               for s in slots if s.since]
    with ctx.lock:
        results.put(dict(kind=kind, wid=wid, threads=n, count=ctx.count, max=ctx.max,
                         max_cmd=ctx.max_cmd, conns=ctx.conns, ignored=ctx.ignored,
                         hist=ctx.hist, per_sec=ctx.per_sec, stalls=ctx.stalls,
                         failures=ctx.failures, waiting=waiting))
    # os._exit skips the queues' feeder threads: flush them first.
    for q in (events, results):
        q.close()
        q.join_thread()
    os._exit(0)


# ---- the server and what is known about it --------------------------------------------


def default_bin(name):
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return os.path.join(target, "release", name)


def talk(port, req, end=b"END\r\n", timeout=5.0):
    """One request on a fresh connection; (reply, seconds)."""
    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(req)
        buf = b""
        while not buf.endswith(end):
            d = s.recv(65536)
            if not d:
                break
            buf += d
    return buf.decode(errors="replace"), time.monotonic() - t


def start_server(args, log):
    argv = [args.bin, "-p", "0", "-l", "127.0.0.1", "-vv"] + args.server_args.split()
    out = open(log, "wb")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    port = shards = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{' '.join(argv)} exited with {proc.returncode}; its log: {log}")
        text = open(log, errors="replace").read()
        found = re.findall(r"listening on 127\.0\.0\.1:(\d+)", text)
        if found and port is None:
            port = int(found[0])
            reply, _ = talk(port, b"stats shards\r\n")
            shards = len(re.findall(r":curr_connections ", reply))
        if port and len(found) >= shards:
            return proc, port, argv
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"{' '.join(argv)} did not report its shards listening within 30 s; log: {log}")


def cpu_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def threads_of(pid, before=None):
    """Each server thread: state, CPU, current syscall, kernel stack, and (given an
    earlier sample) the time it ran and the time it waited for a CPU since then, from
    schedstat: a thread that waits for a CPU is starved, one that runs is busy."""
    out, sample = [], {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        t = f"/proc/{pid}/task/{tid}"
        st = read(f"{t}/stat")
        if not st:
            continue
        name = st[st.index("(") + 1 : st.rindex(")")]
        f2 = st.rsplit(")", 1)[1].split()
        ran, waited = (int(x) for x in (read(f"{t}/schedstat").split() or ["0", "0"])[:2])
        sample[tid] = (ran, waited)
        line = (f"  {tid} {name:16} state={f2[0]} utime={f2[11]} stime={f2[12]} cpu={f2[36]} "
                f"syscall={read(f'{t}/syscall').split(' ')[0].strip()} wchan={read(f'{t}/wchan')}")
        if before and tid in before:
            line += (f" ran={(ran - before[tid][0]) / 1e6:.0f}ms "
                     f"waited_for_cpu={(waited - before[tid][1]) / 1e6:.0f}ms")
        stack = [ln.split("]", 1)[-1].strip() for ln in read(f"{t}/stack").splitlines()[:6]]
        out.append(line + ("\n      " + " < ".join(stack) if stack else ""))
    return "\n".join(out), sample


class Diagnoser:
    """Takes a snapshot of the server when a request has waited past the threshold, and
    gdb backtraces when it is still waiting 3 s in."""

    def __init__(self, args, pid, port, log_dir, t0):
        self.args, self.pid, self.port, self.log_dir, self.t0 = args, pid, port, log_dir, t0
        self.ended = set()
        self.snaps = 0
        self.perf_files = []
        self.last_snap = -1e9
        self.gdbs = 0
        self.pauses = []  # (start, end) of gdb's stops, seconds since t0
        self.lock = threading.RLock()
        self.gdb_running = threading.Lock()

    def snapshot(self, rec):
        lines = [f"t={time.monotonic() - self.t0:.3f}s load={open('/proc/loadavg').read().strip()}"]
        if rec.get("port"):
            p = rec["port"]
            r = subprocess.run(["ss", "-tnoi", "state", "all",
                                f"( sport = :{p} or dport = :{p} )"],
                               capture_output=True, text=True, timeout=5)
            lines += ["ss (the client's side has local port %d):" % p, r.stdout]
        if self.pid:
            try:
                _, first = threads_of(self.pid)
                t = time.monotonic()
                time.sleep(0.5)
                text, _ = threads_of(self.pid, first)
                lines += [f"server threads (ran / waited over {time.monotonic() - t:.2f} s):",
                          text]
            except OSError as e:
                lines.append(f"server threads: {e}")
        for req in (b"stats shards\r\n", b"stats tasks\r\n", b"stats\r\n"):
            try:
                reply, secs = talk(self.port, req, timeout=3)
                lines += [f"{req.decode().strip()} ({secs * 1000:.1f} ms):", reply]
            except OSError as e:
                lines.append(f"{req.decode().strip()}: {e}")
        return "\n".join(lines)

    def backtraces(self):
        start = time.monotonic() - self.t0
        r = subprocess.run(["gdb", "-p", str(self.pid), "-batch", "-ex", "thread apply all bt"],
                           capture_output=True, text=True, timeout=120)
        end = time.monotonic() - self.t0
        with self.lock:
            self.pauses.append((start, end))
        return f"gdb from t={start:.3f} to t={end:.3f} s:\n{r.stdout}\n{r.stderr[-2000:]}"

    def on_start(self, rec):
        with self.lock:
            # Requests that stall together are one event: one snapshot for it.
            if (self.snaps >= self.args.snapshots or self.in_pause(rec["at"])
                    or rec["at"] < self.last_snap + 5):
                return
            self.snaps += 1
            self.last_snap = rec["at"]
            n = self.snaps
        path = os.path.join(self.log_dir, f"stall-{n}.txt")
        perf = None
        if self.pid and self.args.perf:
            # What the server's threads run during the stall (cpu-clock: works in a VM).
            data = os.path.join(self.log_dir, f"stall-{n}.perf.data")
            perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999",
                                     "--call-graph", "dwarf,16384", "-p", str(self.pid),
                                     "-o", data, "--", "sleep", "1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.perf_files.append(data)
        text = [f"request waiting past {self.args.threshold} s: {json.dumps(rec)}",
                self.snapshot(rec)]
        until = self.t0 + rec["at"] + 3.0
        while time.monotonic() < until and rec["id"] not in self.ended:
            time.sleep(0.05)
        if rec["id"] not in self.ended:
            text += ["--- still waiting 3 s in", self.snapshot(rec)]
            # One gdb at a time: stalls seen together are one event.
            if self.pid and self.gdb_running.acquire(blocking=False):
                try:
                    with self.lock:
                        take = self.gdbs < self.args.gdb
                        self.gdbs += take
                    if take:
                        text.append(self.backtraces())
                finally:
                    self.gdb_running.release()
        else:
            text.append(f"--- it ended within 3 s")
        if perf:
            perf.wait()
        with open(path, "w") as f:
            f.write("\n".join(text) + "\n")
        rec["snapshot"] = path

    def in_pause(self, at):
        """Whether a request that started at `at` was slowed past the threshold by a gdb
        pause (one that had waited that long before gdb stopped the server was not)."""
        with self.lock:
            return any(a - self.args.threshold <= at <= b + 0.5 for a, b in self.pauses)


# ---- programs run beside the clients ---------------------------------------------------


def start_benches(args, port, log_dir, duration):
    common = ["-s", "127.0.0.1", "-p", str(port), "-t", "1", "--test-time", str(duration),
              "--hide-histogram", "--seed", str(args.seed)]
    runs = {
        "bench-text": ["-c", "8", "--pipeline", "4", "--ratio", "1:4", "--data-size-range",
                       "32-16384", "--key-maximum", "200000", "--key-prefix", "lt:",
                       "--key-pattern", "R:Z"],
        "bench-meta": ["-P", "memcache_meta", "-c", "4", "--pipeline", "2", "--ratio", "1:8",
                       "--multi-key-get", "8", "--data-size-range", "32-4096",
                       "--key-maximum", "100000", "--key-prefix", "lm:"],
    }
    procs = {}
    for name, extra in runs.items():
        j = os.path.join(log_dir, f"{name}.json")
        out = open(os.path.join(log_dir, f"{name}.out"), "w")
        procs[name] = (subprocess.Popen([args.bench] + common + extra + ["--json-out-file", j],
                                        stdout=out, stderr=subprocess.STDOUT), j)
    return procs


def bench_results(procs, log_dir, threshold):
    out = []
    for name, (p, j) in procs.items():
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "killed"
        r = dict(kind=name, rc=rc)
        try:
            stats = json.load(open(j))["ALL STATS"]
            for t in ("Sets", "Gets"):
                r[t] = dict(count=stats[t]["Count"], max_ms=stats[t]["Max Latency"],
                            p99_ms=stats[t]["Percentile Latencies"].get("p99.00"))
        except (OSError, ValueError, KeyError) as e:
            r["error"] = f"no results: {e}; " + open(os.path.join(log_dir, f"{name}.out")).read()[-500:]
        out.append(r)
    return out


def hitratio_loop(args, port, t0, end, log_dir, results):
    """corecached-hitratio replays one after another; a replay that fails before its
    time is up (an I/O timeout is one) is recorded."""
    n = 0
    while end - time.monotonic() > 20:
        n += 1
        secs = int(min(300, end - time.monotonic() - 5))
        extra = (["--dist", "scan-mix", "--value-size", "100"] if n % 3 == 0
                 else ["--value-range", "50-5000"])
        # Each replay its own keys: a value's size and bytes follow from the seed.
        argv = [args.hitratio, "-p", str(port), "--keys", "1000000", "--requests", "2000000",
                "--warmup", "0", "--io-timeout", "2", "--max-seconds", str(secs), "--json",
                "--label", f"run{n}", "--seed", str(args.seed + n), "--key-prefix",
                f"hr{n}:"] + extra
        start = time.monotonic()
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=secs + 30)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = "hung", "", f"no exit {secs + 30} s after its start"
        r = dict(run=n, rc=rc, at=round(start - t0, 3), secs=round(time.monotonic() - start, 3))
        try:
            j = json.loads(out.strip().splitlines()[-1])
            r.update(hits=j.get("hits"), misses=j.get("misses"), bad_values=j.get("bad_values"),
                     set_errors=j.get("set_errors"))
        except (ValueError, IndexError):
            pass
        if rc not in (0, 2) or r.get("bad_values"):
            r["stderr"] = err[-500:]
        if "hits" not in r:
            m = re.search(r"after (\d+) requests", err)
            r["requests"] = int(m.group(1)) if m else 0
        results.append(r)
        with open(os.path.join(log_dir, "hitratio.log"), "a") as f:
            f.write(json.dumps(r) + "\n")


# ---- the run ---------------------------------------------------------------------------


def parse_clients(text):
    out = {}
    for part in text.split(","):
        k, _, v = part.partition("=")
        if k not in KINDS or not v.isdigit():
            sys.exit(f"--clients {text!r}: expected kind=N with kinds {', '.join(KINDS)}")
        out[k] = int(v)
    return out


def pct(hist, q):
    """The upper bound (s) of the log2 bucket where quantile q falls."""
    total, acc = sum(hist), 0
    for i, c in enumerate(hist):
        acc += c
        if total and acc >= q * total:
            return 2 ** (i + 1) / 1e6
    return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    ap.add_argument("--threshold", type=float, default=1.0, help="stall threshold, s")
    ap.add_argument("--bin", default=default_bin("corecached"))
    ap.add_argument("--bench", default=default_bin("corecached-bench"))
    ap.add_argument("--hitratio", default=default_bin("corecached-hitratio"))
    ap.add_argument("--server-args", default="--threads 2 -m 64")
    ap.add_argument("--port", type=int, help="use a server already listening on 127.0.0.1")
    ap.add_argument("--pid", type=int, help="with --port: its pid, for threads and gdb")
    ap.add_argument("--clients", default=DEFAULT_CLIENTS)
    ap.add_argument("--keys", type=int, default=100_000, help="cache-aside key space")
    ap.add_argument("--no-external", action="store_true",
                    help="no corecached-bench / corecached-hitratio beside the clients")
    ap.add_argument("--snapshots", type=int, default=8,
                    help="stall events given a snapshot (one per 5 s at most)")
    ap.add_argument("--gdb", type=int, default=2, help="gdb backtraces at most")
    ap.add_argument("--no-perf", dest="perf", action="store_false",
                    help="no 1 s perf record of the server when a stall starts")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log-dir", default=None)
    args = ap.parse_args()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where it waits
    clients = parse_clients(args.clients)
    log_dir = args.log_dir or f"/tmp/stall-watchdog.{time.strftime('%Y%m%d-%H%M%S')}"
    os.makedirs(log_dir, exist_ok=True)

    server = None
    if args.port:
        port, pid, argv = args.port, args.pid, ["(already running)"]
    else:
        server, port, argv = start_server(args, os.path.join(log_dir, "server.log"))
        pid = server.pid
    t0 = time.monotonic()
    end = t0 + args.duration
    print(f"server: {' '.join(argv)} (pid {pid}, port {port}); log dir {log_dir}", flush=True)

    events, results, stop = mp.Queue(), mp.Queue(), mp.Event()
    ctxmp = mp.get_context("fork")
    workers = []
    for wid, (kind, n) in enumerate(clients.items()):
        if n:
            w = ctxmp.Process(target=worker, args=(kind, wid, n, port, {"keys": args.keys}, t0,
                                                   args.threshold, args.seed, stop, events,
                                                   results), daemon=True)
            w.start()
            workers.append(w)
    benches, hr_runs, hr_thread = {}, [], None
    if not args.no_external:
        benches = start_benches(args, port, log_dir, max(1, int(args.duration)))
        hr_thread = threading.Thread(target=hitratio_loop,
                                     args=(args, port, t0, end, log_dir, hr_runs), daemon=True)
        hr_thread.start()

    diag = Diagnoser(args, pid, port, log_dir, t0)
    starts, ends, fails, timeline = {}, [], [], []
    last_busy, last_cpu = cpu_busy(), cpu_seconds(pid) if pid else 0.0
    server_died = None
    next_tick = t0 + 1
    while time.monotonic() < end:
        try:
            if time.monotonic() >= next_tick:
                raise queue.Empty
            ev, rec = events.get(timeout=max(0.01, next_tick - time.monotonic()))
            if ev == "start":
                starts[rec["id"]] = rec
                print(f"  t={rec['at']:.1f}s {rec['kind']} {rec['conn']} waiting: {rec['cmd']}",
                      flush=True)
                threading.Thread(target=diag.on_start, args=(rec,), daemon=True).start()
            elif ev == "end":
                diag.ended.add(rec["id"])
                ends.append(rec)
            else:
                fails.append(rec)
                print(f"  t={rec['at']:.1f}s {rec['what']} {rec['conn']} {rec['cmd']}: "
                      f"{rec['msg'][:150]}", flush=True)
            continue
        except queue.Empty:
            pass
        next_tick += 1
        busy = cpu_busy()
        row = dict(t=int(time.monotonic() - t0), load=float(open("/proc/loadavg").read().split()[0]),
                   cpu_busy=round((busy[0] - last_busy[0]) / max(1, busy[1] - last_busy[1]), 3))
        last_busy = busy
        if pid:
            try:
                c = cpu_seconds(pid)
                row.update(server_cpu=round(c - last_cpu, 2), rss_mb=round(rss_kb(pid) / 1024, 1))
                last_cpu = c
            except OSError:
                pass
        timeline.append(row)
        if server and server.poll() is not None:
            server_died = f"the server exited with {server.returncode} at t={row['t']} s"
            print(server_died, flush=True)
            break

    stop.set()
    summaries = []
    deadline = time.monotonic() + 40
    while len(summaries) < len(workers) and time.monotonic() < deadline:
        try:
            summaries.append(results.get(timeout=1))
        except queue.Empty:
            pass
        while True:
            try:
                ev, rec = events.get_nowait()
            except queue.Empty:
                break
            (ends if ev == "end" else fails if ev == "fail" else []).append(rec)
    for w in workers:
        w.join(1)
        if w.is_alive():
            w.kill()
    bench = bench_results(benches, log_dir, args.threshold) if benches else []
    if hr_thread:
        hr_thread.join(60)
    final_stats = ""
    if not server_died:
        try:
            final_stats, _ = talk(port, b"stats\r\n")
        except OSError as e:
            final_stats = f"stats after the run: {e}"
    stop_secs = None
    if server:
        t = time.monotonic()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        stop_secs = round(time.monotonic() - t, 2)

    for data in diag.perf_files:
        # Reported after the run so that perf's unwinding does not load the machine
        # during it. By thread, then by function.
        with open(data[: -len(".data")] + ".txt", "w") as f:
            for graph in (["-g", "none", "--percent-limit", "0.5"],
                          ["-g", "caller,0.5,callee,function,percent", "--percent-limit", "3"]):
                f.flush()
                subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                                "--sort", "pid,sym"] + graph, stdout=f,
                               stderr=subprocess.DEVNULL, timeout=600)
    report(args, argv, log_dir, t0, summaries, fails, diag, timeline, bench, hr_runs,
           final_stats, server_died, stop_secs, len(workers))


def report(args, argv, log_dir, t0, summaries, fails, diag, timeline, bench, hr_runs,
           final_stats, server_died, stop_secs, nworkers):
    control = {}
    for s in summaries:
        if s["kind"] == "control":
            control = {int(k): v for k, v in s["per_sec"].items()}
    stalls, paused = [], []
    for s in summaries:
        for r in s["stalls"] + [dict(w, still_waiting=True) for w in s["waiting"]]:
            lo, hi = int(r["at"]), int(r["at"] + r["secs"]) + 1
            r["control_max_s"] = round(max((control.get(t, [0, 0.0])[1] for t in range(lo, hi)),
                                           default=0.0), 3)
            r["verdict"] = ("the server's (control fine)" if r["control_max_s"] < 0.25
                            else "control slow too: a starved machine or the whole server")
            (paused if diag.in_pause(r["at"]) else stalls).append(r)
    desyncs = [f for f in fails if f["what"] == "desync"]
    errors = [f for f in fails if f["what"] != "desync"]
    # Per-second maxima of every kind beside load, for timeline.csv.
    kinds = sorted({s["kind"] for s in summaries})
    per = {k: {} for k in kinds}
    for s in summaries:
        for t, (c, m) in s["per_sec"].items():
            e = per[s["kind"]].setdefault(int(t), [0, 0.0])
            e[0] += c
            e[1] = max(e[1], m)
    with open(os.path.join(log_dir, "timeline.csv"), "w") as f:
        cols = ["t", "load", "cpu_busy", "server_cpu", "rss_mb"]
        f.write(",".join(cols + [f"{k}_n,{k}_max_ms" for k in kinds]) + "\n")
        for row in timeline:
            vals = [str(row.get(c, "")) for c in cols]
            for k in kinds:
                c, m = per[k].get(row["t"], [0, 0.0])
                vals += [str(c), f"{m * 1000:.1f}"]
            f.write(",".join(vals) + "\n")

    total = sum(s["count"] for s in summaries)
    print(f"\nStall watchdog: {' '.join(argv)}; {args.duration:.0f} s, threshold "
          f"{args.threshold} s; {nworkers} client processes ({len(summaries)} reported)")
    print(f"{'kind':11} {'threads':>7} {'requests':>10} {'conns':>7} {'p99 <=ms':>9} "
          f"{'max ms':>9}  slowest request")
    by_kind = {}
    for s in summaries:
        by_kind.setdefault(s["kind"], []).append(s)
    rows = []
    for k in kinds:
        ss = by_kind[k]
        hist = [sum(x) for x in zip(*(s["hist"] for s in ss))]
        top = max(ss, key=lambda s: s["max"])
        row = dict(kind=k, threads=sum(s["threads"] for s in ss),
                   requests=sum(s["count"] for s in ss), conns=sum(s["conns"] for s in ss),
                   p99_ms=round(pct(hist, 0.99) * 1000, 3), max_ms=round(top["max"] * 1000, 1),
                   max_cmd=top["max_cmd"])
        rows.append(row)
        print(f"{k:11} {row['threads']:>7} {row['requests']:>10} {row['conns']:>7} "
              f"{row['p99_ms']:>9} {row['max_ms']:>9}  {row['max_cmd']}")
    for b in bench:
        for t in ("Sets", "Gets"):
            if t in b:
                print(f"{b['kind']:11} {'':>7} {b[t]['count']:>10} {'':>7} {b[t]['p99_ms']:>9.3f} "
                      f"{b[t]['max_ms']:>9.1f}  {t} (exit {b['rc']})")
        if "error" in b:
            print(f"{b['kind']}: {b['error']}")
    if bench:
        print("(bench rows: p99 and max in ms as corecached-bench reports them; the times of "
              "its slowest requests are not known)")
    hr_bad = [r for r in hr_runs if r["rc"] not in (0, 2) or r.get("bad_values")]
    if hr_runs:
        req = sum((r.get("hits") or 0) + (r.get("misses") or 0) + r.get("requests", 0)
                  for r in hr_runs)
        print(f"hitratio: {len(hr_runs)} replays, {req} requests, {len(hr_bad)} failed "
              f"(--io-timeout 2)")
    ctl = max((v[1] for v in control.values()), default=0.0)
    worst = sorted(control.items(), key=lambda kv: -kv[1][1])[:3]
    print(f"control: max {ctl * 1000:.1f} ms; worst seconds "
          + ", ".join(f"t={t} {v[1] * 1000:.0f} ms" for t, v in worst))
    if timeline:
        print(f"machine: load avg max {max(r['load'] for r in timeline):.2f}, CPU busy mean "
              f"{sum(r['cpu_busy'] for r in timeline) / len(timeline):.0%}; server RSS max "
              f"{max((r.get('rss_mb', 0) for r in timeline), default=0)} MiB")
    print(f"total valid requests timed: {total}; server stop took {stop_secs} s")
    for r in stalls:
        print(f"STALL {r['kind']} {r['conn']} port {r['port']} t={r['at']:.1f}s "
              f"{r['secs']:.3f}s{' (still waiting at the end)' if r.get('still_waiting') else ''}: "
              f"{r['cmd']}; control max then {r['control_max_s']} s -> {r['verdict']}")
    if paused:
        print(f"{len(paused)} slow requests overlapped gdb's pauses of the server (not counted)")
    for r in desyncs[:20]:
        print(f"DESYNC {r['kind']} {r['conn']} t={r['at']:.1f}s {r['cmd']}: {r['msg']}")
    for r in errors[:20]:
        print(f"ERROR {r['kind']} {r['conn']} t={r['at']:.1f}s {r['cmd']}: {r['msg']}")
    for r in hr_bad:
        print(f"HITRATIO run {r['run']} exit {r['rc']} at t={r['at']} s after {r['secs']} s: "
              f"{r.get('stderr', '').strip()[:300]}")
    if server_died:
        print(server_died)
    # A slow bench request cannot be placed in time: with gdb's pauses in the run, only its
    # failures count.
    bench_bad = [b for b in bench if b["rc"] != 0 or "error" in b or (not diag.pauses and any(
        t in b and b[t]["max_ms"] > args.threshold * 1000 for t in ("Sets", "Gets")))]
    for b in bench_bad:
        print(f"BENCH {b['kind']}: exit {b['rc']}, "
              + ", ".join(f"{t} max {b[t]['max_ms']:.1f} ms" for t in ("Sets", "Gets") if t in b))
    bad = bool(stalls or desyncs or errors or hr_bad or bench_bad or server_died
               or len(summaries) < nworkers)
    with open(os.path.join(log_dir, "summary.json"), "w") as f:
        json.dump(dict(argv=argv, duration=args.duration, threshold=args.threshold, kinds=rows,
                       bench=bench, hitratio=hr_runs, control_max_s=ctl, stalls=stalls,
                       paused=paused, desyncs=desyncs, errors=errors, server_died=server_died,
                       stop_secs=stop_secs, final_stats=final_stats, ok=not bad), f, indent=1)
    print(("FAILED" if bad else "OK: no stall, desync or failure") + f"; details in {log_dir}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
