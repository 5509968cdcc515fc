/* SPDX-License-Identifier: MIT */
/* xfrd/zone/zone.c -- zone settings (deep copies of cfg zones) and the zone table
 * (chained hashing by canonical name, grown at load factor 1). */
#include "xfrd/zone/zone.h"

#include "common/dname.h"

#include <stdlib.h>
#include <string.h>

/* ---- settings ----------------------------------------------------------- */

/* One allocation holds the settings and every array they own, laid out in turn. */
struct layout {
	uint8_t *p;   /* next free byte; NULL while only measuring */
	size_t used;
};

static void *place(struct layout *l, const void *src, size_t n)
{
	size_t at = (l->used + 15) & ~(size_t)15;
	l->used = at + n;
	if (l->p == NULL || n == 0) {
		return NULL;
	}
	memcpy(l->p + at, src, n);
	return l->p + at;
}

/* Copy (or measure) @p n proxies and their credentials. */
static const struct cfg_proxy *lay_proxies(struct layout *l, const struct cfg_proxy *src, size_t n)
{
	struct cfg_proxy *dst = place(l, src, n * sizeof(*src));
	for (size_t i = 0; i < n; i++) {
		const char *u = src[i].user, *pw = src[i].password;
		u = u != NULL ? place(l, u, strlen(u) + 1) : NULL;
		pw = pw != NULL ? place(l, pw, strlen(pw) + 1) : NULL;
		if (dst != NULL) {
			dst[i].user = u;
			dst[i].password = pw;
		}
	}
	return dst;
}

static const char *lay_str(struct layout *l, const char *s)
{
	return s != NULL ? place(l, s, strlen(s) + 1) : NULL;
}

/* Copy (or measure) a primary's TLS settings, their files and pins. */
static const struct cfg_tls *lay_tls(struct layout *l, const struct cfg_tls *src)
{
	if (src == NULL) {
		return NULL;
	}
	struct cfg_tls *dst = place(l, src, sizeof(*src));
	const char **pins = place(l, src->pins, src->pin_count * sizeof(*src->pins));
	for (size_t i = 0; i < src->pin_count; i++) {
		const char *pin = lay_str(l, src->pins[i]);
		if (pins != NULL) {
			pins[i] = pin;
		}
	}
	const char *ca = lay_str(l, src->ca_file), *name = lay_str(l, src->auth_name);
	const char *cert = lay_str(l, src->cert_file), *key = lay_str(l, src->key_file);
	if (dst != NULL) {
		dst->pins = pins;
		dst->ca_file = ca;
		dst->auth_name = name;
		dst->cert_file = cert;
		dst->key_file = key;
	}
	return dst;
}

/* The zone's egress and each primary's (the primaries that use the zone's proxies,
 * the usual case, share one copy of them). */
static void lay_egress(struct layout *l, const struct cfg_zone *src, struct cfg_zone *dst)
{
	dst->egress.proxies = lay_proxies(l, src->egress.proxies, src->egress.proxy_count);
	size_t n = src->primary_egress != NULL ? src->primaries.count : 0;
	struct cfg_egress *pe = place(l, src->primary_egress, n * sizeof(*src->primary_egress));
	for (size_t i = 0; i < n; i++) {
		const struct cfg_egress *e = &src->primary_egress[i];
		const struct cfg_proxy *px = e->proxies == src->egress.proxies
		                                     ? dst->egress.proxies
		                                     : lay_proxies(l, e->proxies, e->proxy_count);
		const struct cfg_tls *tls = lay_tls(l, e->tls);
		if (pe != NULL) {
			pe[i].proxies = px;
			pe[i].tls = tls;
		}
	}
	dst->primary_egress = pe;
}

/* Copy (or measure, when l->p is NULL) every owned array of @p src into @p dst. */
static void lay_out(struct layout *l, const struct cfg_zone *src, struct cfg_zone *dst)
{
	size_t nlen = (size_t)dname_wire_len(src->name, DNAME_MAXLEN);
	dst->name = place(l, src->name, nlen);
	dst->name_text = place(l, src->name_text, strlen(src->name_text) + 1);
	dst->primaries.v = place(l, src->primaries.v, src->primaries.count * sizeof(*src->primaries.v));
	dst->notify_keys.v = place(l, src->notify_keys.v,
	                           src->notify_keys.count * sizeof(*src->notify_keys.v));
	dst->notify_from.nets = place(l, src->notify_from.nets,
	                              src->notify_from.count * sizeof(*src->notify_from.nets));
	dst->serve.allow.nets = place(l, src->serve.allow.nets,
	                              src->serve.allow.count * sizeof(*src->serve.allow.nets));
	dst->serve.keys.v = place(l, src->serve.keys.v,
	                          src->serve.keys.count * sizeof(*src->serve.keys.v));
	dst->notify.v = place(l, src->notify.v, src->notify.count * sizeof(*src->notify.v));
	lay_egress(l, src, dst);
}

