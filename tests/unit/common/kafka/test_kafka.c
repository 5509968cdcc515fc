/* tests/unit/common/kafka/test_kafka.c -- librdkafka conf from the config section; error mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/kafka/kafka.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kafka_conf_settings_override_defaults),
		cmocka_unit_test(test_kafka_conf_bad_property_is_econfig),
		cmocka_unit_test(test_kafka_err_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
