/* tests/unit/common/tsig/test_tsig.c -- TSIG keyring, key files, and (RFC 8945) signing and
 * verifying against vectors from real implementations (kdig, ldns-notify, knotd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"

#include <glob.h>
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	/* a BIND file of comments only: an error, as a Knot file without keys (fuzz_cfg) */
	check_file_error(VEC "bad-empty.bind", ZX_EFORMAT, VEC "bad-empty.bind:3: no key in the file");
	/* errlen 0: no message, code only */
	struct tsig_keyring *ring = tsig_keyring_new();
	assert_int_equal(tsig_keyring_add_file(ring, VEC "bad-field.knot", NULL, 0), ZX_EFORMAT);
	assert_int_equal(tsig_keyring_add_file(ring, "/", NULL, 0), ZX_EIO);
	tsig_keyring_free(ring);
}

/* ---- helpers for messages and vector files -------------------------------- */

#define T0 1700000000ULL /* a fixed "now" for the synthetic tests */
#define VEC_MAX_MSGS 32

/* One vector file: "word value" lines written by make_vectors.sh. */
struct vec {
	char alg[32];
	char key_name[256];
	char secret[256];
	char peer_check[256];
	uint8_t *request, *reply, *req_unsigned;
	size_t request_len, reply_len, req_unsigned_len;
	uint64_t reply_time, request_time, serve_time;
	uint8_t *msgs[VEC_MAX_MSGS];
	size_t msg_len[VEC_MAX_MSGS];
	int nmsgs;
};

static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n + 1);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++) {
		unsigned int b = 0;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	*len = n;
	return out;
}

static void vec_field(struct vec *v, const char *word, char *val)
{
	if (strcmp(word, "alg") == 0) {
		snprintf(v->alg, sizeof(v->alg), "%s", val);
	} else if (strcmp(word, "key") == 0) {
		assert_int_equal(sscanf(val, "%255s %255s", v->key_name, v->secret), 2);
	} else if (strcmp(word, "peer_check") == 0) {
		snprintf(v->peer_check, sizeof(v->peer_check), "%s", val);
	} else if (strcmp(word, "request") == 0) {
		v->request = unhex(val, &v->request_len);
	} else if (strcmp(word, "reply") == 0) {
		v->reply = unhex(val, &v->reply_len);
	} else if (strcmp(word, "request_unsigned") == 0) {
		v->req_unsigned = unhex(val, &v->req_unsigned_len);
	} else if (strcmp(word, "msg") == 0) {
		assert_true(v->nmsgs < VEC_MAX_MSGS);
		v->msgs[v->nmsgs] = unhex(val, &v->msg_len[v->nmsgs]);
		v->nmsgs++;
	} else if (strcmp(word, "reply_time") == 0) {
		v->reply_time = strtoull(val, NULL, 10);
	} else if (strcmp(word, "request_time") == 0) {
		v->request_time = strtoull(val, NULL, 10);
	} else if (strcmp(word, "serve_time") == 0) {
		v->serve_time = strtoull(val, NULL, 10);
	}
}

static void vec_load(const char *path, struct vec *v)
{
	memset(v, 0, sizeof(*v));
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t cap = 1 << 18;
	char *line = malloc(cap);
	assert_non_null(line);
	while (fgets(line, (int)cap, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *val = strchr(line, ' ');
		if (line[0] == '#' || val == NULL) {
			continue;
		}
		*val++ = '\0';
		vec_field(v, line, val);
	}
	free(line);
	fclose(fp);
	assert_true(v->alg[0] != '\0' && v->key_name[0] != '\0');
}

static void vec_free(struct vec *v)
{
	free(v->request);
	free(v->reply);
	free(v->req_unsigned);
	for (int i = 0; i < v->nmsgs; i++) {
		free(v->msgs[i]);
	}
}

static struct tsig_keyring *vec_ring(const struct vec *v, const struct tsig_key **key)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	assert_non_null(ring);
	assert_int_equal(tsig_keyring_add(ring, v->key_name, v->alg, v->secret, key), 0);
	return ring;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A message without its TSIG (as make_vectors.sh's responder builds replies, with
 * QR and AA set when @p as_reply). Returns the length. */
static size_t strip_tsig(const uint8_t *msg, size_t len, uint8_t *out, int as_reply)
{
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(msg, len, &rr), 0);
	memcpy(out, msg, rr.offset);
	if (as_reply) {
		out[2] |= 0x84;
	}
	wr16(out + 10, (uint16_t)(rd16(out + 10) - 1));
	return rr.offset;
}

/* An SOA query for example.com with header ID @p id. */
static size_t make_query(uint8_t *buf, uint16_t id)
{
	static const uint8_t q[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p',
	                            'l', 'e', 3, 'c', 'o', 'm', 0, 0, 6, 0, 1};
	memcpy(buf, q, sizeof(q));
	wr16(buf, id);
	return sizeof(q);
}

/* A client session with a signed SOA query in @p buf; returns its length. */
static size_t signed_query(struct tsig_session *s, const struct tsig_key *key, uint64_t now,
                           uint8_t *buf, size_t cap)
{
	tsig_session_init(s, key, TSIG_FUDGE_DEFAULT);
	size_t len = make_query(buf, 0x1234);
	assert_int_equal(tsig_session_sign_request(s, buf, &len, cap, now), 0);
	return len;
}

/* The reply to @p req (QR set, TSIG removed), signed for @p tr. */
static size_t signed_reply(const struct tsig_request *tr, const uint8_t *req, size_t len,
                           uint64_t now, uint8_t *out, size_t cap)
{
	size_t rlen = strip_tsig(req, len, out, 1);
	assert_int_equal(tsig_sign_reply(tr, out, &rlen, cap, now), 0);
	return rlen;
}

