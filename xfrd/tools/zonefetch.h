/* SPDX-License-Identifier: MIT */
/* xfrd/tools/zonefetch.h -- bring a zonecopy up to date: by IXFR (AXFR fallback) from
 * xfrd's DNS endpoint, or from xfrd's LMDB store on the same machine. Part of
 * zx-follow (xfrd/tools/zonefollow.c).
 *
 * DNS: one TCP connection per fetch, blocking with timeouts (connect, each
 * read, the whole transfer). The zone held is asked for by IXFR from its serial
 * (RFC 1995; our SOA in the authority section), a zone not held by AXFR. The
 * answer is checked by proto/xfrstream.h and applied with zonecopy_apply(); an
 * AXFR-style answer replaces the copy. When the IXFR is refused (any error
 * rcode), breaks the protocol, or does not apply to the copy (ZX_EDIFF), the
 * zone is fetched again by AXFR on a new connection. TSIG (RFC 8945) on the
 * query and every answer message when a key is given.
 *
 * Store: a read-only snapshot of the store; the changes since the copy's serial
 * from the journal (zdb_iter_journal()), or the whole zone (zdb_iter_zone())
 * when the journal does not reach back, fed to zonecopy_apply() as the same
 * events.
 *
 * Threading: blocking calls; one thread per struct zonefetch_src at a time.
 */
#ifndef ZX_XFRD_ZONEFETCH_H
#define ZX_XFRD_ZONEFETCH_H

#include "common/err.h"
#include "xfrd/tools/zonecopy.h"

#include <stdint.h>
#include <sys/socket.h>

struct tsig_key;
struct zdb;

/** Where a zone comes from: a DNS endpoint (store == NULL) or a store. */
struct zonefetch_src {
	struct sockaddr_storage addr; /**< xfrd's DNS endpoint */
	socklen_t addr_len;
	const struct tsig_key *key;   /**< TSIG for the queries; NULL none; borrowed */
	uint32_t timeout_ms;          /**< connect, and each read; the whole transfer gets 20x */
	struct zdb *store;            /**< read from this store instead; borrowed */
};

/** What a fetch did. */
struct zonefetch_result {
	const char *method; /**< "ixfr", "axfr", "none" (up to date); static */
	uint32_t from;      /**< the serial held before (0 when none) */
	uint32_t to;        /**< the serial held after */
	uint64_t changes;   /**< records deleted + added (IXFR) or received (AXFR) */
	uint64_t bytes;     /**< DNS: message bytes received; store: 0 */
	const char *why;    /**< on error: a short reason for the log line; static */
	char detail[256];   /**< on a store error: the store's own words (a corrupt
	                         zone: zone, version, expected and got); "" otherwise */
};

/**
 * Update @p c from @p src, and on a change leave the new zone in @p c (the
 * caller writes the file).
 * @param[in,out] c    the copy; unchanged on error
 * @param[in]     src  borrowed
 * @param[out]    res  filled on 0 and on error (why)
 * @return 0 (res->method "none" when nothing was newer); ZX_ECONNREFUSED,
 *         ZX_ETIMEDOUT, ZX_ECONNRESET, ZX_EIO the endpoint could not be reached or
 *         the connection broke; ZX_ERCODE the AXFR was refused (NOTAUTH: the
 *         endpoint does not hold the zone; REFUSED: ACL or TSIG);
 *         ZX_EXFR / ZX_EFORMAT / ZX_ETRUNC a broken answer; ZX_ETSIG_* the
 *         answer's TSIG failed; ZX_ENOTFOUND (store) the zone is not in the store
 *         or has no data; ZX_ECORRUPT (store) the zone read does not match its
 *         record count or checksum (res->detail says how); ZX_ESTORE the store
 *         failed; ZX_ENOMEM
 */
ZX_MUSTCHECK int zonefetch(struct zonecopy *c, const struct zonefetch_src *src,
                           struct zonefetch_result *res);

#endif
