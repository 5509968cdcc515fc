/* tests/unit/common/kafka/test_kafka.c -- librdkafka conf from the config section; error mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/kafka/kafka.h"

#include <stdio.h>
#include <string.h>

static void test_kafka_conf_settings_override_defaults(void **state)
{
	(void)state;
	struct cfg_kv kv[] = {{"linger.ms", "7"}};
	struct cfg_kafka kc = {.brokers = "127.0.0.1:9", .settings = kv, .settings_count = 1};
	const char *defaults[] = {"linger.ms", "1", "acks", "all", NULL};
	rd_kafka_conf_t *conf = NULL;
	char err[256] = "";
	assert_int_equal(kafka_conf_new(&kc, "n1", defaults, &conf, err, sizeof(err)), 0);
	char v[64];
	size_t vlen = sizeof(v);
	assert_int_equal(rd_kafka_conf_get(conf, "linger.ms", v, &vlen), RD_KAFKA_CONF_OK);
	assert_string_equal(v, "7");
	vlen = sizeof(v);
	assert_int_equal(rd_kafka_conf_get(conf, "client.id", v, &vlen), RD_KAFKA_CONF_OK);
	assert_string_equal(v, "n1");
	vlen = sizeof(v);
	assert_int_equal(rd_kafka_conf_get(conf, "bootstrap.servers", v, &vlen), RD_KAFKA_CONF_OK);
	assert_string_equal(v, "127.0.0.1:9");
	rd_kafka_conf_destroy(conf);
}

static void test_kafka_conf_bad_property_is_econfig(void **state)
{
	(void)state;
	struct cfg_kv kv[] = {{"no.such.property", "1"}};
	struct cfg_kafka kc = {.brokers = NULL, .settings = kv, .settings_count = 1};
	rd_kafka_conf_t *conf = NULL;
	char err[256] = "";
	assert_int_equal(kafka_conf_new(&kc, NULL, NULL, &conf, err, sizeof(err)), ZX_ECONFIG);
	assert_null(conf);
	assert_non_null(strstr(err, "no.such.property"));
	rd_kafka_conf_t *c2 = rd_kafka_conf_new();
	assert_int_equal(kafka_conf_set(c2, "acks", "sometimes", err, sizeof(err)), ZX_ECONFIG);
	assert_int_equal(kafka_conf_set(c2, "acks", "all", err, sizeof(err)), 0);
	rd_kafka_conf_destroy(c2);
}

static void test_kafka_err_mapping(void **state)
{
	(void)state;
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR_NO_ERROR), 0);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), ZX_ETIMEDOUT);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__TIMED_OUT), ZX_ETIMEDOUT);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT), ZX_ETIMEDOUT);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__QUEUE_FULL), ZX_EAGAIN);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__DESTROY), ZX_ESHUTDOWN);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__PURGE_QUEUE), ZX_ESHUTDOWN);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT), ZX_ESHUTDOWN);
	assert_int_equal(kafka_err(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION), ZX_EKAFKA);
}

static void test_kafka_errlog_once_per_error(void **state)
{
	(void)state;
	struct kafka_errlog l;
	memset(&l, 0, sizeof(l));
	const char *a1 = "b:9092/bootstrap: Connect to ipv4#b:9092 failed: Connection refused "
	                 "(after 0ms in state CONNECT)";
	const char *a2 = "b:9092/bootstrap: Connect to ipv4#b:9092 failed: Connection refused "
	                 "(after 1ms in state CONNECT, 1 identical error(s) suppressed)";
	assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_TRANSPORT", a1, 1000));
	assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_ALL_BROKERS_DOWN",
	                              "1/1 brokers are down", 1001));
	/* a broker that stays down: the same two, alternating, timing tails aside */
	for (int i = 0; i < 50; i++) {
		assert_false(kafka_errlog_once(&l, "kafka_error", "consumer", "_TRANSPORT", a2,
		                               2000 + i * 1000));
		assert_false(kafka_errlog_once(&l, "kafka_error", "consumer", "_ALL_BROKERS_DOWN",
		                               "1/1 brokers are down", 2000 + i * 1000));
	}
	assert_int_equal(l.e[0].repeats, 50);
	/* another error is news; the first one again after the reminder interval too */
	assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_TRANSPORT",
	                              "b:9092/bootstrap: Disconnected", 60000));
	assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_TRANSPORT", a1,
	                              1000 + KAFKA_ERRLOG_REMIND_MS));
	assert_int_equal(l.e[0].repeats, 0);
	/* more distinct errors than it keeps: the oldest is forgotten, said again */
	for (int i = 0; i < KAFKA_ERRLOG_KEEP; i++) {
		char r[32];
		snprintf(r, sizeof(r), "error %d", i);
		assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_X", r, 70000 + i));
	}
	assert_true(kafka_errlog_once(&l, "kafka_error", "consumer", "_ALL_BROKERS_DOWN",
	                              "1/1 brokers are down", 80000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kafka_conf_settings_override_defaults),
		cmocka_unit_test(test_kafka_conf_bad_property_is_econfig),
		cmocka_unit_test(test_kafka_err_mapping),
		cmocka_unit_test(test_kafka_errlog_once_per_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
