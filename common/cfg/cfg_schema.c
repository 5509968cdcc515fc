/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_schema.c -- what the config file may contain: the defaults, one
 * table per mapping (key, type, where it goes, allowed range), and the parts
 * that are more than a table: keys (the TSIG keyring), kafka.settings, the
 * SOA timer clamps, zone-defaults and zones.
 *
 * Sections are applied in table order, not file order, so keys are known
 * before anything refers to them and zone-defaults before the zones. The
 * defaults here are the ones documented in docker/zx.example.yaml. */
#include "common/arena.h"
#include "common/cfg/cfg_internal.h"
#include "common/tsig/tsig.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS_S 1000ull
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define MS_D (24 * MS_H)
#define MS_W (7 * MS_D)
#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)
/* SOA timers are 32-bit seconds (RFC 1035); so are their clamps. */
#define SOA_MAX_MS (0x7fffffffull * MS_S)

#define END {NULL, CFG_FT_STR, 0, 0, 0, NULL, NULL}
#define F(k, t, o, lo, hi) {k, t, o, lo, hi, NULL, NULL}
#define MAP(k, o, sub) {k, CFG_FT_MAP, o, 0, 0, sub, NULL}
#define FN(k, o, fn) {k, CFG_FT_FUNC, o, 0, 0, NULL, fn}

static void clamp_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
static void settings_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
static void keys_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
static void zone_name_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);

/* ---- tables ---------------------------------------------------------------------------- */

static const struct cfg_field log_fields[] = {
	F("level", CFG_FT_LEVEL, 0, 0, 0),
	END,
};

static const struct cfg_field kafka_fields[] = {
	F("brokers", CFG_FT_STR, offsetof(struct cfg_kafka, brokers), 0, 0),
	F("requests-topic", CFG_FT_STR, offsetof(struct cfg_kafka, requests_topic), 0, 0),
	F("updates-topic", CFG_FT_STR, offsetof(struct cfg_kafka, updates_topic), 0, 0),
	F("replicas-topic", CFG_FT_STR, offsetof(struct cfg_kafka, replicas_topic), 0, 0),
	F("group", CFG_FT_STR, offsetof(struct cfg_kafka, group), 0, 0),
	F("delivery-timeout", CFG_FT_DURATION, offsetof(struct cfg_kafka, delivery_timeout_ms),
	  1, MS_H),
	FN("settings", 0, settings_fn),
	END,
};

static const struct cfg_field trusted_fields[] = {
	F("trusted", CFG_FT_ACL, 0, 0, 0),
	END,
};

static const struct cfg_field rate_fields[] = {
	F("per-source", CFG_FT_U32, offsetof(struct cfg_rate_limit, per_source), 0, 10000000),
	F("per-zone", CFG_FT_U32, offsetof(struct cfg_rate_limit, per_zone), 0, 10000000),
	F("burst", CFG_FT_U32, offsetof(struct cfg_rate_limit, burst), 1, 1000),
	F("ipv4-prefix", CFG_FT_U32, offsetof(struct cfg_rate_limit, ipv4_prefix), 0, 32),
	F("ipv6-prefix", CFG_FT_U32, offsetof(struct cfg_rate_limit, ipv6_prefix), 0, 128),
	END,
};

static const struct cfg_field tcp_fields[] = {
	F("max-connections", CFG_FT_U32, offsetof(struct cfg_notifyd, tcp_max_connections), 1,
	  1000000),
	F("max-per-source", CFG_FT_U32, offsetof(struct cfg_notifyd, tcp_max_per_source), 1,
	  1000000),
	F("idle-timeout", CFG_FT_DURATION, offsetof(struct cfg_notifyd, tcp_idle_timeout_ms),
	  1, MS_H),
	F("message-timeout", CFG_FT_DURATION,
	  offsetof(struct cfg_notifyd, tcp_message_timeout_ms), 1, MS_H),
	END,
};

static const struct cfg_field udp_fields[] = {
	F("receive-buffer", CFG_FT_SIZE, offsetof(struct cfg_notifyd, udp_receive_buffer), 0,
	  GIB),
	END,
};

