/* SPDX-License-Identifier: MIT */
/* common/metrics.c -- a registry of series and the Prometheus text renderer. */
#include "common/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_COUNTER, K_GAUGE, K_GAUGE_CB, K_HIST, K_FAMILY };

struct series {
	enum kind kind;
	char *name, *labels, *help;
	struct metrics_val val;
	struct metrics_hist *hist;
	metrics_gauge_fn fn;
	metrics_family_fn family;
	void *arg;
	struct series *next;
};

struct metrics {
	struct series *head, *tail;
};

/* A growing output buffer; a failed append sets oom and later ones do nothing. */
struct out {
	char *buf;
	size_t len, cap;
	bool oom;
	const char *family; /* the family a metrics_family_fn writes now */
};

struct metrics_out {
	struct out o;
};

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void series_free(struct series *s)
{
	free(s->name);
	free(s->labels);
	free(s->help);
	free(s->hist);
	free(s);
}

void metrics_free(struct metrics *m)
{
	if (m == NULL) {
		return;
	}
	struct series *s = m->head;
	while (s != NULL) {
		struct series *next = s->next;
		series_free(s);
		s = next;
	}
	free(m);
}

static struct series *add(struct metrics *m, enum kind kind, const char *name,
                          const char *labels, const char *help)
{
	struct series *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return NULL;
	}
	s->kind = kind;
	s->name = strdup(name);
	s->labels = strdup(labels != NULL ? labels : "");
	s->help = strdup(help != NULL ? help : "");
	if (s->name == NULL || s->labels == NULL || s->help == NULL) {
		series_free(s);
		return NULL;
	}
	if (m->tail != NULL) {
		m->tail->next = s;
	} else {
		m->head = s;
	}
	m->tail = s;
	return s;
}

struct metrics_val *metrics_counter(struct metrics *m, const char *name, const char *labels,
                                    const char *help)
{
	struct series *s = add(m, K_COUNTER, name, labels, help);
	return s != NULL ? &s->val : NULL;
}

struct metrics_val *metrics_gauge(struct metrics *m, const char *name, const char *labels,
                                  const char *help)
{
	struct series *s = add(m, K_GAUGE, name, labels, help);
	return s != NULL ? &s->val : NULL;
}

int metrics_gauge_cb(struct metrics *m, const char *name, const char *labels, const char *help,
                     metrics_gauge_fn fn, void *arg)
{
	struct series *s = add(m, K_GAUGE_CB, name, labels, help);
	if (s == NULL) {
		return ZX_ENOMEM;
	}
	s->fn = fn;
	s->arg = arg;
	return 0;
}

int metrics_family(struct metrics *m, const char *name, const char *help, metrics_family_fn fn,
                   void *arg)
{
	struct series *s = add(m, K_FAMILY, name, NULL, help);
	if (s == NULL) {
		return ZX_ENOMEM;
	}
	s->family = fn;
	s->arg = arg;
	return 0;
}

size_t metrics_label_value(const char *in, char *buf, size_t size)
{
	size_t n = 0;
	for (; *in != '\0'; in++) {
		const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
		size_t k = rep != NULL ? 2 : 1;
		if (n + k >= size) {
			break;
		}
		if (rep != NULL) {
			memcpy(buf + n, rep, 2);
		} else {
			buf[n] = *in;
		}
		n += k;
	}
	if (size > 0) {
		buf[n] = '\0';
	}
	return n;
}

struct metrics_hist *metrics_histogram(struct metrics *m, const char *name, const char *labels,
                                       const char *help, const double *bounds, size_t nb)
{
	if (nb == 0 || nb > METRICS_HIST_MAX) {
		return NULL;
	}
	struct metrics_hist *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return NULL;
	}
	struct series *s = add(m, K_HIST, name, labels, help);
	if (s == NULL) {
		free(h);
		return NULL;
	}
	h->nb = nb;
	memcpy(h->bounds, bounds, nb * sizeof(*bounds));
	s->hist = h;
	return h;
}

