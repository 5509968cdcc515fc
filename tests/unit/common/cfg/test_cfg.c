/* tests/unit/common/cfg/test_cfg.c -- the config loader: defaults, merging, every
 * error class with its exact file:line:col, the shipped example, 100k zones.
 * Runs with the working directory tests/unit/common/cfg (data files in cfg/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/arena.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/tsig/tsig.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXAMPLE "../../../../docker/zx.example.yaml"

static char err[8192];

static struct cfg *load_ok(const char *path)
{
	struct cfg *cfg = NULL;
	int rc = cfg_load(path, &cfg, err, sizeof(err));
	if (rc != 0) {
		print_error("%s\n", err);
	}
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	assert_string_equal(err, "");
	return cfg;
}

static struct cfg *load_text(const char *text)
{
	struct cfg *cfg = NULL;
	int rc = cfg_load_string("t.yaml", text, &cfg, err, sizeof(err));
	if (rc != 0) {
		print_error("%s\n", err);
	}
	assert_int_equal(rc, 0);
	return cfg;
}

static const struct cfg_zone *find(const struct cfg *cfg, const char *name)
{
	uint8_t wire[DNAME_MAXLEN];
	assert_true(dname_from_text(name, wire) > 0);
	return cfg_zone_find(cfg, wire);
}

static uint16_t port_of(const struct cfg_endpoint *ep)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ep->addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ep->addr;
	return ntohs(ep->addr.ss_family == AF_INET ? in->sin_port : in6->sin6_port);
}

static const char *addr_of(const struct cfg_endpoint *ep)
{
	static char buf[ACL_ADDRSTRLEN];
	return acl_addr_str((const struct sockaddr *)&ep->addr, true, buf, sizeof(buf));
}

/* ---- good files ------------------------------------------------------------------------ */

static void test_cfg_defaults_of_empty_file(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("# nothing but a comment\n");
	assert_int_equal(cfg->log_level, LOG_LVL_INFO);
	assert_string_equal(cfg->kafka.brokers, "127.0.0.1:9092");
	assert_string_equal(cfg->kafka.requests_topic, "xfr.requests");
	assert_string_equal(cfg->kafka.updates_topic, "xfr.updates");
	assert_string_equal(cfg->kafka.group, "xfrd");
	assert_int_equal(cfg->kafka.delivery_timeout_ms, 5000);
	assert_int_equal(cfg->kafka.settings_count, 0);
	assert_int_equal(cfg->proxy_trusted.count, 0);
	assert_non_null(cfg->notifyd.instance);
	assert_int_equal(cfg->notifyd.listen.count, 2);
	assert_string_equal(addr_of(&cfg->notifyd.listen.v[0]), "0.0.0.0@53");
	assert_string_equal(addr_of(&cfg->notifyd.listen.v[1]), "::@53");
	assert_string_equal(addr_of(&cfg->notifyd.http), "127.0.0.1@9153");
	assert_int_equal(cfg->notifyd.rate_limit.per_source, 200);
	assert_int_equal(cfg->notifyd.rate_limit.per_zone, 20);
	assert_int_equal(cfg->notifyd.rate_limit.burst, 2);
	assert_int_equal(cfg->notifyd.tcp_max_connections, 1024);
	assert_int_equal(cfg->notifyd.tcp_max_per_source, 32);
	assert_int_equal(cfg->notifyd.rate_limit.ipv4_prefix, 32);
	assert_int_equal(cfg->notifyd.rate_limit.ipv6_prefix, 64);
	assert_int_equal(cfg->notifyd.tcp_idle_timeout_ms, 10000);
	assert_int_equal(cfg->notifyd.tcp_message_timeout_ms, 5000);
	assert_int_equal(cfg->notifyd.udp_receive_buffer, 4 << 20);
	assert_int_equal(cfg->notifyd.replay_cache, 262144);
	assert_int_equal(cfg->tsig.max_fudge_ms, 300000);
	assert_int_equal(tsig_keyring_max_fudge(cfg->keys), 300);
	assert_non_null(cfg->xfrd.replica);
	assert_string_equal(cfg->xfrd.store, "/var/lib/zx/zones.lmdb");
	assert_int_equal(cfg->xfrd.store_size, 64ull << 30);
	assert_string_equal(addr_of(&cfg->xfrd.listen.v[0]), "127.0.0.1@5354");
	assert_string_equal(addr_of(&cfg->xfrd.http), "127.0.0.1@9154");
	assert_int_equal(cfg->xfrd.serve.allow.count, 2);
	assert_int_equal(cfg->xfrd.serve.keys.count, 0);
	assert_int_equal(cfg->xfrd.serve_transfers, 64);
	assert_int_equal(cfg->xfrd.serve_transfers_per_source, 16);
	assert_int_equal(cfg->xfrd.serve_snapshot_hold_ms, 1000);
	assert_int_equal(cfg->xfrd.serve_snapshot_max_ms, 60000);
	assert_int_equal(cfg->xfrd.transfers_max, 64);
	assert_int_equal(cfg->xfrd.transfers_per_primary, 8);
	assert_int_equal(cfg->xfrd.timeout_connect_ms, 2000);
	assert_int_equal(cfg->xfrd.timeout_read_ms, 10000);
	assert_int_equal(cfg->xfrd.timeout_transfer_ms, 600000);
	assert_int_equal(cfg->xfrd.timeout_soa_ms, 2000);
	assert_int_equal(cfg->xfrd.refresh.min_ms, 60000);
	assert_int_equal(cfg->xfrd.refresh.max_ms, 86400000);
	assert_int_equal(cfg->xfrd.retry.min_ms, 10000);
	assert_int_equal(cfg->xfrd.retry.max_ms, 3600000);
	assert_int_equal(cfg->xfrd.expire.min_ms, 3600000);
	assert_int_equal(cfg->xfrd.expire.max_ms, 4ull * 7 * 86400000);
	assert_int_equal(cfg->xfrd.jitter_pct, 10);
	assert_int_equal(cfg->xfrd.limits.records, 50000000);
	assert_int_equal(cfg->xfrd.limits.bytes, 4ull << 30);
	assert_int_equal(cfg->xfrd.journal_changes, 100);
	assert_int_equal(cfg->xfrd.journal_bytes, 64 << 20);
	assert_int_equal(cfg->xfrd.health_commit_stall_ms, 15 * 60000);
	assert_int_equal(cfg->zone_count, 0);
	assert_null(find(cfg, "example.com"));
	/* the defaults agree with each other: no warning (health_stall_short) */
	char w[512] = "x";
	assert_int_equal(cfg_warnings(cfg, w, sizeof(w)), 0);
	assert_string_equal(w, "");
	assert_true(cfg->xfrd.health_commit_stall_ms >= cfg_xfrd_transfer_bound_ms(&cfg->xfrd));
	cfg_free(cfg);
}

