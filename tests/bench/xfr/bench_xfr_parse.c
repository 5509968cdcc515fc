/* SPDX-License-Identifier: MIT */
/* tests/bench/xfr/bench_xfr_parse.c -- ldns_wire2pkt against our walker on real AXFR messages.
 *
 *   bench_xfr_parse capture HOST PORT ZONE alg:name:secret OUT   save an AXFR's TCP stream
 *   bench_xfr_parse parse ZONE FILE                              time both parsers on it
 *
 * "walker" is the whole xfrstream path the engine runs per message: header and
 * question checks, every RR walked, owner decompressed and lowercased, RDATA
 * decompressed, zone and SOA checks, the callback (empty here). "ldns" is
 * ldns_wire2pkt() + ldns_pkt_free() per message and nothing else.
 */
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "proto/query.h"
#include "proto/xfrstream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int count_rr(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	(void)ev;
	*(uint64_t *)arg += rr->rdlen > 0;
	return 0;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_xfr_parse: %s\n", what);
	return 1;
}

static int capture(char **argv)
{
	uint8_t zone[DNAME_MAXLEN], q[QUERY_MAX + TSIG_RR_MAX];
	size_t qlen = 0;
	char *alg = strtok(argv[4], ":"), *name = strtok(NULL, ":"), *sec = strtok(NULL, "");
	struct tsig_keyring *ring = tsig_keyring_new();
	const struct tsig_key *key = NULL;
	struct tsig_session ts;
	if (dname_from_text(argv[3], zone) < 0 || tsig_keyring_add(ring, name, alg, sec, &key) != 0 ||
	    query_build(q, QUERY_MAX, &qlen, 4242, zone, DNS_T_AXFR, 0, NULL, 0) != 0) {
		return die("bad zone or key");
	}
	tsig_session_init(&ts, key, TSIG_FUDGE_DEFAULT);
	if (tsig_session_sign_request(&ts, q, &qlen, sizeof(q), (uint64_t)time(NULL)) != 0) {
		return die("sign");
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint8_t l2[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || write(fd, l2, 2) != 2 ||
	    write(fd, q, qlen) != (ssize_t)qlen) {
		return die("connect/send");
	}
	FILE *out = fopen(argv[5], "wb");
	static struct xfrstream s;
	uint64_t n = 0;
	struct xfrstream_cfg c = {.zone = zone, .qtype = DNS_T_AXFR, .id = 4242, .cb = count_rr,
	                          .arg = &n};
	static uint8_t msg[65536];
	int rc = xfrstream_init(&s, &c);
	while (rc == 0 && recv(fd, l2, 2, MSG_WAITALL) == 2) {
		size_t len = (size_t)l2[0] << 8 | l2[1];
		if (recv(fd, msg, len, MSG_WAITALL) != (ssize_t)len) {
			break;
		}
		fwrite(l2, 1, 2, out);
		fwrite(msg, 1, len, out);
		rc = xfrstream_feed(&s, msg, len);
	}
	fclose(out);
	close(fd);
	tsig_session_deinit(&ts);
	tsig_keyring_free(ring);
	fprintf(stderr, "captured %llu messages, %llu RRs\n", (unsigned long long)s.messages,
	        (unsigned long long)s.records);
	return rc == 1 ? 0 : die("stream did not complete");
}

static double run_ldns(const uint8_t *p, size_t size, uint64_t *rrs)
{
	double t0 = now_s();
	for (size_t pos = 0; pos + 2 <= size;) {
		size_t len = (size_t)p[pos] << 8 | p[pos + 1];
		ldns_pkt *pkt = NULL;
		if (ldns_wire2pkt(&pkt, p + pos + 2, len) == LDNS_STATUS_OK) {
			*rrs += ldns_pkt_ancount(pkt);
			ldns_pkt_free(pkt);
		}
		pos += 2 + len;
	}
	return now_s() - t0;
}

static double run_walker(const uint8_t *zone, const uint8_t *p, size_t size, uint64_t *rrs)
{
	static struct xfrstream s;
	uint64_t n = 0;
	struct xfrstream_cfg c = {.zone = zone, .qtype = DNS_T_AXFR, .id = 4242, .cb = count_rr,
	                          .arg = &n};
	double t0 = now_s();
	if (xfrstream_init(&s, &c) != 0) {
		return -1;
	}
	for (size_t pos = 0; pos + 2 <= size;) {
		size_t len = (size_t)p[pos] << 8 | p[pos + 1];
		if (xfrstream_feed(&s, p + pos + 2, len) < 0) {
			return -1;
		}
		pos += 2 + len;
	}
	double t = now_s() - t0;
	*rrs = s.records;
	return t;
}

static int parse(char **argv)
{
	uint8_t zone[DNAME_MAXLEN];
	int fd = open(argv[3], O_RDONLY);
	struct stat st;
	if (dname_from_text(argv[2], zone) < 0 || fd < 0 || fstat(fd, &st) != 0) {
		return die("bad zone or file");
	}
	size_t size = (size_t)st.st_size;
	const uint8_t *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	double best_l = 1e9, best_w = 1e9;
	uint64_t rl = 0, rw = 0;
	for (int i = 0; i < 3; i++) {
		rl = 0;
		double l = run_ldns(p, size, &rl), w = run_walker(zone, p, size, &rw);
		best_l = l < best_l ? l : best_l;
		best_w = w >= 0 && w < best_w ? w : best_w;
	}
	printf("ldns_wire2pkt %.3f s (%.2f M RR/s), walker+checks %.3f s (%.2f M RR/s), %.1fx; "
	       "%llu RRs, %.1f MB\n", best_l, (double)rl / best_l / 1e6, best_w,
	       (double)rw / best_w / 1e6, best_l / best_w, (unsigned long long)rw,
	       (double)size / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "capture") == 0) {
		return capture(argv + 1);
	}
	if (argc == 4 && strcmp(argv[1], "parse") == 0) {
		return parse(argv);
	}
	fprintf(stderr, "usage: bench_xfr_parse capture HOST PORT ZONE alg:name:secret OUT\n"
	                "       bench_xfr_parse parse ZONE FILE\n");
	return 2;
}
