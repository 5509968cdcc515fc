/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/serve/test_serve_answer.c -- any name and type of a stored zone, answered
 * as an authoritative server does (xfrd/serve/serve_answer.c): the RRset, NODATA and
 * NXDOMAIN with the negative SOA, empty non-terminals, wildcards, CNAME chains (out of
 * the zone, dangling, loops, the length limit), referrals with glue, DS at a cut,
 * additional addresses for NS, MX and SRV, ANY, truncation. Each answer's sections are
 * compared whole, as presentation text, with what Knot DNS 3.2 answers for the same
 * zone (the end-to-end comparison is tests/integration/serve/dig.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/metrics.h"
#include "common/store/zdb.h"
#include "xfrd/serve/serve.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW 1700000000u
#define DS_HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *const zone_lines[] = {
	"t. 3600 IN SOA ns1.t. host.t. 5 3600 600 86400 300",
	"t. 3600 IN NS ns1.t.",
	"t. 3600 IN NS ns.elsewhere.net.",
	"t. 3600 IN MX 10 mail.t.",
	"ns1.t. 3600 IN A 192.0.2.1",
	"ns1.t. 3600 IN AAAA 2001:db8::1",
	"mail.t. 3600 IN A 192.0.2.25",
	"www.t. 300 IN A 192.0.2.80",
	"alias.t. 300 IN CNAME www.t.",
	"alias2.t. 300 IN CNAME alias.t.",
	"out.t. 300 IN CNAME www.elsewhere.net.",
	"dangling.t. 300 IN CNAME nothere.t.",
	"loop1.t. 300 IN CNAME loop2.t.",
	"loop2.t. 300 IN CNAME loop1.t.",
	"c1.t. 300 IN CNAME c2.t.",
	"c2.t. 300 IN CNAME c3.t.",
	"c3.t. 300 IN CNAME c4.t.",
	"c4.t. 300 IN CNAME c5.t.",
	"c5.t. 300 IN CNAME c6.t.",
	"c6.t. 300 IN CNAME www.t.",
	"a.b.c.t. 300 IN TXT \"deep\"",
	"*.w.t. 300 IN A 192.0.2.99",
	"*.w.t. 300 IN MX 10 mail.t.",
	"sub.w.t. 300 IN TXT \"sub\"",
	"*.cw.t. 300 IN CNAME www.t.",
	"mxw.t. 300 IN MX 10 host.w.t.",
	"_sip._tcp.t. 300 IN SRV 0 5 5060 www.t.",
	"d1.t. 86400 IN NS ns1.d1.t.",
	"d1.t. 86400 IN NS ns.elsewhere.net.",
	"d1.t. 86400 IN DS 12345 8 2 " DS_HEX,
	"ns1.d1.t. 86400 IN A 192.0.2.53",
	"d2.t. 86400 IN NS ns1.d1.t.",
	"todeleg.t. 300 IN CNAME host.d1.t.",
};

static const char *const cfg_text =
	"xfrd:\n"
	"  listen: [ \"127.0.0.1@5354\" ]\n"
	"  serve: { allow: [ \"127.0.0.0/8\" ] }\n";

struct fx {
	char dir[64];
	struct zdb *db;
	struct cfg *cfg;
	struct metrics *mx;
	struct serve *sv;
};

