/* tests/unit/xfrd/zone/test_zone.c -- zone settings copies and the zone table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "xfrd/zone/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const yaml =
	"keys: [ { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0c2VjcmV0c2VjcmV0\" } ]\n"
	"xfrd: { serve: { allow: [ \"10.0.0.0/8\" ] } }\n"
	"zones:\n"
	"  - { name: A.Test, primaries: [ \"127.0.0.1@53\", \"127.0.0.2@5300\" ], key: k1,\n"
	"      notify-from: [ \"192.0.2.0/24\" ], notify: [ \"127.0.0.9@53\" ] }\n";

static void test_settings_are_a_deep_copy(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	char err[1024];
	assert_int_equal(cfg_load_string("t.yaml", yaml, &cfg, err, sizeof(err)), 0);
	struct zone_settings *s = NULL;
	assert_int_equal(zone_settings_from_cfg(&cfg->zones[0], &s), 0);
	const struct cfg_zone *a = &cfg->zones[0], *b = &s->z;
	assert_string_equal(b->name_text, "a.test.");
	assert_true(dname_equal(a->name, b->name));
	assert_ptr_not_equal(a->name, b->name);
	assert_int_equal(b->primaries.count, 2);
	assert_ptr_not_equal(a->primaries.v, b->primaries.v);
	assert_memory_equal(a->primaries.v, b->primaries.v, 2 * sizeof(*a->primaries.v));
	assert_ptr_equal(a->key, b->key); /* keys are borrowed from the ring */
	assert_int_equal(b->notify_from.count, a->notify_from.count);
	assert_ptr_not_equal(a->notify_from.nets, b->notify_from.nets);
	assert_int_equal(b->serve.allow.count, 1);
	assert_int_equal(b->notify.count, 1);
	assert_int_equal(b->notify_keys.count, 1);
	assert_true(s->bytes > sizeof(*s) && s->bytes < sizeof(*s) + 1024);
	/* the copy outlives the config it came from */
	char text[64];
	snprintf(text, sizeof(text), "%s", a->name_text);
	cfg_free(cfg);
	assert_string_equal(b->name_text, text);
	assert_int_equal(b->primaries.v[1].len, sizeof(struct sockaddr_in));
	assert_ptr_equal(zone_settings_ref(s), s);
	zone_settings_unref(s);
	zone_settings_unref(s);
	zone_settings_unref(NULL);
	struct cfg_zone bad = {0};
	uint8_t root_bad[DNAME_MAXLEN] = {64}; /* a label longer than 63 */
	bad.name = root_bad;
	bad.name_text = "x";
	assert_int_equal(zone_settings_from_cfg(&bad, &s), ZX_EINVAL);
}


/* Egress (sources, proxies, credentials) is copied too: the settings outlive the cfg,
 * and primaries that use the zone's proxies share one copy of them. */
static void test_settings_copy_egress(void **state)
{
	(void)state;
	char pw[] = "/tmp/zx-zone-pw.XXXXXX";
	int fd = mkstemp(pw);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hunter2\n", 8), 8);
	close(fd);
	char text[1024];
	snprintf(text, sizeof(text),
	         "zones:\n"
	         "  - name: e.test\n"
	         "    source: 127.0.0.2\n"
	         "    proxy: [ \"127.0.0.1@1081\", { address: \"127.0.0.6@1082\", user: xfr, "
	         "password-file: \"%s\" } ]\n"
	         "    primaries: [ \"127.0.0.1@53\", { address: \"127.0.0.3@53\", proxy: "
	         "[ \"127.0.0.4@1083\" ], source: \"127.0.0.5@0\" } ]\n",
	         pw);
	struct cfg *cfg = NULL;
	char err[1024];
	assert_int_equal(cfg_load_string("t.yaml", text, &cfg, err, sizeof(err)), 0);
	unlink(pw);
	struct zone_settings *s = NULL;
	assert_int_equal(zone_settings_from_cfg(&cfg->zones[0], &s), 0);
	struct cfg_egress before0 = cfg->zones[0].primary_egress[0];
	struct cfg_proxy px1 = cfg->zones[0].egress.proxies[1];
	assert_ptr_not_equal(s->z.egress.proxies, cfg->zones[0].egress.proxies);
	assert_ptr_not_equal(s->z.egress.proxies[1].password, px1.password);
	cfg_free(cfg); /* nothing of the copy points into it */
	const struct cfg_zone *z = &s->z;
	assert_int_equal(z->egress.proxy_count, 2);
	assert_memory_equal(&z->egress.proxies[0].ep, &before0.proxies[0].ep,
	                    sizeof(struct cfg_endpoint));
	assert_string_equal(z->egress.proxies[1].user, "xfr");
	assert_string_equal(z->egress.proxies[1].password, "hunter2");
	assert_memory_equal(&z->primary_egress[0].source, &before0.source,
	                    sizeof(struct cfg_endpoint));
	assert_ptr_equal(z->primary_egress[0].proxies, z->egress.proxies); /* shared */
	assert_int_equal(z->primary_egress[1].proxy_count, 1);
	assert_ptr_not_equal(z->primary_egress[1].proxies, z->egress.proxies);
	assert_null(z->primary_egress[1].proxies[0].user);
	assert_int_equal(z->primary_egress[1].source.len, sizeof(struct sockaddr_in));
	zone_settings_unref(s);
}

