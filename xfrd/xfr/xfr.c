/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xfr.c -- one zone refresh from one primary: SOA check, IXFR, AXFR fallback, commit.
 *
 *            start
 *              |  zone not held, or XFR_FORCE_AXFR ----------------------.
 *              v                                                          |
 *          SOA_UDP --TC, lost, no socket--> SOA_TCP                       |
 *              |                               |                          |
 *              +-------------------------------+                          |
 *              |  serial not newer (RFC 1982) --> DONE (up to date)      |
 *              v                                                          v
 *            IXFR --NOTIMP/REFUSED/FORMERR/SERVFAIL/NOTAUTH,---------> AXFR
 *              |     framing or protocol error, single newer SOA,         |
 *              |     diff does not apply (ZX_EDIFF)                       |
 *              |  single SOA not newer --> DONE (up to date)             |
 *              |  AXFR-style answer: stored as an AXFR                    |
 *              v                                                          v
 *           commit (zdb IXFR txn)                          commit (new version, switch)
 *              |                                                          |
 *              +------------------------> DONE <--------------------------+
 *
 *   Any state: connect/read/whole timeout, reset, TSIG failure, limit, store
 *   error --> FAILED (what was written is aborted; the zone stays as it was),
 *   except in IXFR: an answer over the zone's limits, a corrupt stored zone, or
 *   a timeout once the primary began answering (reading, applying, committing)
 *   falls back to AXFR too, the whole-transfer timer started again.
 *   A result whose serial is not newer than the stored one (RFC 1982) is refused
 *   (ZX_ESERIAL), unless XFR_FORCE_AXFR (same serial) / XFR_FORCE_OLDER (any).
 *
 * Every step that leaves a state runs from the deferred `step` event, never
 * inside a socket callback, so a callback never sees its conn reopened or freed.
 * The SOA states are in xfr_soa.c; what both files share, in xfr_internal.h.
 */
#include "xfrd/xfr/xfr.h"

#include "xfrd/xfr/xfr_internal.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/dnsmsg.h"
#include "common/serial.h"
#include "common/tsig/tsig.h"
#include "common/cfg/cfg.h"
#include "xfrd/xfr/commitq.h"
#include "xfrd/xfr/conn.h"
#include "xfrd/xfr/connector.h"
#include "xfrd/xfr/connpool.h"
#include "xfrd/xfr/proxies.h"
#include "xfrd/xfr/xot.h"
#include "proto/query.h"
#include "proto/socks5.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

const char *xfr_outcome_str(enum xfr_outcome o)
{
	switch (o) {
	case XFR_UPTODATE:
		return "uptodate";
	case XFR_AXFR:
		return "axfr";
	case XFR_IXFR:
		return "ixfr";
	case XFR_FAILED:
		return "failed";
	}
	return "?";
}

static uint16_t new_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
		id = (uint16_t)random();
	}
	return id;
}

void xfr_schedule(struct xfr *x, enum act a)
{
	x->next = a;
	event_active(x->step, EV_TIMEOUT, 0);
}

void xfr_fail(struct xfr *x, int rc, const char *why)
{
	if (x->res.outcome != XFR_FAILED) {
		x->res.outcome = XFR_FAILED;
		x->res.error = rc;
		x->res.why = why;
	}
	xfr_schedule(x, ACT_FINISH);
}

static void drop_txn(struct xfr *x)
{
	if (x->txn != NULL) {
		x->p.ops->abort(x->txn);
		x->txn = NULL;
	}
}

