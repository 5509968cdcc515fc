/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/serve/test_serve.c -- xfrd's DNS endpoint through its pure answering
 * functions: a temporary store filled through the zdb write API, queries built
 * here (signed with common/tsig when a case needs it), answers walked with
 * common/dnsmsg and parsed with ldns, TSIG checked as a client would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/metrics.h"
#include "common/tsig/tsig.h"
#include "common/store/zdb.h"
#include "xfrd/serve/serve.h"

#include <event2/event.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1700000000u
#define K1 "pRP5FapFoJ95JEL06sv4PQ=="
#define K2 "Zm9vYmFyYmF6cXV1eHF1dXgxMjM0NTY3OA=="

static const char *const cfg_text =
	"keys:\n"
	"  - { name: k1, algorithm: hmac-sha256, secret: \"" K1 "\" }\n"
	"  - { name: k2, algorithm: hmac-sha256, secret: \"" K2 "\" }\n"
	"xfrd:\n"
	"  listen: [ \"127.0.0.1@24471\", \"[::1]:24471\" ]\n"
	"  serve: { allow: [ \"127.0.0.0/8\", \"::1\" ] }\n"
	"zones:\n"
	"  - { name: example.com, primaries: [ \"192.0.2.1@53\" ] }\n"
	"  - { name: signed.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.0/8\" ], keys: [ k1 ] } }\n"
	"  - { name: narrow.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.2/32\" ] } }\n"
	"  - { name: tls.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.0/8\" ], require-tls: yes } }\n"
	"  - { name: mtls.test, primaries: [ \"192.0.2.1@53\" ],\n"
	"      serve: { allow: [ \"127.0.0.0/8\" ], require-tls: client-cert } }\n";

struct fx {
	char dir[64];
	struct zdb *db;
	struct cfg *cfg;
	struct metrics *mx;
	struct serve *sv;
	struct tsig_keyring *bad; /* keys the server does not know, or with other secrets */
};

/* ------------------------------------------------------------ store */

static void put_text(void *x, bool ixfr_del, bool axfr, const char *text)
{
	ldns_rr *rr = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	uint8_t *wire = NULL;
	size_t wlen = 0;
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &wlen), LDNS_STATUS_OK);
	int on = dname_wire_len(wire, wlen);
	assert_true(on > 0);
	const uint8_t *p = wire + on;
	struct zdb_rr z = {.owner = wire, .owner_len = (size_t)on,
	                   .type = (uint16_t)(p[0] << 8 | p[1]), .rclass = (uint16_t)(p[2] << 8 | p[3]),
	                   .ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7],
	                   .rdlen = (uint16_t)(p[8] << 8 | p[9]), .rdata = p + 10};
	if (axfr) {
		assert_int_equal(zdb_axfr_add(x, &z), 0);
	} else if (ixfr_del) {
		assert_int_equal(zdb_ixfr_del(x, &z), 0);
	} else {
		assert_int_equal(zdb_ixfr_add(x, &z), 0);
	}
	free(wire);
	ldns_rr_free(rr);
}

static void wname(const char *text, uint8_t *wire)
{
	assert_true(dname_from_text(text, wire) > 0);
}

/* example.com: SOA serial 1, 2 NS, 120 A records www0..www119, glue. */
static void load_example(struct zdb *db, int n)
{
	uint8_t z[DNAME_MAXLEN];
	struct zdb_axfr *a = NULL;
	char line[256];
	wname("example.com", z);
	assert_int_equal(zdb_axfr_begin(db, z, &a), 0);
	zdb_axfr_set_rule(a, ZDB_SERIAL_SAME); /* loaded again at serial 1: a retransfer */
	put_text(a, false, true, "example.com. 3600 IN SOA ns1.example.com. host.example.com. "
	                         "1 3600 600 86400 300");
	put_text(a, false, true, "example.com. 3600 IN NS ns1.example.com.");
	put_text(a, false, true, "example.com. 3600 IN NS ns2.example.net.");
	put_text(a, false, true, "ns1.example.com. 3600 IN A 192.0.2.53");
	for (int i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "www%d.example.com. 300 IN A 198.51.100.%d", i, i % 250);
		put_text(a, false, true, line);
	}
	assert_int_equal(zdb_axfr_commit(a, NOW, "192.0.2.1@53", NULL), 0);
}

/* Serial 1 -> 2: www0 deleted, new.example.com added. */
static void ixfr_example(struct zdb *db)
{
	uint8_t z[DNAME_MAXLEN];
	struct zdb_ixfr *x = NULL;
	wname("example.com", z);
	assert_int_equal(zdb_ixfr_begin(db, z, &x), 0);
	put_text(x, true, false, "example.com. 3600 IN SOA ns1.example.com. host.example.com. "
	                         "1 3600 600 86400 300");
	put_text(x, true, false, "www0.example.com. 300 IN A 198.51.100.0");
	put_text(x, false, false, "example.com. 3600 IN SOA ns1.example.com. host.example.com. "
	                          "2 3600 600 86400 300");
	put_text(x, false, false, "new.example.com. 300 IN AAAA 2001:db8::1");
	assert_int_equal(zdb_ixfr_commit(x, NOW, NULL, NULL), 0);
}

