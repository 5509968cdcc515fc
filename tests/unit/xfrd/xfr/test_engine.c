/* tests/unit/xfrd/xfr/test_engine.c -- engine and xfr API contracts that need no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/xfrd/xfr/memstore.h"
#include "common/cfg/cfg.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/zone/zone.h"

#include <event2/event.h>
#include <string.h>
#include <sys/un.h>

static const uint8_t zone[] = "\x07" "example" "\x03" "com";

static struct engine_opts good_opts(struct memstore *m)
{
	return (struct engine_opts){.workers = 1, .max_transfers = 2, .per_primary = 1,
	                            .connect_ms = 100, .read_ms = 100, .soa_ms = 100,
	                            .transfer_ms = 1000, .ops = &memstore_ops, .store = m};
}

static void test_engine_new_rejects_bad_options(void **state)
{
	(void)state;
	struct memstore *m = memstore_new();
	struct engine *e = (struct engine *)0x1;
	struct engine_opts o = good_opts(m);
	o.workers = 0;
	assert_int_equal(engine_new(&o, &e), ZX_EINVAL);
	o = good_opts(m);
	o.max_transfers = 0;
	assert_int_equal(engine_new(&o, &e), ZX_EINVAL);
	o = good_opts(m);
	o.per_primary = 0;
	assert_int_equal(engine_new(&o, &e), ZX_EINVAL);
	o = good_opts(m);
	o.ops = NULL;
	assert_int_equal(engine_new(&o, &e), ZX_EINVAL);
	o = good_opts(m);
	o.store = NULL;
	assert_int_equal(engine_new(&o, &e), ZX_EINVAL);
	assert_ptr_equal(e, (struct engine *)0x1); /* untouched on error */
	engine_free(NULL);
	memstore_free(m);
}

static void test_engine_request_needs_primaries(void **state)
{
	(void)state;
	struct memstore *m = memstore_new();
	struct engine_opts o = good_opts(m);
	struct engine *e = NULL;
	assert_int_equal(engine_new(&o, &e), 0);
	struct cfg_zone z = {.name = zone, .name_text = "example.com."};
	struct zone_settings *set = NULL;
	assert_int_equal(zone_settings_from_cfg(&z, &set), 0);
	assert_int_equal(engine_request(e, set, 0, NULL, NULL), ZX_EINVAL);
	zone_settings_unref(set);
	struct engine_stats st;
	engine_stats(e, &st);
	assert_int_equal(st.requests, 0);
	assert_int_equal(st.running, 0);
	engine_wait_idle(e); /* nothing outstanding: returns at once */
	engine_free(e);
	memstore_free(m);
}

/* engine_free() right after engine_new(): workers that have not entered their
   loop yet must still stop (a loopbreak before the loop starts is forgotten). */
static void test_engine_free_at_once_stops_every_worker(void **state)
{
	(void)state;
	struct memstore *m = memstore_new();
	struct engine_opts o = good_opts(m);
	o.workers = 4;
	for (int i = 0; i < 50; i++) {
		struct engine *e = NULL;
		assert_int_equal(engine_new(&o, &e), 0);
		engine_free(e);
	}
	memstore_free(m);
}

static void test_xfr_start_rejects_bad_params(void **state)
{
	(void)state;
	struct memstore *m = memstore_new();
	struct event_base *base = event_base_new();
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct xfr_params p = {.zone = zone, .primary = (struct sockaddr *)&un,
	                       .primary_len = sizeof(un), .ops = &memstore_ops, .store = m};
	struct xfr *x = NULL;
	assert_int_equal(xfr_start(base, &p, NULL, NULL, &x), ZX_EINVAL);
	p.primary = (struct sockaddr *)&in;
	p.primary_len = sizeof(in);
	p.zone = (const uint8_t *)"\x45";
	assert_int_equal(xfr_start(base, &p, NULL, NULL, &x), ZX_EINVAL);
	assert_null(x);
	xfr_free(NULL);
	assert_string_equal(xfr_outcome_str(XFR_UPTODATE), "uptodate");
	assert_string_equal(xfr_outcome_str(XFR_IXFR), "ixfr");
	assert_string_equal(xfr_outcome_str(XFR_AXFR), "axfr");
	assert_string_equal(xfr_outcome_str(XFR_FAILED), "failed");
	event_base_free(base);
	memstore_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_new_rejects_bad_options),
		cmocka_unit_test(test_engine_request_needs_primaries),
		cmocka_unit_test(test_engine_free_at_once_stops_every_worker),
		cmocka_unit_test(test_xfr_start_rejects_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
