/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_xot.c -- libFuzzer target for the XFR-over-TLS read path (RFC 9103):
 * xfrd/xfr/xot.c's handshake (opportunistic: nothing to verify) and xfrd/xfr/conn.c
 * reading DNS-over-TCP frames out of a TLS session, against a real TLS 1.3 server in
 * the same process over a socketpair.
 *
 * Where TLS differs from plain TCP is the read path: bytes come out of SSL_read in
 * records that split the 2-byte-length frames anywhere, and a record already
 * decrypted may sit in OpenSSL with the socket empty (conn re-arms itself for it).
 * Input: byte 0 seeds the record sizes (1..4096 bytes, each record one SSL_write),
 * byte 1 bit 0: end with close_notify or a bare socket close; the rest is the stream
 * the primary sends. Checks besides memory safety: the messages conn hands over are
 * exactly the frames a plain reader finds in the stream, in order; it ends with the
 * documented code: ZX_EXFR on a zero-length frame; at the end of the stream, after
 * close_notify ZX_ECONNRESET between frames and ZX_EXFR in one, after a bare close
 * ZX_ETLS (OpenSSL's "unexpected eof": the stream may have been cut).
 */
#include "common/cfg/cfg.h"
#include "xfrd/xfr/conn.h"
#include "xfrd/xfr/xot.h"

#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STREAM (256 * 1024)

static SSL_CTX *server_ctx;
static struct xot *table;
static struct xot_client *client;

/* A self-signed P-256 certificate, made once. */
static void init(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (pk == NULL || x == NULL) {
		abort();
	}
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                           (const unsigned char *)"fuzz.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, pk, EVP_sha256()) == 0) {
		abort();
	}
	server_ctx = SSL_CTX_new(TLS_server_method());
	if (server_ctx == NULL || SSL_CTX_use_certificate(server_ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(server_ctx, pk) != 1) {
		abort();
	}
	SSL_CTX_set_min_proto_version(server_ctx, TLS1_3_VERSION);
	SSL_CTX_set_num_tickets(server_ctx, 0);
	X509_free(x);
	EVP_PKEY_free(pk);
	static const struct cfg_tls tls = {.mode = CFG_TLS_OPPORTUNISTIC};
	char detail[XOT_DETAIL_MAX];
	if (xot_new(NULL, &table) != 0 || xot_client_get(table, &tls, &client, detail) != 0) {
		abort();
	}
}

struct run {
	struct event_base *base;
	/* the server */
	SSL *ssl;
	int sfd;
	struct event *sev;
	bool up;              /* handshake done */
	const uint8_t *stream;
	size_t len, off;
	uint32_t seed;
	bool notify;          /* end with close_notify */
	bool closed;
	/* the client */
	struct xot_hs hs;
	struct conn conn;
	uint8_t *buf;
	int end;              /* the conn's final code; 1: still running */
	size_t got;           /* frames delivered */
	size_t ref_off;       /* where the reference reader is in the stream */
};

static size_t next_chunk(struct run *r)
{
	r->seed = r->seed * 1103515245u + 12345u;
	return 1 + (r->seed >> 8) % 4096;
}

static void server_close(struct run *r)
{
	if (r->notify) {
		(void)SSL_shutdown(r->ssl);
	}
	shutdown(r->sfd, SHUT_WR);
	r->closed = true;
	event_del(r->sev);
}

static void on_server(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct run *r = arg;
	if (!r->up) {
		int rc = SSL_do_handshake(r->ssl);
		if (rc != 1) {
			int e = SSL_get_error(r->ssl, rc);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				abort(); /* our own client must handshake */
			}
			return;
		}
		r->up = true;
	}
	while (r->off < r->len) {
		size_t n = next_chunk(r);
		n = n < r->len - r->off ? n : r->len - r->off;
		int w = SSL_write(r->ssl, r->stream + r->off, (int)n);
		if (w <= 0) {
			return; /* the socket is full: on the next writable event */
		}
		r->off += (size_t)w;
	}
	uint8_t sink[4096]; /* the query, unread otherwise */
	(void)SSL_read(r->ssl, sink, sizeof(sink));
	ERR_clear_error();
	server_close(r);
}

/* The frame the reference reader expects next: 0 and its place, or the code the conn
 * must end with there. */
static int ref_next(const struct run *r, size_t *at, size_t *mlen)
{
	size_t left = r->len - r->ref_off;
	/* the end of the stream: read as an EOF with close_notify; without it OpenSSL
	   reports the truncation ("unexpected eof"), and conn says ZX_ETLS */
	int end = !r->notify ? ZX_ETLS : left == 0 ? ZX_ECONNRESET : ZX_EXFR;
	if (left < 2) {
		return end;
	}
	size_t n = (size_t)r->stream[r->ref_off] << 8 | r->stream[r->ref_off + 1];
	if (n == 0) {
		return ZX_EXFR; /* seen in the frame, before any end */
	}
	if (left < 2 + n) {
		return end;
	}
	*at = r->ref_off + 2;
	*mlen = n;
	return 0;
}

static int on_msg(void *arg, int rc, const uint8_t *msg, size_t len)
{
	struct run *r = arg;
	size_t at = 0, mlen = 0;
	int want = ref_next(r, &at, &mlen);
	if (rc != 0) {
		if (rc != want) {
			fprintf(stderr, "conn ended with %d, the stream says %d\n", rc, want);
			abort();
		}
		r->end = rc;
		event_base_loopbreak(r->base);
		return 1;
	}
	if (want != 0 || len != mlen || memcmp(msg, r->stream + at, len) != 0) {
		fprintf(stderr, "frame %zu differs from the stream's\n", r->got);
		abort();
	}
	r->got++;
	r->ref_off = at + mlen;
	return 0;
}

static void on_hs(void *arg, int rc, int fd, struct ssl_st *ssl, const struct xot_info *info)
{
	(void)info;
	struct run *r = arg;
	static const uint8_t query[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1};
	if (rc != 0 || conn_open_tls(&r->conn, r->base, fd, ssl, 5000, query, sizeof(query),
	                             r->buf, on_msg, r) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		init();
		ready = true;
	}
	if (size < 2 || size - 2 > MAX_STREAM) {
		return 0;
	}
	struct run r = {.seed = data[0], .notify = (data[1] & 1) != 0, .stream = data + 2,
	                .len = size - 2, .end = 1};
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
		abort();
	}
	r.base = event_base_new();
	r.buf = malloc(CONN_BUF);
	r.sfd = sv[1];
	r.ssl = SSL_new(server_ctx);
	if (r.base == NULL || r.buf == NULL || r.ssl == NULL || SSL_set_fd(r.ssl, r.sfd) != 1) {
		abort();
	}
	SSL_set_accept_state(r.ssl);
	r.sev = event_new(r.base, r.sfd, EV_READ | EV_WRITE | EV_PERSIST, on_server, &r);
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(853)};
	conn_init(&r.conn);
	xot_hs_init(&r.hs);
	if (r.sev == NULL || event_add(r.sev, NULL) != 0 ||
	    xot_hs_start(&r.hs, r.base, client, sv[0], (const struct sockaddr *)&peer, 5000, on_hs,
	                 &r) != 0) {
		abort();
	}
	(void)event_base_dispatch(r.base);
	if (r.end == 1) {
		fprintf(stderr, "the conn never ended\n");
		abort();
	}
	conn_close(&r.conn);
	xot_hs_cancel(&r.hs);
	event_free(r.sev);
	SSL_free(r.ssl);
	close(r.sfd);
	free(r.buf);
	event_base_free(r.base);
	ERR_clear_error();
	return 0;
}
