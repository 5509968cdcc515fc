#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/bed/notify_sink.py -- a NOTIFY receiver for bed tests: listens on
# 127.0.0.1:PORT (UDP and TCP), appends one line per DNS message to LOG
#   "udp|tcp opcode=N qname=NAME id=N tsig=yes|no"
# and answers each with the same header, QR set, no records (unsigned).
# Usage: notify_sink.py PORT LOG     (runs until SIGTERM)
import socket
import struct
import sys
import threading


def qname(msg):
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode('ascii', 'replace').lower())
        i += 1 + n
    return '.'.join(labels) + '.', i + 5


def describe(proto, msg):
    mid, flags, qd, an, ns, ar = struct.unpack('>HHHHHH', msg[:12])
    name, end = qname(msg) if qd else ('.', 12)
    # A TSIG record is the last additional record: its type (250) follows its owner.
    tsig = 'yes' if ar and b'\x00\xfa\x00\xff' in msg[end:] else 'no'
    return '%s opcode=%d qname=%s id=%d tsig=%s' % (proto, (flags >> 11) & 15, name, mid, tsig)


def reply(msg):
    flags = struct.unpack('>H', msg[2:4])[0] | 0x8000
    name_end = qname(msg)[1] if struct.unpack('>H', msg[4:6])[0] else 12
    return msg[:2] + struct.pack('>HHHHH', flags, 1 if name_end > 12 else 0, 0, 0, 0) + msg[12:name_end]


def log(path, line):
    with open(path, 'a') as f:
        f.write(line + '\n')


def udp(port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', port))
    while True:
        msg, peer = s.recvfrom(65535)
        if len(msg) >= 12:
            log(path, describe('udp', msg))
            s.sendto(reply(msg), peer)


def tcp_conn(c, path):
    with c:
        while True:
            hdr = c.recv(2, socket.MSG_WAITALL)
            if len(hdr) < 2:
                return
            msg = c.recv(struct.unpack('>H', hdr)[0], socket.MSG_WAITALL)
            if len(msg) >= 12:
                log(path, describe('tcp', msg))
                r = reply(msg)
                c.sendall(struct.pack('>H', len(r)) + r)


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    open(path, 'a').close()
    threading.Thread(target=udp, args=(port, path), daemon=True).start()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_conn, args=(c, path), daemon=True).start()


if __name__ == '__main__':
    main()
