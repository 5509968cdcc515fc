/* tests/unit/notifyd/test_notify.c -- notify_decide() through every RFC 1996 and TSIG case.
 *
 * No sockets, no clock: messages are built here, signed with common/tsig's
 * client session, and each reply is checked byte for byte (and its TSIG
 * verified the way kdig would). Every reply is also checked to be no longer
 * than its request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "notifyd/notify.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "notifyd/ratelimit.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define NOW 1764140000u
#define SECRET1 "c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU="
#define SECRET3 "dGhyZWUtdGhyZWUtdGhyZWUtdGhyZWUtdGhyZWUtdGg="

static const char yaml[] =
	"keys:\n"
	"  - { name: k1, algorithm: hmac-sha256, secret: \"" SECRET1 "\" }\n"
	"  - { name: k2, algorithm: hmac-sha1, secret: \"dHdvLXR3by10d28tdHdvLXR3bw==\" }\n"
	"  - { name: k3, algorithm: hmac-sha256, secret: \"" SECRET3 "\" }\n"
	"zone-defaults:\n"
	"  primaries: [ \"192.0.2.1@53\" ]\n"
	"  notify-from: [ \"192.0.2.0/24\", \"2001:db8::/32\" ]\n"
	"zones:\n"
	"  - { name: signed.test, key: k1 }\n"
	"  - { name: open.test }\n"
	"  - { name: two.test, notify-keys: [ k1, k2 ] }\n";

struct fx {
	struct cfg *cfg;
	struct notify_env env;
	struct sockaddr_storage src;
	uint8_t msg[1024];
	size_t len;
	uint8_t reply[NOTIFY_REPLY_MAX];
	struct notify_out out;
	struct tsig_session sess;
	bool sess_used;
	bool tcp; /**< decide as if the message came over TCP */
};

static struct fx F;

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	char err[2048];
	int rc = cfg_load_string("test.yaml", yaml, &F.cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	F.env.cfg = F.cfg;
	socklen_t sl;
	return acl_endpoint_parse("192.0.2.53@5300", 0, &F.src, &sl);
}

static int teardown(void **state)
{
	(void)state;
	if (F.sess_used) {
		tsig_session_deinit(&F.sess);
	}
	ratelimit_free(F.env.per_source);
	ratelimit_free(F.env.per_zone);
	tsig_replay_free(F.env.replay);
	cfg_free(F.cfg);
	return 0;
}

/* A NOTIFY (or other opcode) for @p zone, with the SOA serial hint when serial >= 0. */
static void build(uint16_t id, unsigned opcode, const char *zone, uint16_t qtype, long serial)
{
	uint8_t name[DNAME_MAXLEN];
	int nl = dname_from_text(zone, name);
	assert_true(nl > 0);
	struct wire_wr w = wire_wr_init(F.msg, sizeof(F.msg));
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, (uint16_t)(opcode << 11 | DNS_FLAG_AA));
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, serial >= 0 ? 1 : 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, name, (size_t)nl);
	wire_wr_u16(&w, qtype);
	wire_wr_u16(&w, DNS_C_IN);
	if (serial >= 0) {
		wire_wr_u16(&w, 0xc00c); /* owner: the question's name */
		wire_wr_u16(&w, DNS_T_SOA);
		wire_wr_u16(&w, DNS_C_IN);
		wire_wr_u32(&w, 3600);
		wire_wr_u16(&w, 2 + 2 + 20);
		wire_wr_u16(&w, 0xc00c); /* mname */
		wire_wr_u16(&w, 0xc00c); /* rname */
		wire_wr_u32(&w, (uint32_t)serial);
		wire_wr_u32(&w, 1);
		wire_wr_u32(&w, 2);
		wire_wr_u32(&w, 3);
		wire_wr_u32(&w, 4);
	}
	assert_int_equal(w.err, 0);
	F.len = wire_wr_len(&w);
}

