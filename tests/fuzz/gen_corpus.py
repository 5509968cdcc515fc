#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/fuzz/gen_corpus.py -- the generated seeds of tests/fuzz/corpus/<target>/.
#
#   python3 tests/fuzz/gen_corpus.py            (re)write every generated seed
#
# Seeds are small, valid (or deliberately just-wrong) inputs that reach each
# target's interesting paths, so a short campaign starts deep. Signed messages
# are signed here as RFC 8945 says (HMAC over the message and the TSIG
# variables, request MAC first in answers) with the keys the targets load, at
# the time FUZZ_NOW; the targets judge a signed input at its own time signed, so
# these MACs verify. Files of other names in the corpus directories (crashes
# fixed, inputs a campaign found, real configs) are left alone.
import hashlib
import hmac
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NOW = 1764140000  # FUZZ_NOW in fuzz_util.h
KEYS = {  # name: (algorithm, secret), as in fuzz_notify.c, fuzz_tsig.c, fuzz_serve.c
    "k1": ("hmac-sha256", "c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU="),
    "k2": ("hmac-sha1", "dHdvLXR3by10d28tdHdvLXR3bw=="),
    "k5": ("hmac-md5", "Zml2ZS1maXZlLWZpdmU="),
    "k224": ("hmac-sha224", "c2hhMjI0LXNoYTIyNC1zaGEyMjQ="),
    "k384": ("hmac-sha384", "c2hhMzg0LXNoYTM4NC1zaGEzODQtc2hhMzg0"),
    "k512": ("hmac-sha512", "c2hhNTEyLXNoYTUxMi1zaGE1MTItc2hhNTEyLXNoYTUxMg=="),
}
ALG_NAME = {"hmac-md5": "hmac-md5.sig-alg.reg.int", "hmac-sha1": "hmac-sha1",
            "hmac-sha224": "hmac-sha224", "hmac-sha256": "hmac-sha256",
            "hmac-sha384": "hmac-sha384", "hmac-sha512": "hmac-sha512"}
ALG_HASH = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1, "hmac-sha224": hashlib.sha224,
            "hmac-sha256": hashlib.sha256, "hmac-sha384": hashlib.sha384,
            "hmac-sha512": hashlib.sha512}
T = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "OPT": 41,
     "TSIG": 250, "IXFR": 251, "AXFR": 252, "ANY": 255}


# ---- DNS wire ---------------------------------------------------------------

def name(n):
    out = b""
    for label in n.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid, flags, qd, an, ns, ar):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def rr(owner, rtype, rdata, ttl=3600, rclass=1):
    own = owner if isinstance(owner, bytes) else name(owner)
    return own + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def soa_rdata(zone, serial):
    return name("ns1." + zone) + name("host." + zone) + struct.pack("!IIIII", serial, 3600, 600, 86400, 300)


def soa(zone, serial, owner=None):
    return rr(owner if owner is not None else zone, T["SOA"], soa_rdata(zone, serial))


def a(owner, ip, ttl=300):
    return rr(owner, T["A"], bytes(ip), ttl)


def txt(owner, text, ttl=300):
    b = text.encode()
    return rr(owner, T["TXT"], bytes([len(b)]) + b, ttl)


def opt(size=1232, version=0):
    return b"\0" + struct.pack("!HHBBHH", T["OPT"], size, 0, version, 0, 0)


def message(qid, flags, question=None, an=(), ns=(), ar=()):
    q = b"" if question is None else name(question[0]) + struct.pack("!HH", question[1], 1)
    return (header(qid, flags, 0 if question is None else 1, len(an), len(ns), len(ar)) + q +
            b"".join(an) + b"".join(ns) + b"".join(ar))


def frame(*msgs):
    return b"".join(struct.pack("!H", len(m)) + m for m in msgs)


# ---- TSIG (RFC 8945) ----------------------------------------------------------

def tsig_vars(key, t, fudge, error=0, other=b""):
    alg = KEYS[key][0]
    return (name(key.lower()) + struct.pack("!HI", 255, 0) + name(ALG_NAME[alg]) +
            struct.pack("!HIHHH", t >> 32, t & 0xffffffff, fudge, error, len(other)) + other)


def mac(key, data):
    alg, secret = KEYS[key]
    import base64
    return hmac.new(base64.b64decode(secret), data, ALG_HASH[alg]).digest()


