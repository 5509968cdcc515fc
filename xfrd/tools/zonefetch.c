/* SPDX-License-Identifier: MIT */
/* xfrd/tools/zonefetch.c -- IXFR/AXFR from xfrd's endpoint, or the store's journal,
 * into a zonecopy (see zonefetch.h).
 *
 *   copy held? --no--> AXFR ------------------------------+
 *       |yes                                              |
 *       v                                                 v
 *   IXFR from our serial --UPTODATE--> none        xfrstream -> zonecopy_apply
 *       | error rcode, broken answer, ZX_EDIFF            |
 *       +--> AXFR on a new connection                     END: committed
 */
#include "xfrd/tools/zonefetch.h"

#include "common/clock.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "common/store/zdb.h"
#include "proto/query.h"
#include "proto/xfrstream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* One transfer over one connection. */
struct fetch {
	struct zonecopy *c;
	const struct zonefetch_src *src;
	struct zonefetch_result *res;
	int fd;
	int64_t deadline_ms;
	bool tsig_on;
	struct tsig_session tsig;
	struct xfrstream *stream;
	uint8_t query[QUERY_MAX + TSIG_RR_MAX];
	size_t qlen;
	uint8_t msg[65535];
};

static int64_t now_ms(void)
{
	return clock_mono_ms();
}

/* Wait for @p events on the socket within the read timeout and the deadline. */
static int wait_fd(struct fetch *f, short events)
{
	int64_t left = f->deadline_ms - now_ms();
	int tmo = left < (int64_t)f->src->timeout_ms ? (int)left : (int)f->src->timeout_ms;
	if (tmo <= 0) {
		return ZX_ETIMEDOUT;
	}
	struct pollfd p = {.fd = f->fd, .events = events};
	int n;
	do {
		n = poll(&p, 1, tmo);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return zx_err_from_errno(errno);
	}
	return n == 0 ? ZX_ETIMEDOUT : 0;
}

static int tcp_connect(struct fetch *f)
{
	const struct zonefetch_src *s = f->src;
	f->fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd < 0) {
		return zx_err_from_errno(errno);
	}
	if (connect(f->fd, (const struct sockaddr *)&s->addr, s->addr_len) == 0) {
		return 0;
	}
	if (errno != EINPROGRESS) {
		return zx_err_from_errno(errno);
	}
	int rc = wait_fd(f, POLLOUT);
	int err = 0;
	socklen_t len = sizeof(err);
	if (rc == 0 && getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		err = errno;
	}
	return rc != 0 ? rc : err != 0 ? zx_err_from_errno(err) : 0;
}

/* Exactly @p len bytes, or an error (a peer closing early is ZX_ECONNRESET). */
static int io_all(struct fetch *f, uint8_t *buf, size_t len, bool out)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = out ? send(f->fd, buf + done, len - done, MSG_NOSIGNAL)
		                : recv(f->fd, buf + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			return ZX_ECONNRESET;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return zx_err_from_errno(errno);
		}
		int rc = wait_fd(f, out ? POLLOUT : POLLIN);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

static int send_query(struct fetch *f, uint16_t qtype, uint16_t id)
{
	const uint8_t *soa = NULL;
	size_t soa_len = 0;
	if (qtype == DNS_T_IXFR && zonecopy_soa(f->c, &soa, &soa_len) != 0) {
		return ZX_EINVAL;
	}
	int rc = query_build(f->query, QUERY_MAX, &f->qlen, id, f->c->zone, qtype,
	                     f->c->serial, soa, soa_len);
	if (rc == 0 && f->src->key != NULL) {
		tsig_session_init(&f->tsig, f->src->key, TSIG_FUDGE_DEFAULT);
		f->tsig_on = true;
		rc = tsig_session_sign_request(&f->tsig, f->query, &f->qlen, sizeof(f->query),
		                               (uint64_t)clock_wall_s());
	}
	uint8_t pfx[2] = {(uint8_t)(f->qlen >> 8), (uint8_t)f->qlen};
	if (rc == 0) {
		rc = io_all(f, pfx, 2, true);
	}
	return rc == 0 ? io_all(f, f->query, f->qlen, true) : rc;
}

/* Between the stream and the copy: the answer is committed only when its last
 * message was signed (unsigned messages are vouched for by a later signed one). */
