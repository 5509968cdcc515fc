/* SPDX-License-Identifier: MIT */
/* xfrd/refresh.c -- per-zone SOA timers, producing REFRESH requests for owned zones. */
#include "xfrd/refresh.h"

#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/updates.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* One zone's timer state; tickets are embedded, so a zone has at most one
 * request and one expiry event in flight. */
struct rzone {
	struct refresh *r;
	const struct cfg_zone *zone;
	int32_t partition;
	bool plan_valid;
	struct refresh_plan plan;
	int64_t last_success;    /* of the plan's store read */
	int64_t requested_at;    /* 0: no request out */
	bool req_in_flight;      /* produce not yet reported */
	bool exp_in_flight;
	int64_t expired_for;     /* last_success an expiry was announced for; -1 none */
	int64_t exp_pending_for; /* last_success of the expiry event in flight */
	int64_t recheck_at;      /* 0 none; else a refresh is due then at the latest */
	struct updates_ticket req_t, exp_t;
};

struct refresh {
	const struct cfg *cfg;
	struct zdb *db;
	struct updates *up;
	const char *replica;
	struct rzone *z;
	size_t n;
	int32_t partitions;
	bool *owned;          /* by partition */
	size_t owned_zones;
	struct metrics_val *m_requests, *m_expired, *m_send_fail;
};

uint64_t refresh_clamp(uint64_t ms, const struct cfg_clamp *c)
{
	return ms < c->min_ms ? c->min_ms : ms > c->max_ms ? c->max_ms : ms;
}

uint64_t refresh_jitter(uint64_t ms, uint32_t pct, uint64_t rnd)
{
	return ms - ms / 100 * pct * (rnd % 1000) / 1000 - ms % 100 * pct * (rnd % 1000) / 100000;
}

static uint64_t mix(const uint8_t *name, int64_t t)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)t;
	for (size_t i = 0; name[i] != 0; i += name[i] + 1u) {
		for (size_t k = 0; k <= name[i]; k++) {
			h = (h ^ name[i + k]) * 1099511628211ull;
		}
	}
	h ^= h >> 29;
	return h * 0xbf58476d1ce4e5b9ull;
}

void refresh_plan(const struct cfg_zone *z, const struct zdb_zone_info *info,
                  uint32_t jitter_pct, struct refresh_plan *out)
{
	struct dns_soa soa = {.refresh = REFRESH_DEFAULT_REFRESH, .retry = REFRESH_DEFAULT_RETRY,
	                      .expire = REFRESH_DEFAULT_EXPIRE};
	*out = (struct refresh_plan){.due = 0, .expire_at = INT64_MAX};
	if (info == NULL || info->last_attempt == 0) {
		return; /* never tried: at once */
	}
	if (info->loaded && dnsmsg_soa_parse(info->soa_rdata, info->soa_rdlen, &soa) != 0) {
		soa = (struct dns_soa){.refresh = REFRESH_DEFAULT_REFRESH,
		                       .retry = REFRESH_DEFAULT_RETRY,
		                       .expire = REFRESH_DEFAULT_EXPIRE};
	}
	bool ok = info->state == ZDB_STATE_FRESH;
	uint64_t ms = ok ? refresh_clamp((uint64_t)soa.refresh * 1000, &z->refresh)
	                 : refresh_clamp((uint64_t)soa.retry * 1000, &z->retry);
	ms = refresh_jitter(ms, jitter_pct, mix(z->name, info->last_attempt));
	out->due = info->last_attempt + (int64_t)((ms + 999) / 1000);
	if (info->loaded) {
		uint64_t ex = refresh_clamp((uint64_t)soa.expire * 1000, &z->expire);
		out->expire_at = info->last_success + (int64_t)(ex / 1000);
	}
	out->expired = info->state == ZDB_STATE_EXPIRED;
}

/* ---- sends -------------------------------------------------------------- */

static void req_done(struct updates_ticket *t, int rc)
{
	struct rzone *z = (struct rzone *)((char *)t - offsetof(struct rzone, req_t));
	z->req_in_flight = false;
	if (rc != 0) {
		log_warn("refresh_request_failed", "zone=%s error=%s", z->zone->name_text,
		         zx_strerror(rc));
		z->requested_at = 0; /* ask again at the next scan */
		metrics_add(z->r->m_send_fail, 1);
	}
}

