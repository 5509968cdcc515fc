/* tests/unit/common/test_dname.c -- wire names: text, case, order, subdomains. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dname.h"

#include <string.h>

static void test_dname_text_round_trip_lowercases(void **state)
{
	(void)state;
	uint8_t w[DNAME_MAXLEN];
	char t[DNAME_TEXTLEN];
	int len = dname_from_text("WWW.Example.COM", w);
	assert_int_equal(len, 17);
	assert_memory_equal(w, "\3www\7example\3com\0", 17);
	assert_int_equal(dname_to_text(w, t, sizeof(t)), 0);
	assert_string_equal(t, "www.example.com.");
	assert_int_equal(dname_from_text(".", w), 1);
	assert_int_equal(dname_to_text(w, t, sizeof(t)), 0);
	assert_string_equal(t, ".");
}

static void test_dname_escapes_via_ldns(void **state)
{
	(void)state;
	uint8_t w[DNAME_MAXLEN];
	char t[DNAME_TEXTLEN];
	int len = dname_from_text("a\\.b.example.", w);
	assert_int_equal(len, 1 + 3 + 1 + 7 + 1);
	assert_int_equal(w[0], 3);
	assert_int_equal(dname_to_text(w, t, sizeof(t)), 0);
	assert_string_equal(t, "a\\.b.example.");
	assert_int_equal(dname_to_text(w, t, 4), ZX_ELIMIT);
}

static void test_dname_wire_len_validates(void **state)
{
	(void)state;
	assert_int_equal(dname_wire_len((const uint8_t *)"\3com\0", 5), 5);
	assert_int_equal(dname_wire_len((const uint8_t *)"\3com", 4), ZX_ETRUNC);
	assert_int_equal(dname_wire_len((const uint8_t *)"\xc0\x0c", 2), ZX_EFORMAT);
	uint8_t longname[300];
	memset(longname, 0, sizeof(longname));
	for (int i = 0; i < 5; i++) {
		longname[i * 64] = 63; /* 5 * 64 = 320 > 255 */
	}
	assert_int_equal(dname_wire_len(longname, sizeof(longname)), ZX_EFORMAT);
}

static void test_dname_subdomain_and_equal(void **state)
{
	(void)state;
	const uint8_t *zone = (const uint8_t *)"\7example\3com";
	assert_true(dname_is_subdomain((const uint8_t *)"\3www\7EXAMPLE\3com", zone));
	assert_true(dname_is_subdomain(zone, zone));
	assert_false(dname_is_subdomain((const uint8_t *)"\3www\10xexample\3com", zone));
	assert_false(dname_is_subdomain((const uint8_t *)"\3com", zone));
	assert_true(dname_is_subdomain((const uint8_t *)"\3com", (const uint8_t *)""));
	assert_true(dname_equal((const uint8_t *)"\3WwW\0", (const uint8_t *)"\3www\0"));
	assert_int_equal(dname_labels(zone), 2);
	assert_int_equal(dname_labels((const uint8_t *)""), 0);
}

static void test_dname_canonical_order_rfc4034(void **state)
{
	(void)state;
	/* RFC 4034 6.1's example list, in order. */
	const char *sorted[] = {"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
	                        "zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.",
	                        "*.z.example.", "\\200.z.example."};
	uint8_t a[DNAME_MAXLEN], b[DNAME_MAXLEN];
	for (size_t i = 0; i + 1 < sizeof(sorted) / sizeof(sorted[0]); i++) {
		assert_true(dname_from_text(sorted[i], a) > 0);
		assert_true(dname_from_text(sorted[i + 1], b) > 0);
		assert_true(dname_canonical_cmp(a, b) < 0);
		assert_true(dname_canonical_cmp(b, a) > 0);
		assert_int_equal(dname_canonical_cmp(a, a), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dname_text_round_trip_lowercases),
		cmocka_unit_test(test_dname_escapes_via_ldns),
		cmocka_unit_test(test_dname_wire_len_validates),
		cmocka_unit_test(test_dname_subdomain_and_equal),
		cmocka_unit_test(test_dname_canonical_order_rfc4034),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
