/* SPDX-License-Identifier: MIT */
/* tests/bed/zxkafka.c -- a Kafka command-line tool for tests: topics, our
 * protobuf events (proto/events.h), consumer-group offsets.
 *
 *   zxkafka create-topic BOOTSTRAP TOPIC PARTITIONS [--compact]
 *       Admin CreateTopics (replication 1; --compact: cleanup.policy=compact, as
 *       the zone registry's topic is made); an existing topic is fine. Returns
 *       once the metadata shows every partition with a leader. Under the mock
 *       cluster (ZX_KAFKA_MOCK_CTL set) through its control FIFO instead.
 *   zxkafka delete-topic BOOTSTRAP TOPIC
 *       Admin DeleteTopics; a missing topic is fine (the mock keeps it).
 *   zxkafka produce-request BOOTSTRAP TOPIC ZONE [SERIAL]
 *   zxkafka produce-update BOOTSTRAP TOPIC ZONE SERIAL
 *       Produce one TransferRequest (origin operator) / ZoneUpdated (committed,
 *       AXFR), keyed by the zone's canonical name, acks=all; prints
 *       "produced partition=P offset=O <event>".
 *   zxkafka produce-zones BOOTSTRAP TOPIC FILE|-
 *       Registry records (proto/registry.proto), one a line of FILE: a zone in the
 *       REST API's JSON form, or "-NAME" for a tombstone; keyed by the canonical
 *       name, acks=all, in order. Prints "produced N tombstones=T". The tests' way to
 *       write the registry without xfrd's API.
 *   zxkafka consume BOOTSTRAP TOPIC --count N --timeout S [--from-beginning]
 *               [--type request|update] [--group G]
 *       Prints "partition=P offset=O key=K <event>" per message, one a line.
 *       Without --group the partitions are assigned (no rebalance wait) and
 *       read from the end (or the beginning); with --group it subscribes and
 *       commits. Exit 0 when N messages came, 1 on timeout.
 *   zxkafka offsets BOOTSTRAP GROUP TOPIC
 *       "partition=P committed=C low=L high=H" per partition (C is -1 when the
 *       group committed nothing there).
 *
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
#include "common/arena.h"
#include "proto/events.h"
#include "proto/registry.h"

#include <librdkafka/rdkafka.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ZXK_TIMEOUT_MS 30000

static void usage(void)
{
	fprintf(stderr,
	        "usage: zxkafka create-topic BOOTSTRAP TOPIC PARTITIONS [--compact]\n"
	        "       zxkafka delete-topic BOOTSTRAP TOPIC\n"
	        "       zxkafka produce-request BOOTSTRAP TOPIC ZONE [SERIAL]\n"
	        "       zxkafka produce-update BOOTSTRAP TOPIC ZONE SERIAL\n"
	        "       zxkafka produce-zones BOOTSTRAP TOPIC FILE|-\n"
	        "       zxkafka consume BOOTSTRAP TOPIC --count N --timeout S [--from-beginning]\n"
	        "               [--type request|update] [--group G]\n"
	        "       zxkafka offsets BOOTSTRAP GROUP TOPIC\n");
}

static bool conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
	char err[256];
	if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "zxkafka: %s=%s: %s\n", key, value, err);
		return false;
	}
	return true;
}

/* A handle of @p type; @p kv is NULL-terminated key/value pairs. */
static rd_kafka_t *handle_new(rd_kafka_type_t type, const char *bootstrap, const char **kv)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	bool ok = conf_set(conf, "bootstrap.servers", bootstrap) &&
	          conf_set(conf, "client.id", "zxkafka") && conf_set(conf, "log_level", "3");
	for (size_t i = 0; ok && kv != NULL && kv[i] != NULL; i += 2) {
		ok = conf_set(conf, kv[i], kv[i + 1]);
	}
	if (!ok) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "zxkafka: rd_kafka_new: %s\n", err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Partitions of @p topic: >0, or 0 when unknown / not all partitions have a leader. */
