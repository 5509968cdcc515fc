/* SPDX-License-Identifier: MIT */
/* tests/bed/test_zonegen.c -- the zone generator is deterministic, follows the
 * record mix, and edits exactly what it is asked to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/bed/zonegen.h"

#include <stdlib.h>
#include <string.h>

struct text {
	char *buf;
	size_t len;
	struct zonegen_stats st;
};

static int gen(const struct zonegen_opts *o, struct text *t)
{
	FILE *f = open_memstream(&t->buf, &t->len);
	assert_non_null(f);
	int rc = zonegen_write(o, f, &t->st);
	assert_int_equal(fclose(f), 0);
	return rc;
}

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

static int cmp_line(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The lines of @p s (modified in place: newlines become NULs), sorted. */
static char **sorted_lines(char *s, size_t *n)
{
	*n = lines(s);
	char **v = calloc(*n + 1, sizeof(*v));
	assert_non_null(v);
	for (size_t i = 0; i < *n; i++) {
		v[i] = s;
		s = strchr(s, '\n');
		*s++ = '\0';
	}
	qsort(v, *n, sizeof(*v), cmp_line);
	return v;
}

/* Lines of @p a missing from @p b (multisets: zone lines are unique anyway). */
static size_t missing(const char *a, const char *b)
{
	char *ca = strdup(a);
	char *cb = strdup(b);
	size_t na = 0;
	size_t nb = 0;
	char **va = sorted_lines(ca, &na);
	char **vb = sorted_lines(cb, &nb);
	size_t n = 0;
	size_t j = 0;
	for (size_t i = 0; i < na; i++) {
		while (j < nb && strcmp(vb[j], va[i]) < 0) {
			j++;
		}
		if (j < nb && strcmp(vb[j], va[i]) == 0) {
			j++;
		} else {
			n++;
		}
	}
	free(va);
	free(vb);
	free(ca);
	free(cb);
	return n;
}

static void test_zonegen_deterministic(void **state)
{
	(void)state;
	struct zonegen_opts o = {.origin = "Example.TEST", .seed = 7, .serial = 9, .records = 5000};
	struct text a = {0};
	struct text b = {0};
	struct text c = {0};
	assert_int_equal(gen(&o, &a), 0);
	assert_int_equal(gen(&o, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	o.seed = 8;
	assert_int_equal(gen(&o, &c), 0);
	assert_true(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0);
	assert_non_null(strstr(a.buf, "Example.TEST. 3600 IN SOA ns1.Example.TEST. hostmaster"));
	assert_non_null(strstr(a.buf, " 9 3600 900 1209600 300\n"));
	free(a.buf);
	free(b.buf);
	free(c.buf);
}

static void assert_share(uint64_t n, uint64_t body, unsigned pct)
{
	/* within two percentage points of the anchor */
	assert_in_range(n * 100, (uint64_t)(pct - 2) * body, (uint64_t)(pct + 2) * body);
}

static void test_zonegen_mix(void **state)
{
	(void)state;
	struct zonegen_opts o = {.origin = "big.test.", .seed = 1, .serial = 1, .records = 100000};
	struct text t = {0};
	assert_int_equal(gen(&o, &t), 0);
	assert_int_equal(t.st.total, 100000 + 5); /* SOA, 2 NS, 2 glue */
	assert_int_equal(lines(t.buf), 100000 + 5 + 2); /* $ORIGIN, $TTL */
	uint64_t body = 100000;
	uint64_t glue = t.st.ns - 2; /* one glue A per delegation NS */
	assert_share(t.st.a - 2 - glue, body, 37);
	assert_share(t.st.aaaa, body, 16);
	assert_share(t.st.txt, body, 10);
	assert_share(t.st.mx, body, 8);
	assert_share(t.st.cname, body, 9);
	assert_share(t.st.ns - 2 + glue, body, 15);
	assert_share(t.st.srv, body, 4);
	assert_non_null(strstr(t.buf, " IN SRV "));
	free(t.buf);
}

static void test_zonegen_edits(void **state)
{
	(void)state;
	struct zonegen_opts o = {.origin = "e.test", .seed = 3, .serial = 1, .records = 2000};
	struct text base = {0};
	struct text ed = {0};
	assert_int_equal(gen(&o, &base), 0);
	o.change = 10;
	o.del = 4;
	o.add = 3;
	o.edit_seed = 99;
	assert_int_equal(gen(&o, &ed), 0);
	assert_int_equal(ed.st.changed, 10);
	assert_int_equal(ed.st.deleted, 4);
	assert_int_equal(ed.st.added, 3);
	assert_int_equal(lines(ed.buf), lines(base.buf) - 4 + 3);
	assert_int_equal(missing(base.buf, ed.buf), 10 + 4);
	assert_int_equal(missing(ed.buf, base.buf), 10 + 3);
	free(base.buf);
	free(ed.buf);
}

static void test_zonegen_errors(void **state)
{
	(void)state;
	struct zonegen_opts o = {.origin = "", .records = 10};
	struct text t = {0};
	assert_int_equal(gen(&o, &t), ZX_EINVAL);
	free(t.buf);
	t.buf = NULL;
	o.origin = "x.test";
	o.change = 1000;
	assert_int_equal(gen(&o, &t), ZX_EINVAL);
	free(t.buf);
	o.change = 0;
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	o.records = 100000; /* more than stdio buffers */
	assert_int_equal(zonegen_write(&o, full, NULL), ZX_EIO);
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zonegen_deterministic),
		cmocka_unit_test(test_zonegen_mix),
		cmocka_unit_test(test_zonegen_edits),
		cmocka_unit_test(test_zonegen_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