/* A commit-stall below one transfer's bound is a warning that names both. */
static void test_cfg_warns_short_commit_stall(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("xfrd: { health: { commit-stall: 2m } }\n");
	char w[512] = "";
	assert_int_equal(cfg_warnings(cfg, w, sizeof(w)), 1);
	assert_non_null(strstr(w, "xfrd.health.commit-stall (120000 ms)"));
	assert_non_null(strstr(w, "= 604000 ms"));
	assert_int_equal(cfg_warnings(cfg, NULL, 0), 1);
	cfg_free(cfg);
	cfg = load_text("xfrd: { health: { commit-stall: 40s },\n"
	                "        timeouts: { connect: 1s, soa: 1s, transfer: 38s } }\n");
	assert_int_equal(cfg_warnings(cfg, w, sizeof(w)), 0); /* exactly the bound */
	cfg_free(cfg);
}

/* "{}" is an empty top mapping: every default (libyaml's flow mapping with nothing
 * before it once made the loader memcpy from NULL; found by fuzz_cfg) */
static void test_cfg_empty_flow_mapping_is_empty_file(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("{}\n");
	assert_int_equal(cfg->zone_count, 0);
	assert_string_equal(cfg->kafka.requests_topic, "xfr.requests");
	cfg_free(cfg);
}

/* The shipped example loads, and says what its comments say. */
static void test_cfg_example_loads(void **state)
{
	(void)state;
	struct cfg *cfg = load_ok(EXAMPLE);
	char w[512];
	assert_int_equal(cfg_warnings(cfg, w, sizeof(w)), 0); /* what it ships works together */
	assert_string_equal(cfg->notifyd.instance, "notifyd-1");
	assert_string_equal(cfg->xfrd.replica, "xfrd-0");
	assert_int_equal(cfg->zone_count, 3);
	const struct cfg_zone *com = find(cfg, "EXAMPLE.com");
	assert_non_null(com);
	assert_string_equal(com->name_text, "example.com.");
	assert_non_null(com->key);
	assert_int_equal(com->notify_keys.count, 1);
	assert_ptr_equal(com->notify_keys.v[0], com->key);
	assert_int_equal(com->notify_from.count, 1);
	const struct cfg_zone *net = find(cfg, "example.net.");
	assert_non_null(net);
	assert_int_equal(net->primaries.count, 2);
	assert_string_equal(addr_of(&net->primaries.v[1]), "2001:db8::1@53");
	assert_int_equal(net->notify_keys.count, 0);
	assert_int_equal(net->refresh.min_ms, 300000);
	assert_int_equal(net->refresh.max_ms, 86400000);
	assert_int_equal(net->limits.bytes, 256 << 20);
	assert_int_equal(net->serve.keys.count, 1);
	assert_int_equal(net->notify_from.count, 2); /* the two primaries */
	assert_int_equal(net->primary_egress[0].proxy_count, 0);
	const struct cfg_zone *org = find(cfg, "example.org");
	assert_non_null(org);
	assert_int_equal(org->primary_egress[0].proxy_count, 1);
	assert_int_equal(org->primary_egress[1].proxy_count, 0);
	assert_string_equal(addr_of(&org->primary_egress[1].source), "192.0.2.53@0");
	cfg_free(cfg);
}

static void test_cfg_units(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("kafka: { delivery-timeout: 250ms }\n"
	                            "notifyd: { tcp: { idle-timeout: 90 }, udp: { receive-buffer: 512K } }\n"
	                            "xfrd:\n"
	                            "  timeouts: { transfer: 1h30m, read: \"2m\" }\n"
	                            "  expire: { min: 2d, max: 8w }\n"
	                            "  store-size: 1T\n"
	                            "  jitter: 25\n"
	                            "  journal: { bytes: 4096, changes: 0 }\n"
	                            "  serve: { transfers: 3, transfers-per-source: 2,\n"
	                            "           snapshot-hold: 250ms, snapshot-max: 2m }\n"
	                            "tsig: { max-fudge: 1m }\n");
	assert_int_equal(cfg->kafka.delivery_timeout_ms, 250);
	assert_int_equal(cfg->notifyd.tcp_idle_timeout_ms, 90000);
	assert_int_equal(cfg->notifyd.udp_receive_buffer, 512 * 1024);
	assert_int_equal(cfg->xfrd.timeout_transfer_ms, 5400000);
	assert_int_equal(cfg->xfrd.timeout_read_ms, 120000);
	assert_int_equal(cfg->xfrd.expire.min_ms, 2 * 86400000ull);
	assert_int_equal(cfg->xfrd.expire.max_ms, 8 * 7 * 86400000ull);
	assert_int_equal(cfg->xfrd.store_size, 1ull << 40);
	assert_int_equal(cfg->xfrd.jitter_pct, 25);
	assert_int_equal(cfg->xfrd.journal_bytes, 4096);
	assert_int_equal(cfg->xfrd.journal_changes, 0);
	assert_int_equal(tsig_keyring_max_fudge(cfg->keys), 60);
	assert_int_equal(cfg->xfrd.serve_transfers, 3);
	assert_int_equal(cfg->xfrd.serve_transfers_per_source, 2);
	assert_int_equal(cfg->xfrd.serve_snapshot_hold_ms, 250);
	assert_int_equal(cfg->xfrd.serve_snapshot_max_ms, 120000);
	assert_int_equal(cfg->xfrd.serve.allow.count, 2); /* the default stays */
	cfg_free(cfg);
}

static void test_cfg_bad_values(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"kafka: { delivery-timeout: 1m5 }",  "kafka: { delivery-timeout: 10 s }",
		"kafka: { delivery-timeout: s }",    "kafka: { delivery-timeout: -1 }",
		"kafka: { delivery-timeout: 1.5s }", "kafka: { delivery-timeout: 1min }",
		"kafka: { delivery-timeout: 99999999999999999999 }",
		"kafka: { delivery-timeout: 0 }",    "kafka: { delivery-timeout: 2h }",
		"kafka: { delivery-timeout: \"\" }",
		"xfrd: { store-size: 1P }",          "xfrd: { store-size: 17179869184T }",
		"xfrd: { jitter: 10%% }",            "xfrd: { jitter: \"%\" }",
		"xfrd: { transfers: { max: 4294967296 } }",
		"xfrd: { http: \"127.0.0.1\" }",     "xfrd: { store: \"\" }",
		"xfrd: { store: null }",             "xfrd: { store: [ a ] }",
		"notifyd: { listen: \"0.0.0.0@53\" }", "kafka: { settings: { a: [ b ] } }",
		"kafka: { settings: { a: 1, a: 2 } }", "zones: { name: a.example }",
		"zones: [ a.example ]",              "keys: [ { file: k, name: k } ]",
		"{ 1: 2 }",                           "zone-defaults: { name: a.example }",
		"tsig: { max-fudge: 0 }",            "tsig: { max-fudge: 65536s }",
		"notifyd: { replay-cache: -1 }",    "notifyd: { rate-limit: { ipv6-prefix: 129 } }",
		"notifyd: { rate-limit: { ipv4-prefix: 33 } }", "notifyd: { tcp: { max-per-source: 0 } }",
		"xfrd: { serve: { transfers: 0 } }",  "xfrd: { serve: { snapshot-max: 10ms } }",
		"zones: [ { name: a.example, primaries: [ \"192.0.2.1\" ], serve: { transfers: 1 } } ]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cfg *cfg = NULL;
		int rc = cfg_load_string("bad.yaml", bad[i], &cfg, err, sizeof(err));
		print_message("%-45s -> %s\n", bad[i], err);
		assert_int_equal(rc, ZX_ECONFIG);
		assert_null(cfg);
		assert_memory_equal(err, "bad.yaml:1:", strlen("bad.yaml:1:"));
	}
}

