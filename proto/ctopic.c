/* SPDX-License-Identifier: MIT */
/* proto/ctopic.c -- a compacted topic: a follower from the beginning, a writer.
 *
 * The follower is a consumer with manual assignment (no group membership, no
 * commits: it always starts at the beginning). Its partitions are found by a small
 * thread that asks the metadata until the topic exists, so that the loop never
 * blocks on the broker; the thread hands the count over through a pipe. Records,
 * partition ends and client errors come through the consumer queue, served on the
 * loop like kafka_loop serves a producer's.
 */
#include "proto/ctopic.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/kafka/kafka.h"
#include "common/kafka/kafka_loop.h"
#include "common/log.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- follower --------------------------------------------------------------- */

struct part {
	int64_t next;  /* offset after the last message handled; -1 none yet */
	bool at_end;   /* the first end was reached */
};

struct ctopic_follow {
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;
	char *topic;
	struct ctopic_hooks hooks;
	void *ctx;
	struct event *q_ev, *found_ev, *tick;
	int qpipe[2], found_pipe[2];
	pthread_t finder;
	bool finder_running;
	atomic_bool stop;
	struct part *parts;
	int32_t nparts;
	int32_t at_end;
	struct ctopic_stats st;
	int64_t last_bad_log_ms;
	struct kafka_errlog errlog; /* its client's errors, each logged once */
};

/* Create the missing topic (hooks.create); blocking, on the finder thread.
 * True when it exists now. */
static bool create_topic(struct ctopic_follow *f)
{
	bool ok = false;
	char err[256] = "";
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(f->topic, 1, -1, err, sizeof(err));
	rd_kafka_queue_t *q = rd_kafka_queue_new(f->rk);
	if (nt == NULL || q == NULL ||
	    rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact") != 0) {
		log_error("topic_create_failed", "topic=%s error=\"%s\"", f->topic,
		          err[0] != '\0' ? err : "out of memory");
		goto out;
	}
	rd_kafka_CreateTopics(f->rk, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
	const rd_kafka_CreateTopics_result_t *res =
		ev != NULL ? rd_kafka_event_CreateTopics_result(ev) : NULL;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
	const char *why = "no answer";
	if (res != NULL && rd_kafka_event_error(ev) != 0) {
		e = rd_kafka_event_error(ev);
		why = rd_kafka_event_error_string(ev);
	} else if (res != NULL) {
		size_t cnt = 0;
		const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
		e = cnt == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
		why = cnt == 1 && rd_kafka_topic_result_error_string(tr[0]) != NULL
		              ? rd_kafka_topic_result_error_string(tr[0])
		              : rd_kafka_err2str(e);
	}
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
		log_info("topic_created", "topic=%s partitions=1 cleanup_policy=compact", f->topic);
		ok = true;
	} else {
		log_error("topic_create_failed", "topic=%s error=\"%s\" hint=\"create it (one "
		          "partition, cleanup.policy=compact) or allow this client to\"", f->topic,
		          why);
	}
	if (ev != NULL) {
		rd_kafka_event_destroy(ev);
	}
out:
	if (nt != NULL) {
		rd_kafka_NewTopic_destroy(nt);
	}
	if (q != NULL) {
		rd_kafka_queue_destroy(q);
	}
	return ok;
}

/* The finder thread: the topic's partition count, asked every second until known. */
static void *finder_main(void *arg)
{
	struct ctopic_follow *f = arg;
	rd_kafka_topic_t *t = rd_kafka_topic_new(f->rk, f->topic, NULL);
	int32_t n = 0;
	while (t != NULL && !atomic_load(&f->stop)) {
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e = rd_kafka_metadata(f->rk, 0, t, &md, 1000);
		bool missing = false;
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (md->topic_cnt == 1 && md->topics[0].err == 0 &&
			    md->topics[0].partition_cnt > 0) {
				n = md->topics[0].partition_cnt;
			} else {
				missing = true; /* the broker answered: no such topic */
			}
			rd_kafka_metadata_destroy(md);
		}
		if (n > 0) {
			break;
		}
		int32_t none = -1;
		if (missing && write(f->found_pipe[1], &none, sizeof(none)) < 0) {
			/* the pipe is full of the same news */
		}
		if (missing && f->hooks.create && create_topic(f)) {
			continue; /* look again at once */
		}
		for (int i = 0; i < 10 && !atomic_load(&f->stop); i++) {
			usleep(100 * 1000);
		}
	}
	if (t != NULL) {
		rd_kafka_topic_destroy(t);
	}
	if (n > 0 && write(f->found_pipe[1], &n, sizeof(n)) < 0) {
		log_error("topic_follow_failed", "topic=%s error=pipe", f->topic);
	}
	return NULL;
}

