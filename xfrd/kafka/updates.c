/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/updates.c -- idempotent rdkafka producer driven by the consumer's event loop. */
#include "xfrd/kafka/updates.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/kafka/kafka.h"
#include "common/kafka/kafka_loop.h"
#include "proto/reqtopic.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct updates {
	struct kafka_errlog errlog; /* its errors, each logged once */
	rd_kafka_t *rk;
	rd_kafka_topic_t *updates, *requests;
	struct kafka_loop *loop;
};

/* Settings on top of the requests topic's contract (proto/reqtopic.h), which
 * the updates topic follows as well (key = zone, murmur2_random, idempotent). */
static const char *const defaults[] = {
	"linger.ms", "20",
	"message.timeout.ms", "30000",
	NULL,
};

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	struct updates *u = opaque;
	(void)kafka_errlog_once(&u->errlog, "kafka_error", "producer",
	                        rd_kafka_err2name((rd_kafka_resp_err_t)err), reason, clock_mono_ms());
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	struct updates_ticket *t = m->_private;
	t->done(t, kafka_err(m->err));
}

/* @p msg_timeout: message.timeout.ms over every other setting; NULL keeps them. */
static int make_client(struct updates *u, const struct cfg_kafka *kc, const char *client_id,
                       const char *msg_timeout, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = NULL;
	int rc = reqtopic_conf_new(kc, client_id, defaults, &conf, err, errlen);
	if (rc == 0 && msg_timeout != NULL) {
		rc = kafka_conf_set(conf, "message.timeout.ms", msg_timeout, err, errlen);
		if (rc != 0) {
			rd_kafka_conf_destroy(conf);
		}
	}
	if (rc != 0) {
		return rc;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb_errors_elsewhere);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_opaque(conf, u);
	u->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
	if (u->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		return ZX_EKAFKA;
	}
	u->updates = rd_kafka_topic_new(u->rk, kc->updates_topic, NULL);
	u->requests = rd_kafka_topic_new(u->rk, kc->requests_topic, NULL);
	if (u->updates == NULL || u->requests == NULL) {
		snprintf(err, errlen, "topic handle: %s", rd_kafka_err2str(rd_kafka_last_error()));
		return ZX_EKAFKA;
	}
	return 0;
}

int updates_new(const struct cfg_kafka *kc, const char *client_id, struct event_base *base,
                struct updates **out, char *err, size_t errlen)
{
	struct updates *u = calloc(1, sizeof(*u));
	if (u == NULL) {
		return ZX_ENOMEM;
	}
	int rc = make_client(u, kc, client_id, NULL, err, errlen);
	if (rc == 0) {
		rc = kafka_loop_new(u->rk, base, &u->loop);
		if (rc != 0) {
			snprintf(err, errlen, "event loop hookup failed");
		}
	}
	if (rc != 0) {
		updates_free(u, 0);
		return rc;
	}
	*out = u;
	return 0;
}

void updates_free(struct updates *u, int flush_ms)
{
	if (u == NULL) {
		return;
	}
	if (u->rk != NULL) {
		rd_kafka_flush(u->rk, flush_ms);
		rd_kafka_purge(u->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(u->rk, 0);
		rd_kafka_flush(u->rk, 100);
		rd_kafka_poll(u->rk, 0);
	}
	kafka_loop_free(u->loop);
	if (u->updates != NULL) {
		rd_kafka_topic_destroy(u->updates);
	}
	if (u->requests != NULL) {
		rd_kafka_topic_destroy(u->requests);
	}
	if (u->rk != NULL) {
		rd_kafka_destroy(u->rk);
	}
	free(u);
}

static int produce(rd_kafka_topic_t *rkt, const char *key, uint8_t *buf, size_t len,
                   struct updates_ticket *t)
{
	if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, buf, len, key,
	                     strlen(key), t) != 0) {
		free(buf);
		int rc = kafka_err(rd_kafka_last_error());
		return rc == ZX_EAGAIN ? rc : ZX_EKAFKA;
	}
	return 0;
}

int updates_send_update(struct updates *u, Zx__Events__ZoneUpdated *ev, struct updates_ticket *t)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = events_update_pack(ev, &buf, &len);
	if (rc != 0) {
		return rc;
	}
	return produce(u->updates, ev->zone, buf, len, t);
}

int updates_send_request(struct updates *u, Zx__Events__TransferRequest *req,
                         struct updates_ticket *t)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = reqtopic_pack(req, &buf, &len);
	if (rc != 0) {
		return rc;
	}
	return produce(u->requests, req->zone, buf, len, t);
}

size_t updates_queued(const struct updates *u)
{
	return (size_t)rd_kafka_outq_len(u->rk);
}

void updates_poll(struct updates *u, int timeout_ms)
{
	rd_kafka_poll(u->rk, timeout_ms);
}