static void sign(const struct tsig_key *key, uint64_t when)
{
	if (F.sess_used) {
		tsig_session_deinit(&F.sess);
	}
	tsig_session_init(&F.sess, key, TSIG_FUDGE_DEFAULT);
	F.sess_used = true;
	assert_int_equal(tsig_session_sign_request(&F.sess, F.msg, &F.len, sizeof(F.msg), when), 0);
}

static const struct tsig_key *key(const char *name)
{
	const struct tsig_key *k = tsig_keyring_find_text(F.cfg->keys, name);
	assert_non_null(k);
	return k;
}

static void decide_from(const char *src)
{
	socklen_t sl;
	assert_int_equal(acl_endpoint_parse(src, 0, &F.src, &sl), 0);
	struct notify_in in = {.msg = F.msg, .len = F.len, .src = (struct sockaddr *)&F.src,
	                       .now_s = NOW, .now_ms = 1000, .tcp = F.tcp};
	memset(&F.out, 0x5a, sizeof(F.out));
	assert_int_equal(notify_decide(&F.env, &in, F.reply, sizeof(F.reply), &F.out), 0);
	if (F.out.reply) {
		assert_true(F.tcp || F.out.reply_len <= F.len); /* never an amplifier over UDP */
		assert_true(F.out.reply_len >= DNS_HDR_LEN);
	}
}

static void decide(void)
{
	decide_from("192.0.2.53@5300");
}

/* The reply's header, checked for QR, @p opcode and @p rcode. */
static struct dns_hdr reply_hdr(unsigned opcode, unsigned rcode)
{
	struct dns_hdr h;
	assert_true(F.out.reply);
	assert_int_equal(dnsmsg_hdr_parse(F.reply, F.out.reply_len, &h), 0);
	assert_true(h.flags & DNS_FLAG_QR);
	assert_int_equal(DNS_OPCODE(h.flags), opcode);
	assert_int_equal(DNS_RCODE(h.flags), rcode);
	assert_int_equal(F.out.rcode, rcode);
	return h;
}

/* The reply's TSIG record. */
static struct tsig_rr reply_tsig(void)
{
	struct tsig_rr rr;
	assert_int_equal(tsig_rr_parse(F.reply, F.out.reply_len, &rr), 0);
	return rr;
}

static void test_notify_unsigned_accepted_with_serial(void **state)
{
	(void)state;
	build(0x1234, DNS_OP_NOTIFY, "Open.Test.", DNS_T_SOA, 2026112601);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_true(F.out.has_serial);
	assert_int_equal(F.out.serial, 2026112601);
	assert_non_null(F.out.zone);
	assert_string_equal(F.out.zone->name_text, "open.test.");
	assert_false(F.out.is_signed);
	assert_null(F.out.key);
	assert_int_equal(F.out.id, 0x1234);
	assert_int_equal(F.out.orig_id, 0x1234);
	/* Header: ID, QR|opcode NOTIFY|AA, NOERROR, QD=1; then the question as sent. */
	const uint8_t want_hdr[] = {0x12, 0x34, 0xa4, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(F.out.reply_len, 12 + 11 + 4);
	assert_memory_equal(F.reply, want_hdr, 12);
	assert_memory_equal(F.reply + 12, F.msg + 12, 15);
}

static void test_notify_without_serial_hint(void **state)
{
	(void)state;
	build(7, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_false(F.out.has_serial);
	assert_int_equal(F.out.reply_len, F.len); /* same bytes, flags aside */
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOERROR);
}

static void test_notify_short_header_is_silent(void **state)
{
	(void)state;
	build(7, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.len = 11;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_SILENT);
	assert_false(F.out.reply);
}

static void test_notify_response_is_dropped(void **state)
{
	(void)state;
	build(7, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.msg[2] |= 0x80;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_RESPONSE);
	assert_false(F.out.reply);
}

static void test_notify_other_opcode_is_notimp(void **state)
{
	(void)state;
	build(0xbeef, DNS_OP_QUERY, "open.test", DNS_T_SOA, -1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_NOTIMP);
	const uint8_t want[] = {0xbe, 0xef, 0x80, 0x04, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(F.out.reply_len, 12);
	assert_memory_equal(F.reply, want, 12);
	build(1, DNS_OP_UPDATE, "open.test", DNS_T_SOA, -1);
	decide();
	reply_hdr(DNS_OP_UPDATE, DNS_RC_NOTIMP);
}

static void test_notify_malformed_is_formerr(void **state)
{
	(void)state;
	/* Not SOA. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_A, -1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	const uint8_t want[] = {0, 9, 0xa0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(F.out.reply_len, 12);
	assert_memory_equal(F.reply, want, 12);
	/* Class CH. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.msg[F.len - 1] = 3;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	/* Two questions counted, one present. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.msg[5] = 2;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	/* No question. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.msg[5] = 0;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	/* Trailing garbage after the last counted record. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 5);
	F.msg[F.len++] = 0;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	/* An answer count with no record. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, -1);
	F.msg[7] = 1;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	/* A short SOA rdata. */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 5);
	F.msg[F.len - 20 - 4 - 1] = 10; /* rdlength 24 -> 10 */
	F.len -= 14;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
}

static void test_notify_unknown_zone_unsigned_is_refused(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "nope.test", DNS_T_SOA, 1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_UNKNOWN_ZONE);
	assert_null(F.out.zone);
	assert_int_equal(F.out.qname_len, 11);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_REFUSED);
	assert_int_equal(h.qdcount, 1);
	assert_false(h.flags & DNS_FLAG_AA);
}

