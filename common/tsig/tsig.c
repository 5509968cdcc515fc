/* SPDX-License-Identifier: MIT */
/* common/tsig/tsig.c -- TSIG algorithms, and the TSIG processing of DNS messages (RFC 8945). */
#include "common/tsig/tsig.h"

#include "common/dnsmsg.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <assert.h>
#include <strings.h>
#include <string.h>

struct alg_info {
	const char *name;     /**< short name, as in config files */
	const uint8_t *wire;  /**< the algorithm name in a TSIG record (canonical) */
	size_t wire_len;
	size_t mac_len;
};

#define WIRE(s) (const uint8_t *)(s), sizeof(s)

static const struct alg_info algs[] = {
	[TSIG_HMAC_MD5] = {"hmac-md5", WIRE("\x08hmac-md5\x07sig-alg\x03reg\x03int"), 16},
	[TSIG_HMAC_SHA1] = {"hmac-sha1", WIRE("\x09hmac-sha1"), 20},
	[TSIG_HMAC_SHA224] = {"hmac-sha224", WIRE("\x0bhmac-sha224"), 28},
	[TSIG_HMAC_SHA256] = {"hmac-sha256", WIRE("\x0bhmac-sha256"), 32},
	[TSIG_HMAC_SHA384] = {"hmac-sha384", WIRE("\x0bhmac-sha384"), 48},
	[TSIG_HMAC_SHA512] = {"hmac-sha512", WIRE("\x0bhmac-sha512"), 64},
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))

int tsig_alg_from_name(const char *text, enum tsig_alg *out)
{
	size_t n = strlen(text);
	if (n > 0 && text[n - 1] == '.') {
		n--;
	}
	for (size_t i = 0; i < NALGS; i++) {
		size_t m = strlen(algs[i].name);
		if (n == m && strncasecmp(text, algs[i].name, n) == 0) {
			*out = (enum tsig_alg)i;
			return 0;
		}
	}
	if (n == strlen("hmac-md5.sig-alg.reg.int") &&
	    strncasecmp(text, "hmac-md5.sig-alg.reg.int", n) == 0) {
		*out = TSIG_HMAC_MD5;
		return 0;
	}
	return ZX_ENOENT;
}

const char *tsig_alg_name(enum tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].name : "unknown";
}

size_t tsig_alg_mac_len(enum tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].mac_len : 0;
}

/* ---- the TSIG record ---------------------------------------------------- */

