/* SPDX-License-Identifier: MIT */
/* proto/registry.c -- registry records: protobuf, JSON, and the zone they make. */
#include "proto/registry.h"

#include "common/arena.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- wire ------------------------------------------------------------------ */

int registry_pack(Zx__Registry__Zone *z, uint8_t **out, size_t *len)
{
	if (z->name == NULL || z->name[0] == '\0') {
		return ZX_EINVAL;
	}
	z->schema = REGISTRY_SCHEMA;
	size_t n = zx__registry__zone__get_packed_size(z);
	uint8_t *buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		return ZX_ENOMEM;
	}
	zx__registry__zone__pack(z, buf);
	*out = buf;
	*len = n;
	return 0;
}

int registry_unpack(const uint8_t *buf, size_t len, Zx__Registry__Zone **out)
{
	Zx__Registry__Zone *z = zx__registry__zone__unpack(NULL, len, buf);
	if (z == NULL) {
		return ZX_EFORMAT;
	}
	if (z->name == NULL || z->name[0] == '\0') {
		zx__registry__zone__free_unpacked(z, NULL);
		return ZX_EFORMAT;
	}
	*out = z;
	return 0;
}

void registry_free(Zx__Registry__Zone *z)
{
	if (z != NULL) {
		zx__registry__zone__free_unpacked(z, NULL);
	}
}

/* ---- to JSON --------------------------------------------------------------- */

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* obj[key] = text when set; false when out of memory */
static bool put_str(json_t *obj, const char *key, const char *s)
{
	return !set(s) || json_object_set_new(obj, key, json_string(s)) == 0;
}

static bool put_list(json_t *obj, const char *key, char *const *v, size_t n, bool always)
{
	if (n == 0 && !always) {
		return true;
	}
	json_t *a = json_array();
	if (a == NULL || json_object_set_new(obj, key, a) != 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(a, json_string(v[i])) != 0) {
			return false;
		}
	}
	return true;
}

static bool put_clamp(json_t *obj, const char *key, const Zx__Registry__Clamp *c)
{
	if (c == NULL || (!set(c->min) && !set(c->max))) {
		return true;
	}
	json_t *o = json_object();
	return o != NULL && json_object_set_new(obj, key, o) == 0 && put_str(o, "min", c->min) &&
	       put_str(o, "max", c->max);
}

json_t *registry_to_json(const Zx__Registry__Zone *z)
{
	json_t *j = json_object();
	bool ok = j != NULL && put_str(j, "name", z->name) &&
	          put_list(j, "primaries", z->primaries, z->n_primaries, false) &&
	          put_str(j, "key", z->key) &&
	          put_list(j, "notify-keys", z->notify_keys, z->n_notify_keys, z->notify_keys_set) &&
	          put_list(j, "notify-from", z->notify_from, z->n_notify_from, false);
	if (ok && z->serve != NULL) {
		json_t *s = json_object();
		ok = s != NULL && json_object_set_new(j, "serve", s) == 0 &&
		     put_list(s, "allow", z->serve->allow, z->serve->n_allow, z->serve->allow_set) &&
		     put_list(s, "keys", z->serve->keys, z->serve->n_keys, z->serve->keys_set);
	}
	ok = ok && put_clamp(j, "refresh", z->refresh) && put_clamp(j, "retry", z->retry) &&
	     put_clamp(j, "expire", z->expire);
	if (ok && z->limits != NULL && (set(z->limits->records) || set(z->limits->bytes))) {
		json_t *l = json_object();
		ok = l != NULL && json_object_set_new(j, "limits", l) == 0 &&
		     put_str(l, "records", z->limits->records) && put_str(l, "bytes", z->limits->bytes);
	}
	ok = ok && put_list(j, "notify", z->notify, z->n_notify, false) &&
	     put_str(j, "notify-key", z->notify_key);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- from JSON ------------------------------------------------------------- */

struct fromjson {
	struct arena *mem;
	struct cfg_problem *probs;
	size_t max, n;
	bool nomem;
};

static void problem(struct fromjson *f, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct fromjson *f, const char *path, const char *fmt, ...)
{
	if (f->n < f->max) {
		struct cfg_problem *p = &f->probs[f->n];
		snprintf(p->path, sizeof(p->path), "%s", path);
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->text, sizeof(p->text), fmt, ap);
		va_end(ap);
	}
	f->n++;
}

