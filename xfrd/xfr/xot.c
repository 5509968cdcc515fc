/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xot.c -- XFR over TLS, the client side, on OpenSSL: contexts per `tls`
 * setting, the handshake step on libevent, the checks, sessions, counters.
 *
 *   start --(writable)--> SSL_do_handshake --WANT_READ/WANT_WRITE--> wait, again
 *                               |  fails: classify (verify result, OpenSSL's reason)
 *                               v
 *                    checks (pins, notAfter) --> cb(0, fd, ssl) | cb(error) */
#include "xfrd/xfr/xot.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/metrics.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PIN_B64 45 /* 44 characters and the NUL */
#define FILES 3    /* ca, cert, key */

struct sess {
	struct sess *next;
	struct sockaddr_storage sa;
	SSL_SESSION *s;
};

struct xot_client {
	struct xot_client *next;
	struct xot *t;
	SSL_CTX *ctx;
	/* the setting it was made for (compared by contents) */
	enum cfg_tls_mode mode;
	char *files[FILES]; /* ca, cert, key; NULL: none */
	char *auth_name;
	char pins[CFG_TLS_PINS_MAX][PIN_B64];
	size_t pin_count;
	struct timespec mtimes[FILES];
	struct sess *sessions; /* under t->mu */
};

struct pstat {
	struct pstat *next;
	char name[64];
	struct metrics_val *fail[XOT_REASONS], *full, *resumed, *expiry;
};

struct xot {
	pthread_mutex_t mu;
	struct metrics *m, *own_m;
	struct xot_client *clients;
	struct pstat *prims;
};

/* What an SSL needs in the new-session callback, freed with the SSL. */
struct sslkey {
	struct xot_client *cl;
	struct sockaddr_storage sa;
};

static int ex_idx = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static void key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void ex_init(void)
{
	ex_idx = CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, key_free);
}

const char *xot_reason_str(enum xot_reason r)
{
	static const char *const names[XOT_REASONS] = {
		[XOT_OK] = "", [XOT_HANDSHAKE] = "handshake", [XOT_VERSION] = "protocol_version",
		[XOT_UNTRUSTED] = "untrusted", [XOT_NAME] = "name", [XOT_EXPIRED] = "expired",
		[XOT_PIN] = "pin", [XOT_ALPN] = "alpn", [XOT_LOCAL] = "local",
	};
	return r < XOT_REASONS ? names[r] : "?";
}

const char *xot_err_str(unsigned long e, char *buf, size_t size)
{
	if (e == 0) {
		snprintf(buf, size, "closed by the peer");
	} else {
		ERR_error_string_n(e, buf, size);
	}
	return buf;
}

/* ---- the table and its counters ----------------------------------------------- */

int xot_new(struct metrics *m, struct xot **out)
{
	(void)pthread_once(&ex_once, ex_init);
	struct xot *t = calloc(1, sizeof(*t));
	if (t == NULL || ex_idx < 0) {
		free(t);
		return ZX_ENOMEM;
	}
	if (m == NULL) {
		t->own_m = metrics_new();
		if (t->own_m == NULL) {
			free(t);
			return ZX_ENOMEM;
		}
	}
	t->m = m != NULL ? m : t->own_m;
	pthread_mutex_init(&t->mu, NULL);
	*out = t;
	return 0;
}

static void sessions_free(struct xot_client *c)
{
	while (c->sessions != NULL) {
		struct sess *s = c->sessions;
		c->sessions = s->next;
		SSL_SESSION_free(s->s);
		free(s);
	}
}

