/* SPDX-License-Identifier: MIT */
/* tests/bed/zonegen_main.c -- the zonegen command (see zonegen.h).
 *
 * zonegen [-z ZONE] [-s SEED] [-S SERIAL] [-n RECORDS] [--change K] [--delete K]
 *         [--add K] [--edit-seed E] [--stats] [-o FILE]
 * Defaults: zone example.test., seed 1, serial 1, 1000 records, stdout.
 * --stats prints the counts by type on stderr.
 */
#include "tests/bed/zonegen.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
	fprintf(stderr, "usage: zonegen [-z ZONE] [-s SEED] [-S SERIAL] [-n RECORDS] [--change K]\n"
	                "               [--delete K] [--add K] [--edit-seed E] [--stats] [-o FILE]\n");
}

static bool num(const char *s, uint64_t max, uint64_t *out)
{
	char *end = NULL;
	if (s == NULL || s[0] == '\0' || s[0] == '-') {
		return false;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* One option with a numeric value; false on an unknown option or a bad value. */
static bool num_opt(struct zonegen_opts *o, const char *a, const char *v)
{
	uint64_t serial = 0;
	if (strcmp(a, "-S") == 0 && num(v, UINT32_MAX, &serial)) {
		o->serial = (uint32_t)serial;
		return true;
	}
	return (strcmp(a, "-s") == 0 && num(v, UINT64_MAX, &o->seed)) ||
	       (strcmp(a, "-n") == 0 && num(v, UINT64_MAX, &o->records)) ||
	       (strcmp(a, "--change") == 0 && num(v, UINT64_MAX, &o->change)) ||
	       (strcmp(a, "--delete") == 0 && num(v, UINT64_MAX, &o->del)) ||
	       (strcmp(a, "--add") == 0 && num(v, UINT64_MAX, &o->add)) ||
	       (strcmp(a, "--edit-seed") == 0 && num(v, UINT64_MAX, &o->edit_seed));
}

static void print_stats(const struct zonegen_stats *s)
{
	fprintf(stderr,
	        "zonegen: total=%" PRIu64 " A=%" PRIu64 " AAAA=%" PRIu64 " TXT=%" PRIu64
	        " MX=%" PRIu64 " CNAME=%" PRIu64 " NS=%" PRIu64 " SRV=%" PRIu64 " changed=%" PRIu64
	        " deleted=%" PRIu64 " added=%" PRIu64 "\n",
	        s->total, s->a, s->aaaa, s->txt, s->mx, s->cname, s->ns, s->srv, s->changed,
	        s->deleted, s->added);
}

int main(int argc, char **argv)
{
	struct zonegen_opts o = {.origin = "example.test.", .seed = 1, .serial = 1, .records = 1000};
	const char *path = NULL;
	bool stats = false;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(argv[i], "--stats") == 0) {
			stats = true;
		} else if (strcmp(argv[i], "-z") == 0 && v != NULL) {
			o.origin = v;
			i++;
		} else if (strcmp(argv[i], "-o") == 0 && v != NULL) {
			path = v;
			i++;
		} else if (num_opt(&o, argv[i], v)) {
			i++;
		} else {
			usage();
			return 2;
		}
	}
	FILE *out = path != NULL ? fopen(path, "w") : stdout;
	if (out == NULL) {
		perror(path);
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(out, buf, _IOFBF, sizeof(buf));
	struct zonegen_stats st;
	int rc = zonegen_write(&o, out, &st);
	if (path != NULL && fclose(out) != 0 && rc == 0) {
		rc = ZX_EIO;
	}
	if (rc != 0) {
		fprintf(stderr, "zonegen: %s\n", zx_strerror(rc));
		return 1;
	}
	if (stats) {
		print_stats(&st);
	}
	return 0;
}
