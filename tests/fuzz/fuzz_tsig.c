/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_tsig.c -- libFuzzer target for TSIG (RFC 8945): the server's
 * verify and reply, and the client's check of a multi-message answer.
 *
 * Input: byte 0 picks the side (bit 0) and the clock skew (the rest, see
 * fuzz_now()).
 *   server (bit 0 clear): the rest is a request; tsig_verify() against a keyring
 *     of every algorithm, then, when it calls for an answer, tsig_sign_reply() on
 *     a bare reply, which must come out parseable with the request's key name
 *     and the TSIG error the verify chose.
 *   client (bit 0 set): a fixed AXFR request for example.com (ID 0x4242) is
 *     signed with key k1 at FUZZ_NOW; the rest is the answer, as 2-byte lengths
 *     and messages, checked with tsig_session_verify() one by one, then
 *     tsig_session_finish(). Every result must be one the header documents, and a
 *     session spent by an error stays spent.
 * tests/fuzz/gen_corpus.py signs seeds for both sides with the same keys.
 */
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[][3] = {
	{"k1", "hmac-sha256", "c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU="},
	{"k2", "hmac-sha1", "dHdvLXR3by10d28tdHdvLXR3bw=="},
	{"k5", "hmac-md5", "Zml2ZS1maXZlLWZpdmU="},
	{"k224", "hmac-sha224", "c2hhMjI0LXNoYTIyNC1zaGEyMjQ="},
	{"k384", "hmac-sha384", "c2hhMzg0LXNoYTM4NC1zaGEzODQtc2hhMzg0"},
	{"k512", "hmac-sha512", "c2hhNTEyLXNoYTUxMi1zaGE1MTItc2hhNTEyLXNoYTUxMg=="},
};

static struct tsig_keyring *ring(void)
{
	static struct tsig_keyring *r;
	if (r == NULL) {
		r = tsig_keyring_new();
		for (size_t i = 0; r != NULL && i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (tsig_keyring_add(r, keys[i][0], keys[i][1], keys[i][2], NULL) != 0) {
				abort();
			}
		}
		if (r == NULL) {
			abort();
		}
	}
	return r;
}

static void server(const uint8_t *msg, size_t len, uint8_t sel)
{
	struct tsig_request req;
	uint64_t now = fuzz_now(msg, len, sel);
	int rc = tsig_verify(ring(), msg, len, now, &req);
	switch (rc) {
	case ZX_ENOTSIG:
	case ZX_EFORMAT:
		return;
	case 0:
	case ZX_ETSIG_BADKEY:
	case ZX_ETSIG_BADSIG:
	case ZX_ETSIG_BADTIME:
	case ZX_ETSIG_BADTRUNC:
		break;
	default:
		abort();
	}
	if ((rc == 0) != (req.error == 0) || (rc == 0 && req.key == NULL)) {
		abort();
	}
	uint8_t reply[12 + TSIG_RR_MAX];
	memcpy(reply, msg, 12); /* a verified request has a header */
	reply[2] |= 0x80;
	memset(reply + 4, 0, 8);
	size_t rlen = 12;
	struct tsig_rr t;
	if (tsig_sign_reply(&req, reply, &rlen, sizeof(reply), now) != 0 ||
	    tsig_rr_parse(reply, rlen, &t) != 0 || t.error != req.error ||
	    t.key_name_len != req.key_name_len || t.orig_id != req.orig_id) {
		abort();
	}
}

/* The request the client side signs: AXFR example.com IN, ID 0x4242. */
static size_t request(uint8_t *buf)
{
	static const uint8_t q[] = {0x42, 0x42, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	                            7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
	                            0, 252, 0, 1};
	memcpy(buf, q, sizeof(q));
	return sizeof(q);
}

static bool documented(int rc)
{
	return rc == 0 || rc == ZX_ENOTSIG || rc == ZX_EFORMAT || rc == ZX_ETSIG_BADKEY ||
	       rc == ZX_ETSIG_BADSIG || rc == ZX_ETSIG_BADTIME || rc == ZX_ETSIG_BADTRUNC ||
	       rc == ZX_ERCODE;
}

static void client(struct fuzz_in in, uint8_t sel)
{
	const struct tsig_key *k1 = tsig_keyring_find_text(ring(), "k1");
	uint8_t q[64 + TSIG_RR_MAX];
	size_t qlen = request(q);
	struct tsig_session s;
	tsig_session_init(&s, k1, 300);
	if (tsig_session_sign_request(&s, q, &qlen, sizeof(q), FUZZ_NOW) != 0) {
		abort();
	}
	uint64_t now = FUZZ_NOW + (sel & 0x40 ? 301 : (sel & 0x3f));
	int rc = 0;
	while (rc == 0 && in.n >= 2) {
		size_t len = (size_t)in.p[0] << 8 | in.p[1];
		if (len > in.n - 2) {
			break;
		}
		rc = tsig_session_verify(&s, in.p + 2, len, now);
		if (!documented(rc)) {
			abort();
		}
		if (rc != 0 && tsig_session_verify(&s, in.p + 2, len, now) == 0) {
			abort(); /* spent */
		}
		in.p += 2 + len;
		in.n -= 2 + len;
	}
	int fin = tsig_session_finish(&s);
	if (fin != 0 && fin != ZX_ENOTSIG) {
		abort();
	}
	tsig_session_deinit(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	if (sel & 1) {
		client(in, (uint8_t)(sel >> 1));
	} else {
		server(in.p, in.n, (uint8_t)(sel >> 1));
	}
	return 0;
}
