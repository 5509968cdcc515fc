/* SPDX-License-Identifier: MIT */
/* proto/socks5.h -- the SOCKS5 client's wire format (RFC 1928) with username/password
 * authentication (RFC 1929): build what a client sends, parse what a proxy answers.
 *
 * A client speaks in this order on one TCP connection to the proxy:
 *
 *   greeting (methods we offer)      -> method selection (the proxy picks one)
 *   [RFC 1929 user/password request  -> its status]            when it picked 0x02
 *   request (CONNECT or UDP ASSOCIATE, the target's address) -> reply (code, bound address)
 *
 * then, after a CONNECT, the connection carries the target's bytes; after a UDP
 * ASSOCIATE it stays open while the association lives, and every datagram to the
 * relay (the reply's bound address) carries a header naming the target
 * (socks5_udp_hdr(), socks5_udp_parse()).
 *
 * Parsers take what has been read so far: ZX_ETRUNC means "not complete yet" and
 * says (through @p need where there is one) how many bytes the whole item takes,
 * so a non-blocking caller reads exactly that much and never past the reply into
 * the target's bytes. Addresses are IPv4 and IPv6 only; a reply naming a domain
 * (ATYP 3) is parsed (its length known) but gives no address (AF_UNSPEC).
 *
 * Not here: sockets, timeouts, failover (xfrd/xfr/connector.h does them).
 * Threading: pure functions.
 */
#ifndef ZX_PROTO_SOCKS5_H
#define ZX_PROTO_SOCKS5_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SOCKS5_VERSION 5
#define SOCKS5_AUTH_VERSION 1 /**< RFC 1929's sub-negotiation version */

/* Methods (RFC 1928 section 3). */
#define SOCKS5_METHOD_NONE 0x00
#define SOCKS5_METHOD_USERPASS 0x02
#define SOCKS5_METHOD_NOACCEPT 0xff

/* Commands (section 4). */
#define SOCKS5_CMD_CONNECT 0x01
#define SOCKS5_CMD_UDP_ASSOCIATE 0x03

/* Address types. */
#define SOCKS5_ATYP_IPV4 0x01
#define SOCKS5_ATYP_DOMAIN 0x03
#define SOCKS5_ATYP_IPV6 0x04

/* Reply codes (section 6). */
#define SOCKS5_REP_OK 0x00
#define SOCKS5_REP_FAILURE 0x01      /**< general SOCKS server failure */
#define SOCKS5_REP_NOT_ALLOWED 0x02  /**< connection not allowed by ruleset */
#define SOCKS5_REP_NET_UNREACH 0x03
#define SOCKS5_REP_HOST_UNREACH 0x04
#define SOCKS5_REP_CONN_REFUSED 0x05
#define SOCKS5_REP_TTL_EXPIRED 0x06
#define SOCKS5_REP_CMD_UNSUPPORTED 0x07
#define SOCKS5_REP_ATYP_UNSUPPORTED 0x08

/** Longest greeting we send: version, count, two methods. */
#define SOCKS5_GREETING_MAX 4
/** Longest RFC 1929 request: version, ulen, 255, plen, 255. */
#define SOCKS5_AUTH_MAX 513
/** Longest request we send (IPv6 target) and longest IP reply. */
#define SOCKS5_REQ_MAX 22
/** Longest reply of any address type (a 255-byte domain). */
#define SOCKS5_REPLY_MAX 262
/** Longest UDP header we build (IPv6 target). */
#define SOCKS5_UDP_HDR_MAX 22
/** RFC 1929: user name and password are 1..255 bytes. */
#define SOCKS5_CRED_MAX 255

/**
 * The greeting: SOCKS5 and the methods we accept (no authentication; with
 * @p userpass also username/password).
 * @param[out] buf  at least SOCKS5_GREETING_MAX bytes
 * @return the length written (3 or 4)
 */
size_t socks5_greeting(uint8_t *buf, bool userpass);

/**
 * The proxy's method selection (2 bytes).
 * @param[out] method on 0, the method picked: SOCKS5_METHOD_NONE, or
 *                    SOCKS5_METHOD_USERPASS when @p userpass; untouched otherwise
 * @return 0; ZX_ETRUNC fewer than 2 bytes; ZX_ESOCKS not version 5, or a method we
 *         did not offer; ZX_ESOCKS_AUTH the proxy accepts none of our methods (0xff)
 */
ZX_MUSTCHECK int socks5_method_parse(const uint8_t *buf, size_t len, bool userpass,
                                     uint8_t *method);

