/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve.c -- the decisions of xfrd's DNS endpoint: from a query to the kind
 * of answer (see xfrd/serve/serve.h for the behaviour, serve_reply.c for the messages).
 *
 *   header ── QR or short ──> drop
 *     │
 *   walk ── bad question/RR/OPT, IXFR without SOA ──> FORMERR
 *     │
 *   TSIG ── malformed ──> FORMERR; BADKEY/BADSIG/BADTIME ──> NOTAUTH + TSIG error
 *     │
 *   opcode/EDNS/meta type ──> NOTIMP / BADVERS
 *     │
 *   zone (closest enclosing, one snapshot) ── none ──> NOTAUTH
 *     │
 *   policy (allow, keys) ──> REFUSED;  no data or expired ──> SERVFAIL
 *     │
 *   SOA at the apex, any name and type (serve_answer.c) ──> one message;
 *   AXFR / IXFR / IXFR→AXFR ──> transfer slot
 *     │                                                 (none free ──> REFUSED)
 *   stream
 */
#include "xfrd/serve/serve.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/serial.h"
#include "xfrd/serve/serve_internal.h"

#include <assert.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** What the walk found in a query. */
struct query {
	struct dns_hdr hdr;
	bool formerr;
	bool have_q;
	struct dns_question q;
	bool have_opt;
	uint16_t opt_size;
	uint8_t opt_version;
	bool have_soa; /**< an SOA for the question name in the authority section (IXFR) */
	uint32_t soa_serial;
};

void serve_opts_init(struct serve_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->msg_target = SERVE_DEFAULT_MSG_TARGET;
	o->udp_size = SERVE_DEFAULT_UDP_SIZE;
	o->tcp_max = SERVE_DEFAULT_TCP_MAX;
	o->tcp_idle_ms = SERVE_DEFAULT_TCP_IDLE_MS;
	o->tcp_queue = SERVE_DEFAULT_TCP_QUEUE;
	o->xfr_max = SERVE_DEFAULT_XFR_MAX;
	o->xfr_per_source = SERVE_DEFAULT_XFR_PER_SOURCE;
	o->snapshot_hold_ms = SERVE_DEFAULT_SNAPSHOT_HOLD_MS;
	o->snapshot_max_ms = SERVE_DEFAULT_SNAPSHOT_MAX_MS;
}

void serve_opts_from_cfg(struct serve_opts *o, const struct cfg *cfg, struct zdb *db)
{
	serve_opts_init(o);
	o->cfg = cfg;
	o->db = db;
	o->xfr_max = cfg->xfrd.serve_transfers;
	o->xfr_per_source = cfg->xfrd.serve_transfers_per_source;
	o->snapshot_hold_ms = cfg->xfrd.serve_snapshot_hold_ms;
	o->snapshot_max_ms = cfg->xfrd.serve_snapshot_max_ms;
}

static const char *const qt_names[SQT_COUNT] = {"SOA", "AXFR", "IXFR", "ANY", "other"};
static const char *const rc_names[SRC_COUNT] = {"NOERROR", "FORMERR", "SERVFAIL", "NOTIMP",
                                                "REFUSED", "NOTAUTH", "BADVERS", "NXDOMAIN"};
static const char *const sm_names[SM_COUNT] = {"none", "axfr", "ixfr", "ixfr_axfr"};