void metrics_observe(struct metrics_hist *h, double v)
{
	size_t i = 0;
	while (i < h->nb && v > h->bounds[i]) {
		i++;
	}
	__atomic_fetch_add(&h->buckets[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
	uint64_t micro = v > 0 ? (uint64_t)(v * 1e6 + 0.5) : 0;
	__atomic_fetch_add(&h->sum_micro, micro, __ATOMIC_RELAXED);
}

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->oom) {
		return;
	}
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap * 2 + (n > 0 ? (size_t)n : 0) + 256;
		char *nb = realloc(o->buf, cap);
		if (n < 0 || nb == NULL) {
			o->oom = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

static const char *type_name(enum kind k)
{
	return k == K_COUNTER ? "counter" : k == K_HIST ? "histogram" : "gauge";
}

/* "{labels}" or "" */
static void put_labels(struct out *o, const char *labels, const char *extra)
{
	bool l = labels[0] != '\0', e = extra != NULL;
	if (l || e) {
		put(o, "{%s%s%s}", labels, l && e ? "," : "", e ? extra : "");
	}
}

static void render_hist(struct out *o, const struct series *s)
{
	const struct metrics_hist *h = s->hist;
	uint64_t cum = 0;
	char le[48];
	for (size_t i = 0; i <= h->nb; i++) {
		cum += __atomic_load_n(&h->buckets[i], __ATOMIC_RELAXED);
		if (i < h->nb) {
			snprintf(le, sizeof(le), "le=\"%g\"", h->bounds[i]);
		} else {
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		}
		put(o, "%s_bucket", s->name);
		put_labels(o, s->labels, le);
		put(o, " %" PRIu64 "\n", cum);
	}
	put(o, "%s_sum", s->name);
	put_labels(o, s->labels, NULL);
	put(o, " %.6f\n", (double)__atomic_load_n(&h->sum_micro, __ATOMIC_RELAXED) / 1e6);
	put(o, "%s_count", s->name);
	put_labels(o, s->labels, NULL);
	put(o, " %" PRIu64 "\n", __atomic_load_n(&h->count, __ATOMIC_RELAXED));
}

void metrics_sample(struct metrics_out *mo, const char *labels, double v)
{
	struct out *o = &mo->o;
	put(o, "%s", o->family);
	put_labels(o, labels != NULL ? labels : "", NULL);
	put(o, " %.17g\n", v);
}

static void render_one(struct out *o, const struct series *s)
{
	if (s->kind == K_HIST) {
		render_hist(o, s);
		return;
	}
	if (s->kind == K_FAMILY) {
		o->family = s->name;
		s->family(s->arg, (struct metrics_out *)o);
		return;
	}
	put(o, "%s", s->name);
	put_labels(o, s->labels, NULL);
	uint64_t v = __atomic_load_n(&s->val.v, __ATOMIC_RELAXED);
	if (s->kind == K_COUNTER) {
		put(o, " %" PRIu64 "\n", v);
	} else if (s->kind == K_GAUGE) {
		put(o, " %" PRId64 "\n", (int64_t)v);
	} else {
		put(o, " %.17g\n", s->fn(s->arg));
	}
}

/* True when a series of @p name came before @p s (its header is already out). */
static bool seen_before(const struct metrics *m, const struct series *s)
{
	for (const struct series *p = m->head; p != s; p = p->next) {
		if (strcmp(p->name, s->name) == 0) {
			return true;
		}
	}
	return false;
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct out o = {.cap = 4096};
	o.buf = malloc(o.cap);
	if (o.buf == NULL) {
		return ZX_ENOMEM;
	}
	o.buf[0] = '\0';
	for (const struct series *s = m->head; s != NULL; s = s->next) {
		if (seen_before(m, s)) {
			continue;
		}
		put(&o, "# HELP %s %s\n# TYPE %s %s\n", s->name, s->help, s->name,
		    type_name(s->kind));
		for (const struct series *t = s; t != NULL; t = t->next) {
			if (strcmp(t->name, s->name) == 0) {
				render_one(&o, t);
			}
		}
	}
	if (o.oom) {
		free(o.buf);
		return ZX_ENOMEM;
	}
	*out = o.buf;
	*len = o.len;
	return 0;
}
