/* tests/unit/proto/test_proxy.c -- PROXY v1/v2 codec: every documented result code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/proxy.h"

#include "common/acl.h"

#include <arpa/inet.h>
#include <string.h>

static struct sockaddr_storage ep(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(acl_endpoint_parse(text, 0, &ss, &len), 0);
	return ss;
}

static const char *src_str(const struct proxy_hdr *h, char *buf)
{
	return acl_addr_str((const struct sockaddr *)&h->src, true, buf, ACL_ADDRSTRLEN);
}

static int parse_str(const char *s, struct proxy_hdr *h)
{
	return proxy_parse((const uint8_t *)s, strlen(s), h);
}

static void test_proxy_crc32c_known_vector(void **state)
{
	(void)state;
	assert_int_equal(proxy_crc32c(0, (const uint8_t *)"123456789", 9), 0xe3069283u);
	uint32_t c = proxy_crc32c(0, (const uint8_t *)"1234", 4);
	assert_int_equal(proxy_crc32c(c, (const uint8_t *)"56789", 5), 0xe3069283u);
}

static void test_proxy_v1_tcp4_and_payload_offset(void **state)
{
	(void)state;
	const char *s = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 53\r\n\x00\x1d";
	struct proxy_hdr h;
	char buf[ACL_ADDRSTRLEN];
	assert_int_equal(proxy_parse((const uint8_t *)s, strlen(s) + 2, &h), 0);
	assert_int_equal(h.version, 1);
	assert_false(h.local);
	assert_int_equal(h.transport, PROXY_TRANSPORT_STREAM);
	assert_int_equal(h.len, strlen(s));
	assert_string_equal(src_str(&h, buf), "192.0.2.7@56324");
	assert_string_equal(acl_addr_str((struct sockaddr *)&h.dst, true, buf, sizeof(buf)),
	                    "198.51.100.1@53");
	assert_null(h.tlv);
}

static void test_proxy_v1_tcp6_and_unknown(void **state)
{
	(void)state;
	struct proxy_hdr h;
	char buf[ACL_ADDRSTRLEN];
	assert_int_equal(parse_str("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n", &h), 0);
	assert_string_equal(src_str(&h, buf), "2001:db8::1@65535");
	assert_int_equal(parse_str("PROXY UNKNOWN\r\n", &h), 0);
	assert_true(h.local);
	assert_int_equal(h.len, 15);
	assert_int_equal(parse_str("PROXY UNKNOWN ffff::1 ::1 1 2\r\n", &h), 0);
	assert_true(h.local);
}

static void test_proxy_v1_malformed_is_eformat(void **state)
{
	(void)state;
	static const char *bad[] = {
		"PROXY TCP4 192.0.2.7 198.51.100.1 56324 053\r\n", /* leading zero */
		"PROXY TCP4 192.0.2.7 198.51.100.1 65536 53\r\n",  /* port range */
		"PROXY TCP4 ::1 198.51.100.1 1 53\r\n",            /* family mismatch */
		"PROXY TCP6 192.0.2.7 ::1 1 53\r\n",
		"PROXY TCP4 192.0.2.7  198.51.100.1 1 53\r\n",     /* double space */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1 53 9\r\n",    /* extra token */
		"PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n",         /* missing token */
		"PROXY UDP4 192.0.2.7 198.51.100.1 1 53\r\n",
		"PROXY UNKNOWNX\r\n",
		"PROXY TCP4 192.0.2.300 198.51.100.1 1 53\r\n",
		"PROXY TCP4 192.0.2.7 198.51.100.1 1a 53\r\n",
		"PROXY \r\n",
	};
	struct proxy_hdr h;
	memset(&h, 0x5a, sizeof(h));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(bad[i], &h), ZX_EFORMAT);
	}
	assert_int_equal(h.version, 0x5a5a5a5a); /* untouched */
	char longline[PROXY_V1_MAXLEN + 10];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY TCP4 ", 11);
	assert_int_equal(proxy_parse((uint8_t *)longline, sizeof(longline), &h), ZX_EFORMAT);
}

static void test_proxy_v1_truncated_is_etrunc(void **state)
{
	(void)state;
	struct proxy_hdr h;
	assert_int_equal(parse_str("PRO", &h), ZX_ETRUNC);
	assert_int_equal(parse_str("PROXY TCP4 192.0.2.7 198.51.100.1 1 53\r", &h), ZX_ETRUNC);
	assert_int_equal(parse_str("PROXY TCP4 192.0.2.7", &h), ZX_ETRUNC);
}

