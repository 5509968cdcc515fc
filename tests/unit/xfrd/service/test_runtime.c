/* tests/unit/xfrd/service/test_runtime.c -- the zone runtime on a loop with the real engine and
 * store: requests fold into one running and one scheduled transfer, the timers ask
 * for refreshes by themselves, expiry is one transition announced once. The
 * primary is a silent one (a UDP socket never read, a TCP listener never accepted
 * from), so every transfer fails for good after its short timeouts. */
#include "tests/unit/common/store/test_zdb_util.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/service/runtime.h"
#include "xfrd/xfr/store.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct bed {
	char *dir;
	struct zdb *db;
	struct cfg *cfg;
	struct event_base *base;
	struct metrics *m;
	struct engine *eng;
	struct runtime *rt;
	int udp, tcp;
	uint16_t port;
	/* what the source saw */
	int outcomes, announced, expired;
	int64_t done[64];
	int ndone;
	enum zdb_state last_state;
};

/* A port that answers nothing: UDP bound, TCP listening, nobody reading. */
static void silent_primary(struct bed *b)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sin);
	b->tcp = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(b->tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(b->tcp, 64), 0);
	assert_int_equal(getsockname(b->tcp, (struct sockaddr *)&sin, &sl), 0);
	b->port = ntohs(sin.sin_port);
	b->udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(b->udp, (struct sockaddr *)&sin, sizeof(sin)), 0);
}

static void on_outcome(void *ctx, struct zone *z, const struct xfr_result *r, bool announce,
                       const struct zone_req *done, size_t ndone)
{
	(void)z;
	struct bed *b = ctx;
	b->outcomes++;
	b->announced += announce;
	b->last_state = r->state;
	for (size_t i = 0; i < ndone && b->ndone < 64; i++) {
		b->done[b->ndone++] = done[i].offset;
	}
}

static void on_expired(void *ctx, struct zone *z, const struct zdb_zone_info *info)
{
	(void)z;
	struct bed *b = ctx;
	assert_int_equal(info->state, ZDB_STATE_EXPIRED);
	b->expired++;
}

static void bed_up(struct bed *b, bool own_all)
{
	memset(b, 0, sizeof(*b));
	silent_primary(b);
	b->dir = mk_store_dir();
	b->db = open_store(b->dir, 1000);
	char yaml[1024], err[1024];
	snprintf(yaml, sizeof(yaml),
	         "xfrd: { timeouts: { connect: 200ms, read: 200ms, transfer: 1s, soa: 200ms },\n"
	         "        retry: { min: 1s, max: 1s }, refresh: { min: 1s, max: 1h },\n"
	         "        expire: { min: 1s, max: 2s }, jitter: 0 }\n"
	         "zones:\n"
	         "  - { name: a.test, primaries: [ \"127.0.0.1@%u\" ] }\n"
	         "  - { name: b.test, primaries: [ \"127.0.0.1@%u\" ] }\n",
	         b->port, b->port);
	assert_int_equal(cfg_load_string("t.yaml", yaml, &b->cfg, err, sizeof(err)), 0);
	b->base = event_base_new();
	b->m = metrics_new();
	struct engine_opts eo = {.workers = 1, .max_transfers = 4, .per_primary = 4,
	                         .connect_ms = 200, .read_ms = 200, .soa_ms = 100,
	                         .transfer_ms = 1000, .ops = &store_ops, .store = b->db};
	assert_int_equal(engine_new(&eo, &b->eng), 0);
	struct runtime_opts ro = {.cfg = b->cfg, .base = b->base, .eng = b->eng, .db = b->db,
	                          .m = b->m, .own_all = own_all,
	                          .src = {.outcome = on_outcome, .expired = on_expired, .ctx = b}};
	assert_int_equal(runtime_new(&ro, &b->rt), 0);
}

static void bed_down(struct bed *b)
{
	engine_free(b->eng);
	runtime_free(b->rt);
	metrics_free(b->m);
	event_base_free(b->base);
	cfg_free(b->cfg);
	zdb_close(b->db);
	rm_store(b->dir);
	close(b->udp);
	close(b->tcp);
}

/* Run the loop until @p cond holds (or @p ms pass). */
static void run_until(struct bed *b, bool (*cond)(struct bed *), int ms)
{
	int64_t end = clock_mono_ms() + ms;
	while (!cond(b) && clock_mono_ms() < end) {
		struct timeval tv = {0, 20000};
		event_base_loopexit(b->base, &tv);
		event_base_dispatch(b->base);
	}
}