static int metrics_init(struct serve *sv, struct metrics *mx)
{
	struct serve_metrics *m = &sv->m;
	char lb[96];
	for (int t = 0; t < SQT_COUNT; t++) {
		for (int r = 0; r < SRC_COUNT; r++) {
			snprintf(lb, sizeof(lb), "qtype=\"%s\",rcode=\"%s\"", qt_names[t], rc_names[r]);
			m->queries[t][r] = metrics_counter(mx, "xfrd_serve_queries_total", lb,
			                                   "Queries answered by the DNS endpoint.");
			if (m->queries[t][r] == NULL) {
				return ZX_ENOMEM;
			}
		}
	}
	for (int s = SM_AXFR; s < SM_COUNT; s++) {
		snprintf(lb, sizeof(lb), "method=\"%s\"", sm_names[s]);
		m->transfers[s] = metrics_counter(mx, "xfrd_serve_transfers_total", lb,
		                                  "Zone transfers served completely.");
		if (m->transfers[s] == NULL) {
			return ZX_ENOMEM;
		}
	}
	m->dropped = metrics_counter(mx, "xfrd_serve_dropped_total", NULL,
	                             "Messages dropped unanswered (short, or responses).");
	m->xfr_failures = metrics_counter(mx, "xfrd_serve_transfer_failures_total", NULL,
	                                  "Transfers broken off (store error, client gone).");
	m->corrupt = metrics_counter(mx, "xfrd_store_corrupt_total", NULL,
	                             "Zones found corrupt while serving them (checksum or "
	                             "record count differs); not served until fetched again.");
	m->xfr_records = metrics_counter(mx, "xfrd_serve_transfer_records_total", NULL,
	                                 "Records sent in transfers.");
	m->xfr_bytes = metrics_counter(mx, "xfrd_serve_transfer_bytes_total", NULL,
	                               "Bytes sent in transfers (DNS messages).");
	m->tcp_rejected = metrics_counter(mx, "xfrd_serve_tcp_rejected_total", NULL,
	                                  "TCP connections closed at accept (connection cap).");
	m->udp_truncated = metrics_counter(mx, "xfrd_serve_udp_truncated_total", NULL,
	                                   "UDP answers sent with TC set.");
	m->tcp_conns = metrics_gauge(mx, "xfrd_serve_tcp_connections", NULL,
	                             "Open TCP connections of the DNS endpoint.");
	m->xfr_active = metrics_gauge(mx, "xfrd_serve_transfers_active", NULL,
	                              "Transfers out in progress (each may hold a reader slot).");
	m->xfr_refused_max = metrics_counter(mx, "xfrd_serve_transfers_refused_total",
	                                     "reason=\"max\"",
	                                     "Transfers refused: serve.transfers (all) or "
	                                     "serve.transfers-per-source reached.");
	m->xfr_refused_source = metrics_counter(mx, "xfrd_serve_transfers_refused_total",
	                                        "reason=\"per_source\"",
	                                        "Transfers refused: serve.transfers (all) or "
	                                        "serve.transfers-per-source reached.");
	m->snap_releases = metrics_counter(mx, "xfrd_serve_snapshot_releases_total", NULL,
	                                   "Store snapshots let go by transfers waiting for "
	                                   "their client, or renewed after snapshot-max.");
	m->tls_hs_failures = metrics_counter(mx, "xfrd_serve_tls_handshake_failures_total", NULL,
	                                     "XFR-over-TLS connections whose TLS handshake "
	                                     "failed (or that closed before a query).");
	m->tls_reload_ok = metrics_counter(mx, "xfrd_serve_tls_reloads_total", "outcome=\"ok\"",
	                                   "Reloads of xfrd.serve.tls's certificate and key "
	                                   "(SIGHUP).");
	m->tls_reload_failed = metrics_counter(mx, "xfrd_serve_tls_reloads_total",
	                                       "outcome=\"failed\"",
	                                       "Reloads of xfrd.serve.tls's certificate and key "
	                                       "(SIGHUP).");
	if (m->tls_hs_failures == NULL || m->tls_reload_ok == NULL || m->tls_reload_failed == NULL) {
		return ZX_ENOMEM;
	}
	if (m->dropped == NULL || m->xfr_failures == NULL || m->corrupt == NULL ||
	    m->xfr_records == NULL ||
	    m->xfr_bytes == NULL || m->tcp_rejected == NULL || m->udp_truncated == NULL ||
	    m->tcp_conns == NULL || m->xfr_active == NULL || m->xfr_refused_max == NULL ||
	    m->xfr_refused_source == NULL || m->snap_releases == NULL) {
		return ZX_ENOMEM;
	}
	return 0;
}

