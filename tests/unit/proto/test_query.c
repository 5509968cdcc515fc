/* tests/unit/proto/test_query.c -- SOA/IXFR/AXFR queries and the SOA answer check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnsmsg.h"
#include "tests/unit/testutil/msgbuild.h"
#include "proto/query.h"

#include <ldns/ldns.h>
#include <string.h>

static const uint8_t zone[] = "\x07" "example" "\x03" "com";
#define SOA "example.com. 3600 IN SOA ns.example.com. h.example.com. 77 3600 900 86400 300"

static void test_query_build_ixfr_parses_with_ldns(void **state)
{
	(void)state;
	uint8_t buf[QUERY_MAX];
	size_t len = 0;
	assert_int_equal(query_build(buf, sizeof(buf), &len, 0x1234, zone, DNS_T_IXFR, 41, NULL, 0),
	                 0);
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, buf, len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(pkt), 0x1234);
	assert_false(ldns_pkt_qr(pkt));
	assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)),
	                 LDNS_RR_TYPE_IXFR);
	ldns_rr *soa = ldns_rr_list_rr(ldns_pkt_authority(pkt), 0);
	assert_non_null(soa);
	assert_int_equal(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 41);
	ldns_pkt_free(pkt);
}

static void test_query_build_soa_and_axfr_have_no_authority(void **state)
{
	(void)state;
	uint8_t buf[QUERY_MAX];
	size_t len = 0;
	assert_int_equal(query_build(buf, sizeof(buf), &len, 1, zone, DNS_T_SOA, 0, NULL, 0), 0);
	assert_int_equal(len, 12 + 13 + 4);
	assert_int_equal(query_build(buf, sizeof(buf), &len, 1, zone, DNS_T_AXFR, 0, NULL, 0), 0);
	assert_int_equal(buf[9], 0); /* NSCOUNT low byte */
}

static void test_query_build_errors(void **state)
{
	(void)state;
	uint8_t buf[QUERY_MAX];
	size_t len = 99;
	const uint8_t bad_soa[] = {0, 0, 1, 2};
	assert_int_equal(query_build(buf, sizeof(buf), &len, 1, zone, DNS_T_A, 0, NULL, 0),
	                 ZX_EINVAL);
	assert_int_equal(query_build(buf, sizeof(buf), &len, 1, (const uint8_t *)"\x50", DNS_T_SOA,
	                             0, NULL, 0), ZX_EINVAL);
	assert_int_equal(query_build(buf, sizeof(buf), &len, 1, zone, DNS_T_IXFR, 0, bad_soa,
	                             sizeof(bad_soa)), ZX_EINVAL);
	assert_int_equal(query_build(buf, 20, &len, 1, zone, DNS_T_SOA, 0, NULL, 0), ZX_ELIMIT);
	assert_int_equal(len, 99); /* untouched */
}

static void test_soa_answer_serial(void **state)
{
	(void)state;
	uint8_t msg[512];
	const char *rrs[] = {SOA, NULL};
	size_t len = msgbuild(msg, sizeof(msg), 7, 0, "example.com.", DNS_T_SOA, 1, rrs);
	struct query_soa a;
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), 0);
	assert_int_equal(a.serial, 77);
	assert_false(a.truncated);
}

static void test_soa_answer_codes(void **state)
{
	(void)state;
	uint8_t msg[512];
	struct query_soa a = {.serial = 5};
	const char *rrs[] = {SOA, NULL};
	size_t len = msgbuild(msg, sizeof(msg), 7, 0, "example.com.", DNS_T_SOA, 1, rrs);
	assert_int_equal(query_soa_answer(msg, len, 8, zone, &a), ZX_EXFR); /* wrong ID */
	assert_int_equal(a.serial, 5);
	assert_int_equal(query_soa_answer(msg, 5, 7, zone, &a), ZX_ETRUNC);
	assert_int_equal(query_soa_answer(msg, len - 2, 7, zone, &a), ZX_ETRUNC);
	len = msgbuild(msg, sizeof(msg), 7, 0, "example.net.", DNS_T_SOA, 1, rrs);
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), ZX_EXFR); /* wrong question */
	const char *none[] = {"example.com. 60 IN A 192.0.2.1", NULL};
	len = msgbuild(msg, sizeof(msg), 7, 0, "example.com.", DNS_T_SOA, 1, none);
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), ZX_ENOTFOUND);
	len = msgbuild(msg, sizeof(msg), 7, DNS_RC_REFUSED, "example.com.", DNS_T_SOA, 1, NULL);
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), ZX_ERCODE);
	assert_int_equal(a.rcode, DNS_RC_REFUSED);
	len = msgbuild(msg, sizeof(msg), 7, 0, "example.com.", DNS_T_SOA, 1, NULL);
	msg[2] |= DNS_FLAG_TC >> 8;
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), 0);
	assert_true(a.truncated);
	const char *bad[] = {"example.com. 3600 IN SOA ns.example.com. h.example.com. 1 2 3 4 5",
	                     NULL};
	len = msgbuild(msg, sizeof(msg), 7, 0, "example.com.", DNS_T_SOA, 1, bad);
	msg[len - 1] = 0;
	msg[len - 22 - 2] = 0; /* RDLENGTH low byte: the SOA no longer fits its RDATA */
	assert_int_equal(query_soa_answer(msg, len, 7, zone, &a), ZX_EFORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_build_ixfr_parses_with_ldns),
		cmocka_unit_test(test_query_build_soa_and_axfr_have_no_authority),
		cmocka_unit_test(test_query_build_errors),
		cmocka_unit_test(test_soa_answer_serial),
		cmocka_unit_test(test_soa_answer_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
