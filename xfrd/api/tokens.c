/* SPDX-License-Identifier: MIT */
/* xfrd/api/tokens.c -- the bearer tokens file: parsed strictly, kept as digests. */
#include "xfrd/api/tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST 32 /* SHA-256 */

struct tok {
	char name[TOKENS_NAME_MAX + 1];
	enum tokens_scope scope;
	uint8_t digest[DIGEST];
};

struct tokens {
	struct tok *v;
	size_t n, cap;
};

static int digest_of(const char *s, size_t len, uint8_t out[DIGEST])
{
	unsigned int n = 0;
	return EVP_Digest(s, len, out, &n, EVP_sha256(), NULL) == 1 && n == DIGEST ? 0
	                                                                              : ZX_ENOMEM;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '@' || c == '-';
}

/* RFC 6750 b64token: ( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool token_ok(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (name_char(s[i]) || s[i] == '~' || s[i] == '+' || s[i] == '/') &&
	       s[i] != '@') {
		i++;
	}
	size_t body = i;
	while (i < len && s[i] == '=') {
		i++;
	}
	return body > 0 && i == len;
}

struct field {
	const char *p;
	size_t len;
};

/* Split @p line (no newline) into at most 4 blank-separated fields, up to a '#'. */
static size_t split(const char *line, size_t len, struct field *f)
{
	size_t n = 0, i = 0;
	while (i < len && n < 4) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
			i++;
		}
		if (i >= len || line[i] == '#') {
			break;
		}
		size_t start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		       line[i] != '#') {
			i++;
		}
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
	}
	return n;
}

static bool eq(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* Check one line's fields and add the token; "" on success, else the reason. */
static int add_line(struct tokens *t, const struct field *f, size_t n, char *why, size_t size)
{
	if (n != 3) {
		snprintf(why, size, "expected \"NAME SCOPE TOKEN\", got %zu field%s", n,
		         n == 1 ? "" : "s");
		return ZX_EFORMAT;
	}
	if (f[0].len == 0 || f[0].len > TOKENS_NAME_MAX) {
		snprintf(why, size, "name of %zu characters; expected 1 to %d", f[0].len,
		         TOKENS_NAME_MAX);
		return ZX_EFORMAT;
	}
	for (size_t i = 0; i < f[0].len; i++) {
		if (!name_char(f[0].p[i])) {
			snprintf(why, size, "name \"%.*s\": only letters, digits and . _ @ - allowed",
			         (int)f[0].len, f[0].p);
			return ZX_EFORMAT;
		}
	}
	enum tokens_scope scope;
	if (eq(&f[1], "read")) {
		scope = TOKENS_READ;
	} else if (eq(&f[1], "write")) {
		scope = TOKENS_WRITE;
	} else {
		snprintf(why, size, "unknown scope \"%.*s\"; expected read or write", (int)f[1].len,
		         f[1].p);
		return ZX_EFORMAT;
	}
	if (f[2].len < TOKENS_TOKEN_MIN || f[2].len > TOKENS_TOKEN_MAX) {
		snprintf(why, size, "the token of \"%.*s\" has %zu characters; expected %d to %d",
		         (int)f[0].len, f[0].p, f[2].len, TOKENS_TOKEN_MIN, TOKENS_TOKEN_MAX);
		return ZX_EFORMAT;
	}
	if (!token_ok(f[2].p, f[2].len)) {
		snprintf(why, size, "the token of \"%.*s\": only letters, digits and - . _ ~ + / "
		         "then = allowed (RFC 6750)", (int)f[0].len, f[0].p);
		return ZX_EFORMAT;
	}
	if (t->n >= TOKENS_MAX) {
		snprintf(why, size, "more than %d tokens", TOKENS_MAX);
		return ZX_ELIMIT;
	}
	struct tok k = {.scope = scope};
	memcpy(k.name, f[0].p, f[0].len);
	if (digest_of(f[2].p, f[2].len, k.digest) != 0) {
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, k.name) == 0) {
			snprintf(why, size, "name \"%s\" given twice", k.name);
			return ZX_EFORMAT;
		}
		if (memcmp(t->v[i].digest, k.digest, DIGEST) == 0) {
			snprintf(why, size, "the token of \"%s\" is also \"%s\"'s", k.name, t->v[i].name);
			return ZX_EFORMAT;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		struct tok *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL) {
			return ZX_ENOMEM;
		}
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = k;
	return 0;
}

int tokens_parse(const char *name, const char *text, size_t len, struct tokens **out,
                 char *err, size_t errlen)
{
	struct tokens *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return ZX_ENOMEM;
	}
	int rc = 0;
	unsigned line = 0;
	for (size_t pos = 0; pos < len && rc == 0;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		struct field f[4];
		line++;
		size_t n = split(text + pos, end - pos, f);
		if (n > 0) {
			char why[300];
			rc = add_line(t, f, n, why, sizeof(why));
			if (rc != 0 && rc != ZX_ENOMEM && errlen > 0) {
				snprintf(err, errlen, "%s:%u: %s", name, line, why);
			}
		}
		pos = end + 1;
	}
	if (memchr(text, '\0', len) != NULL && rc == 0) {
		snprintf(err, errlen, "%s: a NUL byte: not a text file", name);
		rc = ZX_EFORMAT;
	}
	if (rc != 0) {
		tokens_free(t);
		return rc;
	}
	if (errlen > 0) {
		err[0] = '\0';
	}
	*out = t;
	return 0;
}

int tokens_load(const char *path, struct tokens **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return ZX_ENOENT;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			char *b = cap <= 64u * 1024 * 1024 ? realloc(buf, cap) : NULL;
			if (b == NULL) {
				rc = ZX_ENOMEM;
				break;
			}
			buf = b;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = ZX_ENOENT;
	}
	fclose(f);
	if (rc == 0) {
		rc = tokens_parse(path, buf, len, out, err, errlen);
	}
	free(buf);
	return rc;
}

void tokens_free(struct tokens *t)
{
	if (t != NULL) {
		OPENSSL_cleanse(t->v, t->n * sizeof(*t->v));
		free(t->v);
		free(t);
	}
}

size_t tokens_count(const struct tokens *t)
{
	return t->n;
}

int tokens_check(const struct tokens *t, const char *token, size_t len, const char **name,
                 enum tokens_scope *scope)
{
	uint8_t d[DIGEST];
	if (digest_of(token, len, d) != 0) {
		return ZX_ENOTFOUND;
	}
	const struct tok *hit = NULL;
	for (size_t i = 0; i < t->n; i++) { /* every digest compared: no early exit */
		bool same = CRYPTO_memcmp(t->v[i].digest, d, DIGEST) == 0;
		hit = same ? &t->v[i] : hit;
	}
	if (hit == NULL) {
		return ZX_ENOTFOUND;
	}
	*name = hit->name;
	*scope = hit->scope;
	return 0;
}