static void test_cfg_kafka_settings_and_lists(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("log: { level: debug }\n"
	                            "kafka: { settings: { \"linger.ms\": 1, acks: all } }\n"
	                            "proxy: { trusted: [ \"10.0.0.0/8\", \"2001:db8::/32\" ] }\n"
	                            "notifyd: { listen: [ \"127.0.0.1\", \"[::1]:5300\" ] }\n");
	assert_int_equal(cfg->log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg->kafka.settings_count, 2);
	assert_string_equal(cfg->kafka.settings[0].name, "linger.ms");
	assert_string_equal(cfg->kafka.settings[0].value, "1");
	assert_string_equal(cfg->kafka.settings[1].name, "acks");
	assert_string_equal(cfg->kafka.settings[1].value, "all");
	assert_int_equal(cfg->proxy_trusted.count, 2);
	assert_int_equal(cfg->proxy_trusted.nets[1].family, AF_INET6);
	assert_int_equal(cfg->notifyd.listen.count, 2);
	assert_string_equal(addr_of(&cfg->notifyd.listen.v[0]), "127.0.0.1@53");
	assert_int_equal(port_of(&cfg->notifyd.listen.v[1]), 5300);
	cfg_free(cfg);
}

static const char merge_text[] =
	"keys:\n"
	"  - { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0LXNlY3JldC1zZWNyZXQ=\" }\n"
	"  - { name: k2, algorithm: hmac-sha512, secret: \"c2VjcmV0LXNlY3JldC1zZWNyZXQ=\" }\n"
	"xfrd: { refresh: { min: 2m, max: 2h }, limits: { records: 1000 } }\n"
	"zones:\n"
	"  - { name: a.example }\n"
	"  - { name: b.example, primaries: [ \"192.0.2.9\" ], key: k2, refresh: { max: 3h } }\n"
	"  - { name: c.example, key: null, notify-from: [ \"198.51.100.0/24\" ] }\n"
	"zone-defaults:\n"
	"  primaries: [ \"192.0.2.1@53\", \"192.0.2.2@5300\" ]\n"
	"  key: k1\n"
	"  limits: { bytes: 1M }\n";

/* zone-defaults (even written after the zones) fill in what a zone leaves out. */
static void test_cfg_zone_defaults_merge(void **state)
{
	(void)state;
	struct cfg *cfg = load_text(merge_text);
	const struct tsig_key *k1 = tsig_keyring_find_text(cfg->keys, "k1");
	const struct tsig_key *k2 = tsig_keyring_find_text(cfg->keys, "K2.");
	assert_non_null(k1);
	assert_non_null(k2);
	const struct cfg_zone *a = find(cfg, "a.example");
	assert_int_equal(a->primaries.count, 2);
	assert_int_equal(port_of(&a->primaries.v[1]), 5300);
	assert_ptr_equal(a->key, k1);
	assert_int_equal(a->notify_keys.count, 1);
	assert_ptr_equal(a->notify_keys.v[0], k1);
	assert_int_equal(a->notify_from.count, 2); /* from the primaries */
	assert_int_equal(a->notify_from.nets[1].prefix, 32);
	assert_int_equal(a->refresh.min_ms, 120000);   /* xfrd */
	assert_int_equal(a->limits.records, 1000);     /* xfrd */
	assert_int_equal(a->limits.bytes, 1 << 20);    /* zone-defaults */
	assert_int_equal(a->line, 6);
	const struct cfg_zone *b = find(cfg, "B.Example.");
	assert_int_equal(b->primaries.count, 1);
	assert_int_equal(port_of(&b->primaries.v[0]), 53);
	assert_ptr_equal(b->key, k2);
	assert_ptr_equal(b->notify_keys.v[0], k2);
	assert_int_equal(b->refresh.min_ms, 120000);
	assert_int_equal(b->refresh.max_ms, 3 * 3600000);
	const struct cfg_zone *c = find(cfg, "c.example");
	assert_null(c->key);
	assert_int_equal(c->notify_keys.count, 0);
	assert_int_equal(c->notify_from.count, 1);
	assert_int_equal(c->notify_from.nets[0].prefix, 24);
	assert_ptr_equal(&cfg->zones[2], c);
	cfg_free(cfg);
}

static void test_cfg_key_files(void **state)
{
	(void)state;
	struct cfg *cfg = load_ok("cfg/key_files.yaml");
	assert_int_equal(tsig_keyring_count(cfg->keys), 3);
	const struct cfg_zone *z = find(cfg, "a.example");
	assert_ptr_equal(z->key, tsig_keyring_find_text(cfg->keys, "bind-key"));
	assert_int_equal(z->notify_keys.count, 2);
	assert_ptr_equal(z->notify_keys.v[0], tsig_keyring_find_text(cfg->keys, "knot-key"));
	assert_ptr_equal(z->notify_keys.v[1], tsig_keyring_find_text(cfg->keys, "inline-key"));
	cfg_free(cfg);
}

/* notify and notify-key: per zone, from zone-defaults, default none. */
static void test_cfg_notify_targets(void **state)
{
	(void)state;
	struct cfg *cfg = load_text(
		"keys: [ { name: dk, algorithm: hmac-sha256, secret: \"c2VjcmV0LXNlY3JldA==\" } ]\n"
		"zone-defaults: { primaries: [ \"192.0.2.1\" ], notify: [ \"127.0.0.1@5399\" ] }\n"
		"zones:\n"
		"  - { name: a.example }\n"
		"  - { name: b.example, notify: [ \"192.0.2.8\", \"[::1]:5300\" ], notify-key: dk }\n"
		"  - { name: c.example, notify: [] }\n");
	const struct cfg_zone *a = find(cfg, "a.example");
	assert_int_equal(a->notify.count, 1);
	assert_string_equal(addr_of(&a->notify.v[0]), "127.0.0.1@5399");
	assert_null(a->notify_key);
	const struct cfg_zone *b = find(cfg, "b.example");
	assert_int_equal(b->notify.count, 2);
	assert_string_equal(addr_of(&b->notify.v[0]), "192.0.2.8@53"); /* default port */
	assert_int_equal(port_of(&b->notify.v[1]), 5300);
	assert_ptr_equal(b->notify_key, tsig_keyring_find_text(cfg->keys, "dk"));
	assert_int_equal(find(cfg, "c.example")->notify.count, 0);
	cfg_free(cfg);
	cfg = load_text("zones: [ { name: d.example, primaries: [ \"192.0.2.1\" ] } ]\n");
	assert_int_equal(find(cfg, "d.example")->notify.count, 0); /* the default: nobody */
	assert_null(find(cfg, "d.example")->notify_key);
	cfg_free(cfg);
}