static void test_notify_unknown_zone_signed_is_notauth_signed(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "nope.test", DNS_T_SOA, 1);
	sign(key("k1"), NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_UNKNOWN_ZONE);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
	assert_int_equal(reply_tsig().error, 0);
}

static void test_notify_source_outside_acl_is_refused(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	decide_from("198.51.100.1@53");
	assert_int_equal(F.out.outcome, NOTIFY_REFUSED_ACL);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_REFUSED);
	/* IPv6 inside, and an IPv4-mapped address inside the IPv4 network. */
	decide_from("[2001:db8::5]:53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	decide_from("[::ffff:192.0.2.9]:53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	/* Signed, refused: the refusal is signed. */
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(key("k1"), NOW);
	decide_from("198.51.100.1@53");
	assert_int_equal(F.out.outcome, NOTIFY_REFUSED_ACL);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
}

static void test_notify_zone_with_key_refuses_unsigned(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_REFUSED_UNSIGNED);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_REFUSED);
	assert_int_equal(h.arcount, 0);
}

static void test_notify_signed_accepted_and_reply_signed(void **state)
{
	(void)state;
	build(0x4242, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 77);
	sign(key("k1"), NOW - 100);
	size_t req_len = F.len;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_true(F.out.is_signed);
	assert_ptr_equal(F.out.key, key("k1"));
	assert_int_equal(F.out.serial, 77);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOERROR);
	assert_int_equal(h.id, 0x4242);
	assert_int_equal(h.qdcount, 1);
	assert_int_equal(h.arcount, 1);
	assert_true(F.out.reply_len < req_len);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
	/* A zone listing two keys takes either; hmac-sha1 here. */
	build(5, DNS_OP_NOTIFY, "two.test", DNS_T_SOA, 1);
	sign(key("k2"), NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
	/* An open zone takes a signed NOTIFY too, and answers it signed. */
	build(5, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	sign(key("k3"), NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
}

static void test_notify_rewritten_id_verifies_with_original_id(void **state)
{
	(void)state;
	build(0x1111, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 77);
	sign(key("k1"), NOW);
	F.msg[0] = 0x99; /* what dnsdist does */
	F.msg[1] = 0x99;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_int_equal(F.out.id, 0x9999);
	assert_int_equal(F.out.orig_id, 0x1111);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOERROR);
	assert_int_equal(h.id, 0x9999);
	assert_int_equal(reply_tsig().orig_id, 0x1111);
	/* The client sees its own ID again once the proxy restores it. */
	F.reply[0] = 0x11;
	F.reply[1] = 0x11;
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
}

static void test_notify_key_not_listed_is_refused_signed(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(key("k3"), NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_REFUSED_KEY);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_REFUSED);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW), 0);
}

