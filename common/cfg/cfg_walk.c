/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_walk.c -- config values: durations, sizes, numbers, endpoints,
 * ACLs, key references, and the walker that matches a YAML mapping against a
 * table of fields (unknown and duplicate keys, wrong types, ranges). */
#include "common/arena.h"
#include "common/cfg/cfg_internal.h"
#include "common/tsig/tsig.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- value parsers --------------------------------------------------------------------- */

int cfg_parse_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)*s)) {
		return ZX_EFORMAT;
	}
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return ZX_ERANGE;
		}
		v = v * 10 + d;
	}
	if (*s != '\0') {
		return ZX_EFORMAT;
	}
	*out = v;
	return 0;
}

/* Leading digits of *s into *v; advances *s. */
static int take_number(const char **s, uint64_t *v)
{
	char buf[24];
	size_t n = 0;
	while (isdigit((unsigned char)(*s)[n])) {
		if (n + 1 >= sizeof(buf)) {
			return ZX_ERANGE;
		}
		buf[n] = (*s)[n];
		n++;
	}
	if (n == 0) {
		return ZX_EFORMAT;
	}
	buf[n] = '\0';
	*s += n;
	return cfg_parse_u64(buf, v);
}

static const struct {
	const char *name;
	uint64_t ms;
} dur_units[] = {
	{"ms", 1},        {"s", 1000},        {"m", 60000},        {"h", 3600000},
	{"d", 86400000},  {"w", 604800000},
};

static int mul_add(uint64_t *acc, uint64_t v, uint64_t mul)
{
	if (v > (UINT64_MAX - *acc) / mul) {
		return ZX_ERANGE;
	}
	*acc += v * mul;
	return 0;
}

int cfg_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0, v = 0;
	int rc = take_number(&s, &v);
	if (rc == 0 && *s == '\0') {
		rc = mul_add(&total, v, 1000); /* a bare number is seconds */
		s = "";
		v = 0;
	}
	while (rc == 0 && *s != '\0') {
		size_t u = 0;
		while (u < sizeof(dur_units) / sizeof(dur_units[0]) &&
		       !(strncmp(s, dur_units[u].name, strlen(dur_units[u].name)) == 0 &&
		         !isalpha((unsigned char)s[strlen(dur_units[u].name)]))) {
			u++;
		}
		if (u == sizeof(dur_units) / sizeof(dur_units[0])) {
			return ZX_EFORMAT;
		}
		rc = mul_add(&total, v, dur_units[u].ms);
		s += strlen(dur_units[u].name);
		if (rc == 0 && *s != '\0') {
			rc = take_number(&s, &v);
			if (rc == 0 && *s == '\0') {
				rc = ZX_EFORMAT; /* "1m5": a number without its unit */
			}
		}
	}
	if (rc == 0) {
		*ms = total;
	}
	return rc;
}

int cfg_parse_size(const char *s, uint64_t *bytes)
{
	uint64_t v = 0;
	int rc = take_number(&s, &v);
	if (rc != 0) {
		return rc;
	}
	static const char units[] = "KMGT";
	const char *u = *s ? strchr(units, toupper((unsigned char)*s)) : NULL;
	uint64_t mul = 1;
	if (u != NULL) {
		mul = 1ull << (10 * (u - units + 1));
		s++;
		if (*s == 'i' && s[1] == 'B') {
			s++;
		}
	}
	if (*s == 'B') {
		s++;
	}
	if (*s != '\0') {
		return ZX_EFORMAT;
	}
	uint64_t total = 0;
	rc = mul_add(&total, v, mul);
	if (rc == 0) {
		*bytes = total;
	}
	return rc;
}

void cfg_fmt_duration(uint64_t ms, char *buf, size_t size)
{
	size_t u = sizeof(dur_units) / sizeof(dur_units[0]);
	while (u > 1 && (ms == 0 || ms % dur_units[u - 1].ms != 0)) {
		u--;
	}
	snprintf(buf, size, "%" PRIu64 "%s", ms / dur_units[u - 1].ms, dur_units[u - 1].name);
}