int serve_new(const struct serve_opts *o, struct serve **out)
{
	if (o == NULL || o->cfg == NULL || o->db == NULL || o->msg_target < 512 ||
	    o->msg_target > 65000 || o->udp_size < 512 || o->udp_size > 4096 || o->tcp_max == 0 ||
	    o->tcp_idle_ms == 0 || o->tcp_queue == 0 || o->xfr_max == 0 || o->xfr_per_source == 0 ||
	    o->snapshot_max_ms == 0) {
		return ZX_EINVAL;
	}
	struct serve *sv = calloc(1, sizeof(*sv));
	if (sv == NULL) {
		return ZX_ENOMEM;
	}
	sv->o = *o;
	if (o->metrics != NULL) {
		int rc = metrics_init(sv, o->metrics);
		if (rc != 0) {
			free(sv);
			return rc;
		}
	}
	cfg_ref(sv->o.cfg);
	*out = sv;
	return 0;
}

void serve_free(struct serve *sv)
{
	if (sv == NULL) {
		return;
	}
	serve_stop(sv);
	cfg_free(sv->o.cfg);
	SSL_CTX_free(sv->tls_ctx);
	free(sv);
}

void serve_set_cfg(struct serve *sv, const struct cfg *cfg)
{
	const struct cfg *old = sv->o.cfg;
	sv->o.cfg = cfg_ref(cfg);
	cfg_free(old);
}

static enum serve_qt qt_bucket(uint16_t qtype)
{
	switch (qtype) {
	case DNS_T_SOA:
		return SQT_SOA;
	case DNS_T_AXFR:
		return SQT_AXFR;
	case DNS_T_IXFR:
		return SQT_IXFR;
	case DNS_T_ANY:
		return SQT_ANY;
	default:
		return SQT_OTHER;
	}
}

static enum serve_rc rc_bucket(int rcode)
{
	switch (rcode) {
	case DNS_RC_NOERROR:
		return SRC_NOERROR;
	case DNS_RC_FORMERR:
		return SRC_FORMERR;
	case DNS_RC_NOTIMP:
		return SRC_NOTIMP;
	case DNS_RC_REFUSED:
		return SRC_REFUSED;
	case DNS_RC_NOTAUTH:
		return SRC_NOTAUTH;
	case SERVE_RC_BADVERS:
		return SRC_BADVERS;
	case DNS_RC_NXDOMAIN:
		return SRC_NXDOMAIN;
	default:
		return SRC_SERVFAIL;
	}
}

void serve_count(struct serve *sv, uint16_t qtype, int rcode, bool badvers)
{
	if (sv->o.metrics != NULL) {
		metrics_add(sv->m.queries[qt_bucket(qtype)][rc_bucket(badvers ? SERVE_RC_BADVERS
		                                                                  : rcode)], 1);
	}
}

/* ------------------------------------------------------------ parsing */

/* An OPT RR: root owner, once, in the additional section. */
static bool take_opt(struct query *q, const struct dns_rr *rr)
{
	if (rr->section != DNS_SEC_ADDITIONAL || rr->owner_len != 1 || q->have_opt) {
		return false;
	}
	q->have_opt = true;
	q->opt_size = rr->rclass;
	q->opt_version = (uint8_t)(rr->ttl >> 16);
	return true;
}

static void take_soa(struct query *q, const struct dns_walk *w, const struct dns_rr *rr)
{
	uint8_t rd[ZDB_SOA_MAX];
	struct dns_soa soa;
	if (q->have_soa || !q->have_q || !dname_equal(rr->owner, q->q.name)) {
		return;
	}
	int n = dnsmsg_rdata_unpack(w, rr, rd, sizeof(rd));
	if (n > 0 && dnsmsg_soa_parse(rd, (size_t)n, &soa) == 0) {
		q->have_soa = true;
		q->soa_serial = soa.serial;
	}
}