static void close_io(struct xfr *x)
{
	if (x->keep) {
		struct ssl_st *ssl = NULL;
		int fd = conn_detach(&x->conn, &ssl);
		if (fd >= 0) {
			connpool_put_tls(x->p.pool, x->p.primary, x->p.primary_len, &x->path, fd, ssl);
		}
		x->keep = false;
	}
	conn_close(&x->conn);
	connector_cancel(&x->setup);
	xot_hs_cancel(&x->hs);
	if (x->ctl_fd >= 0) {
		close(x->ctl_fd);
		x->ctl_fd = -1;
	}
	x->udp_hdr_len = 0;
	if (x->udp_ev != NULL) {
		event_free(x->udp_ev);
		x->udp_ev = NULL;
	}
	if (x->udp_fd >= 0) {
		close(x->udp_fd);
		x->udp_fd = -1;
	}
	if (x->tsig_on) {
		tsig_session_deinit(&x->tsig);
		x->tsig_on = false;
	}
}

/* Build the query for @p qtype with a fresh ID, signed when there is a key. */
int xfr_make_query(struct xfr *x, uint16_t qtype)
{
	x->id = new_id();
	const uint8_t *soa = x->held.soa_rdlen > 0 ? x->held.soa_rdata : NULL;
	int rc = query_build(x->query, QUERY_MAX, &x->qlen, x->id, x->zone, qtype, x->held.serial,
	                     soa, x->held.soa_rdlen);
	if (rc == 0 && x->p.key != NULL) {
		tsig_session_init(&x->tsig, x->p.key, TSIG_FUDGE_DEFAULT);
		x->tsig_on = true;
		rc = tsig_session_sign_request(&x->tsig, x->query, &x->qlen, sizeof(x->query),
		                               (uint64_t)clock_wall_s());
	}
	return rc;
}

/* Whatever the store said about its last failure on this thread, as the detail. */
static void store_detail(struct xfr *x)
{
	const char *e = x->p.ops->error != NULL ? x->p.ops->error() : NULL;
	snprintf(x->res.detail, sizeof(x->res.detail), "%s", e != NULL ? e : "");
}

/* The serials the store may take from this transfer (xfr.h, Serials). */
static enum zdb_serial_rule serial_rule(const struct xfr *x)
{
	if ((x->p.flags & XFR_FORCE_OLDER) != 0) {
		return ZDB_SERIAL_ANY;
	}
	if ((x->p.flags & XFR_FORCE_AXFR) != 0 || x->held.corrupt) {
		return ZDB_SERIAL_SAME;
	}
	return ZDB_SERIAL_NEWER;
}

/* The answer's serial against what we hold: refused early, before the zone comes
   (the store checks again in its commit, against what it holds then). */
static int serial_check(struct xfr *x, uint32_t serial)
{
	if (!x->held.loaded) {
		return 0;
	}
	enum serial_order o = serial_cmp(serial, x->held.serial);
	enum zdb_serial_rule rule = serial_rule(x);
	if (o == SERIAL_GT || rule == ZDB_SERIAL_ANY || (o == SERIAL_EQ && rule == ZDB_SERIAL_SAME)) {
		return 0;
	}
	snprintf(x->res.detail, sizeof(x->res.detail),
	         "the answer's serial %u is %s the stored serial %u (RFC 1982); refused", serial,
	         o == SERIAL_EQ ? "the same as" : o == SERIAL_LT ? "older than" : "not comparable with",
	         x->held.serial);
	return ZX_ESERIAL;
}

/* TSIG check of one answer message (no-op without a key). */
int xfr_verify(struct xfr *x, const uint8_t *msg, size_t len)
{
	if (!x->tsig_on) {
		return 0;
	}
	int rc = tsig_session_verify(&x->tsig, msg, len, (uint64_t)clock_wall_s());
	struct dns_hdr h;
	if (rc != 0 && dnsmsg_hdr_parse(msg, len, &h) == 0) {
		/* a primary that refuses our key answers NOTAUTH with the TSIG error: the log
		   shows both, not the rcode of a reply never read (0) */
		x->res.rcode = (uint8_t)DNS_RCODE(h.flags);
	}
	return rc;
}

/* ---- egress ------------------------------------------------------------- */