static const struct cfg_field notifyd_fields[] = {
	F("instance", CFG_FT_STR, offsetof(struct cfg_notifyd, instance), 0, 0),
	F("listen", CFG_FT_ENDPOINTS, offsetof(struct cfg_notifyd, listen), 53, 0),
	F("http", CFG_FT_ENDPOINT, offsetof(struct cfg_notifyd, http), 0, 0),
	MAP("rate-limit", offsetof(struct cfg_notifyd, rate_limit), rate_fields),
	F("replay-cache", CFG_FT_U32, offsetof(struct cfg_notifyd, replay_cache), 0, 1u << 24),
	MAP("tcp", 0, tcp_fields),
	MAP("udp", 0, udp_fields),
	END,
};

static const struct cfg_field serve_fields[] = {
	F("allow", CFG_FT_ACL, offsetof(struct cfg_serve, allow), 0, 0),
	F("keys", CFG_FT_KEYREFS, offsetof(struct cfg_serve, keys), 0, 0),
	FN("require-tls", offsetof(struct cfg_serve, require_tls), cfg_require_tls_fn),
	END,
};

/* xfrd.serve: the zones' serve keys, and the endpoint's own limits (offsets from
 * struct cfg_xfrd). */
static const struct cfg_field xfrd_serve_fields[] = {
	F("allow", CFG_FT_ACL, offsetof(struct cfg_xfrd, serve.allow), 0, 0),
	F("keys", CFG_FT_KEYREFS, offsetof(struct cfg_xfrd, serve.keys), 0, 0),
	F("transfers", CFG_FT_U32, offsetof(struct cfg_xfrd, serve_transfers), 1, 100000),
	F("transfers-per-source", CFG_FT_U32, offsetof(struct cfg_xfrd, serve_transfers_per_source),
	  1, 100000),
	F("snapshot-hold", CFG_FT_DURATION, offsetof(struct cfg_xfrd, serve_snapshot_hold_ms), 0,
	  MS_H),
	F("snapshot-max", CFG_FT_DURATION, offsetof(struct cfg_xfrd, serve_snapshot_max_ms), MS_S,
	  MS_D),
	FN("require-tls", offsetof(struct cfg_xfrd, serve.require_tls), cfg_require_tls_fn),
	FN("tls", offsetof(struct cfg_xfrd, serve_tls), cfg_serve_tls_fn),
	END,
};

static const struct cfg_field clamp_fields[] = {
	F("min", CFG_FT_DURATION, offsetof(struct cfg_clamp, min_ms), MS_S, SOA_MAX_MS),
	F("max", CFG_FT_DURATION, offsetof(struct cfg_clamp, max_ms), MS_S, SOA_MAX_MS),
	END,
};

static const struct cfg_field limits_fields[] = {
	F("records", CFG_FT_U64, offsetof(struct cfg_limits, records), 1, UINT32_MAX * 16ull),
	F("bytes", CFG_FT_SIZE, offsetof(struct cfg_limits, bytes), KIB, 64 * TIB),
	END,
};

static const struct cfg_field transfers_fields[] = {
	F("max", CFG_FT_U32, offsetof(struct cfg_xfrd, transfers_max), 1, 100000),
	F("per-primary", CFG_FT_U32, offsetof(struct cfg_xfrd, transfers_per_primary), 1, 100000),
	END,
};

static const struct cfg_field timeouts_fields[] = {
	F("connect", CFG_FT_DURATION, offsetof(struct cfg_xfrd, timeout_connect_ms), 1, MS_H),
	F("read", CFG_FT_DURATION, offsetof(struct cfg_xfrd, timeout_read_ms), 1, MS_H),
	F("transfer", CFG_FT_DURATION, offsetof(struct cfg_xfrd, timeout_transfer_ms), 1, MS_D),
	F("soa", CFG_FT_DURATION, offsetof(struct cfg_xfrd, timeout_soa_ms), 1, MS_H),
	END,
};

static const struct cfg_field journal_fields[] = {
	F("changes", CFG_FT_U32, offsetof(struct cfg_xfrd, journal_changes), 0, 1000000),
	F("bytes", CFG_FT_SIZE, offsetof(struct cfg_xfrd, journal_bytes), 0, TIB),
	END,
};

static const struct cfg_field health_fields[] = {
	F("commit-stall", CFG_FT_DURATION, offsetof(struct cfg_xfrd, health_commit_stall_ms),
	  MS_S, MS_D),
	END,
};

static const struct cfg_field xfrd_metrics_fields[] = {
	F("per-zone-limit", CFG_FT_U32, offsetof(struct cfg_xfrd, metrics_per_zone_limit), 0,
	  10000000),
	END,
};

static const struct cfg_field api_fields[] = {
	F("tokens", CFG_FT_STR, offsetof(struct cfg_api, tokens), 0, 0),
	F("allow", CFG_FT_ACL, offsetof(struct cfg_api, allow), 0, 0),
	END,
};

