/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/conn.h -- one DNS-over-TCP exchange on libevent: connect, send one query,
 * read the answer's messages.
 *
 * Non-blocking socket, its own receive buffer, RFC 1035 4.2.2 framing (2-byte
 * length before each message). Messages are handed to the callback in place
 * (no copy, no allocation per message); a message longer than the buffer can
 * not exist (the buffer holds 64 KiB + 2). Timeouts: one for the connect, one
 * for each read (the time allowed between two reads that return data); the
 * whole-transfer timeout is the caller's.
 *
 * Over TLS (XFR over TLS, RFC 9103; conn_open_tls()): the same framing inside a TLS
 * session whose handshake is done (xfrd/xfr/xot.h); reads and writes go through
 * SSL_read/SSL_write, a record already decrypted is read without waiting for the
 * socket, and closing sends close_notify (unless the session failed).
 *
 * Not here: TSIG, DNS checks (the callback does them), reconnects, keeping idle
 * connections (xfrd/xfr/connpool.h; conn_detach() hands a socket over).
 *
 * Threading: a conn belongs to the thread running its event base.
 */
#ifndef ZX_XFRD_CONN_H
#define ZX_XFRD_CONN_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event;
struct event_base;
struct ssl_st;

/** Receive buffer: several messages per read, and always one whole message. */
#define CONN_BUF (128 * 1024)
/** Socket receive buffer asked for (the kernel caps it at net.core.rmem_max). */
#define CONN_RCVBUF (4 * 1024 * 1024)
/** Largest query conn_open() sends. */
#define CONN_QUERY_MAX 2048

/**
 * Called for each received message (@p rc 0; @p msg, @p len valid only during
 * the call) and once when the connection fails (@p rc < 0, @p msg NULL):
 * ZX_ETIMEDOUT (connect or read timeout), ZX_ECONNREFUSED, ZX_ECONNRESET (reset,
 * or closed by the peer between messages), ZX_EXFR (closed in the middle of a
 * message, or a zero-length frame), ZX_EIO (another socket error), ZX_ETLS (TLS:
 * the session failed, e.g. the server's alert "certificate required" after the
 * handshake; tls_err holds OpenSSL's error).
 * For a message, return 0 to keep reading, non-zero to stop (the conn then
 * idles until conn_close()). The callback may call conn_close() on its conn.
 */
typedef int (*conn_cb)(void *arg, int rc, const uint8_t *msg, size_t len);

struct conn {
	int fd;               /**< -1 when closed */
	struct event *ev;     /**< owned */
	uint64_t bytes_in;    /**< bytes received; readable */
	uint64_t messages;    /**< messages delivered; readable */
	struct ssl_st *ssl;   /**< TLS session (owned), or NULL: plain TCP */
	unsigned long tls_err; /**< after ZX_ETLS: OpenSSL's error code (0: closed) */
	/* private */
	int ssl_fatal;
	int connecting;
	int closed_in_cb;
	uint64_t read_ms;
	conn_cb cb;
	void *arg;
	size_t out_len, out_off;
	uint8_t out[CONN_QUERY_MAX + 2];
	size_t have;
	uint8_t *buf; /* CONN_BUF bytes */
};

/** A conn that is closed (fd -1); conn_close() on it does nothing. */
void conn_init(struct conn *c);

/**
 * Connect to @p sa and send @p query (framed). Returns at once; the callback
 * reports messages and failure.
 * @param[in] c       from conn_init() or conn_close(); its memory must stay put
 *                    until conn_close()
 * @param[in] base    the event base that runs it; borrowed
 * @param[in] sa      peer address (AF_INET/AF_INET6); copied
 * @param[in] query   copied
 * @param[in] buf     receive buffer of CONN_BUF bytes; borrowed until conn_close()
 * @return 0; ZX_EINVAL @p query longer than CONN_QUERY_MAX; ZX_ENOMEM; ZX_EIO the
 *         socket could not be made (errno logged by the caller's outcome);
 *         ZX_ECONNREFUSED the connect failed at once. On error nothing is open.
 */
ZX_MUSTCHECK int conn_open(struct conn *c, struct event_base *base, const struct sockaddr *sa,
                           socklen_t salen, uint64_t connect_ms, uint64_t read_ms,
                           const uint8_t *query, size_t qlen, uint8_t *buf, conn_cb cb,
                           void *arg);

/**
 * As conn_open(), on @p fd: a socket already connected (xfrd/xfr/connpool.h), which
 * the conn owns from now on (closed on error too). There is no connect timeout;
 * @p read_ms also bounds the send.
 */
ZX_MUSTCHECK int conn_open_fd(struct conn *c, struct event_base *base, int fd, uint64_t read_ms,
                              const uint8_t *query, size_t qlen, uint8_t *buf, conn_cb cb,
                              void *arg);

/**
 * As conn_open_fd(), inside the TLS session @p ssl on @p fd (its handshake done:
 * xfrd/xfr/xot.h). Takes both (freed on error too).
 */
ZX_MUSTCHECK int conn_open_tls(struct conn *c, struct event_base *base, int fd,
                               struct ssl_st *ssl, uint64_t read_ms, const uint8_t *query,
                               size_t qlen, uint8_t *buf, conn_cb cb, void *arg);

/**
 * Take the socket out of a conn that is done with its exchange (connected, the
 * query sent, no unread byte in the buffer, nor in the TLS session) and close the
 * conn without closing the socket. @return the socket, now the caller's, and in
 * @p ssl its TLS session (NULL: plain), now the caller's too; -1 (the conn
 * untouched) when the conn is not in that state. Not from within the conn's callback.
 */
int conn_detach(struct conn *c, struct ssl_st **ssl);

/** Close the socket (a TLS session: close_notify, then freed) and free the event; the
    conn can be opened again. Idempotent. */
void conn_close(struct conn *c);

#endif