/* YAML anchors and aliases work as YAML says; an undefined alias is an error. */
static void test_cfg_aliases(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("zone-defaults: { notify-from: &nets [ \"192.0.2.0/24\" ] }\n"
	                            "proxy: { trusted: *nets }\n"
	                            "zones:\n"
	                            "  - { name: a.example, primaries: &p [ \"192.0.2.1\" ] }\n"
	                            "  - { name: b.example, primaries: *p }\n");
	assert_int_equal(cfg->proxy_trusted.count, 1);
	assert_int_equal(find(cfg, "b.example")->primaries.count, 1);
	assert_int_equal(find(cfg, "b.example")->notify_from.nets[0].prefix, 24);
	cfg_free(cfg);
	cfg = NULL;
	assert_int_equal(cfg_load_string("alias.yaml", "proxy: { trusted: *nope }\n", &cfg, err,
	                                 sizeof(err)), ZX_ECONFIG);
	assert_null(cfg);
	assert_string_equal(err, "alias.yaml:1:19: undefined alias *nope; expected an anchor &nope "
	                         "before it");
}

/* ---- bad files: one per error class, exact position ------------------------------------ */

struct bad {
	const char *file;
	const char *first; /* the whole first line of the message */
};

static const struct bad bads[] = {
	{"cfg/unknown_key.yaml", "cfg/unknown_key.yaml:4:5: unknown key \"primarys\" in zone; "
	 "expected one of name, primaries, key, notify-keys, notify-from, serve, refresh, retry, "
	 "expire, limits, notify, notify-key, source, proxy"},
	{"cfg/wrong_type.yaml", "cfg/wrong_type.yaml:2:14: wrong type for xfrd.transfers: "
	 "expected a mapping, got a list"},
	{"cfg/bad_duration.yaml", "cfg/bad_duration.yaml:2:34: bad value \"10x\" for "
	 "xfrd.timeouts.read; expected seconds or a number with a unit (ms, s, m, h, d, w), "
	 "e.g. 10s"},
	{"cfg/bad_size.yaml", "cfg/bad_size.yaml:2:15: bad value \"64Q\" for xfrd.store-size; "
	 "expected bytes or a number with K, M, G or T (powers of 1024), e.g. 4M"},
	{"cfg/out_of_range.yaml", "cfg/out_of_range.yaml:2:11: xfrd.jitter 80% is out of range; "
	 "expected 0..50"},
	{"cfg/bad_cidr.yaml", "cfg/bad_cidr.yaml:2:28: bad address or network \"10.0.0.0/33\" "
	 "for proxy.trusted; expected an IPv4 or IPv6 address or CIDR such as 192.0.2.0/24"},
	{"cfg/bad_endpoint.yaml", "cfg/bad_endpoint.yaml:2:27: bad endpoint \"0.0.0.0@99999\" for "
	 "notifyd.listen; expected \"addr@port\", \"addr:port\" or \"[v6]:port\" or an address"},
	{"cfg/bad_zone_name.yaml", "cfg/bad_zone_name.yaml:2:13: bad zone name \"exa..mple.com\"; "
	 "expected a domain name such as example.com"},
	{"cfg/undefined_key.yaml", "cfg/undefined_key.yaml:4:62: key \"xfr-kee\" in zone.key is "
	 "not defined; expected the name of a key from keys"},
	{"cfg/duplicate_zone.yaml", "cfg/duplicate_zone.yaml:4:13: duplicate zone \"example.com.\" "
	 "(first at line 2)"},
	{"cfg/duplicate_mapping_key.yaml", "cfg/duplicate_mapping_key.yaml:4:3: duplicate key "
	 "\"brokers\" in kafka (first at line 2)"},
	{"cfg/duplicate_key.yaml", "cfg/duplicate_key.yaml:3:13: duplicate key \"XFR-Key.\" "
	 "(first at line 2)"},
	{"cfg/yaml_syntax.yaml", "cfg/yaml_syntax.yaml:4:6: YAML syntax error: did not find "
	 "expected ',' or ']' while parsing a flow sequence (line 3); expected valid YAML"},
	{"cfg/bad_base64.yaml", "cfg/bad_base64.yaml:2:54: secret of key \"xfr-key\" is not valid "
	 "base64; expected the base64 text of the key (as tsig-keygen prints it)"},
	{"cfg/unknown_algorithm.yaml", "cfg/unknown_algorithm.yaml:2:33: unknown algorithm "
	 "\"hmac-sha257\" for key \"xfr-key\"; expected one of hmac-md5, hmac-sha1, hmac-sha224, "
	 "hmac-sha256, hmac-sha384, hmac-sha512"},
	{"cfg/key_file_missing.yaml", "cfg/key_file_missing.yaml:2:11: bad key file: "
	 "cfg/no-such-keys.conf"},
	{"cfg/key_file_bad.yaml", "cfg/key_file_bad.yaml:2:11: bad key file: cfg/bad-keys.conf:7:"},
	{"cfg/key_missing_field.yaml", "cfg/key_missing_field.yaml:2:5: a keys entry without "
	 "secret; expected { name, algorithm, secret } or { file }"},
	{"cfg/no_primaries.yaml", "cfg/no_primaries.yaml:2:5: zone \"example.com.\" has no "
	 "primaries; expected primaries: [ \"addr@port\", ... ] in the zone or in zone-defaults"},
	{"cfg/no_name.yaml", "cfg/no_name.yaml:2:5: a zone without a name; expected name: and a "
	 "domain name"},
	{"cfg/clamp_order.yaml", "cfg/clamp_order.yaml:2:12: xfrd.refresh.min 1d is greater than "
	 "xfrd.refresh.max 1h; expected min <= max"},
	{"cfg/bad_level.yaml", "cfg/bad_level.yaml:1:15: bad value \"verbose\" for log.level; "
	 "expected one of debug, info, warn, error"},
	{"cfg/top_not_mapping.yaml", "cfg/top_not_mapping.yaml:1:1: wrong type for the top level: "
	 "expected a mapping, got a list"},
	{"cfg/two_documents.yaml", "cfg/two_documents.yaml:2:1: a second YAML document; expected "
	 "one document"},
	{"cfg/settings_type.yaml", "cfg/settings_type.yaml:2:13: wrong type for kafka.settings: "
	 "expected a mapping of librdkafka properties, got a list"},
	{"cfg/bad_notify.yaml", "cfg/bad_notify.yaml:4:28: bad endpoint \"192.0.2.7@0\" for "
	 "zone.notify; expected a port 1..65535"},
	{"cfg/bad_notify_key.yaml", "cfg/bad_notify_key.yaml:4:17: key \"nope\" in "
	 "zone.notify-key is not defined; expected the name of a key from keys"},
};

static void test_cfg_each_error_class(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct cfg *cfg = (struct cfg *)&err; /* must stay untouched */
		struct cfg *before = cfg;
		int rc = cfg_load(bads[i].file, &cfg, err, sizeof(err));
		print_message("%s\n", err);
		assert_int_equal(rc, ZX_ECONFIG);
		assert_ptr_equal(cfg, before);
		assert_memory_equal(err, bads[i].first, strlen(bads[i].first));
		const char *nl = strchr(err, '\n');
		if (strstr(bads[i].file, "key_file") == NULL) {
			assert_int_equal(nl ? (size_t)(nl - err) : strlen(err), strlen(bads[i].first));
		}
	}
}

