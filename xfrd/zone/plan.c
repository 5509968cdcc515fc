/* SPDX-License-Identifier: MIT */
/* xfrd/zone/plan.c -- the refresh planner. */
#include "xfrd/zone/plan.h"

#include "common/dnsmsg.h"

uint64_t plan_clamp(uint64_t ms, const struct cfg_clamp *c)
{
	return ms < c->min_ms ? c->min_ms : ms > c->max_ms ? c->max_ms : ms;
}

uint64_t plan_jitter(uint64_t ms, uint32_t pct, uint64_t rnd)
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

static struct dns_soa held_soa(const struct zdb_zone_info *info)
{
	struct dns_soa soa = {.refresh = PLAN_DEFAULT_REFRESH, .retry = PLAN_DEFAULT_RETRY,
	                      .expire = PLAN_DEFAULT_EXPIRE};
	struct dns_soa stored;
	if (info != NULL && info->loaded &&
	    dnsmsg_soa_parse(info->soa_rdata, info->soa_rdlen, &stored) == 0) {
		soa = stored;
	}
	return soa;
}

int64_t plan_expire_s(const struct cfg_zone *z, const struct zdb_zone_info *info)
{
	return (int64_t)(plan_clamp((uint64_t)held_soa(info).expire * 1000, &z->expire) / 1000);
}

void plan_intervals(const struct cfg_zone *z, const struct zdb_zone_info *info,
                    int64_t *refresh_s, int64_t *retry_s)
{
	struct dns_soa soa = held_soa(info);
	*refresh_s = (int64_t)(plan_clamp((uint64_t)soa.refresh * 1000, &z->refresh) / 1000);
	*retry_s = (int64_t)(plan_clamp((uint64_t)soa.retry * 1000, &z->retry) / 1000);
}

void plan_compute(const struct cfg_zone *z, const struct zdb_zone_info *info, uint32_t jitter_pct,
                  struct zone_plan *out)
{
	*out = (struct zone_plan){.due = 0, .expire_at = INT64_MAX};
	if (info == NULL || info->last_attempt == 0) {
		return; /* never tried: at once */
	}
	struct dns_soa soa = held_soa(info);
	if (info->state == ZDB_STATE_BEHIND) {
		/* the owner announced a newer serial: fetch it at once (expiry as usual) */
		out->expire_at = info->loaded ? info->last_success + plan_expire_s(z, info) : INT64_MAX;
		return;
	}
	bool ok = info->state == ZDB_STATE_FRESH || info->state == ZDB_STATE_FOLLOWING;
	uint64_t ms = ok ? plan_clamp((uint64_t)soa.refresh * 1000, &z->refresh)
	                 : plan_clamp((uint64_t)soa.retry * 1000, &z->retry);
	ms = plan_jitter(ms, jitter_pct, mix(z->name, info->last_attempt));
	out->due = info->last_attempt + (int64_t)((ms + 999) / 1000);
	if (info->loaded) {
		out->expire_at = info->last_success + plan_expire_s(z, info);
	}
	out->expired = info->state == ZDB_STATE_EXPIRED;
}
