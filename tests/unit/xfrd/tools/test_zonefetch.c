/* tests/unit/xfrd/tools/test_zonefetch.c -- zx-follow's fetch: from a store (journal IXFR,
 * whole zone when the journal does not reach back or the copy disagrees, up to
 * date, unknown zone) and the DNS path's connection errors on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dname.h"
#include "common/store/zdb.h"
#include "xfrd/tools/zonefetch.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOA(s) "example.com. 3600 IN SOA ns.example.com. h.example.com. " #s " 3600 900 86400 300"

static uint8_t zone[DNAME_MAXLEN];
static char dir[] = "/tmp/test_zonefetch.XXXXXX";
static struct zdb *db;

/* RR text -> wire pieces handed to @p fn as a zdb_rr (and as an xfrstream_rr). */
struct rrw {
	uint8_t *wire;
	struct zdb_rr z;
	struct xfrstream_rr x;
};

static void rrw(const char *text, struct rrw *r)
{
	ldns_rr *rr = NULL;
	size_t len = 0;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr2wire(&r->wire, rr, LDNS_SECTION_ANSWER, &len), LDNS_STATUS_OK);
	int on = dname_wire_len(r->wire, len);
	const uint8_t *p = r->wire + on;
	r->z = (struct zdb_rr){.owner = r->wire, .owner_len = (size_t)on,
	                       .type = (uint16_t)(p[0] << 8 | p[1]),
	                       .rclass = (uint16_t)(p[2] << 8 | p[3]),
	                       .ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	                              (uint32_t)p[6] << 8 | p[7],
	                       .rdlen = (uint16_t)(p[8] << 8 | p[9]), .rdata = p + 10};
	r->x = (struct xfrstream_rr){.owner = r->z.owner, .owner_len = r->z.owner_len,
	                             .type = r->z.type, .rclass = r->z.rclass, .ttl = r->z.ttl,
	                             .rdata = r->z.rdata, .rdlen = r->z.rdlen};
	if (r->z.type == LDNS_RR_TYPE_SOA) {
		r->x.serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	}
	ldns_rr_free(rr);
}

static void axfr_add(struct zdb_axfr *a, const char *text)
{
	struct rrw r;
	rrw(text, &r);
	assert_int_equal(zdb_axfr_add(a, &r.z), 0);
	free(r.wire);
}

static void ixfr(struct zdb_ixfr *x, bool del, const char *text)
{
	struct rrw r;
	rrw(text, &r);
	assert_int_equal(del ? zdb_ixfr_del(x, &r.z) : zdb_ixfr_add(x, &r.z), 0);
	free(r.wire);
}

static void copy_ev(struct zonecopy *c, enum xfrstream_ev ev, const char *text)
{
	struct rrw r;
	rrw(text, &r);
	assert_int_equal(zonecopy_apply(c, ev, &r.x), 0);
	free(r.wire);
}

