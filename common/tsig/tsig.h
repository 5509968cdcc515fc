/* SPDX-License-Identifier: MIT */
/* common/tsig/tsig.h -- TSIG (RFC 8945): keys, and signing and verifying DNS messages.
 *
 * The six HMAC algorithms of RFC 8945 6 (hmac-md5, hmac-sha1, hmac-sha224,
 * hmac-sha256, hmac-sha384, hmac-sha512) on OpenSSL 3's EVP_MAC, with the MAC
 * compared in constant time. Not ldns' TSIG: ldns 1.8.3 lacks sha224/384, never
 * checks the time, does not match the key name and algorithm, and cannot build
 * error replies.
 *
 * This module is the keyring (keys by name, from the config or from BIND/Knot
 * key files) and the TSIG processing of messages. It is not the DNS logic:
 * which zone needs which key is the caller's business.
 *
 * Threading: a keyring is filled by one thread, then read-only and shared by
 * every thread (tsig_keyring_find() and the signing functions only read it).
 */
#ifndef ZX_COMMON_TSIG_H
#define ZX_COMMON_TSIG_H

#include "common/dname.h"
#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/** The TSIG algorithms (RFC 8945 6). */
enum tsig_alg {
	TSIG_HMAC_MD5,
	TSIG_HMAC_SHA1,
	TSIG_HMAC_SHA224,
	TSIG_HMAC_SHA256,
	TSIG_HMAC_SHA384,
	TSIG_HMAC_SHA512,
};

/** Largest MAC of any algorithm (hmac-sha512), in bytes. */
#define TSIG_MAC_MAX 64

/**
 * Algorithm from its name.
 * @param[in]  text "hmac-sha256", any case, with or without the trailing dot;
 *                  hmac-md5 also as "hmac-md5.sig-alg.reg.int"; borrowed
 * @param[out] out  the algorithm; untouched on error
 * @return 0; ZX_ENOENT for any other name
 */
ZX_MUSTCHECK int tsig_alg_from_name(const char *text, enum tsig_alg *out);

/**
 * Short name of @p alg as in config files: "hmac-md5" ... "hmac-sha512".
 * @return a static string ("unknown" for a value outside the enum)
 */
const char *tsig_alg_name(enum tsig_alg alg);

/** Length in bytes of @p alg's full MAC (16, 20, 28, 32, 48, 64); 0 outside the enum. */
size_t tsig_alg_mac_len(enum tsig_alg alg);

struct evp_mac_ctx_st; /* OpenSSL's EVP_MAC_CTX */

/**
 * A key. Owned by its keyring; every pointer to it lives as long as the ring.
 * Members are read-only for callers.
 */
struct tsig_key {
	uint8_t name[DNAME_MAXLEN]; /**< canonical (lowercase) wire form */
	size_t name_len;            /**< bytes in @ref name */
	char *name_text;            /**< presentation form with the trailing dot, lowercase */
	enum tsig_alg alg;
	uint8_t *secret; /**< the decoded secret */
	size_t secret_len;
	struct evp_mac_ctx_st *hmac; /**< HMAC keyed with the secret; duplicated per message */
};

struct tsig_keyring;

/**
 * An empty keyring.
 * @return returned owned (free with tsig_keyring_free()); NULL only when out of memory
 */
struct tsig_keyring *tsig_keyring_new(void);

/** Free @p ring, its keys (secrets wiped) and everything borrowed from it. NULL is ok. */
void tsig_keyring_free(struct tsig_keyring *ring);

/**
 * Add a key.
 * @param[in]  ring       keyring; modified (not while other threads read it)
 * @param[in]  name       key name, presentation text ("k1.example." or "k1.example"); borrowed
 * @param[in]  alg        algorithm name as tsig_alg_from_name() takes it; borrowed
 * @param[in]  secret_b64 the secret in base64 (whitespace ignored, padding checked); borrowed
 * @param[out] out        may be NULL; on 0 the new key, borrowed from @p ring
 * @return 0; ZX_EFORMAT bad name, bad base64 or empty secret; ZX_ENOENT unknown
 *         algorithm; ZX_EEXIST a key of that name (case-insensitive) is in @p ring;
 *         ZX_ENOMEM. On error @p ring is unchanged.
 */