/* Several errors in one file: all reported, sorted by position, one per line. */
static void test_cfg_reports_every_error(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	int rc = cfg_load_string("multi.yaml",
	                         "zones:\n"
	                         "  - { name: a.example, primaries: [ \"192.0.2.1@53\" ], key: nope }\n"
	                         "xfrd: { jitter: 5x, transfers: { max: 0 } }\n"
	                         "kafka: { brokerz: x }\n",
	                         &cfg, err, sizeof(err));
	assert_int_equal(rc, ZX_ECONFIG);
	assert_null(cfg);
	assert_string_equal(err,
		"multi.yaml:2:60: key \"nope\" in zone.key is not defined; expected the name of a "
		"key from keys\n"
		"multi.yaml:3:17: bad value \"5x\" for xfrd.jitter; expected a percentage such as "
		"10% or 10\n"
		"multi.yaml:3:39: xfrd.transfers.max 0 is out of range; expected 1..100000\n"
		"multi.yaml:4:10: unknown key \"brokerz\" in kafka; expected one of brokers, "
		"requests-topic, updates-topic, replicas-topic, group, delivery-timeout, settings");
}

static void test_cfg_error_cap(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	assert_int_equal(cfg_load("cfg/many_errors.yaml", &cfg, err, sizeof(err)), ZX_ECONFIG);
	size_t lines = 1;
	for (const char *s = err; *s; s++) {
		lines += *s == '\n';
	}
	assert_int_equal(lines, CFG_MAX_ERRORS + 1);
	assert_memory_equal(err, "cfg/many_errors.yaml:3:56: unknown key \"bogus\" in zone",
	                    strlen("cfg/many_errors.yaml:3:56: unknown key \"bogus\" in zone"));
	assert_non_null(strstr(err, "\ncfg/many_errors.yaml:22:57: unknown key"));
	assert_null(strstr(err, ":23:"));
	assert_non_null(strstr(err, "\ncfg/many_errors.yaml: 5 more errors not shown"));
	/* a short buffer is cut, never overrun */
	char small[16];
	memset(small, 'x', sizeof(small));
	assert_int_equal(cfg_load("cfg/many_errors.yaml", &cfg, small, 10), ZX_ECONFIG);
	assert_int_equal(strlen(small), 9);
	assert_int_equal(small[10], 'x');
}

static void test_cfg_missing_file(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	assert_int_equal(cfg_load("cfg/no-such-file.yaml", &cfg, err, sizeof(err)), ZX_ENOENT);
	assert_null(cfg);
	assert_string_equal(err, "cfg/no-such-file.yaml: cannot read: No such file or directory");
	assert_int_equal(cfg_load("cfg", &cfg, err, sizeof(err)), ZX_ENOENT);
	assert_null(cfg);
}

static void test_cfg_nul_byte(void **state)
{
	(void)state;
	char path[] = "/tmp/test_cfg_nul_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "wb");
	fwrite("log: {}\nkafka: \0{}\n", 1, 20, f);
	fclose(f);
	struct cfg *cfg = NULL;
	assert_int_equal(cfg_load(path, &cfg, err, sizeof(err)), ZX_ECONFIG);
	assert_non_null(strstr(err, ":2: a NUL byte; expected UTF-8 text"));
	remove(path);
}

/* ---- out of memory --------------------------------------------------------------------- *
 * The test binary is linked with --wrap for malloc, calloc, realloc and strdup, so
 * every allocation made by libcommon (cfg, arena, keyring) can be made to fail. */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

static long alloc_countdown = -1; /* the allocation that fails; -1: none */

static int alloc_fails(void)
{
	return alloc_countdown >= 0 && alloc_countdown-- == 0;
}