/* A setup (xfrd/xfr/connector.h) failed: whose fault, and the detail. */
void xfr_setup_failed(struct xfr *x, int rc, const struct connector_fail *f)
{
	x->res.egress_fail = f->at_proxy ? XFR_EGRESS_PROXY
	                     : rc == ZX_ESOCKS_UNREACHABLE ? XFR_EGRESS_UNREACHABLE
	                                                   : XFR_EGRESS_OK;
	x->res.socks_rep = f->rep;
	if (x->p.proxy == NULL) {
		snprintf(x->res.detail, sizeof(x->res.detail), "%s: %s", f->step, zx_strerror(rc));
	} else if (f->rep != 0) {
		snprintf(x->res.detail, sizeof(x->res.detail), "proxy %s: %s: reply %u (%s)",
		         x->res.proxy, f->step, f->rep, socks5_rep_str(f->rep));
	} else {
		snprintf(x->res.detail, sizeof(x->res.detail), "proxy %s: %s: %s", x->res.proxy,
		         f->step, zx_strerror(rc));
	}
}

/* The connection of an exchange broke (@p rc from the conn): through a proxy that is
 * the path's failure, before the primary's first byte or after it. A TLS session that
 * ended before the first answer byte (on a connection of this refresh: a kept one
 * is retried first) is the handshake's failure: servers that want a client
 * certificate, or refuse ours, close right after the handshake (BIND 9.18 without an
 * alert: a reset or an EOF). Returns the code to fail with. */
int xfr_conn_broke(struct xfr *x, int rc)
{
	if (x->p.tls != NULL && (rc == ZX_ETLS || rc == ZX_ECONNRESET) && x->conn.bytes_in == 0) {
		char e[160];
		const char *why = rc == ZX_ETLS ? xot_err_str(x->conn.tls_err, e, sizeof(e))
		                                : "closed";
		x->res.tls_info.reason = XOT_HANDSHAKE;
		snprintf(x->res.tls_info.detail, sizeof(x->res.tls_info.detail), "TLS: %s", why);
		snprintf(x->res.detail, sizeof(x->res.detail), "tls %.60s: the server ended the "
		         "session before its first answer (a client certificate missing or "
		         "refused?): %.90s", x->res.primary, why);
		return ZX_ETLS;
	}
	if (rc == ZX_ETLS) {
		char e[160];
		snprintf(x->res.detail, sizeof(x->res.detail), "tls %.60s: %.150s", x->res.primary,
		         xot_err_str(x->conn.tls_err, e, sizeof(e)));
	}
	if (x->p.proxy != NULL && rc != 0) {
		x->res.egress_fail = x->conn.bytes_in == 0 ? XFR_EGRESS_UNREACHABLE : XFR_EGRESS_LOST;
		if (x->res.detail[0] == '\0') {
			snprintf(x->res.detail, sizeof(x->res.detail), "through proxy %s: %s",
			         x->res.proxy, x->conn.bytes_in == 0 ? "closed before the primary's "
			         "first byte" : "the connection broke mid-exchange");
		}
	}
	return rc;
}

/* The connection is there (and its TLS session, when p.tls): send the query. */
static int conn_on(struct xfr *x, int fd, struct ssl_st *ssl)
{
	if (ssl != NULL) {
		return conn_open_tls(&x->conn, x->base, fd, ssl, x->p.read_ms, x->query, x->qlen,
		                     x->rbuf, x->on_msg, x);
	}
	return conn_open_fd(&x->conn, x->base, fd, x->p.read_ms, x->query, x->qlen, x->rbuf,
	                    x->on_msg, x);
}

static void on_tls_ready(void *arg, int rc, int fd, struct ssl_st *ssl,
                         const struct xot_info *info)
{
	struct xfr *x = arg;
	x->res.tls_handshakes++;
	x->res.tls_info = *info;
	if (rc == 0) {
		rc = conn_on(x, fd, ssl);
	} else {
		snprintf(x->res.detail, sizeof(x->res.detail), "tls %s: %.180s", x->res.primary,
		         info->detail);
	}
	if (rc != 0) {
		xfr_fail(x, rc, "TLS handshake");
	}
}