static const char *kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "text";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* A scalar as text: strings as they are, whole numbers written out. */
static char *text_of(struct fromjson *f, const json_t *v, const char *path)
{
	char num[32];
	const char *s = NULL;
	if (json_is_string(v)) {
		s = json_string_value(v);
	} else if (json_is_integer(v) && json_integer_value(v) >= 0) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = num;
	} else {
		problem(f, path, "wrong type for %s: expected text%s, got %s", path,
		        json_is_integer(v) ? " or a number not below 0" : "", kind(v));
		return NULL;
	}
	char *copy = arena_strdup(f->mem, s);
	if (copy == NULL) {
		f->nomem = true;
	}
	return copy;
}

static void list_of(struct fromjson *f, const json_t *v, const char *path, char ***out,
                    size_t *n)
{
	if (!json_is_array(v)) {
		problem(f, path, "wrong type for %s: expected a list of text, got %s", path, kind(v));
		return;
	}
	size_t len = json_array_size(v);
	char **items = arena_alloc_array(f->mem, len ? len : 1, sizeof(*items));
	if (items == NULL) {
		f->nomem = true;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		char p[200];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		const json_t *item = json_array_get(v, i);
		if (!json_is_string(item)) {
			problem(f, p, "wrong type for %s: expected text, got %s", p, kind(item));
			continue;
		}
		items[i] = arena_strdup(f->mem, json_string_value(item));
		f->nomem |= items[i] == NULL;
	}
	*out = items;
	*n = len;
}

/* An object with text members @p keys (NULL-terminated), each stored at out[i]. */
static bool members(struct fromjson *f, const json_t *v, const char *path,
                    const char *const *keys, char **out)
{
	if (!json_is_object(v)) {
		problem(f, path, "wrong type for %s: expected an object, got %s", path, kind(v));
		return false;
	}
	const char *k;
	const json_t *m;
	json_object_foreach((json_t *)v, k, m) {
		char p[200];
		snprintf(p, sizeof(p), "%s.%s", path, k);
		size_t i = 0;
		while (keys[i] != NULL && strcmp(keys[i], k) != 0) {
			i++;
		}
		if (keys[i] == NULL) {
			problem(f, p, "unknown key \"%s\" in %s", k, path);
			continue;
		}
		char *t = text_of(f, m, p);
		if (t != NULL) {
			out[i] = t;
		}
	}
	return true;
}

static Zx__Registry__Clamp *clamp_of(struct fromjson *f, const json_t *v, const char *path)
{
	Zx__Registry__Clamp *c = arena_alloc(f->mem, sizeof(*c));
	if (c == NULL) {
		f->nomem = true;
		return NULL;
	}
	zx__registry__clamp__init(c);
	static const char *const keys[] = {"min", "max", NULL};
	char *vals[2] = {c->min, c->max};
	if (!members(f, v, path, keys, vals)) {
		return NULL;
	}
	c->min = vals[0];
	c->max = vals[1];
	return c;
}

static void serve_of(struct fromjson *f, const json_t *v, Zx__Registry__Zone *z)
{
	if (!json_is_object(v)) {
		problem(f, "serve", "wrong type for serve: expected an object, got %s", kind(v));
		return;
	}
	Zx__Registry__Serve *s = arena_alloc(f->mem, sizeof(*s));
	if (s == NULL) {
		f->nomem = true;
		return;
	}
	zx__registry__serve__init(s);
	const char *k;
	const json_t *m;
	json_object_foreach((json_t *)v, k, m) {
		if (strcmp(k, "allow") == 0) {
			list_of(f, m, "serve.allow", &s->allow, &s->n_allow);
			s->allow_set = true;
		} else if (strcmp(k, "keys") == 0) {
			list_of(f, m, "serve.keys", &s->keys, &s->n_keys);
			s->keys_set = true;
		} else {
			char p[200];
			snprintf(p, sizeof(p), "serve.%s", k);
			problem(f, p, "unknown key \"%s\" in serve; expected allow, keys", k);
		}
	}
	z->serve = s;
}