/* A key the server does not have (or has with another secret). */
static const struct tsig_key *foreign_key(struct tsig_keyring **ring, const char *name,
                                          const char *alg, const char *secret)
{
	*ring = tsig_keyring_new();
	assert_non_null(*ring);
	const struct tsig_key *k = NULL;
	assert_int_equal(tsig_keyring_add(*ring, name, alg, secret, &k), 0);
	return k;
}

static void test_notify_unknown_key_is_badkey_unsigned(void **state)
{
	(void)state;
	struct tsig_keyring *ring;
	const struct tsig_key *k = foreign_key(&ring, "nokey", "hmac-sha256", SECRET1);
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(k, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADKEY);
	assert_false(F.out.is_signed);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	struct tsig_rr rr = reply_tsig();
	assert_int_equal(rr.error, DNS_RC_BADKEY);
	assert_int_equal(rr.mac_len, 0);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW),
	                 ZX_ETSIG_BADKEY);
	tsig_session_deinit(&F.sess);
	F.sess_used = false;
	tsig_keyring_free(ring);
	/* The right name with another algorithm is BADKEY too. */
	k = foreign_key(&ring, "k1", "hmac-sha512", SECRET1);
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(k, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADKEY);
	tsig_session_deinit(&F.sess);
	F.sess_used = false;
	tsig_keyring_free(ring);
}

static void test_notify_wrong_secret_is_badsig_unsigned(void **state)
{
	(void)state;
	struct tsig_keyring *ring;
	const struct tsig_key *k = foreign_key(&ring, "k1", "hmac-sha256", SECRET3);
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(k, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADSIG);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	struct tsig_rr rr = reply_tsig();
	assert_int_equal(rr.error, DNS_RC_BADSIG);
	assert_int_equal(rr.mac_len, 0);
	tsig_session_deinit(&F.sess);
	F.sess_used = false;
	tsig_keyring_free(ring);
}

static void test_notify_skewed_clock_is_badtime_signed(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(key("k1"), NOW - 3600);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADTIME);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	struct tsig_rr rr = reply_tsig();
	assert_int_equal(rr.error, DNS_RC_BADTIME);
	assert_int_equal(rr.time_signed, NOW - 3600);
	assert_int_equal(rr.other_len, 6);
	uint64_t server = 0;
	for (int i = 0; i < 6; i++) {
		server = server << 8 | rr.other[i];
	}
	assert_int_equal(server, NOW);
	assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW - 3600),
	                 ZX_ETSIG_BADTIME);
	assert_int_equal(F.sess.error, DNS_RC_BADTIME);
}

static void test_notify_badtime_without_hint_trims_question(void **state)
{
	(void)state;
	/* No SOA in the request: the BADTIME answer's 6 bytes of server time would
	 * make it longer than the request, so the question goes. */
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, -1);
	sign(key("k1"), NOW + 4000);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADTIME);
	assert_false(F.out.oversize);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	assert_int_equal(h.qdcount, 0);
	assert_int_equal(reply_tsig().error, DNS_RC_BADTIME);
}

/* Sign the message in F.msg by hand (RFC 8945 4.3) with k1's secret, keeping only the
 * first @p keep bytes of the MAC: the client session offers no truncation. */