static void on_stream_ready(void *arg, int rc, const struct connector_out *out,
                            const struct connector_fail *f)
{
	struct xfr *x = arg;
	if (rc == 0 && x->p.tls != NULL) {
		/* the handshake gets a connect timeout's time of its own */
		rc = xot_hs_start(&x->hs, x->base, x->p.tls, out->fd, x->p.primary,
		                  x->p.connect_ms, on_tls_ready, x);
	} else if (rc == 0) {
		rc = conn_on(x, out->fd, NULL);
	} else {
		xfr_setup_failed(x, rc, f);
	}
	if (rc != 0) {
		xfr_fail(x, rc, x->open_why);
	}
}

void xfr_exchange(struct xfr *x, conn_cb on_msg, const char *why)
{
	x->on_msg = on_msg;
	x->open_why = why;
	x->res.egress_fail = XFR_EGRESS_OK;
	x->res.socks_rep = 0;
	struct ssl_st *ssl = NULL;
	int fd = x->p.pool != NULL && !x->fresh
	                 ? connpool_take_tls(x->p.pool, x->p.primary, &x->path, &ssl)
	                 : -1;
	x->res.conn_reused = fd >= 0;
	int rc;
	if (fd >= 0) {
		rc = conn_on(x, fd, ssl);
	} else {
		rc = connector_start(&x->setup, x->base, CONNECTOR_STREAM,
		                     (const struct sockaddr *)&x->primary, x->p.primary_len, &x->path,
		                     x->p.connect_ms, on_stream_ready, x);
	}
	if (rc != 0) {
		xfr_fail(x, rc, why);
	}
}

/* ---- IXFR / AXFR -------------------------------------------------------- */

static int on_stream(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct xfr *x = arg;
	int rc = 0;
	if (ev == XFRSTREAM_BEGIN_AXFR || ev == XFRSTREAM_BEGIN_IXFR) {
		drop_txn(x);
		rc = serial_check(x, rr->serial);
		if (rc != 0) {
			return rc;
		}
		rc = x->p.ops->begin(x->p.store, x->zone, ev == XFRSTREAM_BEGIN_AXFR, serial_rule(x),
		                     &x->txn);
		if (rc == 0 && (x->p.flags & XFR_FOLLOW) != 0 && x->p.ops->set_follow != NULL) {
			x->p.ops->set_follow(x->txn);
		}
	}
	if (rc == 0 && x->txn != NULL) {
		rc = x->p.ops->put(x->txn, ev, rr);
	}
	if (rc != 0) {
		store_detail(x);
	}
	return rc;
}

static bool ixfr_fallback(const struct xfr *x, int rc)
{
	if (x->st != ST_IXFR || x->res.fell_back) {
		return false;
	}
	switch (rc) {
	case ZX_ELIMIT: /* an IXFR larger than the zone may be: the AXFR is the bound */
		return x->stream.kind == XFRSTREAM_BEGIN_IXFR;
	case ZX_ETIMEDOUT: /* the primary answered, the IXFR took too long */
		return x->stream.messages > 0;
	case ZX_ECORRUPT: /* the zone we hold cannot take a diff */
	case ZX_ERCODE:
		switch (x->res.rcode) {
		case DNS_RC_NOTIMP:
		case DNS_RC_REFUSED:
		case DNS_RC_FORMERR:
		case DNS_RC_SERVFAIL:
		case DNS_RC_NOTAUTH:
			return true;
		default:
			return false;
		}
	case ZX_EXFR:
	case ZX_EFORMAT:
	case ZX_ETRUNC:
	case ZX_EDIFF:
	case ZX_ECONNRESET: /* closed before the closing SOA */
		return true;
	default:
		return false;
	}
}

