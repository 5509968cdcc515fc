#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/serve/tcpprobe.py -- TCP clients that misbehave on purpose, for
# the endpoint's flow control, idle timeout and connection cap (tcp.sh).
#   tcpprobe.py slow PORT ZONE SECONDS   AXFR read at 16 KiB per 50 ms for SECONDS;
#                                        prints the bytes read
#   tcpprobe.py stall PORT ZONE SECONDS  AXFR, then read nothing for SECONDS (the
#                                        server's log shows when it gave up)
#   tcpprobe.py idle PORT LIMIT          connect, send nothing; seconds until closed
#   tcpprobe.py pipeline PORT ZONE       SOA, AXFR, SOA queries in one write; prints
#                                        the answer IDs in the order they came
#   tcpprobe.py cap PORT N               N idle connections, then one more: prints
#                                        "rejected" when the extra one is closed at once
import socket
import struct
import sys
import time


def query(zone, qtype=252, qid=0x5151):
    q = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in zone.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", qtype, 1)
    return struct.pack(">H", len(q)) + q


def axfr_query(zone):
    return query(zone)


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    return buf


def pipeline(port, zone):
    """SOA, AXFR, SOA in one write: the answers come in order, by ID."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(query(zone, 6, 1) + query(zone, 252, 2) + query(zone, 6, 3))
    ids = []
    while not ids or ids[-1] != 3:
        n = struct.unpack(">H", read_exact(s, 2))[0]
        ids.append(struct.unpack(">H", read_exact(s, n)[:2])[0])
        if len(ids) > 100000:
            sys.exit("runaway")
    runs = [k for i, k in enumerate(ids) if i == 0 or ids[i - 1] != k]
    print(" ".join(str(k) for k in runs), len(ids))


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    return s


def wait_closed(s, limit):
    """Seconds until the peer closes (EOF or reset), reading whatever arrives."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if not s.recv(65536):
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - t0
    return None


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "slow":
        s = connect(port)
        s.sendall(axfr_query(sys.argv[3]))
        end, got = time.monotonic() + float(sys.argv[4]), 0
        while time.monotonic() < end:
            got += len(s.recv(16384))
            time.sleep(0.05)
        print(got)
    elif cmd == "stall":
        s = connect(port)
        s.sendall(axfr_query(sys.argv[3]))
        time.sleep(float(sys.argv[4]))  # the server must give up meanwhile (its log says)
        s.close()
    elif cmd == "idle":
        t = wait_closed(connect(port), float(sys.argv[3]))
        if t is None:
            sys.exit("not closed")
        print("%.1f" % t)
    elif cmd == "pipeline":
        pipeline(port, sys.argv[3])
    elif cmd == "cap":
        keep = [connect(port) for _ in range(int(sys.argv[3]))]
        time.sleep(0.2)
        t = wait_closed(connect(port), 1.0)
        print("rejected" if t is not None else "accepted")
        del keep


if __name__ == "__main__":
    main()