def tsig_rr(key, t, fudge, m, orig_id, error=0, other=b""):
    alg = KEYS[key][0]
    rdata = (name(ALG_NAME[alg]) + struct.pack("!HIH", t >> 32, t & 0xffffffff, fudge) +
             struct.pack("!H", len(m)) + m + struct.pack("!HHH", orig_id, error, len(other)) + other)
    return rr(key, T["TSIG"], rdata, ttl=0, rclass=255)


def add_ar(msg, r):
    arcount = struct.unpack("!H", msg[10:12])[0]
    return msg[:10] + struct.pack("!H", arcount + 1) + msg[12:] + r


def sign(msg, key, t=NOW, fudge=300, prior=None, timers_only=False, trunc=None):
    """Sign msg; prior is the MAC that comes first (request MAC or previous answer MAC)."""
    data = b""
    if prior is not None:
        data += struct.pack("!H", len(prior)) + prior
    data += msg
    data += struct.pack("!HIH", t >> 32, t & 0xffffffff, fudge) if timers_only else tsig_vars(key, t, fudge)
    m = mac(key, data)
    if trunc is not None:
        m = m[:trunc]
    orig_id = struct.unpack("!H", msg[:2])[0]
    return add_ar(msg, tsig_rr(key, t, fudge, m, orig_id)), m


# ---- writing ------------------------------------------------------------------

written = 0


def put(target, fname, data):
    global written
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)
    written += 1


def notify(zone, serial=None, qid=0x1234, opcode=4, flags=0x0400, qtype=None, extra_q=False):
    an = [soa(zone, serial)] if serial is not None else []
    m = message(qid, (opcode << 11) | flags, (zone, qtype or T["SOA"]), an)
    if extra_q:
        m = m[:4] + b"\0\x02" + m[6:] + name(zone) + struct.pack("!HH", T["SOA"], 1)
    return m


def gen_notify():
    # byte 0: bits 0-1 source (0 192.0.2.53 ok, 1 198.51.100.7 not in notify-from,
    # 2 2001:db8::5 ok, 3 ::1 not), bits 2.. the clock (see fuzz_now(): 0 exact, 5 late)
    s = lambda src, clock=0: bytes([src | clock << 2])
    put("notify", "open_unsigned", s(0) + notify("open.test", 7))
    put("notify", "open_no_serial", s(0) + notify("open.test"))
    put("notify", "open_from_outside", s(1) + notify("open.test", 7))
    put("notify", "open_v6", s(2) + notify("open.test", 8))
    put("notify", "signed_k1", s(0) + sign(notify("example.com", 2026112601), "k1")[0])
    put("notify", "signed_k1_late", s(0, 5) + sign(notify("example.com", 2026112601), "k1")[0])
    put("notify", "signed_k1_early", s(0, 6) + sign(notify("example.com", 5), "k1")[0])
    put("notify", "signed_wrong_key", s(0) + sign(notify("example.com", 3), "k2")[0])
    put("notify", "unsigned_needs_key", s(0) + notify("example.com", 3))
    put("notify", "two_k2", s(2) + sign(notify("two.test", 9), "k2")[0])
    put("notify", "md5", s(0) + sign(notify("md5.test", 1), "k5")[0])
    m, _ = sign(notify("example.com", 4), "k1")
    put("notify", "badsig", s(0) + m[:-12] + bytes([m[-12] ^ 1]) + m[-11:])
    put("notify", "badtrunc", s(0) + sign(notify("example.com", 4), "k1", trunc=16)[0])
    put("notify", "badkey", s(0) + sign(notify("example.com", 4), "k224")[0])
    put("notify", "unknown_zone_signed", s(0) + sign(notify("nope.test", 4), "k1")[0])
    put("notify", "unknown_zone", s(0) + notify("nope.test", 4))
    put("notify", "query_opcode", s(0) + notify("open.test", 7, opcode=0))
    put("notify", "response", s(0) + notify("open.test", 7, flags=0x8400))
    put("notify", "two_questions", s(0) + notify("open.test", 7, extra_q=True))
    put("notify", "qtype_a", s(0) + notify("open.test", 7, qtype=T["A"]))
    put("notify", "with_opt", s(0) + add_ar(notify("open.test", 7), opt()))
    put("notify", "short", s(0) + b"\x12\x34\x20")
    put("notify", "header_only", s(0) + header(1, 4 << 11, 0, 0, 0, 0))


