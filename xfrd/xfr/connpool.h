/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/connpool.h -- idle TCP connections to primaries, kept for the next transfer.
 *
 * RFC 5936 4.1 lets a client send its next query on the connection of the last
 * transfer, and Knot, BIND and NSD answer it. Opening a connection per zone
 * cost xfrd about a fifth of its CPU with 10,000 small zones (connect and
 * close, with the loopback handling of the primary's side), and uses one
 * ephemeral port per zone, which a burst of many small zones runs out of.
 *
 * A transfer that ended cleanly (last message read, TSIG checked, no byte
 * left over) puts its socket here; the next transfer to the same address and
 * port takes it instead of connecting. An idle socket is closed when it has
 * been idle for the pool's idle time, when it becomes readable (the primary
 * closed it or sent something unasked) or when the pool is full for that
 * primary. The primary may still have closed a socket just before it is
 * taken: the taker retries once on a new connection when its first read finds
 * the connection closed (xfrd/xfr/xfr.c).
 *
 * A kept connection is tied to its egress as well as its primary: it is taken only
 * for the same primary reached by the same path (the same source address, the same
 * SOCKS5 proxy and user, or direct), so a transfer that should go through a proxy
 * never rides a direct connection, nor one through another proxy. A connection
 * through a proxy is kept as any other: after the CONNECT it carries the primary's
 * bytes only.
 *
 * XFR over TLS (RFC 9103 section 5.2 asks clients to reuse connections): a kept
 * connection may carry its TLS session (connpool_put_tls()); it is taken only for
 * the same TLS setting (struct connector_path tls) and given back with its session,
 * so the next transfer sends its query at once, without a handshake. The pool closes
 * such a connection with close_notify.
 *
 * Threading: a pool belongs to the thread running its event base.
 */
#ifndef ZX_XFRD_CONNPOOL_H
#define ZX_XFRD_CONNPOOL_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct connector_path;
struct connpool;
struct event_base;
struct ssl_st;

/**
 * @param[in]  base     the event base of every socket given; borrowed
 * @param[in]  per_peer idle sockets kept per primary address (>= 1)
 * @param[in]  idle_ms  an idle socket is closed after this long (> 0)
 * @param[out] out      owned by the caller (connpool_free()); untouched on error
 * @return 0; ZX_EINVAL; ZX_ENOMEM
 */
ZX_MUSTCHECK int connpool_new(struct event_base *base, size_t per_peer, uint64_t idle_ms,
                              struct connpool **out);

/**
 * An idle connected socket to @p sa reached by @p via (now the caller's), or -1
 * when there is none.
 * @param[in] via  borrowed for the call (xfrd/xfr/connector.h)
 */
int connpool_take(struct connpool *p, const struct sockaddr *sa, const struct connector_path *via);

/**
 * Keep @p fd, a connected TCP socket to @p sa reached by @p via, with nothing
 * pending in either direction; the pool owns it from now on (it closes it when it
 * cannot keep it).
 * @param[in] via  copied (source, proxy endpoint and user)
 */
void connpool_put(struct connpool *p, const struct sockaddr *sa, socklen_t salen,
                  const struct connector_path *via, int fd);

/**
 * As connpool_take(), for a path with TLS (via->tls): the socket and, in @p ssl, its
 * TLS session (both the caller's; NULL for a plain one).
 */
int connpool_take_tls(struct connpool *p, const struct sockaddr *sa,
                      const struct connector_path *via, struct ssl_st **ssl);

/** As connpool_put(), with the socket's TLS session @p ssl (taken too; NULL: plain). */
void connpool_put_tls(struct connpool *p, const struct sockaddr *sa, socklen_t salen,
                      const struct connector_path *via, int fd, struct ssl_st *ssl);

/** Idle sockets held; for tests and stats. */
size_t connpool_idle(const struct connpool *p);

/** Close every idle socket and free. NULL ok. */
void connpool_free(struct connpool *p);

#endif
