/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_serve.c -- libFuzzer target for xfrd's DNS endpoint (xfrd/serve*):
 * serve_query() and every message serve_reply_next() makes of the answer, against
 * a real store (LMDB in a temporary directory) holding zones with a journal.
 *
 * The example.com zone has names of every kind an answer below the apex meets
 * (serve_answer.c): CNAME chains and a loop, wildcards (one a CNAME to itself), a zone
 * cut with glue and DS, an empty non-terminal, MX targets in, under a wildcard and
 * below the cut.
 *
 * Input: byte 0 picks UDP or TCP (bit 0), the client's address (bits 1-2: allowed
 * for every zone, allowed for all but narrow.test, outside every allow list, IPv6
 * loopback) and the clock (the rest, see fuzz_now()); the rest is the query.
 * Besides "no crash, no overread", it checks the endpoint's promises: a dropped
 * query is one without a header or a response; every message of an answer is a
 * response with the query's ID, fits its transport (512 bytes over UDP without
 * EDNS, our EDNS size with it, 65535 over TCP), and an answer ends.
 */
#include "xfrd/serve/serve.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/store/zdb.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the keys of tests/fuzz/gen_corpus.py */
static const char yaml[] =
	"keys:\n"
	"  - { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=\" }\n"
	"  - { name: k2, algorithm: hmac-sha1, secret: \"dHdvLXR3by10d28tdHdvLXR3bw==\" }\n"
	"xfrd:\n"
	"  listen: [ \"127.0.0.1@53\" ]\n"
	"  serve: { allow: [ \"127.0.0.0/8\", \"::1\" ] }\n"
	"zones:\n"
	"  - { name: example.com, primaries: [ \"192.0.2.1@53\" ] }\n"
	"  - { name: signed.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.0/8\" ], keys: [ k1 ] } }\n"
	"  - { name: narrow.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.2/32\" ] } }\n"
	"  - { name: empty.test, primaries: [ \"192.0.2.1@53\" ] }\n";