static void sign_truncated(size_t keep, uint64_t when)
{
	static const uint8_t k1[] = {2, 'k', '1', 0};
	static const uint8_t alg[] = {11, 'h', 'm', 'a', 'c', '-', 's', 'h', 'a', '2', '5', '6', 0};
	uint8_t data[1024];
	struct wire_wr w = wire_wr_init(data, sizeof(data));
	wire_wr_bytes(&w, F.msg, F.len);
	wire_wr_bytes(&w, k1, sizeof(k1));
	wire_wr_u16(&w, DNS_C_ANY);
	wire_wr_u32(&w, 0);
	wire_wr_bytes(&w, alg, sizeof(alg));
	wire_wr_u16(&w, (uint16_t)(when >> 32));
	wire_wr_u32(&w, (uint32_t)when);
	wire_wr_u16(&w, 300);
	wire_wr_u16(&w, 0); /* error */
	wire_wr_u16(&w, 0); /* other len */
	const struct tsig_key *k = key("k1");
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	assert_non_null(HMAC(EVP_sha256(), k->secret, (int)k->secret_len, data, wire_wr_len(&w), mac,
	                     &mac_len));
	uint16_t id = (uint16_t)(F.msg[0] << 8 | F.msg[1]);
	struct wire_wr t = wire_wr_init(F.msg + F.len, sizeof(F.msg) - F.len);
	wire_wr_bytes(&t, k1, sizeof(k1));
	wire_wr_u16(&t, DNS_T_TSIG);
	wire_wr_u16(&t, DNS_C_ANY);
	wire_wr_u32(&t, 0);
	wire_wr_u16(&t, (uint16_t)(sizeof(alg) + 16 + keep));
	wire_wr_bytes(&t, alg, sizeof(alg));
	wire_wr_u16(&t, (uint16_t)(when >> 32));
	wire_wr_u32(&t, (uint32_t)when);
	wire_wr_u16(&t, 300);
	wire_wr_u16(&t, (uint16_t)keep);
	wire_wr_bytes(&t, mac, keep);
	wire_wr_u16(&t, id);
	wire_wr_u16(&t, 0);
	wire_wr_u16(&t, 0);
	assert_int_equal(t.err, 0);
	F.len += wire_wr_len(&t);
	F.msg[11]++; /* ARCOUNT */
}

static void test_notify_truncated_mac_is_badtrunc(void **state)
{
	(void)state;
	/* The full MAC by hand first: accepted, so the hand signing is right. */
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign_truncated(32, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	/* 16 of 32 bytes: a valid truncation (RFC 8945 5.2.2.1) that our policy refuses. */
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign_truncated(16, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADTRUNC);
	assert_true(F.out.is_signed);
	reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	struct tsig_rr rr = reply_tsig();
	assert_int_equal(rr.error, DNS_RC_BADTRUNC);
	assert_int_equal(rr.mac_len, 32); /* the answer is signed in full */
	/* Below half of the MAC: malformed. */
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign_truncated(8, NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
}

/* A short name, no serial hint, half a MAC: the full-MAC BADTRUNC answer is longer
 * than the request even without its question. Over UDP that stays unsent (no
 * amplification); over TCP it is sent whole (RFC 8945 5.2.4). */
static void test_notify_badtrunc_longer_than_request_goes_over_tcp(void **state)
{
	(void)state;
	build(4, DNS_OP_NOTIFY, "a.b", DNS_T_SOA, -1);
	sign_truncated(16, NOW);
	size_t req_len = F.len;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADTRUNC);
	assert_false(F.out.reply);
	assert_true(F.out.oversize);
	F.tcp = true;
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_BADTRUNC);
	assert_false(F.out.oversize);
	struct dns_hdr h = reply_hdr(DNS_OP_NOTIFY, DNS_RC_NOTAUTH);
	assert_int_equal(h.qdcount, 1); /* the question kept: nothing had to be cut */
	assert_true(F.out.reply_len > req_len);
	struct tsig_rr rr = reply_tsig();
	assert_int_equal(rr.error, DNS_RC_BADTRUNC);
	assert_int_equal(rr.mac_len, 32);
	/* The client can check it: signed over its (truncated) request MAC. */
	struct tsig_rr req;
	assert_int_equal(tsig_rr_parse(F.msg, req_len, &req), 0);
	assert_int_equal(rr.orig_id, req.orig_id);
}