int zone_settings_from_cfg(const struct cfg_zone *src, struct zone_settings **out)
{
	if (dname_wire_len(src->name, DNAME_MAXLEN) <= 0 || src->name_text == NULL) {
		return ZX_EINVAL;
	}
	struct cfg_zone scratch;
	struct layout l = {.used = sizeof(struct zone_settings)};
	lay_out(&l, src, &scratch);
	uint8_t *block = calloc(1, l.used);
	if (block == NULL) {
		return ZX_ENOMEM;
	}
	struct zone_settings *s = (struct zone_settings *)block;
	s->z = *src; /* scalars, clamps, limits, borrowed keys; arrays replaced below */
	l = (struct layout){.p = block, .used = sizeof(struct zone_settings)};
	lay_out(&l, src, &s->z);
	s->bytes = l.used;
	atomic_init(&s->refs, 1);
	*out = s;
	return 0;
}

struct zone_settings *zone_settings_ref(struct zone_settings *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void zone_settings_unref(struct zone_settings *s)
{
	if (s != NULL && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		free(s);
	}
}

/* ---- records ------------------------------------------------------------ */

void zone_set_settings(struct zone *z, struct zone_settings *set)
{
	struct zone_settings *old = z->set;
	z->set = set;
	zone_settings_unref(old);
}

void zone_free(struct zone *z)
{
	if (z != NULL) {
		free(z->cur.v);
		free(z->next.v);
		zone_settings_unref(z->set);
		free(z);
	}
}

/* ---- table -------------------------------------------------------------- */

struct zonetab {
	struct zone **b;
	size_t nb; /* a power of two */
	size_t count;
};

/* FNV-1a over the canonical (lowercase) wire name. */
static uint64_t name_hash(const uint8_t *name)
{
	uint64_t h = 1469598103934665603ull;
	size_t len = (size_t)dname_wire_len(name, DNAME_MAXLEN);
	for (size_t i = 0; i < len; i++) {
		h = (h ^ name[i]) * 1099511628211ull;
	}
	return h ^ (h >> 31);
}

struct zonetab *zonetab_new(void)
{
	struct zonetab *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->nb = 64;
	t->b = calloc(t->nb, sizeof(*t->b));
	if (t->b == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void zonetab_free(struct zonetab *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->nb; i++) {
		for (struct zone *z = t->b[i], *n; z != NULL; z = n) {
			n = z->hnext;
			zone_free(z);
		}
	}
	free(t->b);
	free(t);
}

static void grow(struct zonetab *t)
{
	size_t nb = t->nb * 2;
	struct zone **b = calloc(nb, sizeof(*b));
	if (b == NULL) {
		return; /* longer chains, still correct */
	}
	for (size_t i = 0; i < t->nb; i++) {
		for (struct zone *z = t->b[i], *n; z != NULL; z = n) {
			n = z->hnext;
			size_t k = name_hash(zone_name(z)) & (nb - 1);
			z->hnext = b[k];
			b[k] = z;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

/* @p canon: a canonical (lowercase) valid wire name. */
static struct zone *find_canon(const struct zonetab *t, const uint8_t *canon)
{
	for (struct zone *z = t->b[name_hash(canon) & (t->nb - 1)]; z != NULL; z = z->hnext) {
		if (dname_equal(zone_name(z), canon)) {
			return z;
		}
	}
	return NULL;
}

int zonetab_add(struct zonetab *t, struct zone_settings *set, struct zone **out)
{
	if (find_canon(t, set->z.name) != NULL) {
		return ZX_EEXIST;
	}
	struct zone *z = calloc(1, sizeof(*z));
	if (z == NULL) {
		return ZX_ENOMEM;
	}
	z->set = set;
	z->partition = -1;
	z->plan.expire_at = INT64_MAX;
	if (t->count + 1 > t->nb) {
		grow(t);
	}
	size_t k = name_hash(set->z.name) & (t->nb - 1);
	z->hnext = t->b[k];
	t->b[k] = z;
	t->count++;
	*out = z;
	return 0;
}

struct zone *zonetab_find(const struct zonetab *t, const uint8_t *name)
{
	uint8_t canon[DNAME_MAXLEN];
	int len = dname_wire_len(name, DNAME_MAXLEN);
	if (len <= 0) {
		return NULL;
	}
	memcpy(canon, name, (size_t)len);
	dname_lower(canon);
	return find_canon(t, canon);
}

struct zone *zonetab_find_text(const struct zonetab *t, const char *name)
{
	uint8_t w[DNAME_MAXLEN];
	if (name == NULL || dname_from_text(name, w) <= 0) {
		return NULL;
	}
	return zonetab_find(t, w);
}

void zonetab_unlink(struct zonetab *t, struct zone *z)
{
	struct zone **p = &t->b[name_hash(zone_name(z)) & (t->nb - 1)];
	while (*p != NULL && *p != z) {
		p = &(*p)->hnext;
	}
	if (*p == z) {
		*p = z->hnext; /* z->hnext kept: a walk may go on from z */
		t->count--;
	}
}

size_t zonetab_count(const struct zonetab *t)
{
	return t->count;
}

struct zone *zonetab_next(const struct zonetab *t, const struct zone *prev)
{
	size_t i = 0;
	if (prev != NULL) {
		if (prev->hnext != NULL) {
			return prev->hnext;
		}
		i = (name_hash(zone_name(prev)) & (t->nb - 1)) + 1;
	}
	for (; i < t->nb; i++) {
		if (t->b[i] != NULL) {
			return t->b[i];
		}
	}
	return NULL;
}
