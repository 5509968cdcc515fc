/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xfr.h -- one refresh of one zone from one primary, on a libevent base.
 *
 * An xfr runs the whole exchange with one primary: the SOA query (UDP, then
 * TCP when the answer is truncated or lost; TSIG when a key is given), the
 * decision (transfer only when the primary's serial is newer by RFC 1982),
 * the IXFR from our serial, the fallback to AXFR, and the commit to the store.
 * It reports one struct xfr_result through its callback. The diagram of the
 * states is at the top of xfr.c.
 *
 * Not here: choosing the primary, retrying the next one, limits on concurrent
 * transfers, recording failures in the store (xfrd/engine does all that), and
 * parsing the answer stream (xfrd/xfrstream).
 *
 * The store is reached through struct xfr_store_ops so tests can put a fake
 * store in; xfrd/xfr/store.h has the one over common/zdb.
 *
 * Memory: one xfr is one allocation (about 200 KiB: the receive buffer and the
 * stream's record buffers); nothing is allocated per message or per record.
 *
 * Serials: a transfer whose result is not newer (RFC 1982) than the serial the
 * store holds is refused (ZX_ESERIAL), early when the answer's SOA shows it and
 * for good in the store's commit transaction; a retransfer (XFR_FORCE_AXFR) or a
 * zone found corrupt may store the same serial, only XFR_FORCE_OLDER an older one.
 *
 * Egress (p.source, p.proxy): every socket is bound to the source when one is given;
 * with a proxy, the SOA query goes by UDP ASSOCIATE (TCP through CONNECT when the
 * proxy does not offer UDP or the answer is lost) and the transfer by CONNECT; a
 * kept connection is reused only on the same path (xfrd/xfr/connpool.h). A failure
 * of the path is told apart from the primary's (struct xfr_result egress_fail) so
 * the engine can try the next proxy.
 *
 * XFR over TLS (p.tls, RFC 9103; xfrd/xfr/xot.h): every exchange with the primary goes
 * over TLS on the path above: the SOA query over TCP in TLS (never UDP), then the
 * transfer on the same connection (kept in the pool between the two and after), TSIG
 * inside when a key is given. A TLS failure names its check (struct xfr_result
 * tls_fail, detail) and fails the refresh; the zone stays as it was.
 *
 * Timeouts: an IXFR that the primary began answering but that did not finish in
 * time (reading, applying or committing) falls back to AXFR like any other IXFR
 * failure, with the whole-transfer timeout started again for it.
 *
 * Threading: an xfr belongs to the thread running its event base; its callback
 * runs on that thread. With a commitq in the params, the commit runs on a
 * commitq thread while the base goes on with other work; xfr_free() during that
 * commit waits for it to end.
 */
#ifndef ZX_XFRD_XFR_H
#define ZX_XFRD_XFR_H

#include "common/err.h"
#include "common/store/zdb.h"
#include "proto/xfrstream.h"
#include "xfrd/xfr/xot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_endpoint;
struct cfg_proxy;
struct commitq;
struct connpool;
struct event_base;
struct tsig_key;
struct xot_client;

/** What the store holds of a zone before the refresh. */
struct xfr_held {
	bool loaded;      /**< false: not held (first transfer is an AXFR) */
	bool corrupt;     /**< the stored version was found corrupt: AXFR it again, the same
	                       serial allowed (the store's CORRUPT event) */
	uint32_t serial;
	uint16_t soa_rdlen;
	uint8_t soa_rdata[ZDB_SOA_MAX];
};

/**
 * The store as an xfr sees it. Every function returns 0 or a ZX_E* code; the
 * zdb-backed one is store_ops in xfrd/xfr/store.h.
 */
struct xfr_store_ops {
	/** Our copy of @p zone: 0 and @p out filled (loaded may be false). */
	int (*zone_get)(void *store, const uint8_t *zone, struct xfr_held *out);
	/** Start writing: @p axfr a new version, else a diff; commit() then accepts the
	    serials @p rule allows (RFC 1982, against the serial stored at commit time, in
	    the commit's transaction). *txn owned until commit/abort. */
	int (*begin)(void *store, const uint8_t *zone, bool axfr, enum zdb_serial_rule rule,
	             void **txn);
	/** One stream event, in order (BEGIN_AXFR carries the SOA to store). */
	int (*put)(void *txn, enum xfrstream_ev ev, const struct xfrstream_rr *rr);
	/** Make it visible; @p txn is gone whatever the result (ZX_EDIFF: diff does not apply). */
	int (*commit)(void *txn, int64_t now, const char *primary, struct zdb_commit *res);
	/** Whether commit() may run on another thread than the put()s; NULL: always. */
	bool (*movable)(const void *txn);
	/** Drop what was written; @p txn is gone. */
	void (*abort)(void *txn);
	/** Record a failed refresh (the engine calls it once all primaries failed);
	    *after: the zone's state now (the store's state machine decides). */
	int (*fail)(void *store, const uint8_t *zone, int64_t now, int err, const char *text,
	            const char *primary, enum zdb_state *after);
	/** Record an SOA check that found nothing newer; *after as for fail. */
	int (*fresh)(void *store, const uint8_t *zone, int64_t now, enum zdb_state *after);
	/** XFR_FOLLOW: mark what begin() started as a follower's copy (its commit is then
	    FOLLOWED, not COMMITTED). NULL: the store knows no followers. */
	void (*set_follow)(void *txn);
	/** XFR_FOLLOW: record a check against the source replica that found nothing newer
	    (FOLLOWED); *after as for fail. NULL: fresh() is used. */
	int (*followed)(void *store, const uint8_t *zone, int64_t now, const char *source,
	                enum zdb_state *after);
	/** What the last failed call on this thread ran into, in the store's own words
	    ("mdb_put: MDB_MAP_FULL: ..."); valid until the next call on this thread.
	    NULL: the store has no such texts. */
	const char *(*error)(void);
};

/** Flags of struct xfr_params. */
#define XFR_FORCE_AXFR 0x1u  /**< skip the SOA check and IXFR: a full retransfer, which may
                                  store the serial already held */
#define XFR_FORCE_OLDER 0x2u /**< with XFR_FORCE_AXFR: an operator's forced retransfer,
                                  which may store a serial older than the one held (the
                                  caller logs it); without it, a result that is not newer
                                  (RFC 1982) is refused: ZX_ESERIAL */
#define XFR_FOLLOW 0x4u      /**< the "primary" is the replica that owns the zone: this copy
                                  is a follower's (the store records FOLLOWED, not COMMITTED
                                  or UPTODATE) */

struct xfr_params {
	const uint8_t *zone;              /**< wire name; copied */
	const struct sockaddr *primary;   /**< copied */
	socklen_t primary_len;
	const struct tsig_key *key;       /**< NULL: unsigned; borrowed, must outlive the xfr */
	uint64_t connect_ms;              /**< TCP connect */
	uint64_t read_ms;                 /**< each read */
	uint64_t soa_ms;                  /**< the UDP SOA try (then TCP) */
	uint64_t transfer_ms;             /**< the whole exchange with this primary */
	uint64_t max_records;             /**< zone size limits; 0 none */
	uint64_t max_bytes;
	unsigned flags;
	const struct xfr_store_ops *ops;  /**< borrowed */
	void *store;                      /**< borrowed */
	struct commitq *commitq;          /**< runs the commit off this base (xfrd/xfr/commitq.h);
	                                       NULL: commit on the base; borrowed */
	struct connpool *pool;            /**< IXFR/AXFR: idle connections of this base to take
	                                       and give back (xfrd/xfr/connpool.h); NULL: a new
	                                       connection each time; borrowed */
	const struct cfg_endpoint *source; /**< egress: bind every socket to this (port 0:
	                                       any); NULL or len 0: none; borrowed */
	const struct cfg_proxy *proxy;    /**< egress: every exchange through this SOCKS5
	                                       proxy (xfrd/xfr/connector.h): the SOA query by
	                                       UDP ASSOCIATE when it offers it, else by
	                                       CONNECT like the transfer; NULL: direct;
	                                       borrowed */
	const struct xot_client *tls;     /**< XFR over TLS with this context (xfrd/xfr/xot.h);
	                                       NULL: plain; borrowed */
	void (*released)(void *arg);      /**< NULL, or called on this base with xfr_start()'s
	                                       @p arg, at most once, when an AXFR's last message
	                                       is in and its commit starts: the connection is
	                                       given back and nothing after this talks to the
	                                       primary (an AXFR has no fallback), so the caller
	                                       may give the primary's slot to the next transfer
	                                       while the commit waits for its disk sync. The
	                                       done callback still follows. */
};

/** Whether a failure was the egress path's (the engine then tries the next proxy). */
enum xfr_egress {
	XFR_EGRESS_OK = 0,       /**< not the path's (or no failure) */
	XFR_EGRESS_PROXY,        /**< the proxy failed: unreachable, protocol, auth refused,
	                              request refused (socks_rep) */
	XFR_EGRESS_UNREACHABLE,  /**< the proxy could not reach the primary (reply 3..6:
	                              socks_rep), or the connection through it ended before
	                              the primary's first byte */
	XFR_EGRESS_LOST,         /**< the connection through the proxy broke mid-exchange
	                              (reset, closed, timed out) */
};

enum xfr_outcome {
	XFR_UPTODATE = 1, /**< the primary has nothing newer (SOA check or single-SOA IXFR) */
	XFR_AXFR,         /**< a full zone was stored */
	XFR_IXFR,         /**< a diff was applied */
	XFR_FAILED,       /**< nothing changed in the zone; error and why say what failed */
};

/** Room for struct xfr_result's detail. */
#define XFR_DETAIL_MAX 256

struct xfr_result {
	enum xfr_outcome outcome;
	int error;                 /**< XFR_FAILED: the ZX_E* code */
	const char *why;           /**< XFR_FAILED: short static text ("SOA query", ...) */
	char detail[XFR_DETAIL_MAX]; /**< XFR_FAILED: what the store said in its own words
	                                  (map full, disk full, malformed RDATA of owner and
	                                  type, serial not newer), or the record the stream
	                                  failed on; "" when there is nothing more to say */
	uint8_t rcode;             /**< when the primary answered an error rcode, or the
	                                header rcode of a reply whose TSIG failed (NOTAUTH
	                                with a TSIG error: error says which) */
	bool had_zone;             /**< we held the zone before */
	uint32_t old_serial;       /**< when had_zone */
	uint32_t primary_serial;   /**< the serial the primary announced (0 if unknown) */
	bool fell_back;            /**< an IXFR was tried and AXFR used instead */
	int fallback_error;        /**< when fell_back: why the IXFR was given up */
	bool conn_reused;          /**< the transfer ran on a kept connection (xfrd/xfr/connpool.h) */
	struct zdb_commit commit;  /**< XFR_AXFR / XFR_IXFR: what the store now holds */
	uint64_t added, deleted, changesets, messages, bytes;
	uint64_t duration_us;      /**< start to outcome, everything included */
	uint64_t soa_us;           /**< the SOA check (0 when skipped) */
	uint64_t commit_us;        /**< the store commit (0 when none) */
	enum zdb_state state;      /**< the zone's stored state after this outcome, as the
	                                store's state machine made it (set by the engine) */
	char primary[64];          /**< "addr@port" */
	char proxy[64];            /**< the SOCKS5 proxy used, "addr@port"; "" direct */
	enum xfr_egress egress_fail; /**< XFR_FAILED: whether the egress path failed */
	uint8_t socks_rep;         /**< the proxy's reply code, when it refused (or could
	                                not reach the primary) */
	bool soa_udp_proxy;        /**< the SOA answer came over the proxy's UDP relay */
	bool tls;                  /**< p.tls: the exchanges went over TLS */
	unsigned tls_handshakes;   /**< TLS handshakes this refresh made (0: every exchange
	                                rode a kept session) */
	struct xot_info tls_info;  /**< the last handshake's outcome (reason XOT_OK and
	                                resumed, notAfter; or the failed check) */
};

struct xfr;

/** Called once with the outcome; @p res valid only during the call. May xfr_free(). */
typedef void (*xfr_done_cb)(void *arg, struct xfr *x, const struct xfr_result *res);

/**
 * Start a refresh. Returns at once; the outcome comes through @p cb, never from
 * within this call.
 * @param[in]  base the event base that runs it; borrowed
 * @param[in]  p    copied (pointers inside as documented there)
 * @param[out] out  the xfr, owned by the caller (xfr_free()); untouched on error
 * @return 0; ZX_EINVAL bad zone name or primary; ZX_ENOMEM
 */
ZX_MUSTCHECK int xfr_start(struct event_base *base, const struct xfr_params *p, xfr_done_cb cb,
                           void *arg, struct xfr **out);

/**
 * Stop (aborting whatever was written) and free. The callback is not called. A
 * commit already handed to the commitq is waited for and stands. NULL ok.
 */
void xfr_free(struct xfr *x);

/** "uptodate", "axfr", "ixfr", "failed". */
const char *xfr_outcome_str(enum xfr_outcome o);

#endif