void cfg_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = " KMGT";
	unsigned u = 0;
	while (u < 4 && bytes != 0 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u == 0) {
		snprintf(buf, size, "%" PRIu64, bytes);
	} else {
		snprintf(buf, size, "%" PRIu64 "%c", bytes, units[u]);
	}
}

/* ---- the table walker ------------------------------------------------------------------ */

static void expected_keys(const struct cfg_field *fields, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (const struct cfg_field *f = fields; f->key != NULL && used < size; f++) {
		int n = snprintf(buf + used, size - used, "%s%s", f == fields ? "" : ", ", f->key);
		used += n > 0 ? (size_t)n : 0;
	}
}

static void range_error(struct cfg_parse *p, const struct cfg_node *v, const char *what,
                        const struct cfg_field *f, const char *text)
{
	char lo[32], hi[32];
	if (f->type == CFG_FT_DURATION) {
		cfg_fmt_duration(f->min, lo, sizeof(lo));
		cfg_fmt_duration(f->max, hi, sizeof(hi));
	} else if (f->type == CFG_FT_SIZE) {
		cfg_fmt_size(f->min, lo, sizeof(lo));
		cfg_fmt_size(f->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%" PRIu64, f->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, f->max);
	}
	cfg_error(p, v, "%s %s is out of range; expected %s..%s", what, text, lo, hi);
}

/* Numbers of every kind: parse, range-check, store. */
static void set_number(struct cfg_parse *p, const struct cfg_field *f, struct cfg_node *v,
                       void *dst, const char *what)
{
	static const char *const expect[] = {
		[CFG_FT_U32] = "an integer",
		[CFG_FT_U64] = "an integer",
		[CFG_FT_DURATION] = "seconds or a number with a unit (ms, s, m, h, d, w), e.g. 10s",
		[CFG_FT_SIZE] = "bytes or a number with K, M, G or T (powers of 1024), e.g. 4M",
		[CFG_FT_PERCENT] = "a percentage such as 10% or 10",
	};
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return;
	}
	uint64_t n = 0;
	int rc;
	if (f->type == CFG_FT_DURATION) {
		rc = cfg_parse_duration(s, &n);
	} else if (f->type == CFG_FT_SIZE) {
		rc = cfg_parse_size(s, &n);
	} else if (f->type == CFG_FT_PERCENT && *s != '\0' && s[strlen(s) - 1] == '%') {
		char buf[24];
		snprintf(buf, sizeof(buf), "%.*s", (int)strlen(s) - 1, s);
		rc = strlen(s) < sizeof(buf) ? cfg_parse_u64(buf, &n) : ZX_EFORMAT;
	} else {
		rc = cfg_parse_u64(s, &n);
	}
	if (rc == ZX_EFORMAT) {
		cfg_error(p, v, "bad value \"%s\" for %s; expected %s", s, what, expect[f->type]);
		return;
	}
	if (rc != 0 || n < f->min || n > f->max) {
		range_error(p, v, what, f, s);
		return;
	}
	if (f->type == CFG_FT_U32 || f->type == CFG_FT_PERCENT) {
		*(uint32_t *)dst = (uint32_t)n;
	} else {
		*(uint64_t *)dst = n;
	}
}

static bool parse_endpoint(struct cfg_parse *p, struct cfg_node *v, const char *what,
                           uint16_t def_port, struct cfg_endpoint *out)
{
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return false;
	}
	struct cfg_endpoint ep;
	memset(&ep, 0, sizeof(ep));
	if (acl_endpoint_parse(s, def_port, &ep.addr, &ep.len) != 0) {
		cfg_error(p, v, "bad endpoint \"%s\" for %s; expected \"addr@port\", "
		          "\"addr:port\" or \"[v6]:port\"%s", s, what,
		          def_port ? " or an address" : "");
		return false;
	}
	const struct sockaddr_in *in = (const struct sockaddr_in *)&ep.addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ep.addr;
	in_port_t port = ep.addr.ss_family == AF_INET ? in->sin_port : in6->sin6_port;
	if (port == 0) {
		cfg_error(p, v, "bad endpoint \"%s\" for %s; expected a port 1..65535", s, what);
		return false;
	}
	*out = ep;
	return true;
}