static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int n = 0;
	if (rkt == NULL || rd_kafka_metadata(rk, 0, rkt, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		goto out;
	}
	if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		n = md->topics[0].partition_cnt;
		for (int i = 0; i < md->topics[0].partition_cnt; i++) {
			if (md->topics[0].partitions[i].leader < 0) {
				n = 0;
			}
		}
	}
	rd_kafka_metadata_destroy(md);
out:
	if (rkt != NULL) {
		rd_kafka_topic_destroy(rkt);
	}
	return n;
}

/* Bounded wait until the topic's metadata is complete; returns its partition count or 0. */
static int wait_topic(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	int n;
	while ((n = topic_partitions(rk, topic)) == 0 && now_ms() < end) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return n;
}

static rd_kafka_resp_err_t create_topic_request(rd_kafka_t *rk, const char *topic, int parts,
                                                bool compact)
{
	char err[256];
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, parts, 1, err, sizeof(err));
	if (nt == NULL) {
		fprintf(stderr, "zxkafka: NewTopic: %s\n", err);
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	}
	if (compact && rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact") != 0) {
		rd_kafka_NewTopic_destroy(nt);
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	}
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ZXK_TIMEOUT_MS);
	rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__TIMED_OUT;
	const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
	if (ev != NULL && rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = rd_kafka_event_error(ev);
		fprintf(stderr, "zxkafka: CreateTopics: %s\n", rd_kafka_event_error_string(ev));
	} else if (res != NULL) {
		size_t cnt = 0;
		const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
		rc = cnt == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
		if (rc != RD_KAFKA_RESP_ERR_NO_ERROR && rc != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			fprintf(stderr, "zxkafka: CreateTopics %s: %s\n", topic,
			        cnt == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
		}
	}
	if (ev != NULL) {
		rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

/* The mock cluster's control FIFO (tests/bed/kafka_mock.c), when the bed runs the mock. */
static const char *mock_ctl(void)
{
	const char *p = getenv("ZX_KAFKA_MOCK_CTL");
	return p != NULL && p[0] != '\0' ? p : NULL;
}

/* Ask the mock to create the topic and wait (5 s) for its answer. */
static rd_kafka_resp_err_t mock_create(const char *topic, int parts)
{
	char reply[] = "/tmp/zxkafka-mock.XXXXXX";
	int fd = mkstemp(reply);
	if (fd < 0) {
		return RD_KAFKA_RESP_ERR__FAIL;
	}
	close(fd);
	unlink(reply);
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
	FILE *f = fopen(mock_ctl(), "w");
	if (f == NULL || fprintf(f, "create %s %d %s\n", topic, parts, reply) < 0) {
		perror(mock_ctl());
		e = RD_KAFKA_RESP_ERR__FAIL;
	}
	if (f != NULL && fclose(f) != 0) {
		e = RD_KAFKA_RESP_ERR__FAIL;
	}
	for (int i = 0; i < 50 && e == RD_KAFKA_RESP_ERR__TIMED_OUT; i++) {
		FILE *r = fopen(reply, "r");
		int v = 0;
		if (r != NULL) {
			e = fscanf(r, "%d", &v) == 1 ? (rd_kafka_resp_err_t)v : RD_KAFKA_RESP_ERR__FAIL;
			fclose(r);
			unlink(reply);
		} else {
			struct timespec ts = {0, 100 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	return e;
}

static int cmd_create_topic(const char *bootstrap, const char *topic, const char *parts_s,
                            bool compact)
{
	int parts = atoi(parts_s);
	if (parts < 1) {
		usage();
		return 2;
	}
	/* A consumer handle: its metadata requests never auto-create the topic. */
	static const char *kv[] = {"allow.auto.create.topics", "false", NULL};
	rd_kafka_t *rk = handle_new(RD_KAFKA_CONSUMER, bootstrap, kv);
	if (rk == NULL) {
		return 1;
	}
	int rc = 1;
	rd_kafka_resp_err_t err = mock_ctl() != NULL ? mock_create(topic, parts)
	                                             : create_topic_request(rk, topic, parts, compact);
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
		int have = wait_topic(rk, topic, ZXK_TIMEOUT_MS);
		if (have > 0) {
			printf("topic %s partitions=%d%s\n", topic, have,
			       err == RD_KAFKA_RESP_ERR_NO_ERROR ? " created" : " exists");
			rc = 0;
		} else {
			fprintf(stderr, "zxkafka: topic %s has no leaders after %d ms\n", topic,
			        ZXK_TIMEOUT_MS);
		}
	}
	rd_kafka_destroy(rk);
	return rc;
}

static int cmd_delete_topic(const char *bootstrap, const char *topic)
{
	if (mock_ctl() != NULL) {
		printf("topic %s kept (the mock cluster cannot delete topics)\n", topic);
		return 0;
	}
	rd_kafka_t *rk = handle_new(RD_KAFKA_PRODUCER, bootstrap, NULL);
	if (rk == NULL) {
		return 1;
	}
	rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ZXK_TIMEOUT_MS);
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
	const rd_kafka_DeleteTopics_result_t *res = ev ? rd_kafka_event_DeleteTopics_result(ev) : NULL;
	if (ev != NULL && rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		e = rd_kafka_event_error(ev);
	} else if (res != NULL) {
		size_t cnt = 0;
		const rd_kafka_topic_result_t **tr = rd_kafka_DeleteTopics_result_topics(res, &cnt);
		e = cnt == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
	}
	if (ev != NULL) {
		rd_kafka_event_destroy(ev);
	}
	rd_kafka_queue_destroy(q);
	rd_kafka_DeleteTopic_destroy(dt);
	rd_kafka_destroy(rk);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		fprintf(stderr, "zxkafka: DeleteTopics %s: %s\n", topic, rd_kafka_err2str(e));
		return 1;
	}
	printf("topic %s deleted\n", topic);
	return 0;
}

/* Canonical zone name: lowercase with the trailing dot. Returned malloc'd. */
static char *canonical_zone(const char *zone)
{
	size_t n = strlen(zone);
	char *s = malloc(n + 2);
	if (s == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		s[i] = (char)tolower((unsigned char)zone[i]);
	}
	if (n == 0 || s[n - 1] != '.') {
		s[n++] = '.';
	}
	s[n] = '\0';
	return s;
}

struct dr_result {
	rd_kafka_resp_err_t err;
	int32_t partition;
	int64_t offset;
	bool done;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	struct dr_result *r = m->_private;
	r->err = m->err;
	r->partition = m->partition;
	r->offset = m->offset;
	r->done = true;
}

/* Produce @p len bytes keyed by @p key; fills @p r from the delivery report. */
static int produce_one(const char *bootstrap, const char *topic, const char *key,
                       const uint8_t *buf, size_t len, struct dr_result *r)
{
	static const char *kv[] = {"acks", "all", "enable.idempotence", "true", NULL};
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	bool ok = conf_set(conf, "bootstrap.servers", bootstrap) &&
	          conf_set(conf, "client.id", "zxkafka") && conf_set(conf, "log_level", "3");
	for (size_t i = 0; ok && kv[i] != NULL; i += 2) {
		ok = conf_set(conf, kv[i], kv[i + 1]);
	}
	rd_kafka_t *rk = ok ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)) : NULL;
	if (rk == NULL) {
		fprintf(stderr, "zxkafka: producer: %s\n", ok ? err : "bad config");
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_resp_err_t e = rd_kafka_producev(
		rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
		RD_KAFKA_V_VALUE((void *)buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		RD_KAFKA_V_OPAQUE(r), RD_KAFKA_V_END);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_flush(rk, ZXK_TIMEOUT_MS);
		e = r->done ? r->err : RD_KAFKA_RESP_ERR__TIMED_OUT;
	}
	rd_kafka_destroy(rk);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "zxkafka: produce to %s: %s\n", topic, rd_kafka_err2str(e));
		return 1;
	}
	return 0;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (s[0] == '\0' || s[0] == '-' || *end != '\0' || v > UINT32_MAX) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

