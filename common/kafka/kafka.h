/* SPDX-License-Identifier: MIT */
/* common/kafka/kafka.h -- the small part of librdkafka setup both daemons share.
 *
 * Builds an rd_kafka_conf_t from the config's kafka section (bootstrap list,
 * client id, then every pass-through property, so an operator can override
 * any default), and maps librdkafka's error codes to ours. It is the one
 * place rd_kafka_resp_err_t becomes a ZX_E* code. It creates no clients: the
 * producer (notifyd/publish.c) and the consumer (xfrd) set their own
 * properties on top.
 *
 * Threading: pure helpers; the conf returned belongs to the caller.
 */
#ifndef ZX_COMMON_KAFKA_H
#define ZX_COMMON_KAFKA_H

#include "common/err.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg_kafka;

/**
 * A librdkafka configuration from the config's kafka section.
 * @param[in]  kc        borrowed
 * @param[in]  client_id "client.id" (the instance or replica name); borrowed; may be NULL
 * @param[in]  defaults  NULL-terminated name, value, name, value... set before
 *                       kc's own settings (so those win); borrowed; may be NULL
 * @param[out] out       returned owned (rd_kafka_conf_destroy(), or handed to
 *                       rd_kafka_new()); untouched on error
 * @param[out] err       on ZX_ECONFIG the property and librdkafka's reason
 * @return 0; ZX_ECONFIG librdkafka rejected a property; ZX_ENOMEM
 */
ZX_MUSTCHECK int kafka_conf_new(const struct cfg_kafka *kc, const char *client_id,
                                const char *const *defaults, rd_kafka_conf_t **out, char *err,
                                size_t errlen);

/**
 * Set one property on @p conf.
 * @return 0; ZX_ECONFIG unknown property or invalid value (reason in @p err)
 */
ZX_MUSTCHECK int kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                                char *err, size_t errlen);

/**
 * For rd_kafka_conf_set_log_cb(): librdkafka's own lines as our "rdkafka" log
 * events (client=producer|consumer facility=... msg=...), its syslog levels
 * mapped to ours. Runs on librdkafka's threads; log_write() is thread-safe.
 */
void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/**
 * For rd_kafka_conf_set_log_cb() of a client that has an error callback: as
 * kafka_log_cb(), but without librdkafka's FAIL and ERROR lines, which repeat what
 * the error callback gets (a broker connection failure is a FAIL line and a
 * _TRANSPORT error; ERROR lines are its errors when no callback is set), so each
 * error is logged once, by the callback, through kafka_errlog_once().
 */
void kafka_log_cb_errors_elsewhere(const rd_kafka_t *rk, int level, const char *fac,
                                   const char *buf);

/** Errors remembered by a struct kafka_errlog (a broker down alternates two or three). */
#define KAFKA_ERRLOG_KEEP 8

/** Repeated-error memory of one client's error callback (zero it to start). */
struct kafka_errlog {
	struct kafka_errlog_entry {
		char error[48];    /**< the error's name; "" unused */
		char reason[256];  /**< its reason without librdkafka's "(after Nms in state S,
		                        N identical error(s) suppressed)" tail */
		uint64_t repeats;  /**< seen again since it was logged, not logged */
		int64_t logged_ms; /**< when it was logged */
	} e[KAFKA_ERRLOG_KEEP];
};

/** An identical error is logged again (with repeats=) at most this often. */
#define KAFKA_ERRLOG_REMIND_MS (5 * 60 * 1000)

/**
 * Log @p error (a name: rd_kafka_err2name(); "" none) / @p reason from an error callback as
 * event @p event (warn, "client= error= reason=" and repeats= when identical ones
 * were held back), unless it is one of the errors logged last (same name and reason,
 * librdkafka's timing tail aside; KAFKA_ERRLOG_KEEP of them) and
 * KAFKA_ERRLOG_REMIND_MS has not passed: then it is only counted. A broker that
 * stays down so gives one line, not one per reconnect.
 * @param now_ms  a monotonic clock, passed in for tests
 * @return true when it was logged
 */
bool kafka_errlog_once(struct kafka_errlog *l, const char *event, const char *client,
                       const char *error, const char *reason, int64_t now_ms);

/**
 * Our code for a librdkafka error.
 * @return 0 for RD_KAFKA_RESP_ERR_NO_ERROR; ZX_ETIMEDOUT for message and
 *         request timeouts; ZX_EAGAIN for a full local queue; ZX_ESHUTDOWN when
 *         the client is being destroyed or the message was purged; ZX_EKAFKA for anything else.
 */
int kafka_err(rd_kafka_resp_err_t e);

#endif