static struct tsig_keyring *test_ring(const char *alg, const struct tsig_key **key)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	assert_non_null(ring);
	assert_int_equal(tsig_keyring_add(ring, "k.example.", alg, "c2VjcmV0LWtleS1ieXRlcw==", key), 0);
	return ring;
}

/* Rewrite the MAC of the TSIG ending msg to @p n bytes (cut, or padded with zeros). */
static void set_mac_len(uint8_t *msg, size_t *len, uint16_t n)
{
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(msg, *len, &rr), 0);
	size_t mac_at = (size_t)(rr.mac - msg);
	size_t tail_at = mac_at + rr.mac_len;
	size_t tail = *len - tail_at; /* orig id, error, other */
	uint8_t save[64];
	memcpy(save, msg + tail_at, tail);
	if (n > rr.mac_len) {
		memset(msg + tail_at, 0, n - rr.mac_len);
	}
	memcpy(msg + mac_at + n, save, tail);
	wr16(msg + mac_at - 2, n);
	size_t rdlen_at = rr.offset + rr.key_name_len + 8;
	wr16(msg + rdlen_at, (uint16_t)(rd16(msg + rdlen_at) + n - rr.mac_len));
	*len = *len - rr.mac_len + n;
}

/* ---- real implementations' vectors ---------------------------------------- */

static void check_request_vector(const char *path, int *per_alg)
{
	struct vec v;
	vec_load(path, &v);
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = vec_ring(&v, &key);
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(v.request, v.request_len, &rr), 0);
	struct tsig_request tr;
	uint64_t t = rr.time_signed;
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, t, &tr), 0);
	assert_ptr_equal(tr.key, key);
	assert_int_equal(tr.error, 0);
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, t + rr.fudge, &tr), 0);
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, t - rr.fudge, &tr), 0);
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, t + rr.fudge + 1, &tr),
	                 ZX_ETSIG_BADTIME);
	/* our reply, byte for byte what the peer accepted when the vectors were made */
	assert_string_equal(v.peer_check, "ok");
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, v.reply_time, &tr), 0);
	uint8_t reply[1024];
	size_t len = signed_reply(&tr, v.request, v.request_len, v.reply_time, reply, sizeof(reply));
	assert_int_equal(len, v.reply_len);
	assert_memory_equal(reply, v.reply, len);
	per_alg[key->alg]++;
	tsig_keyring_free(ring);
	vec_free(&v);
}

static void test_tsig_verifies_kdig_dig_ldns_requests_and_they_accept_our_replies(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob(VEC "req-*.vec", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 6 + 6 + 4 + 1); /* kdig, dig, ldns-notify, kdig NOTIFY */
	int per_alg[6] = {0};
	for (size_t i = 0; i < g.gl_pathc; i++) {
		check_request_vector(g.gl_pathv[i], per_alg);
	}
	globfree(&g);
	for (int a = 0; a < 6; a++) {
		assert_true(per_alg[a] >= 2);
	}
}

static void test_tsig_badtime_reply_checked_by_kdig(void **state)
{
	(void)state;
	struct vec v;
	vec_load(VEC "badtime-kdig-hmac-sha256.vec", &v);
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = vec_ring(&v, &key);
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, v.reply_time, &tr),
	                 ZX_ETSIG_BADTIME);
	assert_int_equal(tr.error, DNS_RC_BADTIME);
	uint8_t reply[1024];
	size_t len = signed_reply(&tr, v.request, v.request_len, v.reply_time, reply, sizeof(reply));
	assert_int_equal(len, v.reply_len);
	assert_memory_equal(reply, v.reply, len);
	struct tsig_rr req_rr, rep_rr;
	assert_int_equal(tsig_rr_parse(v.request, v.request_len, &req_rr), 0);
	assert_int_equal(tsig_rr_parse(reply, len, &rep_rr), 0);
	assert_int_equal(rep_rr.error, DNS_RC_BADTIME);
	assert_int_equal(rep_rr.time_signed, req_rr.time_signed); /* the client's own time */
	assert_int_equal(rep_rr.mac_len, 32);                     /* signed */
	assert_int_equal(rep_rr.other_len, 6);
	uint64_t server_time = 0;
	for (int i = 0; i < 6; i++) {
		server_time = server_time << 8 | rep_rr.other[i];
	}
	assert_int_equal(server_time, v.reply_time);
	/* kdig checked our MAC, then reported the server's BADTIME */
	assert_non_null(strstr(v.peer_check, "TSIG out of time window"));
	tsig_keyring_free(ring);
	vec_free(&v);
}

static void check_axfr_vector(const char *path)
{
	struct vec v;
	vec_load(path, &v);
	assert_true(v.nmsgs >= 3);
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = vec_ring(&v, &key);
	uint8_t q[512];
	memcpy(q, v.req_unsigned, v.req_unsigned_len);
	size_t qlen = v.req_unsigned_len;
	struct tsig_session s;
	tsig_session_init(&s, key, TSIG_FUDGE_DEFAULT);
	assert_int_equal(tsig_session_sign_request(&s, q, &qlen, sizeof(q), v.request_time), 0);
	for (int i = 0; i < v.nmsgs; i++) {
		assert_int_equal(tsig_session_verify(&s, v.msgs[i], v.msg_len[i], v.request_time), 0);
	}
	assert_int_equal(tsig_session_finish(&s), 0);
	assert_int_equal(s.signed_count, v.nmsgs);
	tsig_session_deinit(&s);

	/* the same stream with the second and third messages swapped */
	qlen = v.req_unsigned_len;
	memcpy(q, v.req_unsigned, qlen);
	tsig_session_init(&s, key, TSIG_FUDGE_DEFAULT);
	assert_int_equal(tsig_session_sign_request(&s, q, &qlen, sizeof(q), v.request_time), 0);
	assert_int_equal(tsig_session_verify(&s, v.msgs[0], v.msg_len[0], v.request_time), 0);
	assert_int_equal(tsig_session_verify(&s, v.msgs[2], v.msg_len[2], v.request_time),
	                 ZX_ETSIG_BADSIG);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
	vec_free(&v);
}