static int cmd_produce(bool update, const char *bootstrap, const char *topic, const char *zone,
                       const char *serial_s)
{
	Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
	Zx__Events__ZoneUpdated up = ZX__EVENTS__ZONE_UPDATED__INIT;
	uint32_t serial = 0;
	if ((serial_s != NULL && !parse_u32(serial_s, &serial)) || (update && serial_s == NULL)) {
		usage();
		return 2;
	}
	char *key = canonical_zone(zone);
	uint8_t *buf = NULL;
	size_t len = 0;
	char text[512];
	int rc = 1;
	if (key == NULL) {
		return 1;
	}
	if (update) {
		up.zone = key;
		up.kind = ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED;
		up.method = ZX__EVENTS__METHOD__METHOD_AXFR;
		up.new_serial = serial;
		up.replica = (char *)"zxkafka";
		up.primary = (char *)"";
		up.committed_us = wall_us();
		up.state = ZX__EVENTS__ZONE_STATE__ZONE_STATE_FRESH;
		rc = events_update_pack(&up, &buf, &len) == 0 ? 0 : 1;
		events_update_str(&up, text, sizeof(text));
	} else {
		req.zone = key;
		req.origin = ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR;
		req.has_serial = serial_s != NULL;
		req.serial = serial;
		req.received_us = wall_us();
		req.producer = (char *)"zxkafka";
		rc = events_request_pack(&req, &buf, &len) == 0 ? 0 : 1;
		events_request_str(&req, text, sizeof(text));
	}
	struct dr_result r = {0};
	if (rc == 0) {
		rc = produce_one(bootstrap, topic, key, buf, len, &r);
	}
	if (rc == 0) {
		printf("produced partition=%" PRId32 " offset=%" PRId64 " %s\n", r.partition, r.offset,
		       text);
	}
	free(buf);
	free(key);
	return rc;
}

