/* tests/unit/xfrd/kafka/test_lagstats.c -- xfrd_kafka_consumer_lag from librdkafka's statistics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/metrics.h"
#include "xfrd/kafka/lagstats.h"

#include <stdlib.h>
#include <string.h>

/* The shape librdkafka 2.x writes (trimmed): partition -1 is its internal one; 3 is
 * known to the client but not assigned (desired false). */
static const char doc[] =
	"{\"name\": \"r1#consumer-1\", \"type\": \"consumer\", \"topics\": {"
	"\"other\": {\"partitions\": {\"0\": {\"desired\": true, \"consumer_lag\": 99}}},"
	"\"xfr.requests\": {\"topic\": \"xfr.requests\", \"partitions\": {"
	"\"0\": {\"partition\": 0, \"desired\": true, \"fetch_state\": \"active\", "
	"\"hi_offset\": 120, \"committed_offset\": 100, \"consumer_lag\": 20},"
	"\"1\": {\"partition\": 1, \"desired\": true, \"consumer_lag\": -1, "
	"\"committed_offset\": -1001, \"hi_offset\": 12, \"lo_offset\": 5},"
	"\"2\": {\"partition\": 2, \"desired\": true, \"consumer_lag\": -1, "
	"\"committed_offset\": -1001, \"hi_offset\": -1001},"
	"\"3\": {\"partition\": 3, \"desired\": false, \"consumer_lag\": 7},"
	"\"-1\": {\"partition\": -1, \"desired\": false, \"consumer_lag\": -1}}}}}";

static void test_lagstats_assigned_partitions_of_the_topic(void **state)
{
	(void)state;
	struct metrics *m = metrics_new();
	struct lagstats *ls = NULL;
	assert_int_equal(lagstats_new(m, "xfr.requests", &ls), 0);
	assert_int_equal(lagstats_get(ls, 0), ZX_ENOTFOUND); /* nothing seen yet */
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_null(strstr(text, "xfrd_kafka_consumer_lag{"));
	free(text);

	assert_int_equal(lagstats_update(ls, doc, strlen(doc)), 0);
	assert_int_equal(lagstats_get(ls, 0), 20);
	assert_int_equal(lagstats_get(ls, 1), 7); /* never committed: hi - lo */
	assert_int_equal(lagstats_get(ls, 2), -1); /* nothing known */
	assert_int_equal(lagstats_get(ls, 3), ZX_ENOTFOUND);
	assert_int_equal(lagstats_get(ls, -1), ZX_ENOTFOUND);
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_non_null(strstr(text, "# TYPE xfrd_kafka_consumer_lag gauge\n"
	                             "xfrd_kafka_consumer_lag{partition=\"0\"} 20\n"
	                             "xfrd_kafka_consumer_lag{partition=\"1\"} 7\n"
	                             "xfrd_kafka_consumer_lag{partition=\"2\"} -1\n"));
	assert_null(strstr(text, "partition=\"3\""));
	free(text);

	/* garbage keeps the last values; a document without the topic: nothing assigned */
	assert_int_equal(lagstats_update(ls, "{\"topics\": ", 11), ZX_EFORMAT);
	assert_int_equal(lagstats_get(ls, 0), 20);
	const char none[] = "{\"topics\": {}}";
	assert_int_equal(lagstats_update(ls, none, strlen(none)), 0);
	assert_int_equal(lagstats_get(ls, 0), ZX_ENOTFOUND);
	lagstats_free(ls);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lagstats_assigned_partitions_of_the_topic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
