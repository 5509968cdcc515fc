/* tests/unit/proto/test_socks5.c -- the SOCKS5 codec (RFC 1928/1929): every documented
 * result code, and the reply parser against malformed and partial replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/socks5.h"

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

static const char *str(const struct sockaddr_storage *ss, char *buf)
{
	return acl_addr_str((const struct sockaddr *)ss, true, buf, ACL_ADDRSTRLEN);
}

static void test_socks5_greeting_offers_none_and_userpass(void **state)
{
	(void)state;
	uint8_t b[SOCKS5_GREETING_MAX];
	assert_int_equal(socks5_greeting(b, false), 3);
	assert_memory_equal(b, "\x05\x01\x00", 3);
	assert_int_equal(socks5_greeting(b, true), 4);
	assert_memory_equal(b, "\x05\x02\x00\x02", 4);
}

static void test_socks5_method_parse_codes(void **state)
{
	(void)state;
	uint8_t m = 0x77;
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05", 1, true, &m), ZX_ETRUNC);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x04\x00", 2, true, &m), ZX_ESOCKS);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\xff", 2, true, &m),
	                 ZX_ESOCKS_AUTH);
	/* a method we never offered: userpass without credentials, or GSSAPI */
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\x02", 2, false, &m), ZX_ESOCKS);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\x01", 2, true, &m), ZX_ESOCKS);
	assert_int_equal(m, 0x77); /* untouched on every error */
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\x02", 2, true, &m), 0);
	assert_int_equal(m, SOCKS5_METHOD_USERPASS);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\x00", 2, false, &m), 0);
	assert_int_equal(m, SOCKS5_METHOD_NONE);
}

static void test_socks5_auth_request_and_status(void **state)
{
	(void)state;
	uint8_t b[SOCKS5_AUTH_MAX];
	size_t len = 0;
	assert_int_equal(socks5_auth_request(b, "xfr", "s3cret", &len), 0);
	assert_int_equal(len, 1 + 1 + 3 + 1 + 6);
	assert_memory_equal(b, "\x01\x03xfr\x06s3cret", len);
	char big[300];
	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	len = 99;
	assert_int_equal(socks5_auth_request(b, "", "p", &len), ZX_EINVAL);
	assert_int_equal(socks5_auth_request(b, "u", "", &len), ZX_EINVAL);
	assert_int_equal(socks5_auth_request(b, big, "p", &len), ZX_EINVAL);
	assert_int_equal(socks5_auth_request(b, "u", big, &len), ZX_EINVAL);
	assert_int_equal(len, 99);
	big[255] = '\0'; /* exactly 255: allowed */
	assert_int_equal(socks5_auth_request(b, big, big, &len), 0);
	assert_int_equal(len, SOCKS5_AUTH_MAX);

	assert_int_equal(socks5_auth_parse((const uint8_t *)"\x01", 1), ZX_ETRUNC);
	assert_int_equal(socks5_auth_parse((const uint8_t *)"\x01\x00", 2), 0);
	assert_int_equal(socks5_auth_parse((const uint8_t *)"\x01\x01", 2), ZX_ESOCKS_AUTH);
	assert_int_equal(socks5_auth_parse((const uint8_t *)"\x05\x00", 2), ZX_ESOCKS);
}