static void note_end(struct ctopic_follow *f, int32_t p)
{
	if (p < 0 || p >= f->nparts || f->parts[p].at_end) {
		return;
	}
	f->parts[p].at_end = true;
	if (++f->at_end == f->nparts && !f->st.caught_up) {
		f->st.caught_up = true;
		log_info("topic_caught_up", "topic=%s partitions=%d records=%llu tombstones=%llu",
		         f->topic, f->nparts, (unsigned long long)f->st.records,
		         (unsigned long long)f->st.tombstones);
		if (f->hooks.caught_up != NULL) {
			f->hooks.caught_up(f->ctx);
		}
	}
}

static void handle(struct ctopic_follow *f, const rd_kafka_message_t *m)
{
	int32_t p = m->partition;
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		note_end(f, p);
		return;
	}
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		char why[300];
		snprintf(why, sizeof(why), "topic %s partition %d: %s", f->topic, p,
		         rd_kafka_message_errstr(m));
		char client[300];
		snprintf(client, sizeof(client), "follow:%s", f->topic);
		(void)kafka_errlog_once(&f->errlog, "kafka_error", client, rd_kafka_err2name(m->err),
		                        why, clock_mono_ms());
		return;
	}
	if (p >= 0 && p < f->nparts) {
		f->parts[p].next = m->offset + 1;
	}
	char key[256];
	if (m->key == NULL || m->key_len == 0 || m->key_len >= sizeof(key)) {
		f->st.bad++;
		log_warn("ctopic_record_bad", "topic=%s partition=%d offset=%lld why=key", f->topic, p,
		         (long long)m->offset);
		return;
	}
	memcpy(key, m->key, m->key_len);
	key[m->key_len] = '\0';
	if (m->payload == NULL) {
		f->st.tombstones++;
	} else {
		f->st.records++;
	}
	f->hooks.record(f->ctx, key, m->payload, m->len, p, m->offset);
}

static void follow_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct ctopic_follow *f = opaque;
	char client[300];
	snprintf(client, sizeof(client), "follow:%s", f->topic); /* a process may follow several */
	(void)kafka_errlog_once(&f->errlog, "kafka_error", client,
	                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason, clock_mono_ms());
}

static void drain(struct ctopic_follow *f)
{
	rd_kafka_message_t *batch[256];
	ssize_t n;
	while ((n = rd_kafka_consume_batch_queue(f->q, 0, batch, 256)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			handle(f, batch[i]);
			rd_kafka_message_destroy(batch[i]);
		}
	}
}

static void on_queue(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	drain(arg);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ctopic_follow *f = arg;
	/* not rd_kafka_poll(): after rd_kafka_poll_set_consumer() it serves the consumer
	 * queue with the main queue's callback, which asserts on a fetched message
	 * (rd_kafka_q_serve: res != RD_KAFKA_OP_RES_PASS, seen with 10k announcements);
	 * the consumer queue carries the errors and events too */
	drain(f);
}

static int start_partitions(struct ctopic_follow *f, int32_t n)
{
	f->parts = calloc((size_t)n, sizeof(*f->parts));
	if (f->parts == NULL) {
		return ZX_ENOMEM;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
	if (l == NULL) {
		return ZX_ENOMEM;
	}
	for (int32_t p = 0; p < n; p++) {
		f->parts[p].next = -1;
		rd_kafka_topic_partition_list_add(l, f->topic, p)->offset =
			f->hooks.from_end ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
	}
	f->nparts = n;
	f->st.partitions = n;
	rd_kafka_resp_err_t e = rd_kafka_assign(f->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		log_error("topic_follow_failed", "topic=%s error=%s", f->topic, rd_kafka_err2str(e));
		return ZX_EKAFKA;
	}
	return 0;
}

static void on_found(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct ctopic_follow *f = arg;
	int32_t n;
	while (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n)) {
		if (n < 0) {
			if (!f->st.topic_missing) {
				log_warn("topic_missing", "topic=%s", f->topic);
			}
			f->st.topic_missing = true;
			continue;
		}
		f->st.topic_missing = false;
		if (f->nparts == 0) {
			log_info("topic_follow", "topic=%s partitions=%d", f->topic, n);
			if (start_partitions(f, n) != 0) {
				f->nparts = 0;
			}
		}
	}
}