/* The transfer failed with @p rc: fall back to AXFR, or fail. */
static void xfr_error(struct xfr *x, int rc, const char *why)
{
	drop_txn(x);
	if (ixfr_fallback(x, rc)) {
		x->res.fell_back = true;
		x->res.fallback_error = rc;
		x->res.rcode = 0;
		x->res.detail[0] = '\0';
		if (rc == ZX_ETIMEDOUT && x->p.transfer_ms != 0) {
			struct timeval tv = ms_tv(x->p.transfer_ms); /* the AXFR's own time */
			(void)event_add(x->timer, &tv);
		}
		xfr_schedule(x, ACT_AXFR);
		return;
	}
	xfr_fail(x, rc, why);
}

static void count_stream(struct xfr *x)
{
	const struct xfrstream *s = &x->stream;
	x->res.added = s->added;
	x->res.deleted = s->deleted;
	x->res.changesets = s->changesets;
	x->res.messages = s->messages;
	x->res.bytes = s->wire_bytes;
	x->res.primary_serial = s->serial;
}

static void stream_done(struct xfr *x)
{
	count_stream(x);
	int rc = x->tsig_on ? tsig_session_finish(&x->tsig) : 0;
	if (rc != 0) {
		xfr_error(x, rc, "last message not signed");
		return;
	}
	x->keep = x->p.pool != NULL; /* the exchange is over: the connection may serve the next */
	if (x->stream.kind == XFRSTREAM_UPTODATE) {
		x->res.outcome = XFR_UPTODATE;
		xfr_schedule(x, ACT_FINISH);
		return;
	}
	xfr_schedule(x, ACT_COMMIT); /* after close_io(): never inside the conn's callback */
}

/* The commit's outcome, on our base. */
static void committed(struct xfr *x, int rc)
{
	x->res.commit_us = since_us(x->tc_us);
	if (rc != 0 && x->late) { /* the timer ran out while committing */
		xfr_error(x, ZX_ETIMEDOUT, "whole transfer timeout");
		return;
	}
	if (rc != 0) {
		xfr_error(x, rc, "store commit");
		return;
	}
	x->res.outcome = x->stream.kind == XFRSTREAM_BEGIN_IXFR ? XFR_IXFR : XFR_AXFR;
	xfr_schedule(x, ACT_FINISH);
}

/* On a commitq thread: hand the result over to our base. */
static void on_commit_done(struct commitq_job *j, int rc)
{
	struct xfr *x = (struct xfr *)((char *)j - offsetof(struct xfr, cjob));
	x->commit_rc = rc;
	event_active(x->commit_ev, EV_TIMEOUT, 0);
}

static void on_committed(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct xfr *x = arg;
	x->committing = false;
	committed(x, x->commit_rc);
}

/* Make the transfer visible: on p.commitq when there is one and the store lets
 * the transaction move (a large IXFR holds the write lock of this thread), else
 * right here. */
static void commit(struct xfr *x)
{
	void *txn = x->txn;
	x->txn = NULL;
	x->tc_us = clock_mono_us();
	if (x->st == ST_AXFR && x->p.released != NULL) {
		x->p.released(x->cb_arg); /* the primary is done with: close_io() ran before */
	}
	if (x->p.commitq == NULL || (x->p.ops->movable != NULL && !x->p.ops->movable(txn))) {
		int rc = x->p.ops->commit(txn, clock_wall_s(), x->res.primary, &x->res.commit);
		if (rc != 0) {
			store_detail(x);
		}
		committed(x, rc);
		return;
	}
	x->committing = true;
	x->cjob = (struct commitq_job){.ops = x->p.ops, .txn = txn, .now = clock_wall_s(),
	                               .primary = x->res.primary, .res = &x->res.commit,
	                               .errtext = x->res.detail,
	                               .errtext_size = sizeof(x->res.detail),
	                               .done = on_commit_done};
	commitq_submit(x->p.commitq, &x->cjob);
}