ZX_MUSTCHECK int tsig_keyring_add(struct tsig_keyring *ring, const char *name, const char *alg,
                                  const char *secret_b64, const struct tsig_key **out);

/**
 * Add every key of a key file, in either of the two common formats:
 * BIND (`key "name" { algorithm hmac-sha256; secret "..."; };`, several keys,
 * comments with #, // and slash-star) as tsig-keygen writes it, or Knot
 * (`key:` then `  - id: name` / `    algorithm: ...` / `    secret: ...`, comments
 * with #) as `keymgr -t` writes it.
 * @param[in]  ring   keyring; modified. On error, keys before the bad one stay added.
 * @param[in]  path   file path; borrowed
 * @param[out] err    on error, "path:line: what is wrong" (NUL-terminated, cut to
 *                    @p errlen); may be NULL when @p errlen is 0
 * @return 0; ZX_ENOENT file missing; ZX_EIO file unreadable; ZX_EFORMAT syntax
 *         (or a bad name or secret); ZX_ENOENT unknown algorithm; ZX_EEXIST
 *         duplicate key name; ZX_ENOMEM
 */
ZX_MUSTCHECK int tsig_keyring_add_file(struct tsig_keyring *ring, const char *path, char *err,
                                       size_t errlen);

/**
 * Key by wire name, case-insensitive.
 * @param[in] name_wire an uncompressed wire name; borrowed
 * @return the key, borrowed from @p ring; NULL when none (or @p name_wire is not a valid name)
 */
const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *ring, const uint8_t *name_wire);

/** As tsig_keyring_find(), by presentation text; NULL also when the text is not a name. */
const struct tsig_key *tsig_keyring_find_text(const struct tsig_keyring *ring, const char *name);

/** Number of keys in @p ring. */
size_t tsig_keyring_count(const struct tsig_keyring *ring);

/** Default of tsig_keyring_set_max_fudge(), seconds (RFC 8945 10 recommends 300 s). */
#define TSIG_FUDGE_MAX_DEFAULT 300

/**
 * Cap the fudge a request may claim: tsig_verify() accepts a request only when
 * |now - time signed| <= min(the request's fudge, @p seconds). A captured request
 * replayed with a large fudge (the field is the signer's choice, up to 65535 s)
 * then stays usable for at most @p seconds around its time signed, which is also
 * how long a replay memory (common/tsig/tsig_replay.h) must remember it.
 * @param seconds 0 accepts only a request signed this very second
 */
void tsig_keyring_set_max_fudge(struct tsig_keyring *ring, uint16_t seconds);

/** The cap set by tsig_keyring_set_max_fudge() (TSIG_FUDGE_MAX_DEFAULT until then). */
uint16_t tsig_keyring_max_fudge(const struct tsig_keyring *ring);

/* ---- messages --------------------------------------------------------------
 *
 * A TSIG record is the last RR of the additional section (RFC 8945 5.1): class
 * ANY, TTL 0, exactly one. Its MAC covers (RFC 8945 4.3): the prior MAC (a
 * request's MAC when signing a reply; the previous signed message's MAC in a
 * multi-message answer), as 2-byte length then bytes; the message without the
 * TSIG record, ARCOUNT one less, and the header ID replaced by the record's
 * Original ID (so a proxy such as dnsdist may rewrite the header ID); then the
 * TSIG variables (key name and algorithm in canonical form, class, TTL, time
 * signed, fudge, error, other data) or, after the first message of a
 * multi-message answer, only the timers (time signed, fudge).
 *
 * Checks come in RFC 8945 5.2 order: key (BADKEY), MAC (BADSIG, compared in
 * constant time), time (BADTIME: |now - time signed| > fudge; for requests
 * checked by tsig_verify() the fudge is capped by the keyring's max fudge), MAC length
 * (BADTRUNC). A MAC shorter than the algorithm's is verified on its bytes, but
 * local policy then refuses it with BADTRUNC (RFC 8945 5.2.2.1); one longer than
 * the algorithm's, or shorter than max(10, half of it), is malformed.
 */

