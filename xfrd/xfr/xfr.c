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
 */
#include "xfrd/xfr/xfr.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/dnsmsg.h"
#include "common/serial.h"
#include "common/tsig/tsig.h"
#include "xfrd/xfr/commitq.h"
#include "xfrd/xfr/conn.h"
#include "xfrd/xfr/connpool.h"
#include "proto/query.h"

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

enum st { ST_SOA_UDP = 1, ST_SOA_TCP, ST_IXFR, ST_AXFR, ST_DONE };
enum act { ACT_NONE = 0, ACT_SOA_TCP, ACT_IXFR, ACT_AXFR, ACT_COMMIT, ACT_FINISH };

struct xfr {
	struct event_base *base;
	struct xfr_params p;
	struct sockaddr_storage primary;
	uint8_t zone[DNAME_MAXLEN];
	enum st st;
	enum act next;
	struct xfr_result res;
	struct xfr_held held;
	uint16_t id;
	bool tsig_on;
	/* connection reuse (p.pool; res.conn_reused: the conn came from the pool):
	   the exchange ended cleanly, give the socket back; a pooled socket was
	   stale, connect anew */
	bool keep, fresh;
	struct tsig_session tsig;
	struct conn conn;
	int udp_fd;
	struct event *udp_ev;
	struct event *timer;
	struct event *step;
	void *txn;
	uint64_t t0_us; /* clock_mono_us() at the start */
	/* the commit, when it runs on p.commitq: committing from submit until
	   on_committed() runs on our base (commit_ev) */
	struct event *commit_ev;
	struct commitq_job cjob;
	bool committing;
	bool late; /* the whole-transfer timeout passed while committing */
	int commit_rc;
	uint64_t tc_us; /* at the commit */
	xfr_done_cb cb;
	void *cb_arg;
	size_t qlen;
	/* buffers last: xfr_start() zeroes only what is above them */
	uint8_t query[QUERY_MAX + TSIG_RR_MAX];
	struct xfrstream stream;
	uint8_t rbuf[CONN_BUF];
};

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

static struct timeval ms_tv(uint64_t ms)
{
	return (struct timeval){.tv_sec = (time_t)(ms / 1000),
	                        .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

static uint64_t since_us(uint64_t t0_us)
{
	return clock_mono_us() - t0_us;
}

static uint16_t new_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
		id = (uint16_t)random();
	}
	return id;
}

static void schedule(struct xfr *x, enum act a)
{
	x->next = a;
	event_active(x->step, EV_TIMEOUT, 0);
}

static void fail(struct xfr *x, int rc, const char *why)
{
	if (x->res.outcome != XFR_FAILED) {
		x->res.outcome = XFR_FAILED;
		x->res.error = rc;
		x->res.why = why;
	}
	schedule(x, ACT_FINISH);
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
		int fd = conn_detach(&x->conn);
		if (fd >= 0) {
			connpool_put(x->p.pool, x->p.primary, x->p.primary_len, fd);
		}
		x->keep = false;
	}
	conn_close(&x->conn);
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
static int make_query(struct xfr *x, uint16_t qtype)
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
static int verify(struct xfr *x, const uint8_t *msg, size_t len)
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

/* ---- SOA check ---------------------------------------------------------- */

static void soa_decide(struct xfr *x, uint32_t serial)
{
	x->res.primary_serial = serial;
	x->res.soa_us = since_us(x->t0_us);
	if (!serial_newer(serial, x->held.serial)) {
		x->res.outcome = XFR_UPTODATE;
		schedule(x, ACT_FINISH);
		return;
	}
	schedule(x, ACT_IXFR);
}

/* A verified-or-unsigned SOA answer. Returns 1 when it settled the SOA step. */
static int soa_answer(struct xfr *x, const uint8_t *msg, size_t len)
{
	struct query_soa a;
	struct dns_hdr h;
	if (x->st == ST_SOA_UDP && dnsmsg_hdr_parse(msg, len, &h) == 0 &&
	    (h.flags & DNS_FLAG_TC) != 0) {
		schedule(x, ACT_SOA_TCP); /* truncated: TSIG may not even be there */
		return 1;
	}
	int rc = verify(x, msg, len);
	if (rc == 0 && x->tsig_on) {
		rc = tsig_session_finish(&x->tsig);
	}
	if (rc != 0) {
		fail(x, rc, "SOA answer TSIG");
		return 1;
	}
	rc = query_soa_answer(msg, len, x->id, x->zone, &a);
	if (rc == ZX_ERCODE) {
		x->res.rcode = a.rcode;
		fail(x, rc, "SOA query refused");
	} else if (rc != 0) {
		fail(x, rc, "SOA answer");
	} else if (a.truncated && x->st == ST_SOA_UDP) {
		schedule(x, ACT_SOA_TCP);
	} else if (a.truncated) {
		fail(x, ZX_EXFR, "SOA answer truncated over TCP");
	} else {
		soa_decide(x, a.serial);
	}
	return 1;
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct xfr *x = arg;
	if (what & EV_TIMEOUT) {
		event_del(x->udp_ev); /* persistent: it would fire again */
		schedule(x, ACT_SOA_TCP); /* lost: ask over TCP */
		return;
	}
	ssize_t n = recv(fd, x->rbuf, 65535, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		event_del(x->udp_ev);
		schedule(x, ACT_SOA_TCP); /* ICMP unreachable and the like */
		return;
	}
	struct dns_hdr h;
	if (dnsmsg_hdr_parse(x->rbuf, (size_t)n, &h) != 0 || h.id != x->id) {
		return; /* not the answer to our query: keep waiting */
	}
	event_del(x->udp_ev);
	(void)soa_answer(x, x->rbuf, (size_t)n);
}

