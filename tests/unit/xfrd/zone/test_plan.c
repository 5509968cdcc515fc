/* tests/unit/xfrd/zone/test_plan.c -- the refresh planner: clamps, jitter, states, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/store/zdb.h"
#include "xfrd/zone/plan.h"

#include <string.h>

static const char *const yaml =
	"xfrd:\n"
	"  refresh: { min: 10s, max: 1h }\n"
	"  retry: { min: 5s, max: 10m }\n"
	"  expire: { min: 1h, max: 1w }\n"
	"zones:\n"
	"  - { name: a.test, primaries: [ \"127.0.0.1@53\" ] }\n"
	"  - { name: b.test, primaries: [ \"127.0.0.1@53\" ], refresh: { min: 2h, max: 3h } }\n";

static struct cfg *load(void)
{
	struct cfg *cfg = NULL;
	char err[1024];
	assert_int_equal(cfg_load_string("t.yaml", yaml, &cfg, err, sizeof(err)), 0);
	return cfg;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A loaded zone with SOA timers refresh/retry/expire. */
static void info_soa(struct zdb_zone_info *i, uint32_t refresh, uint32_t retry, uint32_t expire)
{
	memset(i, 0, sizeof(*i));
	int n = dname_from_text("ns.a.test.", i->soa_rdata);
	assert_true(n > 0);
	int m = dname_from_text("h.a.test.", i->soa_rdata + n);
	assert_true(m > 0);
	uint8_t *p = i->soa_rdata + n + m;
	put32(p, 7);
	put32(p + 4, refresh);
	put32(p + 8, retry);
	put32(p + 12, expire);
	put32(p + 16, 60);
	i->soa_rdlen = (uint16_t)(n + m + 20);
	i->loaded = true;
	i->serial = 7;
}

static void test_plan_clamp_jitter(void **state)
{
	(void)state;
	struct cfg_clamp c = {.min_ms = 1000, .max_ms = 5000};
	assert_int_equal(plan_clamp(10, &c), 1000);
	assert_int_equal(plan_clamp(3000, &c), 3000);
	assert_int_equal(plan_clamp(9000, &c), 5000);
	assert_int_equal(plan_jitter(100000, 0, 999), 100000);
	assert_int_equal(plan_jitter(100000, 10, 0), 100000);
	assert_int_equal(plan_jitter(100000, 10, 500), 95000);
	assert_int_equal(plan_jitter(100000, 10, 1999), 90010);
	for (uint64_t r = 0; r < 5000; r += 7) {
		uint64_t v = plan_jitter(3600000, 50, r * 2654435761u);
		assert_true(v <= 3600000 && v >= 1800000);
	}
}

static void test_plan_plan_never_tried(void **state)
{
	(void)state;
	struct cfg *cfg = load();
	struct zone_plan p;
	plan_compute(&cfg->zones[0], NULL, 10, &p);
	assert_int_equal(p.due, 0); /* at once */
	assert_true(p.expire_at == INT64_MAX);
	assert_false(p.expired);
	cfg_free(cfg);
}

static void test_plan_plan_fresh_failed(void **state)
{
	(void)state;
	struct cfg *cfg = load();
	struct zdb_zone_info i;
	struct zone_plan p;
	info_soa(&i, 300, 60, 86400);
	i.state = ZDB_STATE_FRESH;
	i.last_attempt = 1000000;
	i.last_success = 1000000;
	plan_compute(&cfg->zones[0], &i, 0, &p);
	assert_int_equal(p.due, 1000000 + 300);
	assert_int_equal(p.expire_at, 1000000 + 86400);
	/* clamps: refresh below min, retry below min, expire above max */
	info_soa(&i, 2, 1, 30 * 86400);
	i.state = ZDB_STATE_FRESH;
	i.last_attempt = i.last_success = 50;
	plan_compute(&cfg->zones[0], &i, 0, &p);
	assert_int_equal(p.due, 50 + 10);
	assert_int_equal(p.expire_at, 50 + 7 * 86400);
	i.state = ZDB_STATE_FAILED;
	i.last_attempt = 80;
	plan_compute(&cfg->zones[0], &i, 0, &p);
	assert_int_equal(p.due, 80 + 5);      /* retry, clamped up to 5 s */
	assert_int_equal(p.expire_at, 50 + 7 * 86400); /* from the last success */
	/* per-zone clamp (b.test: refresh at least 2h) */
	info_soa(&i, 300, 60, 86400);
	i.state = ZDB_STATE_FRESH;
	i.last_attempt = i.last_success = 0 + 1;
	plan_compute(&cfg->zones[1], &i, 0, &p);
	assert_int_equal(p.due, 1 + 7200);
	/* expired state, retry timer */
	i.state = ZDB_STATE_EXPIRED;
	plan_compute(&cfg->zones[0], &i, 0, &p);
	assert_true(p.expired);
	assert_int_equal(p.due, 1 + 60);
	cfg_free(cfg);
}

static void test_plan_plan_jitter_stable(void **state)
{
	(void)state;
	struct cfg *cfg = load();
	struct zdb_zone_info i;
	struct zone_plan p1, p2, q;
	info_soa(&i, 3600, 600, 86400);
	i.state = ZDB_STATE_FRESH;
	i.last_attempt = i.last_success = 100000;
	plan_compute(&cfg->zones[0], &i, 20, &p1);
	plan_compute(&cfg->zones[0], &i, 20, &p2);
	assert_int_equal(p1.due, p2.due); /* same input, same plan */
	assert_true(p1.due <= 100000 + 3600 && p1.due >= 100000 + 2880);
	/* across attempts the jitter varies, always within bounds */
	int64_t lo = INT64_MAX, hi = 0;
	for (int k = 0; k < 200; k++) {
		i.last_attempt = 100000 + k;
		plan_compute(&cfg->zones[0], &i, 20, &q);
		int64_t d = q.due - i.last_attempt;
		assert_true(d <= 3600 && d >= 2880);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(hi - lo > 300);
	/* unparsable SOA: defaults (refresh 3600 clamped to max 1h) */
	i.soa_rdlen = 3;
	i.last_attempt = 10;
	plan_compute(&cfg->zones[0], &i, 0, &q);
	assert_int_equal(q.due, 10 + PLAN_DEFAULT_REFRESH);
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_clamp_jitter),
		cmocka_unit_test(test_plan_plan_never_tried),
		cmocka_unit_test(test_plan_plan_fresh_failed),
		cmocka_unit_test(test_plan_plan_jitter_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