static void load_small(struct zdb *db, const char *zone, int ntxt)
{
	uint8_t z[DNAME_MAXLEN];
	struct zdb_axfr *a = NULL;
	char line[300];
	wname(zone, z);
	assert_int_equal(zdb_axfr_begin(db, z, &a), 0);
	snprintf(line, sizeof(line), "%s. 60 IN SOA ns.%s. h.%s. 7 60 60 600 60", zone, zone, zone);
	put_text(a, false, true, line);
	for (int i = 0; i < ntxt; i++) {
		snprintf(line, sizeof(line), "%s. 60 IN TXT \"txt record number %d of many, padded "
		         "so that the apex answer exceeds 512 bytes\"", zone, i);
		put_text(a, false, true, line);
	}
	assert_int_equal(zdb_axfr_commit(a, NOW, NULL, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[2048];
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_serve.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct zdb_opts zo;
	zdb_opts_init(&zo);
	zo.path = f->dir;
	zo.sync = ZDB_SYNC_NONE;
	zo.map_size = 64u << 20;
	assert_int_equal(zdb_open(&zo, &f->db), 0);
	int rc = cfg_load_string("serve.yaml", cfg_text, &f->cfg, err, sizeof(err));
	if (rc != 0) {
		print_error("%s\n", err);
	}
	assert_int_equal(rc, 0);
	load_example(f->db, 120);
	load_small(f->db, "signed.test", 2);
	load_small(f->db, "narrow.test", 1);
	load_small(f->db, "big.test", 10);
	load_small(f->db, "tls.test", 1);
	load_small(f->db, "mtls.test", 1);
	f->mx = metrics_new();
	struct serve_opts o;
	serve_opts_init(&o);
	o.cfg = f->cfg;
	o.db = f->db;
	o.metrics = f->mx;
	o.msg_target = 512;
	assert_int_equal(serve_new(&o, &f->sv), 0);
	f->bad = tsig_keyring_new();
	assert_int_equal(tsig_keyring_add(f->bad, "nokey", "hmac-sha256", K1, NULL), 0);
	assert_int_equal(tsig_keyring_add(f->bad, "k1", "hmac-sha256", K2, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	serve_free(f->sv);
	metrics_free(f->mx);
	cfg_free(f->cfg);
	zdb_close(f->db);
	tsig_keyring_free(f->bad);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ------------------------------------------------------------ queries */

struct q {
	const char *name;
	uint16_t type;
	uint16_t qclass;      /* 0: IN */
	uint16_t opcode;
	int edns;             /* -1 none, else the EDNS version */
	int ixfr_serial;      /* -1: no authority SOA */
	const struct tsig_key *key;
	uint64_t sign_time;   /* 0: NOW */
};

static size_t build(const struct q *q, uint8_t *buf, size_t cap, struct tsig_session *ts)
{
	uint8_t name[DNAME_MAXLEN];
	int nl = dname_from_text(q->name, name);
	assert_true(nl > 0);
	struct dns_hdr h = {.id = 0x4242, .flags = (uint16_t)(q->opcode << 11), .qdcount = 1};
	h.nscount = q->ixfr_serial >= 0 ? 1 : 0;
	h.arcount = q->edns >= 0 ? 1 : 0;
	dnsmsg_hdr_write(buf, &h);
	struct wire_wr w = wire_wr_init(buf + DNS_HDR_LEN, cap - DNS_HDR_LEN);
	wire_wr_bytes(&w, name, (size_t)nl);
	wire_wr_u16(&w, q->type);
	wire_wr_u16(&w, q->qclass ? q->qclass : DNS_C_IN);
	if (q->ixfr_serial >= 0) {
		wire_wr_u16(&w, 0xc00c);
		wire_wr_u16(&w, DNS_T_SOA);
		wire_wr_u16(&w, DNS_C_IN);
		wire_wr_u32(&w, 0);
		wire_wr_u16(&w, 22);
		wire_wr_u8(&w, 0);
		wire_wr_u8(&w, 0);
		wire_wr_u32(&w, (uint32_t)q->ixfr_serial);
		for (int i = 0; i < 4; i++) {
			wire_wr_u32(&w, 0);
		}
	}
	if (q->edns >= 0) {
		uint8_t opt[11] = {0, 0, 41, 4, 0xd0, 0, (uint8_t)q->edns, 0, 0, 0, 0};
		wire_wr_bytes(&w, opt, sizeof(opt));
	}
	assert_int_equal(w.err, 0);
	size_t len = DNS_HDR_LEN + wire_wr_len(&w);
	if (q->key != NULL) {
		tsig_session_init(ts, q->key, TSIG_FUDGE_DEFAULT);
		assert_int_equal(tsig_session_sign_request(ts, buf, &len, cap,
		                                           q->sign_time ? q->sign_time : NOW), 0);
	}
	return len;
}

/* An answer: every message, as produced. */
struct ans {
	int nmsg;
	uint8_t *msg[4096];
	size_t len[4096];
};

static const struct sockaddr *addr(const char *ip)
{
	static struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5353);
	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	return (const struct sockaddr *)&sin;
}

static void ask_from(struct fx *f, const struct q *q, const char *src, enum serve_proto proto,
                     struct ans *a)
{
	uint8_t buf[4096];
	struct tsig_session ts;
	size_t len = build(q, buf, sizeof(buf), &ts);
	struct serve_reply *r = NULL;
	assert_int_equal(serve_query(f->sv, buf, len, addr(src), proto, NOW, &r), 0);
	memset(a, 0, sizeof(*a));
	uint8_t out[SERVE_MSG_MAX];
	size_t n = 0;
	int rc;
	while ((rc = serve_reply_next(r, out, sizeof(out), NOW, &n)) == 1) {
		assert_true(a->nmsg < 4096);
		if (proto == SERVE_UDP) {
			assert_true(n <= 1232);
		}
		a->msg[a->nmsg] = malloc(n);
		memcpy(a->msg[a->nmsg], out, n);
		a->len[a->nmsg++] = n;
		if (q->key != NULL) {
			assert_int_equal(tsig_session_verify(&ts, out, n, NOW), 0);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 0);
	serve_reply_free(r);
	if (q->key != NULL) {
		assert_int_equal(tsig_session_finish(&ts), 0);
		tsig_session_deinit(&ts);
	}
	assert_true(a->nmsg >= 1);
}

static void ask(struct fx *f, const struct q *q, enum serve_proto proto, struct ans *a)
{
	ask_from(f, q, "127.0.0.1", proto, a);
}

static void ans_free(struct ans *a)
{
	for (int i = 0; i < a->nmsg; i++) {
		free(a->msg[i]);
	}
}

static struct dns_hdr hdr(const struct ans *a, int i)
{
	struct dns_hdr h;
	assert_int_equal(dnsmsg_hdr_parse(a->msg[i], a->len[i], &h), 0);
	return h;
}

/* Every answer RR of every message as lowercase presentation text, in order. */
static int rrs(const struct ans *a, char **out, int max)
{
	int n = 0;
	for (int i = 0; i < a->nmsg; i++) {
		ldns_pkt *p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, a->msg[i], a->len[i]), LDNS_STATUS_OK);
		ldns_rr_list *l = ldns_pkt_answer(p);
		for (size_t k = 0; k < ldns_rr_list_rr_count(l); k++) {
			assert_true(n < max);
			ldns_rr *rr = ldns_rr_list_rr(l, k);
			ldns_rr2canonical(rr);
			out[n++] = ldns_rr2str(rr);
		}
		ldns_pkt_free(p);
	}
	return n;
}

static void rrs_free(char **v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i]);
	}
}

