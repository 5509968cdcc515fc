/* SPDX-License-Identifier: MIT */
/* common/tsig/tsig_keyring.c -- TSIG keys by name, from config values or BIND/Knot key files.
 *
 * Keys sit in an array sorted by canonical wire name, so a lookup is a binary
 * search with no allocation. Each key carries an HMAC context already keyed with
 * its secret; signing duplicates it instead of re-deriving the key pads.
 */
#include "common/tsig/tsig.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tsig_keyring {
	struct tsig_key **keys; /**< sorted by (name_len, name) */
	size_t count, cap;
	uint16_t max_fudge;     /**< requests get min(their fudge, this) (tsig_verify()) */
};

struct tsig_keyring *tsig_keyring_new(void)
{
	struct tsig_keyring *ring = calloc(1, sizeof(struct tsig_keyring));
	if (ring != NULL) {
		ring->max_fudge = TSIG_FUDGE_MAX_DEFAULT;
	}
	return ring;
}

void tsig_keyring_set_max_fudge(struct tsig_keyring *ring, uint16_t seconds)
{
	ring->max_fudge = seconds;
}

uint16_t tsig_keyring_max_fudge(const struct tsig_keyring *ring)
{
	return ring->max_fudge;
}

static void key_free(struct tsig_key *key)
{
	if (key == NULL) {
		return;
	}
	EVP_MAC_CTX_free(key->hmac);
	if (key->secret != NULL) {
		OPENSSL_cleanse(key->secret, key->secret_len);
		free(key->secret);
	}
	free(key->name_text);
	free(key);
}

void tsig_keyring_free(struct tsig_keyring *ring)
{
	if (ring == NULL) {
		return;
	}
	for (size_t i = 0; i < ring->count; i++) {
		key_free(ring->keys[i]);
	}
	free(ring->keys);
	free(ring);
}

size_t tsig_keyring_count(const struct tsig_keyring *ring)
{
	return ring->count;
}

/* Order of the sorted array: length first, then bytes (names are lowercase). */
static int name_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen) {
		return alen < blen ? -1 : 1;
	}
	return memcmp(a, b, alen);
}

/* Index of the key named @p name (canonical), or where it would be inserted. */
static size_t ring_search(const struct tsig_keyring *ring, const uint8_t *name, size_t len,
                          int *found)
{
	size_t lo = 0;
	size_t hi = ring->count;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct tsig_key *k = ring->keys[mid];
		int c = name_cmp(name, len, k->name, k->name_len);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return lo;
}

static int is_b64(int c)
{
	return isalnum(c) || c == '+' || c == '/';
}

/* Base64 to bytes: whitespace ignored, length a multiple of 4, at most two '='
 * and only at the end, and a non-empty result. *out is malloc'ed. */
static int b64_decode(const char *text, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(text);
	char *clean = malloc(n + 1);
	if (clean == NULL) {
		return ZX_ENOMEM;
	}
	size_t m = 0;
	size_t pad = 0;
	int rc = ZX_EFORMAT;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (isspace(*p)) {
			continue;
		}
		if (*p == '=') {
			pad++;
		} else if (pad > 0 || !is_b64(*p)) {
			goto done;
		}
		clean[m++] = (char)*p;
	}
	if (m == 0 || m % 4 != 0 || pad > 2) {
		goto done;
	}
	uint8_t *buf = malloc(m / 4 * 3);
	if (buf == NULL) {
		rc = ZX_ENOMEM;
		goto done;
	}
	int got = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)m);
	if (got < 0 || (size_t)got <= pad) { /* got counts the padding as zero bytes */
		OPENSSL_cleanse(buf, m / 4 * 3);
		free(buf);
		goto done;
	}
	*out = buf;
	*outlen = (size_t)got - pad;
	rc = 0;
done:
	OPENSSL_cleanse(clean, n + 1);
	free(clean);
	return rc;
}

static const char *digest_name(enum tsig_alg alg)
{
	switch (alg) {
	case TSIG_HMAC_MD5:
		return "MD5";
	case TSIG_HMAC_SHA1:
		return "SHA1";
	case TSIG_HMAC_SHA224:
		return "SHA224";
	case TSIG_HMAC_SHA256:
		return "SHA256";
	case TSIG_HMAC_SHA384:
		return "SHA384";
	case TSIG_HMAC_SHA512:
		return "SHA512";
	}
	return NULL;
}

