"""The client kinds of scripts/stall-watchdog.py.

Every valid request goes through `Conn.call`, which marks the connection's slot as waiting
(so the watchdog thread sees a request that never ends) and times the reply. Values carry
their key and a version: `<key>|<version>|` then a pattern chosen by the version, so any
returned value can be checked whole against its key (`check_value`). Kinds that own their
keys (one key space per thread) also know the version they last wrote, so a hit of another
version is a desync; a miss is always allowed (eviction runs).
"""

import bisect
import math
import random
import socket
import struct
import threading
import time

PAT = b"abcdefghijklmnopqrstuvwxyz0123456789"
EXPTIME = 3600  # long enough that nothing this tool sets expires during a run


class Desync(Exception):
    """A reply that is not what the request must get."""


class Gone(Exception):
    """The server closed or reset a connection that did nothing wrong."""


def value(key, ver, size):
    head = b"%s|%d|" % (key, ver)
    n = max(size - len(head), 1)
    r = ver % len(PAT)
    pat = PAT[r:] + PAT[:r]
    return head + (pat * (n // len(PAT) + 1))[:n]


def check_value(key, data):
    """The version of a value this tool wrote for `key`; Desync when it is not one."""
    try:
        k, v, _ = bytes(data).split(b"|", 2)
        ver = int(v)
    except ValueError:
        raise Desync(f"value for {key!r} without this tool's header: {bytes(data[:60])!r}")
    if k != key:
        raise Desync(f"value for {key!r} holds key {k[:60]!r}'s bytes (version {ver})")
    if data != value(key, ver, len(data)):
        raise Desync(f"value for {key!r} (version {ver}, {len(data)} bytes): body differs")
    return ver


def pick_size(rng):
    """Mostly small values, one in seven between 1 KiB and 100 KiB (log-uniform)."""
    lo, hi = (16, 1024) if rng.random() < 0.85 else (1024, 100 * 1024)
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def key_size(i):
    """A fixed size per shared key (cache-aside stores the same object each time)."""
    h = (i * 2654435761) & 0xFFFFFFFF
    return pick_size(random.Random(h))


class Slot:
    """One connection's request in flight, as the watchdog thread sees it."""

    __slots__ = ("since", "cmd", "reported", "port", "name", "seq")

    def __init__(self, name):
        self.since, self.cmd, self.reported, self.port, self.name, self.seq = \
            0.0, "", False, 0, name, 0


class Conn:
    """A blocking connection whose requests are timed and watched."""

    def __init__(self, ctx, slot, rcvbuf=None):
        self.ctx, self.slot = ctx, slot
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(10)
        slot.seq += 1
        slot.cmd, slot.reported, slot.port = "connect", False, 0
        slot.since = t = time.monotonic()
        s.connect(("127.0.0.1", ctx.port))
        slot.since = 0.0
        s.settimeout(None)
        self.sock = s
        ctx.conns += 1
        slot.port = s.getsockname()[1]
        ctx.done(slot, "connect", time.monotonic() - t)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def call(self, cmd, payload, read):
        slot = self.slot
        slot.seq += 1
        slot.cmd, slot.reported = cmd, False
        slot.since = t = time.monotonic()
        self.sock.sendall(payload)
        r = read()
        slot.since = 0.0
        self.ctx.done(slot, cmd, time.monotonic() - t)
        return r

    def _more(self):
        if self.pos > 1 << 20 or self.pos == len(self.buf):
            del self.buf[: self.pos]
            self.pos = 0
        try:
            d = self.sock.recv(1 << 18)
        except ConnectionResetError:
            raise Gone("connection reset by the server")
        if not d:
            raise Gone("server closed the connection")
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                ln = bytes(self.buf[self.pos : i])
                self.pos = i + 2
                return ln
            self._more()

    def exact(self, n, crlf=True):
        want = n + (2 if crlf else 0)
        while len(self.buf) - self.pos < want:
            self._more()
        d = bytes(self.buf[self.pos : self.pos + n])
        if crlf and self.buf[self.pos + n : self.pos + want] != b"\r\n":
            raise Desync(f"data block of {n} bytes not followed by CRLF")
        self.pos += want
        return d


def expect(conn, *allowed):
    ln = conn.line()
    if ln not in allowed:
        raise Desync(f"got {ln[:120]!r}, expected one of {allowed}")
    return ln


def read_values(conn, keys, check=None, cas=False):
    """Reads a text `get` reply for `keys` (hits in request order, then END); returns
    {key: (version, cas)}. `check(key, version)` raises Desync for a wrong version."""
    got, i = {}, 0
    while True:
        ln = conn.line()
        if ln == b"END":
            return got
        parts = ln.split()
        if len(parts) != (5 if cas else 4) or parts[0] != b"VALUE":
            raise Desync(f"unexpected line in a get reply: {ln[:120]!r}")
        k = parts[1]
        while i < len(keys) and keys[i] != k:
            i += 1
        if i == len(keys):
            raise Desync(f"VALUE for {k[:60]!r}, not asked for (or out of order)")
        i += 1
        data = conn.exact(int(parts[3]))
        ver = check_value(k, data)
        if int(parts[2]) != ver & 0xFFFF:
            raise Desync(f"{k!r}: flags {parts[2]!r} but version {ver}")
        if check:
            check(k, ver)
        got[k] = (ver, int(parts[4]) if cas else None)


class Zipf:
    """Ranks 0..n-1 with P(k) proportional to (k+1)^-s, by inversion of the CDF."""

    def __init__(self, n, s=1.0):
        acc, cdf = 0.0, []
        for k in range(1, n + 1):
            acc += k**-s
            cdf.append(acc)
        self.cdf = [c / acc for c in cdf]

    def sample(self, rng):
        return min(bisect.bisect_left(self.cdf, rng.random()), len(self.cdf) - 1)


# ---- cache-aside on a shared key space (the hit-ratio workload) ------------------------


def cacheaside(ctx, tid, rng, slot):
    """Windows as corecached-hitratio sends them: the previous window's misses as `noreply`
    sets, then one multi-key get (sometimes `gat`/`gets`), in one write; now and then a
    flush of the sets followed by `mn`."""
    zipf = ctx.shared("zipf", lambda: Zipf(ctx.opts["keys"], 1.0))
    conn = Conn(ctx, slot)
    pending = []
    try:
        while not ctx.stop.is_set():
            keys, total = [], 0
            for _ in range(rng.randint(8, 64)):
                i = zipf.sample(rng)
                total += key_size(i)
                if total > 2 << 20:
                    break
                keys.append(b"ca:%d" % i)
            r = rng.random()
            cmd, line = ("get", b"get ") if r < 0.82 else (
                ("gat", b"gat %d " % EXPTIME) if r < 0.92 else
                ("gets", b"gets ") if r < 0.97 else ("get+gat", b"get "))
            payload = b"".join(pending) + line + b" ".join(keys) + b"\r\n"
            if cmd == "get+gat":
                # The same keys again with gat in the same write: the pipeline of issue 20's
                # item 1.
                payload += b"gat %d " % EXPTIME + b" ".join(keys) + b"\r\n"

            def read():
                got = read_values(conn, keys, cas=cmd == "gets")
                if cmd == "get+gat":
                    read_values(conn, keys)
                return got

            got = conn.call(f"{cmd} x{len(keys)} after {len(pending)} sets", payload, read)
            pending = []
            for k in dict.fromkeys(keys):
                if k not in got:
                    ver = rng.getrandbits(30)
                    v = value(k, ver, key_size(int(k[3:])))
                    pending.append(b"set %s %d 0 %d noreply\r\n%s\r\n" % (k, ver & 0xFFFF, len(v), v))
            if rng.random() < 0.02:
                conn.call(f"mn after {len(pending)} sets", b"".join(pending) + b"mn\r\n",
                          lambda: expect(conn, b"MN"))
                pending = []
    finally:
        conn.close()


# ---- text commands on owned keys, versions checked ------------------------------------


class Owned:
    """A thread's own keys and the version it last wrote to each (None: must miss; "?":
    not known, as before the first write of this connection or after a failed one)."""

    def __init__(self, prefix, n, rng):
        self.keys = [b"%s:%d" % (prefix, i) for i in range(n)]
        self.ver = {}
        self.rng = rng
        # Versions never repeat across reconnects (a thread starts over after a failure).
        self.next = rng.getrandbits(40)

    def pick(self):
        return self.keys[self.rng.randrange(len(self.keys))]

    def new(self, key):
        v = self.next
        self.next += 1
        return v, value(key, v, pick_size(self.rng))

    def check(self, key, ver):
        want = self.ver.get(key, "?")
        if want != "?" and ver != want:
            raise Desync(f"{key!r}: read version {ver}, last written {want}")


def owned_text(ctx, tid, rng, slot):
    own = Owned(b"ot%d.%d" % (ctx.wid, tid), 400, rng)
    conn = Conn(ctx, slot)
    ops = ["set"] * 25 + ["get"] * 20 + ["mget"] * 15 + ["gets"] * 5 + ["gat"] * 8 + \
        ["gats"] * 4 + ["touch"] * 5 + ["delete"] * 5 + ["cas"] * 5 + ["incr"] * 3 + \
        ["setq"] * 5
    counter = b"ot%d.%d:counter" % (ctx.wid, tid)
    count = None
    try:
        while not ctx.stop.is_set():
            op = rng.choice(ops)
            k = own.pick()
            if op in ("set", "setq"):
                ver, v = own.new(k)
                q = b" noreply" if op == "setq" else b""
                req = b"set %s %d %d %d%s\r\n%s\r\n" % (k, ver & 0xFFFF, 0, len(v), q, v)
                if op == "setq":
                    # A noreply set, then a get of the same key: it must see this version.
                    own.ver[k] = ver
                    conn.call("set noreply+get", req + b"get %s\r\n" % k,
                              lambda: read_values(conn, [k], own.check))
                    continue
                r = conn.call("set", req, lambda: expect(
                    conn, b"STORED", b"SERVER_ERROR out of memory storing object"))
                own.ver[k] = ver if r == b"STORED" else "?"
            elif op in ("get", "gets", "gat", "gats"):
                cas = op in ("gets", "gats")
                head = op.encode() + (b" %d " % EXPTIME if op.startswith("ga") else b" ")
                conn.call(op, head + k + b"\r\n", lambda: read_values(conn, [k], own.check, cas))
            elif op == "mget":
                keys = list(dict.fromkeys(own.pick() for _ in range(rng.randint(2, 16))))
                conn.call(f"get x{len(keys)}", b"get " + b" ".join(keys) + b"\r\n",
                          lambda: read_values(conn, keys, own.check))
            elif op == "touch":
                conn.call("touch", b"touch %s %d\r\n" % (k, EXPTIME),
                          lambda: expect(conn, b"TOUCHED", b"NOT_FOUND"))
            elif op == "delete":
                conn.call("delete", b"delete %s\r\n" % k,
                          lambda: expect(conn, b"DELETED", b"NOT_FOUND"))
                own.ver[k] = None
            elif op == "cas":
                got = conn.call("gets", b"gets %s\r\n" % k,
                                lambda: read_values(conn, [k], own.check, True))
                if k in got:
                    ver, v = own.new(k)
                    r = conn.call("cas", b"cas %s %d 0 %d %d\r\n%s\r\n"
                                  % (k, ver & 0xFFFF, len(v), got[k][1], v),
                                  lambda: expect(conn, b"STORED", b"NOT_FOUND",
                                                 b"SERVER_ERROR out of memory storing object"))
                    if r == b"STORED":
                        own.ver[k] = ver
                    elif r != b"NOT_FOUND":
                        own.ver[k] = "?"
            elif op == "incr":
                if count is None:
                    conn.call("set", b"set %s 0 0 1\r\n0\r\n" % counter,
                              lambda: expect(conn, b"STORED"))
                    count = 0
                r = conn.call("incr", b"incr %s 1\r\n" % counter, conn.line)
                if r == b"NOT_FOUND":
                    count = None
                elif r != b"%d" % (count + 1):
                    raise Desync(f"incr {counter!r}: {r[:60]!r}, expected {count + 1}")
                else:
                    count += 1
    finally:
        conn.close()


# ---- meta commands on owned keys, versions checked ------------------------------------


def read_meta_value(conn, key, own, ln=None):
    """Parses one `VA <len> <flags...>` block (or EN) for `key`; returns its version."""
    ln = ln if ln is not None else conn.line()
    parts = ln.split()
    if not parts or parts[0] not in (b"VA", b"EN") or (parts[0] == b"VA" and len(parts) < 2):
        raise Desync(f"mg {key!r}: {ln[:120]!r}")
    flags = {p[:1]: p[1:] for p in parts[2 if parts[0] == b"VA" else 1 :]}
    if b"k" in flags and flags[b"k"] != key:
        raise Desync(f"mg {key!r}: reply names key {flags[b'k'][:60]!r}")
    if parts[0] == b"EN":
        return None
    data = conn.exact(int(parts[1]))
    ver = check_value(key, data)
    if b"f" in flags and int(flags[b"f"]) != ver & 0xFFFF:
        raise Desync(f"mg {key!r}: flags {flags[b'f']!r} but version {ver}")
    own.check(key, ver)
    return ver


def meta(ctx, tid, rng, slot):
    own = Owned(b"me%d.%d" % (ctx.wid, tid), 400, rng)
    conn = Conn(ctx, slot)
    ops = ["ms"] * 25 + ["mg"] * 25 + ["mgq"] * 15 + ["mgt"] * 8 + ["md"] * 7 + ["ma"] * 5 + \
        ["mn"] * 5
    counter = b"me%d.%d:counter" % (ctx.wid, tid)
    count = None
    try:
        while not ctx.stop.is_set():
            op = rng.choice(ops)
            k = own.pick()
            if op == "ms":
                ver, v = own.new(k)
                r = conn.call("ms", b"ms %s %d T%d F%d\r\n%s\r\n" % (k, len(v), EXPTIME,
                                                                     ver & 0xFFFF, v),
                              lambda: expect(conn, b"HD", b"SERVER_ERROR out of memory"))
                own.ver[k] = ver if r == b"HD" else "?"
            elif op in ("mg", "mgt"):
                extra = b" T%d" % EXPTIME if op == "mgt" else b""
                conn.call(op, b"mg %s v f k t%s\r\n" % (k, extra),
                          lambda: read_meta_value(conn, k, own))
            elif op == "mgq":
                keys = list(dict.fromkeys(own.pick() for _ in range(rng.randint(2, 16))))

                def read_batch():
                    i = 0
                    while True:
                        ln = conn.line()
                        if ln == b"MN":
                            return
                        parts = ln.split()
                        kf = [p[1:] for p in parts[2:] if p[:1] == b"k"]
                        if not kf:
                            raise Desync(f"mg q k: {ln[:120]!r}")
                        while i < len(keys) and keys[i] != kf[0]:
                            i += 1
                        if i == len(keys):
                            raise Desync(f"mg q: reply for {kf[0][:60]!r}, not asked (or out of order)")
                        read_meta_value(conn, keys[i], own, ln)
                        i += 1

                conn.call(f"mg q x{len(keys)}+mn",
                          b"".join(b"mg %s v f k q\r\n" % x for x in keys) + b"mn\r\n", read_batch)
            elif op == "md":
                conn.call("md", b"md %s\r\n" % k, lambda: expect(conn, b"HD", b"NF"))
                own.ver[k] = None
            elif op == "mn":
                conn.call("mn", b"mn\r\n", lambda: expect(conn, b"MN"))
            elif op == "ma":
                if count is None:
                    conn.call("ms", b"ms %s 1\r\n0\r\n" % counter, lambda: expect(conn, b"HD"))
                    count = 0
                ln = conn.call("ma", b"ma %s v\r\n" % counter, conn.line)
                if ln == b"NF":
                    count = None
                    continue
                if not ln.startswith(b"VA "):
                    raise Desync(f"ma: {ln[:120]!r}")
                n = conn.exact(int(ln.split()[1]))
                if n != b"%d" % (count + 1):
                    raise Desync(f"ma {counter!r}: {n[:60]!r}, expected {count + 1}")
                count += 1
    finally:
        conn.close()


# ---- binary protocol on owned keys ----------------------------------------------------


def binary(ctx, tid, rng, slot):
    own = Owned(b"bi%d.%d" % (ctx.wid, tid), 400, rng)
    conn = Conn(ctx, slot)
    opaque = [0]

    def req(op, key=b"", extras=b"", body=b""):
        opaque[0] = (opaque[0] + 1) & 0xFFFFFFFF
        return struct.pack(">BBHBBHIIQ", 0x80, op, len(key), len(extras), 0, 0,
                           len(key) + len(extras) + len(body), opaque[0], 0) + extras + key + body

    def reply(op, want):
        h = conn.exact(24, crlf=False)
        magic, rop, klen, elen, _, status, blen, opq, _ = struct.unpack(">BBHBBHIIQ", h)
        body = conn.exact(blen, crlf=False)
        if magic != 0x81 or rop != op or opq != want:
            raise Desync(f"binary reply magic {magic:#x} op {rop:#x} opaque {opq}, "
                         f"expected op {op:#x} opaque {want}")
        return status, body[:elen], body[elen : elen + klen], body[elen + klen :]

    def check_get(k, status, extras, data):
        if status == 1:
            return
        if status != 0:
            raise Desync(f"binary get {k!r}: status {status:#x}")
        ver = check_value(k, data)
        if struct.unpack(">I", extras)[0] != ver & 0xFFFF:
            raise Desync(f"binary get {k!r}: flags differ from version {ver}")
        own.check(k, ver)

    ops = ["set"] * 30 + ["get"] * 30 + ["getkq"] * 15 + ["delete"] * 5 + ["touch"] * 5 + \
        ["gat"] * 10 + ["noop"] * 5
    try:
        while not ctx.stop.is_set():
            op = rng.choice(ops)
            k = own.pick()
            if op == "set":
                ver, v = own.new(k)
                p = req(0x01, k, struct.pack(">II", ver & 0xFFFF, 0), v)
                st = conn.call("SET", p, lambda: reply(0x01, opaque[0]))[0]
                if st not in (0, 0x82):
                    raise Desync(f"binary set {k!r}: status {st:#x}")
                own.ver[k] = ver if st == 0 else "?"
            elif op in ("get", "gat"):
                p = req(0x00, k) if op == "get" else req(0x1D, k, struct.pack(">I", EXPTIME))
                code = 0x00 if op == "get" else 0x1D
                st, ex, _, data = conn.call(op.upper(), p, lambda: reply(code, opaque[0]))
                check_get(k, st, ex, data)
            elif op == "getkq":
                keys = list(dict.fromkeys(own.pick() for _ in range(rng.randint(2, 16))))
                first = opaque[0] + 1
                p = b"".join(req(0x0D, x) for x in keys) + req(0x0A)

                def read_batch():
                    while True:
                        h = conn.exact(24, crlf=False)
                        _, rop, klen, elen, _, st, blen, opq, _ = struct.unpack(">BBHBBHIIQ", h)
                        body = conn.exact(blen, crlf=False)
                        if rop == 0x0A:
                            return
                        i = opq - first
                        if rop != 0x0D or not 0 <= i < len(keys):
                            raise Desync(f"GETKQ batch: op {rop:#x} opaque {opq}")
                        k2 = body[elen : elen + klen]
                        if k2 != keys[i]:
                            raise Desync(f"GETKQ for {keys[i]!r} answered with key {k2[:60]!r}")
                        check_get(k2, st, body[:elen], body[elen + klen :])

                conn.call(f"GETKQ x{len(keys)}+NOOP", p, read_batch)
            elif op == "delete":
                st = conn.call("DELETE", req(0x04, k), lambda: reply(0x04, opaque[0]))[0]
                if st not in (0, 1):
                    raise Desync(f"binary delete {k!r}: status {st:#x}")
                own.ver[k] = None
            elif op == "touch":
                st = conn.call("TOUCH", req(0x1C, k, struct.pack(">I", EXPTIME)),
                               lambda: reply(0x1C, opaque[0]))[0]
                if st not in (0, 1):
                    raise Desync(f"binary touch {k!r}: status {st:#x}")
            else:
                conn.call("NOOP", req(0x0A), lambda: reply(0x0A, opaque[0]))
    finally:
        conn.close()


# ---- the control client ---------------------------------------------------------------


def control(ctx, tid, rng, slot):
    """`version` in a tight loop: its per-second maximum tells server stalls from a
    starved machine."""
    conn = Conn(ctx, slot)
    try:
        while not ctx.stop.is_set():
            ln = conn.call("version", b"version\r\n", conn.line)
            if not ln.startswith(b"VERSION "):
                raise Desync(f"version: {ln[:120]!r}")
    finally:
        conn.close()


def run_thread(ctx, fn, tid, slot):
    """Runs a client until the stop, reconnecting after any failure (recorded)."""
    rng = random.Random(ctx.seed * 1000003 + ctx.wid * 1009 + tid)
    while not ctx.stop.is_set():
        try:
            fn(ctx, tid, rng, slot)
        except Desync as e:
            ctx.fail("desync", slot, str(e))
        except (Gone, OSError) as e:
            if not ctx.stop.is_set():
                ctx.fail("error", slot, f"{type(e).__name__}: {e}")
                time.sleep(0.1)
        slot.since = 0.0


def start_threads(ctx, fn, n):
    slots = [Slot(f"{ctx.kind}{ctx.wid}.{i}") for i in range(n)]
    threads = [threading.Thread(target=run_thread, args=(ctx, fn, i, s), daemon=True)
               for i, s in enumerate(slots)]
    for t in threads:
        t.start()
    return slots, threads
