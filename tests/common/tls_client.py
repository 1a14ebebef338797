"""A TLS client for tests/tls.rs: sends its standard input over TLS and writes the reply.

    tls_client.py PORT CA_FILE [CERT_FILE KEY_FILE]

Connects to 127.0.0.1:PORT, trusting CA_FILE (the server's certificate must name
127.0.0.1), with a client certificate when given. Sends standard input followed by
`mn\\r\\n` and reads until the reply ends with `MN\\r\\n` (at most 20 s), then writes the
reply without it to standard output. With TLS_CLIENT_UNTIL in the environment, sends
standard input alone and reads until the reply ends with that text (`\\r\\n` for
CRLF). With TLS_CLIENT_INTERACTIVE, one connection serves requests as they come:
standard input holds each as a line with its length in bytes and then the bytes, and
each reply (up to `MN`, without it) goes to standard output the same way.
Standard error gets `SERIAL <hex>` (the server certificate's serial number) once
connected. Exit status 0 served, 2 the handshake or
the connection failed (the error on standard error), 3 timed out.
"""

import os
import socket
import ssl
import sys
import time

SENTINEL = b"mn\r\n"
SENTINEL_REPLY = b"MN\r\n"


def main():
    port = int(sys.argv[1])
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=sys.argv[2])
    ctx.check_hostname = False
    if len(sys.argv) > 4:
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    until = os.environ.get("TLS_CLIENT_UNTIL")
    if os.environ.get("TLS_CLIENT_INTERACTIVE"):
        request, end = b"", SENTINEL_REPLY
    elif until is None:
        request = sys.stdin.buffer.read() + SENTINEL
        end = SENTINEL_REPLY
    else:
        request = sys.stdin.buffer.read()
        end = until.replace("\\r\\n", "\r\n").encode()
    deadline = time.monotonic() + 20
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=20)
        s = ctx.wrap_socket(raw)
        serial = s.getpeercert().get("serialNumber", "?")
        sys.stderr.write("SERIAL %s\n" % serial)
        sys.stderr.flush()
        if os.environ.get("TLS_CLIENT_INTERACTIVE"):
            return interactive(s)
        s.sendall(request)
        reply = bytearray()
        while not reply.endswith(end):
            left = deadline - time.monotonic()
            if left <= 0:
                sys.stderr.write("timed out after %d bytes\n" % len(reply))
                return 3
            s.settimeout(left)
            chunk = s.recv(1 << 20)
            if not chunk:
                sys.stderr.write("closed after %d bytes\n" % len(reply))
                return 2
            reply += chunk
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("failed: %r\n" % (e,))
        return 2
    if until is None:
        reply = reply[: -len(SENTINEL_REPLY)]
    sys.stdout.buffer.write(bytes(reply))
    return 0


def interactive(s):
    """Length-prefixed requests in, length-prefixed replies out, on one connection."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = inp.readline()
        if not line:
            return 0
        request = inp.read(int(line))
        s.sendall(request + SENTINEL)
        reply = bytearray()
        deadline = time.monotonic() + 20
        while not reply.endswith(SENTINEL_REPLY):
            left = deadline - time.monotonic()
            if left <= 0:
                return 3
            s.settimeout(left)
            chunk = s.recv(1 << 20)
            if not chunk:
                return 2
            reply += chunk
        reply = bytes(reply[: -len(SENTINEL_REPLY)])
        out.write(b"%d\n" % len(reply) + reply)
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