static bool has_rr(char **v, int n, const char *text)
{
	for (int i = 0; i < n; i++) {
		if (strncmp(v[i], text, strlen(text)) == 0) {
			return true;
		}
	}
	return false;
}

static uint16_t rcode_of(const struct ans *a)
{
	return DNS_RCODE(hdr(a, 0).flags);
}

static int soa_serial_of(const char *text)
{
	/* "example.com.\t3600\tIN\tSOA\tns1... host... SERIAL ..." */
	const char *p = strstr(text, "\tSOA\t");
	assert_non_null(p);
	unsigned s = 0;
	char a[256], b[256];
	assert_int_equal(sscanf(p + 5, "%255s %255s %u", a, b, &s), 3);
	return (int)s;
}

/* ------------------------------------------------------------ cases */

static void test_serve_soa_udp_and_tcp(void **state)
{
	struct fx *f = *state;
	struct ans a;
	for (int proto = SERVE_UDP; proto <= SERVE_TCP; proto++) {
		ask(f, &(struct q){.name = "Example.COM", .type = DNS_T_SOA, .edns = -1,
		                   .ixfr_serial = -1}, proto, &a);
		struct dns_hdr h = hdr(&a, 0);
		assert_int_equal(a.nmsg, 1);
		assert_int_equal(h.id, 0x4242);
		assert_true(h.flags & DNS_FLAG_QR);
		assert_true(h.flags & DNS_FLAG_AA);
		assert_int_equal(DNS_RCODE(h.flags), DNS_RC_NOERROR);
		assert_int_equal(h.ancount, 1);
		char *v[4];
		int n = rrs(&a, v, 4);
		assert_int_equal(n, 1);
		assert_int_equal(soa_serial_of(v[0]), 1);
		rrs_free(v, n);
		ans_free(&a);
	}
}

static void test_serve_axfr_streams_whole_zone(void **state)
{
	struct fx *f = *state;
	struct ans a;
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_TCP, &a);
	assert_true(a.nmsg > 3); /* msg_target 1024: several messages */
	for (int i = 0; i < a.nmsg; i++) {
		assert_true(a.len[i] <= 512 + 100);
		assert_true(hdr(&a, i).flags & DNS_FLAG_AA);
	}
	char *v[300];
	int n = rrs(&a, v, 300);
	assert_int_equal(n, 4 + 120 + 1);
	assert_int_equal(soa_serial_of(v[0]), 1);
	assert_int_equal(soa_serial_of(v[n - 1]), 1);
	assert_true(has_rr(v, n, "ns1.example.com.\t3600\tIN\tA\t192.0.2.53"));
	assert_true(has_rr(v, n, "www119.example.com.\t300\tIN\tA\t198.51.100.119"));
	assert_true(has_rr(v, n, "example.com.\t3600\tIN\tNS\tns2.example.net."));
	rrs_free(v, n);
	ans_free(&a);
}

static void test_serve_axfr_over_udp_is_notimp(void **state)
{
	struct fx *f = *state;
	struct ans a;
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOTIMP);
	ans_free(&a);
}

