/* SPDX-License-Identifier: MIT */
/* xfrd/api/tokens.h -- the REST API's bearer tokens (xfrd.api.tokens).
 *
 * The file has one token a line, three fields separated by blanks:
 *
 *   # name   scope  token
 *   alice    write  3q2+7w-Tk1sO0yVw4Wg8aQ
 *   grafana  read   q8ZpN3jJd0A2m5bXc7Lr1v
 *
 * name   who the token is: [A-Za-z0-9._@-], at most TOKENS_NAME_MAX bytes; it goes
 *        into the records the token writes (updated_by) and into the access log
 * scope  read (GET) or write (everything)
 * token  at least TOKENS_TOKEN_MIN and at most TOKENS_TOKEN_MAX printable characters
 *        without blanks (RFC 6750 b64token: A-Z a-z 0-9 - . _ ~ + / then '='s)
 *
 * '#' starts a comment (whole lines, or after the fields); blank lines are
 * ignored. A bad line (missing or extra fields, unknown scope, bad name, a token too
 * short, a name or token given twice) fails the whole file with "file:line: what is
 * wrong", so a typo never silently locks anyone out or lets anyone in.
 *
 * Tokens are kept only as their SHA-256; tokens_check() hashes what a client
 * presents and compares it with every stored digest in constant time (CRYPTO_memcmp,
 * no early exit), so the time taken says nothing about which token is close.
 *
 * Threading: a loaded struct tokens is read-only and may be shared.
 */
#ifndef ZX_XFRD_API_TOKENS_H
#define ZX_XFRD_API_TOKENS_H

#include "common/err.h"

#include <stddef.h>

/** A name is at most this long. */
#define TOKENS_NAME_MAX 64
/** A token has at least this many characters (128 bits of base64). */
#define TOKENS_TOKEN_MIN 22
/** ... and at most this many. */
#define TOKENS_TOKEN_MAX 512
/** A file has at most this many tokens. */
#define TOKENS_MAX 10000

/** What a token may do. */
enum tokens_scope {
	TOKENS_READ = 1,  /**< GET only */
	TOKENS_WRITE = 2, /**< every method */
};

struct tokens;

/**
 * Parse a tokens file's text.
 * @param[in]  name   the file's name, for messages; borrowed
 * @param[in]  text   @p len bytes; borrowed (need not be NUL-terminated)
 * @param[out] out    returned owned (tokens_free()); untouched on error
 * @param[out] err    on ZX_EFORMAT "name:line: what is wrong" (the first bad line)
 * @return 0 (an empty file is valid: no token is accepted); ZX_EFORMAT a bad line;
 *         ZX_ELIMIT more than TOKENS_MAX tokens; ZX_ENOMEM
 */
ZX_MUSTCHECK int tokens_parse(const char *name, const char *text, size_t len,
                              struct tokens **out, char *err, size_t errlen);

/**
 * Read and parse the file @p path.
 * @return as tokens_parse(); ZX_ENOENT cannot read it (@p err says why)
 */
ZX_MUSTCHECK int tokens_load(const char *path, struct tokens **out, char *err, size_t errlen);

/** Free. NULL ok. */
void tokens_free(struct tokens *t);

/** Tokens held. */
size_t tokens_count(const struct tokens *t);

/**
 * The token a client presented.
 * @param[in]  token   @p len bytes; borrowed
 * @param[out] name    on 0, the token's name, borrowed from @p t (lives until
 *                     tokens_free()); untouched otherwise
 * @param[out] scope   on 0, its scope; untouched otherwise
 * @return 0; ZX_ENOTFOUND no such token (any length, empty included)
 */
ZX_MUSTCHECK int tokens_check(const struct tokens *t, const char *token, size_t len,
                              const char **name, enum tokens_scope *scope);

#endif
