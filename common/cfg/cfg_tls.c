/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_tls.c -- a primary's `tls:` key (XFR over TLS, RFC 9103):
 * { mode: strict|pin|opportunistic, ca-file, auth-name, pin-sha256: [...], cert-file,
 * key-file }, checked whole at load (files readable, pins well-formed, what each mode
 * needs), so a transfer never finds out at 3 a.m. that its CA file is missing. */
#include "common/arena.h"
#include "common/cfg/cfg_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define END {NULL, CFG_FT_STR, 0, 0, 0, NULL, NULL}
#define F(k, t, o) {k, t, o, 0, 0, NULL, NULL}
#define FN(k, o, fn) {k, CFG_FT_FUNC, o, 0, 0, NULL, fn}

/* base64 of a SHA-256 digest: 43 characters and one '=' */
#define PIN_LEN 44

struct tlsent {
	const char *mode, *ca_file, *auth_name, *cert_file, *key_file;
	const char *pins[CFG_TLS_PINS_MAX];
	size_t pin_count;
};

static void pins_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);

enum { TF_MODE, TF_CA, TF_NAME, TF_PINS, TF_CERT, TF_KEY };

static const struct cfg_field tls_fields[] = {
	[TF_MODE] = F("mode", CFG_FT_STR, offsetof(struct tlsent, mode)),
	[TF_CA] = F("ca-file", CFG_FT_STR, offsetof(struct tlsent, ca_file)),
	[TF_NAME] = F("auth-name", CFG_FT_STR, offsetof(struct tlsent, auth_name)),
	[TF_PINS] = FN("pin-sha256", 0, pins_fn),
	[TF_CERT] = F("cert-file", CFG_FT_STR, offsetof(struct tlsent, cert_file)),
	[TF_KEY] = F("key-file", CFG_FT_STR, offsetof(struct tlsent, key_file)),
	END,
};

static bool pin_ok(const char *s)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (strlen(s) != PIN_LEN || s[PIN_LEN - 1] != '=') {
		return false;
	}
	for (size_t i = 0; i < PIN_LEN - 1; i++) {
		if (strchr(b64, s[i]) == NULL) {
			return false;
		}
	}
	return true;
}

static void pins_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct tlsent *t = dst;
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	if (n == 0 || n > CFG_TLS_PINS_MAX) {
		cfg_error(p, v, "%zu pins in %s; expected 1..%d", n, what, CFG_TLS_PINS_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = cfg_scalar(p, v->kids[i], what);
		if (s == NULL) {
			return;
		}
		if (!pin_ok(s)) {
			cfg_error(p, v->kids[i], "bad pin \"%s\" in %s; expected the base64 SHA-256 "
			          "of the server's SubjectPublicKeyInfo (44 characters, RFC 7858 "
			          "section 4.2)", s, what);
			return;
		}
		t->pins[t->pin_count++] = arena_strdup(p->mem, s);
		if (t->pins[t->pin_count - 1] == NULL) {
			cfg_nomem(p);
			return;
		}
	}
}