/* Delivery reports of produce-zones: failures counted. */
static void on_zone_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		long *failed = m->_private;
		(*failed)++;
		fprintf(stderr, "zxkafka: %.*s: %s\n", (int)m->key_len, (const char *)m->key,
		        rd_kafka_err2str(m->err));
	}
}

static int zone_line(rd_kafka_t *rk, const char *topic, char *line, long *failed, long *tomb)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *key = NULL;
	if (line[0] == '-') {
		key = canonical_zone(line + 1);
		(*tomb)++;
	} else {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		struct arena *mem = arena_new(0);
		Zx__Registry__Zone z;
		struct cfg_problem probs[4];
		size_t n = 0;
		int rc = j == NULL || mem == NULL ? ZX_EFORMAT
		                                  : registry_from_json(j, mem, &z, probs, 4, &n);
		if (rc == 0 && z.name != NULL) {
			key = canonical_zone(z.name);
			z.name = key;
			rc = key == NULL || registry_pack(&z, &buf, &len) != 0 ? ZX_EFORMAT : 0;
		}
		if (rc != 0 || key == NULL) {
			fprintf(stderr, "zxkafka: not a zone: %s (%s)\n", line,
			        j == NULL ? je.text : n > 0 ? probs[0].text : "no name");
		}
		json_decref(j);
		arena_destroy(mem);
		if (rc != 0 || key == NULL) {
			free(key);
			free(buf);
			return 1;
		}
	}
	if (key == NULL) {
		return 1;
	}
	rd_kafka_resp_err_t e;
	while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
	                              RD_KAFKA_V_VALUE(buf, len),
	                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	                              RD_KAFKA_V_OPAQUE(failed), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		rd_kafka_poll(rk, 100);
	}
	free(key);
	free(buf);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "zxkafka: produce: %s\n", rd_kafka_err2str(e));
		return 1;
	}
	rd_kafka_poll(rk, 0);
	return 0;
}

