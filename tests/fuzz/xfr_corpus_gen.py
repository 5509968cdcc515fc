#!/usr/bin/env python3
# Seeds for fuzz_xfr: byte 0 = query kind (0 AXFR, 1 IXFR from serial 2), ID 0x4242,
# then length-prefixed messages for example.com. Run: python3 gen.py (writes *.bin here).
import os, struct

def name(n):
    out = b""
    for l in n.rstrip(".").split("."):
        out += bytes([len(l)]) + l.encode()
    return out + b"\0"

ZONE = "example.com."

def rr(owner, t, rdata, ttl=3600):
    return (owner if isinstance(owner, bytes) else name(owner)) + struct.pack("!HHIH", t, 1, ttl, len(rdata)) + rdata

def soa(serial):
    return rr(b"\xc0\x0c", 6, b"\x02ns\xc0\x0c" + b"\x0ahostmaster\xc0\x0c" + struct.pack("!IIIII", serial, 3600, 600, 86400, 300))

def a(label, ip):
    return rr(name(label + "." + ZONE), 1, bytes(ip))

def msg(qtype, rrs, rcode=0, q=True):
    h = struct.pack("!HHHHHH", 0x4242, 0x8400 | rcode, 1 if q else 0, len(rrs), 0, 0)
    body = (name(ZONE) + struct.pack("!HH", qtype, 1)) if q else b""
    m = h + body + b"".join(rrs)
    return struct.pack("!H", len(m)) + m

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "xfr")
seeds = {
    "axfr_one": b"\0\x42\x42" + msg(252, [soa(5), a("www", [192, 0, 2, 1]), rr(b"\xc0\x0c", 2, b"\x02ns\xc0\x0c"), soa(5)]),
    "axfr_three": b"\0\x42\x42" + msg(252, [soa(5), a("a", [1, 2, 3, 4])]) + msg(252, [a("b", [1, 2, 3, 5])], q=False) + msg(252, [soa(5)], q=False),
    "ixfr_two_sets": b"\1\x42\x42" + msg(251, [soa(4), soa(2), a("a", [1, 1, 1, 1]), soa(3), a("a", [2, 2, 2, 2]), soa(3), soa(4), a("b", [3, 3, 3, 3]), soa(4)]),
    "ixfr_uptodate": b"\1\x42\x42" + msg(251, [soa(2)]),
    "ixfr_axfr_style": b"\1\x42\x42" + msg(251, [soa(3), a("x", [9, 9, 9, 9]), soa(3)]),
    "ixfr_notimp": b"\1\x42\x42" + msg(251, [], rcode=4),
    "axfr_mid_soa": b"\0\x42\x42" + msg(252, [soa(5), soa(5), a("z", [1, 1, 1, 1])]),
}
for k, v in seeds.items():
    with open(os.path.join(here, k + ".bin"), "wb") as f:
        f.write(v)
