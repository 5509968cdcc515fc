/* SPDX-License-Identifier: MIT */
/* tests/unit/common/tsig/tsig_vectors/tsig_vectool.c -- makes the TSIG test vectors with real peers.
 *
 * Not a test: make_vectors.sh runs it against kdig, ldns-notify, knotd and nsd on
 * loopback, and the unit test replays what it wrote, without network.
 *
 *   tsig_vectool respond PORT ALG NAME SECRET OUT
 *       Wait for one UDP request on 127.0.0.1:PORT, write it to OUT, verify it
 *       with common/tsig, answer with a reply signed by common/tsig (so the peer
 *       checks our signature), and write the reply to OUT.
 *   tsig_vectool axfr PORT ZONE ALG NAME SECRET OUT
 *       Send an AXFR request signed by common/tsig to 127.0.0.1:PORT over TCP,
 *       write the unsigned request, its time and every answer message to OUT,
 *       and verify the answer with a tsig_session.
 *   tsig_vectool serve PORT ALG NAME SECRET OUT
 *       Answer one AXFR request over TCP on 127.0.0.1:PORT with three messages
 *       from a server tsig_session: signed, unsigned (tsig_session_pass), signed;
 *       write the request and the messages to OUT. The client (kdig, dig) then
 *       checks the multi-message TSIG with an unsigned message in the middle.
 *
 * OUT is "word value" lines: request/reply/msg values in hex.
 */
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void put_hex(FILE *out, const char *word, const uint8_t *p, size_t n)
{
	fprintf(out, "%s ", word);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%02x", p[i]);
	}
	fprintf(out, "\n");
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static const struct tsig_key *one_key(struct tsig_keyring *ring, char **argv)
{
	const struct tsig_key *key = NULL;
	int rc = tsig_keyring_add(ring, argv[1], argv[0], argv[2], &key);
	if (rc != 0) {
		fprintf(stderr, "key: %s\n", zx_strerror(rc));
		exit(2);
	}
	return key;
}

/* The reply the unit test rebuilds too: the request without its TSIG, QR and AA set. */
static size_t make_reply(const uint8_t *req, size_t tsig_offset, uint8_t *out)
{
	memcpy(out, req, tsig_offset);
	out[2] |= 0x84;                                 /* QR, AA */
	uint16_t ar = (uint16_t)(out[10] << 8 | out[11]) - 1; /* the TSIG goes */
	out[10] = (uint8_t)(ar >> 8);
	out[11] = (uint8_t)ar;
	return tsig_offset;
}

static int respond(int port, char **keyargs, FILE *out)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	(void)one_key(ring, keyargs);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = loopback(port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("bind");
		return 2;
	}
	uint8_t req[65535];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	ssize_t n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fromlen);
	if (n <= 0) {
		perror("recvfrom");
		return 2;
	}
	put_hex(out, "request", req, (size_t)n);
	uint64_t now = (uint64_t)time(NULL);
	struct tsig_request tr;
	int rc = tsig_verify(ring, req, (size_t)n, now, &tr);
	fprintf(out, "our_verify %s\n", rc == 0 ? "ok" : zx_strerror(rc));
	struct tsig_rr rr;
	if (tsig_rr_parse(req, (size_t)n, &rr) != 0) {
		return 1;
	}
	uint8_t reply[65535];
	size_t len = make_reply(req, rr.offset, reply);
	rc = tsig_sign_reply(&tr, reply, &len, sizeof(reply), now);
	if (rc != 0) {
		fprintf(stderr, "sign: %s\n", zx_strerror(rc));
		return 1;
	}
	fprintf(out, "reply_time %llu\n", (unsigned long long)now);
	put_hex(out, "reply", reply, len);
	sendto(fd, reply, len, 0, (struct sockaddr *)&from, fromlen);
	close(fd);
	tsig_keyring_free(ring);
	return 0;
}

