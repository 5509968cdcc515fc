/* SPDX-License-Identifier: MIT */
/* tests/integration/pipeline/pltool.c -- test helper for the pipeline tests.
 *
 *   pltool produce BOOTSTRAP TOPIC < lines
 *       One TransferRequest (origin NOTIFY) per input line "ZONE [SERIAL]",
 *       keyed by the zone, with the murmur2_random partitioner (as notifyd),
 *       idempotent, acks=all; waits for every delivery. Prints "produced N".
 *   pltool zones STOREDIR
 *       "ZONE SERIAL STATE" per zone of the store (read-only snapshot);
 *       SERIAL is - when not loaded.
 *   pltool partition ZONE COUNT
 *       The partition murmur2_random picks for ZONE among COUNT.
 *
 * Exit: 0 ok, 1 failure, 2 usage. Test code only.
 */
#include "common/dname.h"
#include "common/zdb.h"
#include "proto/events.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static int failed;

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err != 0) {
		fprintf(stderr, "pltool: delivery: %s\n", rd_kafka_err2str(m->err));
		failed++;
	}
}

static rd_kafka_t *producer(const char *boot)
{
	static const char *const kv[] = {"bootstrap.servers", NULL, "enable.idempotence", "true",
	                                 "acks", "all", "partitioner", "murmur2_random",
	                                 "linger.ms", "5", NULL};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	for (int i = 0; kv[i] != NULL; i += 2) {
		if (rd_kafka_conf_set(conf, kv[i], i == 0 ? boot : kv[i + 1], err, sizeof(err)) !=
		    RD_KAFKA_CONF_OK) {
			fprintf(stderr, "pltool: %s\n", err);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_dr_msg_cb(conf, dr);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "pltool: %s\n", err);
	}
	return rk;
}

static int produce_one(rd_kafka_t *rk, const char *topic, char *zone, long serial)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	Zx__Events__TransferRequest req = ZX__EVENTS__TRANSFER_REQUEST__INIT;
	req.zone = zone;
	req.origin = ZX__EVENTS__ORIGIN__ORIGIN_NOTIFY;
	req.has_serial = serial >= 0;
	req.serial = serial >= 0 ? (uint32_t)serial : 0;
	req.received_us = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	req.producer = (char *)"pltool";
	uint8_t *buf = NULL;
	size_t len = 0;
	if (events_request_pack(&req, &buf, &len) != 0) {
		return 1;
	}
	rd_kafka_resp_err_t e;
	while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(zone, strlen(zone)),
	                              RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
	                              RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
		rd_kafka_poll(rk, 10);
	}
	if (e != 0) {
		free(buf);
		fprintf(stderr, "pltool: produce: %s\n", rd_kafka_err2str(e));
		return 1;
	}
	return 0;
}

static int cmd_produce(const char *boot, const char *topic)
{
	rd_kafka_t *rk = producer(boot);
	if (rk == NULL) {
		return 1;
	}
	char line[512];
	long n = 0;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char zone[300];
		long serial = -1;
		int k = sscanf(line, "%299s %ld", zone, &serial);
		if (k < 1) {
			continue;
		}
		size_t zl = strlen(zone);
		if (zl > 0 && zone[zl - 1] != '.') { /* the canonical key ends with a dot */
			zone[zl] = '.';
			zone[zl + 1] = '\0';
		}
		if (produce_one(rk, topic, zone, k == 2 ? serial : -1) != 0) {
			failed++;
			break;
		}
		n++;
		rd_kafka_poll(rk, 0);
	}
	rd_kafka_flush(rk, 30000);
	if (rd_kafka_outq_len(rk) > 0) {
		failed++;
	}
	rd_kafka_destroy(rk);
	printf("produced %ld\n", n);
	return failed == 0 ? 0 : 1;
}

static int print_zone(const struct zdb_zone_info *z, void *arg)
{
	(void)arg;
	char name[DNAME_TEXTLEN];
	static const char *const states[] = {"fresh", "refreshing", "failed", "expired"};
	if (dname_to_text(z->name, name, sizeof(name)) < 0) {
		return 0;
	}
	if (z->loaded) {
		printf("%s %u %s\n", name, z->serial, states[z->state & 3]);
	} else {
		printf("%s - %s\n", name, states[z->state & 3]);
	}
	return 0;
}

static int cmd_zones(const char *dir)
{
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = dir;
	o.readonly = true;
	o.map_size = 0;
	struct zdb *db = NULL;
	struct zdb_snap *s = NULL;
	if (zdb_open(&o, &db) != 0) {
		return 1;
	}
	int rc = zdb_snap_begin(db, &s) == 0 && zdb_zone_list(s, print_zone, NULL) == 0 ? 0 : 1;
	zdb_snap_end(s);
	zdb_close(db);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "produce") == 0) {
		return cmd_produce(argv[2], argv[3]);
	}
	if (argc == 3 && strcmp(argv[1], "zones") == 0) {
		return cmd_zones(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "partition") == 0) {
		const char *z = argv[2];
		printf("%d\n", (int)rd_kafka_msg_partitioner_murmur2(NULL, z, strlen(z),
		                                                     atoi(argv[3]), NULL, NULL));
		return 0;
	}
	fprintf(stderr, "usage: pltool produce BOOTSTRAP TOPIC < \"ZONE [SERIAL]\" lines\n"
	                "       pltool zones STOREDIR\n       pltool partition ZONE COUNT\n");
	return 2;
}
