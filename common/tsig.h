/* SPDX-License-Identifier: MIT */
/* common/tsig.h -- TSIG (RFC 8945): keys, and signing and verifying DNS messages.
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

#endif
