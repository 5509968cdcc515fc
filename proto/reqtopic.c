/* SPDX-License-Identifier: MIT */
/* proto/reqtopic.c -- the requests topic's contract: settings, partitioner, requests. */
#include "proto/reqtopic.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/kafka/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The contract's own settings: before the producer's and the config's. */
static const char *const contract[] = {
	"enable.idempotence", "true",
	"acks", "all",
	"partitioner", "murmur2_random",
	"socket.nagle.disable", "true",
	NULL,
};

int reqtopic_conf_new(const struct cfg_kafka *kc, const char *client_id, const char *const *own,
                      rd_kafka_conf_t **out, char *err, size_t errlen)
{
	size_t n = 0, m = 0;
	while (contract[n] != NULL) {
		n++;
	}
	while (own != NULL && own[m] != NULL) {
		m++;
	}
	const char **all = calloc(n + m + 1, sizeof(*all));
	if (all == NULL) {
		return ZX_ENOMEM;
	}
	memcpy(all, contract, n * sizeof(*all));
	if (m > 0) {
		memcpy(all + n, own, m * sizeof(*all));
	}
	int rc = kafka_conf_new(kc, client_id, all, out, err, errlen);
	free(all);
	return rc;
}

int32_t reqtopic_partition(const char *zone, int32_t partitions)
{
	if (partitions <= 0) {
		return -1;
	}
	return rd_kafka_msg_partitioner_murmur2(NULL, zone, strlen(zone), partitions, NULL, NULL);
}

void reqtopic_request_init(Zx__Events__TransferRequest *req, const char *zone,
                           Zx__Events__Origin origin, const char *producer)
{
	zx__events__transfer_request__init(req);
	req->zone = (char *)zone;
	req->origin = origin;
	req->received_us = clock_wall_us();
	req->producer = (char *)(producer != NULL ? producer : "");
}

int reqtopic_pack(Zx__Events__TransferRequest *req, uint8_t **out, size_t *len)
{
	size_t zl = req->zone != NULL ? strlen(req->zone) : 0;
	if (zl == 0 || req->zone[zl - 1] != '.') {
		return ZX_EINVAL;
	}
	return events_request_pack(req, out, len);
}

/* ---- one request, waited for ---------------------------------------------- */

struct once {
	bool done;
	int rc;
	struct reqtopic_stored *out;
	char client_err[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct once *o = opaque;
	o->done = true;
	o->rc = kafka_err(m->err);
	o->out->partition = m->partition;
	o->out->offset = m->offset;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(o->out->error, sizeof(o->out->error), "%s", rd_kafka_err2str(m->err));
	}
}

static void on_client_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)err;
	struct once *o = opaque;
	snprintf(o->client_err, sizeof(o->client_err), "%s", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	(void)level;
	(void)fac;
	(void)buf; /* the client's own lines: the error callback says what matters */
}

/* After a timeout with no client error, say whether the topic is missing (a broker
 * with auto.create.topics.enable=false keeps such a message queued). */
static void topic_check(rd_kafka_t *rk, const char *topic, struct once *o)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rkt == NULL) {
		return;
	}
	if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    md->topic_cnt == 1 && md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(o->client_err, sizeof(o->client_err), "topic %s: %s", topic,
		         rd_kafka_err2str(md->topics[0].err));
	}
	if (md != NULL) {
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
}

static rd_kafka_t *once_client(const struct cfg_kafka *kc, const char *client_id, int timeout_ms,
                               struct once *o, int *rc)
{
	char err[400], tmo[32];
	snprintf(tmo, sizeof(tmo), "%d", timeout_ms > 0 ? timeout_ms : 1);
	const char *const own[] = {"message.timeout.ms", tmo, NULL};
	rd_kafka_conf_t *conf = NULL;
	*rc = reqtopic_conf_new(kc, client_id, own, &conf, err, sizeof(err));
	if (*rc != 0) {
		snprintf(o->out->error, sizeof(o->out->error), "kafka settings: %s", err);
		return NULL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_client_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, o);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		snprintf(o->out->error, sizeof(o->out->error), "kafka producer: %s", err);
		*rc = ZX_EKAFKA;
	}
	return rk;
}

int reqtopic_send_once(const struct cfg_kafka *kc, Zx__Events__TransferRequest *req,
                       int timeout_ms, struct reqtopic_stored *out)
{
	*out = (struct reqtopic_stored){.partition = -1, .offset = -1};
	struct once o = {.rc = ZX_ETIMEDOUT, .out = out};
	uint8_t *payload = NULL;
	size_t len = 0;
	int rc = reqtopic_pack(req, &payload, &len);
	if (rc != 0) {
		snprintf(out->error, sizeof(out->error), "request for \"%s\": %s",
		         req->zone != NULL ? req->zone : "", zx_strerror(rc));
		return rc;
	}
	rd_kafka_t *rk = once_client(kc, req->producer, timeout_ms, &o, &rc);
	if (rk == NULL) {
		free(payload);
		return rc;
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(
		rk, RD_KAFKA_V_TOPIC(kc->requests_topic), RD_KAFKA_V_KEY(req->zone, strlen(req->zone)),
		RD_KAFKA_V_VALUE(payload, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
		RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		free(payload);
		snprintf(out->error, sizeof(out->error), "%s", rd_kafka_err2str(e));
		rd_kafka_destroy(rk);
		return ZX_EKAFKA;
	}
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 1) + 5000;
	while (!o.done && clock_mono_ms() < deadline) {
		rd_kafka_poll(rk, 100);
	}
	if (!o.done) {
		rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(rk, 0);
		o.rc = ZX_ETIMEDOUT;
		snprintf(out->error, sizeof(out->error), "no delivery report within %d ms",
		         timeout_ms);
	}
	if (o.rc == ZX_ETIMEDOUT && o.client_err[0] == '\0') {
		topic_check(rk, kc->requests_topic, &o);
	}
	rd_kafka_destroy(rk);
	if (o.rc != 0 && o.client_err[0] != '\0') {
		size_t n = strlen(out->error);
		snprintf(out->error + n, sizeof(out->error) - n, " (%s)", o.client_err);
	}
	if (o.rc != 0 && o.rc != ZX_ETIMEDOUT) {
		o.rc = ZX_EKAFKA;
	}
	return o.rc;
}