/* Walk the whole query; anything unreadable is FORMERR (TSIG is checked apart). */
static void parse(const uint8_t *msg, size_t len, struct query *q)
{
	struct dns_walk w;
	struct dns_rr rr;
	memset(q, 0, sizeof(*q));
	if (dnsmsg_walk_init(&w, msg, len) != 0) {
		q->formerr = true;
		return;
	}
	q->hdr = w.hdr;
	if (w.hdr.qdcount != 1) {
		q->formerr = true;
		return;
	}
	q->have_q = dnsmsg_walk_question(&w, &q->q) == 1;
	if (!q->have_q) {
		q->formerr = true;
		return;
	}
	int rc;
	while ((rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		if (rr.type == DNS_T_OPT && !take_opt(q, &rr)) {
			q->formerr = true;
		} else if (rr.type == DNS_T_SOA && rr.section == DNS_SEC_AUTHORITY) {
			take_soa(q, &w, &rr);
		}
	}
	if (rc < 0 || (q->q.qtype == DNS_T_IXFR && !q->have_soa)) {
		q->formerr = true;
	}
}

/* ------------------------------------------------------------ replies */

static struct serve_reply *reply_new(struct serve *sv, const struct query *q,
                                     const struct sockaddr *src, enum serve_proto proto)
{
	struct serve_reply *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return NULL;
	}
	r->sv = sv;
	r->cfg = cfg_ref(sv->o.cfg);
	r->id = q->hdr.id;
	r->flags = (uint16_t)(DNS_FLAG_QR | (q->hdr.flags & (0x7800u | DNS_FLAG_RD)));
	if (q->have_q) {
		memcpy(r->qname, q->q.name, q->q.name_len);
		r->qname_len = q->q.name_len;
		r->qtype = q->q.qtype;
		r->qclass = q->q.qclass;
	}
	r->max_len = SERVE_MSG_MAX;
	if (proto == SERVE_UDP) {
		uint16_t want = q->have_opt ? q->opt_size : 512;
		r->max_len = want < 512 ? 512 : want > sv->o.udp_size ? sv->o.udp_size : want;
	}
	r->opt = q->have_opt;
	r->srckey_len = (uint8_t)acl_prefix_key(src, 32, 64, r->srckey);
	(void)acl_addr_str(src, true, r->client, sizeof(r->client));
	r->started_us = clock_mono_us();
	return r;
}

/* ------------------------------------------------------------ decisions */

/* The zone's settings: the lookup hook's, else the config's; NULL not served. */
static const struct cfg_zone *zone_settings(const struct serve *sv, const uint8_t *zone)
{
	if (sv->o.zone_lookup != NULL) {
		return sv->o.zone_lookup(sv->o.zone_ctx, zone);
	}
	return cfg_zone_find(sv->o.cfg, zone);
}

static const struct cfg_serve *zone_policy(const struct serve *sv, const uint8_t *zone)
{
	const struct cfg_zone *z = zone_settings(sv, zone);
	return z != NULL ? &z->serve : &sv->o.cfg->xfrd.serve;
}

/* NULL when @p p lets the query through, else why not (for the log). A zone that
 * requires TLS refuses its AXFR/IXFR over anything else ("tls"), and one that requires
 * a client certificate refuses them over TLS without a verified one ("client_cert").
 * A query signed with xfrd.peer-key is another replica following this one: it passes
 * whatever the zone's own policy (its downstream's) says. */