/* Algorithm of a record's algorithm name (any case); -1 when unknown. */
static int alg_from_wire(const uint8_t *name, size_t len)
{
	uint8_t lower[DNAME_MAXLEN];
	memcpy(lower, name, len);
	dname_lower(lower);
	for (size_t i = 0; i < NALGS; i++) {
		if (len == algs[i].wire_len && memcmp(lower, algs[i].wire, len) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static int rdata_parse(const uint8_t *msg, const struct dns_rr *rr, struct tsig_rr *out)
{
	size_t end = rr->rdata_offset + rr->rdlen;
	size_t pos = rr->rdata_offset;
	int n = dnsmsg_name_unpack(msg, end, &pos, out->alg_name);
	if (n < 0) {
		return ZX_EFORMAT;
	}
	out->alg_name_len = (size_t)n;
	struct wire_rd rd = wire_rd_init(msg, end);
	rd.pos = msg + pos;
	uint64_t hi = wire_rd_u16(&rd);
	out->time_signed = hi << 32 | wire_rd_u32(&rd);
	out->fudge = wire_rd_u16(&rd);
	out->mac_len = wire_rd_u16(&rd);
	out->mac = wire_rd_bytes(&rd, out->mac_len);
	out->orig_id = wire_rd_u16(&rd);
	out->error = wire_rd_u16(&rd);
	out->other_len = wire_rd_u16(&rd);
	out->other = wire_rd_bytes(&rd, out->other_len);
	if (rd.err != 0 || wire_rd_left(&rd) != 0) {
		return ZX_EFORMAT;
	}
	return 0;
}

int tsig_rr_parse(const uint8_t *msg, size_t len, struct tsig_rr *out)
{
	struct dns_walk w;
	struct dns_rr rr;
	struct dns_rr tsig;
	int found = 0;
	int rc = dnsmsg_walk_init(&w, msg, len);
	while (rc == 0 && (rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		if (found) {
			return ZX_EFORMAT; /* a TSIG that is not the last RR */
		}
		if (rr.type == DNS_T_TSIG) {
			found = 1;
			tsig = rr;
		}
		rc = 0;
	}
	if (rc < 0) {
		return ZX_EFORMAT;
	}
	if (!found) {
		return ZX_ENOTSIG;
	}
	if (tsig.section != DNS_SEC_ADDITIONAL || tsig.rclass != DNS_C_ANY || tsig.ttl != 0) {
		return ZX_EFORMAT;
	}
	struct tsig_rr r;
	rc = rdata_parse(msg, &tsig, &r);
	if (rc != 0) {
		return rc;
	}
	memcpy(r.key_name, tsig.owner, tsig.owner_len);
	r.key_name_len = tsig.owner_len;
	r.offset = tsig.offset;
	*out = r;
	return 0;
}

/* ---- MAC computation ---------------------------------------------------- */

/* The TSIG variables of one record (RFC 8945 4.3.3), names canonical. */
struct vars {
	const uint8_t *key_name;
	size_t key_name_len;
	const uint8_t *alg_name;
	size_t alg_name_len;
	uint64_t time_signed;
	uint16_t fudge;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

/* A digest in progress; the first OpenSSL failure sticks in ok. */
struct mac {
	EVP_MAC_CTX *ctx;
	int ok;
};

static void mac_put(struct mac *m, const void *p, size_t n)
{
	if (m->ok && n > 0) {
		m->ok = EVP_MAC_update(m->ctx, p, n) == 1;
	}
}

static void mac_u16(struct mac *m, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	mac_put(m, b, 2);
}

static void mac_u48(struct mac *m, uint64_t v)
{
	uint8_t b[6];
	for (int i = 0; i < 6; i++) {
		b[i] = (uint8_t)(v >> (40 - 8 * i));
	}
	mac_put(m, b, 6);
}

/* Start a digest with the key, and the prior MAC when there is one. */
static int mac_start(struct mac *m, const struct tsig_key *key, const uint8_t *prior,
                     size_t prior_len)
{
	m->ctx = EVP_MAC_CTX_dup(key->hmac);
	m->ok = m->ctx != NULL;
	if (prior != NULL) {
		mac_u16(m, (uint16_t)prior_len);
		mac_put(m, prior, prior_len);
	}
	if (!m->ok) {
		EVP_MAC_CTX_free(m->ctx);
		m->ctx = NULL;
		return ZX_ENOMEM;
	}
	return 0;
}

/* The message's first @p upto bytes, with header ID and ARCOUNT replaced. */
static void mac_message(struct mac *m, const uint8_t *msg, size_t upto, uint16_t id,
                        uint16_t arcount)
{
	uint8_t hdr[DNS_HDR_LEN];
	memcpy(hdr, msg, DNS_HDR_LEN);
	hdr[0] = (uint8_t)(id >> 8);
	hdr[1] = (uint8_t)id;
	hdr[10] = (uint8_t)(arcount >> 8);
	hdr[11] = (uint8_t)arcount;
	mac_put(m, hdr, DNS_HDR_LEN);
	mac_put(m, msg + DNS_HDR_LEN, upto - DNS_HDR_LEN);
}

static void mac_vars(struct mac *m, const struct vars *v, int timers_only)
{
	if (!timers_only) {
		mac_put(m, v->key_name, v->key_name_len);
		mac_u16(m, DNS_C_ANY);
		mac_u16(m, 0); /* TTL, 32 bits */
		mac_u16(m, 0);
		mac_put(m, v->alg_name, v->alg_name_len);
	}
	mac_u48(m, v->time_signed);
	mac_u16(m, v->fudge);
	if (!timers_only) {
		mac_u16(m, v->error);
		mac_u16(m, v->other_len);
		mac_put(m, v->other, v->other_len);
	}
}

/* Finish the digest into out (TSIG_MAC_MAX bytes); frees the context. */
static int mac_end(struct mac *m, uint8_t *out, size_t *out_len)
{
	size_t n = 0;
	if (m->ok) {
		m->ok = EVP_MAC_final(m->ctx, out, &n, TSIG_MAC_MAX) == 1;
	}
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	if (!m->ok) {
		return ZX_ENOMEM;
	}
	*out_len = n;
	return 0;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- signing ------------------------------------------------------------ */

/* How to sign one message. */
struct signing {
	const struct tsig_key *key; /**< NULL: unsigned record (empty MAC) */
	struct mac *pending;        /**< digest begun (prior MAC, unsigned messages); may be NULL */
	const uint8_t *prior;       /**< prior MAC when pending is NULL; NULL for none */
	size_t prior_len;
	int timers_only;
	uint16_t orig_id;
	struct vars v;
};

static size_t rr_size(const struct vars *v, size_t mac_len)
{
	return v->key_name_len + 10 + v->alg_name_len + 16 + mac_len + v->other_len;
}

static void write_rr(uint8_t *at, size_t room, const struct signing *sg, const uint8_t *mac,
                     size_t mac_len)
{
	const struct vars *v = &sg->v;
	struct wire_wr wr = wire_wr_init(at, room);
	wire_wr_bytes(&wr, v->key_name, v->key_name_len);
	wire_wr_u16(&wr, DNS_T_TSIG);
	wire_wr_u16(&wr, DNS_C_ANY);
	wire_wr_u32(&wr, 0);
	wire_wr_u16(&wr, (uint16_t)(v->alg_name_len + 16 + mac_len + v->other_len));
	wire_wr_bytes(&wr, v->alg_name, v->alg_name_len);
	wire_wr_u16(&wr, (uint16_t)(v->time_signed >> 32));
	wire_wr_u32(&wr, (uint32_t)v->time_signed);
	wire_wr_u16(&wr, v->fudge);
	wire_wr_u16(&wr, (uint16_t)mac_len);
	wire_wr_bytes(&wr, mac, mac_len);
	wire_wr_u16(&wr, sg->orig_id);
	wire_wr_u16(&wr, v->error);
	wire_wr_u16(&wr, v->other_len);
	wire_wr_bytes(&wr, v->other, v->other_len);
	assert(wr.err == 0); /* room was checked */
}

/* Append the record described by sg to msg; on 0 the MAC is in mac/mac_len.
 * Takes sg->pending's context in every case. */
static int sign_append(const struct signing *sg, uint8_t *msg, size_t *len, size_t cap,
                       uint8_t *mac, size_t *mac_len)
{
	struct mac local = {.ctx = NULL, .ok = 1};
	struct mac *m = sg->pending != NULL ? sg->pending : &local;
	size_t want = sg->key != NULL ? tsig_alg_mac_len(sg->key->alg) : 0;
	int rc = ZX_EFORMAT;
	if (*len < DNS_HDR_LEN) {
		goto out;
	}
	uint16_t arcount = get_u16(msg + 10);
	rc = ZX_ELIMIT;
	if (arcount == UINT16_MAX || cap < *len || cap - *len < rr_size(&sg->v, want)) {
		goto out;
	}
	*mac_len = 0;
	if (sg->key != NULL) {
		rc = m->ctx != NULL ? 0 : mac_start(m, sg->key, sg->prior, sg->prior_len);
		if (rc != 0) {
			goto out;
		}
		mac_message(m, msg, *len, sg->orig_id, arcount);
		mac_vars(m, &sg->v, sg->timers_only);
		rc = mac_end(m, mac, mac_len);
		if (rc != 0) {
			goto out;
		}
	}
	write_rr(msg + *len, cap - *len, sg, mac, *mac_len);
	*len += rr_size(&sg->v, *mac_len);
	put_u16(msg + 10, (uint16_t)(arcount + 1));
	rc = 0;
out:
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	return rc;
}

/* ---- verifying ---------------------------------------------------------- */

/* The record's variables, names lowercased into the caller's buffers. */
static void rr_vars(const struct tsig_rr *rr, uint8_t *key_lc, uint8_t *alg_lc, struct vars *v)
{
	memcpy(key_lc, rr->key_name, rr->key_name_len);
	dname_lower(key_lc);
	memcpy(alg_lc, rr->alg_name, rr->alg_name_len);
	dname_lower(alg_lc);
	*v = (struct vars){
		.key_name = key_lc,
		.key_name_len = rr->key_name_len,
		.alg_name = alg_lc,
		.alg_name_len = rr->alg_name_len,
		.time_signed = rr->time_signed,
		.fudge = rr->fudge,
		.error = rr->error,
		.other_len = rr->other_len,
		.other = rr->other,
	};
}

/* RFC 8945 5.2.2.1: no longer than the algorithm's MAC, no shorter than
 * max(10, half of it). */
static int mac_len_ok(size_t got, size_t full)
{
	size_t min = full / 2 > 10 ? full / 2 : 10;
	return got >= min && got <= full;
}

static int time_ok(uint64_t now, uint64_t signed_at, uint16_t fudge)
{
	uint64_t d = now > signed_at ? now - signed_at : signed_at - now;
	return d <= fudge;
}

/* Verify rr's MAC over msg: the digest begun in m (or started here from the
 * prior MAC), the message without its TSIG, the variables or timers.
 * Takes m's context in every case. */
static int check_signed(struct mac *m, const struct tsig_key *key, const uint8_t *prior,
                        size_t prior_len, const uint8_t *msg, const struct tsig_rr *rr,
                        int timers_only)
{
	int rc = ZX_EFORMAT;
	if (!mac_len_ok(rr->mac_len, tsig_alg_mac_len(key->alg))) {
		goto out;
	}
	rc = m->ctx != NULL ? 0 : mac_start(m, key, prior, prior_len);
	if (rc != 0) {
		goto out;
	}
	uint8_t key_lc[DNAME_MAXLEN];
	uint8_t alg_lc[DNAME_MAXLEN];
	struct vars v;
	rr_vars(rr, key_lc, alg_lc, &v);
	mac_message(m, msg, rr->offset, rr->orig_id, (uint16_t)(get_u16(msg + 10) - 1));
	mac_vars(m, &v, timers_only);
	uint8_t mac[TSIG_MAC_MAX];
	size_t n = 0;
	rc = mac_end(m, mac, &n);
	if (rc == 0 && CRYPTO_memcmp(mac, rr->mac, rr->mac_len) != 0) {
		rc = ZX_ETSIG_BADSIG;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
out:
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	return rc;
}

static void request_from_rr(const struct tsig_rr *rr, struct tsig_request *req)
{
	memset(req, 0, sizeof(*req));
	memcpy(req->key_name, rr->key_name, rr->key_name_len);
	dname_lower(req->key_name);
	req->key_name_len = rr->key_name_len;
	memcpy(req->alg_name, rr->alg_name, rr->alg_name_len);
	dname_lower(req->alg_name);
	req->alg_name_len = rr->alg_name_len;
	req->time_signed = rr->time_signed;
	req->fudge = rr->fudge;
	req->orig_id = rr->orig_id;
}

int tsig_verify(const struct tsig_keyring *ring, const uint8_t *msg, size_t len, uint64_t now,
                struct tsig_request *out)
{
	assert(ring != NULL && msg != NULL && out != NULL);
	struct tsig_rr rr;
	int rc = tsig_rr_parse(msg, len, &rr);
	if (rc != 0) {
		return rc;
	}
	struct tsig_request req;
	request_from_rr(&rr, &req);
	req.key = tsig_keyring_find(ring, rr.key_name);
	if (req.key == NULL || alg_from_wire(rr.alg_name, rr.alg_name_len) != (int)req.key->alg) {
		req.key = NULL;
		req.error = DNS_RC_BADKEY;
		rc = ZX_ETSIG_BADKEY;
		goto done;
	}
	struct mac m = {.ctx = NULL, .ok = 1};
	rc = check_signed(&m, req.key, NULL, 0, msg, &rr, 0);
	if (rc == ZX_ETSIG_BADSIG) {
		req.error = DNS_RC_BADSIG;
		goto done;
	}
	if (rc != 0) {
		return rc; /* ZX_EFORMAT, ZX_ENOMEM: *out untouched */
	}
	memcpy(req.mac, rr.mac, rr.mac_len);
	req.mac_len = rr.mac_len;
	uint16_t cap = tsig_keyring_max_fudge(ring);
	if (!time_ok(now, rr.time_signed, rr.fudge < cap ? rr.fudge : cap)) {
		req.error = DNS_RC_BADTIME;
		rc = ZX_ETSIG_BADTIME;
	} else if (rr.mac_len < tsig_alg_mac_len(req.key->alg)) {
		req.error = DNS_RC_BADTRUNC;
		rc = ZX_ETSIG_BADTRUNC;
	}
done:
	*out = req;
	return rc;
}

int tsig_sign_reply(const struct tsig_request *req, uint8_t *msg, size_t *len, size_t cap,
                    uint64_t now)
{
	assert(req != NULL && msg != NULL && len != NULL);
	int unsigned_reply = req->error == DNS_RC_BADKEY || req->error == DNS_RC_BADSIG;
	assert(unsigned_reply || req->key != NULL);
	uint8_t other[6];
	struct signing sg = {
		.key = unsigned_reply ? NULL : req->key,
		.prior = req->mac,
		.prior_len = req->mac_len,
		.orig_id = req->orig_id,
		.v = {
			.key_name = req->key_name,
			.key_name_len = req->key_name_len,
			.alg_name = req->alg_name,
			.alg_name_len = req->alg_name_len,
			.time_signed = unsigned_reply ? req->time_signed : now,
			.fudge = req->fudge,
			.error = req->error,
		},
	};
	if (req->error == DNS_RC_BADTIME) {
		/* the client's own time, so its clock check passes; ours in other data */
		sg.v.time_signed = req->time_signed;
		for (int i = 0; i < 6; i++) {
			other[i] = (uint8_t)(now >> (40 - 8 * i));
		}
		sg.v.other = other;
		sg.v.other_len = 6;
	}
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	return sign_append(&sg, msg, len, cap, mac, &mac_len);
}

/* ---- sessions ----------------------------------------------------------- */

void tsig_session_init(struct tsig_session *s, const struct tsig_key *key, uint16_t fudge)
{
	assert(s != NULL && key != NULL);
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->fudge = fudge;
	s->is_client = 1;
}

void tsig_session_init_reply(struct tsig_session *s, const struct tsig_request *req)
{
	assert(s != NULL && req != NULL && req->key != NULL && req->error == 0);
	memset(s, 0, sizeof(*s));
	s->key = req->key;
	s->fudge = req->fudge;
	s->orig_id = req->orig_id;
	memcpy(s->prior, req->mac, req->mac_len);
	s->prior_len = req->mac_len;
	s->requested = 1;
}

void tsig_session_deinit(struct tsig_session *s)
{
	EVP_MAC_CTX_free(s->pending);
	s->pending = NULL;
}

/* Signing parameters for the session's key at time now. */
static struct signing session_signing(const struct tsig_session *s, uint64_t now)
{
	const struct alg_info *a = &algs[s->key->alg];
	return (struct signing){
		.key = s->key,
		.v = {
			.key_name = s->key->name,
			.key_name_len = s->key->name_len,
			.alg_name = a->wire,
			.alg_name_len = a->wire_len,
			.time_signed = now,
			.fudge = s->fudge,
		},
	};
}

int tsig_session_sign_request(struct tsig_session *s, uint8_t *msg, size_t *len, size_t cap,
                              uint64_t now)
{
	assert(s != NULL && msg != NULL && len != NULL);
	if (!s->is_client || s->requested) {
		return ZX_EINVAL;
	}
	if (*len < DNS_HDR_LEN) {
		return ZX_EFORMAT;
	}
	struct signing sg = session_signing(s, now);
	sg.orig_id = get_u16(msg);
	int rc = sign_append(&sg, msg, len, cap, s->prior, &s->prior_len);
	if (rc == 0) {
		s->requested = 1;
	}
	return rc;
}

int tsig_session_sign(struct tsig_session *s, uint8_t *msg, size_t *len, size_t cap,
                      uint64_t now)
{
	assert(s != NULL && msg != NULL && len != NULL);
	if (s->is_client || !s->requested) {
		return ZX_EINVAL;
	}
	struct mac m = {.ctx = s->pending, .ok = 1};
	s->pending = NULL;
	struct signing sg = session_signing(s, now);
	sg.pending = &m;
	sg.prior = s->prior;
	sg.prior_len = s->prior_len;
	sg.timers_only = s->signed_count > 0;
	sg.orig_id = s->orig_id;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	int rc = sign_append(&sg, msg, len, cap, mac, &mac_len);
	if (rc == 0) {
		memcpy(s->prior, mac, mac_len);
		s->prior_len = mac_len;
		s->signed_count++;
		s->unsigned_count = 0;
	}
	return rc;
}

/* Digest a message that came or goes unsigned into the session's running digest. */
static int digest_unsigned(struct tsig_session *s, const uint8_t *msg, size_t len)
{
	struct mac m = {.ctx = s->pending, .ok = 1};
	if (m.ctx == NULL) {
		int rc = mac_start(&m, s->key, s->prior, s->prior_len);
		if (rc != 0) {
			return rc;
		}
	}
	mac_put(&m, msg, len);
	s->pending = m.ctx;
	if (!m.ok) {
		return ZX_ENOMEM;
	}
	s->unsigned_count++;
	return 0;
}

int tsig_session_pass(struct tsig_session *s, const uint8_t *msg, size_t len)
{
	assert(s != NULL && msg != NULL);
	if (s->is_client || s->signed_count == 0) {
		return ZX_EINVAL;
	}
	if (s->unsigned_count >= TSIG_MAX_UNSIGNED) {
		return ZX_ELIMIT;
	}
	return digest_unsigned(s, msg, len);
}

/* The code for a TSIG error the server put in its answer. */
static int peer_error(uint16_t error)
{
	switch (error) {
	case DNS_RC_BADKEY:
		return ZX_ETSIG_BADKEY;
	case DNS_RC_BADSIG:
		return ZX_ETSIG_BADSIG;
	case DNS_RC_BADTIME:
		return ZX_ETSIG_BADTIME;
	case DNS_RC_BADTRUNC:
		return ZX_ETSIG_BADTRUNC;
	default:
		return ZX_ERCODE;
	}
}

/* A signed answer message: key, MAC, the server's error, time, length. */
static int verify_signed(struct tsig_session *s, const uint8_t *msg, const struct tsig_rr *rr,
                         uint64_t now)
{
	if (rr->error != 0 && rr->mac_len == 0) {
		s->error = rr->error; /* an unsigned error answer (RFC 8945 5.3.2) */
		return peer_error(rr->error);
	}
	if (!dname_equal(rr->key_name, s->key->name) ||
	    alg_from_wire(rr->alg_name, rr->alg_name_len) != (int)s->key->alg) {
		return ZX_ETSIG_BADKEY;
	}
	struct mac m = {.ctx = s->pending, .ok = 1};
	s->pending = NULL;
	int rc = check_signed(&m, s->key, s->prior, s->prior_len, msg, rr, s->signed_count > 0);
	if (rc != 0) {
		return rc;
	}
	if (rr->error != 0) {
		s->error = rr->error;
		return peer_error(rr->error);
	}
	if (!time_ok(now, rr->time_signed, rr->fudge)) {
		return ZX_ETSIG_BADTIME;
	}
	if (rr->mac_len < tsig_alg_mac_len(s->key->alg)) {
		return ZX_ETSIG_BADTRUNC;
	}
	memcpy(s->prior, rr->mac, rr->mac_len);
	s->prior_len = rr->mac_len;
	s->signed_count++;
	s->unsigned_count = 0;
	return 0;
}

int tsig_session_verify(struct tsig_session *s, const uint8_t *msg, size_t len, uint64_t now)
{
	assert(s != NULL && msg != NULL);
	if (!s->is_client || !s->requested) {
		return ZX_EINVAL;
	}
	struct tsig_rr rr;
	int rc = tsig_rr_parse(msg, len, &rr);
	if (rc == ZX_ENOTSIG) {
		if (s->signed_count == 0 || s->unsigned_count >= TSIG_MAX_UNSIGNED) {
			return ZX_ENOTSIG;
		}
		return digest_unsigned(s, msg, len);
	}
	if (rc != 0) {
		return rc;
	}
	return verify_signed(s, msg, &rr, now);
}

int tsig_session_finish(const struct tsig_session *s)
{
	if (s->signed_count == 0 || s->unsigned_count > 0) {
		return ZX_ENOTSIG;
	}
	return 0;
}