static void test_tsig_verifies_knot_and_nsd_axfr_streams(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob(VEC "axfr-*.vec", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 3); /* knot sha256, knot sha384, nsd sha512 */
	for (size_t i = 0; i < g.gl_pathc; i++) {
		check_axfr_vector(g.gl_pathv[i]);
	}
	globfree(&g);
}

static void check_serve_vector(const char *path)
{
	struct vec v;
	vec_load(path, &v);
	assert_string_equal(v.peer_check, "ok");
	assert_int_equal(v.nmsgs, 3);
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = vec_ring(&v, &key);
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, v.request, v.request_len, v.serve_time, &tr), 0);
	struct tsig_session s;
	tsig_session_init_reply(&s, &tr);
	for (int i = 0; i < 3; i++) {
		if (i == 1) {
			assert_int_equal(tsig_session_pass(&s, v.msgs[1], v.msg_len[1]), 0);
			continue;
		}
		uint8_t m[1024];
		size_t len = strip_tsig(v.msgs[i], v.msg_len[i], m, 0);
		assert_int_equal(tsig_session_sign(&s, m, &len, sizeof(m), v.serve_time), 0);
		assert_int_equal(len, v.msg_len[i]);
		assert_memory_equal(m, v.msgs[i], len);
	}
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
	vec_free(&v);
}

static void test_tsig_kdig_dig_accept_our_axfr_with_unsigned_middle(void **state)
{
	(void)state;
	glob_t g;
	assert_int_equal(glob(VEC "serve-*.vec", 0, NULL, &g), 0);
	assert_int_equal(g.gl_pathc, 4);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		check_serve_vector(g.gl_pathv[i]);
	}
	globfree(&g);
}

/* ---- our signer against our verifier: every code ------------------------- */

static void test_tsig_round_trip_all_algorithms(void **state)
{
	(void)state;
	static const char *const names[] = {"hmac-md5",    "hmac-sha1",   "hmac-sha224",
	                                    "hmac-sha256", "hmac-sha384", "hmac-sha512"};
	for (size_t i = 0; i < 6; i++) {
		const struct tsig_key *key = NULL;
		struct tsig_keyring *ring = test_ring(names[i], &key);
		struct tsig_session s;
		uint8_t q[512], r[512];
		size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
		struct tsig_rr rr;
		assert_int_equal(tsig_rr_parse(q, qlen, &rr), 0);
		assert_int_equal(rr.mac_len, tsig_alg_mac_len(key->alg));
		assert_int_equal(rr.orig_id, 0x1234);
		assert_int_equal(rd16(q + 10), 1);
		struct tsig_request tr;
		assert_int_equal(tsig_verify(ring, q, qlen, T0 + 1, &tr), 0);
		size_t rlen = signed_reply(&tr, q, qlen, T0 + 1, r, sizeof(r));
		assert_int_equal(tsig_session_verify(&s, r, rlen, T0 + 2), 0);
		assert_int_equal(tsig_session_finish(&s), 0);
		assert_int_equal(s.error, 0);
		tsig_session_deinit(&s);
		tsig_keyring_free(ring);
	}
}

static void test_tsig_badkey_unknown_key_and_wrong_algorithm(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL, *other = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_keyring *none = tsig_keyring_new();
	struct tsig_keyring *sha1 = test_ring("hmac-sha1", &other);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(none, q, qlen, T0, &tr), ZX_ETSIG_BADKEY);
	assert_null(tr.key);
	assert_int_equal(tr.error, DNS_RC_BADKEY);
	assert_int_equal(tsig_verify(sha1, q, qlen, T0, &tr), ZX_ETSIG_BADKEY);
	assert_null(tr.key);
	/* the reply: unsigned, the request's names, error BADKEY */
	size_t rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	assert_int_equal(rr.mac_len, 0);
	assert_int_equal(rr.error, DNS_RC_BADKEY);
	assert_memory_equal(rr.key_name, "\1k\7example", 11);
	assert_memory_equal(rr.alg_name, "\13hmac-sha256", 13);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_ETSIG_BADKEY);
	assert_int_equal(s.error, DNS_RC_BADKEY);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
	tsig_keyring_free(none);
	tsig_keyring_free(sha1);
}

static void test_tsig_badsig_flipped_bit_and_wrong_secret(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL, *wrong = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_keyring *ring2 = tsig_keyring_new();
	assert_int_equal(tsig_keyring_add(ring2, "k.example", "hmac-sha256", "b3RoZXI=", &wrong), 0);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring2, q, qlen, T0, &tr), ZX_ETSIG_BADSIG);
	assert_ptr_equal(tr.key, wrong);
	assert_int_equal(tr.error, DNS_RC_BADSIG);
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(q, qlen, &rr), 0);
	q[rr.mac - q + 5] ^= 0x10;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ETSIG_BADSIG);
	q[rr.mac - q + 5] ^= 0x10;
	q[14] ^= 0x20; /* the question name, case: covered by the MAC */
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ETSIG_BADSIG);
	/* an unsigned BADSIG reply, even long after: time is checked after the MAC */
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 5000, &tr), ZX_ETSIG_BADSIG);
	size_t rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	assert_int_equal(rr.mac_len, 0);
	assert_int_equal(rr.error, DNS_RC_BADSIG);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_ETSIG_BADSIG);
	assert_int_equal(s.error, DNS_RC_BADSIG);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
	tsig_keyring_free(ring2);
}