/** Default fudge in seconds (RFC 8945 10 recommends 300). */
#define TSIG_FUDGE_DEFAULT 300

/** At most this many unsigned messages in a row within a multi-message answer (RFC 8945 5.3.1). */
#define TSIG_MAX_UNSIGNED 99

/** Largest TSIG RR tsig_sign_reply() and the session signers append (names, 64-byte MAC, 6-byte other). */
#define TSIG_RR_MAX (2 * DNAME_MAXLEN + 10 + 16 + TSIG_MAC_MAX + 6)

/** The fields of a TSIG record, as it stands in a message. */
struct tsig_rr {
	uint8_t key_name[DNAME_MAXLEN]; /**< decompressed, case as received */
	size_t key_name_len;
	uint8_t alg_name[DNAME_MAXLEN]; /**< decompressed, case as received */
	size_t alg_name_len;
	uint64_t time_signed; /**< 48 bits */
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac; /**< into the message */
	uint16_t orig_id;
	uint16_t error; /**< 0 or DNS_RC_BADSIG / _BADKEY / _BADTIME / _BADTRUNC */
	uint16_t other_len;
	const uint8_t *other; /**< into the message */
	size_t offset;        /**< where the TSIG RR starts: the message's length without it */
};

/**
 * Find and read the TSIG record that ends a message.
 * @param[in]  msg  the message; borrowed, and @p out points into it
 * @param[in]  len  bytes in @p msg
 * @param[out] out  the record; untouched on error
 * @return 0; ZX_ENOTSIG no TSIG record; ZX_EFORMAT the message or the record is
 *         malformed (also truncated), the TSIG is not the last RR of the additional
 *         section, there is more than one, or its class is not ANY or its TTL not 0
 */
ZX_MUSTCHECK int tsig_rr_parse(const uint8_t *msg, size_t len, struct tsig_rr *out);

/**
 * What a server keeps of a request's TSIG to answer it (tsig_verify() fills it).
 * Plain data: copy it, keep it on the stack, no cleanup.
 */
struct tsig_request {
	const struct tsig_key *key; /**< borrowed from the keyring; NULL after BADKEY */
	uint16_t error;             /**< TSIG error for the reply: 0 or DNS_RC_BAD* */
	uint8_t key_name[DNAME_MAXLEN]; /**< as in the request, lowercase */
	size_t key_name_len;
	uint8_t alg_name[DNAME_MAXLEN]; /**< as in the request, lowercase */
	size_t alg_name_len;
	uint8_t mac[TSIG_MAC_MAX]; /**< the request's MAC (when it verified) */
	size_t mac_len;
	uint64_t time_signed; /**< the request's */
	uint16_t fudge;       /**< the request's; replies use it too */
	uint16_t orig_id;     /**< the request's Original ID; replies carry it */
};