static void test_proxy_not_a_header_is_eproxy(void **state)
{
	(void)state;
	struct proxy_hdr h;
	const uint8_t dns[] = {0x12, 0x34, 0x20, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0};
	assert_int_equal(proxy_parse(dns, sizeof(dns), &h), ZX_EPROXY);
	assert_int_equal(parse_str("PROXX TCP4", &h), ZX_EPROXY);
	assert_int_equal(proxy_parse(dns, 0, &h), ZX_EPROXY);
	const uint8_t almost[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0b};
	assert_int_equal(proxy_parse(almost, sizeof(almost), &h), ZX_EPROXY);
}

static void test_proxy_v2_round_trip_v4_udp(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("127.0.0.9@5300"), d = ep("127.0.0.1@20053");
	uint8_t buf[128];
	int n = proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&d,
	                       PROXY_TRANSPORT_DGRAM, NULL, 0, false, buf, sizeof(buf));
	assert_int_equal(n, 28); /* what dnsdist sends */
	struct proxy_hdr h;
	char txt[ACL_ADDRSTRLEN];
	assert_int_equal(proxy_parse(buf, (size_t)n + 5, &h), 0);
	assert_int_equal(h.version, 2);
	assert_int_equal(h.len, 28);
	assert_int_equal(h.transport, PROXY_TRANSPORT_DGRAM);
	assert_string_equal(src_str(&h, txt), "127.0.0.9@5300");
	assert_null(h.tlv);
	size_t pos = 0;
	struct proxy_tlv t;
	assert_int_equal(proxy_tlv_next(&h, &pos, &t), 0);
}

static void test_proxy_v2_v6_with_tlvs_and_crc(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("2001:db8::7@4242"), d = ep("::1@53");
	const uint8_t tlv[] = {PROXY_TLV_UNIQUE_ID, 0, 3, 'a', 'b', 'c', PROXY_TLV_NOOP, 0, 0};
	uint8_t buf[256];
	int n = proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&d,
	                       PROXY_TRANSPORT_STREAM, tlv, sizeof(tlv), true, buf, sizeof(buf));
	assert_int_equal(n, 16 + 36 + 9 + 7);
	struct proxy_hdr h;
	char txt[ACL_ADDRSTRLEN];
	assert_int_equal(proxy_parse(buf, (size_t)n, &h), 0);
	assert_string_equal(src_str(&h, txt), "2001:db8::7@4242");
	assert_int_equal(h.tlv_len, 16);
	size_t pos = 0;
	struct proxy_tlv t;
	assert_int_equal(proxy_tlv_next(&h, &pos, &t), 1);
	assert_int_equal(t.type, PROXY_TLV_UNIQUE_ID);
	assert_int_equal(t.len, 3);
	assert_memory_equal(t.value, "abc", 3);
	assert_int_equal(proxy_tlv_next(&h, &pos, &t), 1);
	assert_int_equal(t.type, PROXY_TLV_NOOP);
	assert_int_equal(proxy_tlv_next(&h, &pos, &t), 1);
	assert_int_equal(t.type, PROXY_TLV_CRC32C);
	assert_int_equal(proxy_tlv_next(&h, &pos, &t), 0);
	/* Any flipped address bit breaks the CRC. */
	buf[20] ^= 1;
	assert_int_equal(proxy_parse(buf, (size_t)n, &h), ZX_EFORMAT);
}

static void test_proxy_v2_local_is_local(void **state)
{
	(void)state;
	uint8_t buf[64];
	int n = proxy_write_v2(NULL, NULL, PROXY_TRANSPORT_UNSPEC, NULL, 0, false, buf, sizeof(buf));
	assert_int_equal(n, 16);
	struct proxy_hdr h;
	assert_int_equal(proxy_parse(buf, (size_t)n, &h), 0);
	assert_true(h.local);
	assert_int_equal(h.src.ss_family, AF_UNSPEC);
	assert_int_equal(h.len, 16);
}