void xot_free(struct xot *t)
{
	if (t == NULL) {
		return;
	}
	while (t->clients != NULL) {
		struct xot_client *c = t->clients;
		t->clients = c->next;
		sessions_free(c);
		SSL_CTX_free(c->ctx);
		for (int i = 0; i < FILES; i++) {
			free(c->files[i]);
		}
		free(c->auth_name);
		free(c);
	}
	while (t->prims != NULL) {
		struct pstat *p = t->prims;
		t->prims = p->next;
		free(p);
	}
	metrics_free(t->own_m);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static struct pstat *pstat_find(struct xot *t, const char *primary)
{
	for (struct pstat *p = t->prims; p != NULL; p = p->next) {
		if (strcmp(p->name, primary) == 0) {
			return p;
		}
	}
	return NULL;
}

static int pstat_register(struct xot *t, struct pstat *p)
{
	char l[160];
	for (int r = XOT_HANDSHAKE; r < XOT_REASONS; r++) {
		snprintf(l, sizeof(l), "primary=\"%s\",reason=\"%s\"", p->name, xot_reason_str(r));
		p->fail[r] = metrics_counter(t->m, "xfrd_xfr_tls_failures_total", l,
		                             "XFR-over-TLS failures towards a primary, by reason");
		if (p->fail[r] == NULL) {
			return ZX_ENOMEM;
		}
	}
	snprintf(l, sizeof(l), "primary=\"%s\",resumed=\"no\"", p->name);
	p->full = metrics_counter(t->m, "xfrd_xfr_tls_handshakes_total", l,
	                          "XFR-over-TLS handshakes that passed every check");
	snprintf(l, sizeof(l), "primary=\"%s\",resumed=\"yes\"", p->name);
	p->resumed = metrics_counter(t->m, "xfrd_xfr_tls_handshakes_total", l,
	                             "XFR-over-TLS handshakes that passed every check");
	snprintf(l, sizeof(l), "primary=\"%s\"", p->name);
	p->expiry = metrics_gauge(t->m, "xfrd_xfr_tls_cert_expiry_seconds", l,
	                          "Seconds from the last TLS handshake with a primary to its "
	                          "certificate's notAfter (negative: expired)");
	return p->full != NULL && p->resumed != NULL && p->expiry != NULL ? 0 : ZX_ENOMEM;
}

int xot_know(struct xot *t, const char *primary)
{
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	if (pstat_find(t, primary) == NULL) {
		struct pstat *p = calloc(1, sizeof(*p));
		if (p == NULL) {
			rc = ZX_ENOMEM;
		} else {
			snprintf(p->name, sizeof(p->name), "%s", primary);
			rc = pstat_register(t, p);
			p->next = t->prims;
			t->prims = p;
		}
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int xot_set_metrics(struct xot *t, struct metrics *m)
{
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	t->m = m;
	for (struct pstat *p = t->prims; p != NULL && rc == 0; p = p->next) {
		rc = pstat_register(t, p);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void xot_note(struct xot *t, const char *primary, const struct xot_info *info)
{
	pthread_mutex_lock(&t->mu);
	struct pstat *p = pstat_find(t, primary);
	if (p != NULL && p->fail[XOT_HANDSHAKE] != NULL) {
		if (info->reason != XOT_OK && info->reason < XOT_REASONS) {
			metrics_add(p->fail[info->reason], 1);
		} else if (info->reason == XOT_OK) {
			metrics_add(info->resumed ? p->resumed : p->full, 1);
		}
		if (info->not_after != 0) {
			metrics_set(p->expiry, info->not_after - (int64_t)clock_wall_s());
		}
	}
	pthread_mutex_unlock(&t->mu);
}

void xot_counts_get(struct xot *t, const char *primary, struct xot_counts *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&t->mu);
	struct pstat *p = pstat_find(t, primary);
	if (p != NULL && p->full != NULL) {
		for (int r = XOT_HANDSHAKE; r < XOT_REASONS; r++) {
			out->failures[r] = metrics_get(p->fail[r]);
		}
		out->full = metrics_get(p->full);
		out->resumed = metrics_get(p->resumed);
		out->expiry_s = (int64_t)metrics_get(p->expiry);
	}
	pthread_mutex_unlock(&t->mu);
}

/* ---- contexts ------------------------------------------------------------------ */

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_setting(const struct xot_client *c, const struct cfg_tls *tls)
{
	if (c->mode != tls->mode || c->pin_count != tls->pin_count ||
	    !str_eq(c->files[0], tls->ca_file) || !str_eq(c->files[1], tls->cert_file) ||
	    !str_eq(c->files[2], tls->key_file) || !str_eq(c->auth_name, tls->auth_name)) {
		return false;
	}
	for (size_t i = 0; i < tls->pin_count; i++) {
		if (strcmp(c->pins[i], tls->pins[i]) != 0) {
			return false;
		}
	}
	return true;
}

static struct timespec mtime_of(const char *file)
{
	struct stat st;
	if (file == NULL || stat(file, &st) != 0) {
		return (struct timespec){0, 0};
	}
	return st.st_mtim;
}

static bool files_changed(const struct xot_client *c)
{
	for (int i = 0; i < FILES; i++) {
		struct timespec m = mtime_of(c->files[i]);
		if (m.tv_sec != c->mtimes[i].tv_sec || m.tv_nsec != c->mtimes[i].tv_nsec) {
			return true;
		}
	}
	return false;
}

/* Keep the ticket of a new session, the newest per primary (TLS 1.3: after the
 * handshake, while reading). Returns 1: the reference is ours. */
static int new_session(SSL *ssl, SSL_SESSION *s)
{
	struct sslkey *k = SSL_get_ex_data(ssl, ex_idx);
	if (k == NULL || !SSL_SESSION_is_resumable(s)) {
		return 0;
	}
	struct xot *t = k->cl->t;
	pthread_mutex_lock(&t->mu);
	struct sess *it = k->cl->sessions;
	while (it != NULL && memcmp(&it->sa, &k->sa, sizeof(it->sa)) != 0) {
		it = it->next;
	}
	if (it == NULL && (it = calloc(1, sizeof(*it))) != NULL) {
		it->sa = k->sa;
		it->next = k->cl->sessions;
		k->cl->sessions = it;
	}
	if (it != NULL) {
		SSL_SESSION_free(it->s);
		it->s = s;
	}
	pthread_mutex_unlock(&t->mu);
	return it != NULL ? 1 : 0;
}

static int ctx_fail(const char *what, const char *file, char *detail)
{
	char e[160];
	xot_err_str(ERR_peek_last_error(), e, sizeof(e));
	snprintf(detail, XOT_DETAIL_MAX, "tls %s \"%s\": %s", what, file, e);
	ERR_clear_error();
	return ZX_ETLS;
}

static int ctx_make(const struct xot_client *c, SSL_CTX **out, char *detail)
{
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		return ZX_ENOMEM;
	}
	int rc = 0;
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (c->mode == CFG_TLS_STRICT) {
		if (c->files[0] != NULL ? SSL_CTX_load_verify_locations(ctx, c->files[0], NULL) != 1
		                        : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			rc = ctx_fail("ca-file", c->files[0] ? c->files[0] : "(system)", detail);
		}
	}
	if (rc == 0 && c->files[1] != NULL &&
	    SSL_CTX_use_certificate_chain_file(ctx, c->files[1]) != 1) {
		rc = ctx_fail("cert-file", c->files[1], detail);
	}
	if (rc == 0 && c->files[2] != NULL &&
	    (SSL_CTX_use_PrivateKey_file(ctx, c->files[2], SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		rc = ctx_fail("key-file", c->files[2], detail);
	}
	if (rc != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s != NULL ? strdup(s) : NULL;
	*ok &= s == NULL || d != NULL;
	return d;
}

static int client_add(struct xot *t, const struct cfg_tls *tls, struct xot_client **out,
                      char *detail)
{
	struct xot_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return ZX_ENOMEM;
	}
	bool ok = true;
	c->t = t;
	c->mode = tls->mode;
	c->files[0] = dup_or_null(tls->ca_file, &ok);
	c->files[1] = dup_or_null(tls->cert_file, &ok);
	c->files[2] = dup_or_null(tls->key_file, &ok);
	c->auth_name = dup_or_null(tls->auth_name, &ok);
	c->pin_count = tls->pin_count < CFG_TLS_PINS_MAX ? tls->pin_count : CFG_TLS_PINS_MAX;
	for (size_t i = 0; i < c->pin_count; i++) {
		snprintf(c->pins[i], PIN_B64, "%s", tls->pins[i]);
	}
	for (int i = 0; i < FILES; i++) {
		c->mtimes[i] = mtime_of(c->files[i]);
	}
	int rc = ok ? ctx_make(c, &c->ctx, detail) : ZX_ENOMEM;
	if (rc != 0) {
		for (int i = 0; i < FILES; i++) {
			free(c->files[i]);
		}
		free(c->auth_name);
		free(c);
		return rc;
	}
	c->next = t->clients;
	t->clients = c;
	*out = c;
	return 0;
}

int xot_client_get(struct xot *t, const struct cfg_tls *tls, struct xot_client **out,
                   char *detail)
{
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	struct xot_client *c = t->clients;
	while (c != NULL && !same_setting(c, tls)) {
		c = c->next;
	}
	if (c == NULL) {
		rc = client_add(t, tls, &c, detail);
	} else if (files_changed(c)) {
		/* a renewed certificate or CA: a new context; SSL objects keep the old one */
		SSL_CTX *ctx = NULL;
		rc = ctx_make(c, &ctx, detail);
		if (rc == 0) {
			SSL_CTX_free(c->ctx);
			c->ctx = ctx;
			sessions_free(c);
			for (int i = 0; i < FILES; i++) {
				c->mtimes[i] = mtime_of(c->files[i]);
			}
		}
	}
	pthread_mutex_unlock(&t->mu);
	if (rc == 0) {
		*out = c;
	}
	return rc;
}

/* ---- checks ---------------------------------------------------------------------- */

static int pin_of(X509 *cert, char *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0) {
		return ZX_EFORMAT;
	}
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (ok != 1 || mdlen != sizeof(md)) {
		return ZX_EFORMAT;
	}
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
	return 0;
}

int xot_pin_of_file(const char *file, char *out)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		return ZX_EIO;
	}
	X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		return ZX_EFORMAT;
	}
	int rc = pin_of(cert, out);
	X509_free(cert);
	return rc;
}

/* notAfter of @p cert in unix seconds (0: unknown). */
static int64_t not_after(const X509 *cert)
{
	int days = 0, secs = 0;
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) != 1) {
		return 0;
	}
	return (int64_t)clock_wall_s() + (int64_t)days * 86400 + secs;
}