static int cmd_produce_zones(const char *bootstrap, const char *topic, const char *path)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (in == NULL) {
		perror(path);
		return 1;
	}
	static const char *kv[] = {"acks", "all", "enable.idempotence", "true",
	                           "partitioner", "murmur2_random", "linger.ms", "5", NULL};
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set_dr_msg_cb(conf, on_zone_delivery);
	bool ok = conf_set(conf, "bootstrap.servers", bootstrap) &&
	          conf_set(conf, "client.id", "zxkafka") && conf_set(conf, "log_level", "3");
	for (size_t i = 0; ok && kv[i] != NULL; i += 2) {
		ok = conf_set(conf, kv[i], kv[i + 1]);
	}
	rd_kafka_t *rk = ok ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)) : NULL;
	if (rk == NULL) {
		fprintf(stderr, "zxkafka: producer: %s\n", ok ? err : "bad config");
		rd_kafka_conf_destroy(conf);
		if (in != stdin) {
			fclose(in);
		}
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	long n = 0, failed = 0, tomb = 0, bad = 0;
	while ((got = getline(&line, &cap, in)) > 0) {
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) {
			line[--got] = '\0';
		}
		if (got == 0 || line[0] == '#') {
			continue;
		}
		if (zone_line(rk, topic, line, &failed, &tomb) != 0) {
			bad++;
			continue;
		}
		n++;
	}
	free(line);
	if (in != stdin) {
		fclose(in);
	}
	if (rd_kafka_flush(rk, ZXK_TIMEOUT_MS * 4) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "zxkafka: %d records not delivered\n", rd_kafka_outq_len(rk));
		failed++;
	}
	rd_kafka_destroy(rk);
	printf("produced %ld tombstones=%ld failed=%ld bad=%ld\n", n, tomb, failed, bad);
	return failed == 0 && bad == 0 ? 0 : 1;
}

struct consume_opts {
	long count;
	long timeout_s;
	bool from_beginning;
	bool update;
	const char *group;
};

static int parse_consume(int argc, char **argv, struct consume_opts *o)
{
	*o = (struct consume_opts){.count = 1, .timeout_s = 30};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--from-beginning") == 0) {
			o->from_beginning = true;
		} else if (v != NULL && strcmp(a, "--count") == 0) {
			o->count = atol(v);
			i++;
		} else if (v != NULL && strcmp(a, "--timeout") == 0) {
			o->timeout_s = atol(v);
			i++;
		} else if (v != NULL && strcmp(a, "--group") == 0) {
			o->group = v;
			i++;
		} else if (v != NULL && strcmp(a, "--type") == 0 &&
		           (strcmp(v, "request") == 0 || strcmp(v, "update") == 0)) {
			o->update = strcmp(v, "update") == 0;
			i++;
		} else {
			return -1;
		}
	}
	return o->count > 0 && o->timeout_s > 0 ? 0 : -1;
}

static void print_message(const rd_kafka_message_t *m, bool update)
{
	char text[1024];
	const char *what = NULL;
	if (update) {
		Zx__Events__ZoneUpdated *up = NULL;
		if (events_update_unpack(m->payload, m->len, &up) == 0) {
			what = events_update_str(up, text, sizeof(text));
			events_update_free(up);
		}
	} else {
		Zx__Events__TransferRequest *req = NULL;
		if (events_request_unpack(m->payload, m->len, &req) == 0) {
			what = events_request_str(req, text, sizeof(text));
			events_request_free(req);
		}
	}
	printf("partition=%" PRId32 " offset=%" PRId64 " key=%.*s ", m->partition, m->offset,
	       (int)m->key_len, m->key != NULL ? (const char *)m->key : "");
	if (what != NULL) {
		printf("%s\n", what);
	} else {
		printf("undecodable len=%zu\n", m->len);
	}
	fflush(stdout);
}

/* Assign every partition of @p topic at the start or the end (waiting up to
 * @p wait_ms for the topic to appear). */
