"""Clients of scripts/stall-watchdog.py that break the protocol or the connection.

Each round of `garbage` opens a fresh connection and does one thing to it: the inputs of
tests/hardening.rs (random bytes, a truncated command, an over-long line, a lying length,
a value over -I half sent, meta and binary requests with lying lengths, random tokens)
and a few more (a value cut off mid-way with a reset, a reset while replies are pending,
a request trickled in a byte at a time, a half-close). Garbage gets no checked reply;
the three rounds whose requests are valid (trickle, half-close, framed errors followed
by `version`) are timed and checked like the other kinds. `nonreader` asks for megabytes
of replies and never reads them.
"""

import socket
import struct
import time

from stall_clients import Conn, Desync, expect, read_values, value


def _rst(conn):
    """Closes with a reset rather than a FIN."""
    try:
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    conn.close()


def _drain(conn, seconds=0.2):
    """Reads what comes for a moment (so the server may write), then gives up."""
    conn.sock.settimeout(seconds)
    try:
        while conn.sock.recv(65536):
            pass
    except OSError:
        pass


def _meta_junk(rng):
    out = []
    for _ in range(1 + rng.randrange(20)):
        word = rng.choice(["mg", "ms", "md", "ma", "me", "mn"])
        flags = " ".join(rng.choice(["v", "q", "k", "O1", "T9", "N5", "I", "b", "MA", "C7", "Zz"])
                         for _ in range(rng.randrange(6)))
        key = "!!b64" if rng.randrange(4) == 0 else "mk"
        out.append(f"{word} {key}{rng.randrange(9)} {rng.randrange(40)} {flags}\r\n".encode()
                   + b"d" * rng.randrange(50) + b"\r\n")
    return b"".join(out)


def _binary_junk(rng):
    out = []
    for _ in range(1 + rng.randrange(10)):
        klen = rng.choice([1, 3, 251, 65535])
        elen = rng.choice([0, 4, 8, 20, 255])
        blen = rng.randrange(klen + elen + 100)
        out.append(struct.pack(">BBHBBHI", 0x80, rng.randrange(256), klen, elen, 0, 0, blen)
                   + bytes(12) + rng.randbytes(rng.randrange(blen + 1)))
    return b"".join(out)


def _framed_errors(rng):
    """Whole lines the server must answer with an error and then go on."""
    return rng.choice([
        b"bogus command here\r\n",
        b"get " + b"k" * 251 + b"\r\n",
        b"set k 0 0 notanumber\r\n",
        b"incr\r\n",
        b"touch a b c d e f\r\n",
        b"mg\r\n",
        b"ma nokey Nxx\r\n",
    ])


def garbage(ctx, tid, rng, slot):
    r = rng.randrange(14)
    conn = Conn(ctx, slot)
    try:
        if r == 0:
            conn.sock.sendall(rng.randbytes(rng.randrange(5000)))
        elif r == 1:
            conn.sock.sendall(b"set trunc 0 0 100\r\nabc")
        elif r == 2:
            conn.sock.sendall(b"x" * rng.choice([3000, 10_000, 200_000]))
        elif r == 3:
            conn.sock.sendall(b"set lie%d 0 0 5\r\n123456789\r\nget lie%d\r\n" % (tid, tid))
        elif r == 4:
            conn.sock.sendall(b"set big 0 0 2000000\r\n" + b"z" * 30_000)
        elif r == 5:
            conn.sock.sendall(_meta_junk(rng))
        elif r == 6:
            conn.sock.sendall(_binary_junk(rng))
        elif r == 7:
            word = rng.choice([b"get", b"set", b"incr", b"delete", b"touch", b"cas"])
            conn.sock.sendall(b"%s k%d %d %d %d\r\n" % (word, rng.getrandbits(64),
                                                         rng.getrandbits(63) - (1 << 62),
                                                         rng.randrange(100), rng.getrandbits(31)))
        elif r == 8:
            # A real value cut off mid-way; the connection then goes away, half the time
            # with a reset.
            k = b"gb%d.%d" % (ctx.wid, tid)
            v = value(k, 1, 80_000)
            conn.sock.sendall(b"set %s 1 0 %d\r\n" % (k, len(v)) + v[: rng.randrange(len(v))])
            if rng.randrange(2):
                _rst(conn)
                return
        elif r == 9:
            # Replies pending, then a reset.
            conn.sock.sendall(b"get " + b" ".join(b"ca:%d" % i for i in range(64)) + b"\r\n")
            _rst(conn)
            return
        elif r == 10:
            # A valid multi-get trickled in a few bytes at a time; timed from the last byte.
            keys = [b"ca:%d" % rng.randrange(100) for _ in range(rng.randint(1, 8))]
            req = b"get " + b" ".join(keys) + b"\r\n"
            i = 0
            while i < len(req) - 1 and not ctx.stop.is_set():
                n = rng.randint(1, 3)
                conn.sock.sendall(req[i : min(i + n, len(req) - 1)])
                i += n
                time.sleep(rng.uniform(0.005, 0.03))
            if i < len(req) - 1:
                return  # stopped mid-way: the request is not whole
            conn.call("get trickled", req[len(req) - 1 :], lambda: read_values(conn, keys))
        elif r == 11:
            # A half-close after the request: the reply must still come whole.
            keys = [b"ca:%d" % rng.randrange(100) for _ in range(rng.randint(1, 8))]

            def send_and_read():
                conn.sock.shutdown(socket.SHUT_WR)
                return read_values(conn, keys)

            conn.call("get half-closed", b"get " + b" ".join(keys) + b"\r\n", send_and_read)
        elif r == 12:
            # Errors on whole lines, then a valid request on the same connection.
            bad = b"".join(_framed_errors(rng) for _ in range(rng.randint(1, 4)))

            def read():
                for _ in range(16):
                    ln = conn.line()
                    if ln.startswith(b"VERSION "):
                        return ln
                    if not (ln == b"ERROR" or ln.startswith(b"CLIENT_ERROR")):
                        raise Desync(f"after framed errors: {ln[:120]!r}")
                raise Desync("no VERSION after framed errors")

            conn.call("errors+version", bad + b"version\r\n", read)
            return
        else:
            # Connect and leave at once (a storm of short connections).
            return
        _drain(conn)
    finally:
        conn.close()


def nonreader(ctx, tid, rng, slot):
    """Stores a few 100 KiB values, then on a connection with a 4 KiB receive buffer asks
    for them many times over without reading, holds it for a few seconds, and drops it."""
    keys = [b"nr%d.%d:%d" % (ctx.wid, tid, i) for i in range(5)]
    conn = Conn(ctx, slot)
    try:
        for k in keys:
            v = value(k, 1, 100 * 1024)
            conn.call("set", b"set %s 1 0 %d\r\n%s\r\n" % (k, len(v), v),
                      lambda: expect(conn, b"STORED", b"SERVER_ERROR out of memory storing object"))
    finally:
        conn.close()
    slow = Conn(ctx, slot, rcvbuf=4096)
    try:
        slow.sock.sendall((b"get " + b" ".join(keys * 12) + b"\r\n") * rng.randint(1, 4))
        end = time.monotonic() + rng.uniform(3, 8)
        while time.monotonic() < end and not ctx.stop.is_set():
            time.sleep(0.1)
        if rng.randrange(2):
            _rst(slow)
    finally:
        slow.close()