def query(zone, qtype, qid=0x4242, ixfr=None, edns=None, opcode=0, qd2=False):
    ns = [soa(zone, ixfr)] if ixfr is not None else []
    ar = [opt(*edns)] if edns is not None else []
    m = message(qid, opcode << 11, (zone, qtype), ns=ns, ar=ar)
    if qd2:
        m = m[:4] + b"\0\x02" + m[6:]
    return m


def gen_serve():
    # byte 0: bit 0 TCP, bits 1-2 client (0 127.0.0.2, 1 127.0.0.1, 2 192.0.2.99 not
    # allowed, 3 ::1), bits 3.. the clock
    s = lambda tcp, client=1, clock=0: bytes([tcp | client << 1 | clock << 3])
    put("serve", "soa_udp", s(0) + query("example.com", T["SOA"]))
    put("serve", "soa_tcp", s(1) + query("example.com", T["SOA"]))
    put("serve", "soa_v6", s(0, 3) + query("example.com", T["SOA"]))
    put("serve", "ns_edns", s(0) + query("example.com", T["NS"], edns=(4096, 0)))
    put("serve", "any_udp", s(0) + query("example.com", T["ANY"]))
    put("serve", "mx_tcp", s(1) + query("example.com", T["MX"]))
    put("serve", "aaaa_nodata", s(0) + query("example.com", T["AAAA"]))
    put("serve", "below_apex", s(0) + query("www.example.com", T["A"]))
    # names below the apex (xfrd/serve/serve_answer.c), one seed per kind of answer
    DS, SRV = 43, 33
    put("serve", "name_nodata", s(0) + query("www.example.com", T["AAAA"]))
    put("serve", "name_nxdomain", s(0) + query("nope.example.com", T["A"]))
    put("serve", "name_ent", s(0) + query("_tcp.example.com", SRV))
    put("serve", "name_srv", s(0) + query("_sip._tcp.example.com", SRV, edns=(1232, 0)))
    put("serve", "name_cname_chain", s(0) + query("alias2.example.com", T["A"]))
    put("serve", "name_cname_loop", s(0) + query("loop1.example.com", T["A"]))
    put("serve", "name_cname_any", s(0) + query("alias.example.com", T["ANY"]))
    put("serve", "name_cname_to_cut", s(0) + query("deleg.example.com", T["A"]))
    put("serve", "name_wildcard", s(0) + query("x.wild.example.com", T["A"]))
    put("serve", "name_wildcard_mx", s(0) + query("y.x.wild.example.com", T["MX"]))
    put("serve", "name_wildcard_nodata", s(0) + query("x.wild.example.com", T["TXT"]))
    put("serve", "name_wildcard_cname_loop", s(0) + query("q.cw.example.com", T["A"]))
    put("serve", "name_referral", s(1) + query("host.sub.example.com", T["A"]))
    put("serve", "name_referral_glue", s(0) + query("ns.sub.example.com", T["AAAA"]))
    put("serve", "name_ds_at_cut", s(0) + query("sub.example.com", DS))
    put("serve", "name_ds_below_cut", s(0) + query("x.sub.example.com", DS))
    put("serve", "name_mx_additional", s(0) + query("mx.example.com", T["MX"], edns=(4096, 0)))
    put("serve", "name_soa_below", s(0) + query("mail.example.com", T["SOA"]))
    put("serve", "name_case", s(0) + query("WwW.ExAmPlE.cOm", T["A"]))
    put("serve", "axfr", s(1) + query("example.com", T["AXFR"]))
    put("serve", "axfr_udp", s(0) + query("example.com", T["AXFR"]))
    put("serve", "ixfr_from_1", s(1) + query("example.com", T["IXFR"], ixfr=1))
    put("serve", "ixfr_uptodate", s(1) + query("example.com", T["IXFR"], ixfr=2))
    put("serve", "ixfr_too_old", s(1) + query("example.com", T["IXFR"], ixfr=0))
    put("serve", "ixfr_udp", s(0) + query("example.com", T["IXFR"], ixfr=1))
    put("serve", "axfr_signed_k1", s(1) + sign(query("signed.test", T["AXFR"]), "k1")[0])
    put("serve", "ixfr_signed_k1", s(1) + sign(query("signed.test", T["IXFR"], ixfr=6), "k1")[0])
    put("serve", "soa_signed_k1_late", s(0, 1, 5) + sign(query("signed.test", T["SOA"]), "k1")[0])
    put("serve", "axfr_signed_k2", s(1) + sign(query("signed.test", T["AXFR"]), "k2")[0])
    put("serve", "axfr_unsigned_needs_key", s(1) + query("signed.test", T["AXFR"]))
    put("serve", "axfr_badkey", s(1) + sign(query("example.com", T["AXFR"]), "k512")[0])
    put("serve", "narrow_allowed", s(0, 0) + query("narrow.test", T["TXT"]))
    put("serve", "narrow_refused", s(0, 1) + query("narrow.test", T["TXT"]))
    put("serve", "narrow_big_edns", s(0, 0) + query("narrow.test", T["TXT"], edns=(4096, 0)))
    put("serve", "badvers", s(0) + query("example.com", T["SOA"], edns=(1232, 1)))
    put("serve", "outside_acl", s(1, 2) + query("example.com", T["AXFR"]))
    put("serve", "unknown_zone", s(0) + query("nope.test", T["SOA"]))
    put("serve", "servfail_empty", s(0) + query("empty.test", T["SOA"]))
    put("serve", "notify_opcode", s(0) + query("example.com", T["SOA"], opcode=4))
    put("serve", "two_questions", s(0) + query("example.com", T["SOA"], qd2=True))
    put("serve", "response", s(0) + b"\x42\x42\x80\x00" + query("example.com", T["SOA"])[4:])