static int soa_udp_open(struct xfr *x)
{
	x->udp_fd = socket(x->primary.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->udp_fd < 0 ||
	    connect(x->udp_fd, (const struct sockaddr *)&x->primary, x->p.primary_len) != 0 ||
	    send(x->udp_fd, x->query, x->qlen, 0) != (ssize_t)x->qlen) {
		return ZX_EIO;
	}
	x->udp_ev = event_new(x->base, x->udp_fd, EV_READ | EV_PERSIST, on_udp, x);
	struct timeval tv = ms_tv(x->p.soa_ms);
	if (x->udp_ev == NULL || event_add(x->udp_ev, &tv) != 0) {
		return ZX_ENOMEM;
	}
	return 0;
}

static void soa_udp(struct xfr *x)
{
	x->st = ST_SOA_UDP;
	int rc = make_query(x, DNS_T_SOA);
	if (rc != 0) {
		fail(x, rc, "SOA query");
		return;
	}
	if (soa_udp_open(x) != 0) {
		schedule(x, ACT_SOA_TCP); /* no UDP socket: TCP may still work */
	}
}

static int on_soa_tcp(void *arg, int rc, const uint8_t *msg, size_t len)
{
	struct xfr *x = arg;
	if (rc != 0) {
		fail(x, rc, "SOA query over TCP");
		return 1;
	}
	return soa_answer(x, msg, len);
}

static void soa_tcp(struct xfr *x)
{
	x->st = ST_SOA_TCP;
	int rc = make_query(x, DNS_T_SOA);
	if (rc == 0) {
		rc = conn_open(&x->conn, x->base, (const struct sockaddr *)&x->primary,
		               x->p.primary_len, x->p.connect_ms, x->p.read_ms, x->query, x->qlen,
		               x->rbuf, on_soa_tcp, x);
	}
	if (rc != 0) {
		fail(x, rc, "SOA query over TCP");
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
		schedule(x, ACT_AXFR);
		return;
	}
	fail(x, rc, why);
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
		schedule(x, ACT_FINISH);
		return;
	}
	schedule(x, ACT_COMMIT); /* after close_io(): never inside the conn's callback */
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
	schedule(x, ACT_FINISH);
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
		schedule(x, x->st == ST_IXFR ? ACT_IXFR : ACT_AXFR);
		return 1;
	}
	if (rc != 0) {
		/* EOF in the middle of a message is a framing error; a reset or a
		   timeout says nothing about IXFR support */
		xfr_error(x, rc, rc == ZX_ECONNRESET ? "connection closed or reset before the end"
		                                     : "transfer connection");
		return 1;
	}
	rc = verify(x, msg, len);
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
	int rc = make_query(x, qtype);
	struct xfrstream_cfg sc = {
		.zone = x->zone, .qtype = qtype, .id = x->id, .our_serial = x->held.serial,
		.max_records = x->p.max_records, .max_bytes = x->p.max_bytes,
		.cb = on_stream, .arg = x,
	};
	if (rc == 0) {
		rc = xfrstream_init(&x->stream, &sc);
	}
	int fd = rc == 0 && x->p.pool != NULL && !x->fresh ? connpool_take(x->p.pool, x->p.primary)
	                                                   : -1;
	x->res.conn_reused = fd >= 0;
	if (fd >= 0) {
		rc = conn_open_fd(&x->conn, x->base, fd, x->p.read_ms, x->query, x->qlen, x->rbuf,
		                  on_xfr_msg, x);
	} else if (rc == 0) {
		rc = conn_open(&x->conn, x->base, (const struct sockaddr *)&x->primary,
		               x->p.primary_len, x->p.connect_ms, x->p.read_ms, x->query, x->qlen,
		               x->rbuf, on_xfr_msg, x);
	}
	if (rc != 0) {
		fail(x, rc, "transfer connect");
	}
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
		soa_tcp(x);
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
	conn_init(&x->conn);
	acl_addr_str(x->p.primary, true, x->res.primary, sizeof(x->res.primary));
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
	   (query: make_query(), stream: xfrstream_init(), rbuf: the conn): zeroing
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
		fail(x, rc, "store read");
	} else if (!x->held.loaded || (p->flags & XFR_FORCE_AXFR) != 0 || x->held.corrupt) {
		x->res.had_zone = x->held.loaded;
		x->res.old_serial = x->held.serial;
		schedule(x, ACT_AXFR);
	} else {
		x->res.had_zone = true;
		x->res.old_serial = x->held.serial;
		soa_udp(x);
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
