/* tests/unit/xfrd/tools/test_zonecopy.c -- zx-follow's zone copy: AXFR and IXFR events,
 * the all-or-nothing rule, the zone file written atomically and read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dname.h"
#include "xfrd/tools/zonecopy.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOA(s) "example.com. 3600 IN SOA ns.example.com. h.example.com. " #s " 3600 900 86400 300"

static uint8_t zone[DNAME_MAXLEN];

/* One event with the RR given as text. */
static int ev(struct zonecopy *c, enum xfrstream_ev e, const char *text)
{
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL), LDNS_STATUS_OK);
	assert_int_equal(ldns_rr2wire(&wire, rr, LDNS_SECTION_ANSWER, &len), LDNS_STATUS_OK);
	int on = dname_wire_len(wire, len);
	assert_true(on > 0);
	const uint8_t *p = wire + on;
	struct xfrstream_rr x = {.owner = wire, .owner_len = (size_t)on,
	                         .type = (uint16_t)(p[0] << 8 | p[1]),
	                         .rclass = (uint16_t)(p[2] << 8 | p[3]),
	                         .ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	                                (uint32_t)p[6] << 8 | p[7],
	                         .rdlen = (size_t)(p[8] << 8 | p[9]), .rdata = p + 10};
	if (x.type == LDNS_RR_TYPE_SOA) {
		x.serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	}
	int rc = zonecopy_apply(c, e, &x);
	free(wire);
	ldns_rr_free(rr);
	return rc;
}

/* example.com at serial 1: SOA, NS, a, b. */
static void axfr1(struct zonecopy *c)
{
	assert_int_equal(zonecopy_init(c, zone), 0);
	assert_int_equal(ev(c, XFRSTREAM_BEGIN_AXFR, SOA(1)), 0);
	assert_int_equal(ev(c, XFRSTREAM_ADD, "example.com. 3600 IN NS ns.example.com."), 0);
	assert_int_equal(ev(c, XFRSTREAM_ADD, "B.example.com. 300 IN A 192.0.2.2"), 0);
	assert_int_equal(ev(c, XFRSTREAM_ADD, "a.example.com. 300 IN A 192.0.2.1"), 0);
	assert_int_equal(ev(c, XFRSTREAM_ADD, "a.example.com. 300 IN A 192.0.2.1"), 0); /* dup */
	assert_false(c->loaded);
	assert_int_equal(ev(c, XFRSTREAM_END, SOA(1)), 0);
	assert_true(c->loaded);
	assert_int_equal(c->serial, 1);
	assert_int_equal(c->records, 4);
}

/* The file text of @p c, sorted by ldns-independent means: written, then read. */
static char *file_text(const struct zonecopy *c, const char *path)
{
	assert_int_equal(zonecopy_write(c, path, "test"), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_zonecopy_axfr_then_ixfr(void **state)
{
	(void)state;
	struct zonecopy c;
	axfr1(&c);
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_IXFR, SOA(3)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL_SOA, SOA(1)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL, "a.example.com. 300 IN A 192.0.2.1"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD_SOA, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "c.example.com. 300 IN A 192.0.2.3"), 0);
	/* second change set: deletes what the first added, changes a TTL */
	assert_int_equal(ev(&c, XFRSTREAM_DEL_SOA, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL, "c.example.com. 300 IN A 192.0.2.3"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD_SOA, SOA(3)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "b.example.com. 60 IN A 192.0.2.2"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "d.example.com. 60 IN TXT \"x\""), 0);
	assert_int_equal(c.serial, 1); /* nothing changes before the end */
	assert_int_equal(ev(&c, XFRSTREAM_END, SOA(3)), 0);
	assert_int_equal(c.serial, 3);
	assert_int_equal(c.records, 4);
	char path[] = "/tmp/test_zonecopy.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	const char *t = file_text(&c, path);
	assert_non_null(strstr(t, "; test\nexample.com.\t3600\tIN\tSOA"));
	assert_non_null(strstr(t, "b.example.com.\t60\tIN\tA\t192.0.2.2"));
	assert_non_null(strstr(t, "d.example.com.\t60\tIN\tTXT\t\"x\""));
	assert_null(strstr(t, "a.example.com."));
	assert_null(strstr(t, "c.example.com."));
	/* read back: the same text */
	char *first = strdup(t);
	struct zonecopy d;
	assert_int_equal(zonecopy_init(&d, zone), 0);
	assert_int_equal(zonecopy_load(&d, path), 0);
	assert_int_equal(d.serial, 3);
	assert_int_equal(d.records, 4);
	assert_string_equal(file_text(&d, path), first);
	free(first);
	unlink(path);
	zonecopy_deinit(&d);
	zonecopy_deinit(&c);
}

static void test_zonecopy_uptodate_changes_nothing(void **state)
{
	(void)state;
	struct zonecopy c;
	axfr1(&c);
	assert_int_equal(ev(&c, XFRSTREAM_UPTODATE, SOA(1)), 0);
	assert_int_equal(c.serial, 1);
	assert_int_equal(c.records, 4);
	zonecopy_deinit(&c);
}