static size_t axfr_query(const char *zone, uint8_t *q)
{
	uint8_t name[DNAME_MAXLEN];
	int nlen = dname_from_text(zone, name);
	struct dns_hdr h = {.id = 0x4a58, .qdcount = 1};
	dnsmsg_hdr_write(q, &h);
	memcpy(q + DNS_HDR_LEN, name, (size_t)nlen);
	size_t len = DNS_HDR_LEN + (size_t)nlen;
	q[len++] = 0;
	q[len++] = DNS_T_AXFR;
	q[len++] = 0;
	q[len++] = DNS_C_IN;
	return len;
}

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t got = read(fd, p, n);
		if (got <= 0) {
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* SOA records in the answer section of one message. */
static int count_soa(const uint8_t *msg, size_t len)
{
	struct dns_walk w;
	struct dns_rr rr;
	int n = 0;
	if (dnsmsg_walk_init(&w, msg, len) != 0) {
		return -1;
	}
	while (dnsmsg_walk_rr(&w, &rr) == 1) {
		n += rr.section == DNS_SEC_ANSWER && rr.type == DNS_T_SOA;
	}
	return n;
}

static int axfr(int port, const char *zone, char **keyargs, FILE *out)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	const struct tsig_key *key = one_key(ring, keyargs);
	uint8_t q[512 + TSIG_RR_MAX];
	size_t qlen = axfr_query(zone, q);
	uint64_t now = (uint64_t)time(NULL);
	put_hex(out, "request_unsigned", q, qlen);
	fprintf(out, "request_time %llu\n", (unsigned long long)now);
	struct tsig_session s;
	tsig_session_init(&s, key, TSIG_FUDGE_DEFAULT);
	if (tsig_session_sign_request(&s, q, &qlen, sizeof(q), now) != 0) {
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = loopback(port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		return 2;
	}
	uint8_t pre[2] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
	if (write(fd, pre, 2) != 2 || write(fd, q, qlen) != (ssize_t)qlen) {
		return 2;
	}
	static uint8_t msg[65535];
	int soas = 0;
	int rc = 0;
	while (soas < 2) {
		if (read_full(fd, pre, 2) != 0) {
			fprintf(stderr, "connection closed early\n");
			return 1;
		}
		size_t len = (size_t)(pre[0] << 8 | pre[1]);
		if (read_full(fd, msg, len) != 0) {
			return 1;
		}
		put_hex(out, "msg", msg, len);
		int n = count_soa(msg, len);
		soas += n < 0 ? 2 : n;
		int v = tsig_session_verify(&s, msg, len, (uint64_t)time(NULL));
		rc = rc != 0 ? rc : v;
	}
	int fin = tsig_session_finish(&s);
	fprintf(out, "our_verify %s (%u signed, finish %s)\n", rc == 0 ? "ok" : zx_strerror(rc),
	        s.signed_count, fin == 0 ? "ok" : zx_strerror(fin));
	tsig_session_deinit(&s);
	close(fd);
	tsig_keyring_free(ring);
	return rc != 0 || fin != 0;
}

static void put_rr(struct wire_wr *wr, uint16_t type, const void *rdata, size_t rdlen)
{
	wire_wr_bytes(wr, "\7example\3com", 13);
	wire_wr_u16(wr, type);
	wire_wr_u16(wr, DNS_C_IN);
	wire_wr_u32(wr, 3600);
	wire_wr_u16(wr, (uint16_t)rdlen);
	wire_wr_bytes(wr, rdata, rdlen);
}

static void put_soa(struct wire_wr *wr)
{
	static const uint8_t soa[] = "\2ns\7example\3com\0\5admin\7example\3com\0"
	                             "\x78\x9d\x1e\x01\0\0\x0e\x10\0\0\x03\x84\0\x09\x3a\x80\0\0\x01\x2c";
	put_rr(wr, DNS_T_SOA, soa, sizeof(soa) - 1);
}

/* Message @p i (0, 1, 2) of the three-message answer to request id @p id. */
static size_t serve_msg(int i, uint16_t id, uint8_t *buf, size_t cap)
{
	struct dns_hdr h = {.id = id, .flags = DNS_FLAG_QR | DNS_FLAG_AA, .ancount = 2};
	struct wire_wr wr = wire_wr_init(buf, cap);
	wr.pos += DNS_HDR_LEN;
	if (i == 0) {
		h.qdcount = 1;
		wire_wr_bytes(&wr, "\7example\3com\0\0\xfc\0\1", 17);
		put_soa(&wr);
	}
	if (i == 1) {
		put_rr(&wr, DNS_T_TXT, "\x0funsigned middle", 16);
	}
	put_rr(&wr, DNS_T_A, i == 0 ? "\xc0\0\2\1" : "\xc0\0\2\2", 4);
	if (i == 2) {
		put_soa(&wr);
	}
	dnsmsg_hdr_write(buf, &h);
	return wire_wr_len(&wr);
}

static int send_msg(int fd, const uint8_t *msg, size_t len)
{
	uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	return write(fd, pre, 2) == 2 && write(fd, msg, len) == (ssize_t)len ? 0 : -1;
}

static int accept_one(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	struct sockaddr_in sa = loopback(port);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
		perror("listen");
		return -1;
	}
	int c = accept(fd, NULL, NULL);
	close(fd);
	return c;
}