static void test_socks5_request_v4_v6(void **state)
{
	(void)state;
	uint8_t b[SOCKS5_REQ_MAX];
	size_t len = 0;
	struct sockaddr_storage v4 = ep("192.0.2.1@53"), v6 = ep("[2001:db8::1]:5353");
	assert_int_equal(socks5_request(b, SOCKS5_CMD_CONNECT, (struct sockaddr *)&v4, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(b, "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x35", 10);
	assert_int_equal(socks5_request(b, SOCKS5_CMD_UDP_ASSOCIATE, (struct sockaddr *)&v6, &len),
	                 0);
	assert_int_equal(len, 22);
	assert_memory_equal(b, "\x05\x03\x00\x04\x20\x01\x0d\xb8", 8);
	assert_int_equal(b[19], 1);
	assert_int_equal(b[20] << 8 | b[21], 5353);
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	len = 7;
	assert_int_equal(socks5_request(b, SOCKS5_CMD_CONNECT, (struct sockaddr *)&un, &len),
	                 ZX_EINVAL);
	assert_int_equal(socks5_request(b, 2 /* BIND */, (struct sockaddr *)&v4, &len), ZX_EINVAL);
	assert_int_equal(len, 7);
}

static void test_socks5_reply_ok_v4_v6_domain(void **state)
{
	(void)state;
	struct socks5_reply r;
	size_t need = 0;
	char s[ACL_ADDRSTRLEN];
	const uint8_t v4[] = {5, 0, 0, 1, 127, 0, 0, 2, 0x04, 0x38};
	assert_int_equal(socks5_reply_parse(v4, sizeof(v4), &r, &need), 0);
	assert_int_equal(r.rep, 0);
	assert_int_equal(r.len, 10);
	assert_int_equal(need, 10);
	assert_string_equal(str(&r.bnd, s), "127.0.0.2@1080");
	uint8_t v6[22] = {5, 0, 0, 4};
	v6[19] = 1;
	v6[20] = 0;
	v6[21] = 53;
	assert_int_equal(socks5_reply_parse(v6, sizeof(v6), &r, &need), 0);
	assert_int_equal(r.len, 22);
	assert_string_equal(str(&r.bnd, s), "::1@53");
	const uint8_t dom[] = {5, 4, 0, 3, 4, 'h', 'o', 's', 't', 0, 80};
	assert_int_equal(socks5_reply_parse(dom, sizeof(dom), &r, &need), 0);
	assert_int_equal(r.rep, SOCKS5_REP_HOST_UNREACH);
	assert_int_equal(r.bnd.ss_family, AF_UNSPEC);
	assert_int_equal(r.len, sizeof(dom));
}

/* Fed one byte at a time, the parser asks for exactly the reply's bytes and never more:
 * the target's bytes after it stay unread. */
static void test_socks5_reply_partial_asks_exact_length(void **state)
{
	(void)state;
	const uint8_t v6[22] = {5, 0, 0, 4, [21] = 1};
	struct socks5_reply r;
	size_t have = 0;
	for (;;) {
		size_t need = 0;
		int rc = socks5_reply_parse(v6, have, &r, &need);
		if (rc == 0) {
			break;
		}
		assert_int_equal(rc, ZX_ETRUNC);
		assert_true(need > have && need <= sizeof(v6));
		have = have < 5 ? have + 1 : need;
	}
	assert_int_equal(have, 22);
	assert_int_equal(r.len, 22);
}

static void test_socks5_reply_malformed(void **state)
{
	(void)state;
	struct socks5_reply r;
	size_t need = 1234;
	/* version 4 (a SOCKS4 server), reserved byte set, unknown ATYP, empty domain */
	assert_int_equal(socks5_reply_parse((const uint8_t *)"\x04", 1, &r, &need), ZX_ESOCKS);
	assert_int_equal(socks5_reply_parse((const uint8_t *)"\x05\x00\x01", 3, &r, &need),
	                 ZX_ESOCKS);
	assert_int_equal(socks5_reply_parse((const uint8_t *)"\x05\x00\x00\x02", 4, &r, &need),
	                 ZX_ESOCKS);
	assert_int_equal(socks5_reply_parse((const uint8_t *)"\x05\x00\x00\x03\x00\x00\x00", 7, &r,
	                                    &need),
	                 ZX_ESOCKS);
	assert_int_equal(need, 1234); /* untouched on ZX_ESOCKS */
	/* an HTTP proxy answering SOCKS */
	const char *http = "HTTP/1.1 400 Bad Request\r\n";
	assert_int_equal(socks5_reply_parse((const uint8_t *)http, strlen(http), &r, &need),
	                 ZX_ESOCKS);
	assert_int_equal(socks5_reply_parse((const uint8_t *)"", 0, &r, &need), ZX_ETRUNC);
	assert_int_equal(need, 5);
}

static void test_socks5_rep_error_classes(void **state)
{
	(void)state;
	assert_int_equal(socks5_rep_error(0), 0);
	for (uint8_t rep = 3; rep <= 6; rep++) {
		assert_int_equal(socks5_rep_error(rep), ZX_ESOCKS_UNREACHABLE);
	}
	const uint8_t refused[] = {1, 2, 7, 8, 9, 0xff};
	for (size_t i = 0; i < sizeof(refused); i++) {
		assert_int_equal(socks5_rep_error(refused[i]), ZX_ESOCKS_REFUSED);
	}
	assert_string_equal(socks5_rep_str(2), "connection not allowed by ruleset");
	assert_string_equal(socks5_rep_str(200), "unassigned");
}

static void test_socks5_udp_header_roundtrip(void **state)
{
	(void)state;
	uint8_t b[SOCKS5_UDP_HDR_MAX + 4];
	size_t len = 0, hl = 0;
	char s[ACL_ADDRSTRLEN];
	const char *eps[] = {"192.0.2.7@53", "[2001:db8::7]:53"};
	for (size_t i = 0; i < 2; i++) {
		struct sockaddr_storage dst = ep(eps[i]), from;
		assert_int_equal(socks5_udp_hdr(b, (struct sockaddr *)&dst, &len), 0);
		memcpy(b + len, "\xab\xcd", 2);
		assert_int_equal(socks5_udp_parse(b, len + 2, &from, &hl), 0);
		assert_int_equal(hl, len);
		assert_string_equal(str(&from, s), i == 0 ? "192.0.2.7@53" : "2001:db8::7@53");
		assert_int_equal(socks5_udp_parse(b, len - 1, &from, &hl), ZX_ETRUNC);
	}
	struct sockaddr_storage from;
	hl = 42;
	b[2] = 1; /* a fragment */
	assert_int_equal(socks5_udp_parse(b, len, &from, &hl), ZX_ESOCKS);
	b[2] = 0;
	b[0] = 1; /* reserved */
	assert_int_equal(socks5_udp_parse(b, len, &from, &hl), ZX_ESOCKS);
	assert_int_equal(socks5_udp_parse((const uint8_t *)"\0\0\0\x09\x01", 5, &from, &hl),
	                 ZX_ESOCKS);
	assert_int_equal(socks5_udp_parse((const uint8_t *)"\0\0\0", 3, &from, &hl), ZX_ETRUNC);
	assert_int_equal(hl, 42);
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	assert_int_equal(socks5_udp_hdr(b, (struct sockaddr *)&un, &len), ZX_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks5_greeting_offers_none_and_userpass),
		cmocka_unit_test(test_socks5_method_parse_codes),
		cmocka_unit_test(test_socks5_auth_request_and_status),
		cmocka_unit_test(test_socks5_request_v4_v6),
		cmocka_unit_test(test_socks5_reply_ok_v4_v6_domain),
		cmocka_unit_test(test_socks5_reply_partial_asks_exact_length),
		cmocka_unit_test(test_socks5_reply_malformed),
		cmocka_unit_test(test_socks5_rep_error_classes),
		cmocka_unit_test(test_socks5_udp_header_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