static void test_serve_ixfr(void **state)
{
	struct fx *f = *state;
	struct ans a;
	char *v[300];
	ixfr_example(f->db);
	/* From 1: incremental. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_IXFR, .edns = -1,
	                   .ixfr_serial = 1}, SERVE_TCP, &a);
	int n = rrs(&a, v, 300);
	assert_int_equal(n, 6);
	assert_int_equal(soa_serial_of(v[0]), 2);
	assert_int_equal(soa_serial_of(v[1]), 1);
	assert_true(has_rr(&v[2], 1, "www0.example.com.\t300\tIN\tA\t198.51.100.0"));
	assert_int_equal(soa_serial_of(v[3]), 2);
	assert_true(has_rr(&v[4], 1, "new.example.com.\t300\tIN\tAAAA\t2001:db8::1"));
	assert_int_equal(soa_serial_of(v[5]), 2);
	rrs_free(v, n);
	ans_free(&a);
	/* Up to date, or newer than ours: one SOA. */
	for (int s = 2; s <= 3; s++) {
		ask(f, &(struct q){.name = "example.com", .type = DNS_T_IXFR, .edns = -1,
		                   .ixfr_serial = s}, SERVE_TCP, &a);
		n = rrs(&a, v, 300);
		assert_int_equal(n, 1);
		assert_int_equal(soa_serial_of(v[0]), 2);
		rrs_free(v, n);
		ans_free(&a);
	}
	/* The journal does not reach back to 0: AXFR-style. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_IXFR, .edns = -1,
	                   .ixfr_serial = 0}, SERVE_TCP, &a);
	n = rrs(&a, v, 300);
	assert_int_equal(n, 4 + 120 - 1 + 1 + 1);
	assert_int_equal(soa_serial_of(v[0]), 2);
	assert_int_equal(soa_serial_of(v[n - 1]), 2);
	assert_false(has_rr(v, n, "www0.example.com."));
	assert_true(has_rr(v, n, "new.example.com."));
	rrs_free(v, n);
	ans_free(&a);
	/* UDP: always the current SOA. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_IXFR, .edns = -1,
	                   .ixfr_serial = 1}, SERVE_UDP, &a);
	n = rrs(&a, v, 300);
	assert_int_equal(n, 1);
	assert_int_equal(soa_serial_of(v[0]), 2);
	rrs_free(v, n);
	ans_free(&a);
}

static void test_serve_apex_types_and_below(void **state)
{
	struct fx *f = *state;
	struct ans a;
	char *v[300];
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_NS, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOERROR);
	int n = rrs(&a, v, 300);
	assert_int_equal(n, 2);
	assert_true(has_rr(v, n, "example.com.\t3600\tIN\tNS\tns1.example.com."));
	rrs_free(v, n);
	ans_free(&a);
	/* NODATA: the SOA in the authority section, TTL capped by its minimum. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_MX, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	struct dns_hdr h = hdr(&a, 0);
	assert_int_equal(DNS_RCODE(h.flags), DNS_RC_NOERROR);
	assert_int_equal(h.ancount, 0);
	assert_int_equal(h.nscount, 1);
	ans_free(&a);
	/* Below the apex: answered from the store (test_serve_answer has every case). */
	ask(f, &(struct q){.name = "www1.example.com", .type = DNS_T_A, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOERROR);
	assert_true(hdr(&a, 0).flags & DNS_FLAG_AA);
	n = rrs(&a, v, 300);
	assert_int_equal(n, 1);
	assert_true(has_rr(v, n, "www1.example.com.\t300\tIN\tA\t198.51.100.1"));
	rrs_free(v, n);
	ans_free(&a);
	/* AXFR of a name that is not an apex. */
	ask(f, &(struct q){.name = "www1.example.com", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_TCP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOTAUTH);
	ans_free(&a);
	/* Wrong class. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_SOA, .qclass = 3, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
}

static void test_serve_udp_truncation_and_edns(void **state)
{
	struct fx *f = *state;
	struct ans a;
	ask(f, &(struct q){.name = "big.test", .type = DNS_T_TXT, .edns = -1, .ixfr_serial = -1},
	    SERVE_UDP, &a);
	struct dns_hdr h = hdr(&a, 0);
	assert_true(h.flags & DNS_FLAG_TC);
	assert_int_equal(h.ancount, 0);
	assert_true(a.len[0] <= 512);
	ans_free(&a);
	/* EDNS 1232: it fits; the answer carries an OPT. */
	ask(f, &(struct q){.name = "big.test", .type = DNS_T_TXT, .edns = 0, .ixfr_serial = -1},
	    SERVE_UDP, &a);
	h = hdr(&a, 0);
	assert_false(h.flags & DNS_FLAG_TC);
	assert_int_equal(h.ancount, 10);
	assert_int_equal(h.arcount, 1);
	ans_free(&a);
	/* TCP: no limit but 64 KiB. */
	ask(f, &(struct q){.name = "big.test", .type = DNS_T_TXT, .edns = -1, .ixfr_serial = -1},
	    SERVE_TCP, &a);
	assert_int_equal(hdr(&a, 0).ancount, 10);
	ans_free(&a);
	/* ANY: one RRset (RFC 8482), the first in type order: the SOA at an apex. */
	ask(f, &(struct q){.name = "big.test", .type = DNS_T_ANY, .edns = -1, .ixfr_serial = -1},
	    SERVE_UDP, &a);
	h = hdr(&a, 0);
	assert_false(h.flags & DNS_FLAG_TC);
	assert_int_equal(h.ancount, 1);
	ans_free(&a);
	/* EDNS version 1: BADVERS (extended rcode 1 in the OPT, header rcode 0). */
	ask(f, &(struct q){.name = "big.test", .type = DNS_T_SOA, .edns = 1, .ixfr_serial = -1},
	    SERVE_UDP, &a);
	h = hdr(&a, 0);
	assert_int_equal(DNS_RCODE(h.flags), 0);
	assert_int_equal(h.ancount, 0);
	assert_int_equal(a.msg[0][a.len[0] - 6], 1);
	ans_free(&a);
}

static void test_serve_notauth_refused_servfail(void **state)
{
	struct fx *f = *state;
	struct ans a;
	ask(f, &(struct q){.name = "nowhere.test", .type = DNS_T_SOA, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOTAUTH);
	assert_false(hdr(&a, 0).flags & DNS_FLAG_AA);
	ans_free(&a);
	/* Source outside xfrd.serve.allow (zone in the store, not in the config). */
	ask_from(f, &(struct q){.name = "big.test", .type = DNS_T_AXFR, .edns = -1,
	                        .ixfr_serial = -1}, "10.1.2.3", SERVE_TCP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
	/* ... and for a zone we do not hold: the same REFUSED, so that an outsider
	 * cannot tell held zones from others. */
	ask_from(f, &(struct q){.name = "nowhere.test", .type = DNS_T_AXFR, .edns = -1,
	                        .ixfr_serial = -1}, "10.1.2.3", SERVE_TCP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
	ask_from(f, &(struct q){.name = "nowhere.test", .type = DNS_T_SOA, .edns = -1,
	                        .ixfr_serial = -1}, "10.1.2.3", SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
	/* The zone's own allow list overrides xfrd.serve. */
	ask_from(f, &(struct q){.name = "narrow.test", .type = DNS_T_SOA, .edns = -1,
	                        .ixfr_serial = -1}, "127.0.0.1", SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
	ask_from(f, &(struct q){.name = "narrow.test", .type = DNS_T_SOA, .edns = -1,
	                        .ixfr_serial = -1}, "127.0.0.2", SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOERROR);
	ans_free(&a);
	/* A zone whose first transfer failed, and an expired zone. */
	uint8_t z[DNAME_MAXLEN];
	wname("failed.test", z);
	struct zdb_event_info fail = {.err = ZX_ETIMEDOUT};
	assert_int_equal(zdb_zone_event(f->db, z, ZDB_EV_FAILED, NOW, &fail, NULL), 0);
	ask(f, &(struct q){.name = "failed.test", .type = DNS_T_SOA, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_SERVFAIL);
	ans_free(&a);
	wname("narrow.test", z);
	assert_int_equal(zdb_zone_event(f->db, z, ZDB_EV_EXPIRED, NOW, NULL, NULL), 0);
	ask_from(f, &(struct q){.name = "narrow.test", .type = DNS_T_SOA, .edns = -1,
	                        .ixfr_serial = -1}, "127.0.0.2", SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_SERVFAIL);
	ans_free(&a);
}

static void test_serve_tsig(void **state)
{
	struct fx *f = *state;
	struct ans a;
	uint8_t kn[DNAME_MAXLEN];
	wname("k1", kn);
	const struct tsig_key *k1 = tsig_keyring_find(f->cfg->keys, kn);
	wname("k2", kn);
	const struct tsig_key *k2 = tsig_keyring_find(f->cfg->keys, kn);
	assert_non_null(k1);
	assert_non_null(k2);
	/* Unsigned, for a zone that needs k1. */
	ask(f, &(struct q){.name = "signed.test", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_TCP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
	/* Signed with k1: every message signed (ask() verifies them all). */
	ask(f, &(struct q){.name = "signed.test", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1, .key = k1}, SERVE_TCP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_NOERROR);
	assert_int_equal(hdr(&a, 0).ancount, 4);
	ans_free(&a);
	/* A bigger signed transfer, many messages. */
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1, .key = k2}, SERVE_TCP, &a);
	assert_true(a.nmsg > 3);
	ans_free(&a);
	/* Signed with k2, a key the zone does not take: REFUSED, signed. */
	ask(f, &(struct q){.name = "signed.test", .type = DNS_T_SOA, .edns = -1,
	                   .ixfr_serial = -1, .key = k2}, SERVE_UDP, &a);
	assert_int_equal(rcode_of(&a), DNS_RC_REFUSED);
	ans_free(&a);
}

/* A request whose TSIG fails: NOTAUTH, TSIG error @p err in the answer. */
static void tsig_fails(struct fx *f, const struct tsig_key *key, uint64_t t, int err)
{
	uint8_t buf[1024];
	struct tsig_session ts;
	size_t len = build(&(struct q){.name = "signed.test", .type = DNS_T_SOA, .edns = -1,
	                               .ixfr_serial = -1, .key = key, .sign_time = t},
	                   buf, sizeof(buf), &ts);
	struct serve_reply *r = NULL;
	assert_int_equal(serve_query(f->sv, buf, len, addr("127.0.0.1"), SERVE_UDP, NOW, &r), 0);
	assert_int_equal(serve_reply_rcode(r), DNS_RC_NOTAUTH);
	uint8_t out[SERVE_MSG_MAX];
	size_t n = 0;
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 1);
	struct tsig_rr trr;
	assert_int_equal(tsig_rr_parse(out, n, &trr), 0);
	assert_int_equal(trr.error, err);
	serve_reply_free(r);
	tsig_session_deinit(&ts);
}

static void test_serve_tsig_errors(void **state)
{
	struct fx *f = *state;
	uint8_t kn[DNAME_MAXLEN];
	wname("nokey", kn);
	tsig_fails(f, tsig_keyring_find(f->bad, kn), NOW, DNS_RC_BADKEY);
	wname("k1", kn);
	tsig_fails(f, tsig_keyring_find(f->bad, kn), NOW, DNS_RC_BADSIG);
	tsig_fails(f, tsig_keyring_find(f->cfg->keys, kn), NOW - 3600, DNS_RC_BADTIME);
}

static void raw(uint8_t *buf, const char *hex, size_t *len)
{
	size_t n = 0;
	unsigned v;
	for (const char *p = hex; *p != '\0';) {
		if (*p == ' ') {
			p++;
			continue;
		}
		assert_int_equal(sscanf(p, "%2x", &v), 1);
		buf[n++] = (uint8_t)v;
		p += 2;
	}
	*len = n;
}

static int raw_rcode(struct fx *f, const char *hex, enum serve_proto proto)
{
	uint8_t buf[512];
	size_t len;
	struct serve_reply *r = NULL;
	raw(buf, hex, &len);
	int rc = serve_query(f->sv, buf, len, addr("127.0.0.1"), proto, NOW, &r);
	if (rc != 0) {
		return rc;
	}
	rc = serve_reply_rcode(r);
	serve_reply_free(r);
	return rc;
}

static void test_serve_formerr_notimp_drop(void **state)
{
	struct fx *f = *state;
	/* Two questions. */
	assert_int_equal(raw_rcode(f, "1234 0000 0002 0000 0000 0000 00 0006 0001 00 0006 0001",
	                           SERVE_UDP), DNS_RC_FORMERR);
	/* A question cut short. */
	assert_int_equal(raw_rcode(f, "1234 0000 0001 0000 0000 0000 07 6578616d", SERVE_UDP),
	                 DNS_RC_FORMERR);
	/* Counted RRs missing. */
	assert_int_equal(raw_rcode(f, "1234 0000 0001 0001 0000 0000 00 0006 0001", SERVE_UDP),
	                 DNS_RC_FORMERR);
	/* IXFR without the client's SOA. */
	assert_int_equal(raw_rcode(f, "1234 0000 0001 0000 0000 0000 "
	                              "076578616d706c6503636f6d00 00fb 0001", SERVE_TCP),
	                 DNS_RC_FORMERR);
	/* Two OPT RRs. */
	assert_int_equal(raw_rcode(f, "1234 0000 0001 0000 0000 0002 00 0006 0001 "
	                              "00 0029 1000 00000000 0000 00 0029 1000 00000000 0000",
	                           SERVE_UDP), DNS_RC_FORMERR);
	/* UPDATE and NOTIFY opcodes; a meta type. */
	assert_int_equal(raw_rcode(f, "1234 2800 0001 0000 0000 0000 "
	                              "076578616d706c6503636f6d00 0006 0001", SERVE_UDP),
	                 DNS_RC_NOTIMP);
	assert_int_equal(raw_rcode(f, "1234 2000 0001 0000 0000 0000 "
	                              "076578616d706c6503636f6d00 0006 0001", SERVE_UDP),
	                 DNS_RC_NOTIMP);
	assert_int_equal(raw_rcode(f, "1234 0000 0001 0000 0000 0000 "
	                              "076578616d706c6503636f6d00 00fe 0001", SERVE_UDP),
	                 DNS_RC_NOTIMP);
	/* Dropped: shorter than a header, or a response. */
	assert_int_equal(raw_rcode(f, "1234 0000 0001", SERVE_UDP), ZX_EFORMAT);
	assert_int_equal(raw_rcode(f, "1234 8000 0001 0000 0000 0000 00 0006 0001", SERVE_UDP),
	                 ZX_EFORMAT);
}

static void test_serve_reply_next_limits(void **state)
{
	struct fx *f = *state;
	uint8_t buf[512];
	uint8_t out[SERVE_MSG_MAX];
	struct tsig_session ts;
	size_t len = build(&(struct q){.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                               .ixfr_serial = -1}, buf, sizeof(buf), &ts);
	struct serve_reply *r = NULL;
	assert_int_equal(serve_query(f->sv, buf, len, addr("127.0.0.1"), SERVE_TCP, NOW, &r), 0);
	assert_true(serve_reply_is_transfer(r));
	size_t n = 0;
	/* Too small a buffer: nothing consumed, the transfer goes on. */
	assert_int_equal(serve_reply_next(r, out, 100, NOW, &n), ZX_ELIMIT);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 1);
	/* Freed half-way: logged as aborted, the snapshot released. */
	serve_reply_free(r);
	/* A single answer and a small buffer. */
	len = build(&(struct q){.name = "example.com", .type = DNS_T_SOA, .edns = -1,
	                        .ixfr_serial = -1}, buf, sizeof(buf), &ts);
	assert_int_equal(serve_query(f->sv, buf, len, addr("127.0.0.1"), SERVE_UDP, NOW, &r), 0);
	assert_false(serve_reply_is_transfer(r));
	assert_int_equal(serve_reply_next(r, out, 10, NOW, &n), ZX_ELIMIT);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 1);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 0);
	serve_reply_free(r);
	serve_reply_free(NULL);
}

static void test_serve_new_invalid(void **state)
{
	struct fx *f = *state;
	struct serve_opts o;
	struct serve *sv = NULL;
	serve_opts_init(&o);
	assert_int_equal(serve_new(&o, &sv), ZX_EINVAL);
	o.cfg = f->cfg;
	o.db = f->db;
	o.msg_target = 100;
	assert_int_equal(serve_new(&o, &sv), ZX_EINVAL);
	o.msg_target = SERVE_DEFAULT_MSG_TARGET;
	o.udp_size = 100;
	assert_int_equal(serve_new(&o, &sv), ZX_EINVAL);
	o.udp_size = SERVE_DEFAULT_UDP_SIZE;
	o.tcp_max = 0;
	assert_int_equal(serve_new(&o, &sv), ZX_EINVAL);
	assert_null(sv);
	serve_free(NULL);
}

static void test_serve_metrics(void **state)
{
	struct fx *f = *state;
	struct ans a;
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_SOA, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	ans_free(&a);
	ask(f, &(struct q){.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_TCP, &a);
	ans_free(&a);
	ask(f, &(struct q){.name = "nowhere.test", .type = DNS_T_SOA, .edns = -1,
	                   .ixfr_serial = -1}, SERVE_UDP, &a);
	ans_free(&a);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(f->mx, &text, &len), 0);
	assert_non_null(strstr(text, "xfrd_serve_queries_total{qtype=\"SOA\",rcode=\"NOERROR\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_queries_total{qtype=\"AXFR\",rcode=\"NOERROR\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_queries_total{qtype=\"SOA\",rcode=\"NOTAUTH\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_transfers_total{method=\"axfr\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_transfer_records_total 125"));
	free(text);
}

/* A query answered by @p sv, the reply kept (not drained). */
static struct serve_reply *start(struct serve *sv, const struct q *q, const char *src,
                                 enum serve_proto proto)
{
	uint8_t buf[4096];
	struct tsig_session ts;
	size_t len = build(q, buf, sizeof(buf), &ts);
	struct serve_reply *r = NULL;
	assert_int_equal(serve_query(sv, buf, len, addr(src), proto, NOW, &r), 0);
	return r;
}

/* Drain @p r: answer RRs counted; the serial of the last one (the closing SOA). */
static int drain(struct serve_reply *r, int *last_serial)
{
	uint8_t out[SERVE_MSG_MAX];
	size_t n = 0;
	int rc, total = 0;
	while ((rc = serve_reply_next(r, out, sizeof(out), NOW, &n)) == 1) {
		struct ans a = {.nmsg = 1, .msg = {out}, .len = {n}};
		char *v[200];
		int k = rrs(&a, v, 200);
		if (k > 0 && last_serial != NULL && strstr(v[k - 1], "\tSOA\t") != NULL) {
			*last_serial = soa_serial_of(v[k - 1]);
		}
		rrs_free(v, k);
		total += k;
	}
	return rc < 0 ? rc : total;
}

static struct serve *small_serve(struct fx *f, uint32_t xfr_max, uint32_t per_source,
                                 struct metrics *mx)
{
	struct serve_opts o;
	serve_opts_init(&o);
	o.cfg = f->cfg;
	o.db = f->db;
	o.metrics = mx;
	o.msg_target = 512;
	o.xfr_max = xfr_max;
	o.xfr_per_source = per_source;
	struct serve *sv = NULL;
	assert_int_equal(serve_new(&o, &sv), 0);
	return sv;
}

/* Transfers out are capped, overall and per source: the excess is REFUSED at
 * once; a single-SOA IXFR is no transfer; a finished one frees its slot. */
static void test_serve_transfer_limits(void **state)
{
	struct fx *f = *state;
	struct metrics *mx = metrics_new();
	struct serve *sv = small_serve(f, 2, 1, mx);
	const struct q axfr = {.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                       .ixfr_serial = -1};
	const struct q ixfr_old = {.name = "example.com", .type = DNS_T_IXFR, .edns = -1,
	                           .ixfr_serial = 0};
	struct serve_reply *r1 = start(sv, &axfr, "127.0.0.1", SERVE_TCP);
	assert_true(serve_reply_is_transfer(r1));
	struct serve_reply *r2 = start(sv, &axfr, "127.0.0.1", SERVE_TCP);
	assert_false(serve_reply_is_transfer(r2));
	assert_int_equal(serve_reply_rcode(r2), DNS_RC_REFUSED);
	serve_reply_free(r2);
	struct serve_reply *r3 = start(sv, &ixfr_old, "127.0.0.2", SERVE_TCP); /* AXFR-style */
	assert_true(serve_reply_is_transfer(r3));
	struct serve_reply *r4 = start(sv, &axfr, "127.0.0.3", SERVE_TCP);
	assert_int_equal(serve_reply_rcode(r4), DNS_RC_REFUSED);
	serve_reply_free(r4);
	r4 = start(sv, &ixfr_old, "127.0.0.3", SERVE_UDP); /* one SOA over UDP: no slot */
	assert_int_equal(serve_reply_rcode(r4), DNS_RC_NOERROR);
	assert_false(serve_reply_is_transfer(r4));
	serve_reply_free(r4);
	assert_int_equal(drain(r1, NULL), 125);
	serve_reply_free(r1);
	r4 = start(sv, &axfr, "127.0.0.3", SERVE_TCP);
	assert_true(serve_reply_is_transfer(r4));
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(mx, &text, &len), 0);
	assert_non_null(strstr(text, "xfrd_serve_transfers_refused_total{reason=\"per_source\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_transfers_refused_total{reason=\"max\"} 1"));
	assert_non_null(strstr(text, "xfrd_serve_transfers_active 2"));
	free(text);
	serve_reply_free(r3);
	serve_reply_free(r4);
	serve_free(sv);
	metrics_free(mx);
}

/* A paused transfer holds no snapshot; an AXFR replacing the zone meanwhile does
 * not cut it (its version is pinned): it goes on and ends whole at serial 1. An
 * IXFR changing the version in place ends a paused transfer as failed. */
static void test_serve_paused_transfer_and_a_new_version(void **state)
{
	struct fx *f = *state;
	const struct q axfr = {.name = "example.com", .type = DNS_T_AXFR, .edns = -1,
	                       .ixfr_serial = -1};
	struct serve_reply *r = start(f->sv, &axfr, "127.0.0.1", SERVE_TCP);
	uint8_t out[SERVE_MSG_MAX];
	size_t n = 0;
	struct dns_hdr h;
	int sent = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 1);
		assert_int_equal(dnsmsg_hdr_parse(out, n, &h), 0);
		sent += h.ancount;
	}
	assert_int_equal(serve_reply_pause(r), 0);
	assert_int_equal(serve_reply_pause(r), 0); /* paused already */
	/* the zone, replaced twice (30 names instead of 120); the gc runs dry */
	load_example(f->db, 30);
	load_example(f->db, 30);
	while (zdb_gc(f->db, 1000) == 1) {
	}
	int serial = 0, rest = drain(r, &serial);
	serve_reply_free(r);
	assert_int_equal(sent + rest, 4 + 120 + 1); /* the old version, whole */
	assert_int_equal(serial, 1);
	struct serve_reply *r2 = start(f->sv, &axfr, "127.0.0.1", SERVE_TCP);
	assert_int_equal(drain(r2, NULL), 4 + 30 + 1); /* a new transfer: the new one */
	serve_reply_free(r2);
	/* changed in place by an IXFR while paused: the transfer cannot go on */
	r = start(f->sv, &axfr, "127.0.0.1", SERVE_TCP);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), 1);
	assert_int_equal(serve_reply_pause(r), 0);
	ixfr_example(f->db); /* serial 1 -> 2 */
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), ZX_ENOTFOUND);
	assert_int_equal(serve_reply_next(r, out, sizeof(out), NOW, &n), ZX_ENOTFOUND);
	serve_reply_free(r); /* logged outcome=failed with the reason */
}

