/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg.c -- config loading: reading the file, collecting and sorting
 * errors, node helpers, the zone index and the public API. The YAML tree is
 * built in cfg_yaml.c, values are parsed in cfg_walk.c, and what each section
 * means is in cfg_schema.c. */
#include "common/cfg/cfg.h"

#include "common/arena.h"
#include "common/cfg/cfg_internal.h"
#include "common/tsig/tsig.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages kept for sorting; beyond this only the count grows. */
#define CFG_MSGS_KEPT 1000

/* ---- errors ---------------------------------------------------------------------------- */

void cfg_nomem(struct cfg_parse *p)
{
	p->nomem = true;
}

static void add_msg(struct cfg_parse *p, unsigned line, unsigned col, char *text, char *path)
{
	if (p->nmsg >= CFG_MSGS_KEPT) {
		p->nmsg++;
		free(text);
		free(path);
		return;
	}
	if (p->nmsg == p->msgcap) {
		size_t cap = p->msgcap ? p->msgcap * 2 : 16;
		struct cfg_msg *m = realloc(p->msgs, cap * sizeof(*m));
		if (m == NULL) {
			free(text);
			free(path);
			cfg_nomem(p);
			return;
		}
		p->msgs = m;
		p->msgcap = cap;
	}
	p->msgs[p->nmsg] = (struct cfg_msg){line, col, p->nmsg, text, path};
	p->nmsg++;
}

/* The path of @p want below @p n ("primaries[1]", "serve.allow"), appended to @p buf
 * at @p len; true when found. A depth-first search: errors are few. */
static bool path_to(const struct cfg_node *n, const struct cfg_node *want, char *buf,
                    size_t size, size_t len)
{
	if (n == want) {
		buf[len < size ? len : size - 1] = '\0';
		return true;
	}
	if (n->type == CFG_N_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			int k = snprintf(buf + len, len < size ? size - len : 0, "[%zu]", i);
			if (k > 0 && path_to(n->kids[i], want, buf, size, len + (size_t)k)) {
				return true;
			}
		}
	} else if (n->type == CFG_N_MAP) {
		for (size_t i = 0; i + 1 < 2 * n->n; i += 2) {
			const struct cfg_node *key = n->kids[i];
			const char *name = key->type == CFG_N_SCALAR ? key->str : "?";
			int k = snprintf(buf + len, len < size ? size - len : 0, "%s%s",
			                 len > 0 ? "." : "", name);
			if (k > 0 && key == want) {
				buf[len + (size_t)k < size ? len + (size_t)k : size - 1] = '\0';
				return true;
			}
			if (k > 0 && path_to(n->kids[i + 1], want, buf, size, len + (size_t)k)) {
				return true;
			}
		}
	}
	return false;
}

void cfg_error(struct cfg_parse *p, const struct cfg_node *node, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *text = strdup(buf);
	if (text == NULL) {
		cfg_nomem(p);
		return;
	}
	unsigned line = node ? node->line : 1;
	unsigned col = node ? node->col : 1;
	char *path = NULL;
	if (p->paths) {
		char where[160] = "";
		if (node != NULL && p->root != NULL) {
			(void)path_to(p->root, node, where, sizeof(where), 0);
		}
		path = strdup(where);
		if (path == NULL) {
			free(text);
			cfg_nomem(p);
			return;
		}
	}
	add_msg(p, line, col, text, path);
}