static int on_event(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct fetch *f = arg;
	if (ev == XFRSTREAM_END && f->tsig_on && tsig_session_finish(&f->tsig) != 0) {
		return ZX_ENOTSIG;
	}
	return zonecopy_apply(f->c, ev, rr);
}

/* Read answer messages until the stream is complete. */
static int read_answer(struct fetch *f)
{
	int rc = 0;
	while (rc == 0) {
		uint8_t pfx[2];
		rc = io_all(f, pfx, 2, false);
		size_t len = (size_t)(pfx[0] << 8 | pfx[1]);
		if (rc == 0) {
			rc = io_all(f, f->msg, len, false);
		}
		if (rc == 0 && f->tsig_on) {
			rc = tsig_session_verify(&f->tsig, f->msg, len, (uint64_t)clock_wall_s());
		}
		if (rc == 0) {
			f->res->bytes += len + 2;
			rc = xfrstream_feed(f->stream, f->msg, len);
		}
	}
	return rc == 1 ? 0 : rc;
}

/* One transfer of @p qtype on a new connection. */
static int transfer(struct fetch *f, uint16_t qtype)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != sizeof(id)) {
		id = (uint16_t)now_ms();
	}
	struct xfrstream_cfg sc = {.zone = f->c->zone, .qtype = qtype, .id = id,
	                           .our_serial = f->c->serial, .cb = on_event, .arg = f};
	f->fd = -1;
	f->tsig_on = false;
	f->deadline_ms = now_ms() + (int64_t)f->src->timeout_ms * 20;
	int rc = xfrstream_init(f->stream, &sc);
	if (rc == 0) {
		rc = tcp_connect(f);
	}
	if (rc == 0) {
		rc = send_query(f, qtype, id);
	}
	if (rc == 0) {
		rc = read_answer(f);
	}
	if (rc == ZX_EXFR && f->stream->why != NULL) {
		f->res->why = f->stream->why;
	}
	if (rc != 0) {
		zonecopy_abort(f->c);
	}
	if (f->tsig_on) {
		tsig_session_deinit(&f->tsig);
	}
	if (f->fd >= 0) {
		close(f->fd);
	}
	return rc;
}

static void result_of(const struct xfrstream *s, struct zonefetch_result *res)
{
	res->method = s->kind == XFRSTREAM_UPTODATE ? "none"
	              : s->kind == XFRSTREAM_BEGIN_IXFR ? "ixfr" : "axfr";
	res->changes = s->added + s->deleted;
}

static int fetch_dns(struct zonecopy *c, const struct zonefetch_src *src,
                     struct zonefetch_result *res)
{
	struct fetch *f = calloc(1, sizeof(*f));
	struct xfrstream *s = malloc(sizeof(*s));
	int rc = f == NULL || s == NULL ? ZX_ENOMEM : 0;
	if (rc == 0) {
		*f = (struct fetch){.c = c, .src = src, .res = res, .stream = s};
		rc = c->loaded ? transfer(f, DNS_T_IXFR) : transfer(f, DNS_T_AXFR);
		bool fallback = c->loaded && (rc == ZX_ERCODE || rc == ZX_EXFR || rc == ZX_EDIFF ||
		                              rc == ZX_EFORMAT || rc == ZX_ETRUNC);
		if (fallback) {
			res->bytes = 0;
			rc = transfer(f, DNS_T_AXFR);
		}
		if (rc == 0) {
			result_of(s, res);
		} else if (rc == ZX_ERCODE) {
			res->why = s->rcode == DNS_RC_NOTAUTH ? "NOTAUTH: the endpoint does not hold the zone"
			           : s->rcode == DNS_RC_REFUSED ? "REFUSED: not allowed (ACL or TSIG)"
			                                        : "error rcode";
		}
	}
	free(s);
	free(f);
	return rc;
}

/* ---------------------------------------------------------------- store */