/**
 * The RFC 1929 username/password request.
 * @param[out] buf  at least SOCKS5_AUTH_MAX bytes
 * @param[in]  user, pass  NUL-terminated; borrowed
 * @param[out] len  on 0, the length written; untouched otherwise
 * @return 0; ZX_EINVAL @p user or @p pass empty or longer than SOCKS5_CRED_MAX
 */
ZX_MUSTCHECK int socks5_auth_request(uint8_t *buf, const char *user, const char *pass,
                                     size_t *len);

/**
 * The RFC 1929 status reply (2 bytes: version 1, status 0 = success).
 * @return 0 accepted; ZX_ETRUNC fewer than 2 bytes; ZX_ESOCKS not version 1;
 *         ZX_ESOCKS_AUTH any other status (the credentials were refused)
 */
ZX_MUSTCHECK int socks5_auth_parse(const uint8_t *buf, size_t len);

/**
 * A request: @p cmd (SOCKS5_CMD_CONNECT or SOCKS5_CMD_UDP_ASSOCIATE) for @p dst.
 * For UDP ASSOCIATE @p dst is the address and port we will send datagrams from
 * (0.0.0.0 or :: and port 0 when not known).
 * @param[out] buf  at least SOCKS5_REQ_MAX bytes
 * @param[in]  dst  AF_INET or AF_INET6; borrowed
 * @param[out] len  on 0, the length written (10 or 22); untouched otherwise
 * @return 0; ZX_EINVAL another family or command
 */
ZX_MUSTCHECK int socks5_request(uint8_t *buf, uint8_t cmd, const struct sockaddr *dst,
                                size_t *len);

/** A parsed reply to a request. */
struct socks5_reply {
	uint8_t rep;                  /**< reply code; SOCKS5_REP_OK is success */
	uint8_t atyp;                 /**< the bound address's type */
	struct sockaddr_storage bnd;  /**< bound address and port (AF_UNSPEC for a domain) */
	size_t len;                   /**< bytes of the reply */
};

/**
 * Parse a reply from the first @p len bytes read.
 * @param[out] out  on 0 the whole reply; on ZX_ETRUNC only @p need is meaningful
 * @param[out] need on 0 and ZX_ETRUNC: the bytes the whole reply takes, as far as
 *                  known from @p len bytes (at least @p len + 1 on ZX_ETRUNC, at most
 *                  SOCKS5_REPLY_MAX); untouched on ZX_ESOCKS
 * @return 0 parsed (whatever the reply code: the caller reads out->rep);
 *         ZX_ETRUNC more bytes are needed; ZX_ESOCKS not version 5, reserved byte not
 *         0, an unknown address type, or an empty domain
 */
ZX_MUSTCHECK int socks5_reply_parse(const uint8_t *buf, size_t len, struct socks5_reply *out,
                                    size_t *need);

/**
 * The error code a reply code stands for.
 * @return 0 for SOCKS5_REP_OK; ZX_ESOCKS_UNREACHABLE for 3..6 (network or host
 *         unreachable, connection refused, TTL expired: the target's side);
 *         ZX_ESOCKS_REFUSED for every other code (the proxy's side)
 */
int socks5_rep_error(uint8_t rep);

/** Short text of a reply code ("host unreachable"); "unassigned" for others. */
const char *socks5_rep_str(uint8_t rep);

/**
 * The header that starts each datagram to a UDP relay (RSV, FRAG 0, the target).
 * @param[out] buf  at least SOCKS5_UDP_HDR_MAX bytes
 * @param[out] len  on 0, the length written (10 or 22); untouched otherwise
 * @return 0; ZX_EINVAL @p dst is not AF_INET or AF_INET6
 */
ZX_MUSTCHECK int socks5_udp_hdr(uint8_t *buf, const struct sockaddr *dst, size_t *len);

/**
 * The header of a datagram from a UDP relay.
 * @param[out] from   on 0, who sent the payload (AF_UNSPEC for a domain); untouched otherwise
 * @param[out] hdrlen on 0, where the payload starts; untouched otherwise
 * @return 0; ZX_ETRUNC shorter than its header; ZX_ESOCKS reserved bytes not 0, a
 *         fragment (FRAG != 0: not supported, RFC 1928 section 7 lets us drop it),
 *         an unknown address type or an empty domain
 */
ZX_MUSTCHECK int socks5_udp_parse(const uint8_t *buf, size_t len, struct sockaddr_storage *from,
                                  size_t *hdrlen);

#endif
