/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve_reply.c -- the messages of xfrd's DNS endpoint: a small writer with
 * owner compression, and the AXFR/IXFR stream produced one message at a time
 * from a store iterator, so a transfer holds one message in memory whatever the
 * zone size; the transfer slots; and the stream's store snapshot, let go while
 * the client does not read (serve_reply_pause()) and taken again to go on. */
#include "xfrd/serve/serve.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/serve/serve_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ writer */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void serve_msg_start(struct serve_msg *m, const struct serve_reply *r, uint8_t *buf, size_t cap,
                     int rcode)
{
	memset(m, 0, sizeof(*m));
	m->buf = buf;
	m->cap = cap;
	put16(buf, r->id);
	put16(buf + 2, (uint16_t)(r->flags | (unsigned)rcode));
	memset(buf + 4, 0, 8);
	m->len = DNS_HDR_LEN;
	if (r->qname_len > 0) {
		put16(buf + 4, 1);
		memcpy(buf + m->len, r->qname, r->qname_len);
		m->len += r->qname_len;
		put16(buf + m->len, r->qtype);
		put16(buf + m->len + 2, r->qclass);
		m->len += 4;
	}
	m->qend = m->len;
}

/* Bytes of the labels of @p name above its last @p keep labels. */
static size_t prefix_len(const uint8_t *name, int keep)
{
	int drop = dname_labels(name) - keep;
	size_t n = 0;
	for (int i = 0; i < drop; i++) {
		n += (size_t)name[n] + 1;
	}
	return n;
}

int serve_msg_rr(struct serve_msg *m, const struct serve_reply *r, const struct zdb_rr *rr)
{
	size_t pre = rr->owner_len; /* bytes written as labels */
	size_t ptr = 0;             /* compression target; 0 none */
	if (m->prev_off != 0 && m->prev_off < 0x4000 && dname_equal(rr->owner, m->prev)) {
		pre = 0;
		ptr = m->prev_off;
	} else if (r->qname_len > 0 && dname_is_subdomain(rr->owner, r->qname)) {
		pre = prefix_len(rr->owner, dname_labels(r->qname));
		ptr = DNS_HDR_LEN;
	}
	size_t need = pre + (ptr != 0 ? 2 : 0) + 10 + rr->rdlen;
	if (m->len > m->cap || m->cap - m->len < need) {
		return ZX_ELIMIT;
	}
	uint8_t *p = m->buf + m->len;
	memcpy(p, rr->owner, pre);
	if (ptr != 0) {
		put16(p + pre, (uint16_t)(0xc000u | ptr));
	}
	if (ptr != m->prev_off || pre != 0) {
		m->prev_off = m->len;
		memcpy(m->prev, rr->owner, rr->owner_len);
	}
	p += pre + (ptr != 0 ? 2 : 0);
	put16(p, rr->type);
	put16(p + 2, rr->rclass);
	put16(p + 4, (uint16_t)(rr->ttl >> 16));
	put16(p + 6, (uint16_t)rr->ttl);
	put16(p + 8, rr->rdlen);
	memcpy(p + 10, rr->rdata, rr->rdlen);
	m->len += need;
	return 0;
}

void serve_msg_finish(struct serve_msg *m)
{
	put16(m->buf + 6, m->ancount);
	put16(m->buf + 8, m->nscount);
	put16(m->buf + 10, m->arcount);
}

struct zdb_rr serve_reply_soa(const struct serve_reply *r)
{
	return (struct zdb_rr){.owner = r->apex, .owner_len = r->apex_len, .type = DNS_T_SOA,
	                       .rclass = DNS_C_IN, .ttl = r->soa_ttl, .rdlen = r->soa_rdlen,
	                       .rdata = r->soa_rdata};
}

size_t serve_tsig_reserve(const struct tsig_request *req)
{
	return req->key_name_len + req->alg_name_len + 10 + 16 + TSIG_MAC_MAX + 6;
}

/* ------------------------------------------------------------ transfer slots */