/* snapshot_max_ms: a transfer renews its snapshot as it goes, and still sends
 * the whole zone. */
static void test_serve_snapshot_renewed(void **state)
{
	struct fx *f = *state;
	struct metrics *mx = metrics_new();
	struct serve_opts o;
	serve_opts_init(&o);
	o.cfg = f->cfg;
	o.db = f->db;
	o.metrics = mx;
	o.msg_target = 512;
	o.snapshot_max_ms = 1;
	struct serve *sv = NULL;
	assert_int_equal(serve_new(&o, &sv), 0);
	struct serve_reply *r = start(sv, &(struct q){.name = "example.com", .type = DNS_T_AXFR,
	                                              .edns = -1, .ixfr_serial = -1},
	                              "127.0.0.1", SERVE_TCP);
	uint8_t out[SERVE_MSG_MAX];
	size_t n = 0;
	int rc, total = 0;
	while ((rc = serve_reply_next(r, out, sizeof(out), NOW, &n)) == 1) {
		struct dns_hdr h;
		assert_int_equal(dnsmsg_hdr_parse(out, n, &h), 0);
		total += h.ancount;
		nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(total, 125);
	serve_reply_free(r);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(mx, &text, &len), 0);
	assert_null(strstr(text, "xfrd_serve_snapshot_releases_total 0\n"));
	assert_non_null(strstr(text, "xfrd_serve_snapshot_releases_total "));
	free(text);
	serve_free(sv);
	metrics_free(mx);
}

