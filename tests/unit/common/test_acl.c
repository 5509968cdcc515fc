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

/* The key of @p text with prefixes 32/64 unless given otherwise. */
static size_t key_of(const char *text, unsigned v4, unsigned v6, uint8_t k[ACL_PREFIX_KEY_MAX])
{
	struct sockaddr_storage a = addr(text);
	memset(k, 0xee, ACL_PREFIX_KEY_MAX);
	return acl_prefix_key((const struct sockaddr *)&a, v4, v6, k);
}

static void test_acl_prefix_key_groups_by_network(void **state)
{
	(void)state;
	uint8_t a[ACL_PREFIX_KEY_MAX], b[ACL_PREFIX_KEY_MAX];
	/* IPv6 by /64: one key for the whole /64, another for the next one */
	assert_int_equal(key_of("2001:db8::1", 32, 64, a), 17);
	assert_int_equal(key_of("[2001:db8::ffff:1:2:3]:5353", 32, 64, b), 17);
	assert_memory_equal(a, b, 17);
	assert_int_equal(a[0], 6);
	assert_memory_equal(a + 1, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	key_of("2001:db8:0:1::1", 32, 64, b);
	assert_memory_not_equal(a, b, 17);
	/* /128: every address its own; /56 groups two /64s; odd prefixes mask bits */
	key_of("2001:db8::1", 32, 128, a);
	key_of("2001:db8::2", 32, 128, b);
	assert_memory_not_equal(a, b, 17);
	key_of("2001:db8:0:1::1", 32, 56, a);
	key_of("2001:db8:0:2::1", 32, 56, b);
	assert_memory_equal(a, b, 17);
	key_of("2001:db8:ffff::", 32, 33, a);
	assert_memory_equal(a + 1, "\x20\x01\x0d\xb8\x80\0\0\0\0\0\0\0\0\0\0\0", 16);
	/* IPv4 by /32 by default; /24 when configured; mapped IPv6 is IPv4 */
	assert_int_equal(key_of("192.0.2.1", 32, 64, a), 5);
	assert_memory_equal(a, "\x04\xc0\x00\x02\x01", 5);
	key_of("192.0.2.2", 32, 64, b);
	assert_memory_not_equal(a, b, 5);
	key_of("192.0.2.1", 24, 64, a);
	key_of("192.0.2.200", 24, 64, b);
	assert_memory_equal(a, b, 5);
	assert_memory_equal(a, "\x04\xc0\x00\x02\x00", 5);
	assert_int_equal(key_of("::ffff:192.0.2.1", 32, 64, a), 5);
	assert_memory_equal(a, "\x04\xc0\x00\x02\x01", 5);
	/* out of range prefixes count as the whole address; other families: 0 */
	key_of("192.0.2.1", 99, 999, a);
	assert_memory_equal(a, "\x04\xc0\x00\x02\x01", 5);
	struct sockaddr un = {.sa_family = AF_UNIX};
	memset(a, 0xee, sizeof(a));
	assert_int_equal(acl_prefix_key(&un, 32, 64, a), 0);
	assert_int_equal(a[0], 0xee);
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
		cmocka_unit_test(test_acl_prefix_key_groups_by_network),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