static bool two_outcomes(struct bed *b)
{
	return b->outcomes >= 2;
}

static int request(struct bed *b, const char *zone, int64_t offset, bool hint, uint32_t serial)
{
	struct zone_req q = {.partition = 0, .offset = offset, .has_serial = hint, .serial = serial};
	return runtime_request(b->rt, zone, &q, 0, RUNTIME_ORIGIN_NOTIFY);
}

/* Six requests while the first runs: one running, one scheduled, four folded into
 * it; every request is finished by one of the two outcomes. (This was the engine's
 * folding test: the runtime's scheduler folds now, once.) */
static void test_runtime_folds_requests(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, false);
	for (int64_t off = 1; off <= 6; off++) {
		assert_int_equal(request(&b, "a.test.", off, false, 0), 0);
	}
	assert_int_equal(request(&b, "nope.test.", 7, false, 0), ZX_ENOTFOUND);
	run_until(&b, two_outcomes, 10000);
	engine_wait_idle(b.eng);
	struct engine_stats es;
	engine_stats(b.eng, &es);
	assert_int_equal(es.requests, 2); /* 1 running, 1 scheduled, 4 folded */
	assert_int_equal(b.outcomes, 2);
	assert_int_equal(b.announced, 2); /* every failure is announced */
	assert_int_equal(b.ndone, 6);     /* each request finished once */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(b.done[i], i + 1);
	}
	assert_int_equal(b.last_state, ZDB_STATE_FAILED);
	struct runtime_stats rs;
	runtime_stats(b.rt, &rs);
	assert_int_equal(rs.requests, 6);
	assert_int_equal(rs.unknown, 1);
	assert_int_equal(rs.running, 0);
	assert_int_equal(rs.zones, 2);
	assert_int_equal(rs.timers, 0); /* nothing owned: no timers */
	bed_down(&b);
}

/* A hint the result already reached finishes a scheduled request without a run. */
static void test_runtime_covered_hint_needs_no_run(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, false);
	/* b.test held at serial 9 */
	struct trr z[] = {trr_soa("b.test.", 9), trr_a("b.test.", 1)};
	load_zone(b.db, "b.test.", z, 2, clock_wall_s());
	assert_int_equal(request(&b, "b.test.", 1, false, 0), 0);
	assert_int_equal(request(&b, "b.test.", 2, true, 9), 0); /* covered by what we hold */
	run_until(&b, two_outcomes, 3000);
	engine_wait_idle(b.eng);
	struct engine_stats es;
	engine_stats(b.eng, &es);
	assert_int_equal(es.requests, 1);
	assert_int_equal(b.outcomes, 1);
	assert_int_equal(b.ndone, 2);
	bed_down(&b);
}

static bool both_failed(struct bed *b)
{
	return b->outcomes >= 2;
}

/* Standalone: nobody asks, the timers do. Zones never tried start at once. */
static void test_runtime_timers_ask_by_themselves(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, true);
	run_until(&b, both_failed, 5000);
	assert_true(b.outcomes >= 2);
	struct runtime_stats rs;
	runtime_stats(b.rt, &rs);
	assert_true(rs.refresh_asked >= 2);
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(b.db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname("a.test."), &zi), 0);
	assert_int_equal(zi.state, ZDB_STATE_FAILED); /* recorded, listed without data */
	assert_false(zi.loaded);
	zdb_snap_end(s);
	bed_down(&b);
}

static bool expired_and_retried(struct bed *b)
{
	return b->expired >= 1 && b->outcomes >= 1;
}

/* A zone past its expire: EXPIRED in one transition, announced once; the retry that
 * fails keeps it EXPIRED (the store's state machine), and is not announced as an
 * expiry again. */
static void test_runtime_expiry(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, true);
	int64_t long_ago = clock_wall_s() - 100; /* expire is clamped to 2 s */
	struct trr z[] = {trr_soa("a.test.", 7), trr_a("a.test.", 1)};
	load_zone(b.db, "a.test.", z, 2, long_ago);
	run_until(&b, expired_and_retried, 5000);
	assert_int_equal(b.expired, 1);
	engine_wait_idle(b.eng);
	run_until(&b, two_outcomes, 3000); /* b.test's first try, a.test's retry */
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(b.db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname("a.test."), &zi), 0);
	assert_int_equal(zi.state, ZDB_STATE_EXPIRED);
	assert_true(zi.last_attempt > long_ago); /* it was retried */
	assert_int_equal(zi.last_success, long_ago);
	assert_int_equal(zi.serial, 7); /* the data stays */
	zdb_snap_end(s);
	assert_int_equal(b.expired, 1);
	struct runtime_stats rs;
	runtime_stats(b.rt, &rs);
	assert_int_equal(rs.expired, 1);
	bed_down(&b);
}