/* Mutated queries (bit flips, cuts, random counts): never a crash or a leak
 * (ASan), every answer a parseable DNS message within the UDP size. */
static void test_serve_mutated_queries(void **state)
{
	struct fx *f = *state;
	static const struct q base[] = {
		{.name = "example.com", .type = DNS_T_SOA, .edns = 0, .ixfr_serial = -1},
		{.name = "example.com", .type = DNS_T_IXFR, .edns = -1, .ixfr_serial = 1},
		{.name = "signed.test", .type = DNS_T_AXFR, .edns = 0, .ixfr_serial = -1},
	};
	uint8_t kn[DNAME_MAXLEN];
	wname("k1", kn);
	const struct tsig_key *k1 = tsig_keyring_find(f->cfg->keys, kn);
	uint8_t out[SERVE_MSG_MAX];
	unsigned seed = 12345;
	for (int i = 0; i < 6000; i++) {
		uint8_t buf[1024];
		struct tsig_session ts;
		struct q q = base[i % 3];
		q.key = i % 2 ? k1 : NULL;
		size_t len = build(&q, buf, sizeof(buf), &ts);
		if (q.key != NULL) {
			tsig_session_deinit(&ts);
		}
		for (int k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 4) % 8));
		}
		if (i % 7 == 0) {
			len = (seed >> 3) % len;
		}
		enum serve_proto proto = i % 5 ? SERVE_UDP : SERVE_TCP;
		struct serve_reply *r = NULL;
		int rc = serve_query(f->sv, buf, len, addr("127.0.0.1"), proto, NOW, &r);
		if (rc != 0) {
			assert_int_equal(rc, ZX_EFORMAT);
			continue;
		}
		size_t n = 0;
		while ((rc = serve_reply_next(r, out, sizeof(out), NOW, &n)) == 1) {
			ldns_pkt *p = NULL;
			assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
			ldns_pkt_free(p);
			assert_true(proto == SERVE_TCP || n <= 1232);
		}
		assert_int_equal(rc, 0);
		serve_reply_free(r);
	}
}

