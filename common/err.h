/* SPDX-License-Identifier: MIT */
/* common/err.h -- the project's error codes.
 *
 * Every function that can fail returns int: 0 is success, a negative value is a
 * ZX_E* code. Codes are -errno values where one fits, plus our own range from
 * -1000. Each library's codes (MDB_*, rd_kafka_resp_err_t, ldns_status, OpenSSL)
 * are mapped to these once, at that library's boundary, never further in.
 *
 * Threading: everything here is pure and thread-safe.
 */
#ifndef ZX_COMMON_ERR_H
#define ZX_COMMON_ERR_H

#include <errno.h>

/** Put on every function whose result is an error code: ignoring it is a bug. */
#define ZX_MUSTCHECK __attribute__((warn_unused_result))

enum {
	ZX_OK = 0,
	ZX_ENOMEM = -ENOMEM,       /**< out of memory */
	ZX_EINVAL = -EINVAL,       /**< invalid argument (a caller's value, not network input) */
	ZX_ENOENT = -ENOENT,       /**< no such thing (file, zone, key) */
	ZX_EEXIST = -EEXIST,       /**< already exists */
	ZX_EAGAIN = -EAGAIN,       /**< not now; try again later */
	ZX_ETIMEDOUT = -ETIMEDOUT, /**< a timeout expired */
	ZX_ECONNREFUSED = -ECONNREFUSED, /**< the peer refused the connection */
	ZX_ECONNRESET = -ECONNRESET,     /**< the peer reset the connection */
	ZX_EIO = -EIO,             /**< an I/O or storage failure */
	ZX_ERANGE = -ERANGE,       /**< a value out of its allowed range */
	ZX_ENOSPC = -ENOSPC,       /**< the disk (filesystem) is full */

	ZX_EFORMAT = -1000, /**< malformed input (wire, config, text) */
	ZX_ETRUNC,          /**< input ended before a complete item */
	ZX_ELIMIT,          /**< a configured limit was reached (size, count, rate) */
	ZX_ENOTSIG,         /**< no TSIG record where one was looked for */
	ZX_ETSIG_BADKEY,    /**< TSIG: unknown key, or algorithm not the key's (RFC 8945 BADKEY) */
	ZX_ETSIG_BADSIG,    /**< TSIG: MAC does not verify (RFC 8945 BADSIG) */
	ZX_ETSIG_BADTIME,   /**< TSIG: time outside the fudge (RFC 8945 BADTIME) */
	ZX_ETSIG_BADTRUNC,  /**< TSIG: truncated MAC not allowed (RFC 8945 BADTRUNC) */
	ZX_ECONFIG,         /**< configuration error (details were reported with file:line) */
	ZX_EPROXY,          /**< PROXY protocol header bad, missing, or from an untrusted source */
	ZX_ERCODE,          /**< the peer answered with an error rcode */
	ZX_EXFR,            /**< a zone transfer broke the protocol (framing, SOA, question) */
	ZX_EDIFF,           /**< an IXFR diff does not apply to the zone we hold */
	ZX_EUPTODATE,       /**< nothing to do: we already hold that serial or newer */
	ZX_EKAFKA,          /**< Kafka failed (delivery, commit, metadata) */
	ZX_ESTORE,          /**< the LMDB store failed (truncated file, panic, version mismatch) */
	ZX_ENOTFOUND,       /**< a looked-up record or zone is not there */
	ZX_ESHUTDOWN,       /**< the component is shutting down */
	ZX_ECORRUPT,        /**< stored data does not match its checksum or does not decode */
	ZX_ESERIAL,         /**< a transfer's serial is not newer (RFC 1982) than the stored one */
	ZX_ESTOREFULL,      /**< the store's map is full (its configured size is reached) */
	ZX_ESOCKS,          /**< a SOCKS5 proxy broke the protocol (RFC 1928/1929) */
	ZX_ESOCKS_AUTH,     /**< a SOCKS5 proxy refused our credentials, or every method we offered */
	ZX_ESOCKS_REFUSED,  /**< a SOCKS5 proxy refused the request (its reply code says why) */
	ZX_ESOCKS_UNREACHABLE, /**< the SOCKS5 proxy could not reach the target (reply 3..6) */
	ZX_ETLS,            /**< TLS failed: handshake, protocol version, ALPN, or the session */
	ZX_ETLS_VERIFY,     /**< TLS: the peer's certificate did not verify (chain, name, expiry) */
	ZX_ETLS_PIN,        /**< TLS: the peer's public key matches none of the pins */
	ZX_ELAST            /**< not a code: one past the last */
};

/**
 * Text for an error code.
 * @param rc a ZX_E* code, 0, or any -errno value
 * @return a static string; never NULL ("unknown error" for anything else)
 */
const char *zx_strerror(int rc);

/**
 * Map a socket errno to our code, the one way every network module does it.
 * @param e an errno value (positive)
 * @return ZX_ECONNREFUSED; ZX_ECONNRESET (ECONNRESET, EPIPE); ZX_ETIMEDOUT;
 *         ZX_ENOMEM; ZX_EIO for anything else
 */
int zx_err_from_errno(int e);

#endif
