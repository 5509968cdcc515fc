/* tests/unit/common/test_tsig.c -- TSIG keyring, key files, and (RFC 8945) signing and
 * verifying against vectors from real implementations (kdig, ldns-notify, knotd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/tsig.h"

#include <string.h>

#define VEC "tsig_vectors/"

static void test_tsig_alg_names(void **state)
{
	(void)state;
	enum tsig_alg a = TSIG_HMAC_SHA1;
	assert_int_equal(tsig_alg_from_name("HMAC-SHA256.", &a), 0);
	assert_int_equal(a, TSIG_HMAC_SHA256);
	assert_int_equal(tsig_alg_from_name("hmac-md5.sig-alg.reg.int.", &a), 0);
	assert_int_equal(a, TSIG_HMAC_MD5);
	assert_int_equal(tsig_alg_from_name("hmac-sha224", &a), 0);
	assert_int_equal(a, TSIG_HMAC_SHA224);
	assert_int_equal(tsig_alg_from_name("hmac-sha384", &a), 0);
	assert_int_equal(a, TSIG_HMAC_SHA384);
	assert_int_equal(tsig_alg_from_name("hmac-sha512", &a), 0);
	assert_int_equal(a, TSIG_HMAC_SHA512);
	a = TSIG_HMAC_SHA1;
	assert_int_equal(tsig_alg_from_name("hmac-sha3", &a), ZX_ENOENT);
	assert_int_equal(tsig_alg_from_name("", &a), ZX_ENOENT);
	assert_int_equal(tsig_alg_from_name("hmac-md5.", &a), 0);
	assert_int_equal(a, TSIG_HMAC_MD5);
	assert_string_equal(tsig_alg_name(TSIG_HMAC_SHA384), "hmac-sha384");
	assert_string_equal(tsig_alg_name((enum tsig_alg)42), "unknown");
	assert_int_equal(tsig_alg_mac_len(TSIG_HMAC_SHA224), 28);
	assert_int_equal(tsig_alg_mac_len(TSIG_HMAC_MD5), 16);
	assert_int_equal(tsig_alg_mac_len((enum tsig_alg)42), 0);
}

static void test_tsig_keyring_add_and_find(void **state)
{
	(void)state;
	struct tsig_keyring *ring = tsig_keyring_new();
	assert_non_null(ring);
	const struct tsig_key *k = NULL;
	assert_int_equal(tsig_keyring_add(ring, "Key1.Example", "hmac-sha256", "c2VjcmV0", &k), 0);
	assert_non_null(k);
	assert_string_equal(k->name_text, "key1.example.");
	assert_int_equal(k->alg, TSIG_HMAC_SHA256);
	assert_int_equal(k->secret_len, 6);
	assert_memory_equal(k->secret, "secret", 6);
	assert_int_equal(k->name_len, 14);
	/* padding: 1 and 2 '=' and none, whitespace inside */
	assert_int_equal(tsig_keyring_add(ring, "k2", "hmac-sha1", "c2Vj cmV0MQ==", &k), 0);
	assert_int_equal(k->secret_len, 7);
	assert_int_equal(tsig_keyring_add(ring, "k3", "hmac-sha1", "c2VjcmV0MTI=", &k), 0);
	assert_int_equal(k->secret_len, 8);
	assert_int_equal(tsig_keyring_add(ring, "k4", "hmac-md5", "c2VjcmV0MTIz", NULL), 0);
	assert_int_equal(tsig_keyring_count(ring), 4);

	const struct tsig_key *f = tsig_keyring_find(ring, (const uint8_t *)"\4KEY1\7EXAMPLE");
	assert_non_null(f);
	assert_string_equal(f->name_text, "key1.example.");
	assert_ptr_equal(tsig_keyring_find_text(ring, "K3."), k);
	assert_null(tsig_keyring_find_text(ring, "k5"));
	assert_null(tsig_keyring_find(ring, (const uint8_t *)"\4key1\7example\3com"));
	assert_null(tsig_keyring_find(ring, (const uint8_t *)"\xc0\x0c"));
	assert_null(tsig_keyring_find_text(ring, "a..b"));
	tsig_keyring_free(ring);
	tsig_keyring_free(NULL);
}