/**
 * Verify the TSIG of a received request (server side, RFC 8945 5.2).
 * @param[in]  ring  keys, looked up by the record's key name; borrowed
 * @param[in]  msg   the message as received, TSIG last; not modified
 * @param[in]  len   bytes in @p msg
 * @param[in]  now   seconds since the epoch, passed in so tests can pin time
 * @param[out] out   on 0 and on every ZX_ETSIG_* result: what tsig_sign_reply()
 *                   needs (out->error says which TSIG error to answer with; the key
 *                   is borrowed from @p ring); untouched on ZX_ENOTSIG and ZX_EFORMAT
 * @return 0 key, MAC and time good; ZX_ENOTSIG no TSIG record; ZX_EFORMAT as
 *         tsig_rr_parse(), or a MAC longer than the algorithm's or shorter than
 *         max(10, half of it) (answer FORMERR, unsigned);
 *         ZX_ETSIG_BADKEY unknown key, or the record's algorithm is not the key's;
 *         ZX_ETSIG_BADSIG the MAC does not verify; ZX_ETSIG_BADTIME MAC good but
 *         the time is off by more than min(the request's fudge, the keyring's max
 *         fudge: tsig_keyring_set_max_fudge()); ZX_ETSIG_BADTRUNC MAC good but
 *         truncated (our policy wants the full MAC); ZX_ENOMEM (OpenSSL failed)
 * @note The header RCODE of the answer is the caller's: NOTAUTH with every
 *       ZX_ETSIG_* (RFC 8945 5.2), FORMERR for ZX_EFORMAT; then tsig_sign_reply().
 */
ZX_MUSTCHECK int tsig_verify(const struct tsig_keyring *ring, const uint8_t *msg, size_t len,
                             uint64_t now, struct tsig_request *out);

/**
 * Append the TSIG record that answers a request verified by tsig_verify(), and add
 * one to ARCOUNT (RFC 8945 5.3). With req->error 0 or BADTRUNC the reply is
 * signed over the request MAC, the reply and the TSIG variables; BADTIME is
 * signed too, with the request's time signed and the server time as other data
 * (RFC 8945 5.2.3); BADKEY and BADSIG get an unsigned record (empty MAC,
 * RFC 8945 5.3.2) with the request's key and algorithm names.
 * @param[in]     req  from tsig_verify(); borrowed
 * @param[in,out] msg  the reply, header ID already set; the record is written at
 *                     msg + *len; on error the bytes past *len may be changed
 * @param[in,out] len  the reply's length; on 0 the length with the record
 * @param[in]     cap  bytes available at @p msg (TSIG_RR_MAX more than the reply is enough)
 * @param[in]     now  seconds since the epoch
 * @return 0; ZX_ELIMIT the record does not fit in @p cap (or ARCOUNT is full);
 *         ZX_EFORMAT *len is shorter than a header; ZX_ENOMEM (OpenSSL failed)
 */
ZX_MUSTCHECK int tsig_sign_reply(const struct tsig_request *req, uint8_t *msg, size_t *len,
                                 size_t cap, uint64_t now);

/**
 * One TSIG exchange: a request and its answer of one or more messages.
 *
 * Client: tsig_session_init(), tsig_session_sign_request(), then
 * tsig_session_verify() on every answer message in order, tsig_session_finish()
 * after the last, tsig_session_deinit(). Server: tsig_session_init_reply() from a
 * verified request, then tsig_session_sign() (or tsig_session_pass() for a
 * message sent unsigned) on every answer message in order, tsig_session_deinit().
 *
 * Threading: a session belongs to one exchange and one thread. Members are
 * private except where noted.
 */
struct tsig_session {
	const struct tsig_key *key; /**< borrowed */
	uint16_t fudge;
	uint16_t orig_id; /**< server: Original ID for the answers (the request's) */
	uint16_t error; /**< client: the TSIG error of the last answer that had one; readable */
	unsigned signed_count;   /**< answer messages signed or verified so far; readable */
	unsigned unsigned_count; /**< unsigned messages since the last signed one; readable */
	int is_client, requested;
	uint8_t prior[TSIG_MAC_MAX]; /**< request MAC, then the last signed message's MAC */
	size_t prior_len;
	struct evp_mac_ctx_st *pending; /**< prior MAC and unsigned messages digested so far */
};

/**
 * Start a client session.
 * @param[out] s     the session; tsig_session_deinit() it after
 * @param[in]  key   the key to sign with and to expect in the answers; borrowed,
 *                   must outlive @p s
 * @param[in]  fudge seconds (TSIG_FUDGE_DEFAULT)
 */
void tsig_session_init(struct tsig_session *s, const struct tsig_key *key, uint16_t fudge);