static void set_active_gauge(struct serve *sv)
{
	if (sv->o.metrics != NULL) {
		metrics_set(sv->m.xfr_active, (int64_t)sv->xfr_active);
	}
}

const char *serve_xfr_admit(struct serve_reply *r)
{
	struct serve *sv = r->sv;
	bool full = sv->xfr_active >= sv->o.xfr_max;
	uint32_t same = 0;
	for (const struct serve_reply *x = sv->xfrs; x != NULL && !full; x = x->xnext) {
		same += x->srckey_len == r->srckey_len &&
		        memcmp(x->srckey, r->srckey, r->srckey_len) == 0;
	}
	if (full || same >= sv->o.xfr_per_source) {
		if (sv->o.metrics != NULL) {
			metrics_add(full ? sv->m.xfr_refused_max : sv->m.xfr_refused_source, 1);
		}
		return full ? "busy" : "busy_source";
	}
	r->slot = true;
	r->xnext = sv->xfrs;
	if (sv->xfrs != NULL) {
		sv->xfrs->xprev = r;
	}
	sv->xfrs = r;
	sv->xfr_active++;
	set_active_gauge(sv);
	return NULL;
}

static void xfr_release(struct serve_reply *r)
{
	struct serve *sv = r->sv;
	if (!r->slot) {
		return;
	}
	if (r->xprev != NULL) {
		r->xprev->xnext = r->xnext;
	} else {
		sv->xfrs = r->xnext;
	}
	if (r->xnext != NULL) {
		r->xnext->xprev = r->xprev;
	}
	r->slot = false;
	sv->xfr_active--;
	set_active_gauge(sv);
}

/* ------------------------------------------------------------ transfers */

void serve_xfr_begin(struct serve_reply *r, struct zdb_snap **snap, struct zdb_iter *it,
                     enum serve_method method, const struct tsig_request *treq)
{
	r->snap = *snap;
	*snap = NULL;
	r->snap_at_ms = clock_mono_ms();
	r->it = it;
	r->method = method;
	/* The zone iterator starts with the SOA; the journal's lacks the leading one. */
	r->phase = method == SM_IXFR ? SP_FIRST_SOA : SP_BODY;
	r->flags |= DNS_FLAG_AA;
	if (treq != NULL) {
		r->tsig = true;
		r->tsig_reserve = serve_tsig_reserve(treq);
		tsig_session_init_reply(&r->ts, treq);
	}
}

/* The last RR is read (or the transfer failed): iterator and snapshot go, so a
 * client still draining its last messages holds no reader slot. */
static void release_store(struct serve_reply *r)
{
	zdb_iter_free(r->it);
	r->it = NULL;
	zdb_snap_end(r->snap);
	r->snap = NULL;
}

/* Let go of the snapshot mid-stream; the iterator, detached, keeps its place (and
 * the RR that did not fit the last message comes again). */
static int snap_release(struct serve_reply *r)
{
	if (r->snap == NULL || r->it == NULL) {
		return 0;
	}
	int rc = zdb_iter_detach(r->it, r->pending);
	if (rc == ZX_EINVAL) {
		return 0; /* a read-only store: no pin without the writer, keep the snapshot */
	}
	if (rc != 0) {
		snprintf(r->errtext, sizeof(r->errtext), "%s", zdb_last_error());
		return rc;
	}
	r->pending = false;
	zdb_snap_end(r->snap);
	r->snap = NULL;
	if (r->sv->o.metrics != NULL) {
		metrics_add(r->sv->m.snap_releases, 1);
	}
	return 0;
}

/* A snapshot again for a paused stream, the iterator where it was. */
static int snap_take(struct serve_reply *r)
{
	if (r->snap != NULL || r->it == NULL) {
		return 0;
	}
	int rc = zdb_snap_begin(r->sv->o.db, &r->snap);
	if (rc == 0) {
		rc = zdb_iter_attach(r->it, r->snap);
		if (rc != 0) {
			zdb_snap_end(r->snap);
			r->snap = NULL;
		}
	}
	if (rc != 0) {
		snprintf(r->errtext, sizeof(r->errtext), "%s", zdb_last_error());
		return rc;
	}
	r->snap_at_ms = clock_mono_ms();
	return 0;
}

