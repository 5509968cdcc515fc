/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve_internal.h -- what serve.c (decisions), serve_reply.c (messages)
 * and serve_net.c (sockets) share. Not an API: include only from xfrd/serve*.c.
 * Threading: as xfrd/serve/serve.h. */
#ifndef ZX_XFRD_SERVE_INTERNAL_H
#define ZX_XFRD_SERVE_INTERNAL_H

#include "common/acl.h"
#include "common/dname.h"
#include "common/tsig/tsig.h"
#include "common/store/zdb.h"
#include "xfrd/serve/serve.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct ssl_ctx_st;

struct metrics_val;
struct serve_net;

/** Query type buckets of the queries metric. */
enum serve_qt { SQT_SOA, SQT_AXFR, SQT_IXFR, SQT_ANY, SQT_OTHER, SQT_COUNT };
/** Rcode buckets of the queries metric. */
enum serve_rc { SRC_NOERROR, SRC_FORMERR, SRC_SERVFAIL, SRC_NOTIMP, SRC_REFUSED, SRC_NOTAUTH,
	        SRC_BADVERS, SRC_NXDOMAIN, SRC_COUNT };
/** Transfer methods: how a transfer answer is made. */
enum serve_method { SM_NONE, SM_AXFR, SM_IXFR, SM_IXFR_AXFR, SM_COUNT };

/** Extended RCODE BADVERS (RFC 6891): 16, carried in the OPT's TTL high byte. */
#define SERVE_RC_BADVERS 16

struct serve_metrics {
	struct metrics_val *queries[SQT_COUNT][SRC_COUNT];
	struct metrics_val *dropped;
	struct metrics_val *transfers[SM_COUNT];
	struct metrics_val *xfr_failures;
	struct metrics_val *corrupt;
	struct metrics_val *xfr_records;
	struct metrics_val *xfr_bytes;
	struct metrics_val *tcp_rejected;
	struct metrics_val *udp_truncated;
	struct metrics_val *tcp_conns; /**< gauge */
	struct metrics_val *xfr_active; /**< gauge */
	struct metrics_val *xfr_refused_max, *xfr_refused_source;
	struct metrics_val *snap_releases;
	struct metrics_val *tls_hs_failures;           /**< XoT handshakes that failed */
	struct metrics_val *tls_reload_ok, *tls_reload_failed;
};

struct serve {
	struct serve_opts o;
	struct ssl_ctx_st *tls_ctx; /**< xfrd.serve.tls: the context new connections get
	                                 (replaced by serve_tls_reload()); NULL: no TLS */
	struct serve_metrics m;   /**< every pointer NULL when o.metrics is NULL */
	struct serve_net *net;    /**< NULL until serve_start() */
	uint32_t xfr_active;      /**< transfers out now (replies with a slot) */
	struct serve_reply *xfrs; /**< those replies */
};

/** Phases of a transfer stream. */
enum serve_phase { SP_FIRST_SOA, SP_BODY, SP_LAST_SOA, SP_DONE };

struct serve_reply {
	struct serve *sv;
	const struct cfg *cfg;    /**< a reference: the keyring its TSIG key lives in */
	int err;                  /**< sticky error of serve_reply_next() */
	int rcode;                /**< low 4 bits in the header */
	/* A one-message answer, built and signed by serve_query(). */
	uint8_t *single;
	size_t single_len;
	bool single_sent;
	/* A transfer stream. */
	enum serve_method method;
	enum serve_phase phase;
	struct zdb_snap *snap;    /**< NULL while paused (the iterator is detached) */
	struct zdb_iter *it;
	int64_t snap_at_ms;       /**< when snap was taken (clock_mono_ms()) */
	bool slot;                /**< counts among the transfers out (serve.xfr_active) */
	struct serve_reply *xprev, *xnext; /**< in serve.xfrs while slot */
	uint8_t srckey[ACL_PREFIX_KEY_MAX]; /**< the client's network (per-source limit) */
	uint8_t srckey_len;
	bool pending;             /**< rr holds an RR that did not fit the last message */
	struct zdb_rr rr;
	uint16_t id, flags;       /**< the answers' header ID and flags (QR AA, RD copied) */
	uint8_t qname[DNAME_MAXLEN]; /**< as received (case kept) */
	size_t qname_len;
	uint16_t qtype, qclass;
	uint8_t apex[DNAME_MAXLEN];  /**< the zone, lowercase */
	size_t apex_len;
	uint32_t version;            /**< the zone's version served (zdb_zone_info) */
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa_rdata[ZDB_SOA_MAX];
	bool tsig;                /**< sign every message with ts */
	size_t tsig_reserve;      /**< room kept for the TSIG record of each message */
	struct tsig_session ts;
	size_t max_len;           /**< largest message (SERVE_MSG_MAX, or the UDP size) */
	bool opt;                 /**< the query had EDNS: one-message answers carry an OPT */
	/* For the log line. */
	char zone_text[DNAME_TEXTLEN];
	char client[64];
	uint32_t serial_from, serial_to;
	uint64_t records, bytes;
	char errtext[ZDB_ERRTEXT_MAX]; /**< the store's words for err */
	unsigned messages;
	uint64_t started_us;      /**< clock_mono_us() at the start */
};