def gen_tsig():
    # byte 0: bit 0 side (0 server, 1 client), bits 1.. the clock
    for k in KEYS:
        put("tsig", "server_" + k, b"\0" + sign(query("example.com", T["AXFR"]), k)[0])
    put("tsig", "server_late", bytes([5 << 1]) + sign(query("example.com", T["SOA"]), "k1")[0])
    put("tsig", "server_trunc", b"\0" + sign(query("example.com", T["SOA"]), "k512", trunc=32)[0])
    put("tsig", "server_notify", b"\0" + sign(notify("example.com", 9), "k2")[0])
    put("tsig", "server_unsigned", b"\0" + query("example.com", T["SOA"]))
    # client: the target signs AXFR example.com (ID 0x4242) with k1 at NOW, fudge 300
    req, req_mac = sign(query("example.com", T["AXFR"]), "k1")
    z = "example.com"
    m1 = message(0x4242, 0x8400, (z, T["AXFR"]), [soa(z, 5), a("www." + z, [192, 0, 2, 1])])
    m2 = message(0x4242, 0x8400, None, [a("mail." + z, [192, 0, 2, 2])])
    m3 = message(0x4242, 0x8400, None, [soa(z, 5)])
    s1, mac1 = sign(m1, "k1", prior=req_mac)
    s3, _ = sign(m3, "k1", prior=mac1, timers_only=True)
    # the third message is signed over MAC 1, the unsigned message 2 and itself
    data = struct.pack("!H", len(mac1)) + mac1 + m2 + m3 + struct.pack("!HIH", 0, NOW, 300)
    s3b = add_ar(m3, tsig_rr("k1", NOW, 300, mac("k1", data), 0x4242))
    put("tsig", "client_one", b"\1" + frame(sign(message(0x4242, 0x8400, (z, T["AXFR"]),
                                                         [soa(z, 5), soa(z, 5)]), "k1", prior=req_mac)[0]))
    put("tsig", "client_two_signed", b"\1" + frame(s1, sign(m2, "k1", prior=mac1, timers_only=True)[0]))
    put("tsig", "client_unsigned_middle", b"\1" + frame(s1, m2, s3b))
    put("tsig", "client_unsigned_last", b"\1" + frame(s1, m2))
    put("tsig", "client_first_unsigned", b"\1" + frame(m1, s3))
    put("tsig", "client_late", bytes([1 | 0x40 << 1]) + frame(s1))
    assert req  # the request itself is rebuilt by the target


ZONE = "example.com"


def ixfr_answer(qtype, rrs, qid=0x4242, split=None):
    """An answer as fuzz_ixfr/fuzz_xfr read it: kind byte, ID, framed messages."""
    kind = b"\1" if qtype == T["IXFR"] else b"\0"
    parts = [rrs] if split is None else [rrs[:split], rrs[split:]]
    msgs = [message(qid, 0x8400, (ZONE, qtype) if i == 0 else None, p) for i, p in enumerate(parts)]
    return kind + struct.pack("!H", qid) + frame(*msgs)