bool cfg_list(struct cfg_parse *p, struct cfg_node *v, const char *what, size_t *n)
{
	if (v->type != CFG_N_SEQ) {
		cfg_error(p, v, "wrong type for %s: expected a list, got %s", what, cfg_kind(v));
		return false;
	}
	*n = v->n;
	return true;
}

static void set_endpoints(struct cfg_parse *p, const struct cfg_field *f, struct cfg_node *v,
                          struct cfg_endpoints *dst, const char *what)
{
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	struct cfg_endpoint *eps = arena_alloc_array(p->mem, n ? n : 1, sizeof(*eps));
	if (eps == NULL) {
		cfg_nomem(p);
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct cfg_node *item = v->kids[i];
		ok &= parse_endpoint(p, item, what, (uint16_t)f->min, &eps[i]);
	}
	if (ok) {
		*dst = (struct cfg_endpoints){eps, n};
	}
}

static void set_acl(struct cfg_parse *p, struct cfg_node *v, struct acl *dst, const char *what)
{
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	struct acl_net *nets = arena_alloc_array(p->mem, n ? n : 1, sizeof(*nets));
	if (nets == NULL) {
		cfg_nomem(p);
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct cfg_node *item = v->kids[i];
		const char *s = cfg_scalar(p, item, what);
		if (s == NULL) {
			ok = false;
		} else if (acl_net_parse(s, &nets[i]) != 0) {
			cfg_error(p, item, "bad address or network \"%s\" for %s; expected an IPv4 "
			          "or IPv6 address or CIDR such as 192.0.2.0/24", s, what);
			ok = false;
		}
	}
	if (ok) {
		*dst = (struct acl){nets, n};
	}
}

static const struct tsig_key *keyref(struct cfg_parse *p, struct cfg_node *v, const char *what)
{
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return NULL;
	}
	/* Zones usually name the same key over and over: skip the name parsing then. */
	if (p->last_key != NULL && strcmp(p->last_key_text, s) == 0) {
		return p->last_key;
	}
	const struct tsig_key *k = tsig_keyring_find_text(p->cfg->keys, s);
	if (k != NULL) {
		p->last_key = k;
		p->last_key_text = s;
	} else {
		cfg_error(p, v, "key \"%s\" in %s is not defined; expected the name of a key "
		          "from keys", s, what);
	}
	return k;
}

static void set_keyrefs(struct cfg_parse *p, struct cfg_node *v, struct cfg_keys *dst,
                        const char *what)
{
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	const struct tsig_key **keys = arena_alloc_array(p->mem, n ? n : 1, sizeof(*keys));
	if (keys == NULL) {
		cfg_nomem(p);
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		keys[i] = keyref(p, v->kids[i], what);
		ok &= keys[i] != NULL;
	}
	if (ok) {
		*dst = (struct cfg_keys){keys, n};
	}
}

static void set_str(struct cfg_parse *p, struct cfg_node *v, const char **dst, const char *what)
{
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return;
	}
	if (*s == '\0') {
		cfg_error(p, v, "empty value for %s; expected a string", what);
		return;
	}
	const char *copy = arena_strdup(p->mem, s);
	if (copy == NULL) {
		cfg_nomem(p);
		return;
	}
	*dst = copy;
}