/* After the handshake: what the verifier did not do (pins; the dates in pin mode). */
static int post_checks(const struct xot_client *c, SSL *ssl, struct xot_info *info)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert != NULL) {
		info->not_after = not_after(cert);
	}
	if (c->mode == CFG_TLS_OPPORTUNISTIC) {
		return 0;
	}
	if (cert == NULL) {
		info->reason = XOT_HANDSHAKE;
		snprintf(info->detail, sizeof(info->detail), "the server sent no certificate");
		return ZX_ETLS;
	}
	if (c->mode == CFG_TLS_PIN && (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0 ||
	                               X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)) {
		info->reason = XOT_EXPIRED;
		snprintf(info->detail, sizeof(info->detail), "certificate %s",
		         X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0 ? "has expired"
		                                                              : "is not yet valid");
		return ZX_ETLS_VERIFY;
	}
	if (c->pin_count == 0) {
		return 0;
	}
	char pin[PIN_B64];
	if (pin_of(cert, pin) != 0) {
		info->reason = XOT_PIN;
		snprintf(info->detail, sizeof(info->detail), "no public key to pin");
		return ZX_ETLS_PIN;
	}
	for (size_t i = 0; i < c->pin_count; i++) {
		if (strcmp(pin, c->pins[i]) == 0) {
			return 0;
		}
	}
	info->reason = XOT_PIN;
	snprintf(info->detail, sizeof(info->detail), "pin mismatch: the server's key is "
	         "pin-sha256 %s, not one of the %zu configured", pin, c->pin_count);
	return ZX_ETLS_PIN;
}