static void test_tsig_badtime_and_signed_badtime_reply(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha512", &key);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 300, &tr), 0);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 - 300, &tr), 0);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 - 301, &tr), ZX_ETSIG_BADTIME);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 301, &tr), ZX_ETSIG_BADTIME);
	assert_int_equal(tr.error, DNS_RC_BADTIME);
	assert_int_equal(tr.mac_len, 64);
	size_t rlen = signed_reply(&tr, q, qlen, T0 + 301, r, sizeof(r));
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	assert_int_equal(rr.time_signed, T0);
	assert_int_equal(rr.other_len, 6);
	assert_memory_equal(rr.other, "\x00\x00\x65\x53\xf2\x2d", 6); /* T0 + 301 */
	/* the client checks the MAC with its request MAC, then reports the BADTIME */
	uint8_t bad[512];
	memcpy(bad, r, rlen);
	bad[rlen - 3] ^= 1; /* other data: the MAC no longer matches */
	struct tsig_session s2 = s;
	assert_int_equal(tsig_session_verify(&s2, bad, rlen, T0), ZX_ETSIG_BADSIG);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_ETSIG_BADTIME);
	assert_int_equal(s.error, DNS_RC_BADTIME);
	tsig_session_deinit(&s);
	/* our clock off in the client: a good reply fails the client's own time check */
	qlen = signed_query(&s, key, T0, q, sizeof(q));
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0 + 1000), ZX_ETSIG_BADTIME);
	assert_int_equal(s.error, 0);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
}

/* A request claiming a fudge of 65535 s: accepted only within the keyring's cap
 * (default 300 s), so a captured message cannot stay replayable for 18 hours. */
static void test_tsig_max_fudge_caps_the_request_fudge(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_session s;
	uint8_t q[512];
	tsig_session_init(&s, key, 65535);
	size_t qlen = make_query(q, 0x1234);
	assert_int_equal(tsig_session_sign_request(&s, q, &qlen, sizeof(q), T0), 0);
	struct tsig_request tr;
	assert_int_equal(tsig_keyring_max_fudge(ring), TSIG_FUDGE_MAX_DEFAULT);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 300, &tr), 0);
	assert_int_equal(tr.fudge, 65535); /* the reply still carries the request's */
	assert_int_equal(tsig_verify(ring, q, qlen, T0 - 300, &tr), 0);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 301, &tr), ZX_ETSIG_BADTIME);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 - 3600, &tr), ZX_ETSIG_BADTIME);
	tsig_keyring_set_max_fudge(ring, 10);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 10, &tr), 0);
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 11, &tr), ZX_ETSIG_BADTIME);
	/* a request fudge below the cap still rules */
	tsig_keyring_set_max_fudge(ring, 65535);
	tsig_session_deinit(&s);
	qlen = signed_query(&s, key, T0, q, sizeof(q));
	assert_int_equal(tsig_verify(ring, q, qlen, T0 + 301, &tr), ZX_ETSIG_BADTIME);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
}

static void test_tsig_original_id_not_header_id(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	wr16(q, 0xbeef); /* a proxy (dnsdist) rewrote the header ID */
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	assert_int_equal(tr.orig_id, 0x1234);
	size_t rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	assert_int_equal(rd16(r), 0xbeef);
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	assert_int_equal(rr.orig_id, 0x1234);
	wr16(r, 0x1234); /* the proxy puts the client's ID back */
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), 0);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
}

static void test_tsig_malformed_records(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_session s;
	uint8_t q[1024], m[1024];
	struct tsig_request tr;
	struct tsig_rr rr;
	size_t qlen = make_query(q, 1);
	assert_int_equal(tsig_rr_parse(q, qlen, &rr), ZX_ENOTSIG);
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ENOTSIG);
	qlen = signed_query(&s, key, T0, q, sizeof(q));
	assert_int_equal(tsig_rr_parse(q, qlen - 1, &rr), ZX_EFORMAT); /* truncated */
	assert_int_equal(tsig_verify(ring, q, qlen - 1, T0, &tr), ZX_EFORMAT);
	assert_int_equal(tsig_rr_parse(q, 5, &rr), ZX_EFORMAT);
	/* not last: an A record after it */
	memcpy(m, q, qlen);
	memcpy(m + qlen, "\0\0\1\0\1\0\0\0\0\0\4\1\2\3\4", 15);
	wr16(m + 10, 2);
	assert_int_equal(tsig_verify(ring, m, qlen + 15, T0, &tr), ZX_EFORMAT);
	/* two TSIG records */
	memcpy(m, q, qlen);
	size_t mlen = qlen;
	struct tsig_session s2;
	tsig_session_init(&s2, key, 300);
	assert_int_equal(tsig_session_sign_request(&s2, m, &mlen, sizeof(m), T0), 0);
	assert_int_equal(tsig_verify(ring, m, mlen, T0, &tr), ZX_EFORMAT);
	/* in the answer section */
	memcpy(m, q, qlen);
	wr16(m + 6, 1);
	wr16(m + 10, 0);
	assert_int_equal(tsig_rr_parse(m, qlen, &rr), ZX_EFORMAT);
	/* class IN, TTL 1 */
	assert_int_equal(tsig_rr_parse(q, qlen, &rr), 0);
	memcpy(m, q, qlen);
	wr16(m + rr.offset + rr.key_name_len + 2, DNS_C_IN);
	assert_int_equal(tsig_rr_parse(m, qlen, &rr), ZX_EFORMAT);
	memcpy(m, q, qlen);
	m[rr.offset + rr.key_name_len + 7] = 1;
	assert_int_equal(tsig_rr_parse(m, qlen, &rr), ZX_EFORMAT);
	/* other len says 1 but nothing follows */
	memcpy(m, q, qlen);
	wr16(m + qlen - 2, 1);
	assert_int_equal(tsig_rr_parse(m, qlen, &rr), ZX_EFORMAT);
	/* MAC longer than the algorithm's, or shorter than max(10, half) */
	memcpy(m, q, qlen);
	mlen = qlen;
	set_mac_len(m, &mlen, 33);
	assert_int_equal(tsig_rr_parse(m, mlen, &rr), 0);
	assert_int_equal(tsig_verify(ring, m, mlen, T0, &tr), ZX_EFORMAT);
	memcpy(m, q, qlen);
	mlen = qlen;
	set_mac_len(m, &mlen, 15);
	assert_int_equal(tsig_verify(ring, m, mlen, T0, &tr), ZX_EFORMAT);
	tsig_session_deinit(&s);
	tsig_session_deinit(&s2);
	tsig_keyring_free(ring);
}