static int on_xfr_msg(void *arg, int rc, const uint8_t *msg, size_t len)
{
	struct xfr *x = arg;
	if (rc != 0 && x->res.conn_reused && x->conn.bytes_in == 0) {
		/* the pooled connection was closed by the primary while idle (or does
		   not take a second query): the same query once more, on a new one */
		x->fresh = true;
		xfr_schedule(x, x->st == ST_IXFR ? ACT_IXFR : ACT_AXFR);
		return 1;
	}
	if (rc != 0) {
		/* EOF in the middle of a message is a framing error; a reset or a
		   timeout says nothing about IXFR support */
		rc = xfr_conn_broke(x, rc);
		xfr_error(x, rc, rc == ZX_ECONNRESET ? "connection closed or reset before the end"
		                                     : "transfer connection");
		return 1;
	}
	rc = xfr_verify(x, msg, len);
	if (rc != 0) {
		count_stream(x);
		xfr_error(x, rc, "transfer TSIG");
		return 1;
	}
	rc = xfrstream_feed(&x->stream, msg, len);
	if (rc == 0) {
		return 0;
	}
	if (rc == 1) {
		stream_done(x);
	} else {
		count_stream(x);
		x->res.rcode = x->stream.rcode;
		if (x->res.detail[0] == '\0') { /* the store's text, when it refused, says more */
			snprintf(x->res.detail, sizeof(x->res.detail), "%.*s",
			         (int)sizeof(x->res.detail) - 1, x->stream.detail);
		}
		xfr_error(x, rc, rc == ZX_ESERIAL ? "serial check"
		                 : x->stream.why != NULL ? x->stream.why : "transfer");
	}
	return 1;
}

static void transfer(struct xfr *x, uint16_t qtype)
{
	x->st = qtype == DNS_T_IXFR ? ST_IXFR : ST_AXFR;
	int rc = xfr_make_query(x, qtype);
	struct xfrstream_cfg sc = {
		.zone = x->zone, .qtype = qtype, .id = x->id, .our_serial = x->held.serial,
		.max_records = x->p.max_records, .max_bytes = x->p.max_bytes,
		.cb = on_stream, .arg = x,
	};
	if (rc == 0) {
		rc = xfrstream_init(&x->stream, &sc);
	}
	if (rc != 0) {
		xfr_fail(x, rc, "transfer connect");
		return;
	}
	xfr_exchange(x, on_xfr_msg, "transfer connect");
}

/* ---- driving ------------------------------------------------------------ */