static const char *policy_denies(const struct serve *sv, const struct cfg_serve *p,
                                 const struct sockaddr *src, const struct serve_verdict *v,
                                 uint16_t qtype, enum serve_proto proto)
{
	const struct tsig_key *peer = sv->o.cfg->xfrd.peer_key;
	if (peer != NULL && v->sign && v->treq.key == peer) {
		return NULL;
	}
	if (!acl_match(&p->allow, src)) {
		return "acl";
	}
	if ((qtype == DNS_T_AXFR || qtype == DNS_T_IXFR) && p->require_tls != CFG_SERVE_TLS_NO) {
		if (proto != SERVE_TLS && proto != SERVE_TLS_CERT) {
			return "tls";
		}
		if (p->require_tls == CFG_SERVE_TLS_CLIENT_CERT && proto != SERVE_TLS_CERT) {
			return "client_cert";
		}
	}
	if (p->keys.count == 0) {
		return NULL;
	}
	if (!v->sign || v->treq.key == NULL) {
		return "unsigned";
	}
	for (size_t i = 0; i < p->keys.count; i++) {
		if (p->keys.v[i] == v->treq.key) {
			return NULL;
		}
	}
	return "key";
}

/* A refused transfer is worth a line for the operator; refused SOA queries are
 * not (they would let anyone fill the log), the metrics count them. */
static void log_denied(const struct serve_reply *r, const char *zone, const char *reason)
{
	if (r->qtype == DNS_T_AXFR || r->qtype == DNS_T_IXFR) {
		log_info("serve_denied", "zone=%s qtype=%s reason=%s client=%s", zone,
		         r->qtype == DNS_T_AXFR ? "AXFR" : "IXFR", reason, r->client);
	}
}

/* The closest enclosing zone of @p name in the store that is served (neither
 * REMOVED nor unknown to the lookup hook). */
static int find_zone(const struct serve *sv, struct zdb_snap *s, const uint8_t *name,
                     struct zdb_zone_info *info)
{
	for (const uint8_t *n = name;; n += n[0] + 1) {
		int rc = zdb_zone_get(s, n, info);
		if (rc == 0 && (info->state == ZDB_STATE_REMOVED ||
		                (sv->o.zone_lookup != NULL && zone_settings(sv, n) == NULL))) {
			rc = ZX_ENOTFOUND;
		}
		if (rc != ZX_ENOTFOUND || n[0] == 0) {
			return rc;
		}
	}
}

static void reply_zone(struct serve_reply *r, const struct zdb_zone_info *info)
{
	memcpy(r->apex, info->name, info->name_len);
	r->apex_len = info->name_len;
	r->version = info->version;
	r->soa_ttl = info->soa_ttl;
	r->soa_rdlen = info->soa_rdlen;
	memcpy(r->soa_rdata, info->soa_rdata, info->soa_rdlen);
	r->serial_from = r->serial_to = info->serial;
	if (dname_to_text(info->name, r->zone_text, sizeof(r->zone_text)) != 0) {
		snprintf(r->zone_text, sizeof(r->zone_text), "?");
	}
}

static int answer_ixfr(struct serve_reply *r, struct serve_verdict *v, const struct query *q,
                       struct zdb_snap **snap, enum serve_proto proto, uint64_t now)
{
	uint32_t ours = r->serial_to;
	enum serial_order o = serial_cmp(q->soa_serial, ours);
	if (proto == SERVE_UDP || o == SERIAL_EQ || o == SERIAL_GT) {
		r->serial_from = q->soa_serial;
		if (o == SERIAL_EQ || o == SERIAL_GT) {
			log_info("serve_xfr", "zone=%s method=ixfr serial_from=%u serial_to=%u "
			         "records=1 client=%s outcome=uptodate", r->zone_text, q->soa_serial,
			         ours, r->client);
		}
		return serve_answer_soa(r, v, now);
	}
	struct zdb_iter *it = NULL;
	int rc = zdb_iter_journal(*snap, r->apex, q->soa_serial, &it);
	if (rc == ZX_EUPTODATE) {
		return serve_answer_soa(r, v, now);
	}
	enum serve_method method = SM_IXFR;
	if (rc == ZX_ENOTFOUND) {
		method = SM_IXFR_AXFR;
		rc = zdb_iter_zone(*snap, r->apex, &it);
	}
	if (rc != 0) {
		return rc == ZX_ENOMEM ? rc : serve_answer_rcode(r, v, DNS_RC_SERVFAIL, now);
	}
	const char *busy = serve_xfr_admit(r);
	if (busy != NULL) {
		zdb_iter_free(it);
		log_denied(r, r->zone_text, busy);
		return serve_answer_rcode(r, v, DNS_RC_REFUSED, now);
	}
	r->serial_from = q->soa_serial;
	serve_xfr_begin(r, snap, it, method, v->sign ? &v->treq : NULL);
	serve_count(r->sv, r->qtype, DNS_RC_NOERROR, false);
	return 0;
}