bool cfg_readable(struct cfg_parse *p, const struct cfg_node *at, const char *file,
                  const char *what, char *buf, size_t size)
{
	if (file[0] == '/' || p->dir[0] == '\0') {
		snprintf(buf, size, "%s", file);
	} else {
		snprintf(buf, size, "%s%s", p->dir, file);
	}
	FILE *f = fopen(buf, "r");
	if (f == NULL) {
		cfg_error(p, at, "cannot read %s \"%s\": %s", what, buf, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

/* A file key: resolved against the config's directory, checked, kept in the arena. */
static const char *file_key(struct cfg_parse *p, const struct cfg_node *at, const char *file,
                            const char *what)
{
	char path[4096];
	if (file == NULL || !cfg_readable(p, at, file, what, path, sizeof(path))) {
		return NULL;
	}
	const char *s = arena_strdup(p->mem, path);
	if (s == NULL) {
		cfg_nomem(p);
	}
	return s;
}

static bool mode_of(struct cfg_parse *p, const struct cfg_node *at, const char *s,
                    enum cfg_tls_mode *out)
{
	if (s == NULL || strcmp(s, "strict") == 0) {
		*out = CFG_TLS_STRICT; /* the default: authenticated */
	} else if (strcmp(s, "pin") == 0) {
		*out = CFG_TLS_PIN;
	} else if (strcmp(s, "opportunistic") == 0) {
		*out = CFG_TLS_OPPORTUNISTIC;
	} else {
		cfg_error(p, at, "bad tls mode \"%s\"; expected strict, pin or opportunistic", s);
		return false;
	}
	return true;
}

/* What each mode needs, and what goes together. */
static bool tls_check(struct cfg_parse *p, struct cfg_node *v, const struct tlsent *t,
                      struct cfg_node **found, enum cfg_tls_mode mode)
{
	if (mode == CFG_TLS_STRICT && (t->auth_name == NULL || t->auth_name[0] == '\0')) {
		cfg_error(p, v, "tls mode strict without auth-name; expected the name the primary's "
		          "certificate carries (RFC 8310 authentication domain name), or mode pin");
		return false;
	}
	if (mode == CFG_TLS_PIN && t->pin_count == 0) {
		cfg_error(p, v, "tls mode pin without pin-sha256; expected a list of base64 SHA-256 "
		          "SPKI pins");
		return false;
	}
	if (mode != CFG_TLS_STRICT && found[TF_CA] != NULL) {
		cfg_error(p, found[TF_CA], "ca-file is for tls mode strict only");
		return false;
	}
	if ((found[TF_CERT] == NULL) != (found[TF_KEY] == NULL)) {
		cfg_error(p, v, "tls with %s but no %s; expected both (mutual TLS) or neither",
		          found[TF_CERT] ? "cert-file" : "key-file",
		          found[TF_CERT] ? "key-file" : "cert-file");
		return false;
	}
	return true;
}

void cfg_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	const struct cfg_tls **out = dst;
	struct tlsent t = {0};
	struct cfg_node *found[CFG_FIELDS_MAX] = {0};
	size_t before = p->nmsg;
	*out = NULL;
	if (!cfg_walk(p, v, what, tls_fields, &t, found) || p->nmsg != before) {
		return;
	}
	struct cfg_tls *c = arena_alloc_zero(p->mem, sizeof(*c));
	const char **pins = arena_alloc_array(p->mem, t.pin_count ? t.pin_count : 1, sizeof(*pins));
	if (c == NULL || pins == NULL) {
		cfg_nomem(p);
		return;
	}
	if (!mode_of(p, found[TF_MODE], t.mode, &c->mode) || !tls_check(p, v, &t, found, c->mode)) {
		return;
	}
	c->auth_name = t.auth_name;
	memcpy(pins, t.pins, t.pin_count * sizeof(*pins));
	c->pins = pins;
	c->pin_count = t.pin_count;
	c->ca_file = file_key(p, found[TF_CA], t.ca_file, "ca-file");
	c->cert_file = file_key(p, found[TF_CERT], t.cert_file, "cert-file");
	c->key_file = file_key(p, found[TF_KEY], t.key_file, "key-file");
	if (p->nmsg == before) {
		*out = c;
	}
}

/* ---- serving: xfrd.serve.tls and require-tls ---------------------------------- */

/* XFR over TLS: the port a listener takes when none is given (RFC 7858, RFC 9103). */
#define XOT_PORT 853

struct servetlsent {
	struct cfg_endpoints listen;
	const char *cert_file, *key_file, *ca_file;
};

enum { SF_LISTEN, SF_CERT, SF_KEY, SF_CA };

static const struct cfg_field serve_tls_fields[] = {
	[SF_LISTEN] = {"listen", CFG_FT_ENDPOINTS, offsetof(struct servetlsent, listen), XOT_PORT, 0,
	               NULL, NULL},
	[SF_CERT] = F("cert-file", CFG_FT_STR, offsetof(struct servetlsent, cert_file)),
	[SF_KEY] = F("key-file", CFG_FT_STR, offsetof(struct servetlsent, key_file)),
	[SF_CA] = F("ca-file", CFG_FT_STR, offsetof(struct servetlsent, ca_file)),
	END,
};

void cfg_serve_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_serve_tls *out = dst;
	struct servetlsent t = {0};
	struct cfg_node *found[CFG_FIELDS_MAX] = {0};
	size_t before = p->nmsg;
	if (!cfg_walk(p, v, what, serve_tls_fields, &t, found) || p->nmsg != before) {
		return;
	}
	if (t.listen.count == 0 || t.cert_file == NULL || t.key_file == NULL) {
		cfg_error(p, v, "%s without %s; expected { listen: [ \"addr@853\" ], cert-file, "
		          "key-file, ca-file (optional: client certificates) }", what,
		          t.listen.count == 0 ? "listen" : t.cert_file == NULL ? "cert-file"
		                                                               : "key-file");
		return;
	}
	struct cfg_serve_tls c = {.listen = t.listen};
	c.cert_file = file_key(p, found[SF_CERT], t.cert_file, "cert-file");
	c.key_file = file_key(p, found[SF_KEY], t.key_file, "key-file");
	c.ca_file = t.ca_file != NULL ? file_key(p, found[SF_CA], t.ca_file, "ca-file") : NULL;
	if (p->nmsg == before) {
		*out = c;
	}
}

void cfg_require_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	enum cfg_serve_tls_req *out = dst;
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return;
	}
	if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0) {
		*out = CFG_SERVE_TLS_NO;
	} else if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0) {
		*out = CFG_SERVE_TLS_YES;
	} else if (strcmp(s, "client-cert") == 0) {
		*out = CFG_SERVE_TLS_CLIENT_CERT;
	} else {
		cfg_error(p, v, "bad %s \"%s\"; expected no, yes (AXFR/IXFR only over TLS) or "
		          "client-cert (over TLS with a verified client certificate)", what, s);
	}
}