static void finish(struct xfr *x)
{
	close_io(x);
	drop_txn(x);
	event_del(x->timer);
	x->res.duration_us = since_us(x->t0_us);
	x->st = ST_DONE;
	x->cb(x->cb_arg, x, &x->res); /* may free x: nothing after this */
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct xfr *x = arg;
	enum act a = x->next;
	x->next = ACT_NONE;
	if (x->st == ST_DONE) {
		return;
	}
	close_io(x);
	switch (a) {
	case ACT_SOA_TCP:
		xfr_soa_tcp(x);
		break;
	case ACT_IXFR:
		transfer(x, DNS_T_IXFR);
		break;
	case ACT_AXFR:
		transfer(x, DNS_T_AXFR);
		break;
	case ACT_COMMIT:
		commit(x);
		break;
	case ACT_FINISH:
		finish(x);
		break;
	case ACT_NONE:
		break;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct xfr *x = arg;
	if (x->committing) { /* a commit's result stands; a failed one then ends here */
		x->late = true;
		return;
	}
	if (x->p.proxy != NULL && x->st != ST_DONE) {
		x->res.egress_fail = XFR_EGRESS_LOST; /* a proxy that stalls: try the next one */
	}
	close_io(x);
	xfr_error(x, ZX_ETIMEDOUT, "whole transfer timeout"); /* an IXFR under way: AXFR */
}

static int init(struct xfr *x, struct event_base *base, const struct xfr_params *p)
{
	int zlen = dname_wire_len(p->zone, DNAME_MAXLEN);
	if (zlen < 0 || p->primary_len > sizeof(x->primary) || p->ops == NULL ||
	    (p->primary->sa_family != AF_INET && p->primary->sa_family != AF_INET6)) {
		return ZX_EINVAL;
	}
	x->base = base;
	x->p = *p;
	memcpy(x->zone, p->zone, (size_t)zlen);
	dname_lower(x->zone);
	x->p.zone = x->zone;
	memcpy(&x->primary, p->primary, p->primary_len);
	x->p.primary = (const struct sockaddr *)&x->primary;
	x->udp_fd = -1;
	x->ctl_fd = -1;
	conn_init(&x->conn);
	connector_init(&x->setup);
	xot_hs_init(&x->hs);
	x->path = (struct connector_path){.source = p->source, .proxy = p->proxy, .tls = p->tls};
	x->res.tls = p->tls != NULL;
	acl_addr_str(x->p.primary, true, x->res.primary, sizeof(x->res.primary));
	if (p->proxy != NULL) {
		proxies_name(p->proxy, x->res.proxy, sizeof(x->res.proxy));
	}
	x->t0_us = clock_mono_us();
	x->step = event_new(base, -1, 0, on_step, x);
	x->timer = event_new(base, -1, 0, on_timeout, x);
	x->commit_ev = event_new(base, -1, 0, on_committed, x);
	if (x->step == NULL || x->timer == NULL || x->commit_ev == NULL) {
		return ZX_ENOMEM;
	}
	struct timeval tv = ms_tv(x->p.transfer_ms);
	if (x->p.transfer_ms != 0 && event_add(x->timer, &tv) != 0) {
		return ZX_ENOMEM;
	}
	return 0;
}

int xfr_start(struct event_base *base, const struct xfr_params *p, xfr_done_cb cb, void *arg,
              struct xfr **out)
{
	/* About 200 KiB, nearly all buffers that are written before they are read
	   (query: xfr_make_query(), stream: xfrstream_init(), rbuf: the conn): zeroing
	   them cost 4% of xfrd's CPU with 10,000 small zones. */
	struct xfr *x = malloc(sizeof(*x));
	if (x == NULL) {
		return ZX_ENOMEM;
	}
	memset(x, 0, offsetof(struct xfr, query));
	x->cb = cb;
	x->cb_arg = arg;
	int rc = init(x, base, p);
	if (rc != 0) {
		xfr_free(x);
		return rc;
	}
	rc = p->ops->zone_get(p->store, x->zone, &x->held);
	if (rc != 0) {
		xfr_fail(x, rc, "store read");
	} else if (!x->held.loaded || (p->flags & XFR_FORCE_AXFR) != 0 || x->held.corrupt) {
		x->res.had_zone = x->held.loaded;
		x->res.old_serial = x->held.serial;
		xfr_schedule(x, ACT_AXFR);
	} else {
		x->res.had_zone = true;
		x->res.old_serial = x->held.serial;
		if (p->tls != NULL) {
			xfr_schedule(x, ACT_SOA_TCP); /* over TLS: never in clear over UDP */
		} else {
			xfr_soa_udp(x);
		}
	}
	*out = x;
	return 0;
}

void xfr_free(struct xfr *x)
{
	if (x == NULL) {
		return;
	}
	if (x->committing) { /* the commit thread holds the txn and will touch x */
		commitq_wait(x->p.commitq, &x->cjob);
	}
	close_io(x);
	drop_txn(x);
	if (x->commit_ev != NULL) {
		event_free(x->commit_ev);
	}
	if (x->step != NULL) {
		event_free(x->step);
	}
	if (x->timer != NULL) {
		event_free(x->timer);
	}
	free(x);
}
