#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/integration/notifyd/dnswire.py -- wire-level helpers for notifyd's integration tests.
#
#   dnswire.py relay LISTEN_PORT TARGET_PORT LOGFILE
#       UDP relay on 127.0.0.1: each datagram is forwarded to TARGET_PORT, the
#       answer relayed back; "req HEX" / "rep HEX" lines appended to LOGFILE.
#   dnswire.py decode HEX
#       One line: id qr opcode rcode aa qd an ns ar, and the TSIG record's
#       fields when the message ends with one (tsig_error, tsig_mac_len,
#       tsig_other_len, tsig_orig_id, tsig_time, tsig_other).
#   dnswire.py notify [--proxy v1|v2|v2local] [--src A@P] [--bind ADDR] [--tcp]
#                     HOST PORT ZONE [SERIAL]
#       Send one unsigned NOTIFY (optionally behind a PROXY header claiming
#       source A@P), wait 2 s, print "answer HEX" or "noanswer".
#       (A may be IPv6: "[2001:db8::1]@53".)
#   dnswire.py burst BIND HOST PORT ZONE SRC...
#       From one UDP socket bound to BIND (a trusted proxy), one NOTIFY per SRC
#       (A@P, claimed in a PROXY v2 header) back to back, then the answers for
#       2 s: prints "answers=N" (a rate limit that drops some shows at once,
#       however slowly Kafka answers the others).
#   dnswire.py tcpseq [--bind ADDR] HOST PORT ZONE...
#       One TCP connection, one unsigned NOTIFY per ZONE in turn: prints the
#       answer's rcode (or "none") for each, then "eof" when the server closed
#       the connection within 2 s of the last answer, else "open".
#   dnswire.py send [--tcp] [--bind ADDR] HOST PORT HEX
#       Send the message HEX as it is (a captured request), print "answer HEX"
#       or "noanswer".
#   dnswire.py resend [--tcp] HOST PORT HEX COUNT
#       Send HEX COUNT times, each time from the next of 127.0.0.2..201, and
#       print how the answers went: "rcode0=N rcode5=N ... noanswer=N".
#   dnswire.py signed ZONE SERIAL KEYNAME SECRET TIME FUDGE
#       Print (hex) a NOTIFY signed by hand with hmac-sha256, with the time
#       signed and fudge given (tools sign with "now" and 300).
import base64
import hashlib
import hmac
import socket
import struct
import sys


def skip_name(m, i):
    while True:
        n = m[i]
        if n == 0:
            return i + 1
        if n & 0xC0 == 0xC0:
            return i + 2
        i += 1 + n


def decode(m):
    id_, fl, qd, an, ns, ar = struct.unpack(">HHHHHH", m[:12])
    out = {
        "len": len(m), "id": id_, "qr": fl >> 15, "opcode": (fl >> 11) & 15,
        "aa": (fl >> 10) & 1, "rcode": fl & 15, "qd": qd, "an": an, "ns": ns, "ar": ar,
    }
    i = 12
    for _ in range(qd):
        i = skip_name(m, i) + 4
    last = None
    for _ in range(an + ns + ar):
        start = i
        i = skip_name(m, i)
        typ, cls, ttl, rdlen = struct.unpack(">HHIH", m[i:i + 10])
        last = (typ, i + 10, rdlen)
        i += 10 + rdlen
    if last and last[0] == 250:
        j = skip_name(m, last[1])
        t_hi, t_lo, fudge, maclen = struct.unpack(">HIHH", m[j:j + 10])
        j += 10 + maclen
        orig, err, olen = struct.unpack(">HHH", m[j:j + 6])
        other = m[j + 6:j + 6 + olen]
        out.update(tsig_time=(t_hi << 32) | t_lo, tsig_mac_len=maclen, tsig_orig_id=orig,
                   tsig_error=err, tsig_other_len=olen,
                   tsig_other=int.from_bytes(other, "big") if olen else 0)
    return out