static void add_text(struct zdb_axfr *a, const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t wl = 0;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &wl), LDNS_STATUS_OK);
	int on = dname_wire_len(wire, wl);
	assert_true(on > 0);
	const uint8_t *p = wire + on;
	struct zdb_rr z = {.owner = wire, .owner_len = (size_t)on,
	                   .type = (uint16_t)(p[0] << 8 | p[1]), .rclass = (uint16_t)(p[2] << 8 | p[3]),
	                   .ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7],
	                   .rdlen = (uint16_t)(p[8] << 8 | p[9]), .rdata = p + 10};
	assert_int_equal(zdb_axfr_add(a, &z), 0);
	free(wire);
	ldns_rr_free(rr);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[1024];
	uint8_t apex[DNAME_MAXLEN];
	struct zdb_axfr *a;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_serve_answer.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct zdb_opts zo;
	zdb_opts_init(&zo);
	zo.path = f->dir;
	zo.sync = ZDB_SYNC_NONE;
	zo.map_size = 16u << 20;
	zo.gc_thread = false;
	assert_int_equal(zdb_open(&zo, &f->db), 0);
	int crc = cfg_load_string("t.yaml", cfg_text, &f->cfg, err, sizeof(err));
	if (crc != 0) {
		print_error("%s\n", err);
	}
	assert_int_equal(crc, 0);
	assert_true(dname_from_text("t.", apex) > 0);
	assert_int_equal(zdb_axfr_begin(f->db, apex, &a), 0);
	for (size_t i = 0; i < sizeof(zone_lines) / sizeof(zone_lines[0]); i++) {
		add_text(a, zone_lines[i]);
	}
	/* many.t: 15 MX whose targets' addresses do not all fit 512 bytes; d3.t: a cut with
	   16 in-bailiwick name servers whose glue does not fit */
	char line[128];
	for (int i = 0; i < 20; i++) {
		if (i < 15) {
			snprintf(line, sizeof(line), "many.t. 300 IN MX %d m%02d.t.", i, i);
			add_text(a, line);
			snprintf(line, sizeof(line), "m%02d.t. 300 IN A 192.0.2.%d", i, i);
			add_text(a, line);
			snprintf(line, sizeof(line), "m%02d.t. 300 IN AAAA 2001:db8::%d", i, i);
			add_text(a, line);
		}
		if (i < 16) {
			snprintf(line, sizeof(line), "d3.t. 300 IN NS ns%02d.d3.t.", i);
			add_text(a, line);
			snprintf(line, sizeof(line), "ns%02d.d3.t. 300 IN AAAA 2001:db8:3::%d", i, i);
			add_text(a, line);
		}
	}
	assert_int_equal(zdb_axfr_commit(a, NOW, NULL, NULL), 0);
	f->mx = metrics_new();
	struct serve_opts o;
	serve_opts_init(&o);
	o.cfg = f->cfg;
	o.db = f->db;
	o.metrics = f->mx;
	assert_int_equal(serve_new(&o, &f->sv), 0);
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
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/** One answer, parsed: rcode, AA, TC, and each section as sorted lowercase text
 *  ("owner ttl class type rdata" lines joined by '|'). */
struct answer {
	int rcode;
	bool aa, tc;
	char sec[3][2048];
	size_t len;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void section_text(ldns_rr_list *l, char *out, size_t size)
{
	size_t n = ldns_rr_list_rr_count(l);
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
			v[i] = strdup("");
			continue;
		}
		ldns_rr2canonical(rr);
		v[i] = ldns_rr2str(rr);
		v[i][strcspn(v[i], "\n")] = '\0';
		for (char *p = v[i]; *p != '\0'; p++) {
			*p = *p == '\t' ? ' ' : *p;
		}
	}
	qsort(v, n, sizeof(*v), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (v[i][0] != '\0') {
			size_t o = strlen(out);
			snprintf(out + o, size - o, "%s%s", o > 0 ? "|" : "", v[i]);
		}
		free(v[i]);
	}
	free(v);
}

static void query(struct fx *f, const char *name, ldns_rr_type type, bool edns,
                  struct answer *out)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL, msg[SERVE_MSG_MAX];
	size_t wl = 0, n = 0;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5353)};
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr), 1);
	assert_int_equal(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, 0),
	                 LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x1234);
	if (edns) {
		ldns_pkt_set_edns_udp_size(q, 4096);
	}
	assert_int_equal(ldns_pkt2wire(&wire, q, &wl), LDNS_STATUS_OK);
	struct serve_reply *r = NULL;
	assert_int_equal(serve_query(f->sv, wire, wl, (const struct sockaddr *)&sin, SERVE_UDP, NOW,
	                             &r), 0);
	assert_int_equal(serve_reply_next(r, msg, sizeof(msg), NOW, &n), 1);
	assert_int_equal(serve_reply_next(r, msg + n, sizeof(msg) - n, NOW, &wl), 0);
	serve_reply_free(r);
	free(wire);
	ldns_pkt_free(q);
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, msg, n), LDNS_STATUS_OK);
	out->rcode = ldns_pkt_get_rcode(p);
	out->aa = ldns_pkt_aa(p);
	out->tc = ldns_pkt_tc(p);
	out->len = n;
	section_text(ldns_pkt_answer(p), out->sec[0], sizeof(out->sec[0]));
	section_text(ldns_pkt_authority(p), out->sec[1], sizeof(out->sec[1]));
	section_text(ldns_pkt_additional(p), out->sec[2], sizeof(out->sec[2]));
	ldns_pkt_free(p);
}

