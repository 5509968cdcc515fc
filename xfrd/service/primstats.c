/* SPDX-License-Identifier: MIT */
/* xfrd/service/primstats.c -- transfer outcomes by primary (see the header). */
#include "xfrd/service/primstats.h"

#include "common/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
	char primary[72];
	struct metrics_val *v[4];
};

struct primstats {
	struct metrics *m;
	struct row *rows;
	size_t n, cap;
};

struct primstats *primstats_new(struct metrics *m)
{
	struct primstats *ps = calloc(1, sizeof(*ps));
	if (ps != NULL) {
		ps->m = m;
	}
	return ps;
}

static struct row *row_add(struct primstats *ps, const char *primary)
{
	static const char *const outs[4] = {"uptodate", "axfr", "ixfr", "failed"};
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		struct row *r = realloc(ps->rows, cap * sizeof(*r));
		if (r == NULL) {
			return NULL;
		}
		ps->rows = r;
		ps->cap = cap;
	}
	struct row *r = &ps->rows[ps->n];
	char esc[160], l[220];
	snprintf(r->primary, sizeof(r->primary), "%s", primary);
	metrics_label_value(primary, esc, sizeof(esc));
	for (int i = 0; i < 4; i++) {
		snprintf(l, sizeof(l), "primary=\"%s\",outcome=\"%s\"", esc, outs[i]);
		r->v[i] = metrics_counter(ps->m, "xfrd_primary_outcomes_total", l,
		                          "transfer outcomes by primary");
		if (r->v[i] == NULL) {
			return NULL; /* the series made stay, unused */
		}
	}
	ps->n++;
	return r;
}

void primstats_count(struct primstats *ps, const char *primary, enum primstats_outcome o)
{
	const char *p = primary[0] != '\0' ? primary : "unknown";
	struct row *r = NULL;
	for (size_t i = 0; i < ps->n && r == NULL; i++) {
		if (strcmp(ps->rows[i].primary, p) == 0) {
			r = &ps->rows[i];
		}
	}
	if (r == NULL && ps->n >= PRIMSTATS_MAX) {
		p = "other";
		for (size_t i = 0; i < ps->n && r == NULL; i++) {
			r = strcmp(ps->rows[i].primary, p) == 0 ? &ps->rows[i] : NULL;
		}
	}
	if (r == NULL) {
		r = row_add(ps, p);
	}
	if (r != NULL) {
		metrics_add(r->v[o], 1);
	}
}

void primstats_free(struct primstats *ps)
{
	if (ps != NULL) {
		free(ps->rows);
		free(ps);
	}
}
