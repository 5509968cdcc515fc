/* tests/unit/common/test_acl.c -- CIDR parsing and matching, endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/acl.h"

#include <arpa/inet.h>
#include <string.h>

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(acl_endpoint_parse(text, 53, &ss, &len), 0);
	return ss;
}

static void test_acl_v4_prefixes(void **state)
{
	(void)state;
	struct acl acl = {0};
	assert_int_equal(acl_add(&acl, "192.0.2.0/24"), 0);
	assert_int_equal(acl_add(&acl, "10.1.2.3"), 0);
	assert_int_equal(acl_add(&acl, "172.16.0.0/12"), 0);
	struct sockaddr_storage a = addr("192.0.2.77");
	assert_true(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("192.0.3.1");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("10.1.2.3");
	assert_true(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("10.1.2.4");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("172.31.255.255");
	assert_true(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("172.32.0.0");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	acl_clear(&acl);
	assert_int_equal(acl.count, 0);
}

static void test_acl_host_bits_cleared(void **state)
{
	(void)state;
	struct acl_net n;
	assert_int_equal(acl_net_parse("192.0.2.200/25", &n), 0);
	assert_int_equal(n.addr[3], 128);
	assert_int_equal(n.prefix, 25);
}

static void test_acl_v6_and_mapped(void **state)
{
	(void)state;
	struct acl acl = {0};
	assert_int_equal(acl_add(&acl, "2001:db8::/32"), 0);
	assert_int_equal(acl_add(&acl, "127.0.0.0/8"), 0);
	struct sockaddr_storage a = addr("[2001:db8:1::5]:53");
	assert_true(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("2001:db9::1@53");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("::ffff:127.0.0.9");
	assert_true(acl_match(&acl, (struct sockaddr *)&a)); /* v4-mapped matches v4 net */
	a = addr("::1");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	acl_clear(&acl);
}

static void test_acl_zero_prefix_matches_family(void **state)
{
	(void)state;
	struct acl acl = {0};
	assert_int_equal(acl_add(&acl, "0.0.0.0/0"), 0);
	struct sockaddr_storage a = addr("203.0.113.1");
	assert_true(acl_match(&acl, (struct sockaddr *)&a));
	a = addr("2001:db8::1");
	assert_false(acl_match(&acl, (struct sockaddr *)&a));
	acl_clear(&acl);
}

static void test_acl_rejects_bad_text(void **state)
{
	(void)state;
	struct acl_net n;
	assert_int_equal(acl_net_parse("192.0.2.0/33", &n), ZX_EFORMAT);
	assert_int_equal(acl_net_parse("::/129", &n), ZX_EFORMAT);
	assert_int_equal(acl_net_parse("example.com", &n), ZX_EFORMAT);
	assert_int_equal(acl_net_parse("10.0.0.0/", &n), ZX_EFORMAT);
	assert_int_equal(acl_net_parse("10.0.0.0/8x", &n), ZX_EFORMAT);
	assert_int_equal(acl_net_parse("", &n), ZX_EFORMAT);
}

static void test_acl_endpoint_forms(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[ACL_ADDRSTRLEN];
	assert_int_equal(acl_endpoint_parse("192.0.2.1@5353", 53, &ss, &len), 0);
	assert_string_equal(acl_addr_str((struct sockaddr *)&ss, true, buf, sizeof(buf)),
	                    "192.0.2.1@5353");
	assert_int_equal(acl_endpoint_parse("127.0.0.1:99", 53, &ss, &len), 0);
	assert_string_equal(acl_addr_str((struct sockaddr *)&ss, true, buf, sizeof(buf)),
	                    "127.0.0.1@99");
	assert_int_equal(acl_endpoint_parse("::1", 53, &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_string_equal(acl_addr_str((struct sockaddr *)&ss, true, buf, sizeof(buf)), "::1@53");
	assert_int_equal(acl_endpoint_parse("[::1]:8053", 53, &ss, &len), 0);
	assert_string_equal(acl_addr_str((struct sockaddr *)&ss, false, buf, sizeof(buf)), "::1");
	assert_int_equal(acl_endpoint_parse("1.2.3.4@70000", 53, &ss, &len), ZX_EFORMAT);
	assert_int_equal(acl_endpoint_parse("host@53", 53, &ss, &len), ZX_EFORMAT);
	assert_int_equal(acl_endpoint_parse("[::1", 53, &ss, &len), ZX_EFORMAT);
}

static void test_acl_endpoint_equal(void **state)
{
	(void)state;
	struct sockaddr_storage a = addr("192.0.2.1@53"), b = addr("192.0.2.1"),
	                        c = addr("192.0.2.1@5353"), d = addr("192.0.2.2"),
	                        e = addr("2001:db8::1"), f = addr("[2001:db8::1]:53"),
	                        g = addr("[2001:db8::1]:54");
	const struct sockaddr *A = (const void *)&a, *B = (const void *)&b, *C = (const void *)&c,
	                      *D = (const void *)&d, *E = (const void *)&e, *F = (const void *)&f,
	                      *G = (const void *)&g;
	assert_true(acl_endpoint_equal(A, B));
	assert_false(acl_endpoint_equal(A, C)); /* port */
	assert_false(acl_endpoint_equal(A, D)); /* address */
	assert_false(acl_endpoint_equal(A, E)); /* family */
	assert_true(acl_endpoint_equal(E, F));
	assert_false(acl_endpoint_equal(F, G));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_v4_prefixes),
		cmocka_unit_test(test_acl_host_bits_cleared),
		cmocka_unit_test(test_acl_v6_and_mapped),
		cmocka_unit_test(test_acl_zero_prefix_matches_family),
		cmocka_unit_test(test_acl_rejects_bad_text),
		cmocka_unit_test(test_acl_endpoint_forms),
		cmocka_unit_test(test_acl_endpoint_equal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