#define SOA_NEG "t. 300 IN SOA ns1.t. host.t. 5 3600 600 86400 300"
#define D1_NS "d1.t. 86400 IN NS ns.elsewhere.net.|d1.t. 86400 IN NS ns1.d1.t."
#define D1_GLUE "ns1.d1.t. 86400 IN A 192.0.2.53"

/* Ask @p name @p type; the answer must be exactly this (sections as section_text()). */
static void expect(struct fx *f, const char *name, ldns_rr_type type, int rcode, bool aa,
                   const char *an, const char *ns, const char *ar)
{
	struct answer a;
	query(f, name, type, false, &a);
	if (a.rcode != rcode || a.aa != aa || strcmp(a.sec[0], an) != 0 ||
	    strcmp(a.sec[1], ns) != 0 || strcmp(a.sec[2], ar) != 0) {
		print_error("%s type %d: rcode %d aa %d\n an: %s\n ns: %s\n ar: %s\n", name, type,
		            a.rcode, a.aa, a.sec[0], a.sec[1], a.sec[2]);
	}
	assert_int_equal(a.rcode, rcode);
	assert_int_equal(a.aa, aa);
	assert_string_equal(a.sec[0], an);
	assert_string_equal(a.sec[1], ns);
	assert_string_equal(a.sec[2], ar);
	assert_false(a.tc);
}

