/* tests/unit/common/test_rdata.c -- RDATA against its type's wire format: every shape
 * of field (fixed, name, string, repeated strings, length-prefixed, bitmaps, SVCB
 * parameters, APL), both sides of each bound, opaque unknown types, type names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/rdata.h"

#include <string.h>

#define OK(type, s) assert_int_equal(rdata_check(type, (const uint8_t *)(s), sizeof(s) - 1, NULL), 0)
#define BAD(type, s) assert_int_equal(rdata_check(type, (const uint8_t *)(s), sizeof(s) - 1, NULL), \
                                      ZX_EFORMAT)

static void test_rdata_fixed_sizes(void **state)
{
	(void)state;
	OK(1, "\x0a\x00\x00\x01");                   /* A */
	BAD(1, "\x0a\x00\x01");                      /* A of 3 bytes (issue 11) */
	BAD(1, "\x0a\x00\x00\x01\x02");              /* A of 5 bytes */
	BAD(1, "");                                  /* A without its address */
	OK(28, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"); /* AAAA */
	BAD(28, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\x01");  /* 15 bytes */
	OK(108, "\x00\x11\x22\x33\x44\x55");         /* EUI48 */
	BAD(108, "\x00\x11\x22\x33\x44");
	const char *why = NULL;
	assert_int_equal(rdata_check(1, (const uint8_t *)"\x01\x02\x03", 3, &why), ZX_EFORMAT);
	assert_non_null(why);
	assert_non_null(strstr(why, "cut short"));
}

static void test_rdata_names(void **state)
{
	(void)state;
	OK(2, "\x02ns\x07" "example\x00");               /* NS */
	BAD(2, "\x02ns\x07" "example");                   /* runs past RDATA: no root label */
	BAD(2, "\x02ns\xc0\x0c");                      /* a compression pointer */
	BAD(2, "\x02ns\x07" "example\x00\x00");           /* a byte after the name */
	OK(15, "\x00\x0a\x04mail\x07" "example\x00");    /* MX */
	BAD(15, "\x00\x0a\x04mail\x07" "exa");             /* MX with a truncated name */
	BAD(15, "\x00");                                /* MX cut in its preference */
	BAD(15, "\x00\x0a");                            /* MX without its exchange */
	OK(6, "\x02ns\x00\x02hm\x00" "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5"); /* SOA */
	BAD(6, "\x02ns\x00\x02hm\x00" "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0"); /* 19 */
	OK(33, "\x00\x01\x00\x02\x00\x35\x03srv\x00"); /* SRV */
	OK(35, "\x00\x01\x00\x02\x01u\x07" "E2U+sip\x00\x00"); /* NAPTR, root replacement */
	BAD(35, "\x00\x01\x00\x02\x01u\x07" "E2U+sip\x00");    /* NAPTR without replacement */
}

static void test_rdata_strings(void **state)
{
	(void)state;
	OK(16, "\x05hello");                           /* TXT */
	OK(16, "\x05hello\x00\x03" "abc");                /* TXT of three strings, one empty */
	BAD(16, "");                                   /* TXT with no string */
	BAD(16, "\x06hello");                          /* a string past RDATA */
	OK(13, "\x03" "cpu\x02os");                    /* HINFO */
	BAD(13, "\x03" "cpu");                         /* HINFO's second string missing */
	OK(257, "\x00\x05issue\x0b" "example.net");    /* CAA: flags, tag, value (rest) */
	OK(51, "\x01\x00\x00\x0a\x00");                /* NSEC3PARAM, empty salt */
	BAD(51, "\x01\x00\x00\x0a\x04\xaa");           /* salt past RDATA */
}

static void test_rdata_rest_fields(void **state)
{
	(void)state;
	OK(48, "\x01\x01\x03\x08" "AwEAAQ");           /* DNSKEY */
	OK(48, "\x01\x01\x03\x08");                    /* DNSKEY, empty key: "the rest" */
	BAD(48, "\x01\x01\x03");                       /* DNSKEY cut in its algorithm */
	OK(43, "\x30\x39\x08\x02\xaa\xbb");            /* DS */
	OK(10, "");                                    /* NULL: anything, nothing too */
	OK(10, "\x01\x02\x03");
}

static void test_rdata_bitmaps_svcb_apl(void **state)
{
	(void)state;
	OK(47, "\x01" "a\x00\x00\x06\x40\x01\x00\x00\x00\x03"); /* NSEC: next, bitmap */
	OK(47, "\x01" "a\x00");                            /* NSEC, empty bitmap */
	BAD(47, "\x01" "a\x00\x00\x21");                   /* a window of 33 bytes */
	BAD(47, "\x01" "a\x00\x00\x01\x40\x00\x01\x40");   /* window 0 twice */
	BAD(47, "\x01" "a\x00\x00\x02\x40");               /* window past RDATA */
	OK(64, "\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x03\x00\x02\x01\xbb"); /* SVCB */
	OK(64, "\x00\x00\x03" "svc\x00");                  /* alias form, no parameters */
	BAD(64, "\x00\x01\x00\x00\x03\x00\x02\x01\xbb\x00\x01\x00\x00"); /* keys descending */
	BAD(64, "\x00\x01\x00\x00\x01\x00\x09\x02h2");    /* value past RDATA */
	OK(42, "\x00\x01\x18\x03\xc0\x00\x02");            /* APL 192.0.2.0/24 */
	BAD(42, "\x00\x01\x18\x04\xc0\x00\x02");           /* AFD part past RDATA */
	OK(55, "\x02\x01\x00\x02\xaa\xbb\x01\x02\x03ns1\x00"); /* HIP: HIT, key, a server */
	BAD(55, "\x02\x01\x00\x09\xaa\xbb\x01\x02");          /* key past RDATA */
}

static void test_rdata_unknown_types_opaque(void **state)
{
	(void)state;
	OK(54, "");                                    /* unassigned: anything */
	OK(54, "\xff\xff\xff");
	OK(65280, "\x01");                             /* private use */
	OK(32768, "");                                 /* TA: ldns has no descriptor here */
}

static void test_rdata_type_names(void **state)
{
	(void)state;
	char b[RDATA_TYPE_NAMELEN];
	assert_string_equal(rdata_type_name(1, b), "A");
	assert_string_equal(rdata_type_name(15, b), "MX");
	assert_string_equal(rdata_type_name(54, b), "TYPE54");
	assert_string_equal(rdata_type_name(65535, b), "TYPE65535");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rdata_fixed_sizes),
		cmocka_unit_test(test_rdata_names),
		cmocka_unit_test(test_rdata_strings),
		cmocka_unit_test(test_rdata_rest_fields),
		cmocka_unit_test(test_rdata_bitmaps_svcb_apl),
		cmocka_unit_test(test_rdata_unknown_types_opaque),
		cmocka_unit_test(test_rdata_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
