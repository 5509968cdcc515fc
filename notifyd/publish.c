/* SPDX-License-Identifier: MIT */
/* notifyd/publish.c -- rdkafka producer driven by the libevent loop. */
#include "notifyd/publish.h"

#include "common/cfg/cfg.h"
#include "common/kafka/kafka.h"
#include "common/kafka/kafka_loop.h"
#include "proto/reqtopic.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct publish {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	struct kafka_loop *loop;
	publish_done_cb done;
	publish_error_cb on_error;
	void *arg;
};

/* Producer defaults on top of the requests topic's contract (proto/reqtopic.h:
 * idempotent, acks=all, murmur2_random, so xfrd finds a zone's partition); the
 * config's kafka.settings override any of them. linger.ms 2 batches a burst of
 * NOTIFYs into few requests while keeping the answer latency in single milliseconds. */
static const char *const defaults[] = {
	"linger.ms", "2",
	"queue.buffering.max.messages", "200000",
	/* A missing requests topic fails a delivery after 1 s with "Unknown topic or
	 * partition" (said as such: publish_error_cb), rather than waiting the whole
	 * delivery timeout and reading as "Kafka down"; librdkafka's default is 30 s. */
	"topic.metadata.propagation.max.ms", "1000",
	NULL,
};

/* A delivery or a produce failed because the topic does not exist: say so. */
static bool topic_missing(struct publish *p, rd_kafka_resp_err_t err)
{
	if (err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && err != RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
		return false;
	}
	if (p->on_error != NULL) {
		char why[300];
		snprintf(why, sizeof(why), "requests topic %s does not exist (%s)",
		         rd_kafka_topic_name(p->rkt), rd_kafka_err2str(err));
		p->on_error(ZX_ENOENT, why, p->arg);
	}
	return true;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct publish *p = opaque;
	(void)topic_missing(p, m->err);
	p->done(m->_private, kafka_err(m->err), p->arg);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct publish *p = opaque;
	if (p->on_error != NULL) {
		p->on_error(kafka_err((rd_kafka_resp_err_t)err), reason, p->arg);
	}
}

static int build_conf(const struct cfg_kafka *kc, const char *client_id, struct publish *p,
                      rd_kafka_conf_t **out, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = NULL;
	int rc = reqtopic_conf_new(kc, client_id, defaults, &conf, err, errlen);
	if (rc != 0) {
		return rc;
	}
	char tmo[32];
	snprintf(tmo, sizeof(tmo), "%llu", (unsigned long long)kc->delivery_timeout_ms);
	rc = kafka_conf_set(conf, "message.timeout.ms", tmo, err, errlen);
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb_errors_elsewhere); /* error_cb logs those */
	rd_kafka_conf_set_opaque(conf, p);
	*out = conf;
	return 0;
}

int publish_new(const struct cfg_kafka *kc, const char *client_id, struct event_base *base,
                publish_done_cb done, publish_error_cb on_error, void *arg, struct publish **out,
                char *err, size_t errlen)
{
	struct publish *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->done = done;
	p->on_error = on_error;
	p->arg = arg;
	rd_kafka_conf_t *conf = NULL;
	int rc = build_conf(kc, client_id, p, &conf, err, errlen);
	if (rc != 0) {
		free(p);
		return rc;
	}
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
	if (p->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		free(p);
		return ZX_EKAFKA;
	}
	p->rkt = rd_kafka_topic_new(p->rk, kc->requests_topic, NULL);
	if (p->rkt == NULL) {
		snprintf(err, errlen, "topic %s: %s", kc->requests_topic,
		         rd_kafka_err2str(rd_kafka_last_error()));
		publish_free(p);
		return ZX_EKAFKA;
	}
	rc = kafka_loop_new(p->rk, base, &p->loop);
	if (rc != 0) {
		snprintf(err, errlen, "event loop hookup failed");
		publish_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int publish_send(struct publish *p, const char *key, uint8_t *payload, size_t len, void *opaque)
{
	if (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, payload, len, key,
	                     strlen(key), opaque) != 0) {
		rd_kafka_resp_err_t e = rd_kafka_last_error();
		int rc = kafka_err(e);
		return topic_missing(p, e) ? ZX_ENOENT : rc == ZX_EAGAIN ? rc : ZX_EKAFKA;
	}
	return 0;
}

size_t publish_queued(const struct publish *p)
{
	return (size_t)rd_kafka_outq_len(p->rk);
}

int publish_flush(struct publish *p, int timeout_ms)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
	return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : ZX_ETIMEDOUT;
}

void publish_free(struct publish *p)
{
	if (p == NULL) {
		return;
	}
	if (p->rk != NULL) {
		/* Hand every remaining opaque back (as ZX_ESHUTDOWN) before destroying. */
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 0);
		rd_kafka_flush(p->rk, 100);
		rd_kafka_poll(p->rk, 0);
	}
	kafka_loop_free(p->loop);
	if (p->rkt != NULL) {
		rd_kafka_topic_destroy(p->rkt);
	}
	if (p->rk != NULL) {
		rd_kafka_destroy(p->rk);
	}
	free(p);
}