/* A failed SSL_do_handshake: which check, in words. */
static int classify(const struct xot_client *c, SSL *ssl, int err, struct xot_info *info)
{
	long vr = SSL_get_verify_result(ssl);
	if (c->mode == CFG_TLS_STRICT && vr != X509_V_OK && err == SSL_ERROR_SSL) {
		info->reason = vr == X509_V_ERR_HOSTNAME_MISMATCH ? XOT_NAME
		               : vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID
		                       ? XOT_EXPIRED
		                       : XOT_UNTRUSTED;
		snprintf(info->detail, sizeof(info->detail), "certificate verify failed: %s%s%s%s",
		         X509_verify_cert_error_string(vr),
		         info->reason == XOT_NAME ? " (auth-name " : "",
		         info->reason == XOT_NAME ? c->auth_name : "",
		         info->reason == XOT_NAME ? " is not in the certificate)" : "");
		return ZX_ETLS_VERIFY;
	}
	unsigned long e = ERR_peek_error();
	int r = ERR_GET_REASON(e);
	char text[160];
	info->reason = r == SSL_R_UNSUPPORTED_PROTOCOL || r == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
	                               r == SSL_R_WRONG_VERSION_NUMBER ||
	                               r == SSL_R_NO_PROTOCOLS_AVAILABLE
	                       ? XOT_VERSION
	               : r == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL ? XOT_ALPN
	                                                                 : XOT_HANDSHAKE;
	if (err == SSL_ERROR_SSL) {
		snprintf(info->detail, sizeof(info->detail), "TLS handshake: %s%s",
		         xot_err_str(e, text, sizeof(text)),
		         info->reason == XOT_VERSION ? " (TLS 1.3 required)" : "");
	} else {
		snprintf(info->detail, sizeof(info->detail), "TLS handshake: the server closed the "
		         "connection");
	}
	return ZX_ETLS;
}

/* ---- the handshake step ------------------------------------------------------------ */