static void test_tsig_truncated_mac_is_badtrunc(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	set_mac_len(q, &qlen, 16); /* half of 32: allowed by the RFC, refused by our policy */
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ETSIG_BADTRUNC);
	assert_int_equal(tr.error, DNS_RC_BADTRUNC);
	assert_int_equal(tr.mac_len, 16);
	/* a wrong truncated MAC is still BADSIG */
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(q, qlen, &rr), 0);
	q[rr.mac - q] ^= 1;
	struct tsig_request bad;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &bad), ZX_ETSIG_BADSIG);
	q[rr.mac - q] ^= 1;
	/* the signed BADTRUNC answer; the client's request MAC was the full one, so the
	 * client only sees a bad MAC (the server signed over the truncated MAC) */
	size_t rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	assert_int_equal(rr.error, DNS_RC_BADTRUNC);
	assert_int_equal(rr.mac_len, 32);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_ETSIG_BADSIG);
	tsig_session_deinit(&s);
	/* md5: the floor is 10 bytes */
	tsig_keyring_free(ring);
	ring = test_ring("hmac-md5", &key);
	qlen = signed_query(&s, key, T0, q, sizeof(q));
	set_mac_len(q, &qlen, 10);
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ETSIG_BADTRUNC);
	set_mac_len(q, &qlen, 9);
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_EFORMAT);
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
}

static void test_tsig_client_sees_peer_errors_and_foreign_keys(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL, *k2 = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	assert_int_equal(tsig_keyring_add(ring, "k2.example", "hmac-sha256", "c2VjcmV0", &k2), 0);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	size_t rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	/* an answer signed with another key of ours */
	struct tsig_session other;
	uint8_t q2[512];
	size_t q2len = signed_query(&other, k2, T0, q2, sizeof(q2));
	assert_true(q2len > 0);
	assert_int_equal(tsig_session_verify(&other, r, rlen, T0), ZX_ETSIG_BADKEY);
	tsig_session_deinit(&other);
	/* unsigned answers with TSIG errors: BADTIME, BADTRUNC, and one we do not know */
	tr.error = DNS_RC_BADSIG;
	rlen = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(r, rlen, &rr), 0);
	size_t err_at = (size_t)(rr.mac - r) + 2;
	static const struct {
		uint16_t error;
		int rc;
	} cases[] = {{DNS_RC_BADTIME, ZX_ETSIG_BADTIME}, {DNS_RC_BADTRUNC, ZX_ETSIG_BADTRUNC},
	             {21, ZX_ERCODE}};
	for (size_t i = 0; i < 3; i++) {
		wr16(r + err_at, cases[i].error);
		struct tsig_session c = s;
		assert_int_equal(tsig_session_verify(&c, r, rlen, T0), cases[i].rc);
		assert_int_equal(c.error, cases[i].error);
	}
	tsig_session_deinit(&s);
	tsig_keyring_free(ring);
}

static void test_tsig_sign_errors_and_session_misuse(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha384", &key);
	struct tsig_session s;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	/* reply: no room, no header, ARCOUNT full */
	size_t rlen = strip_tsig(q, qlen, r, 1);
	size_t keep = rlen;
	assert_int_equal(tsig_sign_reply(&tr, r, &rlen, rlen + 20, T0), ZX_ELIMIT);
	assert_int_equal(rlen, keep);
	size_t shortlen = 11;
	assert_int_equal(tsig_sign_reply(&tr, r, &shortlen, sizeof(r), T0), ZX_EFORMAT);
	wr16(r + 10, 0xffff);
	assert_int_equal(tsig_sign_reply(&tr, r, &rlen, sizeof(r), T0), ZX_ELIMIT);
	wr16(r + 10, 0);
	/* client misuse */
	assert_int_equal(tsig_session_sign_request(&s, q, &qlen, sizeof(q), T0), ZX_EINVAL);
	assert_int_equal(tsig_session_sign(&s, r, &rlen, sizeof(r), T0), ZX_EINVAL);
	assert_int_equal(tsig_session_pass(&s, r, rlen), ZX_EINVAL);
	tsig_session_deinit(&s);
	tsig_session_init(&s, key, 300);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_EINVAL);
	assert_int_equal(tsig_session_finish(&s), ZX_ENOTSIG);
	assert_int_equal(tsig_session_sign_request(&s, q, &shortlen, sizeof(q), T0), ZX_EFORMAT);
	size_t ql = make_query(q, 7);
	assert_int_equal(tsig_session_sign_request(&s, q, &ql, ql + 10, T0), ZX_ELIMIT);
	tsig_session_deinit(&s);
	/* server misuse */
	tsig_session_init_reply(&s, &tr);
	assert_int_equal(tsig_session_pass(&s, r, rlen), ZX_EINVAL); /* first must be signed */
	assert_int_equal(tsig_session_sign_request(&s, q, &ql, sizeof(q), T0), ZX_EINVAL);
	assert_int_equal(tsig_session_verify(&s, r, rlen, T0), ZX_EINVAL);
	assert_int_equal(tsig_session_sign(&s, r, &shortlen, sizeof(r), T0), ZX_EFORMAT);
	assert_int_equal(tsig_session_sign(&s, r, &rlen, rlen + 5, T0), ZX_ELIMIT);
	tsig_session_deinit(&s);
	tsig_session_deinit(&s); /* twice is fine */
	tsig_keyring_free(ring);
}

