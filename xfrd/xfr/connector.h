/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/connector.h -- the egress step: turn a target (a primary) and an egress
 * path into something connected, on libevent.
 *
 * A path is a source address to bind (optional) and a SOCKS5 proxy (optional):
 *
 *   direct            socket, bind(source), connect(target)
 *   through a proxy   socket, bind(source), connect(proxy), greeting, RFC 1929
 *                     user/password when configured, then
 *                       STREAM: CONNECT target -> the socket now carries the target's bytes
 *                       DGRAM:  UDP ASSOCIATE -> a UDP socket connected to the proxy's
 *                               relay; each datagram starts with the header naming the
 *                               target (out->hdr), and the TCP connection (out->ctl_fd)
 *                               must stay open while the association is used
 *
 * What comes out is a plain fd, so whatever speaks DNS over it (xfrd/xfr/conn.h)
 * does not know how it was reached; a further transport (TLS, RFC 9103) is one more
 * step between the connected fd and the conn.
 *
 * The handshake reads exactly the bytes of each reply (proto/socks5.h), so nothing
 * of the target's stream is consumed. One deadline bounds the whole setup (the TCP
 * connect, to the target or the proxy, and the SOCKS5 exchange).
 *
 * Errors (the callback's @p rc, with struct connector_fail saying where):
 *   ZX_ECONNREFUSED, ZX_ECONNRESET, ZX_ETIMEDOUT, ZX_EIO  the TCP connection to the
 *       proxy (at_proxy) or to the target failed, or the proxy closed it mid-handshake
 *   ZX_ESOCKS            the proxy broke RFC 1928/1929 (at_proxy)
 *   ZX_ESOCKS_AUTH       the proxy refused our credentials or every method offered (at_proxy)
 *   ZX_ESOCKS_REFUSED    the proxy refused the request: rep = its reply code (1, 2, 7, 8,
 *                        unassigned) (at_proxy)
 *   ZX_ESOCKS_UNREACHABLE  the proxy could not reach the target: rep 3..6 (not at_proxy)
 *   ZX_ENOMEM
 *
 * Threading: a connector belongs to the thread running its event base.
 */
#ifndef ZX_XFRD_CONNECTOR_H
#define ZX_XFRD_CONNECTOR_H

#include "common/err.h"
#include "proto/socks5.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_endpoint;
struct cfg_proxy;
struct event;
struct event_base;
struct xot_client;

/** How a target is reached. Pointers borrowed; they must outlive the connector. */
struct connector_path {
	const struct cfg_endpoint *source; /**< bind to this (port 0: any); NULL or len 0: none */
	const struct cfg_proxy *proxy;     /**< SOCKS5 proxy; NULL: direct */
	const struct xot_client *tls;      /**< TLS on top (xfrd/xfr/xot.h), the caller's next
	                                        step; the connector ignores it, the connection
	                                        pool matches on it; NULL: plain */
};

enum connector_mode {
	CONNECTOR_STREAM = 1, /**< a TCP stream to the target */
	CONNECTOR_DGRAM,      /**< datagrams to the target (a UDP association through a proxy) */
};

/** What a successful setup hands over; every fd is the caller's. */
struct connector_out {
	int fd;          /**< STREAM: connected (through the proxy) to the target; DGRAM: a UDP
	                      socket connected to the target, or to the proxy's relay */
	int ctl_fd;      /**< DGRAM through a proxy: the association's TCP connection (close
	                      it when done: the proxy then ends the association); else -1 */
	size_t hdr_len;  /**< DGRAM through a proxy: prepend hdr to each datagram sent, and
	                      expect a header before each one received; else 0 */
	uint8_t hdr[SOCKS5_UDP_HDR_MAX];
};

/** Where a failed setup failed. */
struct connector_fail {
	bool at_proxy;    /**< the proxy is at fault (unreachable, protocol, auth, refused) */
	uint8_t rep;      /**< the proxy's reply code (ZX_ESOCKS_REFUSED / _UNREACHABLE), else 0 */
	const char *step; /**< "bind source" (the source is not this host's: ZX_EIO, never
	                       at_proxy), "connect", "proxy connect", "proxy greeting",
	                       "proxy auth", "proxy request" (static text) */
};

/**
 * Called once with the outcome: @p rc 0 and @p out filled (its fds now the
 * callback's), or an error and @p fail; both valid only during the call. The
 * connector is idle again when it is called (connector_cancel() is then a no-op,
 * connector_start() may start it again).
 */
typedef void (*connector_cb)(void *arg, int rc, const struct connector_out *out,
                             const struct connector_fail *fail);

struct connector {
	/* private */
	struct event *ev;
	int fd;
	int step;
	enum connector_mode mode;
	struct connector_path path;
	struct sockaddr_storage target;
	socklen_t target_len;
	uint64_t deadline_us;
	int rc;          /* a failure found while starting, reported from the loop */
	bool local;      /* that failure was ours (socket, bind to the source) */
	size_t have, need, out_len, out_off;
	connector_cb cb;
	void *arg;
	uint8_t buf[SOCKS5_AUTH_MAX > SOCKS5_REPLY_MAX ? SOCKS5_AUTH_MAX : SOCKS5_REPLY_MAX];
};

/** An idle connector. */
void connector_init(struct connector *c);

/**
 * Start reaching @p target by @p path. Returns at once; the outcome comes through
 * @p cb from the loop, never from within this call.
 * @param[in] c          idle (connector_init(), or after its callback); its memory must
 *                       stay put until the callback or connector_cancel()
 * @param[in] target     AF_INET or AF_INET6; copied
 * @param[in] path       copied (the pointers inside borrowed)
 * @param[in] timeout_ms the whole setup; 0: none
 * @return 0; ZX_EINVAL a bad family, or credentials RFC 1929 cannot carry;
 *         ZX_ENOMEM. On error nothing is open and @p cb is not called.
 */
ZX_MUSTCHECK int connector_start(struct connector *c, struct event_base *base,
                                 enum connector_mode mode, const struct sockaddr *target,
                                 socklen_t target_len, const struct connector_path *path,
                                 uint64_t timeout_ms, connector_cb cb, void *arg);

/** Stop a setup under way (its sockets closed, no callback). Idempotent. */
void connector_cancel(struct connector *c);

/** True while a setup is under way. */
bool connector_busy(const struct connector *c);

/**
 * A socket of @p type for @p family, non-blocking, bound to @p source when given
 * (port 0: the kernel picks the port at connect time, IP_BIND_ADDRESS_NO_PORT, so
 * a source address does not cap connections at one per local port).
 * @return the socket; ZX_EINVAL @p source is of another family; ZX_EIO the socket
 *         cannot be made, or the bind failed (the address is not this host's, or in use)
 */
ZX_MUSTCHECK int connector_socket(int family, int type, const struct cfg_endpoint *source);

#endif
