/* SPDX-License-Identifier: MIT */
/* notifyd/listener.h -- DNS sockets (UDP and TCP, IPv4 and IPv6) and PROXY protocol.
 *
 * The listener owns the sockets of notifyd's event loop. It reads datagrams
 * (recvmmsg batches) and TCP streams (2-byte length framing), strips and checks
 * PROXY headers, and hands each DNS message with its real source to one
 * callback. It knows nothing of NOTIFY: the callback decides, and answers at
 * once or later (after the Kafka delivery report) through a listener_dest.
 *
 * PROXY protocol (proto/proxy.h): a message from a peer inside the trusted
 * networks must start with a PROXY header (v1 or v2 on TCP, once per
 * connection; v2 on UDP, in every datagram); the real source is taken from it
 * (LOCAL/UNKNOWN: the peer itself). From any other peer a PROXY header is
 * refused. Everything dropped is counted by reason (enum listener_drop).
 *
 * TCP: at most cfg tcp_max_connections at once, and at most tcp_max_per_source
 * from one source (more are accepted and closed at once, counted: tcp_limit,
 * tcp_source_limit), so one client cannot take every connection. A source is
 * its network as the per-source rate limit groups it (rate-limit.ipv4-prefix,
 * ipv6-prefix: /32, /64); behind a trusted proxy it is the real source from the
 * PROXY header, counted once the header is read (the proxy itself is not
 * limited per source). A connection with no complete message for idle-timeout
 * is closed; a message (or PROXY header) that has started must complete within
 * message-timeout. A connection with replies still owed (waiting for Kafka) is
 * kept until they are sent or given up; listener_close_after() closes one once
 * that is done.
 *
 * Threading: everything runs on the one event loop thread.
 */
#ifndef ZX_NOTIFYD_LISTENER_H
#define ZX_NOTIFYD_LISTENER_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct event_base;
struct cfg;
struct listener;
struct listener_conn;

enum listener_transport { LISTENER_UDP = 0, LISTENER_TCP = 1 };

/** Why a message or connection was dropped before any DNS processing. */
enum listener_drop {
	LISTENER_DROP_PROXY_UNTRUSTED = 0, /**< PROXY header from a peer not in proxy.trusted */
	LISTENER_DROP_PROXY_MISSING,       /**< no PROXY header from a trusted peer */
	LISTENER_DROP_PROXY_TRUNCATED,     /**< datagram ends inside the header */
	LISTENER_DROP_PROXY_MALFORMED,     /**< header malformed (proxy_parse() ZX_EFORMAT) */
	LISTENER_DROP_PROXY_INCONSISTENT,  /**< v1 on UDP, or transport not the socket's */
	LISTENER_DROP_TCP_LIMIT,           /**< connection over tcp max-connections */
	LISTENER_DROP_TCP_IDLE,            /**< connection idle past idle-timeout */
	LISTENER_DROP_TCP_SLOW,            /**< message not complete within message-timeout */
	LISTENER_DROP_TCP_SHORT,           /**< a length prefix below a DNS header */
	LISTENER_DROP_TCP_SOURCE,          /**< connection over tcp max-per-source */
	LISTENER_DROP_COUNT
};

/** Snake-case name of @p d ("proxy_untrusted", ...); "unknown" outside the enum. */
const char *listener_drop_name(enum listener_drop d);

/** Where a reply goes: a plain value, copied freely; see listener_dest_hold(). */
struct listener_dest {
	int fd;                          /**< UDP socket; -1 for TCP */
	struct sockaddr_storage peer;    /**< UDP: the datagram's sender (the proxy, if any) */
	socklen_t peer_len;
	/** UDP: the address the datagram was sent to (IP_PKTINFO / IPV6_PKTINFO), so an
	 * answer from a wildcard socket leaves from the address that was asked */
	struct in6_pktinfo local6;
	struct in_pktinfo local4;
	int local_family;                /**< AF_INET, AF_INET6, or 0 when unknown */
	struct listener_conn *conn;      /**< TCP connection; NULL for UDP */
};

/** One received DNS message, valid during the callback only. */
struct listener_msg {
	const uint8_t *msg;          /**< the DNS message, PROXY header and TCP length removed */
	size_t len;
	const struct sockaddr *src;  /**< the real source */
	const struct sockaddr *peer; /**< the socket peer (the proxy when via_proxy) */
	bool via_proxy;              /**< a PROXY header (not LOCAL) gave @ref src */
	enum listener_transport transport;
	struct listener_dest dest;   /**< answer here (now, or later after listener_dest_hold()) */
};

typedef void (*listener_msg_cb)(const struct listener_msg *m, void *arg);
typedef void (*listener_drop_cb)(enum listener_drop d, const struct sockaddr *peer, void *arg);

/**
 * Open every configured endpoint for UDP and TCP on @p base.
 * @param cfg     notifyd.listen, proxy.trusted and the TCP limits; borrowed until
 *                listener_set_cfg() replaces it or listener_free()
 * @param on_msg  called for each DNS message; @p arg passed through
 * @param on_drop called for each drop; may be NULL
 * @param[out] out  returned owned (listener_free()); untouched on error
 * @param[out] err  on error: which endpoint and why
 * @return 0; ZX_EINVAL no endpoint; ZX_EIO a socket could not be opened or
 *         bound (address in use, permission); ZX_ENOMEM
 */
ZX_MUSTCHECK int listener_new(struct event_base *base, const struct cfg *cfg,
                              listener_msg_cb on_msg, listener_drop_cb on_drop, void *arg,
                              struct listener **out, char *err, size_t errlen);

/** Close every socket and connection. NULL is ok. Held dests must be released first. */
void listener_free(struct listener *l);

/** Stop reading: UDP events and TCP accepts are removed (open connections stay
 * for the answers they are owed). Used when draining at shutdown. */
void listener_pause(struct listener *l);

/** Use @p cfg (trusted proxies, TCP limits) from now on; the sockets stay as they are. */
void listener_set_cfg(struct listener *l, const struct cfg *cfg);

/** Keep @p d usable after the callback returns (a TCP connection stays allocated). */
void listener_dest_hold(struct listener_dest *d);

/** Done with a held @p d (after sending or giving up). */
void listener_dest_release(struct listener_dest *d);

/**
 * Read no more from the TCP connection of @p d (nothing for UDP) and close it
 * once what was written to it has gone out and no held dest still owes it an
 * answer; a reader that does not take its answers within idle-timeout is cut.
 * For a client whose request was refused: it keeps no connection slot.
 * Call it from the message callback (after listener_send() of the answer).
 */
void listener_close_after(struct listener *l, const struct listener_dest *d);

/**
 * Send a reply. TCP: appended to the connection's output. UDP: queued, and all
 * answers queued while one callback runs go out together (sendmmsg) right after
 * it, in the same loop iteration; a full socket buffer then loses them, as UDP may.
 * @return 0 sent or queued; ZX_ECONNRESET the TCP connection is gone; ZX_EIO
 *         the TCP output could not grow, or a datagram above 4096 bytes
 */
ZX_MUSTCHECK int listener_send(struct listener *l, const struct listener_dest *d,
                               const uint8_t *buf, size_t len);

/** Open TCP connections. */
size_t listener_tcp_count(const struct listener *l);

/** The ports actually bound (for endpoints given with port 0), in listen order; UDP. */
uint16_t listener_port(const struct listener *l, size_t i);

#endif