/* A three-message answer: message i of it, unsigned (RR of type A, i as address). */
static size_t answer_msg(uint8_t *buf, int i)
{
	(void)make_query(buf, 0x1234);
	buf[2] |= 0x84;
	wr16(buf + 4, 0);
	wr16(buf + 6, 1);
	size_t len = DNS_HDR_LEN;
	memcpy(buf + len, "\7example\3com\0\0\1\0\1\0\0\0\0\0\4\300\0\2", 26);
	buf[len + 26] = (uint8_t)i;
	return len + 27;
}

static void test_tsig_multi_message_with_unsigned_middle(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha224", &key);
	struct tsig_session c, srv;
	uint8_t q[512], m[3][512];
	size_t mlen[3];
	size_t qlen = signed_query(&c, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	tsig_session_init_reply(&srv, &tr);
	for (int i = 0; i < 3; i++) {
		mlen[i] = answer_msg(m[i], i);
		int rc = i == 1 ? tsig_session_pass(&srv, m[i], mlen[i])
		                : tsig_session_sign(&srv, m[i], &mlen[i], sizeof(m[i]), T0 + i);
		assert_int_equal(rc, 0);
	}
	tsig_session_deinit(&srv);
	assert_int_equal(tsig_session_verify(&c, m[0], mlen[0], T0), 0);
	assert_int_equal(tsig_session_verify(&c, m[1], mlen[1], T0), 0);
	assert_int_equal(c.unsigned_count, 1);
	assert_int_equal(tsig_session_finish(&c), ZX_ENOTSIG); /* not over yet */
	assert_int_equal(tsig_session_verify(&c, m[2], mlen[2], T0), 0);
	assert_int_equal(tsig_session_finish(&c), 0);
	assert_int_equal(c.signed_count, 2);
	tsig_session_deinit(&c);
	tsig_keyring_free(ring);
}

static void test_tsig_multi_message_first_or_last_unsigned_fails(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha1", &key);
	struct tsig_session c, srv;
	uint8_t q[512], m[3][512];
	size_t mlen[3];
	size_t qlen = signed_query(&c, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	tsig_session_init_reply(&srv, &tr);
	for (int i = 0; i < 3; i++) {
		mlen[i] = answer_msg(m[i], i);
	}
	assert_int_equal(tsig_session_sign(&srv, m[0], &mlen[0], sizeof(m[0]), T0), 0);
	assert_int_equal(tsig_session_pass(&srv, m[1], mlen[1]), 0);
	tsig_session_deinit(&srv);
	/* first unsigned */
	assert_int_equal(tsig_session_verify(&c, m[1], mlen[1], T0), ZX_ENOTSIG);
	/* last unsigned */
	assert_int_equal(tsig_session_verify(&c, m[0], mlen[0], T0), 0);
	assert_int_equal(tsig_session_verify(&c, m[1], mlen[1], T0), 0);
	assert_int_equal(tsig_session_finish(&c), ZX_ENOTSIG);
	/* a middle message changed: the next signed one fails */
	uint8_t m2[512];
	size_t m2len = answer_msg(m2, 2);
	tsig_session_deinit(&c);
	qlen = signed_query(&c, key, T0, q, sizeof(q));
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	tsig_session_init_reply(&srv, &tr);
	mlen[0] = answer_msg(m[0], 0);
	mlen[1] = answer_msg(m[1], 1);
	assert_int_equal(tsig_session_sign(&srv, m[0], &mlen[0], sizeof(m[0]), T0), 0);
	assert_int_equal(tsig_session_pass(&srv, m[1], mlen[1]), 0);
	assert_int_equal(tsig_session_sign(&srv, m2, &m2len, sizeof(m2), T0), 0);
	tsig_session_deinit(&srv);
	m[1][mlen[1] - 1] ^= 1;
	assert_int_equal(tsig_session_verify(&c, m[0], mlen[0], T0), 0);
	assert_int_equal(tsig_session_verify(&c, m[1], mlen[1], T0), 0);
	assert_int_equal(tsig_session_verify(&c, m2, m2len, T0), ZX_ETSIG_BADSIG);
	tsig_session_deinit(&c);
	tsig_keyring_free(ring);
}

static void test_tsig_multi_message_at_most_99_unsigned(void **state)
{
	(void)state;
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring("hmac-sha256", &key);
	struct tsig_session c, c2, srv;
	uint8_t q[512], first[512], mid[512], last[512];
	size_t qlen = signed_query(&c, key, T0, q, sizeof(q));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	tsig_session_init_reply(&srv, &tr);
	size_t flen = answer_msg(first, 0);
	size_t mdlen = answer_msg(mid, 1);
	size_t llen = answer_msg(last, 2);
	assert_int_equal(tsig_session_sign(&srv, first, &flen, sizeof(first), T0), 0);
	for (int i = 0; i < TSIG_MAX_UNSIGNED; i++) {
		assert_int_equal(tsig_session_pass(&srv, mid, mdlen), 0);
	}
	assert_int_equal(tsig_session_pass(&srv, mid, mdlen), ZX_ELIMIT);
	assert_int_equal(tsig_session_sign(&srv, last, &llen, sizeof(last), T0), 0);
	tsig_session_deinit(&srv);
	c2 = c;
	assert_int_equal(tsig_session_verify(&c, first, flen, T0), 0);
	for (int i = 0; i < TSIG_MAX_UNSIGNED; i++) {
		assert_int_equal(tsig_session_verify(&c, mid, mdlen, T0), 0);
	}
	assert_int_equal(tsig_session_verify(&c, last, llen, T0), 0);
	assert_int_equal(tsig_session_finish(&c), 0);
	tsig_session_deinit(&c);
	/* one more unsigned than allowed */
	assert_int_equal(tsig_session_verify(&c2, first, flen, T0), 0);
	for (int i = 0; i < TSIG_MAX_UNSIGNED; i++) {
		assert_int_equal(tsig_session_verify(&c2, mid, mdlen, T0), 0);
	}
	assert_int_equal(tsig_session_verify(&c2, mid, mdlen, T0), ZX_ENOTSIG);
	tsig_session_deinit(&c2);
	tsig_keyring_free(ring);
}

/* ---- cross-check with ldns (md5, sha1, sha256, sha512) ------------------ */

static ldns_rdf *mac_rdf(const uint8_t *mac, size_t len)
{
	uint8_t buf[2 + TSIG_MAC_MAX];
	wr16(buf, (uint16_t)len);
	memcpy(buf + 2, mac, len);
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, len + 2, buf);
}

static int ldns_verifies(const uint8_t *wire, size_t len, const char *secret, const ldns_rdf *mac)
{
	ldns_pkt *pkt = NULL;
	assert_int_equal(ldns_wire2pkt(&pkt, wire, len), LDNS_STATUS_OK);
	bool ok = ldns_pkt_tsig_verify(pkt, wire, len, "k.example.", secret, mac);
	ldns_pkt_free(pkt);
	return ok;
}

/* ldns signs: a query (mac NULL) or a reply to a request with MAC @p mac. */
static size_t ldns_signs(ldns_pkt *pkt, const char *alg, const char *secret, const ldns_rdf *mac,
                         uint8_t *out)
{
	assert_int_equal(ldns_pkt_tsig_sign(pkt, "k.example.", secret, 300, alg, mac),
	                 LDNS_STATUS_OK);
	uint8_t *wire = NULL;
	size_t len = 0;
	assert_int_equal(ldns_pkt2wire(&wire, pkt, &len), LDNS_STATUS_OK);
	memcpy(out, wire, len);
	LDNS_FREE(wire);
	return len;
}

static void cross_check_ldns(const char *alg, const char *ldns_alg)
{
	static const char secret[] = "c2VjcmV0LWtleS1ieXRlcw==";
	const struct tsig_key *key = NULL;
	struct tsig_keyring *ring = test_ring(alg, &key);
	uint64_t now = (uint64_t)time(NULL); /* ldns signs with the clock */
	struct tsig_session s;
	uint8_t q[512], r[512];
	/* ours signs, ldns verifies: request and reply */
	size_t qlen = signed_query(&s, key, now, q, sizeof(q));
	assert_true(ldns_verifies(q, qlen, secret, NULL));
	struct tsig_request tr;
	assert_int_equal(tsig_verify(ring, q, qlen, now, &tr), 0);
	size_t rlen = signed_reply(&tr, q, qlen, now, r, sizeof(r));
	ldns_rdf *rmac = mac_rdf(tr.mac, tr.mac_len);
	assert_true(ldns_verifies(r, rlen, secret, rmac));
	r[rlen - 20] ^= 1;
	assert_false(ldns_verifies(r, rlen, secret, rmac));
	/* ldns signs a reply to our request, ours verifies */
	ldns_pkt *reply = NULL;
	assert_int_equal(ldns_wire2pkt(&reply, q, qlen), LDNS_STATUS_OK);
	ldns_rr_free(ldns_pkt_tsig(reply));
	ldns_pkt_set_tsig(reply, NULL);
	ldns_pkt_set_qr(reply, true);
	rlen = ldns_signs(reply, ldns_alg, secret, rmac, r);
	assert_int_equal(tsig_session_verify(&s, r, rlen, now), 0);
	ldns_pkt_free(reply);
	ldns_rdf_deep_free(rmac);
	tsig_session_deinit(&s);
	/* ldns signs a request, ours verifies */
	ldns_pkt *query = NULL;
	assert_int_equal(ldns_pkt_query_new_frm_str(&query, "example.com", LDNS_RR_TYPE_SOA,
	                                            LDNS_RR_CLASS_IN, 0),
	                 LDNS_STATUS_OK);
	ldns_pkt_set_id(query, 0x4242);
	qlen = ldns_signs(query, ldns_alg, secret, NULL, q);
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(q, qlen, &rr), 0);
	assert_int_equal(tsig_verify(ring, q, qlen, rr.time_signed, &tr), 0);
	ldns_pkt_free(query);
	tsig_keyring_free(ring);
}