static int msg_cmp(const void *a, const void *b)
{
	const struct cfg_msg *x = a, *y = b;
	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	if (x->col != y->col) {
		return x->col < y->col ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Sorted messages, one per line, at most CFG_MAX_ERRORS and a count of the rest. */
static void write_msgs(struct cfg_parse *p, char *err, size_t errlen)
{
	if (errlen == 0) {
		return;
	}
	err[0] = '\0';
	size_t kept = p->nmsg < CFG_MSGS_KEPT ? p->nmsg : CFG_MSGS_KEPT;
	qsort(p->msgs, kept, sizeof(*p->msgs), msg_cmp);
	size_t used = 0;
	for (size_t i = 0; i < kept && i < CFG_MAX_ERRORS && used < errlen; i++) {
		const struct cfg_msg *m = &p->msgs[i];
		int n = snprintf(err + used, errlen - used, "%s%s:%u:%u: %s", i ? "\n" : "", p->file,
		                 m->line, m->col, m->text);
		used += n > 0 ? (size_t)n : 0;
	}
	if (p->nmsg > CFG_MAX_ERRORS && used < errlen) {
		snprintf(err + used, errlen - used, "\n%s: %zu more errors not shown", p->file,
		         p->nmsg - CFG_MAX_ERRORS);
	}
}

static void free_msgs(struct cfg_parse *p)
{
	size_t kept = p->nmsg < CFG_MSGS_KEPT ? p->nmsg : CFG_MSGS_KEPT;
	for (size_t i = 0; i < kept; i++) {
		free(p->msgs[i].text);
		free(p->msgs[i].path);
	}
	free(p->msgs);
}

/* ---- nodes ----------------------------------------------------------------------------- */

bool cfg_is_null(const struct cfg_node *n)
{
	if (n->type != CFG_N_SCALAR || !n->plain) {
		return false;
	}
	const char *s = n->str;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

const char *cfg_kind(const struct cfg_node *n)
{
	switch (n->type) {
	case CFG_N_MAP:
		return "a mapping";
	case CFG_N_SEQ:
		return "a list";
	case CFG_N_SCALAR:
		return cfg_is_null(n) ? "null" : "a string";
	default:
		return "nothing";
	}
}

const char *cfg_scalar(struct cfg_parse *p, const struct cfg_node *n, const char *what)
{
	if (n->type != CFG_N_SCALAR || cfg_is_null(n)) {
		cfg_error(p, n, "wrong type for %s: expected a string, got %s", what, cfg_kind(n));
		return NULL;
	}
	const char *s = n->str;
	if (strlen(s) != n->n) {
		cfg_error(p, n, "bad value for %s: contains a NUL byte", what);
		return NULL;
	}
	return s;
}

/* ---- zone index ------------------------------------------------------------------------ */

/* FNV-1a over the lowercased name, then a final mix so the low bits are good. */
static uint64_t name_hash(const uint8_t *w)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t len = 0;
	while (w[len] != 0) {
		len += (size_t)w[len] + 1;
	}
	for (size_t i = 0; i <= len; i++) {
		h = (h ^ (uint8_t)tolower(w[i])) * 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

int cfg_index_init(struct cfg *cfg, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n) {
		cap *= 2;
	}
	uint32_t *slots = arena_alloc_zero(cfg->mem, cap * sizeof(*slots));
	if (slots == NULL) {
		return ZX_ENOMEM;
	}
	cfg->zone_index = slots;
	cfg->zone_mask = cap - 1;
	return 0;
}

const struct cfg_zone *cfg_index_add(struct cfg *cfg, const struct cfg_zone *zones, size_t i)
{
	size_t s = name_hash(zones[i].name) & cfg->zone_mask;
	while (cfg->zone_index[s] != 0) {
		const struct cfg_zone *z = &zones[cfg->zone_index[s] - 1];
		if (dname_equal(z->name, zones[i].name)) {
			return z;
		}
		s = (s + 1) & cfg->zone_mask;
	}
	cfg->zone_index[s] = (uint32_t)i + 1;
	return NULL;
}

int cfg_zone_parse(const struct cfg *cfg, const char *text, size_t len, struct arena *mem,
                   struct cfg_zone *out, struct cfg_problem *probs, size_t maxprobs,
                   size_t *nprobs)
{
	struct cfg_parse p = {.file = "zone", .dir = "", .cfg = (struct cfg *)cfg, .mem = mem,
	                      .paths = true, .tmpl = cfg->zone_defaults,
	                      .tmpl_notify_keys_set = cfg->zone_defaults_notify_keys};
	struct arena *tree_mem = arena_new(0);
	char *copy = malloc(len + 1);
	struct cfg_node *root = NULL;
	struct cfg_zone z;
	memset(&z, 0, sizeof(z));
	if (tree_mem != NULL && copy != NULL) {
		memcpy(copy, text, len);
		copy[len] = '\0';
		if (memchr(text, '\0', len) != NULL) {
			cfg_error(&p, NULL, "a NUL byte in the zone's settings");
		} else if (cfg_yaml_parse(&p, copy, tree_mem, &root)) {
			p.root = root;
			cfg_schema_zone(&p, root, &z);
		}
	}
	int rc = 0;
	if (p.nomem || tree_mem == NULL || copy == NULL) {
		rc = ZX_ENOMEM;
	} else if (p.nmsg > 0) {
		size_t kept = p.nmsg < CFG_MSGS_KEPT ? p.nmsg : CFG_MSGS_KEPT;
		qsort(p.msgs, kept, sizeof(*p.msgs), msg_cmp);
		for (size_t i = 0; i < kept && i < maxprobs; i++) {
			snprintf(probs[i].path, sizeof(probs[i].path), "%s",
			         p.msgs[i].path != NULL ? p.msgs[i].path : "");
			snprintf(probs[i].text, sizeof(probs[i].text), "%s", p.msgs[i].text);
		}
		*nprobs = p.nmsg;
		rc = ZX_ECONFIG;
	} else {
		*out = z;
	}
	free_msgs(&p);
	free(copy);
	arena_destroy(tree_mem);
	return rc;
}

const struct cfg_zone *cfg_zone_find(const struct cfg *cfg, const uint8_t *name_wire)
{
	if (cfg->zone_index == NULL) {
		return NULL;
	}
	size_t s = name_hash(name_wire) & cfg->zone_mask;
	while (cfg->zone_index[s] != 0) {
		const struct cfg_zone *z = &cfg->zones[cfg->zone_index[s] - 1];
		if (dname_equal(z->name, name_wire)) {
			return z;
		}
		s = (s + 1) & cfg->zone_mask;
	}
	return NULL;
}

uint64_t cfg_xfrd_transfer_bound_ms(const struct cfg_xfrd *x)
{
	return x->timeout_soa_ms + x->timeout_connect_ms + x->timeout_transfer_ms;
}

size_t cfg_warnings(const struct cfg *cfg, char *out, size_t len)
{
	const struct cfg_xfrd *x = &cfg->xfrd;
	size_t n = 0;
	if (out != NULL && len > 0) {
		out[0] = '\0';
	}
	if (x->health_commit_stall_ms < cfg_xfrd_transfer_bound_ms(x)) {
		if (n == 0 && out != NULL && len > 0) {
			snprintf(out, len, "xfrd.health.commit-stall (%llu ms) is shorter than one "
			         "transfer may run (xfrd.timeouts soa + connect + transfer = %llu ms): "
			         "a transfer running that long fails liveness",
			         (unsigned long long)x->health_commit_stall_ms,
			         (unsigned long long)cfg_xfrd_transfer_bound_ms(x));
		}
		n++;
	}
	return n;
}

/* ---- loading --------------------------------------------------------------------------- */

void cfg_free(const struct cfg *c)
{
	struct cfg *cfg = (struct cfg *)c; /* the references are not part of its value */
	if (cfg == NULL || atomic_fetch_sub_explicit(&cfg->refs, 1, memory_order_acq_rel) != 1) {
		return;
	}
	tsig_keyring_free(cfg->keys);
	arena_destroy(cfg->mem);
	free(cfg);
}

const struct cfg *cfg_ref(const struct cfg *c)
{
	atomic_fetch_add_explicit(&((struct cfg *)c)->refs, 1, memory_order_relaxed);
	return c;
}

static struct cfg *cfg_new(const char *name)
{
	struct cfg *cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		return NULL;
	}
	atomic_init(&cfg->refs, 1);
	cfg->mem = arena_new(0);
	cfg->keys = tsig_keyring_new();
	cfg->path = cfg->mem ? arena_strdup(cfg->mem, name) : NULL;
	if (cfg->mem == NULL || cfg->keys == NULL || cfg->path == NULL) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* The directory part of @p name ("" when it has none), in the arena. */
static const char *dir_of(struct arena *mem, const char *name)
{
	const char *slash = strrchr(name, '/');
	if (slash == NULL) {
		return "";
	}
	size_t len = (size_t)(slash - name) + 1;
	char *d = arena_alloc(mem, len + 1);
	if (d != NULL) {
		memcpy(d, name, len);
		d[len] = '\0';
	}
	return d;
}

int cfg_load_string(const char *name, const char *text, struct cfg **out, char *err,
                    size_t errlen)
{
	if (errlen > 0) {
		err[0] = '\0';
	}
	struct cfg *cfg = cfg_new(name);
	if (cfg == NULL) {
		return ZX_ENOMEM;
	}
	struct cfg_parse p = {.file = name, .cfg = cfg, .mem = cfg->mem};
	p.dir = dir_of(cfg->mem, name);
	struct arena *tree_mem = arena_new(0); /* the YAML tree, gone after the load */
	struct cfg_node *root = NULL;
	if (p.dir != NULL && tree_mem != NULL && cfg_yaml_parse(&p, text, tree_mem, &root)) {
		cfg_schema_apply(&p, root);
	}
	arena_destroy(tree_mem);
	int rc = 0;
	if (p.nomem || p.dir == NULL || tree_mem == NULL) {
		rc = ZX_ENOMEM;
	} else if (p.nmsg > 0) {
		write_msgs(&p, err, errlen);
		rc = ZX_ECONFIG;
	}
	free_msgs(&p);
	free(p.keylines);
	if (rc != 0) {
		cfg_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

/* The whole file as a NUL-terminated string. */
static int read_file(const char *path, char **text, size_t *text_len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	int rc = ZX_ENOENT;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	if (f == NULL) {
		goto fail;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			char *b = realloc(buf, cap + 1);
			if (b == NULL) {
				rc = ZX_ENOMEM;
				goto fail;
			}
			buf = b;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			break;
		}
	}
	if (ferror(f)) {
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*text = buf;
	*text_len = len;
	return 0;
fail:
	if (rc == ZX_ENOENT && errlen > 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	}
	if (f != NULL) {
		fclose(f);
	}
	free(buf);
	return rc;
}

int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	if (errlen > 0) {
		err[0] = '\0';
	}
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len, err, errlen);
	if (rc != 0) {
		return rc;
	}
	size_t nul = strlen(text);
	if (nul != len) {
		unsigned line = 1;
		for (size_t i = 0; i < nul; i++) {
			line += text[i] == '\n';
		}
		snprintf(err, errlen, "%s:%u: a NUL byte; expected UTF-8 text", path, line);
		rc = ZX_ECONFIG;
	} else {
		rc = cfg_load_string(path, text, out, err, errlen);
	}
	free(text);
	return rc;
}

/* ---- flat copies ---------------------------------------------------------------------- */

/* One allocation holds the zone and every array it owns, laid out in turn. */
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

int cfg_zone_copy(const struct cfg_zone *src, size_t head, size_t zone_off, void **out,
                  size_t *bytes)
{
	if (src->name == NULL || dname_wire_len(src->name, DNAME_MAXLEN) <= 0 ||
	    src->name_text == NULL || zone_off + sizeof(struct cfg_zone) > head) {
		return ZX_EINVAL;
	}
	struct cfg_zone scratch;
	struct layout l = {.used = head};
	lay_out(&l, src, &scratch);
	uint8_t *block = calloc(1, l.used);
	if (block == NULL) {
		return ZX_ENOMEM;
	}
	struct cfg_zone *z = (struct cfg_zone *)(block + zone_off);
	*z = *src; /* scalars, clamps, limits, borrowed keys; arrays replaced below */
	l = (struct layout){.p = block, .used = head};
	lay_out(&l, src, z);
	*out = block;
	*bytes = l.used;
	return 0;
}