/* Sockets only (no traffic; tests/integration/serve/ sends queries). */
static void test_serve_start_stop(void **state)
{
	struct fx *f = *state;
	struct event_base *base = event_base_new();
	assert_non_null(base);
	assert_int_equal(serve_bound_port(f->sv, 0), 0);
	assert_int_equal(serve_start(f->sv, base), 0);
	assert_int_equal(serve_bound_port(f->sv, 0), 24471);
	assert_int_equal(serve_bound_port(f->sv, 1), 24471);
	assert_int_equal(serve_bound_port(f->sv, 2), 0);
	assert_int_equal(serve_start(f->sv, base), ZX_EINVAL);
	/* A second server on the same endpoints: the port is taken. */
	struct serve_opts o;
	struct serve *other = NULL;
	serve_opts_init(&o);
	o.cfg = f->cfg;
	o.db = f->db;
	assert_int_equal(serve_new(&o, &other), 0);
	assert_int_equal(serve_start(other, base), ZX_EIO);
	assert_int_equal(serve_bound_port(other, 0), 0);
	serve_free(other);
	serve_stop(f->sv);
	serve_stop(f->sv);
	assert_int_equal(serve_bound_port(f->sv, 0), 0);
	assert_int_equal(serve_start(f->sv, base), 0);
	serve_free(f->sv); /* closes its sockets before the base goes */
	f->sv = NULL;
	event_base_free(base);
}