static void test_tsig_cross_checked_with_ldns(void **state)
{
	(void)state;
	cross_check_ldns("hmac-md5", "hmac-md5.sig-alg.reg.int.");
	cross_check_ldns("hmac-sha1", "hmac-sha1.");
	cross_check_ldns("hmac-sha256", "hmac-sha256.");
	cross_check_ldns("hmac-sha512", "hmac-sha512.");
}

/* ---- OpenSSL failing (linked with -Wl,--wrap=EVP_MAC_CTX_dup,--wrap=EVP_MAC_fetch) ---- */

static int fail_dup, fail_fetch;

EVP_MAC_CTX *__real_EVP_MAC_CTX_dup(const EVP_MAC_CTX *src);
EVP_MAC_CTX *__wrap_EVP_MAC_CTX_dup(const EVP_MAC_CTX *src);
EVP_MAC *__real_EVP_MAC_fetch(OSSL_LIB_CTX *libctx, const char *algorithm, const char *properties);
EVP_MAC *__wrap_EVP_MAC_fetch(OSSL_LIB_CTX *libctx, const char *algorithm, const char *properties);

EVP_MAC_CTX *__wrap_EVP_MAC_CTX_dup(const EVP_MAC_CTX *src)
{
	return fail_dup ? NULL : __real_EVP_MAC_CTX_dup(src);
}

