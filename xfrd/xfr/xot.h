/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xot.h -- XFR over TLS (RFC 9103), the client side: TLS contexts for the
 * primaries' `tls` settings (common/cfg/cfg.h struct cfg_tls), the handshake on a
 * connected stream, the checks RFC 9103 and RFC 8310 ask for, session resumption,
 * and per-primary counters.
 *
 * A TLS session goes on top of whatever stream the connector (xfrd/xfr/connector.h)
 * gives: direct, from a source address, or through a SOCKS5 proxy's CONNECT. Then:
 *
 *   TLS 1.3 only; ALPN "dot" offered (RFC 9103 section 7.1; a server that selects none
 *   is accepted: BIND 9.18 and NSD do select it);
 *   strict:        the chain against ca-file (else the system store) and the name
 *                  against auth-name (also sent as SNI); pins too when listed;
 *   pin:           the SHA-256 of the server's SubjectPublicKeyInfo, base64, must be
 *                  one of the pins (RFC 7858 section 4.2); the chain is not checked,
 *                  notAfter is;
 *   opportunistic: encrypted, nothing checked (only when the config says so; never
 *                  a fallback to clear text);
 *   cert-file/key-file: a client certificate (mutual TLS).
 *
 * Sessions: each context keeps the last session ticket per primary address and offers
 * it on the next connection to that primary (TLS 1.3 resumption: no certificate is
 * sent again; the checks above ran on the full handshake the session came from, and
 * the session keeps the peer's certificate, so pins and notAfter are checked again).
 * A context loads its files once; when one of them changes on disk (a renewed
 * certificate, mtime), the next xot_client_get() builds the context afresh and
 * forgets the sessions.
 *
 * Failure reasons (enum xot_reason, the metric's reason label):
 *   handshake         the handshake failed otherwise (closed, alert, bad message)
 *   protocol_version  no common protocol version (the peer lacks TLS 1.3), or the peer
 *                     does not speak TLS at all ("wrong version number")
 *   untrusted         the chain does not verify against the CA (self-signed, unknown
 *                     issuer, bad signature)
 *   name              the certificate does not carry auth-name
 *   expired           the certificate's validity period does not cover now
 *   pin               the public key matches none of the pins
 *   alpn              the server refused ALPN "dot"
 *   local             our own side: a file that does not load, a key that does not
 *                     match its certificate
 *
 * Metrics (label primary="addr@port"; registered by xot_know(), on the thread that
 * renders them):
 *   xfrd_xfr_tls_failures_total{primary,reason}   TLS failures by reason
 *   xfrd_xfr_tls_handshakes_total{primary,resumed="yes|no"}  handshakes that passed
 *   xfrd_xfr_tls_cert_expiry_seconds{primary}     seconds from the last handshake's
 *                                                 check to the certificate's notAfter
 *                                                 (negative once expired)
 *
 * Errors: ZX_ETLS (handshake, protocol version, alpn, local), ZX_ETLS_VERIFY (untrusted,
 * name, expired), ZX_ETLS_PIN (pin), ZX_ETIMEDOUT, ZX_ENOMEM.
 *
 * Threading: a struct xot may be used from every thread (its own lock); a struct
 * xot_hs belongs to the thread running its event base. SSL objects handed out belong
 * to one thread at a time.
 */
#ifndef ZX_XFRD_XOT_H
#define ZX_XFRD_XOT_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_tls;
struct event;
struct event_base;
struct metrics;
struct ssl_st;
struct xot;
struct xot_client;

/** The TLS "dot" ALPN identifier (RFC 7858, RFC 9103). */
#define XOT_ALPN_ID "dot"

enum xot_reason {
	XOT_OK = 0,
	XOT_HANDSHAKE,
	XOT_VERSION,
	XOT_UNTRUSTED,
	XOT_NAME,
	XOT_EXPIRED,
	XOT_PIN,
	XOT_ALPN,
	XOT_LOCAL,
	XOT_REASONS /**< not a reason: how many */
};

/** "handshake", "protocol_version", ... (the metric's label); "" for XOT_OK. */
const char *xot_reason_str(enum xot_reason r);

/** Room for a failure's text. */
#define XOT_DETAIL_MAX 200

/** What a handshake found. */
struct xot_info {
	enum xot_reason reason;        /**< XOT_OK on success */
	bool resumed;                  /**< the session was resumed */
	int64_t not_after;             /**< the peer certificate's notAfter (unix s); 0 unknown */
	char detail[XOT_DETAIL_MAX];   /**< on failure: which check, which name, OpenSSL's words */
};

/**
 * @param[in]  m   series registered here by xot_know(); borrowed, must outlive the
 *                 table; NULL: a registry of the table's own
 * @param[out] out owned (xot_free()); untouched on error
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int xot_new(struct metrics *m, struct xot **out);

/** Every context and session freed (SSL objects handed out keep their own). NULL ok. */
void xot_free(struct xot *t);

/**
 * Register the series of @p primary ("addr@port") in the table's registry, once.
 * Call it on the thread that renders the registry.
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int xot_know(struct xot *t, const char *primary);

/** Register series in @p m from now on (those of known primaries again). @return 0;
    ZX_ENOMEM */
ZX_MUSTCHECK int xot_set_metrics(struct xot *t, struct metrics *m);

/** Count a handshake's outcome for @p primary (a known one; others are not counted). */
void xot_note(struct xot *t, const char *primary, const struct xot_info *info);

/** A primary's counters, for tests. */
struct xot_counts {
	uint64_t failures[XOT_REASONS];
	uint64_t full, resumed;
	int64_t expiry_s;
};
void xot_counts_get(struct xot *t, const char *primary, struct xot_counts *out);

/**
 * The context for @p tls (found by its contents, made on first use, made again when
 * one of its files changed).
 * @param[in]  tls     borrowed for the call (the context copies what it keeps)
 * @param[out] out     borrowed from @p t, lives until xot_free()
 * @param[out] detail  on ZX_ETLS: which file and why (XOT_DETAIL_MAX bytes)
 * @return 0; ZX_ETLS a file does not load (reason local); ZX_ENOMEM
 */
ZX_MUSTCHECK int xot_client_get(struct xot *t, const struct cfg_tls *tls,
                                struct xot_client **out, char *detail);

/**
 * Called once with a handshake's outcome: @p rc 0 and @p ssl (now the callback's,
 * on @p fd, ready for SSL_read/SSL_write), or an error (fd closed, ssl NULL).
 * @p info valid only during the call. The hs is idle again.
 */
typedef void (*xot_hs_cb)(void *arg, int rc, int fd, struct ssl_st *ssl,
                          const struct xot_info *info);

struct xot_hs {
	/* private */
	struct event *ev;
	int fd;
	struct ssl_st *ssl;
	const struct xot_client *cl;
	uint64_t deadline_us;
	xot_hs_cb cb;
	void *arg;
};

/** An idle handshake. */
void xot_hs_init(struct xot_hs *h);

/**
 * Start TLS on @p fd (connected to @p primary, taken: closed on every error) and
 * run the handshake and the checks. Returns at once; the outcome comes through @p cb
 * from the loop, never from within this call.
 * @param[in] h          idle; must stay put until the callback or xot_hs_cancel()
 * @param[in] cl         borrowed, must outlive the hs
 * @param[in] primary    the primary's address, the session cache's key; copied
 * @param[in] timeout_ms the whole handshake; 0: none
 * @return 0; ZX_ENOMEM (fd closed, no callback)
 */
ZX_MUSTCHECK int xot_hs_start(struct xot_hs *h, struct event_base *base,
                              const struct xot_client *cl, int fd,
                              const struct sockaddr *primary, uint64_t timeout_ms,
                              xot_hs_cb cb, void *arg);

/** Stop a handshake under way (socket closed, no callback). Idempotent. */
void xot_hs_cancel(struct xot_hs *h);

/**
 * The text of OpenSSL's error @p e (from struct conn's tls_err), into @p buf.
 * @return @p buf
 */
const char *xot_err_str(unsigned long e, char *buf, size_t size);

/** The base64 SHA-256 SPKI pin of the certificate in PEM file @p file (for tests and
    tools), into @p out (45 bytes). @return 0; ZX_EIO; ZX_EFORMAT */
ZX_MUSTCHECK int xot_pin_of_file(const char *file, char *out);

#endif
