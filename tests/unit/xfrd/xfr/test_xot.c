/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/xfr/test_xot.c -- xfrd/xfr/xot.h without a network: contexts from the
 * tls settings (shared by contents, made again when a file changes, ZX_ETLS naming the
 * file), pins of a certificate file, the reasons' labels, the per-primary counters. The
 * handshakes against real servers: tests/integration/xot/. */
#include "xfrd/xfr/xot.h"

#include "common/cfg/cfg.h"
#include "common/metrics.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[] = "/tmp/test_xot.XXXXXX";
static char cert[96], key[96], other[96];

/* A self-signed P-256 certificate and its key, as PEM files. */
static void make_cert(const char *cpath, const char *kpath)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	assert_non_null(pk);
	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"xot.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	FILE *f = fopen(cpath, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
	if (kpath != NULL) {
		f = fopen(kpath, "w");
		assert_non_null(f);
		assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
		fclose(f);
	}
	X509_free(x);
	EVP_PKEY_free(pk);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(other, sizeof(other), "%s/o.pem", dir);
	make_cert(cert, key);
	make_cert(other, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(cert);
	unlink(key);
	unlink(other);
	rmdir(dir);
	return 0;
}

/* The same settings share one context; other settings get another; a file that does not
 * load is ZX_ETLS naming it; a key that is not the certificate's too. */
static void test_xot_client_contexts(void **state)
{
	(void)state;
	struct xot *t = NULL;
	assert_int_equal(xot_new(NULL, &t), 0);
	char detail[XOT_DETAIL_MAX];
	const char *pins[] = {"xjk0L+n5OMLngl/AvRilRkF/4FffYC6SodDMdtgkuEI="};
	struct cfg_tls a = {.mode = CFG_TLS_STRICT, .ca_file = cert, .auth_name = "xot.test"};
	struct cfg_tls a2 = a; /* another zone's copy of the same settings */
	struct cfg_tls b = {.mode = CFG_TLS_PIN, .pins = pins, .pin_count = 1,
	                    .cert_file = cert, .key_file = key};
	struct xot_client *ca = NULL, *ca2 = NULL, *cb = NULL;
	assert_int_equal(xot_client_get(t, &a, &ca, detail), 0);
	assert_int_equal(xot_client_get(t, &a2, &ca2, detail), 0);
	assert_ptr_equal(ca, ca2);
	assert_int_equal(xot_client_get(t, &b, &cb, detail), 0);
	assert_ptr_not_equal(ca, cb);

	struct xot_client *bad = (struct xot_client *)&bad;
	struct cfg_tls missing = {.mode = CFG_TLS_STRICT, .ca_file = "/nonexistent/ca.pem",
	                          .auth_name = "x"};
	assert_int_equal(xot_client_get(t, &missing, &bad, detail), ZX_ETLS);
	assert_ptr_equal(bad, (struct xot_client *)&bad); /* untouched */
	assert_non_null(strstr(detail, "tls ca-file \"/nonexistent/ca.pem\""));
	struct cfg_tls mismatch = {.mode = CFG_TLS_OPPORTUNISTIC, .cert_file = other,
	                           .key_file = key};
	assert_int_equal(xot_client_get(t, &mismatch, &bad, detail), ZX_ETLS);
	assert_non_null(strstr(detail, "tls key-file"));
	xot_free(t);
	xot_free(NULL);
}

/* A renewed CA file (a new mtime) makes the same client load it again: still the same
 * client (kept connections stay matched to it), and a file that now fails is ZX_ETLS. */
static void test_xot_client_reloads_changed_files(void **state)
{
	(void)state;
	struct xot *t = NULL;
	assert_int_equal(xot_new(NULL, &t), 0);
	char detail[XOT_DETAIL_MAX], ca[128];
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	make_cert(ca, NULL);
	struct cfg_tls s = {.mode = CFG_TLS_STRICT, .ca_file = ca, .auth_name = "xot.test"};
	struct xot_client *c1 = NULL, *c2 = NULL;
	assert_int_equal(xot_client_get(t, &s, &c1, detail), 0);
	struct timespec old[2] = {{0, 0}, {1000, 0}}; /* another mtime, surely */
	assert_int_equal(utimensat(AT_FDCWD, ca, old, 0), 0);
	assert_int_equal(xot_client_get(t, &s, &c2, detail), 0);
	assert_ptr_equal(c1, c2);
	FILE *f = fopen(ca, "w"); /* broken now */
	fputs("not a certificate\n", f);
	fclose(f);
	assert_int_equal(xot_client_get(t, &s, &c2, detail), ZX_ETLS);
	assert_non_null(strstr(detail, "tls ca-file"));
	unlink(ca);
	xot_free(t);
}

static void test_xot_pin_of_file(void **state)
{
	(void)state;
	char pin[45], pin2[45];
	assert_int_equal(xot_pin_of_file(cert, pin), 0);
	assert_int_equal(strlen(pin), 44);
	assert_int_equal(pin[43], '=');
	assert_int_equal(xot_pin_of_file(other, pin2), 0);
	assert_string_not_equal(pin, pin2);
	assert_int_equal(xot_pin_of_file("/nonexistent/c.pem", pin), ZX_EIO);
	assert_int_equal(xot_pin_of_file(key, pin), ZX_EFORMAT); /* a key is no certificate */
}

/* Every reason has its label; counters move per primary, only for known primaries. */
static void test_xot_counters(void **state)
{
	(void)state;
	static const char *const want[XOT_REASONS] = {
		"", "handshake", "protocol_version", "untrusted", "name", "expired", "pin", "alpn",
		"local",
	};
	for (int r = 0; r < XOT_REASONS; r++) {
		assert_string_equal(xot_reason_str(r), want[r]);
	}
	struct metrics *m = metrics_new();
	struct xot *t = NULL;
	assert_int_equal(xot_new(m, &t), 0);
	assert_int_equal(xot_know(t, "192.0.2.1@853"), 0);
	assert_int_equal(xot_know(t, "192.0.2.1@853"), 0); /* once */
	struct xot_info ok = {.reason = XOT_OK, .not_after = time(NULL) + 1000};
	struct xot_info resumed = {.reason = XOT_OK, .resumed = true};
	struct xot_info pin = {.reason = XOT_PIN};
	xot_note(t, "192.0.2.1@853", &ok);
	xot_note(t, "192.0.2.1@853", &resumed);
	xot_note(t, "192.0.2.1@853", &pin);
	xot_note(t, "192.0.2.9@853", &pin); /* not known: not counted */
	struct xot_counts c;
	xot_counts_get(t, "192.0.2.1@853", &c);
	assert_int_equal(c.full, 1);
	assert_int_equal(c.resumed, 1);
	assert_int_equal(c.failures[XOT_PIN], 1);
	assert_int_equal(c.failures[XOT_NAME], 0);
	assert_true(c.expiry_s > 990 && c.expiry_s <= 1000);
	xot_counts_get(t, "192.0.2.9@853", &c);
	assert_int_equal(c.failures[XOT_PIN], 0);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "xfrd_xfr_tls_failures_total{primary=\"192.0.2.1@853\","
	                             "reason=\"pin\"} 1"));
	assert_non_null(strstr(text, "xfrd_xfr_tls_handshakes_total{primary=\"192.0.2.1@853\","
	                             "resumed=\"yes\"} 1"));
	free(text);
	xot_free(t);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xot_client_contexts),
		cmocka_unit_test(test_xot_client_reloads_changed_files),
		cmocka_unit_test(test_xot_pin_of_file),
		cmocka_unit_test(test_xot_counters),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
