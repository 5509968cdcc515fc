/* tests/unit/xfrd/xfr/test_proxies.c -- SOCKS5 proxies' health, order and counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/xfr/proxies.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/metrics.h"
#include "xfrd/xfr/xfr.h"

#include <stdlib.h>
#include <string.h>

static struct cfg_proxy proxy(const char *text, const char *user)
{
	struct cfg_proxy p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(acl_endpoint_parse(text, 1080, &p.ep.addr, &p.ep.len), 0);
	p.user = user;
	p.password = user != NULL ? "pw" : NULL;
	return p;
}

static struct xfr_result failed(enum xfr_egress how, int error, uint8_t rep)
{
	struct xfr_result r;
	memset(&r, 0, sizeof(r));
	r.outcome = XFR_FAILED;
	r.error = error;
	r.egress_fail = how;
	r.socks_rep = rep;
	return r;
}

static void test_proxies_order_follows_health(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct proxies *t = NULL;
	assert_int_equal(proxies_new(m, &t), 0);
	struct cfg_proxy px[3] = {proxy("127.0.0.1@1081", NULL), proxy("127.0.0.1@1082", NULL),
	                          proxy("127.0.0.1@1083", NULL)};
	struct cfg_egress eg = {.proxies = px, .proxy_count = 3};
	assert_int_equal(proxies_add(t, &eg), 0);
	assert_int_equal(proxies_add(t, &eg), 0); /* known already: nothing new */
	uint8_t o[PROXIES_PER_EGRESS];
	assert_int_equal(proxies_order(t, &eg, 1000, o), 3);
	assert_memory_equal(o, "\x00\x01\x02", 3);

	/* the first one down: tried last until its time is up */
	struct xfr_result r = failed(XFR_EGRESS_PROXY, ZX_ECONNREFUSED, 0);
	proxies_note(t, &px[0], 1000, &r);
	assert_int_equal(proxies_order(t, &eg, 1001, o), 3);
	assert_memory_equal(o, "\x01\x02\x00", 3);
	/* the third down later: both down, soonest retry first */
	proxies_note(t, &px[2], 2000, &r);
	assert_int_equal(proxies_order(t, &eg, 2001, o), 3);
	assert_memory_equal(o, "\x01\x00\x02", 3);
	/* the first one's time is up: in its place again */
	assert_int_equal(proxies_order(t, &eg, 1000 + PROXIES_DOWN_MS, o), 3);
	assert_memory_equal(o, "\x00\x01\x02", 3);
	/* failing again doubles the time down */
	proxies_note(t, &px[0], 10000, &r);
	struct proxies_state st;
	proxies_get(t, &px[0], &st);
	assert_false(st.up);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.down_until, 10000 + 2 * PROXIES_DOWN_MS);
	for (int i = 0; i < 10; i++) {
		proxies_note(t, &px[0], 20000, &r);
	}
	proxies_get(t, &px[0], &st);
	assert_int_equal(st.down_until, 20000 + PROXIES_DOWN_MAX_MS);
	/* one success: up again */
	struct xfr_result ok;
	memset(&ok, 0, sizeof(ok));
	ok.outcome = XFR_AXFR;
	proxies_note(t, &px[0], 20001, &ok);
	proxies_get(t, &px[0], &st);
	assert_true(st.up);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.transfers, 1);
	proxies_free(t);
	metrics_free(m);
}

static void test_proxies_count_each_error_kind(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct proxies *t = NULL;
	assert_int_equal(proxies_new(m, &t), 0);
	struct cfg_proxy a = proxy("[::1]:1080", "xfr"), b = proxy("[::1]:1080", NULL);
	struct cfg_egress eg = {.proxies = &a, .proxy_count = 1};
	assert_int_equal(proxies_add(t, &eg), 0);
	struct xfr_result rs[] = {
		failed(XFR_EGRESS_PROXY, ZX_ECONNREFUSED, 0), failed(XFR_EGRESS_PROXY, ZX_ETIMEDOUT, 0),
		failed(XFR_EGRESS_PROXY, ZX_ESOCKS_AUTH, 0),  failed(XFR_EGRESS_PROXY, ZX_ESOCKS, 0),
		failed(XFR_EGRESS_PROXY, ZX_ESOCKS_REFUSED, 2),
		failed(XFR_EGRESS_PROXY, ZX_ESOCKS_REFUSED, 99),
		failed(XFR_EGRESS_UNREACHABLE, ZX_ESOCKS_UNREACHABLE, 4),
		failed(XFR_EGRESS_LOST, ZX_ECONNRESET, 0),
		failed(XFR_EGRESS_OK, ZX_ETSIG_BADSIG, 0), /* the primary's failure: carried */
	};
	for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		proxies_note(t, &a, 1000, &rs[i]);
	}
	struct proxies_state st;
	proxies_get(t, &a, &st);
	assert_true(st.known);
	assert_int_equal(st.unreachable, 2);
	assert_int_equal(st.auth, 1);
	assert_int_equal(st.protocol, 1);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.primary_unreachable, 1);
	assert_int_equal(st.connection_lost, 1);
	assert_int_equal(st.transfers, 1);
	assert_true(st.up); /* the last outcome went through it */
	proxies_get(t, &b, &st); /* the same endpoint without a user is another proxy */
	assert_false(st.known);
	proxies_note(t, &b, 1000, &rs[0]); /* unknown: ignored */

	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "xfrd_proxy_up{proxy=\"::1@1080\"} 1"));
	assert_non_null(strstr(text, "xfrd_proxy_errors_total{proxy=\"::1@1080\",error=\"auth\"} 1"));
	assert_non_null(strstr(text, "xfrd_proxy_errors_total{proxy=\"::1@1080\",error=\"refused\","
	                             "code=\"2\"} 1"));
	assert_non_null(strstr(text, "xfrd_proxy_errors_total{proxy=\"::1@1080\",error=\"refused\","
	                             "code=\"other\"} 1"));
	assert_non_null(strstr(text, "xfrd_proxy_errors_total{proxy=\"::1@1080\","
	                             "error=\"primary_unreachable\"} 1"));
	assert_non_null(strstr(text, "xfrd_proxy_transfers_total{proxy=\"::1@1080\"} 1"));
	free(text);
	proxies_free(t);
	metrics_free(m);
	proxies_free(NULL);
	assert_int_equal(proxies_new(NULL, &t), 0); /* a registry of its own */
	proxies_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxies_order_follows_health),
		cmocka_unit_test(test_proxies_count_each_error_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