void xot_hs_init(struct xot_hs *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

void xot_hs_cancel(struct xot_hs *h)
{
	if (h->ev != NULL) {
		event_free(h->ev);
		h->ev = NULL;
	}
	if (h->ssl != NULL) {
		SSL_free(h->ssl);
		h->ssl = NULL;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
}

static void hs_end(struct xot_hs *h, int rc, struct xot_info *info)
{
	int fd = -1;
	SSL *ssl = NULL;
	if (rc == 0) { /* the caller's now */
		fd = h->fd;
		ssl = h->ssl;
		h->fd = -1;
		h->ssl = NULL;
	}
	ERR_clear_error();
	xot_hs_cancel(h);
	h->cb(h->arg, rc, fd, ssl, info);
}

static void on_hs(evutil_socket_t fd, short what, void *arg);

static int hs_watch(struct xot_hs *h, struct event_base *base, short what)
{
	if (h->ev != NULL) {
		event_free(h->ev);
	}
	h->ev = event_new(base, h->fd, what, on_hs, h);
	if (h->ev == NULL) {
		return ZX_ENOMEM;
	}
	struct timeval tv = {0, 0};
	if (h->deadline_us != 0) {
		uint64_t now = clock_mono_us();
		uint64_t left = h->deadline_us > now ? h->deadline_us - now : 1;
		tv.tv_sec = (time_t)(left / 1000000);
		tv.tv_usec = (suseconds_t)(left % 1000000);
	}
	return event_add(h->ev, h->deadline_us != 0 ? &tv : NULL) == 0 ? 0 : ZX_ENOMEM;
}

static void on_hs(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct xot_hs *h = arg;
	struct xot_info info = {0};
	if (what & EV_TIMEOUT) {
		info.reason = XOT_HANDSHAKE;
		snprintf(info.detail, sizeof(info.detail), "TLS handshake timed out");
		hs_end(h, ZX_ETIMEDOUT, &info);
		return;
	}
	ERR_clear_error();
	int r = SSL_do_handshake(h->ssl);
	if (r == 1) {
		info.resumed = SSL_session_reused(h->ssl) == 1;
		int rc = post_checks(h->cl, h->ssl, &info);
		hs_end(h, rc, &info);
		return;
	}
	int err = SSL_get_error(h->ssl, r);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		int rc = hs_watch(h, event_get_base(h->ev),
		                  err == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		if (rc != 0) {
			info.reason = XOT_HANDSHAKE;
			hs_end(h, rc, &info);
		}
		return;
	}
	int rc = classify(h->cl, h->ssl, err, &info);
	hs_end(h, rc, &info);
}

/* A new SSL for @p cl on @p fd: connect state, ALPN, SNI, the name to verify, the
   session of the last connection to @p sa. */
static SSL *ssl_for(const struct xot_client *cl, int fd, const struct sockaddr_storage *sa)
{
	static const unsigned char alpn[] = "\x03" XOT_ALPN_ID;
	struct xot *t = cl->t;
	pthread_mutex_lock(&t->mu);
	SSL *ssl = SSL_new(cl->ctx);
	struct sslkey *k = calloc(1, sizeof(*k));
	bool ok = ssl != NULL && k != NULL;
	if (ok) {
		k->cl = (struct xot_client *)cl;
		k->sa = *sa;
		ok = SSL_set_ex_data(ssl, ex_idx, k) == 1;
		k = ok ? NULL : k; /* freed with the SSL from now on */
	}
	ok = ok && SSL_set_fd(ssl, fd) == 1 && SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1) == 0;
	if (ok && cl->auth_name != NULL) {
		ok = SSL_set_tlsext_host_name(ssl, cl->auth_name) == 1;
	}
	if (ok && cl->mode == CFG_TLS_STRICT) {
		ok = SSL_set1_host(ssl, cl->auth_name) == 1;
		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	}
	for (struct sess *s = cl->sessions; ok && s != NULL; s = s->next) {
		if (memcmp(&s->sa, sa, sizeof(*sa)) == 0) {
			(void)SSL_set_session(ssl, s->s); /* a stale one: a full handshake */
			break;
		}
	}
	pthread_mutex_unlock(&t->mu);
	free(k);
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}

int xot_hs_start(struct xot_hs *h, struct event_base *base, const struct xot_client *cl, int fd,
                 const struct sockaddr *primary, uint64_t timeout_ms, xot_hs_cb cb, void *arg)
{
	xot_hs_cancel(h);
	struct sockaddr_storage sa;
	memset(&sa, 0, sizeof(sa));
	memcpy(&sa, primary, primary->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                    : sizeof(struct sockaddr_in));
	h->fd = fd;
	h->cl = cl;
	h->cb = cb;
	h->arg = arg;
	h->deadline_us = timeout_ms != 0 ? clock_mono_us() + timeout_ms * 1000 : 0;
	h->ssl = ssl_for(cl, fd, &sa);
	int rc = h->ssl != NULL ? hs_watch(h, base, EV_WRITE) : ZX_ENOMEM;
	if (rc != 0) {
		xot_hs_cancel(h);
	}
	return rc;
}
