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
 *   pltool notify-burst PORT < lines
 *       One unsigned NOTIFY (UDP, SOA serial hint) per line "ZONE SERIAL" to
 *       127.0.0.1@PORT, all sent at once; waits up to 5 s for the answers.
 *       Prints "sent=N answered=A noerror=E first_send_us=T0 last_send_us=T1".
 *   pltool latency BOOTSTRAP REQUESTS UPDATES
 *       Reads both topics from the beginning. For each NOTIFY request with a
 *       serial hint, the first COMMITTED event of its zone at that serial or
 *       newer: committed_us - received_us, for commits made by IXFR (a zone's
 *       first load by AXFR is counted apart, as axfr=). Prints the percentiles,
 *       and the span from the first request received to the last such commit.
 *
 * Exit: 0 ok, 1 failure, 2 usage. Test code only.
 */
#include "common/dname.h"
#include "common/store/zdb.h"
#include "common/serial.h"
#include "proto/events.h"

#include "common/wire.h"

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
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
	while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
	                              RD_KAFKA_V_KEY(zone, strlen(zone)), RD_KAFKA_V_VALUE(buf, len),
	                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
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
	static const char *const states[] = {"fresh", "?", "failed", "expired", "removed", "following",
	                                      "behind"}; /* zdb_state */
	if (dname_to_text(z->name, name, sizeof(name)) < 0) {
		return 0;
	}
	if (z->loaded) {
		printf("%s %u %s\n", name, z->serial, states[z->state <= 6 ? z->state : 1]);
	} else {
		printf("%s - %s\n", name, states[z->state <= 6 ? z->state : 1]);
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

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* An unsigned NOTIFY for @p zone with SOA serial @p serial. */
static size_t notify_msg(uint8_t *buf, size_t size, uint16_t id, const char *zone, uint32_t serial)
{
	uint8_t name[DNAME_MAXLEN];
	int n = dname_from_text(zone, name);
	if (n <= 0) {
		return 0;
	}
	struct wire_wr w = wire_wr_init(buf, size);
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, 0x2400); /* opcode NOTIFY, AA */
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, name, (size_t)n);
	wire_wr_u16(&w, 6);
	wire_wr_u16(&w, 1);
	wire_wr_bytes(&w, name, (size_t)n); /* answer: the SOA, owner = zone */
	wire_wr_u16(&w, 6);
	wire_wr_u16(&w, 1);
	wire_wr_u32(&w, 0);
	wire_wr_u16(&w, 22);
	wire_wr_u8(&w, 0); /* mname . */
	wire_wr_u8(&w, 0); /* rname . */
	wire_wr_u32(&w, serial);
	for (int i = 0; i < 4; i++) {
		wire_wr_u32(&w, 3600);
	}
	return w.err != 0 ? 0 : wire_wr_len(&w);
}

static int cmd_burst(int port)
{
	static char zones[20000][300];
	static uint32_t serials[20000];
	static bool answered[20000];
	size_t n = 0;
	char line[512];
	while (n < 20000 && fgets(line, sizeof(line), stdin) != NULL) {
		unsigned long sv = 0;
		if (sscanf(line, "%299s %lu", zones[n], &sv) == 2) {
			serials[n++] = (uint32_t)sv;
		}
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint64_t t0 = now_us(), t1 = t0;
	size_t sent = 0, got = 0, noerror = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t msg[512];
		size_t len = notify_msg(msg, sizeof(msg), (uint16_t)i, zones[i], serials[i]);
		if (len > 0 && sendto(fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
		                   (ssize_t)len) {
			sent++;
		}
		t1 = now_us();
	}
	uint64_t deadline = now_us() + 5000000u;
	while (got < sent && now_us() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0) {
			continue;
		}
		uint8_t in[512];
		ssize_t r = recv(fd, in, sizeof(in), 0);
		if (r >= 12) {
			uint16_t id = (uint16_t)(in[0] << 8 | in[1]);
			if (id < n && !answered[id]) {
				answered[id] = true;
				got++;
				noerror += (in[3] & 0x0f) == 0;
			}
		}
	}
	close(fd);
	printf("sent=%zu answered=%zu noerror=%zu first_send_us=%llu last_send_us=%llu\n", sent,
	       got, noerror, (unsigned long long)t0, (unsigned long long)t1);
	return sent == n && got == sent ? 0 : 1;
}

/* ---- latency ---- */

struct req_s {
	char zone[256];
	uint32_t serial;
	uint64_t t;
};
struct upd_s {
	char zone[256];
	uint32_t serial;
	uint64_t t;
	bool axfr;
};