/* require-tls: a zone's AXFR/IXFR only over TLS (RFC 9103), or only over TLS with a
 * verified client certificate; anything else REFUSED. The SOA query is not a transfer. */
static void test_serve_require_tls(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *zone;
		uint16_t qtype;
		enum serve_proto proto;
		uint16_t rcode;
	} cases[] = {
		{"tls.test", DNS_T_AXFR, SERVE_TCP, DNS_RC_REFUSED},
		{"tls.test", DNS_T_IXFR, SERVE_TCP, DNS_RC_REFUSED},
		{"tls.test", DNS_T_AXFR, SERVE_TLS, DNS_RC_NOERROR},
		{"tls.test", DNS_T_AXFR, SERVE_TLS_CERT, DNS_RC_NOERROR},
		{"tls.test", DNS_T_SOA, SERVE_UDP, DNS_RC_NOERROR},
		{"mtls.test", DNS_T_AXFR, SERVE_TCP, DNS_RC_REFUSED},
		{"mtls.test", DNS_T_AXFR, SERVE_TLS, DNS_RC_REFUSED},
		{"mtls.test", DNS_T_IXFR, SERVE_TLS, DNS_RC_REFUSED},
		{"mtls.test", DNS_T_AXFR, SERVE_TLS_CERT, DNS_RC_NOERROR},
		{"mtls.test", DNS_T_SOA, SERVE_TCP, DNS_RC_NOERROR},
		{"example.com", DNS_T_AXFR, SERVE_TLS, DNS_RC_NOERROR}, /* no rule: any transport */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ans a;
		ask(f, &(struct q){.name = cases[i].zone, .type = cases[i].qtype, .edns = -1,
		                   .ixfr_serial = cases[i].qtype == DNS_T_IXFR ? 0 : -1},
		    cases[i].proto, &a);
		if (rcode_of(&a) != cases[i].rcode) {
			print_error("case %zu: %s qtype %u proto %d: rcode %u\n", i, cases[i].zone,
			            cases[i].qtype, cases[i].proto, rcode_of(&a));
			fail();
		}
		ans_free(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serve_soa_udp_and_tcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_require_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_axfr_streams_whole_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_axfr_over_udp_is_notimp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_ixfr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_apex_types_and_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_udp_truncation_and_edns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_notauth_refused_servfail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_tsig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_tsig_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_formerr_notimp_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_reply_next_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_new_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_transfer_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_paused_transfer_and_a_new_version, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_serve_snapshot_renewed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_mutated_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serve_start_stop, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