EVP_MAC *__wrap_EVP_MAC_fetch(OSSL_LIB_CTX *libctx, const char *algorithm, const char *properties)
{
	return fail_fetch ? NULL : __real_EVP_MAC_fetch(libctx, algorithm, properties);
}

static void test_tsig_openssl_failure_is_enomem(void **state)
{
	(void)state;
	struct tsig_keyring *ring = tsig_keyring_new();
	fail_fetch = 1;
	assert_int_equal(tsig_keyring_add(ring, "k", "hmac-sha256", "c2VjcmV0", NULL), ZX_ENOMEM);
	char err[256] = "";
	assert_int_equal(tsig_keyring_add_file(ring, VEC "keys.knot", err, sizeof(err)), ZX_ENOMEM);
	fail_fetch = 0;
	assert_int_equal(tsig_keyring_count(ring), 0);
	tsig_keyring_free(ring);

	const struct tsig_key *key = NULL;
	ring = test_ring("hmac-sha256", &key);
	struct tsig_session s, srv;
	uint8_t q[512], r[512];
	size_t qlen = signed_query(&s, key, T0, q, sizeof(q));
	struct tsig_request tr, keep;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), 0);
	size_t rlen = strip_tsig(q, qlen, r, 1);
	keep = tr;
	fail_dup = 1;
	assert_int_equal(tsig_verify(ring, q, qlen, T0, &tr), ZX_ENOMEM);
	assert_memory_equal(&tr, &keep, sizeof(tr)); /* untouched */
	assert_int_equal(tsig_sign_reply(&tr, r, &rlen, sizeof(r), T0), ZX_ENOMEM);
	struct tsig_session c;
	uint8_t q2[512];
	size_t ql = make_query(q2, 9);
	tsig_session_init(&c, key, 300);
	assert_int_equal(tsig_session_sign_request(&c, q2, &ql, sizeof(q2), T0), ZX_ENOMEM);
	tsig_session_deinit(&c);
	fail_dup = 0;
	/* a reply that needs a MAC computed on the client side */
	size_t r2len = signed_reply(&tr, q, qlen, T0, r, sizeof(r));
	fail_dup = 1;
	assert_int_equal(tsig_session_verify(&s, r, r2len, T0), ZX_ENOMEM);
	fail_dup = 0;
	tsig_session_init_reply(&srv, &tr);
	uint8_t m[512];
	size_t mlen = answer_msg(m, 0);
	assert_int_equal(tsig_session_sign(&srv, m, &mlen, sizeof(m), T0), 0);
	fail_dup = 1;
	assert_int_equal(tsig_session_pass(&srv, m, mlen), ZX_ENOMEM);
	mlen = answer_msg(m, 1);
	assert_int_equal(tsig_session_sign(&srv, m, &mlen, sizeof(m), T0), ZX_ENOMEM);
	fail_dup = 0;
	tsig_session_deinit(&srv);
	tsig_session_deinit(&s);
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
		cmocka_unit_test(test_tsig_verifies_kdig_dig_ldns_requests_and_they_accept_our_replies),
		cmocka_unit_test(test_tsig_badtime_reply_checked_by_kdig),
		cmocka_unit_test(test_tsig_verifies_knot_and_nsd_axfr_streams),
		cmocka_unit_test(test_tsig_kdig_dig_accept_our_axfr_with_unsigned_middle),
		cmocka_unit_test(test_tsig_round_trip_all_algorithms),
		cmocka_unit_test(test_tsig_badkey_unknown_key_and_wrong_algorithm),
		cmocka_unit_test(test_tsig_badsig_flipped_bit_and_wrong_secret),
		cmocka_unit_test(test_tsig_badtime_and_signed_badtime_reply),
		cmocka_unit_test(test_tsig_max_fudge_caps_the_request_fudge),
		cmocka_unit_test(test_tsig_original_id_not_header_id),
		cmocka_unit_test(test_tsig_malformed_records),
		cmocka_unit_test(test_tsig_truncated_mac_is_badtrunc),
		cmocka_unit_test(test_tsig_client_sees_peer_errors_and_foreign_keys),
		cmocka_unit_test(test_tsig_sign_errors_and_session_misuse),
		cmocka_unit_test(test_tsig_multi_message_with_unsigned_middle),
		cmocka_unit_test(test_tsig_multi_message_first_or_last_unsigned_fails),
		cmocka_unit_test(test_tsig_multi_message_at_most_99_unsigned),
		cmocka_unit_test(test_tsig_cross_checked_with_ldns),
		cmocka_unit_test(test_tsig_openssl_failure_is_enomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
