/* SPDX-License-Identifier: MIT */
/* common/kafka/kafka.c -- librdkafka configuration and error mapping. */
#include "common/kafka/kafka.h"

#include "common/cfg/cfg.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                   size_t errlen)
{
	char why[256];
	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		if (errlen > 0) {
			snprintf(err, errlen, "kafka property %s=%s: %s", name, value, why);
		}
		return ZX_ECONFIG;
	}
	return 0;
}

int kafka_conf_new(const struct cfg_kafka *kc, const char *client_id, const char *const *defaults,
                   rd_kafka_conf_t **out, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (conf == NULL) {
		return ZX_ENOMEM;
	}
	int rc = 0;
	if (kc->brokers != NULL) {
		rc = kafka_conf_set(conf, "bootstrap.servers", kc->brokers, err, errlen);
	}
	if (rc == 0 && client_id != NULL) {
		rc = kafka_conf_set(conf, "client.id", client_id, err, errlen);
	}
	for (size_t i = 0; rc == 0 && defaults != NULL && defaults[i] != NULL; i += 2) {
		rc = kafka_conf_set(conf, defaults[i], defaults[i + 1], err, errlen);
	}
	for (size_t i = 0; rc == 0 && i < kc->settings_count; i++) {
		rc = kafka_conf_set(conf, kc->settings[i].name, kc->settings[i].value, err, errlen);
	}
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	char q[1024];
	enum log_level lvl = level <= 3 ? LOG_LVL_ERROR : level <= 4 ? LOG_LVL_WARN
	                     : level <= 6 ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	log_write(lvl, "rdkafka", "client=%s facility=%s msg=%s",
	          rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? "producer" : "consumer", fac,
	          log_quote(buf, q, sizeof(q)));
}

void kafka_log_cb_errors_elsewhere(const rd_kafka_t *rk, int level, const char *fac,
                                   const char *buf)
{
	if (strcmp(fac, "FAIL") == 0 || strcmp(fac, "ERROR") == 0) {
		return; /* the error callback logs it (kafka_errlog_once()) */
	}
	kafka_log_cb(rk, level, fac, buf);
}

bool kafka_errlog_once(struct kafka_errlog *l, const char *event, const char *client,
                       const char *error, const char *reason, int64_t now_ms)
{
	char r[sizeof(l->e[0].reason)], q[512];
	snprintf(r, sizeof(r), "%s", reason != NULL ? reason : "");
	char *tail = strstr(r, " (after ");
	if (tail != NULL) {
		*tail = '\0'; /* "(after 0ms in state CONNECT, 1 identical error(s) suppressed)" */
	}
	struct kafka_errlog_entry *e = NULL, *oldest = &l->e[0];
	for (size_t i = 0; i < KAFKA_ERRLOG_KEEP && e == NULL; i++) {
		if (l->e[i].error[0] != '\0' && strcmp(l->e[i].error, error) == 0 &&
		    strcmp(l->e[i].reason, r) == 0) {
			e = &l->e[i];
		} else if (l->e[i].logged_ms < oldest->logged_ms) {
			oldest = &l->e[i];
		}
	}
	if (e != NULL && now_ms - e->logged_ms < KAFKA_ERRLOG_REMIND_MS) {
		e->repeats++;
		return false;
	}
	char rep[48] = "";
	if (e != NULL && e->repeats > 0) {
		snprintf(rep, sizeof(rep), " repeats=%llu", (unsigned long long)e->repeats);
	}
	log_warn(event, "client=%s%s%s reason=%s%s", client, error[0] != '\0' ? " error=" : "",
	         error, log_quote(r, q, sizeof(q)), rep);
	if (e == NULL) {
		e = oldest; /* an unused entry (logged_ms 0) or the one logged longest ago */
		snprintf(e->error, sizeof(e->error), "%s", error);
		snprintf(e->reason, sizeof(e->reason), "%s", r);
	}
	e->repeats = 0;
	e->logged_ms = now_ms;
	return true;
}

int kafka_err(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return 0;
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TIMED_OUT:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
		return ZX_ETIMEDOUT;
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return ZX_EAGAIN;
	case RD_KAFKA_RESP_ERR__DESTROY:
	case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
	case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
		return ZX_ESHUTDOWN;
	default:
		return ZX_EKAFKA;
	}
}