static int answer_axfr(struct serve_reply *r, struct serve_verdict *v, struct zdb_snap **snap,
                       uint64_t now)
{
	const char *busy = serve_xfr_admit(r);
	if (busy != NULL) {
		log_denied(r, r->zone_text, busy);
		return serve_answer_rcode(r, v, DNS_RC_REFUSED, now);
	}
	struct zdb_iter *it = NULL;
	int rc = zdb_iter_zone(*snap, r->apex, &it);
	if (rc != 0) {
		return rc == ZX_ENOMEM ? rc : serve_answer_rcode(r, v, DNS_RC_SERVFAIL, now);
	}
	r->serial_from = 0;
	serve_xfr_begin(r, snap, it, SM_AXFR, v->sign ? &v->treq : NULL);
	serve_count(r->sv, r->qtype, DNS_RC_NOERROR, false);
	return 0;
}

/* From a zone found in the store to the answer. @p snap may be taken. */
static int answer_zone(struct serve_reply *r, struct serve_verdict *v, const struct query *q,
                       struct zdb_snap **snap, const struct zdb_zone_info *info,
                       enum serve_proto proto, uint64_t now)
{
	bool apex = dname_equal(q->q.name, info->name);
	uint16_t qt = q->q.qtype;
	if (!info->loaded || info->state == ZDB_STATE_EXPIRED || info->corrupt) {
		return serve_answer_rcode(r, v, DNS_RC_SERVFAIL, now); /* nothing whole to serve */
	}
	if (q->q.qclass != info->rclass && q->q.qclass != DNS_C_ANY) {
		return serve_answer_rcode(r, v, DNS_RC_REFUSED, now);
	}
	reply_zone(r, info);
	if ((qt == DNS_T_AXFR || qt == DNS_T_IXFR) && !apex) {
		return serve_answer_rcode(r, v, DNS_RC_NOTAUTH, now);
	}
	if (qt == DNS_T_AXFR) {
		return proto == SERVE_UDP ? serve_answer_rcode(r, v, DNS_RC_NOTIMP, now)
		                          : answer_axfr(r, v, snap, now);
	}
	if (qt == DNS_T_IXFR) {
		return answer_ixfr(r, v, q, snap, proto, now);
	}
	v->rcode = DNS_RC_NOERROR;
	return qt == DNS_T_SOA && apex ? serve_answer_soa(r, v, now)
	                               : serve_answer_name(r, v, *snap, now);
}