static const struct cfg_field xfrd_fields[] = {
	F("replica", CFG_FT_STR, offsetof(struct cfg_xfrd, replica), 0, 0),
	F("store", CFG_FT_STR, offsetof(struct cfg_xfrd, store), 0, 0),
	F("store-size", CFG_FT_SIZE, offsetof(struct cfg_xfrd, store_size), MIB, 1024 * TIB),
	F("listen", CFG_FT_ENDPOINTS, offsetof(struct cfg_xfrd, listen), 53, 0),
	F("http", CFG_FT_ENDPOINT, offsetof(struct cfg_xfrd, http), 0, 0),
	MAP("serve", 0, xfrd_serve_fields),
	MAP("transfers", 0, transfers_fields),
	MAP("timeouts", 0, timeouts_fields),
	FN("refresh", offsetof(struct cfg_xfrd, refresh), clamp_fn),
	FN("retry", offsetof(struct cfg_xfrd, retry), clamp_fn),
	FN("expire", offsetof(struct cfg_xfrd, expire), clamp_fn),
	F("jitter", CFG_FT_PERCENT, offsetof(struct cfg_xfrd, jitter_pct), 0, 50),
	MAP("limits", offsetof(struct cfg_xfrd, limits), limits_fields),
	MAP("journal", 0, journal_fields),
	MAP("health", 0, health_fields),
	FN("source", offsetof(struct cfg_xfrd, egress), cfg_source_fn),
	FN("proxy", offsetof(struct cfg_xfrd, egress), cfg_proxy_fn),
	MAP("metrics", 0, xfrd_metrics_fields),
	MAP("api", offsetof(struct cfg_xfrd, api), api_fields),
	F("advertise", CFG_FT_ENDPOINT, offsetof(struct cfg_xfrd, advertise), 53, 0),
	F("peer-key", CFG_FT_KEYREF, offsetof(struct cfg_xfrd, peer_key), 0, 0),
	END,
};

static const struct cfg_field registry_fields[] = {
	F("topic", CFG_FT_STR, offsetof(struct cfg_registry, topic), 0, 0),
	F("purge-after", CFG_FT_DURATION, offsetof(struct cfg_registry, purge_after_ms), 0,
	  365 * MS_D),
	END,
};

/* The fudge is 16-bit seconds on the wire. */
static const struct cfg_field tsig_fields[] = {
	F("max-fudge", CFG_FT_DURATION, offsetof(struct cfg_tsig, max_fudge_ms), MS_S,
	  65535 * MS_S),
	END,
};

/* Zone keys; zone-defaults takes the same table without "name". */
enum {
	ZF_NAME,
	ZF_PRIMARIES,
	ZF_KEY,
	ZF_NOTIFY_KEYS,
	ZF_NOTIFY_FROM,
	ZF_SERVE,
	ZF_REFRESH,
	ZF_RETRY,
	ZF_EXPIRE,
	ZF_LIMITS,
	ZF_NOTIFY,
	ZF_NOTIFY_KEY,
	ZF_SOURCE,
	ZF_PROXY,
};

static const struct cfg_field zone_fields[] = {
	[ZF_NAME] = FN("name", 0, zone_name_fn),
	[ZF_PRIMARIES] = FN("primaries", 0, cfg_primaries_fn),
	[ZF_KEY] = F("key", CFG_FT_KEYREF, offsetof(struct cfg_zone, key), 0, 0),
	[ZF_NOTIFY_KEYS] = F("notify-keys", CFG_FT_KEYREFS, offsetof(struct cfg_zone, notify_keys),
	                     0, 0),
	[ZF_NOTIFY_FROM] = F("notify-from", CFG_FT_ACL, offsetof(struct cfg_zone, notify_from),
	                     0, 0),
	[ZF_SERVE] = MAP("serve", offsetof(struct cfg_zone, serve), serve_fields),
	[ZF_REFRESH] = FN("refresh", offsetof(struct cfg_zone, refresh), clamp_fn),
	[ZF_RETRY] = FN("retry", offsetof(struct cfg_zone, retry), clamp_fn),
	[ZF_EXPIRE] = FN("expire", offsetof(struct cfg_zone, expire), clamp_fn),
	[ZF_LIMITS] = MAP("limits", offsetof(struct cfg_zone, limits), limits_fields),
	[ZF_NOTIFY] = F("notify", CFG_FT_ENDPOINTS, offsetof(struct cfg_zone, notify), 53, 0),
	[ZF_NOTIFY_KEY] = F("notify-key", CFG_FT_KEYREF, offsetof(struct cfg_zone, notify_key),
	                    0, 0),
	[ZF_SOURCE] = FN("source", offsetof(struct cfg_zone, egress), cfg_source_fn),
	[ZF_PROXY] = FN("proxy", offsetof(struct cfg_zone, egress), cfg_proxy_fn),
	END,
};