/* The store: serial 1 {a, b}, then 1 -> 2 (-a +c), 2 -> 3 (+d). */
static int setup(void **state)
{
	(void)state;
	struct zdb_opts o;
	struct zdb_axfr *a = NULL;
	struct zdb_ixfr *x = NULL;
	assert_true(dname_from_text("example.com", zone) > 0);
	assert_non_null(mkdtemp(dir));
	zdb_opts_init(&o);
	o.path = dir;
	o.map_size = (size_t)16 << 20;
	o.sync = ZDB_SYNC_NONE;
	assert_int_equal(zdb_open(&o, &db), 0);
	assert_int_equal(zdb_axfr_begin(db, zone, &a), 0);
	axfr_add(a, SOA(1));
	axfr_add(a, "a.example.com. 300 IN A 192.0.2.1");
	axfr_add(a, "b.example.com. 300 IN A 192.0.2.2");
	assert_int_equal(zdb_axfr_commit(a, 1, "test", NULL), 0);
	assert_int_equal(zdb_ixfr_begin(db, zone, &x), 0);
	ixfr(x, true, SOA(1));
	ixfr(x, true, "a.example.com. 300 IN A 192.0.2.1");
	ixfr(x, false, SOA(2));
	ixfr(x, false, "c.example.com. 300 IN A 192.0.2.3");
	assert_int_equal(zdb_ixfr_commit(x, 2, "test", NULL), 0);
	assert_int_equal(zdb_ixfr_begin(db, zone, &x), 0);
	ixfr(x, true, SOA(2));
	ixfr(x, false, SOA(3));
	ixfr(x, false, "d.example.com. 300 IN TXT \"d\"");
	assert_int_equal(zdb_ixfr_commit(x, 3, "test", NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zdb_close(db);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A copy at serial 1 as the store had it, less @p skip_a's record a. */
static void copy_at_1(struct zonecopy *c, bool skip_a)
{
	assert_int_equal(zonecopy_init(c, zone), 0);
	copy_ev(c, XFRSTREAM_BEGIN_AXFR, SOA(1));
	if (!skip_a) {
		copy_ev(c, XFRSTREAM_ADD, "a.example.com. 300 IN A 192.0.2.1");
	}
	copy_ev(c, XFRSTREAM_ADD, "b.example.com. 300 IN A 192.0.2.2");
	copy_ev(c, XFRSTREAM_END, SOA(1));
}

static void test_zonefetch_store_whole_then_uptodate(void **state)
{
	(void)state;
	struct zonecopy c;
	struct zonefetch_src src = {.store = db};
	struct zonefetch_result res;
	assert_int_equal(zonecopy_init(&c, zone), 0);
	assert_int_equal(zonefetch(&c, &src, &res), 0);
	assert_string_equal(res.method, "axfr");
	assert_int_equal(res.from, 0);
	assert_int_equal(res.to, 3);
	assert_int_equal(c.records, 4); /* SOA b c d */
	assert_int_equal(zonefetch(&c, &src, &res), 0);
	assert_string_equal(res.method, "none");
	assert_int_equal(res.to, 3);
	zonecopy_deinit(&c);
}

static void test_zonefetch_store_journal(void **state)
{
	(void)state;
	struct zonecopy c;
	struct zonefetch_src src = {.store = db};
	struct zonefetch_result res;
	copy_at_1(&c, false);
	assert_int_equal(zonefetch(&c, &src, &res), 0);
	assert_string_equal(res.method, "ixfr");
	assert_int_equal(res.from, 1);
	assert_int_equal(res.to, 3);
	assert_int_equal(res.changes, 3); /* -a +c +d */
	assert_int_equal(c.records, 4);
	zonecopy_deinit(&c);
}

static void test_zonefetch_store_falls_back_to_the_whole_zone(void **state)
{
	(void)state;
	struct zonecopy c;
	struct zonefetch_src src = {.store = db};
	struct zonefetch_result res;
	copy_at_1(&c, true); /* the journal deletes a, which this copy lacks */
	assert_int_equal(zonefetch(&c, &src, &res), 0);
	assert_string_equal(res.method, "axfr");
	assert_int_equal(res.to, 3);
	assert_int_equal(c.records, 4);
	zonecopy_deinit(&c);
	/* a serial the journal does not know */
	assert_int_equal(zonecopy_init(&c, zone), 0);
	copy_ev(&c, XFRSTREAM_BEGIN_AXFR, SOA(7));
	copy_ev(&c, XFRSTREAM_END, SOA(7));
	assert_int_equal(zonefetch(&c, &src, &res), 0);
	assert_string_equal(res.method, "axfr");
	assert_int_equal(res.from, 7);
	assert_int_equal(res.to, 3);
	zonecopy_deinit(&c);
}

static void test_zonefetch_store_unknown_zone(void **state)
{
	(void)state;
	struct zonecopy c;
	uint8_t other[DNAME_MAXLEN];
	struct zonefetch_src src = {.store = db};
	struct zonefetch_result res;
	assert_true(dname_from_text("other.test", other) > 0);
	assert_int_equal(zonecopy_init(&c, other), 0);
	assert_int_equal(zonefetch(&c, &src, &res), ZX_ENOTFOUND);
	assert_false(c.loaded);
	assert_true(res.why[0] != '\0');
	zonecopy_deinit(&c);
}

/* A loopback TCP port: listening (never answering) or closed. */
static int tcp_port(bool listening, int *fd_out, struct zonefetch_src *src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	if (listening) {
		assert_int_equal(listen(fd, 4), 0);
		*fd_out = fd;
	} else {
		close(fd);
		*fd_out = -1;
	}
	memcpy(&src->addr, &sin, sizeof(sin));
	src->addr_len = sizeof(sin);
	return 0;
}

static void test_zonefetch_dns_connection_errors(void **state)
{
	(void)state;
	struct zonecopy c;
	struct zonefetch_src src = {.timeout_ms = 100};
	struct zonefetch_result res;
	int fd;
	assert_int_equal(zonecopy_init(&c, zone), 0);
	tcp_port(false, &fd, &src);
	assert_int_equal(zonefetch(&c, &src, &res), ZX_ECONNREFUSED);
	tcp_port(true, &fd, &src); /* accepted by the kernel, never answered */
	assert_int_equal(zonefetch(&c, &src, &res), ZX_ETIMEDOUT);
	assert_false(c.loaded);
	close(fd);
	zonecopy_deinit(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zonefetch_store_whole_then_uptodate),
		cmocka_unit_test(test_zonefetch_store_journal),
		cmocka_unit_test(test_zonefetch_store_falls_back_to_the_whole_zone),
		cmocka_unit_test(test_zonefetch_store_unknown_zone),
		cmocka_unit_test(test_zonefetch_dns_connection_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