static int feed_rr(struct zonecopy *c, enum xfrstream_ev ev, const struct zdb_rr *rr)
{
	struct xfrstream_rr x = {.owner = rr->owner, .owner_len = rr->owner_len, .type = rr->type,
	                         .rclass = rr->rclass, .ttl = rr->ttl, .rdata = rr->rdata,
	                         .rdlen = rr->rdlen};
	struct dns_soa soa;
	if (rr->type == DNS_T_SOA && dnsmsg_soa_parse(rr->rdata, rr->rdlen, &soa) == 0) {
		x.serial = soa.serial;
	}
	return zonecopy_apply(c, ev, &x);
}

/* Feed an iterator's RRs; journal iterators say which half each RR is in. */
static int feed_iter(struct zonecopy *c, struct zdb_iter *it, bool journal,
                     struct zonefetch_result *res)
{
	struct zdb_rr rr;
	int rc;
	bool first = true;
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		bool del = journal && zdb_iter_op(it, NULL, NULL) == ZDB_OP_DEL;
		enum xfrstream_ev ev = XFRSTREAM_ADD;
		if (rr.type == DNS_T_SOA && (journal || first)) {
			ev = !journal ? XFRSTREAM_BEGIN_AXFR : del ? XFRSTREAM_DEL_SOA : XFRSTREAM_ADD_SOA;
		} else if (del) {
			ev = XFRSTREAM_DEL;
		}
		res->changes += ev == XFRSTREAM_ADD || ev == XFRSTREAM_DEL;
		first = false;
		rc = feed_rr(c, ev, &rr);
		if (rc != 0) {
			return rc;
		}
	}
	return rc;
}

static int fetch_store(struct zonecopy *c, struct zdb *db, struct zonefetch_result *res)
{
	struct zdb_snap *s = NULL;
	struct zdb_iter *it = NULL;
	struct zdb_zone_info zi;
	int rc = zdb_snap_begin(db, &s);
	if (rc == 0) {
		rc = zdb_zone_get(s, c->zone, &zi);
		rc = rc == 0 && !zi.loaded ? ZX_ENOTFOUND : rc;
	}
	if (rc == 0 && c->loaded) {
		rc = zdb_iter_journal(s, c->zone, c->serial, &it);
		if (rc == ZX_EUPTODATE) {
			res->method = "none";
			zdb_snap_end(s);
			return 0;
		}
	}
	struct zdb_rr soa = {.owner = zi.name, .owner_len = zi.name_len, .type = DNS_T_SOA,
	                     .rclass = zi.rclass, .ttl = zi.soa_ttl, .rdlen = zi.soa_rdlen,
	                     .rdata = zi.soa_rdata};
	if (rc == 0 && it != NULL) {
		res->method = "ixfr";
		rc = feed_rr(c, XFRSTREAM_BEGIN_IXFR, &soa);
		rc = rc == 0 ? feed_iter(c, it, true, res) : rc;
		rc = rc == 0 ? feed_rr(c, XFRSTREAM_END, &soa) : rc;
		zdb_iter_free(it);
		it = NULL;
		if (rc == ZX_EDIFF) { /* the copy and the journal disagree: take it all */
			zonecopy_abort(c);
			rc = ZX_ENOTFOUND;
		}
		if (rc == ZX_ENOTFOUND) {
			res->changes = 0;
		}
	}
	if ((rc == 0 && !c->loaded) || (rc == ZX_ENOTFOUND && c->loaded)) {
		res->method = "axfr";
		rc = zdb_iter_zone(s, c->zone, &it);
		rc = rc == 0 ? feed_iter(c, it, false, res) : rc;
		rc = rc == 0 ? feed_rr(c, XFRSTREAM_END, &soa) : rc;
		zdb_iter_free(it);
	}
	if (rc != 0) {
		zonecopy_abort(c);
		res->why = rc == ZX_ENOTFOUND ? "the zone is not in the store, or has no data" : "store";
		if (rc != ZX_ENOTFOUND && rc != ZX_ENOMEM) {
			snprintf(res->detail, sizeof(res->detail), "%s", zdb_last_error());
		}
	}
	zdb_snap_end(s);
	return rc;
}

int zonefetch(struct zonecopy *c, const struct zonefetch_src *src, struct zonefetch_result *res)
{
	*res = (struct zonefetch_result){.method = "none", .from = c->serial, .why = "",
	                                 .detail = ""};
	int rc = src->store != NULL ? fetch_store(c, src->store, res) : fetch_dns(c, src, res);
	res->to = c->serial;
	return rc;
}