def full_zone(serial, extra=()):
    z = ZONE
    return [soa(z, serial), rr(z, T["NS"], name("ns1." + z)), rr(z, T["NS"], name("ns2.example.net")),
            rr(z, T["MX"], b"\0\x0a" + name("mail." + z)), a("ns1." + z, [192, 0, 2, 53]),
            a("mail." + z, [192, 0, 2, 25]), a("www." + z, [192, 0, 2, 1]),
            a("www." + z, [192, 0, 2, 3]), a("a." + z, [1, 2, 3, 4]), txt("old." + z, "to be deleted"),
            rr("sub." + z, T["NS"], name("ns.sub." + z)), a("ns.sub." + z, [192, 0, 2, 99])] + list(extra)


def gen_ixfr():
    # the store holds example.com at 10 (fuzz_ixfr.c); IXFR asks from 10
    z = ZONE
    I, X = T["IXFR"], T["AXFR"]
    put("ixfr", "ixfr_one", ixfr_answer(I, [soa(z, 11), soa(z, 10), a("a." + z, [1, 2, 3, 4]),
                                            soa(z, 11), a("b." + z, [5, 6, 7, 8]), soa(z, 11)]))
    put("ixfr", "ixfr_two", ixfr_answer(I, [soa(z, 12), soa(z, 10), txt("old." + z, "to be deleted"),
                                            soa(z, 11), txt("new." + z, "added at 11"), soa(z, 11),
                                            a("www." + z, [192, 0, 2, 1]), soa(z, 12), soa(z, 12)], split=5))
    put("ixfr", "ixfr_del_missing", ixfr_answer(I, [soa(z, 11), soa(z, 10), a("zz." + z, [9, 9, 9, 9]),
                                                    soa(z, 11), soa(z, 11)]))
    put("ixfr", "ixfr_add_present", ixfr_answer(I, [soa(z, 11), soa(z, 10), soa(z, 11),
                                                    a("a." + z, [1, 2, 3, 4]), soa(z, 11)]))
    put("ixfr", "ixfr_wrong_start", ixfr_answer(I, [soa(z, 11), soa(z, 9), soa(z, 11), soa(z, 11)]))
    put("ixfr", "ixfr_uptodate", ixfr_answer(I, [soa(z, 10)]))
    put("ixfr", "ixfr_soa_changes", ixfr_answer(I, [soa(z, 11), soa(z, 10),
                                                    rr(z, T["MX"], b"\0\x0a" + name("mail." + z)), soa(z, 11),
                                                    rr(z, T["MX"], b"\0\x14" + name("mx2." + z)), soa(z, 11)]))
    put("ixfr", "ixfr_axfr_style", ixfr_answer(I, full_zone(12, [txt("x." + z, "new")]) + [soa(z, 12)]))
    put("ixfr", "axfr_two_msgs", ixfr_answer(X, full_zone(13) + [soa(z, 13)], split=6))
    put("ixfr", "axfr_outside", ixfr_answer(X, [soa(z, 14), a("www.example.net", [1, 1, 1, 1]), soa(z, 14)]))
    put("ixfr", "axfr_older", ixfr_answer(X, full_zone(5) + [soa(z, 5)]))
    put("ixfr", "axfr_bad_a", ixfr_answer(X, [soa(z, 15), rr("bad." + z, T["A"], b"\1\2\3"), soa(z, 15)]))
    put("ixfr", "ixfr_notimp", b"\1\x42\x42" + frame(message(0x4242, 0x8404, (z, I))))