static int answer_store(struct serve_reply *r, struct serve_verdict *v, const struct query *q,
                        const struct sockaddr *src, enum serve_proto proto, uint64_t now)
{
	struct zdb_snap *snap = NULL;
	struct zdb_zone_info info;
	const char *why = NULL;
	int rc = zdb_snap_begin(r->sv->o.db, &snap);
	if (rc == 0) {
		rc = find_zone(r->sv, snap, q->q.name, &info);
	}
	if (rc == ZX_ENOMEM) {
		goto out;
	}
	if (rc == ZX_ENOTFOUND) {
		/* Who may not ask gets REFUSED whether we hold the zone or not, so the
		 * rcode tells an outsider nothing about what is in the store. */
		why = policy_denies(r->sv, zone_policy(r->sv, q->q.name), src, v, r->qtype, proto);
		rc = serve_answer_rcode(r, v, why != NULL ? DNS_RC_REFUSED : DNS_RC_NOTAUTH, now);
	} else if (rc != 0) {
		log_warn("serve_store_error", "error=%s why=%s client=%s", zx_strerror(rc),
		         zdb_last_error(), r->client);
		rc = serve_answer_rcode(r, v, DNS_RC_SERVFAIL, now);
	} else if ((why = policy_denies(r->sv, zone_policy(r->sv, info.name), src, v, r->qtype,
	                                proto)) != NULL) {
		char zone[DNAME_TEXTLEN];
		if (dname_to_text(info.name, zone, sizeof(zone)) != 0) {
			snprintf(zone, sizeof(zone), "?");
		}
		log_denied(r, zone, why);
		rc = serve_answer_rcode(r, v, DNS_RC_REFUSED, now);
	} else {
		rc = answer_zone(r, v, q, &snap, &info, proto, now);
	}
out:
	zdb_snap_end(snap);
	return rc;
}

static bool meta_type(uint16_t t)
{
	return t == DNS_T_OPT || t == DNS_T_TSIG || t == 249 /* TKEY */ || t == 253 || t == 254;
}

static int decide(struct serve_reply *r, const struct query *q, const uint8_t *msg, size_t len,
                  const struct sockaddr *src, enum serve_proto proto, uint64_t now)
{
	struct serve_verdict v;
	memset(&v, 0, sizeof(v));
	if (q->formerr) {
		return serve_answer_rcode(r, &v, DNS_RC_FORMERR, now);
	}
	int rc = tsig_verify(r->cfg->keys, msg, len, now, &v.treq);
	switch (rc) {
	case 0:
		v.sign = true;
		break;
	case ZX_ENOTSIG:
		break;
	case ZX_ETSIG_BADKEY:
	case ZX_ETSIG_BADSIG:
	case ZX_ETSIG_BADTIME:
	case ZX_ETSIG_BADTRUNC:
		v.sign = true;
		log_denied(r, "-", rc == ZX_ETSIG_BADKEY ? "tsig_badkey" : rc == ZX_ETSIG_BADSIG
		                   ? "tsig_badsig" : rc == ZX_ETSIG_BADTIME ? "tsig_badtime"
		                   : "tsig_badtrunc");
		return serve_answer_rcode(r, &v, DNS_RC_NOTAUTH, now);
	case ZX_ENOMEM:
		return ZX_ENOMEM;
	default:
		return serve_answer_rcode(r, &v, DNS_RC_FORMERR, now);
	}
	if (DNS_OPCODE(q->hdr.flags) != DNS_OP_QUERY || meta_type(q->q.qtype)) {
		return serve_answer_rcode(r, &v, DNS_RC_NOTIMP, now);
	}
	if (q->have_opt && q->opt_version != 0) {
		return serve_answer_rcode(r, &v, SERVE_RC_BADVERS, now);
	}
	return answer_store(r, &v, q, src, proto, now);
}

int serve_query(struct serve *sv, const uint8_t *msg, size_t len, const struct sockaddr *src,
                enum serve_proto proto, uint64_t now, struct serve_reply **out)
{
	struct query q;
	struct dns_hdr h;
	if (dnsmsg_hdr_parse(msg, len, &h) != 0 || (h.flags & DNS_FLAG_QR) != 0) {
		if (sv->o.metrics != NULL) {
			metrics_add(sv->m.dropped, 1);
		}
		return ZX_EFORMAT;
	}
	parse(msg, len, &q);
	q.hdr = h;
	struct serve_reply *r = reply_new(sv, &q, src, proto);
	if (r == NULL) {
		return ZX_ENOMEM;
	}
	int rc = decide(r, &q, msg, len, src, proto, now);
	if (rc != 0) {
		serve_reply_free(r);
		return ZX_ENOMEM;
	}
	*out = r;
	return 0;
}