static int serve(int port, char **keyargs, FILE *out)
{
	struct tsig_keyring *ring = tsig_keyring_new();
	(void)one_key(ring, keyargs);
	int c = accept_one(port);
	uint8_t pre[2];
	static uint8_t req[65535];
	if (c < 0 || read_full(c, pre, 2) != 0 || read_full(c, req, (size_t)(pre[0] << 8 | pre[1])) != 0) {
		return 2;
	}
	size_t rlen = (size_t)(pre[0] << 8 | pre[1]);
	put_hex(out, "request", req, rlen);
	uint64_t now = (uint64_t)time(NULL);
	struct tsig_request tr;
	int rc = tsig_verify(ring, req, rlen, now, &tr);
	fprintf(out, "our_verify %s\nserve_time %llu\n", rc == 0 ? "ok" : zx_strerror(rc),
	        (unsigned long long)now);
	if (rc != 0) {
		return 1;
	}
	struct tsig_session s;
	tsig_session_init_reply(&s, &tr);
	for (int i = 0; i < 3 && rc == 0; i++) {
		uint8_t msg[512 + TSIG_RR_MAX];
		size_t len = serve_msg(i, (uint16_t)(req[0] << 8 | req[1]), msg, 512);
		rc = i == 1 ? tsig_session_pass(&s, msg, len) : tsig_session_sign(&s, msg, &len, sizeof(msg), now);
		put_hex(out, "msg", msg, len);
		rc = rc != 0 ? rc : send_msg(c, msg, len);
	}
	tsig_session_deinit(&s);
	close(c);
	tsig_keyring_free(ring);
	return rc != 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && strcmp(argv[1], "serve") == 0) {
		FILE *out = fopen(argv[6], "w");
		int rc = out == NULL ? 2 : serve(atoi(argv[2]), argv + 3, out);
		if (out != NULL) {
			fclose(out);
		}
		return rc;
	}
	if (argc == 7 && strcmp(argv[1], "respond") == 0) {
		FILE *out = fopen(argv[6], "w");
		int rc = out == NULL ? 2 : respond(atoi(argv[2]), argv + 3, out);
		if (out != NULL) {
			fclose(out);
		}
		return rc;
	}
	if (argc == 8 && strcmp(argv[1], "axfr") == 0) {
		FILE *out = fopen(argv[7], "w");
		int rc = out == NULL ? 2 : axfr(atoi(argv[2]), argv[3], argv + 4, out);
		if (out != NULL) {
			fclose(out);
		}
		return rc;
	}
	fprintf(stderr, "usage: tsig_vectool respond PORT ALG NAME SECRET OUT\n"
	                "       tsig_vectool axfr PORT ZONE ALG NAME SECRET OUT\n"
	                "       tsig_vectool serve PORT ALG NAME SECRET OUT\n");
	return 2;
}
