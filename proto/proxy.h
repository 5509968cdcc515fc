/* SPDX-License-Identifier: MIT */
/* proto/proxy.h -- PROXY protocol v1 (text) and v2 (binary) codec.
 *
 * An L4 proxy (haproxy send-proxy / send-proxy-v2, dnsdist useProxyProtocol)
 * puts a PROXY header in front of the bytes it forwards: once at the start of a
 * TCP connection, or at the front of every UDP datagram (v2 only). The header
 * names the real client (source) and the address it connected to
 * (destination). This module reads and writes those headers; it does not
 * decide whom to trust (the listener checks the sender against proxy.trusted
 * before calling proxy_parse(), and requires a header from trusted senders).
 *
 * Spec: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt
 *
 * What is accepted:
 *  - v1: "PROXY TCP4|TCP6 src dst sport dport\r\n" (addresses must match the
 *    family, ports 0..65535 without leading zeros) and "PROXY UNKNOWN...\r\n";
 *    at most PROXY_V1_MAXLEN bytes including CRLF.
 *  - v2: version 2, command LOCAL or PROXY; families UNSPEC, INET, INET6 (UNIX
 *    with PROXY is rejected: it names no network source); transport UNSPEC,
 *    STREAM or DGRAM. The TLVs after the addresses must tile the rest of the
 *    header exactly; a PP2_TYPE_CRC32C TLV, when present, must match.
 *  - LOCAL (v2) and UNKNOWN (v1) carry no usable address: @ref proxy_hdr.local
 *    is set and the caller uses the connection's own endpoints (health checks).
 *
 * Threading: pure functions.
 */
#ifndef ZX_PROTO_PROXY_H
#define ZX_PROTO_PROXY_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** Longest v1 header, "PROXY" to CRLF included (spec section 2.1). */
#define PROXY_V1_MAXLEN 107
/** Fixed part of a v2 header: signature, version/command, family, length. */
#define PROXY_V2_FIXLEN 16
/** Bytes that tell v1 and v2 apart (and from DNS): enough for proxy_parse() to say ZX_EPROXY. */
#define PROXY_SIG_PEEK 12

/* v2 TLV types (spec section 2.2.7). */
#define PROXY_TLV_ALPN 0x01
#define PROXY_TLV_AUTHORITY 0x02
#define PROXY_TLV_CRC32C 0x03
#define PROXY_TLV_NOOP 0x04
#define PROXY_TLV_UNIQUE_ID 0x05
#define PROXY_TLV_SSL 0x20
#define PROXY_TLV_NETNS 0x30

/** The transport the proxy says it forwarded (v2 low nibble of the family byte). */
enum proxy_transport {
	PROXY_TRANSPORT_UNSPEC = 0,
	PROXY_TRANSPORT_STREAM = 1,
	PROXY_TRANSPORT_DGRAM = 2,
};

/** A decoded header. The TLV pointer borrows from the parsed buffer. */
struct proxy_hdr {
	int version;   /**< 1 or 2 */
	bool local;    /**< v2 LOCAL or v1 UNKNOWN (or v2 UNSPEC family): no addresses */
	enum proxy_transport transport; /**< v1: STREAM; v2: as sent */
	struct sockaddr_storage src;    /**< the real client; AF_UNSPEC when @ref local */
	struct sockaddr_storage dst;    /**< where the client connected; AF_UNSPEC when local */
	const uint8_t *tlv;  /**< v2: TLV bytes after the addresses (borrowed), else NULL */
	size_t tlv_len;      /**< bytes at @ref tlv */
	size_t len;          /**< header length: where the payload starts */
};

/** One v2 TLV, as a view into the header. */
struct proxy_tlv {
	uint8_t type;
	uint16_t len;
	const uint8_t *value; /**< borrowed from the parsed buffer */
};

/**
 * Decode the PROXY header at the start of @p buf.
 * @param[in]  buf  received bytes, borrowed (out->tlv points into it)
 * @param[in]  len  bytes at @p buf
 * @param[out] out  the header; untouched unless 0 is returned
 * @return 0 (out->len bytes are the header, the payload follows);
 *         ZX_EPROXY  @p buf does not start with a v1 or v2 signature (decided
 *                    from the first min(len, PROXY_SIG_PEEK) bytes);
 *         ZX_ETRUNC  a header starts but is incomplete: on TCP read more, on UDP
 *                    drop (also for a v1 line longer than PROXY_V1_MAXLEN
 *                    without CRLF: ZX_EFORMAT once PROXY_V1_MAXLEN bytes are in);
 *         ZX_EFORMAT the header is malformed or inconsistent (bad version,
 *                    command, family, address length, address text, port, TLV
 *                    framing, CRC32C mismatch, UNIX family with PROXY).
 */
ZX_MUSTCHECK int proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *out);

/**
 * Iterate the TLVs of a parsed v2 header.
 * @param[in]     hdr  from proxy_parse(), borrowed
 * @param[in,out] pos  0 to start; moved past each TLV returned
 * @param[out]    tlv  the next TLV; untouched unless 1 is returned
 * @return 1 a TLV was returned; 0 no more TLVs (proxy_parse() already checked
 *         the framing, so there is no error case)
 */
int proxy_tlv_next(const struct proxy_hdr *hdr, size_t *pos, struct proxy_tlv *tlv);

/**
 * Write a v1 header ("PROXY TCP4 ...\r\n") for @p src -> @p dst, or "PROXY
 * UNKNOWN\r\n" when either is NULL.
 * @param src, dst  borrowed; same family, AF_INET or AF_INET6
 * @param[out] buf  room for @p size bytes (PROXY_V1_MAXLEN always suffices)
 * @return bytes written (> 0); ZX_EINVAL families differ or are not IP;
 *         ZX_ELIMIT @p size too small
 */
ZX_MUSTCHECK int proxy_write_v1(const struct sockaddr *src, const struct sockaddr *dst,
                                uint8_t *buf, size_t size);

/**
 * Write a v2 header. With @p src and @p dst NULL it writes a LOCAL header
 * (family UNSPEC); otherwise PROXY with the addresses' family. The @p tlv bytes
 * (already framed as type, length, value) are appended verbatim; with
 * @p crc32c true a CRC32C TLV is added last and filled in.
 * @param src, dst   borrowed; both NULL, or both AF_INET or both AF_INET6
 * @param transport  goes into the low nibble of the family byte
 * @param tlv        borrowed, may be NULL when @p tlv_len is 0
 * @param[out] buf   room for @p size bytes
 * @return bytes written (> 0); ZX_EINVAL families differ or are not IP, or
 *         only one of @p src / @p dst is NULL; ZX_ELIMIT @p size too small or
 *         the header would exceed 65535 + 16 bytes
 */
ZX_MUSTCHECK int proxy_write_v2(const struct sockaddr *src, const struct sockaddr *dst,
                                enum proxy_transport transport, const uint8_t *tlv,
                                size_t tlv_len, bool crc32c, uint8_t *buf, size_t size);

/**
 * CRC32C (Castagnoli), as the PP2_TYPE_CRC32C TLV uses it.
 * @param crc  0 to start, or a previous result to continue
 */
uint32_t proxy_crc32c(uint32_t crc, const uint8_t *buf, size_t len);

#endif
