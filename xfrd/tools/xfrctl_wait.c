/* SPDX-License-Identifier: MIT */
/* xfrd/tools/xfrctl_wait.c -- the outcome of one transfer request, from Kafka (see the header). */
#include "xfrd/tools/xfrctl_wait.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/kafka/kafka.h"
#include "proto/events.h"
#include "proto/reqtopic.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the group's committed offset is asked for while waiting. */
#define WAIT_COMMITTED_EVERY_MS 200

struct xfrctl_wait {
	const struct cfg *cfg;
	rd_kafka_t *rk;
	char zone[1100];
	int32_t upart; /* the zone's partition of the updates topic */
	int timeout_ms;
	int64_t next;  /* the next offset of the updates partition to read */
	bool seen;     /* an event of the zone was read */
	struct xfrctl_outcome last;
};

/* The partition count of @p topic; <= 0 with @p err set when it cannot be had. */
static int32_t partitions_of(rd_kafka_t *rk, const char *topic, int timeout_ms, char *err,
                             size_t errlen)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = t != NULL ? rd_kafka_metadata(rk, 0, t, &md, timeout_ms)
	                                  : RD_KAFKA_RESP_ERR__INVALID_ARG;
	int32_t n = 0;
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1) {
		e = md->topics[0].err;
		n = md->topics[0].partition_cnt;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR || n <= 0) {
		snprintf(err, errlen, "topic %s: %s", topic,
		         e != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(e) : "no partitions");
		n = 0;
	}
	if (md != NULL) {
		rd_kafka_metadata_destroy(md);
	}
	if (t != NULL) {
		rd_kafka_topic_destroy(t);
	}
	return n;
}

static void quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf; /* a broker down shows as the wait's own error, not librdkafka's lines */
}

static int client_new(const struct cfg *cfg, rd_kafka_t **out, char *err, size_t errlen)
{
	static const char *const defaults[] = {
		"enable.auto.commit", "false", "enable.auto.offset.store", "false",
		"enable.partition.eof", "false", NULL,
	};
	rd_kafka_conf_t *conf = NULL;
	int rc = kafka_conf_new(&cfg->kafka, "xfrctl", defaults, &conf, err, errlen);
	/* the group's id only to read its committed offsets: xfrctl never joins it */
	rc = rc == 0 ? kafka_conf_set(conf, "group.id", cfg->kafka.group, err, errlen) : rc;
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_log_cb(conf, quiet);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		return ZX_EKAFKA;
	}
	rd_kafka_poll_set_consumer(rk);
	*out = rk;
	return 0;
}