def gen_xfr():
    # byte 0: 0 AXFR, 1 IXFR from serial 2; ID 0x4242 (fuzz_xfr.c)
    z = ZONE
    h = lambda q: b"\1\x42\x42" if q else b"\0\x42\x42"
    x = lambda qt, rrs, rcode=0, q=True: frame(message(0x4242, 0x8400 | rcode, (z, qt) if q else None, rrs))
    s = lambda n: rr(b"\xc0\x0c", T["SOA"], b"\x02ns\xc0\x0c" + b"\x0ahostmaster\xc0\x0c" +
                     struct.pack("!IIIII", n, 3600, 600, 86400, 300))
    put("xfr", "axfr_one.bin", h(0) + x(252, [s(5), a("www." + z, [192, 0, 2, 1], 3600),
                                               rr(b"\xc0\x0c", 2, b"\x02ns\xc0\x0c"), s(5)]))
    put("xfr", "axfr_three.bin", h(0) + x(252, [s(5), a("a." + z, [1, 2, 3, 4], 3600)]) +
        x(252, [a("b." + z, [1, 2, 3, 5], 3600)], q=False) + x(252, [s(5)], q=False))
    put("xfr", "ixfr_two_sets.bin", h(1) + x(251, [s(4), s(2), a("a." + z, [1, 1, 1, 1], 3600), s(3),
                                                    a("a." + z, [2, 2, 2, 2], 3600), s(3), s(4),
                                                    a("b." + z, [3, 3, 3, 3], 3600), s(4)]))
    put("xfr", "ixfr_uptodate.bin", h(1) + x(251, [s(2)]))
    put("xfr", "ixfr_axfr_style.bin", h(1) + x(251, [s(3), a("x." + z, [9, 9, 9, 9], 3600), s(3)]))
    put("xfr", "ixfr_notimp.bin", h(1) + x(251, [], rcode=4))
    put("xfr", "axfr_mid_soa.bin", h(0) + x(252, [s(5), s(5), a("z." + z, [1, 1, 1, 1], 3600)]))


def pb_varint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb(fields):
    out = b""
    for num, val in fields:
        if isinstance(val, (bytes, str)):
            b = val.encode() if isinstance(val, str) else val
            out += pb_varint(num << 3 | 2) + pb_varint(len(b)) + b
        else:
            out += pb_varint(num << 3) + pb_varint(val)
    return out


def gen_events():
    # byte 0: bit 0 clear TransferRequest, set ZoneUpdated (proto/events.proto)
    put("events", "request_notify", b"\0" + pb([(1, 1), (2, "example.com."), (3, 1), (4, 1), (5, 2026112601),
                                                (6, 1764140000123456), (7, "192.0.2.1"), (8, 5353), (9, 2),
                                                (10, 1), (11, "10.0.0.1"), (12, "k1."), (13, "notifyd-1"),
                                                (14, 4660)]))
    put("events", "request_refresh", b"\0" + pb([(1, 1), (2, "example.com."), (3, 2)]))
    put("events", "request_retransfer", b"\0" + pb([(1, 1), (2, "zone.test."), (3, 4), (3, 99)]))
    put("events", "request_no_zone", b"\0" + pb([(1, 1), (3, 1)]))
    put("events", "update_committed", b"\1" + pb([(1, 1), (2, "example.com."), (3, 1), (4, 1), (5, 1), (6, 2),
                                                  (7, 2), (8, 1001006), (9, 3), (10, "192.0.2.1@53"),
                                                  (11, "xfrd-0"), (12, 1764140000123456), (13, 250), (15, 1)]))
    put("events", "update_failed", b"\1" + pb([(1, 1), (2, "example.com."), (3, 2), (6, 2), (7, 3),
                                               (14, "transfer: timed out"), (15, 3)]))
    put("events", "update_unknown_field", b"\1" + pb([(2, "a."), (99, 7), (100, "junk")]))


def gen_xot():
    # byte 0: seed of the TLS record sizes, byte 1 bit 0: close_notify at the end;
    # the rest: the DNS-over-TCP stream the primary sends inside TLS (fuzz_xot.c)
    z = ZONE
    x = lambda qt, rrs, q=True: frame(message(0x4242, 0x8400, (z, qt) if q else None, rrs))
    s = lambda n: rr(b"\xc0\x0c", T["SOA"], b"\x02ns\xc0\x0c" + b"\x0ahostmaster\xc0\x0c" +
                     struct.pack("!IIIII", n, 3600, 600, 86400, 300))
    axfr = x(252, [s(5), a("www." + z, [192, 0, 2, 1], 3600)]) + \
        x(252, [txt("t%d." % i + z, "x" * 200) for i in range(200)], q=False) + x(252, [s(5)], q=False)
    put("xot", "axfr_notify", b"\x07\x01" + axfr)
    put("xot", "axfr_bare_close", b"\x33\x00" + axfr)
    put("xot", "axfr_small_records", b"\x00\x01" + axfr)
    put("xot", "zero_length_frame", b"\x05\x01" + x(252, [s(5)]) + b"\x00\x00" + x(252, [s(5)], q=False))
    put("xot", "cut_in_frame", b"\x09\x01" + axfr[:-7])
    put("xot", "one_byte_left", b"\x11\x01" + x(252, [s(5)]) + b"\x01")
    put("xot", "big_message", b"\x21\x01" + frame(message(0x4242, 0x8400, (z, 252),
        [s(5)] + [txt("b%d." % i + z, "y" * 250) for i in range(230)])))
    put("xot", "empty_stream", b"\x01\x01")