/**
 * Start a server session for the answer to @p req, which tsig_verify() passed
 * (req->error is 0; for error answers use tsig_sign_reply()).
 * @param[out] s   the session; tsig_session_deinit() it after
 * @param[in]  req borrowed; copied
 */
void tsig_session_init_reply(struct tsig_session *s, const struct tsig_request *req);

/** Release what @p s holds. Safe after either init, and twice. */
void tsig_session_deinit(struct tsig_session *s);

/**
 * Client: sign the request (a SOA query, an AXFR/IXFR request, a NOTIFY): append
 * the TSIG record with Original ID = the header ID, add one to ARCOUNT, keep the MAC.
 * @param[in,out] msg, len, cap  as tsig_sign_reply()
 * @return 0; ZX_ELIMIT no room or ARCOUNT full; ZX_EFORMAT shorter than a header;
 *         ZX_EINVAL not a fresh client session; ZX_ENOMEM (OpenSSL failed)
 */
ZX_MUSTCHECK int tsig_session_sign_request(struct tsig_session *s, uint8_t *msg, size_t *len,
                                           size_t cap, uint64_t now);

/**
 * Client: check the next answer message (RFC 8945 5.3.1, 5.4). The first must be
 * signed; later ones may come unsigned (at most TSIG_MAX_UNSIGNED in a row): they
 * are digested and vouched for only by the next signed message, so their data
 * must not be trusted until then (or until tsig_session_finish()).
 * @param[in] msg the message as received; not modified
 * @return 0 signed and good, or an acceptable unsigned message;
 *         ZX_ENOTSIG the first answer, or one more than TSIG_MAX_UNSIGNED in a row,
 *         is unsigned; ZX_EFORMAT as tsig_rr_parse() or a bad MAC length;
 *         ZX_ETSIG_BADKEY the record's key or algorithm is not ours, or the server
 *         answered BADKEY; ZX_ETSIG_BADSIG the MAC does not verify, or the server
 *         answered BADSIG; ZX_ETSIG_BADTIME our clock check failed, or the server
 *         answered BADTIME (s->error tells which); ZX_ETSIG_BADTRUNC truncated MAC,
 *         or the server answered BADTRUNC; ZX_ERCODE the server answered with
 *         another TSIG error (s->error tells which); ZX_EINVAL no request signed yet;
 *         ZX_ENOMEM. After an error the session is spent.
 */
ZX_MUSTCHECK int tsig_session_verify(struct tsig_session *s, const uint8_t *msg, size_t len,
                                     uint64_t now);

/**
 * Client: the answer is complete; was its last message signed?
 * @return 0; ZX_ENOTSIG no answer was verified, or messages came unsigned after
 *         the last signed one
 */
ZX_MUSTCHECK int tsig_session_finish(const struct tsig_session *s);

/**
 * Server: sign the next answer message: the first over the request MAC with the
 * full TSIG variables, later ones over the previous MAC, the messages passed
 * unsigned since, and the timers. Original ID is the request's.
 * @param[in,out] msg, len, cap  as tsig_sign_reply()
 * @return 0; ZX_ELIMIT no room or ARCOUNT full; ZX_EFORMAT shorter than a header;
 *         ZX_EINVAL not a server session; ZX_ENOMEM (OpenSSL failed)
 */
ZX_MUSTCHECK int tsig_session_sign(struct tsig_session *s, uint8_t *msg, size_t *len,
                                   size_t cap, uint64_t now);

/**
 * Server: the next answer message goes out unsigned; digest it for the next
 * signed one. The first message must be signed, and the last.
 * @param[in] msg the message exactly as sent; not modified
 * @return 0; ZX_ELIMIT already TSIG_MAX_UNSIGNED unsigned in a row; ZX_EINVAL
 *         not a server session or nothing signed yet; ZX_ENOMEM
 */
ZX_MUSTCHECK int tsig_session_pass(struct tsig_session *s, const uint8_t *msg, size_t len);

#endif