int xfrctl_wait_new(const struct cfg *cfg, const char *zone, int timeout_ms,
                    struct xfrctl_wait **out, char *err, size_t errlen)
{
	struct xfrctl_wait *w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return ZX_ENOMEM;
	}
	w->cfg = cfg;
	w->timeout_ms = timeout_ms;
	snprintf(w->zone, sizeof(w->zone), "%s", zone);
	int rc = client_new(cfg, &w->rk, err, errlen);
	if (rc != 0) {
		free(w);
		return rc;
	}
	const char *topic = cfg->kafka.updates_topic;
	int32_t n = partitions_of(w->rk, topic, timeout_ms, err, errlen);
	int64_t lo = 0, hi = 0;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (n > 0) {
		w->upart = reqtopic_partition(zone, n);
		e = rd_kafka_query_watermark_offsets(w->rk, topic, w->upart, &lo, &hi, timeout_ms);
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	if (n > 0 && e == RD_KAFKA_RESP_ERR_NO_ERROR && l != NULL) {
		rd_kafka_topic_partition_list_add(l, topic, w->upart)->offset = hi;
		w->next = hi;
		e = rd_kafka_assign(w->rk, l);
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (n <= 0 || e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (n > 0) {
			snprintf(err, errlen, "reading the end of the updates partition %d: %s",
			         (int)w->upart, rd_kafka_err2str(e));
		}
		rc = e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ZX_ETIMEDOUT : ZX_EKAFKA;
		xfrctl_wait_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

/* One message of the updates topic: the zone's event becomes the last outcome. */
static void take(struct xfrctl_wait *w, const rd_kafka_message_t *m)
{
	size_t zl = strlen(w->zone);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->partition == w->upart) {
		w->next = m->offset + 1;
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR || m->key_len != zl ||
	    memcmp(m->key, w->zone, zl) != 0) {
		return;
	}
	Zx__Events__ZoneUpdated *up = NULL;
	if (events_update_unpack(m->payload, m->len, &up) != 0) {
		return;
	}
	struct xfrctl_outcome o = {.kind = XFRCTL_WAIT_FAILED, .has_serial = true,
	                           .serial = up->new_serial};
	if (up->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED) {
		o.kind = XFRCTL_WAIT_COMMITTED;
		snprintf(o.method, sizeof(o.method), "%s",
		         up->method == ZX__EVENTS__METHOD__METHOD_IXFR ? "IXFR" : "AXFR");
	} else if (up->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_EXPIRED) {
		snprintf(o.error, sizeof(o.error), "the zone expired%s%s",
		         up->error != NULL && up->error[0] ? ": " : "", up->error ? up->error : "");
	} else if (up->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_REMOVED) {
		snprintf(o.error, sizeof(o.error), "the zone was removed");
	} else {
		snprintf(o.error, sizeof(o.error), "%s", up->error != NULL ? up->error : "");
	}
	o.has_serial = up->kind != ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_FAILED || up->has_old_serial;
	snprintf(o.primary, sizeof(o.primary), "%s", up->primary != NULL ? up->primary : "");
	snprintf(o.replica, sizeof(o.replica), "%s", up->replica != NULL ? up->replica : "");
	events_update_free(up);
	w->last = o;
	w->seen = true;
}

/* Read the updates partition for up to @p ms. */
static void read_updates(struct xfrctl_wait *w, int ms)
{
	int64_t until = clock_mono_ms() + ms;
	do {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(w->rk, 50);
		if (m != NULL) {
			take(w, m);
			rd_kafka_message_destroy(m);
		}
	} while (clock_mono_ms() < until);
}

/* The group's committed offset of the requests partition; -1 none; ZX_EKAFKA. */
static int committed(struct xfrctl_wait *w, int32_t partition, int64_t *off, char *err,
                     size_t errlen)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	if (l == NULL) {
		return ZX_ENOMEM;
	}
	rd_kafka_topic_partition_list_add(l, w->cfg->kafka.requests_topic, partition);
	rd_kafka_resp_err_t e = rd_kafka_committed(w->rk, l, w->timeout_ms);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		e = l->elems[0].err;
		*off = l->elems[0].offset;
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "the committed offsets of group %s: %s", w->cfg->kafka.group,
		         rd_kafka_err2str(e));
		return ZX_EKAFKA;
	}
	return 0;
}

/* Read the updates partition up to its end as of now. */
static int drain(struct xfrctl_wait *w, int64_t deadline_ms, char *err, size_t errlen)
{
	int64_t lo = 0, hi = 0;
	rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
		w->rk, w->cfg->kafka.updates_topic, w->upart, &lo, &hi, w->timeout_ms);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "the updates topic %s: %s", w->cfg->kafka.updates_topic,
		         rd_kafka_err2str(e));
		return ZX_EKAFKA;
	}
	while (w->next < hi) {
		if (clock_mono_ms() >= deadline_ms) {
			return ZX_ETIMEDOUT;
		}
		read_updates(w, 50);
	}
	return 0;
}

int xfrctl_wait_for(struct xfrctl_wait *w, int32_t partition, int64_t offset,
                    int64_t deadline_ms, struct xfrctl_outcome *out, char *err, size_t errlen)
{
	int64_t off = -1;
	int rc = 0;
	while ((rc = committed(w, partition, &off, err, errlen)) == 0 && off <= offset) {
		if (clock_mono_ms() >= deadline_ms) {
			snprintf(err, errlen, "no outcome yet (group %s has committed offset %lld of "
			         "partition %d, the request is at %lld)", w->cfg->kafka.group,
			         (long long)off, (int)partition, (long long)offset);
			return ZX_ETIMEDOUT;
		}
		read_updates(w, WAIT_COMMITTED_EVERY_MS);
	}
	if (rc == 0) {
		rc = drain(w, deadline_ms, err, errlen);
		if (rc == ZX_ETIMEDOUT) {
			snprintf(err, errlen, "the updates topic was not read to its end in time");
		}
	}
	if (rc == 0) {
		*out = w->seen ? w->last : (struct xfrctl_outcome){.kind = XFRCTL_WAIT_UPTODATE};
	}
	return rc;
}

void xfrctl_wait_free(struct xfrctl_wait *w)
{
	if (w != NULL) {
		if (w->rk != NULL) {
			rd_kafka_destroy(w->rk);
		}
		free(w);
	}
}