def gen_cfg():
    # byte 0: bit 0 clear YAML config, set a key file
    for rel in ["docker/zx.example.yaml", "docker/local.yaml"]:
        with open(os.path.join(ROOT, rel), "rb") as f:
            put("cfg", "yaml_" + os.path.basename(rel).replace(".", "_"), b"\0" + f.read())
    cfgdir = os.path.join(ROOT, "tests/unit/common/cfg/cfg")
    for fn in sorted(os.listdir(cfgdir)):
        if fn.startswith("key_file"):
            continue  # they name files relative to their directory
        with open(os.path.join(cfgdir, fn), "rb") as f:
            kind = b"\1" if fn.endswith(".conf") else b"\0"
            put("cfg", ("keys_" if kind == b"\1" else "yaml_") + fn.replace(".", "_"), kind + f.read())
    put("cfg", "yaml_flow_everything", b"\0" + b"""kafka: { brokers: "127.0.0.1:9092", requests-topic: r, updates-topic: u,
  settings: { "socket.timeout.ms": "1000" } }
keys: [ { name: k1, algorithm: hmac-sha256, secret: "c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=" } ]
proxy: { trusted: [ "10.0.0.0/8", "2001:db8::/32" ] }
notifyd: { listen: [ "0.0.0.0@53", "[::]@53" ], http: "127.0.0.1:9153",
           rate-limit: { per-source: 200, per-zone: 20 } }
xfrd: { store: /tmp/x.lmdb, listen: [ "127.0.0.1@5354" ], http: "127.0.0.1:9154",
        transfers: { max: 64, per-primary: 8 }, refresh: { min: 60, max: 86400 } }
zone-defaults: { notify-from: [ "192.0.2.0/24" ] }
zones:
  - { name: example.com, primaries: [ "192.0.2.1@53", "[2001:db8::1]@5353" ], key: k1,
      notify: [ "192.0.2.9" ], notify-key: k1, serve: { allow: [ "127.0.0.1" ], keys: [ k1 ] } }
  - { name: Other.TEST., primaries: [ "192.0.2.2" ] }
""")
    put("cfg", "yaml_xot", b"\0" + b"""xfrd:
  serve: { require-tls: client-cert, tls: { listen: [ "127.0.0.1@853" ], cert-file: /etc/hostname,
           key-file: /etc/hostname, ca-file: /etc/hostname } }
zones:
  - name: example.com
    serve: { require-tls: yes }
    primaries:
      - { address: 192.0.2.1, tls: { mode: strict, ca-file: /etc/hostname, auth-name: p.example } }
      - { address: "192.0.2.2@8853", tls: { mode: pin, pin-sha256: [ "xjk0L+n5OMLngl/AvRilRkF/4FffYC6SodDMdtgkuEI=" ] } }
      - { address: 192.0.2.3, tls: { mode: opportunistic, cert-file: /etc/hostname, key-file: /etc/hostname } }
""")
    put("cfg", "keys_bind", b"\1" + b"""# tsig-keygen
key "k1" {
\talgorithm hmac-sha256;
\tsecret "c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=";
};
/* two */ key k2 { algorithm hmac-sha1; secret "dHdvLXR3by10d28tdHdvLXR3bw=="; }; // end
""")
    put("cfg", "keys_knot", b"\1" + b"""key:
  - id: k1
    algorithm: hmac-sha256
    secret: c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=
  - id: k5   # md5
    algorithm: hmac-md5
    secret: Zml2ZS1maXZlLWZpdmU=
""")


if __name__ == "__main__":
    gen_notify()
    gen_serve()
    gen_tsig()
    gen_xfr()
    gen_ixfr()
    gen_events()
    gen_cfg()
    gen_xot()
    print("gen_corpus: wrote %d seeds" % written)