static void exp_done(struct updates_ticket *t, int rc)
{
	struct rzone *z = (struct rzone *)((char *)t - offsetof(struct rzone, exp_t));
	z->exp_in_flight = false;
	if (rc == 0) {
		z->expired_for = z->exp_pending_for;
	} else {
		log_warn("expired_event_failed", "zone=%s error=%s", z->zone->name_text,
		         zx_strerror(rc));
		metrics_add(z->r->m_send_fail, 1);
	}
}

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static void ask(struct refresh *r, struct rzone *z, int64_t now)
{
	Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
	req.zone = (char *)z->zone->name_text;
	req.origin = ZX__EVENTS__ORIGIN__ORIGIN_REFRESH;
	req.received_us = now_us();
	req.producer = (char *)r->replica;
	int rc = updates_send_request(r->up, &req, &z->req_t);
	if (rc != 0) {
		log_warn("refresh_request_failed", "zone=%s error=%s", z->zone->name_text,
		         zx_strerror(rc));
		metrics_add(r->m_send_fail, 1);
		return;
	}
	z->req_in_flight = true;
	z->requested_at = now;
	metrics_add(r->m_requests, 1);
	log_info("refresh_due", "zone=%s partition=%d", z->zone->name_text, z->partition);
}

/* Mark the zone expired in the store; announce it once per last success. A
 * failed retry records FAILED (zdb_zone_fail()), so the mark is made again after
 * each one while the zone stays past its expire. */
static void expire(struct refresh *r, struct rzone *z, const struct zdb_zone_info *info,
                   int64_t now)
{
	int rc = zdb_zone_set_state(r->db, z->zone->name, ZDB_STATE_EXPIRED, now);
	if (rc != 0) {
		log_error("expire_mark_failed", "zone=%s error=%s", z->zone->name_text,
		          zx_strerror(rc));
		return;
	}
	if (z->exp_in_flight || z->expired_for == info->last_success) {
		return;
	}
	log_warn("zone_expired", "zone=%s serial=%u last_success=%lld", z->zone->name_text,
	         info->serial, (long long)info->last_success);
	metrics_add(r->m_expired, 1);
	Zx__Events__ZoneUpdated ev = ZX__EVENTS__ZONE_UPDATED__INIT;
	ev.zone = (char *)z->zone->name_text;
	ev.kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_EXPIRED;
	ev.has_old_serial = true;
	ev.old_serial = info->serial;
	ev.new_serial = info->serial;
	ev.method = ZX__EVENTS__METHOD__METHOD_NONE;
	ev.records = info->records;
	ev.primary = (char *)info->primary;
	ev.replica = (char *)r->replica;
	ev.committed_us = now_us();
	ev.error = (char *)"expired: no successful refresh within the SOA expire";
	ev.state = ZX__EVENTS__ZONE_STATE__ZONE_STATE_EXPIRED;
	z->exp_pending_for = info->last_success;
	rc = updates_send_update(r->up, &ev, &z->exp_t);
	if (rc != 0) {
		log_warn("expired_event_failed", "zone=%s error=%s", z->zone->name_text,
		         zx_strerror(rc));
		return;
	}
	z->exp_in_flight = true;
}

/* ---- lifecycle ---------------------------------------------------------- */

int refresh_new(const struct cfg *cfg, struct zdb *db, struct updates *up, struct metrics *m,
                const char *replica, struct refresh **out)
{
	struct refresh *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return ZX_ENOMEM;
	}
	r->n = cfg->zone_count;
	r->z = calloc(r->n > 0 ? r->n : 1, sizeof(*r->z));
	if (r->z == NULL) {
		free(r);
		return ZX_ENOMEM;
	}
	*r = (struct refresh){.cfg = cfg, .db = db, .up = up, .replica = replica, .z = r->z,
	                      .n = r->n};
	for (size_t i = 0; i < r->n; i++) {
		r->z[i] = (struct rzone){.r = r, .zone = &cfg->zones[i], .partition = -1,
		                         .expired_for = -1, .req_t.done = req_done,
		                         .exp_t.done = exp_done};
	}
	if (m != NULL) {
		r->m_requests = metrics_counter(m, "xfrd_refresh_requests_total", NULL,
		                                "REFRESH requests produced by the SOA timers");
		r->m_expired = metrics_counter(m, "xfrd_zones_expired_total", NULL,
		                               "zones marked expired");
		r->m_send_fail = metrics_counter(m, "xfrd_refresh_send_failures_total", NULL,
		                                 "refresh requests or expiry events not produced");
	}
	static struct metrics_val dummy[3];
	r->m_requests = r->m_requests != NULL ? r->m_requests : &dummy[0];
	r->m_expired = r->m_expired != NULL ? r->m_expired : &dummy[1];
	r->m_send_fail = r->m_send_fail != NULL ? r->m_send_fail : &dummy[2];
	*out = r;
	return 0;
}