static const char *const example_v1[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 1 3600 600 86400 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN NS ns2.example.net.",
	"example.com. 3600 IN MX 10 mail.example.com.",
	"example.com. 3600 IN TXT \"v=spf1 -all\"",
	"ns1.example.com. 3600 IN A 192.0.2.53",
	"mail.example.com. 3600 IN A 192.0.2.25",
	"mail.example.com. 3600 IN AAAA 2001:db8::25",
	"www.example.com. 300 IN A 198.51.100.1",
	"www.example.com. 300 IN A 198.51.100.2",
	"old.example.com. 300 IN CNAME www.example.com.",
	"_sip._tcp.example.com. 60 IN SRV 1 2 5060 sip.example.com.",
	/* names below the apex (xfrd/serve/serve_answer.c): aliases, a loop, wildcards, a
	   cut with glue and DS, an empty non-terminal (_tcp) */
	"alias.example.com. 300 IN CNAME www.example.com.",
	"alias2.example.com. 300 IN CNAME alias.example.com.",
	"loop1.example.com. 300 IN CNAME loop2.example.com.",
	"loop2.example.com. 300 IN CNAME loop1.example.com.",
	"deleg.example.com. 300 IN CNAME host.sub.example.com.",
	"*.wild.example.com. 300 IN A 192.0.2.99",
	"*.wild.example.com. 300 IN MX 10 mail.example.com.",
	"*.cw.example.com. 300 IN CNAME x.cw.example.com.",
	"sub.example.com. 3600 IN NS ns.sub.example.com.",
	"sub.example.com. 3600 IN NS ns2.example.net.",
	("sub.example.com. 3600 IN DS 12345 8 2 "
	 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
	"ns.sub.example.com. 3600 IN A 192.0.2.54",
	"ns.sub.example.com. 3600 IN AAAA 2001:db8::54",
	"mx.example.com. 300 IN MX 10 mail.example.com.",
	"mx.example.com. 300 IN MX 20 h.wild.example.com.",
	"mx.example.com. 300 IN MX 30 ns.sub.example.com.",
};
static const char *const example_del[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 1 3600 600 86400 300",
	"old.example.com. 300 IN CNAME www.example.com.",
};
static const char *const example_add[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 2 3600 600 86400 300",
	"new.example.com. 300 IN AAAA 2001:db8::1",
};
static const char *const signed_v7[] = {
	"signed.test. 60 IN SOA ns.signed.test. h.signed.test. 7 60 60 600 60",
	"signed.test. 60 IN NS ns.signed.test.",
	"ns.signed.test. 60 IN A 192.0.2.7",
};
static const char *const narrow_v3[] = {
	"narrow.test. 60 IN SOA ns.narrow.test. h.narrow.test. 3 60 60 600 60",
	"narrow.test. 60 IN TXT \"a txt record long enough that a few of them exceed a small "
	"UDP answer, which makes the endpoint truncate\"",
	"narrow.test. 60 IN TXT \"another txt record long enough that a few of them exceed a "
	"small UDP answer, which makes the endpoint truncate\"",
	"narrow.test. 60 IN TXT \"a third txt record long enough that a few of them exceed a "
	"small UDP answer, which makes the endpoint truncate\"",
	"narrow.test. 60 IN TXT \"a fourth txt record long enough that a few of them exceed a "
	"small UDP answer, which makes the endpoint truncate\"",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const clients[] = {"127.0.0.2@5353", "127.0.0.1@5353", "192.0.2.99@5353",
                                      "::1@5353"};

static struct serve *setup(struct sockaddr_storage *src)
{
	struct cfg *cfg = fuzz_cfg(yaml);
	struct zdb *db = fuzz_store_open("serve");
	/* example_v1 and 40 more A records: an AXFR of several 512-byte messages */
	static char more[40][64];
	const char *v1[N(example_v1) + 40];
	memcpy(v1, example_v1, sizeof(example_v1));
	for (size_t i = 0; i < 40; i++) {
		snprintf(more[i], sizeof(more[i]), "host%zu.example.com. 300 IN A 198.51.100.%zu", i, i);
		v1[N(example_v1) + i] = more[i];
	}
	fuzz_zone_load(db, "example.com", v1, N(v1));
	fuzz_zone_ixfr(db, "example.com", example_del, N(example_del), example_add, N(example_add));
	fuzz_zone_load(db, "signed.test", signed_v7, N(signed_v7));
	fuzz_zone_load(db, "narrow.test", narrow_v3, N(narrow_v3));
	uint8_t empty[DNAME_MAXLEN];
	if (dname_from_text("empty.test", empty) <= 0 ||
	    zdb_zone_event(db, empty, ZDB_EV_FAILED, FUZZ_NOW,
	                   &(struct zdb_event_info){.err = ZX_ETIMEDOUT, .primary = "192.0.2.1@53"},
	                   NULL) != 0) {
		abort(); /* in the store without data: SERVFAIL */
	}
	for (size_t i = 0; i < N(clients); i++) {
		socklen_t sl;
		if (acl_endpoint_parse(clients[i], 53, &src[i], &sl) != 0) {
			abort();
		}
	}
	struct serve_opts o;
	serve_opts_init(&o);
	o.cfg = cfg;
	o.db = db;
	o.msg_target = 512; /* several messages even for these small zones */
	struct serve *sv = NULL;
	if (serve_new(&o, &sv) != 0) {
		abort();
	}
	return sv; /* the cfg, the store and the server live until exit */
}

/* The largest message the client may get over @p proto. */
static size_t limit(const uint8_t *q, size_t len, enum serve_proto proto)
{
	if (proto == SERVE_TCP) {
		return SERVE_MSG_MAX;
	}
	size_t lim = 512;
	struct dns_walk w;
	struct dns_rr rr;
	if (dnsmsg_walk_init(&w, q, len) != 0) {
		return lim;
	}
	while (dnsmsg_walk_rr(&w, &rr) == 1) {
		if (rr.section == DNS_SEC_ADDITIONAL && rr.type == DNS_T_OPT) {
			size_t edns = rr.rclass < 512 ? 512 : rr.rclass;
			lim = edns < SERVE_DEFAULT_UDP_SIZE ? edns : SERVE_DEFAULT_UDP_SIZE;
		}
	}
	return lim;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct serve *sv;
	static struct sockaddr_storage src[N(clients)];
	static uint8_t buf[SERVE_MSG_MAX];
	if (sv == NULL) {
		sv = setup(src);
	}
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	enum serve_proto proto = (sel & 1) ? SERVE_TCP : SERVE_UDP;
	uint64_t now = fuzz_now(in.p, in.n, (uint8_t)(sel >> 3));
	struct serve_reply *r = NULL;
	int rc = serve_query(sv, in.p, in.n, (const struct sockaddr *)&src[(sel >> 1) & 3], proto,
	                     now, &r);
	if (rc == ZX_EFORMAT) {
		if (in.n >= 12 && (in.p[2] & 0x80) == 0) {
			abort(); /* a query with a header is answered */
		}
		return 0;
	}
	if (rc != 0 || r == NULL) {
		abort();
	}
	size_t lim = limit(in.p, in.n, proto), len = 0;
	int n = 0;
	for (n = 0; n < 10000; n++) {
		rc = serve_reply_next(r, buf, sizeof(buf), now, &len);
		if (rc != 1) {
			break;
		}
		struct dns_hdr h;
		if (len > lim || dnsmsg_hdr_parse(buf, len, &h) != 0 ||
		    (h.flags & DNS_FLAG_QR) == 0 || h.id != (uint16_t)(in.p[0] << 8 | in.p[1])) {
			abort();
		}
		if (proto == SERVE_UDP && n > 0) {
			abort(); /* one datagram per query */
		}
	}
	if (rc != 0 || n == 0) {
		abort(); /* small zones: ends, without store or size errors */
	}
	serve_reply_free(r);
	return 0;
}