enum { TF_XFRD = 5, TF_ZONE_DEFAULTS = 6, TF_ZONES = 7, TF_REGISTRY = 9 };

/* Top level. zone-defaults and zones are only collected: cfg_schema_apply() runs
 * them once xfrd's settings are known. */
static const struct cfg_field top_fields[] = {
	MAP("log", offsetof(struct cfg, log_level), log_fields),
	MAP("kafka", offsetof(struct cfg, kafka), kafka_fields),
	FN("keys", 0, keys_fn),
	MAP("proxy", offsetof(struct cfg, proxy_trusted), trusted_fields),
	MAP("notifyd", offsetof(struct cfg, notifyd), notifyd_fields),
	[TF_XFRD] = MAP("xfrd", offsetof(struct cfg, xfrd), xfrd_fields),
	[TF_ZONE_DEFAULTS] = FN("zone-defaults", 0, NULL),
	[TF_ZONES] = FN("zones", 0, NULL),
	MAP("tsig", offsetof(struct cfg, tsig), tsig_fields),
	[TF_REGISTRY] = MAP("registry", offsetof(struct cfg, registry), registry_fields),
	END,
};

static const char *const key_algorithms =
	"hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512";

struct keyent {
	const char *name, *algorithm, *secret, *file;
};

enum { KF_NAME, KF_ALGORITHM, KF_SECRET, KF_FILE };

static const struct cfg_field key_fields[] = {
	[KF_NAME] = F("name", CFG_FT_STR, offsetof(struct keyent, name), 0, 0),
	[KF_ALGORITHM] = F("algorithm", CFG_FT_STR, offsetof(struct keyent, algorithm), 0, 0),
	[KF_SECRET] = F("secret", CFG_FT_STR, offsetof(struct keyent, secret), 0, 0),
	[KF_FILE] = F("file", CFG_FT_STR, offsetof(struct keyent, file), 0, 0),
	END,
};

/* ---- sections that are more than a table ----------------------------------------------- */

static void clamp_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_clamp *c = dst;
	struct cfg_clamp tmp = *c;
	if (!cfg_walk(p, v, what, clamp_fields, &tmp, NULL)) {
		return;
	}
	if (tmp.min_ms > tmp.max_ms) {
		char lo[32], hi[32];
		cfg_fmt_duration(tmp.min_ms, lo, sizeof(lo));
		cfg_fmt_duration(tmp.max_ms, hi, sizeof(hi));
		cfg_error(p, v, "%s.min %s is greater than %s.max %s; expected min <= max", what, lo,
		          what, hi);
		return;
	}
	*c = tmp;
}

static void settings_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_kafka *k = dst;
	if (v->type != CFG_N_MAP) {
		cfg_error(p, v, "wrong type for %s: expected a mapping of librdkafka properties, "
		          "got %s", what, cfg_kind(v));
		return;
	}
	size_t n = v->n;
	struct cfg_kv *kv = arena_alloc_array(p->mem, n ? n : 1, sizeof(*kv));
	if (kv == NULL) {
		cfg_nomem(p);
		return;
	}
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		struct cfg_node *kn = v->kids[2 * i];
		struct cfg_node *vn = v->kids[2 * i + 1];
		const char *name = cfg_scalar(p, kn, what);
		char vwhat[256];
		snprintf(vwhat, sizeof(vwhat), "%s.%s", what, name ? name : "?");
		const char *val = name ? cfg_scalar(p, vn, vwhat) : NULL;
		if (name == NULL || val == NULL) {
			continue;
		}
		size_t j = 0;
		while (j < count && strcmp(kv[j].name, name) != 0) {
			j++;
		}
		if (j < count) {
			cfg_error(p, kn, "duplicate key \"%s\" in %s", name, what);
			continue;
		}
		kv[count].name = arena_strdup(p->mem, name);
		kv[count].value = arena_strdup(p->mem, val);
		if (kv[count].name == NULL || kv[count].value == NULL) {
			cfg_nomem(p);
			return;
		}
		count++;
	}
	k->settings = kv;
	k->settings_count = count;
}