/* Before producing: a snapshot to read from, not older than snapshot_max_ms. */
static int snap_ready(struct serve_reply *r)
{
	if (r->snap != NULL) {
		uint64_t ms = (uint64_t)(clock_mono_ms() - r->snap_at_ms);
		if (ms < r->sv->o.snapshot_max_ms) {
			return 0;
		}
		int rc = snap_release(r);
		if (rc != 0) {
			return rc;
		}
	}
	return snap_take(r);
}

/* The RR the stream is at; 1 one, 0 the body ended, < 0 a store error. */
static int stream_rr(struct serve_reply *r, struct zdb_rr *rr)
{
	if (r->phase != SP_BODY) {
		*rr = serve_reply_soa(r);
		return 1;
	}
	if (!r->pending) {
		int rc = zdb_iter_next(r->it, &r->rr);
		if (rc <= 0) {
			return rc;
		}
		r->pending = true;
	}
	*rr = r->rr;
	return 1;
}

static void stream_advance(struct serve_reply *r)
{
	r->records++;
	if (r->phase == SP_FIRST_SOA) {
		r->phase = SP_BODY;
	} else if (r->phase == SP_BODY) {
		r->pending = false;
	} else {
		r->phase = SP_DONE;
	}
}

/* Fill one message up to @p target bytes. */
static int stream_fill(struct serve_reply *r, struct serve_msg *m, size_t target)
{
	while (m->len < target && r->phase != SP_DONE) {
		struct zdb_rr rr;
		int rc = stream_rr(r, &rr);
		if (rc < 0) {
			return rc;
		}
		if (rc == 0) {
			release_store(r);
			r->phase = SP_LAST_SOA;
			continue;
		}
		if (serve_msg_rr(m, r, &rr) != 0) {
			return m->ancount == 0 ? ZX_ELIMIT : 0; /* an RR larger than any message */
		}
		m->ancount++;
		stream_advance(r);
	}
	return 0;
}

static int stream_next(struct serve_reply *r, uint8_t *buf, size_t cap, uint64_t now,
                       size_t *len)
{
	struct serve_msg m;
	if (cap < r->max_len) {
		return ZX_ELIMIT;
	}
	int rc = snap_ready(r);
	if (rc != 0) {
		return rc;
	}
	serve_msg_start(&m, r, buf, r->max_len - r->tsig_reserve, 0);
	size_t target = r->sv->o.msg_target < m.cap ? r->sv->o.msg_target : m.cap;
	rc = stream_fill(r, &m, target);
	if (rc != 0) {
		return rc;
	}
	serve_msg_finish(&m);
	size_t n = m.len;
	if (r->tsig) {
		rc = tsig_session_sign(&r->ts, buf, &n, cap, now);
		if (rc != 0) {
			return rc;
		}
	}
	r->messages++;
	r->bytes += n;
	*len = n;
	return 1;
}

/* The zone read short or wrong: it is not served again until a transfer replaces
 * its version (the store's CORRUPT event; the next refresh or a retransfer AXFRs it). */
static void found_corrupt(struct serve_reply *r, int64_t now)
{
	if (r->sv->o.metrics != NULL) {
		metrics_add(r->sv->m.corrupt, 1);
	}
	struct zdb_event_info info = {.text = r->errtext, .version = r->version};
	int rc = zdb_zone_event(r->sv->o.db, r->apex, ZDB_EV_CORRUPT, (int64_t)now, &info, NULL);
	if (rc != 0 && rc != ZX_EAGAIN) {
		log_warn("store_corrupt_unmarked", "zone=%s version=%u error=%s detail=\"%s\"",
		         r->zone_text, r->version, zx_strerror(rc), zdb_last_error());
	}
}