static void field(struct fromjson *f, const char *k, const json_t *v, Zx__Registry__Zone *z)
{
	if (strcmp(k, "name") == 0) {
		char *t = text_of(f, v, k);
		z->name = t != NULL ? t : z->name;
	} else if (strcmp(k, "primaries") == 0) {
		list_of(f, v, k, &z->primaries, &z->n_primaries);
	} else if (strcmp(k, "key") == 0) {
		char *t = text_of(f, v, k);
		z->key = t != NULL ? t : z->key;
	} else if (strcmp(k, "notify-keys") == 0) {
		list_of(f, v, k, &z->notify_keys, &z->n_notify_keys);
		z->notify_keys_set = true;
	} else if (strcmp(k, "notify-from") == 0) {
		list_of(f, v, k, &z->notify_from, &z->n_notify_from);
	} else if (strcmp(k, "serve") == 0) {
		serve_of(f, v, z);
	} else if (strcmp(k, "refresh") == 0) {
		z->refresh = clamp_of(f, v, k);
	} else if (strcmp(k, "retry") == 0) {
		z->retry = clamp_of(f, v, k);
	} else if (strcmp(k, "expire") == 0) {
		z->expire = clamp_of(f, v, k);
	} else if (strcmp(k, "limits") == 0) {
		Zx__Registry__Limits *l = arena_alloc(f->mem, sizeof(*l));
		if (l == NULL) {
			f->nomem = true;
			return;
		}
		zx__registry__limits__init(l);
		static const char *const keys[] = {"records", "bytes", NULL};
		char *vals[2] = {l->records, l->bytes};
		if (members(f, v, k, keys, vals)) {
			l->records = vals[0];
			l->bytes = vals[1];
			z->limits = l;
		}
	} else if (strcmp(k, "notify") == 0) {
		list_of(f, v, k, &z->notify, &z->n_notify);
	} else if (strcmp(k, "notify-key") == 0) {
		char *t = text_of(f, v, k);
		z->notify_key = t != NULL ? t : z->notify_key;
	} else {
		problem(f, k, "unknown key \"%s\" in zone; expected one of name, primaries, key, "
		        "notify-keys, notify-from, serve, refresh, retry, expire, limits, notify, "
		        "notify-key", k);
	}
}

int registry_from_json(const json_t *j, struct arena *mem, Zx__Registry__Zone *out,
                       struct cfg_problem *probs, size_t maxprobs, size_t *nprobs)
{
	struct fromjson f = {.mem = mem, .probs = probs, .max = maxprobs};
	zx__registry__zone__init(out);
	if (!json_is_object(j)) {
		problem(&f, "", "wrong type for the zone: expected an object, got %s", kind(j));
	} else {
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)j, k, v) {
			field(&f, k, v, out);
		}
	}
	if (f.nomem) {
		return ZX_ENOMEM;
	}
	if (f.n > 0) {
		*nprobs = f.n;
		return ZX_ECONFIG;
	}
	return 0;
}

/* ---- the zone -------------------------------------------------------------- */

int registry_zone(const struct cfg *cfg, const Zx__Registry__Zone *z, struct arena *mem,
                  struct cfg_zone *out, struct cfg_problem *probs, size_t maxprobs,
                  size_t *nprobs)
{
	json_t *j = registry_to_json(z);
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (text == NULL) {
		return ZX_ENOMEM;
	}
	int rc = cfg_zone_parse(cfg, text, strlen(text), mem, out, probs, maxprobs, nprobs);
	free(text);
	return rc;
}