static void key_remember(struct cfg_parse *p, const uint8_t *wire, unsigned line)
{
	struct cfg_keyline *kl = realloc(p->keylines, (p->nkeylines + 1) * sizeof(*kl));
	if (kl == NULL) {
		cfg_nomem(p);
		return;
	}
	p->keylines = kl;
	memcpy(kl[p->nkeylines].name, wire, DNAME_MAXLEN);
	kl[p->nkeylines++].line = line;
}

static void key_duplicate(struct cfg_parse *p, struct cfg_node *at, const char *name,
                          const uint8_t *wire)
{
	for (size_t i = 0; i < p->nkeylines; i++) {
		if (dname_equal(p->keylines[i].name, wire)) {
			cfg_error(p, at, "duplicate key \"%s\" (first at line %u)", name,
			          p->keylines[i].line);
			return;
		}
	}
	cfg_error(p, at, "duplicate key \"%s\" (already defined in a key file)", name);
}

static void key_inline(struct cfg_parse *p, struct cfg_node *item, struct cfg_node **found,
                       const struct keyent *ke)
{
	uint8_t wire[DNAME_MAXLEN] = {0};
	if (dname_from_text(ke->name, wire) < 0) {
		cfg_error(p, found[KF_NAME], "bad key name \"%s\"; expected a domain name such as "
		          "xfr-key or xfr.example.com", ke->name);
		return;
	}
	const struct tsig_key *k = NULL;
	int rc = tsig_keyring_add(p->cfg->keys, ke->name, ke->algorithm, ke->secret, &k);
	if (rc == ZX_ENOENT) {
		cfg_error(p, found[KF_ALGORITHM], "unknown algorithm \"%s\" for key \"%s\"; "
		          "expected one of %s", ke->algorithm, ke->name, key_algorithms);
	} else if (rc == ZX_EEXIST) {
		key_duplicate(p, found[KF_NAME], ke->name, wire);
	} else if (rc == ZX_ENOMEM) {
		cfg_nomem(p);
	} else if (rc != 0) { /* the name is good (checked above), so the secret is not */
		cfg_error(p, found[KF_SECRET], "secret of key \"%s\" is not valid base64; expected "
		          "the base64 text of the key (as tsig-keygen prints it)", ke->name);
	} else {
		key_remember(p, wire, item->line);
	}
}

static void key_file(struct cfg_parse *p, struct cfg_node *at, const char *file)
{
	char path[4096];
	if (file[0] == '/' || p->dir[0] == '\0') {
		snprintf(path, sizeof(path), "%s", file);
	} else {
		snprintf(path, sizeof(path), "%s%s", p->dir, file);
	}
	char why[512] = "";
	int rc = tsig_keyring_add_file(p->cfg->keys, path, why, sizeof(why));
	if (rc == ZX_ENOMEM) {
		cfg_nomem(p);
	} else if (rc != 0 && why[0] != '\0') {
		cfg_error(p, at, "bad key file: %s", why); /* "path:line: what, expected" */
	} else if (rc != 0) {
		cfg_error(p, at, "bad key file \"%s\": %s; expected a readable BIND or Knot key file",
		          path, zx_strerror(rc));
	}
}

static void key_entry(struct cfg_parse *p, struct cfg_node *item)
{
	struct keyent ke = {0};
	struct cfg_node *found[CFG_FIELDS_MAX];
	size_t before = p->nmsg;
	if (!cfg_walk(p, item, "keys entry", key_fields, &ke, found) || p->nmsg != before) {
		return;
	}
	bool inline_any = found[KF_NAME] || found[KF_ALGORITHM] || found[KF_SECRET];
	if (found[KF_FILE] != NULL && inline_any) {
		cfg_error(p, item, "a keys entry with both file and name/algorithm/secret; "
		          "expected either { file } or { name, algorithm, secret }");
	} else if (found[KF_FILE] != NULL) {
		key_file(p, found[KF_FILE], ke.file);
	} else if (!found[KF_NAME] || !found[KF_ALGORITHM] || !found[KF_SECRET]) {
		cfg_error(p, item, "a keys entry without %s; expected { name, algorithm, secret } "
		          "or { file }", !found[KF_NAME] ? "name" :
		          !found[KF_ALGORITHM] ? "algorithm" : "secret");
	} else {
		key_inline(p, item, found, &ke);
	}
}