int serve_reply_next(struct serve_reply *r, uint8_t *buf, size_t cap, uint64_t now, size_t *len)
{
	if (r->err != 0) {
		return r->err;
	}
	if (r->single != NULL) {
		if (r->single_sent) {
			return 0;
		}
		if (cap < r->single_len) {
			return ZX_ELIMIT;
		}
		memcpy(buf, r->single, r->single_len);
		r->single_sent = true;
		*len = r->single_len;
		return 1;
	}
	if (r->phase == SP_DONE) {
		return 0;
	}
	int rc = stream_next(r, buf, cap, now, len);
	if (rc < 0 && !(rc == ZX_ELIMIT && cap < r->max_len)) {
		r->err = rc == ZX_ENOMEM || rc == ZX_ELIMIT || rc == ZX_ECORRUPT || rc == ZX_ENOTFOUND
		         ? rc
		         : ZX_ESTORE;
		if (r->errtext[0] == '\0' && rc != ZX_ENOMEM) {
			snprintf(r->errtext, sizeof(r->errtext), "%s", zdb_last_error());
		}
		release_store(r);
		if (r->err == ZX_ECORRUPT) {
			found_corrupt(r, (int64_t)now);
		}
		return r->err;
	}
	return rc;
}

int serve_reply_pause(struct serve_reply *r)
{
	if (r->err != 0) {
		return r->err;
	}
	int rc = snap_release(r);
	if (rc != 0) {
		r->err = rc == ZX_ENOMEM || rc == ZX_ENOTFOUND ? rc : ZX_ESTORE;
		release_store(r);
	}
	return rc != 0 ? r->err : 0;
}

int serve_reply_rcode(const struct serve_reply *r)
{
	return r->rcode;
}

bool serve_reply_is_transfer(const struct serve_reply *r)
{
	return r->method != SM_NONE;
}

static void log_transfer(const struct serve_reply *r)
{
	static const char *const names[SM_COUNT] = {"none", "axfr", "ixfr", "ixfr_axfr"};
	double ms = (double)(clock_mono_us() - r->started_us) / 1e3;
	const char *outcome = r->err == ZX_ECORRUPT ? "corrupt" : r->err != 0 ? "failed"
	                      : r->phase == SP_DONE ? "ok" : "aborted";
	char detail[ZDB_ERRTEXT_MAX + 16];
	char from[16] = "-"; /* an AXFR starts from nothing */
	if (r->method != SM_AXFR) {
		snprintf(from, sizeof(from), "%u", r->serial_from);
	}
	log_write(r->err == ZX_ECORRUPT ? LOG_LVL_ERROR : r->err != 0 ? LOG_LVL_WARN : LOG_LVL_INFO,
	          "serve_xfr",
	          "zone=%s method=%s serial_from=%s serial_to=%u records=%llu messages=%u "
	          "bytes=%llu duration_ms=%.1f client=%s tsig=%s outcome=%s%s%s%s%s",
	          r->zone_text, names[r->method], from, r->serial_to,
	          (unsigned long long)r->records, r->messages, (unsigned long long)r->bytes, ms,
	          r->client, r->tsig ? "yes" : "no", outcome, r->err != 0 ? " error=" : "",
	          r->err != 0 ? zx_strerror(r->err) : "", r->errtext[0] != '\0' ? " detail=" : "",
	          r->errtext[0] != '\0' ? log_quote(r->errtext, detail, sizeof(detail)) : "");
	const struct serve_metrics *m = &r->sv->m;
	if (r->sv->o.metrics == NULL) {
		return;
	}
	metrics_add(m->xfr_records, r->records);
	metrics_add(m->xfr_bytes, r->bytes);
	metrics_add(r->phase == SP_DONE ? m->transfers[r->method] : m->xfr_failures, 1);
}

void serve_reply_free(struct serve_reply *r)
{
	if (r == NULL) {
		return;
	}
	if (r->method != SM_NONE) {
		log_transfer(r);
		if (r->tsig) {
			tsig_session_deinit(&r->ts);
		}
	}
	release_store(r);
	xfr_release(r);
	free(r->single);
	cfg_free(r->cfg);
	free(r);
}