static void test_zonecopy_ediff_keeps_the_copy(void **state)
{
	(void)state;
	struct zonecopy c;
	axfr1(&c);
	/* a deletion of a record not held */
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_IXFR, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL_SOA, SOA(1)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL, "zz.example.com. 300 IN A 192.0.2.9"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD_SOA, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "e.example.com. 300 IN A 192.0.2.5"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_END, SOA(2)), ZX_EDIFF);
	zonecopy_abort(&c);
	assert_int_equal(c.serial, 1);
	assert_int_equal(c.records, 4);
	/* a change set that does not start from our serial */
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_IXFR, SOA(5)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL_SOA, SOA(4)), ZX_EDIFF);
	zonecopy_abort(&c);
	/* the copy still takes a good diff after that */
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_IXFR, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL_SOA, SOA(1)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_DEL, "b.example.com. 300 IN A 192.0.2.2"), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD_SOA, SOA(2)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_END, SOA(2)), 0);
	assert_int_equal(c.records, 3);
	zonecopy_deinit(&c);
	/* an IXFR into an empty copy */
	assert_int_equal(zonecopy_init(&c, zone), 0);
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_IXFR, SOA(2)), ZX_EDIFF);
	zonecopy_deinit(&c);
}

static void test_zonecopy_einval(void **state)
{
	(void)state;
	struct zonecopy c;
	const uint8_t bad[] = {0x50, 0};
	assert_int_equal(zonecopy_init(&c, bad), ZX_EINVAL);
	assert_int_equal(zonecopy_init(&c, zone), 0);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "a.example.com. 300 IN A 192.0.2.1"), ZX_EINVAL);
	assert_int_equal(ev(&c, XFRSTREAM_END, SOA(1)), ZX_EINVAL);
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_AXFR, SOA(1)), 0);
	assert_int_equal(ev(&c, XFRSTREAM_BEGIN_AXFR, SOA(1)), ZX_EINVAL);
	assert_int_equal(ev(&c, XFRSTREAM_ADD, "a.example.org. 300 IN A 192.0.2.1"), ZX_EINVAL);
	assert_int_equal(ev(&c, XFRSTREAM_DEL, "a.example.com. 300 IN A 192.0.2.1"), ZX_EINVAL);
	zonecopy_abort(&c);
	assert_false(c.loaded);
	const uint8_t *rd = NULL;
	size_t rdlen = 0;
	assert_int_equal(zonecopy_soa(&c, &rd, &rdlen), ZX_ENOENT);
	assert_int_equal(zonecopy_write(&c, "/tmp/never", NULL), ZX_EINVAL);
	zonecopy_deinit(&c);
	axfr1(&c);
	assert_int_equal(zonecopy_soa(&c, &rd, &rdlen), 0);
	assert_true(rdlen > 20);
	assert_int_equal(zonecopy_write(&c, "/nonexistent-dir/x.zone", NULL), ZX_EIO);
	zonecopy_deinit(&c);
}

static void test_zonecopy_load_errors(void **state)
{
	(void)state;
	struct zonecopy c;
	char path[] = "/tmp/test_zonecopy.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	axfr1(&c);
	assert_int_equal(zonecopy_load(&c, "/nonexistent-dir/x.zone"), ZX_ENOENT);
	assert_false(c.loaded);
	FILE *f = fopen(path, "w");
	fputs("a.example.com. 300 IN A 192.0.2.1\n", f); /* no SOA */
	fclose(f);
	assert_int_equal(zonecopy_load(&c, path), ZX_EFORMAT);
	f = fopen(path, "w");
	fputs(SOA(1) "\nwww.example.org. 300 IN A 192.0.2.1\n", f); /* outside the zone */
	fclose(f);
	assert_int_equal(zonecopy_load(&c, path), ZX_EFORMAT);
	f = fopen(path, "w");
	fputs(SOA(1) "\nwww.example.com. 300 IN A 999.1\n", f); /* does not parse */
	fclose(f);
	assert_int_equal(zonecopy_load(&c, path), ZX_EFORMAT);
	assert_false(c.loaded);
	f = fopen(path, "w"); /* an AXFR dump: the closing SOA again */
	fputs(SOA(7) "\nwww.example.com. 300 IN A 192.0.2.1\n" SOA(7) "\n", f);
	fclose(f);
	assert_int_equal(zonecopy_load(&c, path), 0);
	assert_int_equal(c.serial, 7);
	assert_int_equal(c.records, 2);
	f = fopen(path, "w"); /* sorted text: the SOA is not first */
	fputs("a.example.com. 300 IN A 192.0.2.1\n" SOA(8) "\nz.example.com. 300 IN A 192.0.2.2\n", f);
	fclose(f);
	assert_int_equal(zonecopy_load(&c, path), 0);
	assert_int_equal(c.serial, 8);
	assert_int_equal(c.records, 3);
	unlink(path);
	zonecopy_deinit(&c);
}

int main(void)
{
	assert_true(dname_from_text("example.com", zone) > 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zonecopy_axfr_then_ixfr),
		cmocka_unit_test(test_zonecopy_uptodate_changes_nothing),
		cmocka_unit_test(test_zonecopy_ediff_keeps_the_copy),
		cmocka_unit_test(test_zonecopy_einval),
		cmocka_unit_test(test_zonecopy_load_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