static int assign_all(rd_kafka_t *rk, const char *topic, bool from_beginning, int wait_ms)
{
	int parts = wait_topic(rk, topic, wait_ms);
	if (parts == 0) {
		fprintf(stderr, "zxkafka: topic %s not found\n", topic);
		return -1;
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
	for (int p = 0; p < parts; p++) {
		rd_kafka_topic_partition_list_add(l, topic, p)->offset =
			from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
	}
	rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static int consume_start(rd_kafka_t *rk, const char *topic, const struct consume_opts *o)
{
	if (o->group == NULL) {
		return assign_all(rk, topic, o->from_beginning, (int)o->timeout_s * 1000);
	}
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static int cmd_consume(const char *bootstrap, const char *topic, int argc, char **argv)
{
	struct consume_opts o;
	if (parse_consume(argc, argv, &o) != 0) {
		usage();
		return 2;
	}
	const char *kv[] = {"group.id", o.group != NULL ? o.group : "zxkafka-assign",
	                    "auto.offset.reset", o.from_beginning ? "earliest" : "latest",
	                    "enable.auto.commit", o.group != NULL ? "true" : "false",
	                    "enable.partition.eof", "false", NULL};
	rd_kafka_t *rk = handle_new(RD_KAFKA_CONSUMER, bootstrap, kv);
	if (rk == NULL) {
		return 1;
	}
	rd_kafka_poll_set_consumer(rk);
	long got = 0;
	if (consume_start(rk, topic, &o) == 0) {
		int64_t end = now_ms() + o.timeout_s * 1000;
		while (got < o.count && now_ms() < end) {
			rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
			if (m == NULL) {
				continue;
			}
			if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
				print_message(m, o.update);
				got++;
			} else {
				fprintf(stderr, "zxkafka: consume: %s\n", rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
		}
	}
	if (o.group != NULL && got > 0) {
		(void)rd_kafka_commit(rk, NULL, 0);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	if (got < o.count) {
		fprintf(stderr, "zxkafka: consumed %ld of %ld within %ld s\n", got, o.count, o.timeout_s);
		return 1;
	}
	return 0;
}

static int cmd_offsets(const char *bootstrap, const char *group, const char *topic)
{
	const char *kv[] = {"group.id", group, "enable.auto.commit", "false", NULL};
	rd_kafka_t *rk = handle_new(RD_KAFKA_CONSUMER, bootstrap, kv);
	if (rk == NULL) {
		return 1;
	}
	int rc = 1;
	int parts = wait_topic(rk, topic, ZXK_TIMEOUT_MS);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts > 0 ? parts : 1);
	for (int p = 0; p < parts; p++) {
		rd_kafka_topic_partition_list_add(l, topic, p);
	}
	rd_kafka_resp_err_t e = parts > 0 ? rd_kafka_committed(rk, l, ZXK_TIMEOUT_MS)
	                                  : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++) {
		int64_t lo = -1;
		int64_t hi = -1;
		e = rd_kafka_query_watermark_offsets(rk, topic, l->elems[i].partition, &lo, &hi,
		                                     ZXK_TIMEOUT_MS);
		printf("partition=%" PRId32 " committed=%" PRId64 " low=%" PRId64 " high=%" PRId64 "\n",
		       l->elems[i].partition, l->elems[i].offset < 0 ? -1 : l->elems[i].offset, lo,
		       hi);
	}
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = 0;
	} else {
		fprintf(stderr, "zxkafka: offsets %s %s: %s\n", group, topic, rd_kafka_err2str(e));
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		usage();
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "create-topic") == 0 &&
	    (argc == 5 || (argc == 6 && strcmp(argv[5], "--compact") == 0))) {
		return cmd_create_topic(argv[2], argv[3], argv[4], argc == 6);
	}
	if (strcmp(cmd, "delete-topic") == 0 && argc == 4) {
		return cmd_delete_topic(argv[2], argv[3]);
	}
	if (strcmp(cmd, "produce-request") == 0 && (argc == 5 || argc == 6)) {
		return cmd_produce(false, argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	}
	if (strcmp(cmd, "produce-update") == 0 && argc == 6) {
		return cmd_produce(true, argv[2], argv[3], argv[4], argv[5]);
	}
	if (strcmp(cmd, "produce-zones") == 0 && argc == 5) {
		return cmd_produce_zones(argv[2], argv[3], argv[4]);
	}
	if (strcmp(cmd, "consume") == 0) {
		return cmd_consume(argv[2], argv[3], argc - 4, argv + 4);
	}
	if (strcmp(cmd, "offsets") == 0 && argc == 5) {
		return cmd_offsets(argv[2], argv[3], argv[4]);
	}
	usage();
	return 2;
}
