/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve_tls.c -- XFR over TLS on xfrd's DNS endpoint (RFC 9103): the server
 * context (TLS 1.3, ALPN "dot", certificate and key, client certificates asked for),
 * which transport a connection's queries count as, and the reload on SIGHUP. */
#include "xfrd/serve/serve_internal.h"

#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

/* A client certificate that does not verify must not fail the handshake: the
 * connection is then TLS without one, and the zone's require-tls decides. */
static int accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* ALPN: "dot" when the client offers it; a client that offers none is served too. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char dot[] = "\x03" "dot";
	(void)ssl;
	(void)arg;
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, dot, sizeof(dot) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED) {
		return SSL_TLSEXT_ERR_ALERT_FATAL; /* RFC 9103 7.1: no_application_protocol */
	}
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static int load_fail(const char *what, const char *file, char *detail, size_t size)
{
	char e[160];
	ERR_error_string_n(ERR_peek_last_error(), e, sizeof(e));
	snprintf(detail, size, "%s \"%s\": %s", what, file, e);
	ERR_clear_error();
	return ZX_ETLS;
}

int serve_tls_ctx(const struct cfg_serve_tls *c, SSL_CTX **out, char *detail, size_t size)
{
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		return ZX_ENOMEM;
	}
	int rc = 0;
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert_file) != 1) {
		rc = load_fail("cert-file", c->cert_file, detail, size);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
	           SSL_CTX_check_private_key(ctx) != 1) {
		rc = load_fail("key-file", c->key_file, detail, size);
	} else if (c->ca_file != NULL) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(c->ca_file);
		if (names == NULL || SSL_CTX_load_verify_locations(ctx, c->ca_file, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			rc = load_fail("ca-file", c->ca_file, detail, size);
		} else {
			SSL_CTX_set_client_CA_list(ctx, names);
			SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
		}
	}
	if (rc != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

enum serve_proto serve_tls_proto(SSL *ssl)
{
	return SSL_get0_peer_certificate(ssl) != NULL && SSL_get_verify_result(ssl) == X509_V_OK
	               ? SERVE_TLS_CERT
	               : SERVE_TLS;
}

int serve_tls_reload(struct serve *sv)
{
	const struct cfg_serve_tls *c = &sv->o.cfg->xfrd.serve_tls;
	if (c->listen.count == 0) {
		return 0;
	}
	char detail[400] = "";
	SSL_CTX *ctx = NULL;
	int rc = serve_tls_ctx(c, &ctx, detail, sizeof(detail));
	if (rc != 0) {
		char q[420];
		log_error("serve_tls_reload_failed", "error=%s detail=%s hint=\"the certificate in "
		          "use stays\"", zx_strerror(rc), log_quote(detail, q, sizeof(q)));
		if (sv->o.metrics != NULL) {
			metrics_add(sv->m.tls_reload_failed, 1);
		}
		return rc;
	}
	SSL_CTX_free(sv->tls_ctx); /* the open connections' SSLs hold their own reference */
	sv->tls_ctx = ctx;
	log_info("serve_tls_reloaded", "cert_file=%s", c->cert_file);
	if (sv->o.metrics != NULL) {
		metrics_add(sv->m.tls_reload_ok, 1);
	}
	return 0;
}