def relay(lport, tport, logfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", lport))
    while True:
        data, peer = s.recvfrom(65535)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(2)
        u.sendto(data, ("127.0.0.1", tport))
        with open(logfile, "a") as f:
            f.write("req " + data.hex() + "\n")
        try:
            rep = u.recv(65535)
        except socket.timeout:
            u.close()
            continue
        with open(logfile, "a") as f:
            f.write("rep " + rep.hex() + "\n")
        s.sendto(rep, peer)
        u.close()


def wire_name(zone):
    out = b""
    for label in zone.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def notify_msg(zone, serial):
    q = wire_name(zone) + struct.pack(">HH", 6, 1)
    an = b""
    if serial is not None:
        an = b"\xc0\x0c" + struct.pack(">HHIH", 6, 1, 3600, 24) + b"\xc0\x0c\xc0\x0c" + \
            struct.pack(">IIIII", serial, 1, 2, 3, 4)
    return struct.pack(">HHHHHH", 0x4e44, 4 << 11 | 0x400, 1, 1 if an else 0, 0, 0) + q + an


def proxy_header(kind, src, dst, tcp):
    sa, sp = src.rsplit("@", 1)
    sa = sa.strip("[]")
    da, dp = dst
    v6 = ":" in sa
    if kind == "v1":
        return ("PROXY TCP%d %s %s %s %d\r\n" % (6 if v6 else 4, sa, da, sp, dp)).encode()
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if kind == "v2local":
        return sig + b"\x20\x00\x00\x00"
    if v6:
        body = socket.inet_pton(socket.AF_INET6, sa) + \
            socket.inet_pton(socket.AF_INET6, "::ffff:" + da) + struct.pack(">HH", int(sp), dp)
        fam = 0x21 if tcp else 0x22
    else:
        body = socket.inet_aton(sa) + socket.inet_aton(da) + struct.pack(">HH", int(sp), dp)
        fam = 0x11 if tcp else 0x12
    return sig + bytes([0x21, fam]) + struct.pack(">H", len(body)) + body


def notify(args):
    proxy, src, bind, tcp = None, "192.0.2.1@53", None, False
    while args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--tcp":
            tcp = True
        elif opt == "--proxy":
            proxy = args.pop(0)
        elif opt == "--src":
            src = args.pop(0)
        elif opt == "--bind":
            bind = args.pop(0)
    host, port, zone = args[0], int(args[1]), args[2]
    serial = int(args[3]) if len(args) > 3 else None
    msg = notify_msg(zone, serial)
    hdr = proxy_header(proxy, src, (host, port), tcp) if proxy else b""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.settimeout(2)
    if bind:
        s.bind((bind, 0))
    try:
        if tcp:
            s.connect((host, port))
            s.sendall(hdr + struct.pack(">H", len(msg)) + msg)
            ln = s.recv(2)
            rep = s.recv(struct.unpack(">H", ln)[0]) if len(ln) == 2 else b""
        else:
            s.sendto(hdr + msg, (host, port))
            rep = s.recv(65535)
        print("answer " + rep.hex() if rep else "noanswer")
    except (socket.timeout, ConnectionError):
        print("noanswer")


def exchange(msg, host, port, tcp, bind=None, timeout=2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        if bind:
            s.bind((bind, 0))
        if tcp:
            s.connect((host, port))
            s.sendall(struct.pack(">H", len(msg)) + msg)
            ln = s.recv(2)
            return s.recv(struct.unpack(">H", ln)[0]) if len(ln) == 2 else b""
        s.sendto(msg, (host, port))
        return s.recv(65535)
    except (socket.timeout, ConnectionError):
        return b""
    finally:
        s.close()


def send(args):
    tcp, bind = False, None
    while args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--tcp":
            tcp = True
        elif opt == "--bind":
            bind = args.pop(0)
    rep = exchange(bytes.fromhex(args[2]), args[0], int(args[1]), tcp, bind)
    print("answer " + rep.hex() if rep else "noanswer")


def resend(args):
    tcp = args[0] == "--tcp"
    if tcp:
        args.pop(0)
    host, port, msg, count = args[0], int(args[1]), bytes.fromhex(args[2]), int(args[3])
    seen = {}
    for i in range(count):
        rep = exchange(msg, host, port, tcp, "127.0.0.%d" % (2 + i % 200), timeout=1)
        k = "rcode%d" % decode(rep)["rcode"] if len(rep) >= 12 else "noanswer"
        seen[k] = seen.get(k, 0) + 1
    print(" ".join("%s=%d" % kv for kv in sorted(seen.items())))


def signed(args):
    zone, serial, key, secret, t, fudge = args[:6]
    msg = notify_msg(zone, int(serial))
    mid = struct.unpack(">H", msg[:2])[0]
    kname, alg = wire_name(key), wire_name("hmac-sha256")
    timers = struct.pack(">HIH", int(t) >> 32, int(t) & 0xFFFFFFFF, int(fudge))
    data = msg + kname + struct.pack(">HI", 255, 0) + alg + timers + struct.pack(">HH", 0, 0)
    mac = hmac.new(base64.b64decode(secret), data, hashlib.sha256).digest()
    rdata = alg + timers + struct.pack(">H", len(mac)) + mac + struct.pack(">HHH", mid, 0, 0)
    rr = kname + struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
    ar = struct.unpack(">H", msg[10:12])[0] + 1
    print((msg[:10] + struct.pack(">H", ar) + msg[12:] + rr).hex())


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        part = s.recv(n - len(b))
        if not part:
            return b
        b += part
    return b


def tcpseq(args):
    bind = None
    if args[0] == "--bind":
        args.pop(0)
        bind = args.pop(0)
    host, port, zones = args[0], int(args[1]), args[2:]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    if bind:
        s.bind((bind, 0))
    s.connect((host, port))
    out = []
    for z in zones:
        msg = notify_msg(z, 7)
        try:
            s.sendall(struct.pack(">H", len(msg)) + msg)
            ln = recv_exact(s, 2)
            rep = recv_exact(s, struct.unpack(">H", ln)[0]) if len(ln) == 2 else b""
            out.append("rcode=%d" % decode(rep)["rcode"] if len(rep) >= 12 else "none")
        except (socket.timeout, ConnectionError):
            out.append("none")
    try:
        out.append("eof" if s.recv(1) == b"" else "data")
    except socket.timeout:
        out.append("open")
    except ConnectionError:
        out.append("eof")
    print(" ".join(out))


def burst(args):
    bind, host, port, zone, srcs = args[0], args[1], int(args[2]), args[3], args[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    for n, src in enumerate(srcs):
        s.sendto(proxy_header("v2", src, (host, port), False) + notify_msg(zone, 1000 + n),
                 (host, port))
    s.settimeout(2)
    got = 0
    try:
        while got < len(srcs):
            s.recv(65535)
            got += 1
    except socket.timeout:
        pass
    print("answers=%d" % got)


def main():
    cmd = sys.argv[1]
    if cmd == "burst":
        return burst(sys.argv[2:])
    if cmd == "tcpseq":
        return tcpseq(sys.argv[2:])
    if cmd == "send":
        return send(sys.argv[2:])
    if cmd == "resend":
        return resend(sys.argv[2:])
    if cmd == "signed":
        return signed(sys.argv[2:])
    if cmd == "relay":
        relay(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif cmd == "decode":
        d = decode(bytes.fromhex(sys.argv[2]))
        print(" ".join("%s=%s" % kv for kv in d.items()))
    elif cmd == "notify":
        notify(sys.argv[2:])
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
