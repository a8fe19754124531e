#!/usr/bin/env python3
"""Holds connections open against a running `ams serve` the way an idle or slowloris client
does, and reports when the server lets go of each (docs/server.md, "Timeouts and limits").

  --silent N      connections that send nothing (closed at --header-timeout from the accept)
  --keepalive N   connections that make one request and then stay idle (closed at --idle-timeout)
  --slowloris N   connections that send one header byte a second, forever (closed at
                  --header-timeout although bytes keep arriving)

The connections come from 127.0.0.1 .. 127.0.0.{--sources}, so that the per-client limit (256 by
default) does not refuse them: this measures the deadlines, not the limits.

  python3 bench/connection_deadlines.py --port 8080 --silent 500 --keepalive 500 --slowloris 100
"""
import argparse
import selectors
import socket
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/crossdomain.xml", help="the keep-alive clients' request")
    p.add_argument("--silent", type=int, default=500)
    p.add_argument("--keepalive", type=int, default=500)
    p.add_argument("--slowloris", type=int, default=100)
    p.add_argument("--sources", type=int, default=8)
    p.add_argument("--limit", type=float, default=120, help="give up after this many seconds")
    a = p.parse_args()

    sel = selectors.DefaultSelector()
    conns = []  # [kind, socket, opened_at, closed_at, bytes_sent]
    start = time.monotonic()
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % a.path).encode()
    slow = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100000
    n = 0
    for kind, count in (("silent", a.silent), ("keepalive", a.keepalive), ("slowloris", a.slowloris)):
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.%d" % (1 + n % a.sources), 0))
            n += 1
            s.connect(("127.0.0.1", a.port))
            if kind == "keepalive":
                s.sendall(request)
            s.setblocking(False)
            c = [kind, s, time.monotonic(), None, 0]
            conns.append(c)
            sel.register(s, selectors.EVENT_READ, c)
    print("opened %d connections in %.2f s" % (len(conns), time.monotonic() - start), flush=True)

    open_count = len(conns)
    next_byte = time.monotonic()
    while open_count > 0 and time.monotonic() - start < a.limit:
        now = time.monotonic()
        if now >= next_byte:
            for c in conns:
                if c[0] == "slowloris" and c[3] is None:
                    try:
                        c[1].send(slow[c[4]:c[4] + 1])
                        c[4] += 1
                    except OSError:
                        pass  # the server closed it: the read below sees it
            next_byte = now + 1.0
        for key, _ in sel.select(timeout=0.1):
            c = key.data
            try:
                data = c[1].recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                continue  # the keep-alive answer
            c[3] = time.monotonic()
            sel.unregister(c[1])
            c[1].close()
            open_count -= 1

    for kind in ("silent", "keepalive", "slowloris"):
        mine = [c for c in conns if c[0] == kind]
        if not mine:
            continue
        held = [c[3] - c[2] for c in mine if c[3] is not None]
        still = len(mine) - len(held)
        line = "%-9s %5d: %5d closed by the server" % (kind, len(mine), len(held))
        if held:
            line += ", held %.1f s min, %.1f median, %.1f max" % (
                min(held), statistics.median(held), max(held))
        if kind == "slowloris":
            line += ", %d header bytes sent each at most" % max(c[4] for c in mine)
        if still:
            line += "; %d still open after %.0f s" % (still, a.limit)
        print(line)
    return 0 if open_count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