/* An HMAC context keyed with the secret; NULL when OpenSSL fails (out of memory,
 * or a provider without the digest, which we report as out of memory too). */
static EVP_MAC_CTX *hmac_new(enum tsig_alg alg, const uint8_t *secret, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL) {
		return NULL;
	}
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context keeps its own reference */
	if (ctx == NULL) {
		return NULL;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest_name(alg),
		                                 0),
		OSSL_PARAM_construct_end(),
	};
	if (EVP_MAC_init(ctx, secret, len, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A new key from config text; *out is owned by the caller. */
static int key_new(const char *name, const char *alg, const char *secret_b64,
                   struct tsig_key **out)
{
	struct tsig_key *key = calloc(1, sizeof(*key));
	if (key == NULL) {
		return ZX_ENOMEM;
	}
	int rc = dname_from_text(name, key->name);
	if (rc < 0 || name[0] == '\0') {
		rc = ZX_EFORMAT;
		goto fail;
	}
	key->name_len = (size_t)rc;
	rc = tsig_alg_from_name(alg, &key->alg);
	if (rc != 0) {
		goto fail;
	}
	rc = b64_decode(secret_b64, &key->secret, &key->secret_len);
	if (rc != 0) {
		goto fail;
	}
	char text[DNAME_TEXTLEN];
	rc = dname_to_text(key->name, text, sizeof(text));
	if (rc != 0) {
		goto fail;
	}
	key->name_text = strdup(text);
	key->hmac = hmac_new(key->alg, key->secret, key->secret_len);
	if (key->name_text == NULL || key->hmac == NULL) {
		rc = ZX_ENOMEM;
		goto fail;
	}
	*out = key;
	return 0;
fail:
	key_free(key);
	return rc;
}

int tsig_keyring_add(struct tsig_keyring *ring, const char *name, const char *alg,
                     const char *secret_b64, const struct tsig_key **out)
{
	assert(ring != NULL && name != NULL && alg != NULL && secret_b64 != NULL);
	struct tsig_key *key = NULL;
	int rc = key_new(name, alg, secret_b64, &key);
	if (rc != 0) {
		return rc;
	}
	int found = 0;
	size_t at = ring_search(ring, key->name, key->name_len, &found);
	if (found) {
		rc = ZX_EEXIST;
		goto fail;
	}
	if (ring->count == ring->cap) {
		size_t cap = ring->cap == 0 ? 8 : ring->cap * 2;
		struct tsig_key **keys = realloc(ring->keys, cap * sizeof(*keys));
		if (keys == NULL) {
			rc = ZX_ENOMEM;
			goto fail;
		}
		ring->keys = keys;
		ring->cap = cap;
	}
	memmove(&ring->keys[at + 1], &ring->keys[at], (ring->count - at) * sizeof(*ring->keys));
	ring->keys[at] = key;
	ring->count++;
	if (out != NULL) {
		*out = key;
	}
	return 0;
fail:
	key_free(key);
	return rc;
}

const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *ring, const uint8_t *name_wire)
{
	int len = dname_wire_len(name_wire, DNAME_MAXLEN);
	if (len < 0) {
		return NULL;
	}
	uint8_t name[DNAME_MAXLEN];
	memcpy(name, name_wire, (size_t)len);
	dname_lower(name);
	int found = 0;
	size_t at = ring_search(ring, name, (size_t)len, &found);
	return found ? ring->keys[at] : NULL;
}

const struct tsig_key *tsig_keyring_find_text(const struct tsig_keyring *ring, const char *name)
{
	uint8_t wire[DNAME_MAXLEN];
	if (dname_from_text(name, wire) < 0) {
		return NULL;
	}
	return tsig_keyring_find(ring, wire);
}

/* ---- key files ---------------------------------------------------------- */

struct keyfile {
	const char *path;
	char *text; /**< the whole file, NUL-terminated */
	char *err;
	size_t errlen;
};

static int file_error(struct keyfile *f, int line, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int file_error(struct keyfile *f, int line, int rc, const char *fmt, ...)
{
	if (f->errlen == 0) {
		return rc;
	}
	int n = snprintf(f->err, f->errlen, "%s:%d: ", f->path, line);
	if (n >= 0 && (size_t)n < f->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->err + n, f->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const char *add_error_text(int rc)
{
	switch (rc) {
	case ZX_EFORMAT:
		return "bad key name or base64 secret";
	case ZX_ENOENT:
		return "unknown algorithm";
	case ZX_EEXIST:
		return "a key of this name is already defined";
	default:
		return zx_strerror(rc);
	}
}

/* One key from a file: name, algorithm and secret, with the line it started on. */
struct filekey {
	char name[DNAME_TEXTLEN];
	char alg[64];
	char *secret; /**< points into the file text */
	int line;
	int have_name, have_alg;
};

static int filekey_add(struct keyfile *f, struct tsig_keyring *ring, const struct filekey *k)
{
	if (!k->have_name || !k->have_alg || k->secret == NULL) {
		return file_error(f, k->line, ZX_EFORMAT, "key needs a name, an algorithm and a secret");
	}
	int rc = tsig_keyring_add(ring, k->name, k->alg, k->secret, NULL);
	if (rc != 0) {
		return file_error(f, k->line, rc, "key \"%s\": %s", k->name, add_error_text(rc));
	}
	return 0;
}

static int copy_value(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n == 0 || n >= size) {
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

/* -- BIND: a small tokenizer over key statements -- */

enum tok { TOK_END, TOK_WORD, TOK_STRING, TOK_LBRACE, TOK_RBRACE, TOK_SEMI, TOK_BAD };

struct lexer {
	char *p;
	int line;
	char *val; /**< word or string contents, NUL-terminated in place */
	int val_line;
};

/* Skip whitespace and comments; 0, or -1 for an unterminated slash-star comment. */
static int skip_space(struct lexer *lx)
{
	for (;;) {
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (isspace((unsigned char)c)) {
			lx->p++;
		} else if (c == '#' || (c == '/' && lx->p[1] == '/')) {
			while (*lx->p != '\0' && *lx->p != '\n') {
				lx->p++;
			}
		} else if (c == '/' && lx->p[1] == '*') {
			char *end = strstr(lx->p + 2, "*/");
			if (end == NULL) {
				return -1;
			}
			for (; lx->p < end; lx->p++) {
				lx->line += *lx->p == '\n';
			}
			lx->p += 2;
		} else {
			return 0;
		}
	}
}

/* The next token. A string is NUL-terminated in place; a word is not (its
 * delimiter may be the next token), so read it with word_copy() before the
 * next call. */
static enum tok lex_next(struct lexer *lx)
{
	if (skip_space(lx) != 0) {
		return TOK_BAD;
	}
	lx->val_line = lx->line;
	char c = *lx->p;
	if (c == '\0') {
		return TOK_END;
	}
	if (c == '{' || c == '}' || c == ';') {
		*lx->p++ = '\0';
		return c == '{' ? TOK_LBRACE : c == '}' ? TOK_RBRACE : TOK_SEMI;
	}
	if (c == '"') {
		char *end = strchr(lx->p + 1, '"');
		if (end == NULL || memchr(lx->p, '\n', (size_t)(end - lx->p)) != NULL) {
			return TOK_BAD;
		}
		lx->val = lx->p + 1;
		*end = '\0';
		lx->p = end + 1;
		return TOK_STRING;
	}
	lx->val = lx->p;
	while (*lx->p != '\0' && !isspace((unsigned char)*lx->p) && strchr("{};\"", *lx->p) == NULL) {
		lx->p++;
	}
	return TOK_WORD;
}

/* Words are not NUL-terminated by lex_next (the delimiter may be a token). */
static int word_copy(const struct lexer *lx, enum tok t, char *dst, size_t size)
{
	size_t n = t == TOK_STRING ? strlen(lx->val) : (size_t)(lx->p - lx->val);
	if (n == 0 || n >= size) {
		return -1;
	}
	memcpy(dst, lx->val, n);
	dst[n] = '\0';
	return 0;
}

static int expect(struct keyfile *f, struct lexer *lx, enum tok want, const char *what)
{
	enum tok t = lex_next(lx);
	if (t != want) {
		return file_error(f, lx->val_line, ZX_EFORMAT, "expected %s", what);
	}
	return 0;
}

/* `algorithm X;` or `secret "X";` inside a key block. */
static int bind_field(struct keyfile *f, struct lexer *lx, struct filekey *k, char *field)
{
	char value[1024];
	enum tok t = lex_next(lx);
	if ((t != TOK_WORD && t != TOK_STRING) || word_copy(lx, t, value, sizeof(value)) != 0) {
		return file_error(f, lx->val_line, ZX_EFORMAT, "expected a value after '%s'", field);
	}
	if (strcmp(field, "algorithm") == 0) {
		if (copy_value(k->alg, sizeof(k->alg), value) != 0) {
			return file_error(f, lx->val_line, ZX_ENOENT, "unknown algorithm");
		}
		k->have_alg = 1;
	} else {
		free(k->secret);
		k->secret = strdup(value);
		if (k->secret == NULL) {
			return ZX_ENOMEM;
		}
	}
	return expect(f, lx, TOK_SEMI, "';'");
}

static int bind_key(struct keyfile *f, struct lexer *lx, struct tsig_keyring *ring)
{
	struct filekey k = {.line = lx->val_line};
	int rc = 0;
	enum tok t = lex_next(lx);
	if ((t != TOK_WORD && t != TOK_STRING) || word_copy(lx, t, k.name, sizeof(k.name)) != 0) {
		rc = file_error(f, lx->val_line, ZX_EFORMAT, "expected a key name");
		goto done;
	}
	k.have_name = 1;
	rc = expect(f, lx, TOK_LBRACE, "'{'");
	while (rc == 0 && (t = lex_next(lx)) == TOK_WORD) {
		char field[16];
		if (word_copy(lx, t, field, sizeof(field)) != 0 ||
		    (strcmp(field, "algorithm") != 0 && strcmp(field, "secret") != 0)) {
			rc = file_error(f, lx->val_line, ZX_EFORMAT,
			                "expected 'algorithm' or 'secret'");
			goto done;
		}
		rc = bind_field(f, lx, &k, field);
	}
	if (rc == 0 && t != TOK_RBRACE) {
		rc = file_error(f, lx->val_line, ZX_EFORMAT, "expected '}'");
	}
	if (rc == 0) {
		rc = expect(f, lx, TOK_SEMI, "';' after '}'");
	}
	if (rc == 0) {
		rc = filekey_add(f, ring, &k);
	}
done:
	if (k.secret != NULL) {
		OPENSSL_cleanse(k.secret, strlen(k.secret));
		free(k.secret);
	}
	return rc;
}

static int parse_bind(struct keyfile *f, struct tsig_keyring *ring)
{
	struct lexer lx = {.p = f->text, .line = 1};
	for (int keys = 0;; keys++) {
		enum tok t = lex_next(&lx);
		char word[8];
		if (t == TOK_END && keys == 0) {
			/* as a Knot file: nothing to use is an error, not an empty success */
			return file_error(f, lx.line, ZX_EFORMAT, "no key in the file");
		}
		if (t == TOK_END) {
			return 0;
		}
		if (t != TOK_WORD || word_copy(&lx, t, word, sizeof(word)) != 0 ||
		    strcmp(word, "key") != 0) {
			return file_error(f, lx.val_line, ZX_EFORMAT, "expected 'key'");
		}
		int rc = bind_key(f, &lx, ring);
		if (rc != 0) {
			return rc;
		}
	}
}

/* -- Knot: the `key:` section of a knot.conf, line by line -- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s)) {
		s++;
	}
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1])) {
		*--end = '\0';
	}
	return s;
}

/* Cut a '#' comment (one that starts a word) and surrounding quotes. */
static char *yaml_value(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	s = trim(s);
	size_t n = strlen(s);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

static int knot_field(struct keyfile *f, int line, struct filekey *k, char *item)
{
	char *colon = strchr(item, ':');
	if (colon == NULL) {
		return file_error(f, line, ZX_EFORMAT, "expected 'name: value'");
	}
	*colon = '\0';
	char *field = trim(item);
	char *value = yaml_value(colon + 1);
	int bad = 0;
	if (strcmp(field, "id") == 0) {
		bad = copy_value(k->name, sizeof(k->name), value);
		k->have_name = !bad;
	} else if (strcmp(field, "algorithm") == 0) {
		if (copy_value(k->alg, sizeof(k->alg), value) != 0) {
			return file_error(f, line, ZX_ENOENT, "unknown algorithm");
		}
		k->have_alg = 1;
	} else if (strcmp(field, "secret") == 0) {
		k->secret = value;
		bad = *value == '\0';
	} else {
		return file_error(f, line, ZX_EFORMAT, "unknown key field '%s'", field);
	}
	return bad ? file_error(f, line, ZX_EFORMAT, "empty value for '%s'", field) : 0;
}

static int knot_line(struct keyfile *f, struct tsig_keyring *ring, char *line, int lineno,
                     struct filekey *k, int *in_key)
{
	char *s = yaml_value(line);
	if (*s == '\0') {
		return 0;
	}
	if (!isspace((unsigned char)line[0])) {
		if (strcmp(s, "key:") != 0) {
			return file_error(f, lineno, ZX_EFORMAT, "expected 'key:'");
		}
		*in_key = 1;
		return 0;
	}
	if (!*in_key) {
		return file_error(f, lineno, ZX_EFORMAT, "expected 'key:' first");
	}
	if (s[0] == '-') {
		if (k->line != 0) {
			int rc = filekey_add(f, ring, k);
			if (rc != 0) {
				return rc;
			}
		}
		*k = (struct filekey){.line = lineno};
		s = trim(s + 1);
	} else if (k->line == 0) {
		return file_error(f, lineno, ZX_EFORMAT, "expected '- id: name'");
	}
	return knot_field(f, lineno, k, s);
}

static int parse_knot(struct keyfile *f, struct tsig_keyring *ring)
{
	struct filekey k = {.line = 0};
	int in_key = 0;
	int lineno = 0;
	char *next = f->text;
	while (next != NULL) {
		char *line = next;
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		lineno++;
		int rc = knot_line(f, ring, line, lineno, &k, &in_key);
		if (rc != 0) {
			return rc;
		}
	}
	if (k.line == 0) {
		return file_error(f, lineno, ZX_EFORMAT, "no key in the file");
	}
	return filekey_add(f, ring, &k);
}

/* True when the first line that is not blank or a comment is `key:`. */
static int looks_like_knot(const char *text)
{
	const char *p = text;
	for (;;) {
		while (isspace((unsigned char)*p)) {
			p++;
		}
		if (*p != '#') {
			break;
		}
		p = strchr(p, '\n');
		if (p == NULL) {
			return 0;
		}
	}
	return strncmp(p, "key:", 4) == 0;
}

static int read_file(const char *path, char **out)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		return errno == ENOENT ? ZX_ENOENT : ZX_EIO;
	}
	int rc = ZX_EIO;
	size_t cap = 4096;
	size_t len = 0;
	char *buf = malloc(cap);
	while (buf != NULL) {
		len += fread(buf + len, 1, cap - len - 1, fp);
		if (len < cap - 1) {
			break;
		}
		char *bigger = cap >= (1u << 24) ? NULL : realloc(buf, cap * 2);
		if (bigger == NULL) {
			free(buf);
			buf = NULL;
			rc = ZX_ENOMEM;
		}
		buf = bigger;
		cap *= 2;
	}
	if (buf != NULL && ferror(fp) == 0 && memchr(buf, '\0', len) == NULL) {
		buf[len] = '\0';
		*out = buf;
		buf = NULL;
		rc = 0;
	}
	free(buf);
	fclose(fp);
	return rc;
}

int tsig_keyring_add_file(struct tsig_keyring *ring, const char *path, char *err, size_t errlen)
{
	assert(ring != NULL && path != NULL && (err != NULL || errlen == 0));
	struct keyfile f = {.path = path, .err = err, .errlen = errlen};
	int rc = read_file(path, &f.text);
	if (rc != 0) {
		return file_error(&f, 0, rc, "%s", rc == ZX_ENOENT ? "no such file" : zx_strerror(rc));
	}
	rc = looks_like_knot(f.text) ? parse_knot(&f, ring) : parse_bind(&f, ring);
	OPENSSL_cleanse(f.text, strlen(f.text));
	free(f.text);
	return rc;
}