static void keys_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	(void)dst;
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		key_entry(p, v->kids[i]);
	}
}

static void zone_name_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_zone *z = dst;
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return;
	}
	uint8_t wire[DNAME_MAXLEN];
	char text[DNAME_TEXTLEN];
	int len = dname_from_text(s, wire);
	if (len < 0 || dname_to_text(wire, text, sizeof(text)) != 0) {
		cfg_error(p, v, "bad zone name \"%s\"; expected a domain name such as example.com",
		          s);
		return;
	}
	z->name = arena_memdup(p->mem, wire, (size_t)len);
	z->name_text = arena_strdup(p->mem, text);
	if (z->name == NULL || z->name_text == NULL) {
		cfg_nomem(p);
	}
}

/* The primaries' addresses as host networks: who may NOTIFY when notify-from is empty. */
static void notify_from_primaries(struct cfg_parse *p, struct cfg_zone *z)
{
	size_t n = z->primaries.count;
	struct acl_net *nets = arena_alloc_array(p->mem, n ? n : 1, sizeof(*nets));
	if (nets == NULL) {
		cfg_nomem(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sockaddr_storage *ss = &z->primaries.v[i].addr;
		memset(&nets[i], 0, sizeof(nets[i]));
		nets[i].family = ss->ss_family;
		if (ss->ss_family == AF_INET) {
			memcpy(nets[i].addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
			nets[i].prefix = 32;
		} else {
			memcpy(nets[i].addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
			nets[i].prefix = 128;
		}
	}
	z->notify_from = (struct acl){nets, n};
}

/* What a zone gets when the file leaves it open: notify-keys, notify-from. */
static void zone_finish(struct cfg_parse *p, struct cfg_zone *z, struct cfg_node *item,
                        struct cfg_node **found)
{
	const struct cfg_node *prim = found[ZF_PRIMARIES];
	bool said = prim != NULL && !(prim->type == CFG_N_SEQ && prim->n == 0); /* a bad list */
	if (z->primaries.count == 0 && !said) {
		cfg_error(p, item, "zone \"%s\" has no primaries; expected primaries: "
		          "[ \"addr@port\", ... ] in the zone or in zone-defaults", z->name_text);
	}
	if (found[ZF_NOTIFY_KEYS] == NULL && !p->tmpl_notify_keys_set) {
		z->notify_keys = (struct cfg_keys){NULL, 0};
		if (z->key != NULL) {
			const struct tsig_key **one = arena_alloc(p->mem, sizeof(*one));
			if (one == NULL) {
				cfg_nomem(p);
				return;
			}
			*one = z->key;
			z->notify_keys = (struct cfg_keys){one, 1};
		}
	}
	if (z->notify_from.count == 0) {
		notify_from_primaries(p, z);
	}
	cfg_zone_egress(p, z, item);
}

static void zone_entry(struct cfg_parse *p, struct cfg_node *item, struct cfg_zone *zones)
{
	struct cfg *cfg = p->cfg;
	struct cfg_zone z = p->tmpl;
	struct cfg_node *found[CFG_FIELDS_MAX];
	z.line = item->line;
	if (!cfg_walk(p, item, "zone", zone_fields, &z, found)) {
		return;
	}
	if (found[ZF_NAME] == NULL) {
		cfg_error(p, item, "a zone without a name; expected name: and a domain name");
		return;
	}
	if (z.name == NULL) {
		return; /* bad name, reported */
	}
	zone_finish(p, &z, item, found);
	zones[cfg->zone_count] = z;
	const struct cfg_zone *dup = cfg_index_add(cfg, zones, cfg->zone_count);
	if (dup != NULL) {
		cfg_error(p, found[ZF_NAME], "duplicate zone \"%s\" (first at line %u)", z.name_text,
		          dup->line);
		return;
	}
	cfg->zone_count++;
}

static void zones_apply(struct cfg_parse *p, struct cfg_node *v)
{
	size_t n = 0;
	if (!cfg_list(p, v, "zones", &n)) {
		return;
	}
	if (n > UINT32_MAX - 1) {
		cfg_error(p, v, "too many zones; expected at most %u", UINT32_MAX - 1);
		return;
	}
	struct cfg_zone *zones = arena_alloc_array(p->mem, n ? n : 1, sizeof(*zones));
	if (zones == NULL || cfg_index_init(p->cfg, n) != 0) {
		cfg_nomem(p);
		return;
	}
	p->cfg->zones = zones;
	for (size_t i = 0; i < n && !p->nomem; i++) {
		zone_entry(p, v->kids[i], zones);
	}
}

static void zone_defaults_apply(struct cfg_parse *p, struct cfg_node *v)
{
	struct cfg_node *found[CFG_FIELDS_MAX];
	if (cfg_walk(p, v, "zone-defaults", zone_fields + 1, &p->tmpl, found)) {
		p->tmpl_notify_keys_set = found[ZF_NOTIFY_KEYS - 1] != NULL;
	}
}

/* ---- defaults -------------------------------------------------------------------------- */

static const char *hostname(struct cfg_parse *p)
{
	char buf[256];
	if (gethostname(buf, sizeof(buf)) != 0 || buf[0] == '\0') {
		snprintf(buf, sizeof(buf), "localhost");
	}
	buf[sizeof(buf) - 1] = '\0';
	const char *s = arena_strdup(p->mem, buf);
	if (s == NULL) {
		cfg_nomem(p);
	}
	return s;
}

static void default_endpoints(struct cfg_parse *p, struct cfg_endpoints *dst,
                              const char *const *texts, size_t n)
{
	struct cfg_endpoint *eps = arena_alloc_array(p->mem, n, sizeof(*eps));
	if (eps == NULL) {
		cfg_nomem(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = acl_endpoint_parse(texts[i], 53, &eps[i].addr, &eps[i].len);
		assert(rc == 0); /* our own constants */
		(void)rc;
	}
	*dst = (struct cfg_endpoints){eps, n};
}

static void default_acl(struct cfg_parse *p, struct acl *dst, const char *const *texts,
                        size_t n)
{
	struct acl_net *nets = arena_alloc_array(p->mem, n, sizeof(*nets));
	if (nets == NULL) {
		cfg_nomem(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = acl_net_parse(texts[i], &nets[i]);
		assert(rc == 0);
		(void)rc;
	}
	*dst = (struct acl){nets, n};
}

/* The value of @p key in mapping @p map (for messages); @p map itself when absent. */
static struct cfg_node *map_value(struct cfg_node *map, const char *key)
{
	for (size_t i = 0; map != NULL && map->type == CFG_N_MAP && i < map->n; i++) {
		if (map->kids[2 * i]->str != NULL && strcmp(map->kids[2 * i]->str, key) == 0) {
			return map->kids[2 * i + 1];
		}
	}
	return map;
}

static void defaults_notifyd(struct cfg_parse *p, struct cfg_notifyd *n)
{
	static const char *const listen[] = {"0.0.0.0@53", "::@53"};
	static const char *const http[] = {"127.0.0.1@9153"};
	struct cfg_endpoints h = {0};
	n->instance = hostname(p);
	default_endpoints(p, &n->listen, listen, 2);
	default_endpoints(p, &h, http, 1);
	if (h.v != NULL) {
		n->http = h.v[0];
	}
	n->rate_limit = (struct cfg_rate_limit){.per_source = 200, .per_zone = 20, .burst = 2,
	                                        .ipv4_prefix = 32, .ipv6_prefix = 64};
	n->replay_cache = 262144;
	n->tcp_max_connections = 1024;
	n->tcp_max_per_source = 32;
	n->tcp_idle_timeout_ms = 10 * MS_S;
	n->tcp_message_timeout_ms = 5 * MS_S;
	n->udp_receive_buffer = 4 * MIB;
}

static void defaults_xfrd(struct cfg_parse *p, struct cfg_xfrd *x)
{
	static const char *const listen[] = {"127.0.0.1@5354"};
	static const char *const http[] = {"127.0.0.1@9154"};
	static const char *const allow[] = {"127.0.0.0/8", "::1"};
	struct cfg_endpoints h = {0};
	x->replica = hostname(p);
	x->store = "/var/lib/zx/zones.lmdb";
	x->store_size = 64 * GIB;
	default_endpoints(p, &x->listen, listen, 1);
	default_endpoints(p, &h, http, 1);
	if (h.v != NULL) {
		x->http = h.v[0];
	}
	default_acl(p, &x->serve.allow, allow, 2);
	x->serve_transfers = 64;
	x->serve_transfers_per_source = 16;
	x->serve_snapshot_hold_ms = MS_S;
	x->serve_snapshot_max_ms = 60 * MS_S;
	x->transfers_max = 64;
	x->transfers_per_primary = 8;
	x->timeout_connect_ms = 2 * MS_S;
	x->timeout_read_ms = 10 * MS_S;
	x->timeout_transfer_ms = 10 * MS_M;
	x->timeout_soa_ms = 2 * MS_S;
	x->refresh = (struct cfg_clamp){60 * MS_S, MS_D};
	x->retry = (struct cfg_clamp){10 * MS_S, MS_H};
	x->expire = (struct cfg_clamp){MS_H, 4 * MS_W};
	x->jitter_pct = 10;
	x->limits = (struct cfg_limits){50000000, 4 * GIB};
	x->journal_changes = 100;
	x->journal_bytes = 64 * MIB;
	/* above cfg_xfrd_transfer_bound_ms() (10 min 4 s): a transfer that runs to its
	 * timeout never fails liveness (docker/zx.example.yaml says why) */
	x->health_commit_stall_ms = 15 * MS_M;
	x->metrics_per_zone_limit = 10000;
	default_acl(p, &x->api.allow, allow, 2);
}

static void defaults(struct cfg_parse *p)
{
	struct cfg *c = p->cfg;
	c->log_level = LOG_LVL_INFO;
	c->kafka = (struct cfg_kafka){
		.brokers = "127.0.0.1:9092",
		.requests_topic = "xfr.requests",
		.updates_topic = "xfr.updates",
		.replicas_topic = "xfr.replicas",
		.group = "xfrd",
		.delivery_timeout_ms = 5 * MS_S,
	};
	defaults_notifyd(p, &c->notifyd);
	defaults_xfrd(p, &c->xfrd);
	c->tsig.max_fudge_ms = TSIG_FUDGE_MAX_DEFAULT * MS_S;
	c->registry = (struct cfg_registry){.topic = "xfr.zones", .purge_after_ms = MS_D};
}

/* The zone every zone starts from: xfrd's settings, then zone-defaults on top. */
static void template_init(struct cfg_parse *p)
{
	const struct cfg_xfrd *x = &p->cfg->xfrd;
	memset(&p->tmpl, 0, sizeof(p->tmpl));
	p->tmpl.owner = p->cfg;
	p->tmpl.serve = x->serve;
	p->tmpl.refresh = x->refresh;
	p->tmpl.retry = x->retry;
	p->tmpl.expire = x->expire;
	p->tmpl.limits = x->limits;
	p->tmpl.egress = x->egress;
}

void cfg_schema_apply(struct cfg_parse *p, struct cfg_node *root)
{
	defaults(p);
	template_init(p);
	p->cfg->zone_defaults = p->tmpl;
	if (root == NULL || cfg_is_null(root)) {
		return; /* an empty file: every default, no zones */
	}
	struct cfg_node *found[CFG_FIELDS_MAX];
	bool walked = cfg_walk(p, root, "", top_fields, p->cfg, found);
	tsig_keyring_set_max_fudge(p->cfg->keys, (uint16_t)(p->cfg->tsig.max_fudge_ms / MS_S));
	p->cfg->registry.enabled = walked && found[TF_REGISTRY] != NULL;
	if (!walked) {
		return;
	}
	if (p->cfg->xfrd.api.tokens != NULL && !p->cfg->registry.enabled) {
		cfg_error(p, map_value(found[TF_XFRD], "api"),
		          "xfrd.api needs the zone registry: add a registry section (registry: "
		          "{topic: xfr.zones})");
	}
	template_init(p);
	if (found[TF_ZONE_DEFAULTS] != NULL) {
		zone_defaults_apply(p, found[TF_ZONE_DEFAULTS]);
	}
	p->cfg->zone_defaults = p->tmpl;
	p->cfg->zone_defaults_notify_keys = p->tmpl_notify_keys_set;
	if (found[TF_ZONES] != NULL) {
		zones_apply(p, found[TF_ZONES]);
	}
}

void cfg_schema_zone(struct cfg_parse *p, struct cfg_node *root, struct cfg_zone *out)
{
	struct cfg_zone z = p->tmpl;
	struct cfg_node *found[CFG_FIELDS_MAX];
	if (root == NULL || !cfg_walk(p, root, "zone", zone_fields, &z, found)) {
		if (root == NULL) {
			cfg_error(p, NULL, "empty zone; expected a mapping with name and primaries");
		}
		return;
	}
	if (found[ZF_NAME] == NULL) {
		cfg_error(p, root, "a zone without a name; expected name: and a domain name");
		return;
	}
	if (z.name == NULL) {
		return; /* bad name, reported */
	}
	zone_finish(p, &z, root, found);
	*out = z;
}