int ctopic_follow_new(const struct cfg_kafka *kc, const char *topic, const char *client_id,
                        struct event_base *base, const struct ctopic_hooks *hooks, void *ctx,
                        struct ctopic_follow **out, char *err, size_t errlen)
{
	if (hooks == NULL || hooks->record == NULL) {
		return ZX_EINVAL;
	}
	char group[300];
	snprintf(group, sizeof(group), "zx-follow-%s", client_id != NULL ? client_id : "follow");
	/* group.id only because manual assignment needs one: nothing joins or commits */
	static const char *const own[] = {
		"enable.auto.commit", "false",
		"enable.auto.offset.store", "false",
		"enable.partition.eof", "true",
		"auto.offset.reset", "earliest",
		"fetch.wait.max.ms", "100",
		"topic.metadata.refresh.interval.ms", "10000",
		NULL,
	};
	rd_kafka_conf_t *conf = NULL;
	int rc = kafka_conf_new(kc, client_id, own, &conf, err, errlen);
	if (rc != 0) {
		return rc;
	}
	if (rd_kafka_conf_set(conf, "group.id", group, err, errlen) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		return ZX_ECONFIG;
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb_errors_elsewhere);
	rd_kafka_conf_set_error_cb(conf, follow_error_cb);
	struct ctopic_follow *f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rd_kafka_conf_destroy(conf);
		return ZX_ENOMEM;
	}
	rd_kafka_conf_set_opaque(conf, f);
	f->qpipe[0] = f->qpipe[1] = f->found_pipe[0] = f->found_pipe[1] = -1;
	f->hooks = *hooks;
	f->ctx = ctx;
	f->topic = strdup(topic);
	f->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
	if (f->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		ctopic_follow_free(f);
		return ZX_EKAFKA;
	}
	rd_kafka_poll_set_consumer(f->rk);
	f->q = rd_kafka_queue_get_consumer(f->rk);
	if (f->topic == NULL || f->q == NULL) {
		ctopic_follow_free(f);
		return ZX_ENOMEM;
	}
	if (pipe2(f->qpipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    pipe2(f->found_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		ctopic_follow_free(f);
		return ZX_EIO;
	}
	rd_kafka_queue_io_event_enable(f->q, f->qpipe[1], "1", 1);
	f->q_ev = event_new(base, f->qpipe[0], EV_READ | EV_PERSIST, on_queue, f);
	f->found_ev = event_new(base, f->found_pipe[0], EV_READ | EV_PERSIST, on_found, f);
	f->tick = event_new(base, -1, EV_PERSIST, on_tick, f);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	if (f->q_ev == NULL || f->found_ev == NULL || f->tick == NULL ||
	    event_add(f->q_ev, NULL) != 0 || event_add(f->found_ev, NULL) != 0 ||
	    event_add(f->tick, &tv) != 0) {
		ctopic_follow_free(f);
		return ZX_ENOMEM;
	}
	if (pthread_create(&f->finder, NULL, finder_main, f) != 0) {
		ctopic_follow_free(f);
		return ZX_ENOMEM;
	}
	f->finder_running = true;
	*out = f;
	return 0;
}

void ctopic_follow_free(struct ctopic_follow *f)
{
	if (f == NULL) {
		return;
	}
	atomic_store(&f->stop, true);
	if (f->finder_running) {
		pthread_join(f->finder, NULL);
	}
	if (f->q_ev != NULL) {
		event_free(f->q_ev);
	}
	if (f->found_ev != NULL) {
		event_free(f->found_ev);
	}
	if (f->tick != NULL) {
		event_free(f->tick);
	}
	if (f->q != NULL) {
		rd_kafka_queue_io_event_enable(f->q, -1, NULL, 0);
		rd_kafka_queue_destroy(f->q);
	}
	if (f->rk != NULL) {
		/* no group joined: closing only stops the fetchers */
		rd_kafka_assign(f->rk, NULL);
		rd_kafka_consumer_close(f->rk);
		rd_kafka_destroy(f->rk);
	}
	for (int i = 0; i < 2; i++) {
		if (f->qpipe[i] >= 0) {
			close(f->qpipe[i]);
		}
		if (f->found_pipe[i] >= 0) {
			close(f->found_pipe[i]);
		}
	}
	free(f->parts);
	free(f->topic);
	free(f);
}

bool ctopic_caught_up(const struct ctopic_follow *f)
{
	return f->st.caught_up;
}

void ctopic_follow_stats(const struct ctopic_follow *f, struct ctopic_stats *out)
{
	*out = f->st;
}

int64_t ctopic_consumed(const struct ctopic_follow *f, int32_t partition)
{
	if (partition < 0 || partition >= f->nparts) {
		return -1;
	}
	return f->parts[partition].next;
}

/* ---- writer ------------------------------------------------------------------ */

struct ctopic_writer {
	rd_kafka_t *rk;
	struct kafka_loop *loop;
	char *topic;
	struct kafka_errlog errlog; /* its client's errors, each logged once */
};

static void writer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct ctopic_writer *w = opaque;
	char client[300];
	snprintf(client, sizeof(client), "write:%s", w->topic);
	(void)kafka_errlog_once(&w->errlog, "kafka_error", client,
	                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason, clock_mono_ms());
}

