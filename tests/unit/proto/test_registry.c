/* SPDX-License-Identifier: MIT */
/* tests/unit/proto/test_registry.c -- registry records: wire, JSON, the zone made. */
#include "common/arena.h"
#include "common/cfg/cfg.h"
#include "proto/registry.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char err[512];

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	assert_non_null(j);
	return j;
}

/* JSON in, protobuf through the wire, JSON out: the same settings. */
static void test_registry_roundtrip(void **state)
{
	(void)state;
	const char *in =
		"{\"name\": \"example.com.\", \"primaries\": [\"192.0.2.1@53\"], \"key\": \"k1\","
		" \"notify-keys\": [], \"serve\": {\"allow\": [\"10.0.0.0/8\"], \"keys\": [\"k1\"]},"
		" \"refresh\": {\"min\": \"60s\", \"max\": 3600}, \"limits\": {\"bytes\": \"100M\"},"
		" \"notify\": [\"127.0.0.1@5399\"], \"notify-key\": \"k1\"}";
	json_t *j = parse(in);
	struct arena *mem = arena_new(0);
	Zx__Registry__Zone z;
	struct cfg_problem probs[4];
	size_t n = 0;
	assert_int_equal(registry_from_json(j, mem, &z, probs, 4, &n), 0);
	assert_true(z.notify_keys_set);
	assert_int_equal(z.n_notify_keys, 0);
	assert_string_equal(z.refresh->max, "3600"); /* a number taken as text */
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(registry_pack(&z, &buf, &len), 0);
	Zx__Registry__Zone *back = NULL;
	assert_int_equal(registry_unpack(buf, len, &back), 0);
	assert_int_equal(back->schema, REGISTRY_SCHEMA);
	json_t *out = registry_to_json(back);
	assert_non_null(out);
	/* an explicit empty notify-keys stays explicit: it means "unsigned NOTIFY" */
	assert_true(json_is_array(json_object_get(out, "notify-keys")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(out, "refresh"), "min")), "60s");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(out, "limits"), "bytes")), "100M");
	assert_null(json_object_get(out, "expire"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(out, "serve"), "keys")), 1);
	json_decref(out);
	registry_free(back);
	free(buf);
	/* garbage and a record without a name are not zones */
	assert_int_equal(registry_unpack((const uint8_t *)"\xff\xff\xff", 3, &back), ZX_EFORMAT);
	Zx__Registry__Zone anon = ZX__REGISTRY__ZONE__INIT;
	assert_int_equal(registry_pack(&anon, &buf, &len), ZX_EINVAL);
	json_decref(j);
	arena_destroy(mem);
}

/* Shape problems name their field; every one is reported. */
static void test_registry_json_problems(void **state)
{
	(void)state;
	json_t *j = parse("{\"name\": \"x.\", \"primaries\": \"192.0.2.1\", \"key\": [1],"
	                  " \"serve\": {\"allow\": [\"10.0.0.0/8\", 7], \"who\": 1},"
	                  " \"refresh\": {\"min\": true}, \"colour\": \"blue\"}");
	struct arena *mem = arena_new(0);
	Zx__Registry__Zone z;
	struct cfg_problem probs[8];
	size_t n = 0;
	assert_int_equal(registry_from_json(j, mem, &z, probs, 8, &n), ZX_ECONFIG);
	assert_int_equal(n, 6);
	const char *paths[] = {"primaries", "key", "serve.allow[1]", "serve.who", "refresh.min",
	                       "colour"};
	for (size_t i = 0; i < 6; i++) {
		bool found = false;
		for (size_t k = 0; k < n; k++) {
			found |= strcmp(probs[k].path, paths[i]) == 0;
		}
		assert_true(found);
	}
	assert_non_null(strstr(probs[0].text, "expected a list of text"));
	json_decref(j);
	j = parse("[1]");
	assert_int_equal(registry_from_json(j, mem, &z, probs, 8, &n), ZX_ECONFIG);
	assert_int_equal(n, 1);
	json_decref(j);
	arena_destroy(mem);
}

/* The zone a record makes: the config's checks, its defaults, its keys. */
static void test_registry_zone(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	const char *file =
		"keys: [ { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0c2VjcmV0\" } ]\n"
		"zone-defaults: { limits: { records: 5000 } }\n";
	assert_int_equal(cfg_load_string("t.yaml", file, &cfg, err, sizeof(err)), 0);
	struct arena *mem = arena_new(0);
	struct cfg_problem probs[4];
	size_t n = 0;
	json_t *j = parse("{\"name\": \"Reg.Test\", \"primaries\": [\"192.0.2.1@5353\"],"
	                  " \"key\": \"k1\"}");
	Zx__Registry__Zone rec;
	assert_int_equal(registry_from_json(j, mem, &rec, probs, 4, &n), 0);
	struct cfg_zone z;
	assert_int_equal(registry_zone(cfg, &rec, mem, &z, probs, 4, &n), 0);
	assert_string_equal(z.name_text, "reg.test.");
	assert_int_equal(z.limits.records, 5000);
	assert_non_null(z.key);
	json_decref(j);
	j = parse("{\"name\": \"bad.test\", \"primaries\": [\"192.0.2.1@53\"], \"key\": \"k9\"}");
	assert_int_equal(registry_from_json(j, mem, &rec, probs, 4, &n), 0);
	assert_int_equal(registry_zone(cfg, &rec, mem, &z, probs, 4, &n), ZX_ECONFIG);
	assert_string_equal(probs[0].path, "key");
	json_decref(j);
	arena_destroy(mem);
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_roundtrip),
		cmocka_unit_test(test_registry_json_problems),
		cmocka_unit_test(test_registry_zone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
