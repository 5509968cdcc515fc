/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/lagstats.c -- consumer lag per partition from librdkafka's statistics. */
#include "xfrd/kafka/lagstats.h"

#include "common/metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lagstats {
	char *topic;
	size_t n;                                  /* entries in use */
	int32_t part[LAGSTATS_MAX_PARTITIONS];     /* assigned partitions, in the document's order */
	int64_t lag[LAGSTATS_MAX_PARTITIONS];
};

static void render(void *arg, struct metrics_out *o)
{
	const struct lagstats *ls = arg;
	char l[48];
	for (size_t i = 0; i < ls->n; i++) {
		snprintf(l, sizeof(l), "partition=\"%d\"", (int)ls->part[i]);
		metrics_sample(o, l, (double)ls->lag[i]);
	}
}

int lagstats_new(struct metrics *m, const char *topic, struct lagstats **out)
{
	struct lagstats *ls = calloc(1, sizeof(*ls));
	if (ls == NULL || (ls->topic = strdup(topic)) == NULL) {
		free(ls);
		return ZX_ENOMEM;
	}
	int rc = metrics_family(m, "xfrd_kafka_consumer_lag",
	                        "The group's lag on each partition of the requests topic this "
	                        "replica owns, as the broker sees it (librdkafka statistics; -1 "
	                        "unknown).",
	                        render, ls);
	if (rc != 0) {
		lagstats_free(ls);
		return rc;
	}
	*out = ls;
	return 0;
}

static int64_t num(const json_t *p, const char *key)
{
	const json_t *v = json_object_get(p, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* librdkafka's consumer_lag; when it has none because the group never committed on the
 * partition, what the broker holds from its start (the group starts there: earliest). */
static int64_t lag_of(const json_t *p)
{
	int64_t lag = num(p, "consumer_lag"), hi = num(p, "hi_offset"), lo = num(p, "lo_offset");
	if (lag < 0 && num(p, "committed_offset") < 0 && hi >= 0 && lo >= 0 && hi >= lo) {
		lag = hi - lo;
	}
	return lag < 0 ? -1 : lag;
}

int lagstats_update(struct lagstats *ls, const char *json, size_t len)
{
	json_t *j = json_loadb(json, len, 0, NULL);
	json_t *parts = json_object_get(json_object_get(json_object_get(j, "topics"), ls->topic),
	                                "partitions");
	if (j == NULL) {
		return ZX_EFORMAT;
	}
	size_t n = 0;
	const char *key;
	json_t *p;
	json_object_foreach(parts, key, p) {
		char *end = NULL;
		long id = strtol(key, &end, 10);
		/* -1 is librdkafka's unassigned-messages pseudo partition; desired: assigned */
		if (id < 0 || *end != '\0' || !json_is_true(json_object_get(p, "desired")) ||
		    n == LAGSTATS_MAX_PARTITIONS) {
			continue;
		}
		ls->part[n] = (int32_t)id;
		ls->lag[n] = lag_of(p);
		n++;
	}
	ls->n = n; /* a topic absent from the document: nothing assigned */
	json_decref(j);
	return 0;
}

int64_t lagstats_get(const struct lagstats *ls, int32_t partition)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->part[i] == partition) {
			return ls->lag[i];
		}
	}
	return ZX_ENOTFOUND;
}

void lagstats_free(struct lagstats *ls)
{
	if (ls != NULL) {
		free(ls->topic);
		free(ls);
	}
}