void *__wrap_malloc(size_t size)
{
	return alloc_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return alloc_fails() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

/* Fail each allocation of a load in turn: ZX_ENOMEM (or, where a message was being
 * built, ZX_ECONFIG with it), never a crash or a leak (ASan checks), until it succeeds. */
static void test_cfg_out_of_memory(void **state)
{
	(void)state;
	int rc = ZX_ENOMEM;
	long n = 0;
	for (; rc != 0 && n < 100000; n++) {
		struct cfg *cfg = NULL;
		alloc_countdown = n;
		rc = cfg_load_string("nomem.yaml", merge_text, &cfg, err, sizeof(err));
		alloc_countdown = -1;
		assert_true(rc == 0 || rc == ZX_ENOMEM);
		assert_true(rc == 0 || cfg == NULL);
		cfg_free(cfg);
	}
	print_message("%ld allocations failed in turn\n", n - 1);
	assert_int_equal(rc, 0);
	assert_true(n > 10);
	/* and when building an error message */
	for (rc = ZX_ENOMEM, n = 0; rc == ZX_ENOMEM && n < 100000; n++) {
		struct cfg *cfg = NULL;
		alloc_countdown = n;
		rc = cfg_load("cfg/many_errors.yaml", &cfg, err, sizeof(err));
		alloc_countdown = -1;
		assert_null(cfg);
	}
	assert_int_equal(rc, ZX_ECONFIG);
}

/* ---- scale ----------------------------------------------------------------------------- */

#define MANY_ZONES 100000

static char *many_zones_text(void)
{
	size_t cap = 128 + (size_t)MANY_ZONES * 96;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t used = (size_t)snprintf(text, cap,
		"keys: [ { name: k, algorithm: hmac-sha256, secret: \"c2VjcmV0LXNlY3JldC1zZWNyZXQ=\" } ]\n"
		"zones:\n");
	for (unsigned i = 0; i < MANY_ZONES; i++) {
		used += (size_t)snprintf(text + used, cap - used,
			"  - { name: zone%06u.example, primaries: [ \"192.0.2.%u@53\" ], key: k }\n",
			i, i % 250 + 1);
	}
	return text;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cfg_100k_zones(void **state)
{
	(void)state;
	char *text = many_zones_text();
	double t0 = now_s();
	struct cfg *cfg = load_text(text);
	double took = now_s() - t0;
	/* printed, not asserted: speed is the benchmarks' business (tests/bench), and a
	 * loaded machine is not a slow loader */
	print_message("loaded %u zones in %.3f s\n", MANY_ZONES, took);
	assert_int_equal(cfg->zone_count, MANY_ZONES);
	t0 = now_s();
	for (unsigned i = 0; i < MANY_ZONES; i++) {
		char name[64];
		snprintf(name, sizeof(name), "ZONE%06u.Example.", i);
		const struct cfg_zone *z = find(cfg, name);
		assert_non_null(z);
		assert_ptr_equal(z, &cfg->zones[i]);
	}
	print_message("found %u zones (with name parsing) in %.3f s\n", MANY_ZONES, now_s() - t0);
	assert_null(find(cfg, "zone100000.example"));
	assert_null(find(cfg, "example"));
	cfg_free(cfg);
	free(text);
}


/* A zone from text (the registry's and the API's): JSON is YAML; the file's defaults
 * merged in; every problem with the path of its field. */
static void test_cfg_zone_parse(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	const char *file =
		"keys: [ { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0c2VjcmV0\" } ]\n"
		"xfrd: { refresh: { min: 30s, max: 2h } }\n"
		"zone-defaults: { limits: { records: 5000 } }\n";
	assert_int_equal(cfg_load_string("t.yaml", file, &cfg, err, sizeof(err)), 0);
	struct arena *mem = arena_new(0);
	struct cfg_zone z;
	struct cfg_problem probs[8];
	size_t n = 0;
	const char *ok = "{\"name\": \"Reg.Test\", \"primaries\": [\"192.0.2.1@5353\", "
	                 "\"[2001:db8::1]:53\"], \"key\": \"k1\", "
	                 "\"notify\": [\"127.0.0.1@5399\"], \"serve\": {\"allow\": [\"10.0.0.0/8\"]}}";
	assert_int_equal(cfg_zone_parse(cfg, ok, strlen(ok), mem, &z, probs, 8, &n), 0);
	assert_string_equal(z.name_text, "reg.test.");
	assert_int_equal(z.primaries.count, 2);
	assert_non_null(z.key);
	assert_int_equal(z.notify_keys.count, 1);      /* [key], as for a file zone */
	assert_int_equal(z.notify_from.count, 2);      /* the primaries' hosts */
	assert_int_equal(z.refresh.min_ms, 30000);     /* xfrd's clamps */
	assert_int_equal(z.limits.records, 5000);      /* zone-defaults */
	assert_int_equal(z.serve.allow.count, 1);
	assert_int_equal(z.notify.count, 1);
	assert_int_equal(cfg->zone_count, 0);          /* the cfg is not touched */
	/* problems, each with its field */
	const char *bad = "{\"name\": \"x.test\", \"primaries\": [\"192.0.2.1@53\", \"nope\"], "
	                  "\"key\": \"k9\", \"refresh\": {\"min\": \"soon\"}, \"primarys\": 1}";
	assert_int_equal(cfg_zone_parse(cfg, bad, strlen(bad), mem, &z, probs, 8, &n), ZX_ECONFIG);
	assert_int_equal(n, 4);
	assert_string_equal(probs[0].path, "primaries[1]");
	assert_non_null(strstr(probs[0].text, "nope"));
	assert_string_equal(probs[1].path, "key");
	assert_non_null(strstr(probs[1].text, "k9"));
	assert_string_equal(probs[2].path, "refresh.min");
	assert_string_equal(probs[3].path, "primarys");
	assert_non_null(strstr(probs[3].text, "unknown key"));
	const char *none = "{\"name\": \"y.test\"}";
	assert_int_equal(cfg_zone_parse(cfg, none, strlen(none), mem, &z, probs, 8, &n), ZX_ECONFIG);
	assert_int_equal(n, 1);
	assert_string_equal(probs[0].path, "");
	assert_non_null(strstr(probs[0].text, "no primaries"));
	assert_int_equal(cfg_zone_parse(cfg, "[1, 2", 5, mem, &z, probs, 8, &n), ZX_ECONFIG);
	assert_int_equal(cfg_zone_parse(cfg, "", 0, mem, &z, probs, 8, &n), ZX_ECONFIG);
	arena_destroy(mem);
	cfg_free(cfg);
}

/* The registry is on when its section is there; the API needs it. */
static void test_cfg_registry_and_api(void **state)
{
	(void)state;
	struct cfg *cfg = NULL;
	assert_int_equal(cfg_load_string("t.yaml", "log: {level: info}\n", &cfg, err, sizeof(err)), 0);
	assert_false(cfg->registry.enabled);
	assert_null(cfg->xfrd.api.tokens);
	cfg_free(cfg);
	assert_int_equal(cfg_load_string("t.yaml", "registry: {}\n", &cfg, err, sizeof(err)), 0);
	assert_true(cfg->registry.enabled);
	assert_string_equal(cfg->registry.topic, "xfr.zones");
	assert_int_equal(cfg->registry.purge_after_ms, 86400000);
	cfg_free(cfg);
	const char *on = "registry: {topic: zones.c, purge-after: 10m}\n"
	                 "xfrd: {api: {tokens: tok.txt, allow: [10.0.0.0/8]}}\n";
	assert_int_equal(cfg_load_string("t.yaml", on, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->registry.topic, "zones.c");
	assert_int_equal(cfg->registry.purge_after_ms, 600000);
	assert_string_equal(cfg->xfrd.api.tokens, "tok.txt");
	assert_int_equal(cfg->xfrd.api.allow.count, 1);
	cfg_free(cfg);
	const char *off = "xfrd:\n  replica: r1\n  api: {tokens: tok.txt}\n";
	assert_int_equal(cfg_load_string("t.yaml", off, &cfg, err, sizeof(err)), ZX_ECONFIG);
	assert_non_null(strstr(err, "t.yaml:3:"));
	assert_non_null(strstr(err, "registry"));
}

static const char *addr_of_ep(const struct cfg_endpoint *ep, char *buf)
{
	return acl_addr_str((const struct sockaddr *)&ep->addr, true, buf, ACL_ADDRSTRLEN);
}

/* source and proxy at every level; the innermost wins key by key; the primaries keep
 * their plain form and may be mappings. */
static void test_cfg_egress_levels_and_primary_mappings(void **state)
{
	(void)state;
	char pwpath[] = "/tmp/zx-cfg-pw.XXXXXX";
	int fd = mkstemp(pwpath);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\nignored\n", 15), 15);
	close(fd);
	char text[2048];
	snprintf(text, sizeof(text),
	         "xfrd: { source: 127.0.0.2, proxy: [ \"127.0.0.1@1081\" ] }\n"
	         "zone-defaults: { proxy: [ \"127.0.0.1\", { address: \"127.0.0.3:1082\", user: xfrd, "
	         "password-file: \"%s\" } ] }\n"
	         "zones:\n"
	         "  - { name: a.example, primaries: [ \"192.0.2.1\" ] }\n"
	         "  - name: b.example\n"
	         "    source: \"192.0.2.200@5300\"\n"
	         "    proxy: []\n"
	         "    primaries:\n"
	         "      - 192.0.2.2@53\n"
	         "      - { address: \"192.0.2.3@5353\", proxy: [ \"127.0.0.9@9\" ] }\n"
	         "      - { address: \"2001:db8::3\", source: \"::1\" }\n",
	         pwpath);
	struct cfg *cfg = load_text(text);
	unlink(pwpath);
	char b[ACL_ADDRSTRLEN];
	assert_string_equal(addr_of_ep(&cfg->xfrd.egress.source, b), "127.0.0.2@0");
	assert_int_equal(cfg->xfrd.egress.proxy_count, 1);
	const struct cfg_zone *a = find(cfg, "a.example");
	assert_string_equal(addr_of_ep(&a->egress.source, b), "127.0.0.2@0"); /* from xfrd */
	assert_int_equal(a->egress.proxy_count, 2);                            /* zone-defaults */
	assert_string_equal(addr_of_ep(&a->egress.proxies[0].ep, b), "127.0.0.1@1080");
	assert_null(a->egress.proxies[0].user);
	assert_string_equal(addr_of_ep(&a->egress.proxies[1].ep, b), "127.0.0.3@1082");
	assert_string_equal(a->egress.proxies[1].user, "xfrd");
	assert_string_equal(a->egress.proxies[1].password, "s3cret");
	assert_non_null(a->primary_egress);
	assert_int_equal(a->primary_egress[0].proxy_count, 2);

	const struct cfg_zone *z = find(cfg, "b.example");
	assert_int_equal(z->primaries.count, 3);
	assert_int_equal(port_of(&z->primaries.v[1]), 5353);
	assert_int_equal(port_of(&z->primaries.v[2]), 53);
	assert_int_equal(z->egress.proxy_count, 0); /* proxy: [] overrides: direct */
	const struct cfg_egress *e = z->primary_egress;
	assert_string_equal(addr_of_ep(&e[0].source, b), "192.0.2.200@5300");
	assert_int_equal(e[0].proxy_count, 0);
	assert_string_equal(addr_of_ep(&e[1].source, b), "192.0.2.200@5300");
	assert_int_equal(e[1].proxy_count, 1);
	assert_string_equal(addr_of_ep(&e[1].proxies[0].ep, b), "127.0.0.9@9");
	assert_string_equal(addr_of_ep(&e[2].source, b), "::1@0");
	assert_int_equal(e[2].proxy_count, 0);
	assert_int_equal(z->notify_from.count, 3); /* still the primaries' addresses */
	cfg_free(cfg);

	/* nothing said: direct, no source */
	cfg = load_text("zones: [ { name: c.example, primaries: [ \"192.0.2.1\" ] } ]\n");
	z = find(cfg, "c.example");
	assert_int_equal(z->primary_egress[0].source.len, 0);
	assert_int_equal(z->primary_egress[0].proxy_count, 0);
	cfg_free(cfg);
}

static void test_cfg_egress_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"xfrd: { source: nowhere }\n",
		 "t.yaml:1:17: bad source \"nowhere\" for xfrd.source; expected an IPv4 or IPv6 "
		 "address of this host, optionally with @port"},
		{"xfrd: { proxy: \"127.0.0.1\" }\n",
		 "t.yaml:1:16: wrong type for xfrd.proxy: expected a list, got a string"},
		{"xfrd: { proxy: [ 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, "
		 "127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1, "
		 "127.0.0.1, 127.0.0.1, 127.0.0.1, 127.0.0.1 ] }\n",
		 "t.yaml:1:16: 17 proxies in xfrd.proxy; expected at most 16"},
		{"xfrd: { proxy: [ \"127.0.0.1@0\" ] }\n",
		 "t.yaml:1:18: bad proxy \"127.0.0.1@0\" for xfrd.proxy; expected \"addr@port\", "
		 "\"[v6]:port\" or an address (port 1080)"},
		{"xfrd: { proxy: [ { address: 127.0.0.1, user: u } ] }\n",
		 "t.yaml:1:18: a proxy with user but no password-file in xfrd.proxy; expected both "
		 "user and password-file (RFC 1929) or neither"},
		{"xfrd: { proxy: [ { user: u, password-file: /x } ] }\n",
		 "t.yaml:1:18: a proxy without an address in xfrd.proxy; expected { address: "
		 "\"addr@port\", user, password-file }"},
		{"xfrd: { proxy: [ { address: 127.0.0.1, user: u, password-file: /nonexistent/pw } ] }\n",
		 "t.yaml:1:64: cannot read password-file \"/nonexistent/pw\": No such file or "
		 "directory; expected a readable file whose first line is the proxy's password"},
		{"xfrd: { proxy: [ { address: 127.0.0.1, pass: x } ] }\n",
		 "t.yaml:1:40: unknown key \"pass\" in xfrd.proxy; expected one of address, user, "
		 "password-file"},
		{"zones: [ { name: a.example, primaries: [ { source: 127.0.0.2 } ] } ]\n",
		 "t.yaml:1:42: a primary without an address in zone.primaries"},
		{"zones: [ { name: a.example, primaries: [ { address: 192.0.2.1, via: x } ] } ]\n",
		 "t.yaml:1:64: unknown key \"via\" in zone.primaries; expected one of address, "
		 "source, proxy"},
		{"zones: [ { name: a.example, primaries: [ { address: \"192.0.2.1@x\" } ] } ]\n",
		 "t.yaml:1:53: bad endpoint \"192.0.2.1@x\" for zone.primaries"},
		{"zones: [ { name: a.example, source: \"::1\", primaries: [ 192.0.2.1 ] } ]\n",
		 "t.yaml:1:10: zone \"a.example.\": source ::1 cannot reach primary 192.0.2.1@53 "
		 "(another address family); expected a source of the same family as the primary"},
		{"xfrd: { source: 127.0.0.2, proxy: [ 127.0.0.1, \"[::1]:1080\" ] }\n"
		 "zones: [ { name: a.example, primaries: [ \"::1\" ] } ]\n",
		 "t.yaml:2:10: zone \"a.example.\": source 127.0.0.2 cannot reach proxy ::1@1080 "
		 "(another address family); expected a source of the same family as the proxies"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg *cfg = NULL;
		int rc = cfg_load_string("t.yaml", cases[i].text, &cfg, err, sizeof(err));
		if (rc != ZX_ECONFIG || strstr(err, cases[i].want) == NULL) {
			print_error("case %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err, cases[i].want);
			fail();
		}
	}
	/* an empty password file, and a first line over 255 bytes */
	char pwpath[] = "/tmp/zx-cfg-pw.XXXXXX";
	int fd = mkstemp(pwpath);
	assert_true(fd >= 0);
	close(fd);
	char text[512];
	snprintf(text, sizeof(text),
	         "xfrd: { proxy: [ { address: 127.0.0.1, user: u, password-file: %s } ] }\n", pwpath);
	struct cfg *cfg = NULL;
	assert_int_equal(cfg_load_string("t.yaml", text, &cfg, err, sizeof(err)), ZX_ECONFIG);
	assert_non_null(strstr(err, "empty first line; expected a first line of 1..255 bytes"));
	FILE *f = fopen(pwpath, "w");
	for (int i = 0; i < 300; i++) {
		fputc('p', f);
	}
	fclose(f);
	assert_int_equal(cfg_load_string("t.yaml", text, &cfg, err, sizeof(err)), ZX_ECONFIG);
	assert_non_null(strstr(err, "first line too long"));
	unlink(pwpath);
}

/* XFR over TLS: a primary's `tls` (RFC 9103), each mode, the port 853 default, files
 * checked readable at load, and every mistake named. */
static void test_cfg_primary_tls(void **state)
{
	(void)state;
	char ca[] = "/tmp/zx-cfg-ca.XXXXXX";
	int fd = mkstemp(ca);
	assert_true(fd >= 0);
	close(fd);
	char text[1024];
	snprintf(text, sizeof(text),
	         "zones:\n"
	         "  - name: a.example\n"
	         "    primaries:\n"
	         "      - { address: 192.0.2.1, tls: { ca-file: %s, auth-name: p.example } }\n"
	         "      - { address: 192.0.2.2@8853, tls: { mode: pin, pin-sha256: [ "
	         "\"xjk0L+n5OMLngl/AvRilRkF/4FffYC6SodDMdtgkuEI=\" ] } }\n"
	         "      - { address: 192.0.2.3, tls: { mode: opportunistic, cert-file: %s, "
	         "key-file: %s } }\n"
	         "      - 192.0.2.4\n", ca, ca, ca);
	struct cfg *cfg = load_text(text);
	const struct cfg_zone *z = find(cfg, "a.example");
	assert_non_null(z);
	const struct cfg_tls *t = z->primary_egress[0].tls;
	assert_non_null(t);
	assert_int_equal(t->mode, CFG_TLS_STRICT);
	assert_string_equal(t->ca_file, ca);
	assert_string_equal(t->auth_name, "p.example");
	assert_int_equal(port_of(&z->primaries.v[0]), 853);
	t = z->primary_egress[1].tls;
	assert_int_equal(t->mode, CFG_TLS_PIN);
	assert_int_equal(t->pin_count, 1);
	assert_string_equal(t->pins[0], "xjk0L+n5OMLngl/AvRilRkF/4FffYC6SodDMdtgkuEI=");
	assert_int_equal(port_of(&z->primaries.v[1]), 8853);
	t = z->primary_egress[2].tls;
	assert_int_equal(t->mode, CFG_TLS_OPPORTUNISTIC);
	assert_string_equal(t->cert_file, ca);
	assert_string_equal(t->key_file, ca);
	assert_null(z->primary_egress[3].tls);
	assert_int_equal(port_of(&z->primaries.v[3]), 53);
	cfg_free(cfg);

	static const struct {
		const char *tls, *want;
	} cases[] = {
		{"{ mode: loose }", "bad tls mode \"loose\"; expected strict, pin or opportunistic"},
		{"{ ca-file: /etc/hostname }", "tls mode strict without auth-name"},
		{"{ mode: pin }", "tls mode pin without pin-sha256"},
		{"{ mode: pin, pin-sha256: [ abc ] }", "bad pin \"abc\" in zone.primaries"},
		{"{ mode: pin, pin-sha256: [] }", "0 pins in zone.primaries.tls.pin-sha256; expected 1..8"},
		{"{ auth-name: x, ca-file: /nonexistent/ca.pem }",
		 "cannot read ca-file \"/nonexistent/ca.pem\": No such file or directory"},
		{"{ mode: opportunistic, cert-file: /etc/hostname }",
		 "tls with cert-file but no key-file; expected both (mutual TLS) or neither"},
		{"{ mode: opportunistic, ca-file: /etc/hostname }", "ca-file is for tls mode strict only"},
		{"{ mode: strict, auth-name: x, pins: [] }", "unknown key \"pins\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		         "zones: [ { name: a.example, primaries: [ { address: 192.0.2.1, tls: %s } ] } ]\n",
		         cases[i].tls);
		cfg = NULL;
		int rc = cfg_load_string("t.yaml", text, &cfg, err, sizeof(err));
		if (rc != ZX_ECONFIG || strstr(err, cases[i].want) == NULL) {
			print_error("case %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err, cases[i].want);
			fail();
		}
	}
	/* TLS is about one server: not a zone's key */
	assert_int_equal(cfg_load_string("t.yaml", "zones: [ { name: a.example, tls: { mode: "
	                                 "opportunistic }, primaries: [ 192.0.2.1 ] } ]\n",
	                                 &cfg, err, sizeof(err)), ZX_ECONFIG);
	assert_non_null(strstr(err, "unknown key \"tls\" in zone"));
	unlink(ca);
}

/* xfrd.serve.tls and require-tls: the listener's port defaults to 853, files are
 * checked, a zone inherits xfrd.serve's require-tls unless it says otherwise. */
static void test_cfg_serve_tls(void **state)
{
	(void)state;
	struct cfg *cfg = load_text("xfrd:\n"
	                            "  serve: { require-tls: yes, tls: { listen: [ 127.0.0.1 ],\n"
	                            "           cert-file: /etc/hostname, key-file: /etc/hostname } }\n"
	                            "zones:\n"
	                            "  - { name: a.example, primaries: [ 192.0.2.1 ] }\n"
	                            "  - { name: b.example, primaries: [ 192.0.2.1 ],\n"
	                            "      serve: { require-tls: client-cert } }\n");
	assert_int_equal(cfg->xfrd.serve_tls.listen.count, 1);
	assert_int_equal(port_of(&cfg->xfrd.serve_tls.listen.v[0]), 853);
	assert_string_equal(cfg->xfrd.serve_tls.cert_file, "/etc/hostname");
	assert_null(cfg->xfrd.serve_tls.ca_file);
	assert_int_equal(cfg->xfrd.serve.require_tls, CFG_SERVE_TLS_YES);
	assert_int_equal(find(cfg, "a.example")->serve.require_tls, CFG_SERVE_TLS_YES);
	assert_int_equal(find(cfg, "b.example")->serve.require_tls, CFG_SERVE_TLS_CLIENT_CERT);
	cfg_free(cfg);
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"xfrd: { serve: { tls: { listen: [ 127.0.0.1 ], cert-file: /etc/hostname } } }\n",
		 "xfrd.serve.tls without key-file"},
		{"xfrd: { serve: { tls: { cert-file: /etc/hostname, key-file: /etc/hostname } } }\n",
		 "xfrd.serve.tls without listen"},
		{"xfrd: { serve: { tls: { listen: [ 127.0.0.1 ], cert-file: /nonexistent/c.pem, "
		 "key-file: /etc/hostname } } }\n",
		 "cannot read cert-file \"/nonexistent/c.pem\""},
		{"xfrd: { serve: { require-tls: always } }\n",
		 "bad xfrd.serve.require-tls \"always\"; expected no, yes"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cfg = NULL;
		int rc = cfg_load_string("t.yaml", cases[i].text, &cfg, err, sizeof(err));
		if (rc != ZX_ECONFIG || strstr(err, cases[i].want) == NULL) {
			print_error("case %zu: rc %d\n got: %s\nwant: %s\n", i, rc, err, cases[i].want);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_zone_parse),
		cmocka_unit_test(test_cfg_registry_and_api),
		cmocka_unit_test(test_cfg_defaults_of_empty_file),
		cmocka_unit_test(test_cfg_empty_flow_mapping_is_empty_file),
		cmocka_unit_test(test_cfg_warns_short_commit_stall),
		cmocka_unit_test(test_cfg_example_loads),
		cmocka_unit_test(test_cfg_units),
		cmocka_unit_test(test_cfg_bad_values),
		cmocka_unit_test(test_cfg_kafka_settings_and_lists),
		cmocka_unit_test(test_cfg_zone_defaults_merge),
		cmocka_unit_test(test_cfg_key_files),
		cmocka_unit_test(test_cfg_aliases),
		cmocka_unit_test(test_cfg_notify_targets),
		cmocka_unit_test(test_cfg_each_error_class),
		cmocka_unit_test(test_cfg_reports_every_error),
		cmocka_unit_test(test_cfg_error_cap),
		cmocka_unit_test(test_cfg_missing_file),
		cmocka_unit_test(test_cfg_nul_byte),
		cmocka_unit_test(test_cfg_out_of_memory),
		cmocka_unit_test(test_cfg_100k_zones),
		cmocka_unit_test(test_cfg_egress_levels_and_primary_mappings),
		cmocka_unit_test(test_cfg_egress_errors),
		cmocka_unit_test(test_cfg_primary_tls),
		cmocka_unit_test(test_cfg_serve_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
