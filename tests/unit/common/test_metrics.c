/* tests/unit/common/test_metrics.c -- Prometheus text rendering of counters, gauges, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double seven(void *arg)
{
	return *(double *)arg;
}

static void test_metrics_render_groups_series_by_name(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	assert_non_null(m);
	struct metrics_val *udp = metrics_counter(m, "x_requests_total", "transport=\"udp\"", "Requests.");
	struct metrics_val *g = metrics_gauge(m, "x_depth", NULL, "Depth.");
	struct metrics_val *tcp = metrics_counter(m, "x_requests_total", "transport=\"tcp\"", "ignored");
	double v = 7.5;
	assert_int_equal(metrics_gauge_cb(m, "x_cb", "", "Callback.", seven, &v), 0);
	metrics_add(udp, 3);
	metrics_add(tcp, 1);
	metrics_set(g, -2);
	assert_int_equal(metrics_get(udp), 3);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_string_equal(text,
	                    "# HELP x_requests_total Requests.\n"
	                    "# TYPE x_requests_total counter\n"
	                    "x_requests_total{transport=\"udp\"} 3\n"
	                    "x_requests_total{transport=\"tcp\"} 1\n"
	                    "# HELP x_depth Depth.\n"
	                    "# TYPE x_depth gauge\n"
	                    "x_depth -2\n"
	                    "# HELP x_cb Callback.\n"
	                    "# TYPE x_cb gauge\n"
	                    "x_cb 7.5\n");
	free(text);
	metrics_free(m);
}

static void test_metrics_histogram_is_cumulative(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	const double b[] = {0.001, 0.01, 0.1};
	struct metrics_hist *h = metrics_histogram(m, "x_lat_seconds", "k=\"v\"", "Latency.", b, 3);
	assert_non_null(h);
	metrics_observe(h, 0.0005);
	metrics_observe(h, 0.005);
	metrics_observe(h, 0.005);
	metrics_observe(h, 5);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "x_lat_seconds_bucket{k=\"v\",le=\"0.001\"} 1\n"));
	assert_non_null(strstr(text, "x_lat_seconds_bucket{k=\"v\",le=\"0.01\"} 3\n"));
	assert_non_null(strstr(text, "x_lat_seconds_bucket{k=\"v\",le=\"0.1\"} 3\n"));
	assert_non_null(strstr(text, "x_lat_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(text, "x_lat_seconds_sum{k=\"v\"} 5.010500\n"));
	assert_non_null(strstr(text, "x_lat_seconds_count{k=\"v\"} 4\n"));
	free(text);
	metrics_free(m);
}

static void test_metrics_histogram_bad_bucket_count(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	double b[METRICS_HIST_MAX + 1] = {0};
	assert_null(metrics_histogram(m, "h", NULL, "", b, 0));
	assert_null(metrics_histogram(m, "h", NULL, "", b, METRICS_HIST_MAX + 1));
	metrics_free(m);
	metrics_free(NULL);
}

static void two_zones(void *arg, struct metrics_out *o)
{
	int *n = arg;
	char v[64], l[96];
	for (int i = 0; i < *n; i++) {
		metrics_label_value(i == 0 ? "a.test." : "we\"ird\\.test.", v, sizeof(v));
		snprintf(l, sizeof(l), "zone=\"%s\"", v);
		metrics_sample(o, l, i + 1.5);
	}
}

static void test_metrics_family_samples_at_render(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	assert_non_null(m);
	int n = 0;
	assert_int_equal(metrics_family(m, "x_zone_serial", "Serial.", two_zones, &n), 0);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_string_equal(text, "# HELP x_zone_serial Serial.\n# TYPE x_zone_serial gauge\n");
	free(text);
	n = 2; /* series come with what is there at the scrape */
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_string_equal(text, "# HELP x_zone_serial Serial.\n# TYPE x_zone_serial gauge\n"
	                          "x_zone_serial{zone=\"a.test.\"} 1.5\n"
	                          "x_zone_serial{zone=\"we\\\"ird\\\\.test.\"} 2.5\n");
	free(text);
	char small[4];
	assert_int_equal(metrics_label_value("a\"b", small, sizeof(small)), 3);
	assert_string_equal(small, "a\\\"");
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_render_groups_series_by_name),
		cmocka_unit_test(test_metrics_histogram_is_cumulative),
		cmocka_unit_test(test_metrics_histogram_bad_bucket_count),
		cmocka_unit_test(test_metrics_family_samples_at_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