static rd_kafka_t *reader(const char *boot)
{
	static const char *const kv[] = {"bootstrap.servers", NULL, "group.id", "pltool-latency",
	                                 "enable.partition.eof", "true",
	                                 "enable.auto.commit", "false", NULL};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[256];
	for (int i = 0; kv[i] != NULL; i += 2) {
		if (rd_kafka_conf_set(conf, kv[i], i == 0 ? boot : kv[i + 1], err, sizeof(err)) !=
		    RD_KAFKA_CONF_OK) {
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	return rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
}

/* Every message of @p topic, from the beginning to the current end. */
static int read_all(rd_kafka_t *rk, const char *topic, void (*fn)(const rd_kafka_message_t *))
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, t, &md, 10000) != 0 || md->topic_cnt != 1) {
		return 1;
	}
	int parts = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(t);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
	for (int p = 0; p < parts; p++) {
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	rd_kafka_assign(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	int eof = 0;
	uint64_t deadline = now_us() + 30000000u;
	while (eof < parts && now_us() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
		if (m == NULL) {
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eof++;
		} else if (m->err == 0) {
			fn(m);
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_assign(rk, NULL);
	return eof == parts ? 0 : 1;
}

static struct req_s *reqs;
static size_t nreq;
static struct upd_s *upds;
static size_t nupd;

static void on_req(const rd_kafka_message_t *m)
{
	Zx__Events__TransferRequest *r = NULL;
	if (events_request_unpack(m->payload, m->len, &r) != 0) {
		return;
	}
	if (r->origin == ZX__EVENTS__ORIGIN__ORIGIN_NOTIFY && r->has_serial) {
		reqs = realloc(reqs, (nreq + 1) * sizeof(*reqs));
		snprintf(reqs[nreq].zone, sizeof(reqs[nreq].zone), "%s", r->zone);
		reqs[nreq].serial = r->serial;
		reqs[nreq++].t = r->received_us;
	}
	events_request_free(r);
}

static void on_upd(const rd_kafka_message_t *m)
{
	Zx__Events__ZoneUpdated *u = NULL;
	if (events_update_unpack(m->payload, m->len, &u) != 0) {
		return;
	}
	if (u->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED) {
		upds = realloc(upds, (nupd + 1) * sizeof(*upds));
		snprintf(upds[nupd].zone, sizeof(upds[nupd].zone), "%s", u->zone);
		upds[nupd].serial = u->new_serial;
		upds[nupd].axfr = u->method == ZX__EVENTS__METHOD__METHOD_AXFR;
		upds[nupd++].t = u->committed_us;
	}
	events_update_free(u);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmd_latency(const char *boot, const char *rtopic, const char *utopic)
{
	rd_kafka_t *rk = reader(boot);
	if (rk == NULL || read_all(rk, rtopic, on_req) != 0 || read_all(rk, utopic, on_upd) != 0) {
		fprintf(stderr, "pltool: cannot read the topics\n");
		return 1;
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	uint64_t *lat = calloc(nreq + 1, sizeof(*lat));
	size_t k = 0, missing = 0, axfr = 0;
	uint64_t first = UINT64_MAX, last = 0;
	for (size_t i = 0; i < nreq; i++) {
		size_t j = 0;
		for (; j < nupd; j++) {
			if (strcmp(upds[j].zone, reqs[i].zone) == 0 &&
			    !serial_newer(reqs[i].serial, upds[j].serial) &&
			    upds[j].t >= reqs[i].t) {
				break;
			}
		}
		if (j == nupd) {
			missing++;
			continue;
		}
		if (upds[j].axfr) {
			axfr++;
			continue;
		}
		lat[k++] = upds[j].t - reqs[i].t;
		first = reqs[i].t < first ? reqs[i].t : first;
		last = upds[j].t > last ? upds[j].t : last;
	}
	qsort(lat, k, sizeof(*lat), cmp_u64);
	if (k == 0) {
		printf("samples=0 missing=%zu axfr=%zu\n", missing, axfr);
		return 1;
	}
	printf("samples=%zu missing=%zu axfr=%zu p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "span_ms=%.1f first_us=%llu last_us=%llu\n", k, missing, axfr,
	       (double)lat[k / 2] / 1000.0, (double)lat[k * 9 / 10] / 1000.0,
	       (double)lat[k * 99 / 100] / 1000.0, (double)lat[k - 1] / 1000.0,
	       (double)(last - first) / 1000.0, (unsigned long long)first,
	       (unsigned long long)last);
	free(lat);
	return missing == 0 ? 0 : 1;
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
	if (argc == 3 && strcmp(argv[1], "notify-burst") == 0) {
		return cmd_burst(atoi(argv[2]));
	}
	if (argc == 5 && strcmp(argv[1], "latency") == 0) {
		return cmd_latency(argv[2], argv[3], argv[4]);
	}
	fprintf(stderr, "usage: pltool produce BOOTSTRAP TOPIC < \"ZONE [SERIAL]\" lines\n"
	                "       pltool zones STOREDIR\n       pltool partition ZONE COUNT\n"
	                "       pltool notify-burst PORT < \"ZONE SERIAL\" lines\n"
	                "       pltool latency BOOTSTRAP REQUESTS UPDATES\n");
	return 2;
}