static void test_proxy_v2_malformed_is_eformat(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("192.0.2.1@1"), d = ep("192.0.2.2@2");
	uint8_t good[64], b[64];
	int n = proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&d,
	                       PROXY_TRANSPORT_STREAM, NULL, 0, false, good, sizeof(good));
	assert_int_equal(n, 28);
	struct proxy_hdr h;
	static const struct {
		size_t off;
		uint8_t val;
	} flips[] = {
		{12, 0x11}, /* version 1 */
		{12, 0x22}, /* command 2 */
		{13, 0x41}, /* family 4 */
		{13, 0x13}, /* transport 3 */
		{13, 0x31}, /* UNIX with PROXY */
		{13, 0x21}, /* INET6 but 12 address bytes */
		{15, 11},   /* length shorter than INET addresses */
	};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(b, good, (size_t)n);
		b[flips[i].off] = flips[i].val;
		assert_int_equal(proxy_parse(b, (size_t)n, &h), ZX_EFORMAT);
	}
	/* A TLV running past the header. */
	memcpy(b, good, (size_t)n);
	b[15] = 12 + 4;
	b[28] = PROXY_TLV_NOOP;
	b[29] = 0;
	b[30] = 2;
	b[31] = 0;
	assert_int_equal(proxy_parse(b, 32, &h), ZX_EFORMAT);
	/* A CRC TLV of the wrong size. */
	b[28] = PROXY_TLV_CRC32C;
	b[30] = 1;
	assert_int_equal(proxy_parse(b, 32, &h), ZX_EFORMAT);
}

static void test_proxy_v2_truncated_is_etrunc(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("192.0.2.1@1"), d = ep("192.0.2.2@2");
	uint8_t b[64];
	int n = proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&d,
	                       PROXY_TRANSPORT_DGRAM, NULL, 0, false, b, sizeof(b));
	struct proxy_hdr h;
	for (int k = 1; k < n; k++) {
		assert_int_equal(proxy_parse(b, (size_t)k, &h), ZX_ETRUNC);
	}
	assert_int_equal(proxy_parse(b, (size_t)n, &h), 0);
}

static void test_proxy_write_v1_round_trip_and_errors(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("192.0.2.1@1000"), d = ep("192.0.2.2@53");
	struct sockaddr_storage s6 = ep("::1@1");
	uint8_t b[PROXY_V1_MAXLEN];
	int n = proxy_write_v1((struct sockaddr *)&s, (struct sockaddr *)&d, b, sizeof(b));
	assert_int_equal(n, (int)strlen("PROXY TCP4 192.0.2.1 192.0.2.2 1000 53\r\n"));
	assert_memory_equal(b, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 53\r\n", (size_t)n);
	struct proxy_hdr h;
	assert_int_equal(proxy_parse(b, (size_t)n, &h), 0);
	assert_int_equal(proxy_write_v1(NULL, NULL, b, sizeof(b)), 15);
	assert_int_equal(proxy_write_v1((struct sockaddr *)&s, (struct sockaddr *)&s6, b, sizeof(b)),
	                 ZX_EINVAL);
	assert_int_equal(proxy_write_v1((struct sockaddr *)&s, (struct sockaddr *)&d, b, 10),
	                 ZX_ELIMIT);
}

static void test_proxy_write_v2_errors(void **state)
{
	(void)state;
	struct sockaddr_storage s = ep("192.0.2.1@1"), s6 = ep("::1@1");
	uint8_t b[64];
	assert_int_equal(proxy_write_v2((struct sockaddr *)&s, NULL, PROXY_TRANSPORT_DGRAM, NULL,
	                                0, false, b, sizeof(b)),
	                 ZX_EINVAL);
	assert_int_equal(proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&s6,
	                                PROXY_TRANSPORT_DGRAM, NULL, 0, false, b, sizeof(b)),
	                 ZX_EINVAL);
	assert_int_equal(proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&s,
	                                PROXY_TRANSPORT_DGRAM, NULL, 0, false, b, 20),
	                 ZX_ELIMIT);
	static uint8_t big[65536];
	assert_int_equal(proxy_write_v2((struct sockaddr *)&s, (struct sockaddr *)&s,
	                                PROXY_TRANSPORT_DGRAM, big, sizeof(big) - 12, false, b,
	                                sizeof(b)),
	                 ZX_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_crc32c_known_vector),
		cmocka_unit_test(test_proxy_v1_tcp4_and_payload_offset),
		cmocka_unit_test(test_proxy_v1_tcp6_and_unknown),
		cmocka_unit_test(test_proxy_v1_malformed_is_eformat),
		cmocka_unit_test(test_proxy_v1_truncated_is_etrunc),
		cmocka_unit_test(test_proxy_not_a_header_is_eproxy),
		cmocka_unit_test(test_proxy_v2_round_trip_v4_udp),
		cmocka_unit_test(test_proxy_v2_v6_with_tlvs_and_crc),
		cmocka_unit_test(test_proxy_v2_local_is_local),
		cmocka_unit_test(test_proxy_v2_malformed_is_eformat),
		cmocka_unit_test(test_proxy_v2_truncated_is_etrunc),
		cmocka_unit_test(test_proxy_write_v1_round_trip_and_errors),
		cmocka_unit_test(test_proxy_write_v2_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