static void set_level(struct cfg_parse *p, struct cfg_node *v, enum log_level *dst,
                      const char *what)
{
	const char *s = cfg_scalar(p, v, what);
	if (s != NULL && log_level_parse(s, dst) != 0) {
		cfg_error(p, v, "bad value \"%s\" for %s; expected one of debug, info, warn, "
		          "error", s, what);
	}
}

static void set_field(struct cfg_parse *p, const struct cfg_field *f, struct cfg_node *v,
                      void *base, const char *what)
{
	void *dst = (char *)base + f->off;
	switch (f->type) {
	case CFG_FT_STR:
		set_str(p, v, dst, what);
		break;
	case CFG_FT_U32:
	case CFG_FT_U64:
	case CFG_FT_DURATION:
	case CFG_FT_SIZE:
	case CFG_FT_PERCENT:
		set_number(p, f, v, dst, what);
		break;
	case CFG_FT_LEVEL:
		set_level(p, v, dst, what);
		break;
	case CFG_FT_ENDPOINT:
		parse_endpoint(p, v, what, (uint16_t)f->min, dst);
		break;
	case CFG_FT_ENDPOINTS:
		set_endpoints(p, f, v, dst, what);
		break;
	case CFG_FT_ACL:
		set_acl(p, v, dst, what);
		break;
	case CFG_FT_KEYREF:
		*(const struct tsig_key **)dst = cfg_is_null(v) ? NULL : keyref(p, v, what);
		break;
	case CFG_FT_KEYREFS:
		set_keyrefs(p, v, dst, what);
		break;
	case CFG_FT_MAP:
		cfg_walk(p, v, what, f->sub, dst, NULL);
		break;
	case CFG_FT_FUNC:
		if (f->fn != NULL) {
			f->fn(p, v, dst, what);
		}
		break;
	}
}

/* Match each key of @p map to a field; report unknown and duplicate keys. */
static void match_keys(struct cfg_parse *p, struct cfg_node *map, const char *path,
                       const struct cfg_field *fields, struct cfg_node **keys, struct cfg_node **vals)
{
	for (size_t pair = 0; pair < map->n; pair++) {
		struct cfg_node *k = map->kids[2 * pair];
		const char *name = cfg_scalar(p, k, "a key");
		if (name == NULL) {
			continue;
		}
		size_t i = 0;
		while (fields[i].key != NULL && strcmp(fields[i].key, name) != 0) {
			i++;
		}
		const char *where = *path ? path : "the top level";
		if (fields[i].key == NULL) {
			char exp[512];
			expected_keys(fields, exp, sizeof(exp));
			cfg_error(p, k, "unknown key \"%s\" in %s; expected one of %s", name, where,
			          exp);
		} else if (keys[i] != NULL) {
			cfg_error(p, k, "duplicate key \"%s\" in %s (first at line %u)", name, where,
			          keys[i]->line);
		} else {
			keys[i] = k;
			vals[i] = map->kids[2 * pair + 1];
		}
	}
}

bool cfg_walk(struct cfg_parse *p, struct cfg_node *map, const char *path,
              const struct cfg_field *fields, void *base, struct cfg_node **found)
{
	if (map->type != CFG_N_MAP) {
		cfg_error(p, map, "wrong type for %s: expected a mapping, got %s",
		          *path ? path : "the top level", cfg_kind(map));
		return false;
	}
	struct cfg_node *keys[CFG_FIELDS_MAX] = {0}, *vals[CFG_FIELDS_MAX] = {0};
	match_keys(p, map, path, fields, keys, vals);
	for (size_t i = 0; fields[i].key != NULL; i++) {
		if (vals[i] != NULL) {
			char what[256];
			if (*path == '\0') {
				snprintf(what, sizeof(what), "%s", fields[i].key);
			} else {
				snprintf(what, sizeof(what), "%s.%s", path, fields[i].key);
			}
			set_field(p, &fields[i], vals[i], base, what);
		}
	}
	if (found != NULL) {
		memcpy(found, vals, sizeof(vals));
	}
	return true;
}