static struct zone_settings *settings(const char *name, uint16_t port)
{
	char yaml[256], err[512];
	struct cfg *cfg = NULL;
	snprintf(yaml, sizeof(yaml), "zones: [ { name: %s, primaries: [ \"127.0.0.1@%u\" ] } ]\n",
	         name, port);
	assert_int_equal(cfg_load_string("t.yaml", yaml, &cfg, err, sizeof(err)), 0);
	struct zone_settings *set = NULL;
	assert_int_equal(zone_settings_from_cfg(&cfg->zones[0], &set), 0);
	cfg_free(cfg); /* the settings are a copy */
	return set;
}

static int want_done;

static bool enough_done(struct bed *b)
{
	return b->ndone >= want_done;
}

/* No refresh running: b.test's and c.test's retries (every 1 s, a few hundred ms each)
 * leave such moments; a transfer of the removed a.test still counted never would. */
static bool none_running(struct bed *b)
{
	struct runtime_stats rs;
	runtime_stats(b->rt, &rs);
	return rs.running == 0;
}

static bool three_outcomes(struct bed *b)
{
	return b->outcomes >= 3;
}

/* Zones added, changed and removed while the loop runs: an added zone's timer asks for
 * it at once; new settings take effect at the next transfer; a zone removed while its
 * transfer runs refuses requests at once and goes when the transfer ends. */
static void test_runtime_zones_come_and_go(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, true);
	run_until(&b, two_outcomes, 5000); /* a.test and b.test, tried once */
	assert_int_equal(runtime_zone_put(b.rt, settings("c.test", b.port)), 0);
	run_until(&b, three_outcomes, 5000);
	assert_int_equal(b.outcomes, 3); /* c.test, asked for by its timer */
	struct runtime_stats rs;
	runtime_stats(b.rt, &rs);
	assert_int_equal(rs.zones, 3);
	/* c.test at another primary (nobody there: refused at once) */
	assert_int_equal(runtime_zone_put(b.rt, settings("c.test", 1)), 0);
	struct zone *z = runtime_zone(b.rt, tname("c.test."));
	assert_non_null(z);
	assert_int_equal(z->set->z.primaries.v[0].addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&z->set->z.primaries.v[0].addr)->sin_port), 1);
	/* a running transfer, then the zone removed */
	struct zone_req q = {.partition = -1, .offset = 77};
	assert_int_equal(runtime_request(b.rt, "a.test.", &q, 0, RUNTIME_ORIGIN_OPERATOR), 0);
	q.offset = 78;
	assert_int_equal(runtime_request(b.rt, "a.test.", &q, 0, RUNTIME_ORIGIN_OPERATOR), 0);
	assert_int_equal(runtime_zone_remove(b.rt, tname("a.test.")), 0);
	assert_int_equal(runtime_zone_remove(b.rt, tname("a.test.")), ZX_ENOTFOUND);
	assert_null(runtime_zone(b.rt, tname("a.test.")));
	assert_int_equal(runtime_request(b.rt, "a.test.", &q, 0, RUNTIME_ORIGIN_OPERATOR),
	                 ZX_ENOTFOUND);
	int before = b.ndone;
	want_done = before + 2;
	run_until(&b, enough_done, 5000);
	assert_int_equal(b.ndone, before + 2); /* both finished by the one last transfer */
	assert_int_equal(b.done[before], 77);
	assert_int_equal(b.done[before + 1], 78);
	run_until(&b, none_running, 5000); /* under load, a retry may be under way right now */
	runtime_stats(b.rt, &rs);
	assert_int_equal(rs.zones, 2);
	assert_int_equal(rs.running, 0);
	bed_down(&b); /* ASan: the removed record was freed */
}

static void test_runtime_new_errors(void **state)
{
	(void)state;
	struct runtime *rt = (struct runtime *)&rt;
	struct runtime_opts o = {0};
	assert_int_equal(runtime_new(&o, &rt), ZX_EINVAL);
	assert_ptr_equal(rt, (struct runtime *)&rt);
	runtime_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtime_folds_requests),
		cmocka_unit_test(test_runtime_covered_hint_needs_no_run),
		cmocka_unit_test(test_runtime_timers_ask_by_themselves),
		cmocka_unit_test(test_runtime_expiry),
		cmocka_unit_test(test_runtime_zones_come_and_go),
		cmocka_unit_test(test_runtime_new_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
