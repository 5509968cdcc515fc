#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/tcphold.py -- a client that opens TCP connections and
# holds them without sending a DNS message (what one greedy or hostile source does to
# take every connection slot of a server).
#
#   tcphold.py HOST PORT COUNT [--bind ADDR] [--proxy-src FORMAT] [--hold SECONDS]
#
# Opens COUNT connections one after the other (from ADDR when given). With
# --proxy-src each starts with a PROXY v2 header claiming the source
# FORMAT % index (e.g. "2001:db8::%d", index from 1): a trusted proxy speaking for
# many clients. One second after the last, prints "open=N closed=M" (closed: the
# server ended it), then keeps the open ones for SECONDS (default 30) and exits.
import socket
import struct
import sys
import time


def proxy_v2(src, dst_port):
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if ":" in src:
        body = socket.inet_pton(socket.AF_INET6, src) + \
            socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1") + struct.pack(">HH", 5353, dst_port)
        return sig + bytes([0x21, 0x21]) + struct.pack(">H", len(body)) + body
    body = socket.inet_aton(src) + socket.inet_aton("127.0.0.1") + struct.pack(">HH", 5353, dst_port)
    return sig + bytes([0x21, 0x11]) + struct.pack(">H", len(body)) + body


def main():
    args = sys.argv[1:]
    host, port, count = args[0], int(args[1]), int(args[2])
    bind, proxy_src, hold = None, None, 30.0
    i = 3
    while i < len(args):
        if args[i] == "--bind":
            bind = args[i + 1]
        elif args[i] == "--proxy-src":
            proxy_src = args[i + 1]
        elif args[i] == "--hold":
            hold = float(args[i + 1])
        i += 2
    socks = []
    for n in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if bind:
            s.bind((bind, 0))
        try:
            s.connect((host, port))
            if proxy_src:
                s.sendall(proxy_v2(proxy_src % (n + 1), port))
            socks.append(s)
        except OSError:
            s.close()
    time.sleep(1)
    open_, closed = [], 0
    for s in socks:
        s.setblocking(False)
        try:
            data = s.recv(1, socket.MSG_PEEK)
            if data == b"":
                closed += 1
                s.close()
                continue
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
            s.close()
            continue
        open_.append(s)
    print("open=%d closed=%d" % (len(open_), closed + count - len(socks)), flush=True)
    time.sleep(hold)
    for s in open_:
        s.close()


if __name__ == "__main__":
    main()
