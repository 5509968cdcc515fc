/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve.h -- xfrd's DNS endpoint: any name and type, AXFR and IXFR of the zones
 * in the store.
 *
 * What it is: the authoritative server of what xfrd holds, so an admin can `kdig
 * @host -p PORT www.zone A` or `AXFR zone` and compare with the primary, and a zone
 * builder or a downstream secondary (knotd, BIND) can follow with IXFR.
 *   - SOA at an apex over UDP and TCP (authoritative answer, AA set).
 *   - Any other name and type of a stored zone (serve_answer.c, from the store's
 *     point lookups, zdb_view_* in common/store/zdb.h: one seek per label of the
 *     name below the apex), as an authoritative server answers (RFC 1034 4.3.2;
 *     where the RFCs leave a choice, Knot DNS 3.2's, which
 *     tests/integration/serve/dig.sh compares answer by answer): the RRset with AA;
 *     NODATA (NOERROR) or NXDOMAIN with the SOA in authority at the negative TTL
 *     (RFC 2308, min of its TTL and MINIMUM), an empty non-terminal NODATA;
 *     wildcards (RFC 4592); a CNAME followed within the zone, at most 5, no name
 *     twice, the rcode that of the last name (RFC 6604); at or below a zone cut a
 *     referral (NS in authority, AA clear, addresses of its in-zone name servers in
 *     additional), DS at the cut itself answered from the zone (the parent side);
 *     A/AAAA of in-zone NS, MX and SRV targets in additional (the target's own or
 *     its wildcard's, below cuts too, as Knot); ANY: one RRset of the name (RFC 8482
 *     minimal answer, as Knot): the first in type order, the SOA at an apex. Over
 *     UDP additional addresses that do not fit are left out (whole RRsets); an
 *     answer or authority section, or a referral's in-bailiwick glue, that does not
 *     fit truncates the answer to its question with TC.
 *   - AXFR over TCP (RFC 5936), streamed from one zone version: the SOA, every
 *     RR in canonical order, the SOA again, in messages of about
 *     serve_opts.msg_target bytes; memory stays bounded by one message whatever
 *     the zone size. AXFR over UDP: NOTIMP.
 *   - IXFR (RFC 1995) from the journal: client's serial (the SOA in the query's
 *     authority section) equal to or newer than ours: a single SOA; the journal
 *     reaches back: incremental (new SOA, per changeset old SOA, deletions, new
 *     SOA, additions, new SOA); otherwise an AXFR-style answer. Over UDP the
 *     answer is always the single current SOA (RFC 1995 4: "use TCP").
 *   - Access per zone: the zone's `serve` (or xfrd.serve for a zone in the
 *     store but not in the config): a source outside `allow` gets REFUSED; when
 *     `keys` is not empty the query must be TSIG-signed with one of them, else
 *     REFUSED (signed with the request's key when it verified); with `require-tls:
 *     yes` an AXFR/IXFR that did not come over TLS is REFUSED (reason=tls), with
 *     `client-cert` one without a verified client certificate too (client_cert).
 *     A query that verified with xfrd.peer-key (another replica following this
 *     one) passes.
 *   - XFR over TLS (RFC 9103): xfrd.serve.tls listeners (TLS 1.3, ALPN "dot"), the
 *     same answers as over TCP inside the TLS session; the certificate and key are
 *     loaded at serve_start() and again by serve_tls_reload() (SIGHUP): connections
 *     open keep their session, new ones get the new certificate; a client
 *     certificate is asked for and checked against ca-file when one is set (a client
 *     without one, or with one that does not verify, still gets TLS: the zone's
 *     require-tls decides). Metrics: xfrd_serve_tls_handshake_failures_total,
 *     xfrd_serve_tls_reloads_total{outcome}.
 *   - TSIG (RFC 8945) against every key of the config: unknown key or algorithm
 *     NOTAUTH/BADKEY, bad MAC NOTAUTH/BADSIG, clock skew NOTAUTH/BADTIME; a
 *     verified request gets signed answers, every message of a transfer signed.
 *   - NOTAUTH for a zone not in the store, to a source the policy lets in (the
 *     zone's `serve` when the config names it, else xfrd.serve); REFUSED to any
 *     other source, as for a zone in the store, so that an outsider cannot tell
 *     which zones we hold. SERVFAIL for a zone in the store that has no data yet
 *     (first transfer failed), has expired, or was found corrupt, and for a query
 *     whose lookup met a store error (logged serve_store_error); FORMERR for a
 *     malformed query; NOTIMP for an opcode other than QUERY and for meta types;
 *     EDNS(0) echoed (our payload size serve_opts.udp_size), version > 0 BADVERS.
 *   - Messages without a readable header and responses (QR set) are dropped.
 *
 * Transfers out (AXFR, and IXFR answered with more than one SOA) are limited:
 * at most serve_opts.xfr_max at once, at most xfr_per_source from one source
 * (IPv4 /32, IPv6 /64); more get REFUSED at once (log serve_denied
 * reason=busy|busy_source, metric xfrd_serve_transfers_refused_total). REFUSED
 * rather than a queue: a secondary retries by its own SOA timers, as it does
 * with BIND's transfers-out; a queue would keep connections and memory for
 * clients that may never be served, and a hostile one could fill it.
 *
 * Store snapshots: a transfer reads its zone version through a snapshot (one
 * LMDB reader slot; pages freed meanwhile are not reused, so a held snapshot
 * makes the store grow with every transfer committed while it is held). It
 * keeps one only while it produces messages for a client that keeps up:
 * serve_reply_pause() (the network side calls it once a client has left the
 * output full for serve_opts.snapshot_hold_ms) lets go of it, and the next
 * serve_reply_next() takes a new one and goes on after the last RR sent, from
 * the same version (common/store/zdb.h, detached iterators: the version is pinned
 * in this process, so an AXFR that replaces it meanwhile does not delete it).
 * Nor is a snapshot kept longer than serve_opts.snapshot_max_ms. If the version
 * cannot be read on (an IXFR changed it in place, or the zone was removed), the
 * transfer ends as failed (the client retries and gets the new version) rather
 * than mixing two serials. On a store opened read-only (another process writes
 * it, so no pin can be taken here) a transfer keeps its snapshot to the end.
 * So the endpoint holds at most xfr_max reader slots,
 * plus one for the one-message answers, while the daemon needs its own: size
 * the store's max_readers from both (xfrd does, see xfrd.8).
 *
 * The answering logic is pure: serve_query() takes a message, the source address
 * and the time, and returns a struct serve_reply from which serve_reply_next()
 * produces the answer messages one at a time (no sockets, no event loop), so the
 * unit tests drive every case. serve_start() adds the network: UDP and TCP
 * sockets on every xfrd.listen endpoint of an event loop; TCP output is produced
 * only as the client drains it (write watermark), connections are capped and
 * closed when idle or when a reader stalls.
 *
 * What it is not: a resolver, a DNSSEC signer or validator (no DO processing:
 * RRSIG, NSEC and DNSKEY are answered as any RRset, no denial proofs), a DNAME
 * processor (answered as any RRset, not substituted), a NOTIFY sender.
 *
 * Metrics (in serve_opts.metrics): xfrd_serve_queries_total{qtype,rcode} (qtype SOA,
 * AXFR, IXFR, ANY, other; rcode NOERROR, NXDOMAIN, FORMERR, SERVFAIL, NOTIMP, REFUSED,
 * NOTAUTH, BADVERS),
 * xfrd_serve_dropped_total, xfrd_serve_transfers_total{method},
 * xfrd_serve_transfer_failures_total, xfrd_serve_transfer_records_total,
 * xfrd_serve_transfer_bytes_total, xfrd_serve_tcp_connections,
 * xfrd_serve_tcp_rejected_total, xfrd_serve_udp_truncated_total,
 * xfrd_serve_transfers_active, xfrd_serve_transfers_refused_total{reason},
 * xfrd_serve_snapshot_releases_total.
 * Logs: one `serve_xfr` key=value line per transfer served (zone, method, serial
 * from and to, records, messages, bytes, duration, client, tsig, outcome), and
 * IXFR answered with one SOA (outcome=uptodate); one `serve_denied` line per
 * refused or TSIG-failed AXFR/IXFR (zone, qtype, reason acl|unsigned|key|tsig_*,
 * client). Other refused queries are only counted, so nobody can fill the log.
 *
 * Threading: a struct serve is used by one thread (its event loop's), except
 * that it only reads the cfg and the store, which other threads may share. A
 * struct serve_reply belongs to the thread that made it; a transfer in progress
 * holds a store snapshot (one LMDB reader slot) while it is not paused.
 */
#ifndef ZX_XFRD_SERVE_H
#define ZX_XFRD_SERVE_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg;
struct zdb;
struct metrics;
struct event_base;
struct serve;
struct serve_reply;

/** Largest DNS message over TCP: the size serve_reply_next() needs as @p cap. */
#define SERVE_MSG_MAX 65535

/** Defaults of struct serve_opts. */
#define SERVE_DEFAULT_MSG_TARGET 16384       /**< bytes per AXFR/IXFR message (about) */
#define SERVE_DEFAULT_UDP_SIZE 1232          /**< our EDNS(0) UDP payload size */
#define SERVE_DEFAULT_TCP_MAX 256            /**< TCP connections at once */
#define SERVE_DEFAULT_TCP_IDLE_MS 10000      /**< idle / stalled-reader timeout */
#define SERVE_DEFAULT_TCP_QUEUE (256 * 1024) /**< output bytes queued per connection */
#define SERVE_DEFAULT_XFR_MAX 64             /**< transfers out at once */
#define SERVE_DEFAULT_XFR_PER_SOURCE 16      /**< transfers out at once to one source */
#define SERVE_DEFAULT_SNAPSHOT_HOLD_MS 1000  /**< a stalled transfer keeps its snapshot */
#define SERVE_DEFAULT_SNAPSHOT_MAX_MS 60000  /**< no transfer keeps one snapshot longer */

/** Options of serve_new(); start from serve_opts_init(). */
struct serve_opts {
	const struct cfg *cfg;   /**< keys, zones' serve policy, xfrd.serve, xfrd.listen;
	                            the serve takes a reference (cfg_ref()) */
	struct zdb *db;          /**< the store; borrowed, must outlive the serve */
	struct metrics *metrics; /**< registry for the series above; borrowed; NULL: none */
	size_t msg_target;       /**< a transfer message ends once it is this long (512..65000) */
	uint16_t udp_size;       /**< our EDNS payload size (512..4096) */
	uint32_t tcp_max;        /**< TCP connections at once (>= 1); more are closed at accept */
	uint64_t tcp_idle_ms;    /**< close a connection idle (or not draining) for this long */
	size_t tcp_queue;        /**< produce transfer messages while less than this is queued */
	uint32_t xfr_max;        /**< transfers out at once (>= 1); more are REFUSED */
	uint32_t xfr_per_source; /**< of which to one source (>= 1); more are REFUSED */
	uint64_t snapshot_hold_ms; /**< serve_start(): pause a transfer whose client left the
	                              output full this long (0: at once) */
	uint64_t snapshot_max_ms;  /**< serve_reply_next() renews a snapshot older than this */
	/**
	 * The settings of the zone @p apex (wire) when xfrd serves it, NULL when it does
	 * not (removed, or never configured): a zone of the store that this says NULL
	 * for is not served (the closest enclosing served zone answers, else NOTAUTH or
	 * REFUSED as for a zone not held). The result is used during the call only.
	 * NULL hook: every zone of the store, with the settings of @c cfg's zones.
	 * Zones the store marks REMOVED are never served.
	 */
	const struct cfg_zone *(*zone_lookup)(void *ctx, const uint8_t *apex);
	void *zone_ctx;
};

/** Fill @p o with the defaults above (cfg, db and metrics NULL). */
void serve_opts_init(struct serve_opts *o);

/** serve_opts_init(), then cfg, db and the xfrd.serve limits of @p cfg. */
void serve_opts_from_cfg(struct serve_opts *o, const struct cfg *cfg, struct zdb *db);

/**
 * Make a server (no sockets yet).
 * @param[in]  o   options; borrowed for the call (the cfg and db it names are kept)
 * @param[out] out returned owned (serve_free()); untouched on error
 * @return 0; ZX_EINVAL NULL cfg or db, or a value out of range; ZX_ENOMEM
 */
ZX_MUSTCHECK int serve_new(const struct serve_opts *o, struct serve **out);

/**
 * A reloaded config: its keyring verifies the next queries, its xfrd.serve is the
 * default policy. Replies under way keep the config they started with (each holds
 * a reference). The listen addresses are not changed. The serve holds a reference
 * to the cfg it uses (cfg_ref()).
 */
void serve_set_cfg(struct serve *sv, const struct cfg *cfg);

/** Close every socket and connection (their replies freed and logged), free @p sv. NULL ok. */
void serve_free(struct serve *sv);

/* ------------------------------------------------------------ answering (pure) */

/** How a query arrived (decides UDP size limits and what a transfer may do; a zone's
    `require-tls` refuses AXFR/IXFR that did not come over SERVE_TLS(_CERT)). */
enum serve_proto {
	SERVE_UDP = 0,
	SERVE_TCP = 1,
	SERVE_TLS = 2,      /**< TCP inside TLS (xfrd.serve.tls), no verified client certificate */
	SERVE_TLS_CERT = 3, /**< TLS with a client certificate verified against its ca-file */
};

/**
 * Decide on one query and prepare its answer. Time is an argument (TSIG checks
 * and signatures use it); nothing is sent.
 * @param[in]  sv    the server; its cfg and store are read
 * @param[in]  msg   the query as received; borrowed for the call
 * @param[in]  len   bytes in @p msg
 * @param[in]  src   the client's address (AF_INET or AF_INET6); borrowed for the call
 * @param[in]  proto UDP or TCP
 * @param[in]  now   seconds since the epoch
 * @param[out] out   on 0, the answer in progress, returned owned (serve_reply_free());
 *                   untouched on error
 * @return 0 (every DNS outcome, REFUSED and FORMERR included, is a reply);
 *         ZX_EFORMAT drop it: shorter than a header, or a response (QR set);
 *         ZX_ENOMEM
 */
ZX_MUSTCHECK int serve_query(struct serve *sv, const uint8_t *msg, size_t len,
                             const struct sockaddr *src, enum serve_proto proto, uint64_t now,
                             struct serve_reply **out);

/**
 * Produce the next message of the answer (a transfer has many; everything else
 * one). Over UDP the message is at most the client's EDNS size (512 without
 * EDNS, capped by serve_opts.udp_size), with TC set when the answer does not fit.
 * @param[in,out] r    the answer in progress
 * @param[out]    buf  where the message goes (no TCP length prefix)
 * @param[in]     cap  bytes at @p buf: SERVE_MSG_MAX is always enough
 * @param[in]     now  seconds since the epoch (TSIG time signed)
 * @param[out]    len  on 1, the message length; untouched otherwise
 * @return 1 a message; 0 the answer is complete (nothing written);
 *         ZX_ELIMIT @p cap is too small for the message (nothing consumed), or
 *         one RR of the zone is too large for any message; ZX_ESTORE the store
 *         failed mid-transfer, or no snapshot could be had (no free reader slot);
 *         ZX_ENOTFOUND the version being sent is gone or was changed in place (an
 *         IXFR, a removal) while the transfer was paused: it cannot go on;
 *         ZX_ECORRUPT the zone read does not match its record count or checksum
 *         (common/store/zdb.h): the closing SOA is never sent; the zone is marked corrupt
 *         in the store (the store's CORRUPT event: answered SERVFAIL until a transfer
 *         replaces it) and counted (xfrd_store_corrupt_total). Each way the answer
 *         is broken: close the connection. ZX_ENOMEM. After an error the reply only
 *         produces that error again.
 */
ZX_MUSTCHECK int serve_reply_next(struct serve_reply *r, uint8_t *buf, size_t cap, uint64_t now,
                                  size_t *len);

/**
 * The client does not take messages for now: let go of the store snapshot (the
 * transfer goes on from the same version at the next serve_reply_next()). No-op
 * for a one-message answer, a finished transfer, or one without a snapshot.
 * @return 0; ZX_ENOTFOUND the version changed since the transfer began (it could
 *         not be pinned: the reply is broken, free it); ZX_ENOMEM; ZX_ESTORE.
 *         An error sticks, as for serve_reply_next().
 */
ZX_MUSTCHECK int serve_reply_pause(struct serve_reply *r);

/** The answer's RCODE (the low 4 bits; BADVERS shows as 0 here and 16 in the OPT). */
int serve_reply_rcode(const struct serve_reply *r);

/** True when the answer is a zone transfer stream (AXFR, or IXFR of more than one SOA). */
bool serve_reply_is_transfer(const struct serve_reply *r);

/**
 * Release the answer and its store snapshot. A transfer logs its `serve_xfr`
 * line here: outcome=ok when serve_reply_next() returned 0, corrupt after
 * ZX_ECORRUPT (at error level, with the store's text naming zone, version,
 * expected and got), failed after another error, aborted when freed before the
 * end (the client went away). NULL ok.
 */
void serve_reply_free(struct serve_reply *r);

/* ------------------------------------------------------------ network */

/**
 * Open a UDP and a TCP socket on every xfrd.listen endpoint of the cfg, and a TLS
 * listener on every xfrd.serve.tls endpoint (its certificate and key loaded now), and
 * serve them on @p base (port 0 in the config: the system picks; serve_bound_port()).
 * @param[in] base borrowed; must outlive the sockets (serve_stop() or serve_free())
 * @return 0; ZX_EINVAL already started or no endpoint; ZX_EIO a socket could not
 *         be made or bound (the address is logged; nothing stays open); ZX_ETLS the
 *         TLS certificate or key does not load (logged); ZX_ENOMEM
 */
ZX_MUSTCHECK int serve_start(struct serve *sv, struct event_base *base);

/**
 * The local port of the @p i-th listen endpoint (after serve_start()).
 * @return the port; 0 when @p i is out of range or not started
 */
uint16_t serve_bound_port(const struct serve *sv, size_t i);

/** Close every socket and connection (replies logged as aborted). Safe when not started. */
void serve_stop(struct serve *sv);

/**
 * Load xfrd.serve.tls's certificate, key and CA file again (on SIGHUP): connections
 * accepted from now on get them, open ones keep their session. Logged
 * (serve_tls_reloaded / serve_tls_reload_failed) and counted.
 * @return 0, also when there is no TLS listener; ZX_ETLS a file does not load or the
 *         key does not match the certificate (the ones in use stay); ZX_ENOMEM
 */
ZX_MUSTCHECK int serve_tls_reload(struct serve *sv);

/** The local port of the @p i-th xfrd.serve.tls listener; 0 when none or not started. */
uint16_t serve_tls_bound_port(const struct serve *sv, size_t i);

#endif