static struct zone_settings *named(const char *name)
{
	uint8_t w[DNAME_MAXLEN];
	assert_true(dname_from_text(name, w) > 0);
	dname_lower(w);
	char text[DNAME_TEXTLEN];
	assert_int_equal(dname_to_text(w, text, sizeof(text)), 0);
	struct cfg_zone cz = {.name = w, .name_text = text};
	struct zone_settings *s = NULL;
	assert_int_equal(zone_settings_from_cfg(&cz, &s), 0);
	return s;
}

static void test_table_finds_grows_unlinks_and_walks(void **state)
{
	(void)state;
	struct zonetab *t = zonetab_new();
	char name[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "z%d.test.", i);
		struct zone *z = NULL;
		assert_int_equal(zonetab_add(t, named(name), &z), 0);
		assert_int_equal(z->partition, -1);
		assert_int_equal(z->run, ZONE_IDLE);
	}
	assert_int_equal(zonetab_count(t), 3000);
	struct zone *dup = NULL;
	struct zone_settings *again = named("z7.test.");
	assert_int_equal(zonetab_add(t, again, &dup), ZX_EEXIST);
	zone_settings_unref(again);
	/* any case, wire or text */
	struct zone *z7 = zonetab_find_text(t, "Z7.TEST");
	assert_non_null(z7);
	assert_string_equal(zone_name_text(z7), "z7.test.");
	uint8_t w[DNAME_MAXLEN];
	assert_true(dname_from_text("z2999.Test.", w) > 0);
	assert_non_null(zonetab_find(t, w));
	assert_null(zonetab_find_text(t, "nope.test"));
	assert_null(zonetab_find_text(t, ""));
	assert_null(zonetab_find_text(t, NULL));
	/* unlinking every other record during a walk; the walk sees each once */
	size_t seen = 0, gone = 0;
	struct zone **out = calloc(3000, sizeof(*out));
	for (struct zone *z = zonetab_next(t, NULL); z != NULL; z = zonetab_next(t, z)) {
		seen++;
		if (seen % 2 == 0) {
			zonetab_unlink(t, z);
			z->removed = true;
			out[gone++] = z;
		}
	}
	assert_int_equal(seen, 3000);
	assert_int_equal(zonetab_count(t), 3000 - gone);
	/* the unlinked ones are found no more; free them (the walk above kept them) */
	size_t left = 0;
	for (struct zone *z = zonetab_next(t, NULL); z != NULL; z = zonetab_next(t, z)) {
		assert_false(z->removed);
		left++;
	}
	assert_int_equal(left, 3000 - gone);
	size_t found = 0;
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "z%d.test.", i);
		found += zonetab_find_text(t, name) != NULL;
	}
	assert_int_equal(found, 3000 - gone);
	for (size_t i = 0; i < gone; i++) {
		zone_free(out[i]);
	}
	free(out);
	zonetab_free(t);
	zonetab_free(NULL);
	zone_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_are_a_deep_copy),
		cmocka_unit_test(test_settings_copy_egress),
		cmocka_unit_test(test_table_finds_grows_unlinks_and_walks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