static void test_data_nodata_nxdomain(void **state)
{
	struct fx *f = *state;
	expect(f, "www.t.", LDNS_RR_TYPE_A, 0, true, "www.t. 300 IN A 192.0.2.80", "", "");
	expect(f, "WwW.T.", LDNS_RR_TYPE_A, 0, true, "www.t. 300 IN A 192.0.2.80", "", "");
	expect(f, "www.t.", LDNS_RR_TYPE_AAAA, 0, true, "", SOA_NEG, "");
	expect(f, "www.t.", LDNS_RR_TYPE_SOA, 0, true, "", SOA_NEG, "");
	expect(f, "nope.t.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true, "", SOA_NEG, "");
	expect(f, "x.nope.t.", LDNS_RR_TYPE_TXT, LDNS_RCODE_NXDOMAIN, true, "", SOA_NEG, "");
	/* empty non-terminals: NODATA (RFC 8020), not NXDOMAIN */
	expect(f, "b.c.t.", LDNS_RR_TYPE_TXT, 0, true, "", SOA_NEG, "");
	expect(f, "c.t.", LDNS_RR_TYPE_A, 0, true, "", SOA_NEG, "");
	expect(f, "_tcp.t.", LDNS_RR_TYPE_SRV, 0, true, "", SOA_NEG, "");
	expect(f, "a.b.c.t.", LDNS_RR_TYPE_TXT, 0, true, "a.b.c.t. 300 IN TXT \"deep\"", "", "");
}

static void test_additional(void **state)
{
	struct fx *f = *state;
	expect(f, "t.", LDNS_RR_TYPE_NS, 0, true, "t. 3600 IN NS ns.elsewhere.net.|t. 3600 IN NS ns1.t.",
	       "", "ns1.t. 3600 IN A 192.0.2.1|ns1.t. 3600 IN AAAA 2001:db8::1");
	expect(f, "t.", LDNS_RR_TYPE_MX, 0, true, "t. 3600 IN MX 10 mail.t.", "",
	       "mail.t. 3600 IN A 192.0.2.25");
	expect(f, "_sip._tcp.t.", LDNS_RR_TYPE_SRV, 0, true, "_sip._tcp.t. 300 IN SRV 0 5 5060 www.t.",
	       "", "www.t. 300 IN A 192.0.2.80");
	/* a target only a wildcard covers: the wildcard's address, owned by the target */
	expect(f, "mxw.t.", LDNS_RR_TYPE_MX, 0, true, "mxw.t. 300 IN MX 10 host.w.t.", "",
	       "host.w.t. 300 IN A 192.0.2.99");
	/* ANY: one RRset (RFC 8482), the first in type order; its targets' addresses */
	expect(f, "t.", LDNS_RR_TYPE_ANY, 0, true, "t. 3600 IN SOA ns1.t. host.t. 5 3600 600 86400 300",
	       "", "");
	expect(f, "ns1.t.", LDNS_RR_TYPE_ANY, 0, true, "ns1.t. 3600 IN A 192.0.2.1", "", "");
	expect(f, "alias.t.", LDNS_RR_TYPE_ANY, 0, true, "alias.t. 300 IN CNAME www.t.", "", "");
	expect(f, "nope.t.", LDNS_RR_TYPE_ANY, LDNS_RCODE_NXDOMAIN, true, "", SOA_NEG, "");
}

static void test_wildcards(void **state)
{
	struct fx *f = *state;
	expect(f, "x.w.t.", LDNS_RR_TYPE_A, 0, true, "x.w.t. 300 IN A 192.0.2.99", "", "");
	expect(f, "y.x.w.t.", LDNS_RR_TYPE_A, 0, true, "y.x.w.t. 300 IN A 192.0.2.99", "", "");
	expect(f, "x.w.t.", LDNS_RR_TYPE_MX, 0, true, "x.w.t. 300 IN MX 10 mail.t.", "",
	       "mail.t. 3600 IN A 192.0.2.25");
	expect(f, "x.w.t.", LDNS_RR_TYPE_AAAA, 0, true, "", SOA_NEG, "");        /* wildcard NODATA */
	expect(f, "sub.w.t.", LDNS_RR_TYPE_A, 0, true, "", SOA_NEG, "");         /* exists: no wildcard */
	expect(f, "x.sub.w.t.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true, "", SOA_NEG, "");
	expect(f, "*.w.t.", LDNS_RR_TYPE_A, 0, true, "*.w.t. 300 IN A 192.0.2.99", "", "");
	expect(f, "q.cw.t.", LDNS_RR_TYPE_A, 0, true,
	       "q.cw.t. 300 IN CNAME www.t.|www.t. 300 IN A 192.0.2.80", "", "");
}

static void test_cnames(void **state)
{
	struct fx *f = *state;
	expect(f, "alias2.t.", LDNS_RR_TYPE_A, 0, true,
	       "alias.t. 300 IN CNAME www.t.|alias2.t. 300 IN CNAME alias.t.|www.t. 300 IN A 192.0.2.80",
	       "", "");
	expect(f, "alias2.t.", LDNS_RR_TYPE_AAAA, 0, true,
	       "alias.t. 300 IN CNAME www.t.|alias2.t. 300 IN CNAME alias.t.", SOA_NEG, "");
	expect(f, "alias.t.", LDNS_RR_TYPE_CNAME, 0, true, "alias.t. 300 IN CNAME www.t.", "", "");
	expect(f, "out.t.", LDNS_RR_TYPE_A, 0, true, "out.t. 300 IN CNAME www.elsewhere.net.", "", "");
	/* RFC 6604: the rcode is the last name's */
	expect(f, "dangling.t.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true,
	       "dangling.t. 300 IN CNAME nothere.t.", SOA_NEG, "");
	expect(f, "loop1.t.", LDNS_RR_TYPE_A, 0, true,
	       "loop1.t. 300 IN CNAME loop2.t.|loop2.t. 300 IN CNAME loop1.t.", "", "");
	/* five CNAMEs are followed, a sixth is not put (Knot's CNAME_CHAIN_MAX) */
	expect(f, "c2.t.", LDNS_RR_TYPE_A, 0, true,
	       "c2.t. 300 IN CNAME c3.t.|c3.t. 300 IN CNAME c4.t.|c4.t. 300 IN CNAME c5.t.|"
	       "c5.t. 300 IN CNAME c6.t.|c6.t. 300 IN CNAME www.t.|www.t. 300 IN A 192.0.2.80",
	       "", "");
	expect(f, "c1.t.", LDNS_RR_TYPE_A, 0, true,
	       "c1.t. 300 IN CNAME c2.t.|c2.t. 300 IN CNAME c3.t.|c3.t. 300 IN CNAME c4.t.|"
	       "c4.t. 300 IN CNAME c5.t.|c5.t. 300 IN CNAME c6.t.", "", "");
	/* into a delegation: the referral after the CNAME, still authoritative */
	expect(f, "todeleg.t.", LDNS_RR_TYPE_A, 0, true, "todeleg.t. 300 IN CNAME host.d1.t.", D1_NS,
	       D1_GLUE);
}

static void test_referrals(void **state)
{
	struct fx *f = *state;
	expect(f, "d1.t.", LDNS_RR_TYPE_A, 0, false, "", D1_NS, D1_GLUE);
	expect(f, "d1.t.", LDNS_RR_TYPE_NS, 0, false, "", D1_NS, D1_GLUE);
	expect(f, "ns1.d1.t.", LDNS_RR_TYPE_A, 0, false, "", D1_NS, D1_GLUE);
	expect(f, "x.y.d1.t.", LDNS_RR_TYPE_AAAA, 0, false, "", D1_NS, D1_GLUE);
	expect(f, "x.d1.t.", LDNS_RR_TYPE_DS, 0, false, "", D1_NS, D1_GLUE);
	/* DS at the cut: the parent's data, authoritative */
	expect(f, "d1.t.", LDNS_RR_TYPE_DS, 0, true, "d1.t. 86400 IN DS 12345 8 2 " DS_HEX, "", "");
	expect(f, "d2.t.", LDNS_RR_TYPE_DS, 0, true, "", SOA_NEG, "");
	/* glue of another cut's name server: an in-zone address, optional */
	expect(f, "d2.t.", LDNS_RR_TYPE_A, 0, false, "", "d2.t. 86400 IN NS ns1.d1.t.", D1_GLUE);
}

/* The additional section is left out when it does not fit; the answer is cut (TC) only
 * when the answer itself does not. */
static void test_truncation(void **state)
{
	struct fx *f = *state;
	struct answer a;
	query(f, "t.", LDNS_RR_TYPE_NS, false, &a);
	assert_false(a.tc);
	assert_true(a.len <= 512);
	query(f, "t.", LDNS_RR_TYPE_NS, true, &a);
	assert_false(a.tc);
	assert_string_equal(a.sec[2], "ns1.t. 3600 IN A 192.0.2.1|ns1.t. 3600 IN AAAA 2001:db8::1");
	/* optional addresses: as many whole RRsets as fit, no TC */
	query(f, "many.t.", LDNS_RR_TYPE_MX, false, &a);
	assert_false(a.tc);
	assert_true(a.len <= 512);
	assert_non_null(strstr(a.sec[0], "many.t. 300 IN MX 14 m14.t."));
	assert_non_null(strstr(a.sec[2], "m00.t. 300 IN A 192.0.2.0"));
	assert_null(strstr(a.sec[2], "m14.t."));
	query(f, "many.t.", LDNS_RR_TYPE_MX, true, &a);
	assert_false(a.tc);
	assert_non_null(strstr(a.sec[2], "m14.t. 300 IN AAAA 2001:db8::14"));
	/* required glue of a referral that does not fit: TC, cut to the question */
	query(f, "x.d3.t.", LDNS_RR_TYPE_A, false, &a);
	assert_true(a.tc);
	assert_false(a.aa);
	assert_string_equal(a.sec[0], "");
	assert_string_equal(a.sec[1], "");
	query(f, "x.d3.t.", LDNS_RR_TYPE_A, true, &a);
	assert_false(a.tc);
	assert_non_null(strstr(a.sec[2], "ns15.d3.t. 300 IN AAAA 2001:db8:3::15"));
	/* NXDOMAIN counted as such */
	query(f, "nope.t.", LDNS_RR_TYPE_A, false, &a);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(f->mx, &text, &len), 0);
	assert_non_null(strstr(text, "xfrd_serve_queries_total{qtype=\"other\",rcode=\"NXDOMAIN\"} 1"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_data_nodata_nxdomain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_additional, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wildcards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cnames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_referrals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