static void test_notify_tsig_not_last_is_formerr(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(key("k1"), NOW);
	F.msg[11] = 0; /* ARCOUNT 0: the TSIG becomes trailing garbage */
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_FORMERR);
	assert_int_equal(F.out.reply_len, 12);
}

static void test_notify_rate_limits(void **state)
{
	(void)state;
	assert_int_equal(ratelimit_new(1, 2, 64, 1, &F.env.per_source), 0);
	assert_int_equal(ratelimit_new(1, 1, 64, 2, &F.env.per_zone), 0);
	build(3, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	decide(); /* the source has one more token, the zone none */
	assert_int_equal(F.out.outcome, NOTIFY_RATE_ZONE);
	assert_false(F.out.reply);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_RATE_SOURCE);
	assert_false(F.out.reply);
	/* Another source still gets through to the zone limit. */
	decide_from("192.0.2.54@53");
	assert_int_equal(F.out.outcome, NOTIFY_RATE_ZONE);
	build(3, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 1);
	sign(key("k1"), NOW);
	decide_from("192.0.2.54@53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
}

/* The same signed bytes again: dropped while the first copy waits for Kafka,
 * REFUSED (signed, not published) once it was accepted, accepted again when Kafka
 * never stored the first (the primary's retry after no answer). Unsigned NOTIFYs
 * carry nothing to remember. */
static void test_notify_signed_replay_refused_once_accepted(void **state)
{
	(void)state;
	assert_int_equal(tsig_replay_new(1024, 300, 7, &F.env.replay), 0);
	build(0x5151, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 42);
	sign(key("k1"), NOW);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_true(F.out.replay_held);
	struct tsig_replay_id id = F.out.replay_id;
	assert_int_not_equal(id.slot, 0);
	/* a copy while the first is on its way to Kafka: no answer yet, as for the first */
	decide_from("192.0.2.99@1234");
	assert_int_equal(F.out.outcome, NOTIFY_INFLIGHT);
	assert_false(F.out.reply);
	assert_false(F.out.replay_held);
	/* Kafka did not store it: the retransmission of the same bytes goes through */
	tsig_replay_forget(F.env.replay, &id);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_true(F.out.replay_held);
	/* stored this time: every later copy, from any allowed source, is a replay */
	tsig_replay_confirm(F.env.replay, &F.out.replay_id, NOW);
	for (int i = 0; i < 3; i++) {
		decide_from(i == 0 ? "192.0.2.53@5300" : "192.0.2.7@53");
		assert_int_equal(F.out.outcome, NOTIFY_REPLAY);
		assert_false(F.out.replay_held);
		reply_hdr(DNS_OP_NOTIFY, DNS_RC_REFUSED);
		if (i == 0) { /* the session takes one answer */
			assert_int_equal(tsig_session_verify(&F.sess, F.reply, F.out.reply_len, NOW),
			                 0);
		}
	}
	/* still outside the zone's ACL first: REFUSED for that reason */
	decide_from("198.51.100.1@53");
	assert_int_equal(F.out.outcome, NOTIFY_REFUSED_ACL);
	/* the same NOTIFY signed again (a new time signed, a new MAC) is new */
	build(0x5151, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 42);
	sign(key("k1"), NOW + 1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	/* dropped by the zone's rate limit after all: not held, its retry is new */
	assert_int_equal(ratelimit_new(1, 1, 64, 3, &F.env.per_zone), 0);
	build(0x6161, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 43);
	sign(key("k1"), NOW + 2);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	tsig_replay_confirm(F.env.replay, &F.out.replay_id, NOW);
	build(0x6262, DNS_OP_NOTIFY, "signed.test", DNS_T_SOA, 44);
	sign(key("k1"), NOW + 2);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_RATE_ZONE);
	assert_false(F.out.replay_held);
	assert_int_equal(tsig_replay_check(F.env.replay, &F.out.replay_id, NOW), TSIG_REPLAY_NEW);
	ratelimit_free(F.env.per_zone);
	F.env.per_zone = NULL;
	/* unsigned: nothing held */
	build(9, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	assert_false(F.out.replay_held);
	decide();
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
}

/* IPv6 sources share a bucket per /64 (rate-limit.ipv6-prefix): hopping addresses
 * inside one's own /64 buys nothing; the next /64 is another source. */
static void test_notify_rate_limit_groups_ipv6_by_64(void **state)
{
	(void)state;
	assert_int_equal(ratelimit_new(1, 1, 64, 1, &F.env.per_source), 0);
	build(3, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	decide_from("[2001:db8::1]:53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	decide_from("[2001:db8::2]:53");
	assert_int_equal(F.out.outcome, NOTIFY_RATE_SOURCE);
	decide_from("[2001:db8::ffff:ffff:ffff:ffff]:53");
	assert_int_equal(F.out.outcome, NOTIFY_RATE_SOURCE);
	decide_from("[2001:db8:0:1::1]:53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	/* IPv4: each address its own (/32) */
	decide_from("192.0.2.1@53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
	decide_from("192.0.2.2@53");
	assert_int_equal(F.out.outcome, NOTIFY_ACCEPTED);
}

static void test_notify_small_buffer_is_einval(void **state)
{
	(void)state;
	build(3, DNS_OP_NOTIFY, "open.test", DNS_T_SOA, 1);
	struct notify_in in = {.msg = F.msg, .len = F.len, .src = (struct sockaddr *)&F.src};
	struct notify_out out;
	assert_int_equal(notify_decide(&F.env, &in, F.reply, NOTIFY_REPLY_MAX - 1, &out), ZX_EINVAL);
}

static void test_notify_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(notify_outcome_name(NOTIFY_ACCEPTED), "accepted");
	assert_string_equal(notify_outcome_name(NOTIFY_REFUSED_UNSIGNED), "refused_unsigned");
	assert_string_equal(notify_outcome_name(NOTIFY_OUTCOME_COUNT), "unknown");
	for (int i = 0; i < NOTIFY_OUTCOME_COUNT; i++) {
		assert_non_null(notify_outcome_name((enum notify_outcome)i));
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_notify_unsigned_accepted_with_serial),
		T(test_notify_without_serial_hint),
		T(test_notify_short_header_is_silent),
		T(test_notify_response_is_dropped),
		T(test_notify_other_opcode_is_notimp),
		T(test_notify_malformed_is_formerr),
		T(test_notify_unknown_zone_unsigned_is_refused),
		T(test_notify_unknown_zone_signed_is_notauth_signed),
		T(test_notify_source_outside_acl_is_refused),
		T(test_notify_zone_with_key_refuses_unsigned),
		T(test_notify_signed_accepted_and_reply_signed),
		T(test_notify_rewritten_id_verifies_with_original_id),
		T(test_notify_key_not_listed_is_refused_signed),
		T(test_notify_unknown_key_is_badkey_unsigned),
		T(test_notify_wrong_secret_is_badsig_unsigned),
		T(test_notify_skewed_clock_is_badtime_signed),
		T(test_notify_badtime_without_hint_trims_question),
		T(test_notify_truncated_mac_is_badtrunc),
		T(test_notify_badtrunc_longer_than_request_goes_over_tcp),
		T(test_notify_tsig_not_last_is_formerr),
		T(test_notify_rate_limits),
		T(test_notify_signed_replay_refused_once_accepted),
		T(test_notify_rate_limit_groups_ipv6_by_64),
		T(test_notify_small_buffer_is_einval),
		T(test_notify_outcome_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