struct pending {
	ctopic_written_cb cb;
	void *arg;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	struct pending *p = m->_private;
	if (p == NULL) {
		return;
	}
	int rc = kafka_err(m->err);
	p->cb(p->arg, rc, rc == 0 ? m->partition : -1, rc == 0 ? m->offset : -1);
	free(p);
}

int ctopic_writer_new(const struct cfg_kafka *kc, const char *topic, const char *client_id,
                        struct event_base *base, struct ctopic_writer **out, char *err,
                        size_t errlen)
{
	static const char *const own[] = {
		"enable.idempotence", "true",
		"acks", "all",
		"partitioner", "murmur2_random",
		"socket.nagle.disable", "true",
		"linger.ms", "0",
		"message.timeout.ms", "10000",
		NULL,
	};
	rd_kafka_conf_t *conf = NULL;
	int rc = kafka_conf_new(kc, client_id, own, &conf, err, errlen);
	if (rc != 0) {
		return rc;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb_errors_elsewhere);
	rd_kafka_conf_set_error_cb(conf, writer_error_cb);
	struct ctopic_writer *w = calloc(1, sizeof(*w));
	if (w == NULL || (w->topic = strdup(topic)) == NULL) {
		free(w);
		rd_kafka_conf_destroy(conf);
		return ZX_ENOMEM;
	}
	rd_kafka_conf_set_opaque(conf, w);
	w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
	if (w->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		ctopic_writer_free(w);
		return ZX_EKAFKA;
	}
	rc = kafka_loop_new(w->rk, base, &w->loop);
	if (rc != 0) {
		ctopic_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void ctopic_writer_flush(struct ctopic_writer *w, int timeout_ms)
{
	(void)rd_kafka_flush(w->rk, timeout_ms);
}

void ctopic_writer_free(struct ctopic_writer *w)
{
	if (w == NULL) {
		return;
	}
	if (w->rk != NULL) {
		rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(w->rk, 0); /* the purged writes are reported (ZX_ESHUTDOWN) */
	}
	kafka_loop_free(w->loop);
	if (w->rk != NULL) {
		rd_kafka_flush(w->rk, 1000);
		rd_kafka_destroy(w->rk);
	}
	free(w->topic);
	free(w);
}

int ctopic_write(struct ctopic_writer *w, const char *key, const uint8_t *value, size_t len,
                 ctopic_written_cb cb, void *arg)
{
	size_t kl = key != NULL ? strlen(key) : 0;
	if (kl == 0) {
		return ZX_EINVAL;
	}
	struct pending *p = malloc(sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->cb = cb;
	p->arg = arg;
	size_t vlen = value != NULL ? len : 0;
	rd_kafka_resp_err_t e = rd_kafka_producev(
		w->rk, RD_KAFKA_V_TOPIC(w->topic), RD_KAFKA_V_KEY(key, kl),
		RD_KAFKA_V_VALUE((void *)value, vlen),
		RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(p), RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		free(p);
		return kafka_err(e) == ZX_EAGAIN ? ZX_EAGAIN : ZX_EKAFKA;
	}
	return 0;
}