static void test_tsig_keyring_add_errors(void **state)
{
	(void)state;
	struct tsig_keyring *ring = tsig_keyring_new();
	const struct tsig_key *k = NULL;
	assert_int_equal(tsig_keyring_add(ring, "k", "hmac-sha256", "c2VjcmV0", &k), 0);
	const struct tsig_key *keep = k;
	assert_int_equal(tsig_keyring_add(ring, "K.", "hmac-sha1", "c2VjcmV0", &k), ZX_EEXIST);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha3", "c2VjcmV0", &k), ZX_ENOENT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "c2VjcmV", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "c2Vj*mV0", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "c2=jcmV0", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "c===", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "x", "hmac-sha1", "  ", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "", "hmac-sha1", "c2VjcmV0", &k), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add(ring, "a..b", "hmac-sha1", "c2VjcmV0", &k), ZX_EFORMAT);
	assert_ptr_equal(k, keep); /* out untouched on every error */
	assert_int_equal(tsig_keyring_count(ring), 1);
	tsig_keyring_free(ring);
}

static void test_tsig_keyring_bind_file(void **state)
{
	(void)state;
	struct tsig_keyring *ring = tsig_keyring_new();
	char err[256] = "";
	assert_int_equal(tsig_keyring_add_file(ring, VEC "keys.bind", err, sizeof(err)), 0);
	assert_int_equal(tsig_keyring_count(ring), 2);
	const struct tsig_key *k = tsig_keyring_find_text(ring, "sha384.key");
	assert_non_null(k);
	assert_int_equal(k->alg, TSIG_HMAC_SHA384);
	assert_int_equal(k->secret_len, 48);
	k = tsig_keyring_find_text(ring, "md5.key");
	assert_non_null(k);
	assert_int_equal(k->alg, TSIG_HMAC_MD5);
	assert_memory_equal(k->secret, "secret-md5", 10);
	tsig_keyring_free(ring);
}

static void test_tsig_keyring_knot_file(void **state)
{
	(void)state;
	struct tsig_keyring *ring = tsig_keyring_new();
	char err[256] = "";
	assert_int_equal(tsig_keyring_add_file(ring, VEC "keys.knot", err, sizeof(err)), 0);
	assert_int_equal(tsig_keyring_count(ring), 2);
	const struct tsig_key *k = tsig_keyring_find_text(ring, "test.key");
	assert_non_null(k);
	assert_int_equal(k->alg, TSIG_HMAC_SHA224);
	assert_int_equal(k->secret_len, 28);
	k = tsig_keyring_find_text(ring, "second.key.");
	assert_non_null(k);
	assert_int_equal(k->alg, TSIG_HMAC_SHA512);
	assert_memory_equal(k->secret, "second", 6);
	tsig_keyring_free(ring);
}

static void check_file_error(const char *path, int want, const char *want_err)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	char err[256] = "";
	assert_int_equal(tsig_keyring_add_file(ring, path, err, sizeof(err)), want);
	assert_string_equal(err, want_err);
	tsig_keyring_free(ring);
}

static void test_tsig_keyring_file_errors_name_the_line(void **state)
{
	(void)state;
	check_file_error(VEC "missing.conf", ZX_ENOENT, VEC "missing.conf:0: no such file");
	check_file_error(VEC "bad-missing-semi.bind", ZX_EFORMAT,
	                 VEC "bad-missing-semi.bind:5: expected ';' after '}'");
	check_file_error(VEC "bad-alg.bind", ZX_ENOENT,
	                 VEC "bad-alg.bind:1: key \"a.key\": unknown algorithm");
	check_file_error(VEC "bad-dup.bind", ZX_EEXIST,
	                 VEC "bad-dup.bind:6: key \"A.KEY.\": a key of this name is already defined");
	check_file_error(VEC "bad-secret.knot", ZX_EFORMAT,
	                 VEC "bad-secret.knot:2: key \"k1\": bad key name or base64 secret");
	check_file_error(VEC "bad-field.knot", ZX_EFORMAT,
	                 VEC "bad-field.knot:4: unknown key field 'colour'");
	/* errlen 0: no message, code only */
	struct tsig_keyring *ring = tsig_keyring_new();
	assert_int_equal(tsig_keyring_add_file(ring, VEC "bad-field.knot", NULL, 0), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add_file(ring, "/", NULL, 0), ZX_EIO);
	tsig_keyring_free(ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_alg_names),
		cmocka_unit_test(test_tsig_keyring_add_and_find),
		cmocka_unit_test(test_tsig_keyring_add_errors),
		cmocka_unit_test(test_tsig_keyring_bind_file),
		cmocka_unit_test(test_tsig_keyring_knot_file),
		cmocka_unit_test(test_tsig_keyring_file_errors_name_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
