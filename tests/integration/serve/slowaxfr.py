#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/serve/slowaxfr.py -- many AXFR clients that read slowly, the
# way a hostile (or just distant) client ties up a server's transfers.
#
#   slowaxfr.py HOST PORT ZONE COUNT RATE SECONDS [--sources A,B,..|--spread N]
#               [--status FILE]
#
# Opens COUNT TCP connections (SO_RCVBUF 4 KiB, so the server meets backpressure
# at once), sends one AXFR query on each, then reads at most RATE bytes per second
# per connection for SECONDS. Sources: every connection from 127.0.0.2 by default,
# --sources cycles through the given addresses, --spread N through 127.0.0.2 to
# 127.0.0.(N+1). While running, FILE (when given) is rewritten once a second with
# the summary line; at the end it is printed:
#   conns=C answered=A noerror=N refused=R closed=X bytes=B
# (answered: the first message arrived; noerror/refused: its rcode; closed: the
# server ended the connection before SECONDS).
import os
import socket
import struct
import sys
import time


def query(zone):
    q = b"".join(bytes([len(l)]) + l.encode() for l in zone.strip(".").split(".")) + b"\0"
    return struct.pack(">HHHHHH", 0x5a5a, 0, 1, 0, 0, 0) + q + struct.pack(">HH", 252, 1)


class Conn:
    def __init__(self, src, host, port, zone):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.bind((src, 0))
        self.s.settimeout(5)
        self.s.connect((host, port))
        m = query(zone)
        self.s.sendall(struct.pack(">H", len(m)) + m)
        self.s.setblocking(False)
        self.head = b""
        self.rcode = None
        self.bytes = 0
        self.closed = False

    def read(self, n):
        if self.closed:
            return
        try:
            data = self.s.recv(n)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            self.s.close()
            return
        self.bytes += len(data)
        if self.rcode is None:
            self.head += data
            if len(self.head) >= 6:
                self.rcode = self.head[5] & 15


def summary(conns):
    ans = [c for c in conns if c.rcode is not None]
    return "conns=%d answered=%d noerror=%d refused=%d closed=%d bytes=%d" % (
        len(conns), len(ans), sum(c.rcode == 0 for c in ans), sum(c.rcode == 5 for c in ans),
        sum(c.closed for c in conns), sum(c.bytes for c in conns))


def main():
    a = sys.argv[1:]
    host, port, zone, count, rate, secs = a[0], int(a[1]), a[2], int(a[3]), int(a[4]), float(a[5])
    sources, status = ["127.0.0.2"], None
    i = 6
    while i < len(a):
        if a[i] == "--sources":
            sources = a[i + 1].split(",")
        elif a[i] == "--spread":
            sources = ["127.0.0.%d" % (2 + k) for k in range(int(a[i + 1]))]
        elif a[i] == "--status":
            status = a[i + 1]
        i += 2
    conns = [Conn(sources[k % len(sources)], host, port, zone) for k in range(count)]
    tick = 0.1
    per_tick = max(1, int(rate * tick))
    end = time.time() + secs
    last = 0.0
    while time.time() < end:
        for c in conns:
            c.read(per_tick)
        now = time.time()
        if status and now - last >= 1:
            with open(status + ".tmp", "w") as f:
                f.write(summary(conns) + "\n")
            os.replace(status + ".tmp", status)
            last = now
        time.sleep(tick)
    print(summary(conns), flush=True)
    for c in conns:
        if not c.closed:
            c.s.close()


if __name__ == "__main__":
    main()
