/* tests/unit/proto/test_reqtopic.c -- the requests topic's contract: Java's
 * partitioner, requests as every producer makes them, one request sent and waited
 * for (librdkafka's in-process mock cluster), errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "proto/reqtopic.h"

#include <stdlib.h>
#include <string.h>

/* Kafka's own vectors (clients UtilsTest.testMurmur2): the Java partitioner is
 * toPositive(murmur2(key)) % partitions, which notifyd and xfrd must agree on. */
static void test_reqtopic_partition_is_javas(void **state)
{
	(void)state;
	static const struct {
		const char *key;
		int32_t murmur2;
	} v[] = {
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint32_t pos = (uint32_t)v[i].murmur2 & 0x7fffffffu;
		for (int32_t n = 1; n <= 64; n *= 2) {
			assert_int_equal(reqtopic_partition(v[i].key, n),
			                 (int32_t)(pos % (uint32_t)n));
		}
		assert_int_equal(reqtopic_partition(v[i].key, 12), (int32_t)(pos % 12u));
	}
	assert_int_equal(reqtopic_partition("x", 0), -1);
	assert_int_equal(reqtopic_partition("x", -3), -1);
}

static struct cfg_kafka kafka(const struct cfg_kv *kv, size_t n)
{
	return (struct cfg_kafka){.brokers = NULL, .requests_topic = "req", .updates_topic = "upd",
	                          .group = "g", .settings = kv, .settings_count = n};
}

static void test_reqtopic_send_once(void **state)
{
	(void)state;
	struct cfg_kv kv[] = {{"test.mock.num.brokers", "1"}};
	struct cfg_kafka kc = kafka(kv, 1);
	struct reqtopic_stored d;
	Zx__Events__TransferRequest req;
	reqtopic_request_init(&req, "example.com.", ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR, "xfrctl");
	assert_int_equal(reqtopic_send_once(&kc, &req, 10000, &d), 0);
	assert_true(d.partition >= 0 && d.offset >= 0);
	assert_string_equal(d.error, "");
	reqtopic_request_init(&req, "", ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR, NULL);
	assert_int_equal(reqtopic_send_once(&kc, &req, 1000, &d), ZX_EINVAL);
	reqtopic_request_init(&req, "example.com", ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR, NULL);
	assert_int_equal(reqtopic_send_once(&kc, &req, 1000, &d), ZX_EINVAL); /* not the key */
	struct cfg_kv bad[] = {{"no.such.property", "1"}};
	kc = kafka(bad, 1);
	reqtopic_request_init(&req, "example.com.", ZX__EVENTS__ORIGIN__ORIGIN_NOTIFY, NULL);
	assert_int_equal(reqtopic_send_once(&kc, &req, 1000, &d), ZX_ECONFIG);
	assert_non_null(strstr(d.error, "no.such.property"));
	kc = kafka(NULL, 0);
	kc.brokers = "127.0.0.1:1";
	assert_int_equal(reqtopic_send_once(&kc, &req, 300, &d), ZX_ETIMEDOUT);
	assert_true(strlen(d.error) > 0); /* librdkafka's "Message timed out", or ours */
}

static void test_reqtopic_request_and_pack(void **state)
{
	(void)state;
	Zx__Events__TransferRequest req;
	reqtopic_request_init(&req, "a.example.", ZX__EVENTS__ORIGIN__ORIGIN_REFRESH, NULL);
	assert_string_equal(req.producer, "");
	assert_true(req.received_us > 1600000000000000ull);
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(reqtopic_pack(&req, &buf, &len), 0);
	Zx__Events__TransferRequest *back = NULL;
	assert_int_equal(events_request_unpack(buf, len, &back), 0);
	assert_string_equal(back->zone, "a.example.");
	assert_int_equal(back->origin, ZX__EVENTS__ORIGIN__ORIGIN_REFRESH);
	assert_int_equal(back->schema, EVENTS_SCHEMA);
	events_request_free(back);
	free(buf);
	req.zone = NULL;
	assert_int_equal(reqtopic_pack(&req, &buf, &len), ZX_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reqtopic_partition_is_javas),
		cmocka_unit_test(test_reqtopic_request_and_pack),
		cmocka_unit_test(test_reqtopic_send_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