/** A message under construction (serve_reply.c). */
struct serve_msg {
	uint8_t *buf;
	size_t len, cap;     /**< cap: where the RRs must end (room for TSIG/OPT kept apart) */
	uint16_t ancount, nscount, arcount;
	size_t qend;         /**< where the question ends */
	bool trunc;          /**< a one-message answer did not fit: cut, TC set */
	size_t prev_off;     /**< offset of the last owner written; 0 none */
	uint8_t prev[DNAME_MAXLEN]; /**< that owner (for the compression check) */
};

/** Start a message: header (@p r's ID and flags, @p rcode) and @p r's question. */
void serve_msg_start(struct serve_msg *m, const struct serve_reply *r, uint8_t *buf, size_t cap,
                     int rcode);

/**
 * Append one RR (owner compressed against the question name or the previous
 * owner). @return 0; ZX_ELIMIT it does not fit (the message is unchanged)
 */
ZX_MUSTCHECK int serve_msg_rr(struct serve_msg *m, const struct serve_reply *r,
                              const struct zdb_rr *rr);

/** Write the section counts into the header. */
void serve_msg_finish(struct serve_msg *m);

/* ---- one-message answers (serve_answer.c) ---- */

/** The outcome of a decision (serve.c) that the one-message answer is made from. */
struct serve_verdict {
	int rcode;        /**< header rcode, or SERVE_RC_BADVERS */
	bool aa;
	bool sign;        /**< sign the reply with treq */
	struct tsig_request treq;
};

/** Sections of a message. */
enum serve_sec { SS_ANSWER, SS_AUTHORITY, SS_ADDITIONAL };

/** Start @p r's one message (r->single): header with @p v's rcode and AA, question;
 *  room kept for an OPT and a TSIG. @return 0; ZX_ENOMEM */
ZX_MUSTCHECK int serve_single_begin(struct serve_reply *r, const struct serve_verdict *v,
                                    struct serve_msg *m);

/** Append an RR to section @p sec (sections in order). When the message is full the
 *  answer is cut to header and question with TC set (RFC 2181 9): m->trunc. */
void serve_single_rr(struct serve_msg *m, struct serve_reply *r, const struct zdb_rr *rr,
                     enum serve_sec sec);

/** Finish the message: counts, TC, the OPT (EDNS echoed), TSIG; count the query.
 *  @return 0; ZX_ENOMEM (signing) */
ZX_MUSTCHECK int serve_single_end(struct serve_reply *r, const struct serve_verdict *v,
                                  struct serve_msg *m, uint64_t now);

/** A message without records and @p rcode (AA clear). @return 0; ZX_ENOMEM */
ZX_MUSTCHECK int serve_answer_rcode(struct serve_reply *r, struct serve_verdict *v, int rcode,
                                    uint64_t now);

/** The zone's SOA in the answer, AA (SOA at the apex, IXFR up to date). @return 0; ZX_ENOMEM */
ZX_MUSTCHECK int serve_answer_soa(struct serve_reply *r, struct serve_verdict *v, uint64_t now);

/**
 * Answer r->qname / r->qtype from the zone r->apex (reply_zone() done) as an
 * authoritative server: the RRset, CNAME chain, wildcard, NODATA, NXDOMAIN or referral
 * (the diagram at the top of serve_answer.c). A store error is answered SERVFAIL and
 * logged (serve_store_error). @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int serve_answer_name(struct serve_reply *r, struct serve_verdict *v,
                                   struct zdb_snap *snap, uint64_t now);

/** The zone's SOA as an RR of @p r (owner the apex). */
struct zdb_rr serve_reply_soa(const struct serve_reply *r);

/** Room a TSIG record answering @p req may take (names, fields, full MAC, other data). */
size_t serve_tsig_reserve(const struct tsig_request *req);

/**
 * Turn @p r into a transfer stream: takes *@p snap (set to NULL) and @p it;
 * @p treq (NULL: unsigned) starts the TSIG session signing every message. The
 * transfer slot was taken by serve_xfr_admit().
 */
void serve_xfr_begin(struct serve_reply *r, struct zdb_snap **snap, struct zdb_iter *it,
                     enum serve_method method, const struct tsig_request *treq);

/**
 * Take a transfer slot for @p r (its client's network in r->srckey).
 * @return NULL taken (released by serve_reply_free()); else why not, for the log:
 *         "busy" (xfr_max reached) or "busy_source" (xfr_per_source reached)
 */
const char *serve_xfr_admit(struct serve_reply *r);

/** Count a finished query in the metrics. */
void serve_count(struct serve *sv, uint16_t qtype, int rcode, bool badvers);

/* ---- serve_tls.c: XFR over TLS on the endpoint -------------------------------- */

struct cfg_serve_tls;
struct ssl_ctx_st;
struct ssl_st;

/**
 * A server context from xfrd.serve.tls: TLS 1.3, ALPN "dot", the certificate and key,
 * client certificates asked for (checked against ca-file when set; a missing or
 * unverified one does not fail the handshake: the zone's require-tls decides).
 * @param[out] out     returned owned (SSL_CTX_free()); untouched on error
 * @param[out] detail  on ZX_ETLS: which file and why
 * @return 0; ZX_ETLS a file does not load, the key does not match; ZX_ENOMEM
 */
int serve_tls_ctx(const struct cfg_serve_tls *c, struct ssl_ctx_st **out, char *detail,
                  size_t size);

/** How a TLS connection's queries arrived: SERVE_TLS_CERT when the client's
    certificate verified against ca-file, else SERVE_TLS. */
enum serve_proto serve_tls_proto(struct ssl_st *ssl);

#endif