void refresh_free(struct refresh *r)
{
	if (r != NULL) {
		free(r->owned);
		free(r->z);
		free(r);
	}
}

static void recount(struct refresh *r)
{
	r->owned_zones = 0;
	for (size_t i = 0; i < r->n; i++) {
		int32_t p = r->z[i].partition;
		if (p >= 0 && p < r->partitions && r->owned[p]) {
			r->owned_zones++;
		}
	}
}

void refresh_set_partition_count(struct refresh *r, int32_t count)
{
	if (count <= 0 || count == r->partitions) {
		return;
	}
	bool *o = calloc((size_t)count, sizeof(*o));
	if (o == NULL) {
		return;
	}
	for (int32_t p = 0; p < count && p < r->partitions; p++) {
		o[p] = r->owned[p];
	}
	free(r->owned);
	r->owned = o;
	r->partitions = count;
	for (size_t i = 0; i < r->n; i++) {
		r->z[i].partition = updates_partition(r->z[i].zone->name_text, count);
	}
	recount(r);
}

void refresh_own(struct refresh *r, int32_t partition, bool owned)
{
	if (partition < 0 || partition >= r->partitions) {
		return;
	}
	r->owned[partition] = owned;
	for (size_t i = 0; i < r->n; i++) {
		if (r->z[i].partition == partition) {
			r->z[i].plan_valid = false;
			r->z[i].requested_at = 0;
		}
	}
	recount(r);
}

static void replan(struct refresh *r, struct zdb_snap *s, struct rzone *z, int64_t now);

void refresh_outcome(struct refresh *r, const struct cfg_zone *zone)
{
	size_t i = (size_t)(zone - r->cfg->zones);
	if (i >= r->n) {
		return;
	}
	struct rzone *z = &r->z[i];
	z->requested_at = 0;
	z->plan_valid = false;
	if (z->partition >= 0 && z->partition < r->partitions && r->owned[z->partition]) {
		/* at once, so an expired zone whose retry failed is marked expired again
		 * before anyone reads the FAILED the engine just recorded */
		struct zdb_snap *s = NULL;
		if (zdb_snap_begin(r->db, &s) == 0) {
			replan(r, s, z, (int64_t)time(NULL));
			zdb_snap_end(s);
		}
	}
}

void refresh_recheck(struct refresh *r, const struct cfg_zone *zone, int64_t at)
{
	size_t i = (size_t)(zone - r->cfg->zones);
	if (i < r->n && (r->z[i].recheck_at == 0 || at < r->z[i].recheck_at)) {
		r->z[i].recheck_at = at;
	}
}

size_t refresh_owned(const struct refresh *r)
{
	return r->owned_zones;
}

/* ---- scan --------------------------------------------------------------- */

static void replan(struct refresh *r, struct zdb_snap *s, struct rzone *z, int64_t now)
{
	struct zdb_zone_info info;
	bool have = s != NULL && zdb_zone_get(s, z->zone->name, &info) == 0;
	refresh_plan(z->zone, have ? &info : NULL, r->cfg->xfrd.jitter_pct, &z->plan);
	z->last_success = have ? info.last_success : 0;
	z->plan_valid = true;
	if (have && info.loaded && now >= z->plan.expire_at && info.state != ZDB_STATE_EXPIRED) {
		expire(r, z, &info, now);
		z->plan.expired = true;
	}
}

unsigned refresh_scan(struct refresh *r, int64_t now)
{
	struct zdb_snap *s = NULL;
	unsigned asked = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct rzone *z = &r->z[i];
		if (z->partition < 0 || !r->owned[z->partition]) {
			continue;
		}
		bool expiring = z->plan_valid && !z->plan.expired && now >= z->plan.expire_at;
		if (!z->plan_valid || expiring) {
			if (s == NULL && zdb_snap_begin(r->db, &s) != 0) {
				s = NULL;
			}
			replan(r, s, z, now);
		}
		int64_t since = now - z->requested_at;
		bool out = z->req_in_flight ||
		           (z->requested_at != 0 && since < REFRESH_REQUEST_TIMEOUT);
		bool recheck = z->recheck_at != 0 && now >= z->recheck_at;
		if (!out && (now >= z->plan.due || recheck)) {
			z->recheck_at = 0;
			ask(r, z, now);
			asked++;
		}
	}
	zdb_snap_end(s);
	return asked;
}
