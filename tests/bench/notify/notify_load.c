/* SPDX-License-Identifier: MIT */
/* tests/bench/notify/notify_load.c -- NOTIFY load generator (open loop, fixed rate).
 *
 * Sends TSIG-signed NOTIFYs (with an SOA serial hint) for Z zones z0000.test ...
 * at a fixed rate for D seconds, over UDP from S source addresses
 * (127.0.0.10 + i) or over T TCP connections, matches every reply by ID, checks
 * it is NOERROR and verifies its TSIG (common/tsig, as a real primary would),
 * then reports one key=value line:
 *
 *   rate=... sent=... answered=... bad=... lost=... answered_per_s=... loss_pct=...
 *   p50_us=... p99_us=... p999_us=...
 *
 * Latency is from the send to the reply's arrival. Replies arriving up to 1 s
 * after the last send still count; anything later is lost.
 *
 *   notify_load -p PORT [-a 127.0.0.1] -r RATE -d SECONDS [-z ZONES] [-s SOURCES]
 *               [-T TCP_CONNS] [-L TRACE_FILE] -k NAME:SECRET_BASE64   (hmac-sha256)
 *
 * -L writes one line per reply, "send_ms latency_us" (send time from the start), to
 * see when the slow replies happen.
 */
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "common/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define BATCH 64
#define MSG_MAX 512
#define TICK_NS 200000u /* the generator's shortest sleep */

struct slot {
	bool busy;
	uint64_t t0_ns;
	struct tsig_session sess;
};

struct tcpc {
	int fd;
	uint8_t in[65536 + 2];
	size_t in_len;
};

struct gen {
	const char *addr;
	int port, zones, sources, tcp;
	double rate, secs;
	const struct tsig_key *key;
	int fds[MAX_SOCKS];
	int nfds;
	struct tcpc tc[MAX_SOCKS];
	struct slot *slots; /* by DNS ID */
	uint16_t next_id;
	uint64_t sent, answered, bad, lost_overwrite;
	uint32_t *lat;
	size_t nlat, caplat;
	uint32_t serial;
	FILE *trace;      /* -L: one "send_ms latency_us" line per reply */
	uint64_t start_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static int open_socks(struct gen *g)
{
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->port)};
	inet_pton(AF_INET, g->addr, &dst.sin_addr);
	int n = g->tcp > 0 ? g->tcp : g->sources;
	for (int i = 0; i < n && i < MAX_SOCKS; i++) {
		int fd = socket(AF_INET, g->tcp > 0 ? SOCK_STREAM : SOCK_DGRAM, 0);
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7f00000au + (uint32_t)(i % g->sources));
		int big = 4 << 20, one = 1;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) != 0) {
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		if (g->tcp > 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
		    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
			perror("bind/connect");
			return -1;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		g->fds[g->nfds] = fd;
		g->tc[g->nfds].fd = fd;
		g->nfds++;
	}
	return 0;
}

/* One signed NOTIFY for zone @p z into @p buf; returns its length. */
static size_t build(struct gen *g, uint16_t id, int z, uint8_t *buf, struct tsig_session *s)
{
	char name[32];
	uint8_t qn[DNAME_MAXLEN];
	snprintf(name, sizeof(name), "z%04d.test.", z);
	int nl = dname_from_text(name, qn);
	struct wire_wr w = wire_wr_init(buf, MSG_MAX);
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_FLAG_AA));
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, qn, (size_t)nl);
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	wire_wr_u16(&w, 0xc00c);
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	wire_wr_u32(&w, 3600);
	wire_wr_u16(&w, 24);
	wire_wr_u16(&w, 0xc00c);
	wire_wr_u16(&w, 0xc00c);
	wire_wr_u32(&w, g->serial);
	wire_wr_u32(&w, 3600);
	wire_wr_u32(&w, 600);
	wire_wr_u32(&w, 86400);
	wire_wr_u32(&w, 300);
	size_t len = wire_wr_len(&w);
	tsig_session_init(s, g->key, TSIG_FUDGE_DEFAULT);
	if (tsig_session_sign_request(s, buf, &len, MSG_MAX, wall_s()) != 0) {
		fprintf(stderr, "sign failed\n");
		exit(1);
	}
	return len;
}

static struct slot *claim(struct gen *g, uint16_t *id)
{
	*id = g->next_id++;
	struct slot *sl = &g->slots[*id];
	if (sl->busy) { /* 65536 sends ago and never answered */
		tsig_session_deinit(&sl->sess);
		g->lost_overwrite++;
	}
	sl->busy = true;
	return sl;
}

static void send_udp_batch(struct gen *g, int n)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	static struct iovec iov[BATCH];
	static struct mmsghdr mm[BATCH];
	int fdi = (int)(g->sent % (uint64_t)g->nfds);
	for (int i = 0; i < n; i++) {
		uint16_t id;
		struct slot *sl = claim(g, &id);
		size_t len = build(g, id, (int)((g->sent + (uint64_t)i) % (uint64_t)g->zones), bufs[i],
		                   &sl->sess);
		sl->t0_ns = now_ns();
		iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = len};
		mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	int done = sendmmsg(g->fds[fdi], mm, (unsigned)n, 0);
	g->sent += done > 0 ? (uint64_t)done : 0;
	for (int i = done > 0 ? done : 0; i < n; i++) { /* not sent: free the slots */
		uint16_t id = (uint16_t)(bufs[i][0] << 8 | bufs[i][1]);
		tsig_session_deinit(&g->slots[id].sess);
		g->slots[id].busy = false;
	}
}

static void send_tcp_batch(struct gen *g, int n)
{
	uint8_t buf[MSG_MAX + 2];
	for (int i = 0; i < n; i++) {
		struct tcpc *c = &g->tc[g->sent % (uint64_t)g->nfds];
		uint16_t id;
		struct slot *sl = claim(g, &id);
		size_t len = build(g, id, (int)(g->sent % (uint64_t)g->zones), buf + 2, &sl->sess);
		buf[0] = (uint8_t)(len >> 8);
		buf[1] = (uint8_t)len;
		sl->t0_ns = now_ns();
		ssize_t w = send(c->fd, buf, len + 2, MSG_NOSIGNAL);
		if (w != (ssize_t)(len + 2)) {
			fprintf(stderr, "tcp send short (%zd): %s\n", w, strerror(errno));
			exit(1);
		}
		g->sent++;
	}
}

static void on_reply(struct gen *g, const uint8_t *m, size_t len)
{
	uint64_t t1 = now_ns();
	if (len < 12) {
		g->bad++;
		return;
	}
	uint16_t id = (uint16_t)(m[0] << 8 | m[1]);
	struct slot *sl = &g->slots[id];
	if (!sl->busy) {
		g->bad++;
		return;
	}
	int rc = tsig_session_verify(&sl->sess, m, len, wall_s());
	tsig_session_deinit(&sl->sess);
	sl->busy = false;
	if (rc != 0 || (m[3] & 0xf) != 0) {
		g->bad++;
		return;
	}
	g->answered++;
	if (g->nlat < g->caplat) {
		g->lat[g->nlat++] = (uint32_t)((t1 - sl->t0_ns) / 1000u);
		if (g->trace != NULL) {
			fprintf(g->trace, "%.3f %u\n", (double)(sl->t0_ns - g->start_ns) / 1e6,
			        g->lat[g->nlat - 1]);
		}
	}
}

static void recv_udp(struct gen *g, int fd)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	static struct iovec iov[BATCH];
	static struct mmsghdr mm[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = MSG_MAX};
			mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			return;
		}
		for (int i = 0; i < n; i++) {
			on_reply(g, bufs[i], mm[i].msg_len);
		}
	}
}

static void recv_tcp(struct gen *g, struct tcpc *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
		if (r <= 0) {
			return;
		}
		c->in_len += (size_t)r;
		size_t off = 0;
		while (c->in_len - off >= 2) {
			size_t ml = (size_t)c->in[off] << 8 | c->in[off + 1];
			if (c->in_len - off < 2 + ml) {
				break;
			}
			on_reply(g, c->in + off + 2, ml);
			off += 2 + ml;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

/* Wait up to @p timeout_ns for replies, then read every reply that is there. */
static void poll_replies(struct gen *g, uint64_t timeout_ns)
{
	struct pollfd pf[MAX_SOCKS];
	for (int i = 0; i < g->nfds; i++) {
		pf[i] = (struct pollfd){.fd = g->fds[i], .events = POLLIN};
	}
	struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
	                      .tv_nsec = (long)(timeout_ns % 1000000000u)};
	if (ppoll(pf, (nfds_t)g->nfds, &ts, NULL) <= 0) {
		return;
	}
	for (int i = 0; i < g->nfds; i++) {
		if (pf[i].revents & POLLIN) {
			if (g->tcp > 0) {
				recv_tcp(g, &g->tc[i]);
			} else {
				recv_udp(g, g->fds[i]);
			}
		}
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void run(struct gen *g)
{
	uint64_t start = now_ns(), dur = (uint64_t)(g->secs * 1e9);
	g->start_ns = start;
	for (;;) {
		uint64_t t = now_ns() - start;
		if (t >= dur) {
			break;
		}
		uint64_t due = (uint64_t)((double)t / 1e9 * g->rate);
		while (g->sent < due) {
			uint64_t n = due - g->sent;
			int b = n > BATCH ? BATCH : (int)n;
			if (g->tcp > 0) {
				send_tcp_batch(g, b);
			} else {
				send_udp_batch(g, b);
			}
		}
		/* Sleep until the next message is due, but at least TICK_NS: a generator
		 * that spins in poll() takes the CPU the broker needs; sends go out in
		 * bursts of rate * TICK_NS (about 5 at 22,500/s), as a primary's do. */
		uint64_t next_ns = (uint64_t)((double)(g->sent + 1) / g->rate * 1e9);
		t = now_ns() - start;
		uint64_t wait_ns = next_ns > t ? next_ns - t : 0;
		poll_replies(g, wait_ns > TICK_NS ? wait_ns : TICK_NS);
	}
	uint64_t end = now_ns() + 1000000000u;
	while (now_ns() < end && g->answered + g->bad < g->sent) {
		poll_replies(g, 10000000u);
	}
}

static void report(struct gen *g)
{
	qsort(g->lat, g->nlat, sizeof(*g->lat), cmp_u32);
	uint32_t p50 = g->nlat ? g->lat[g->nlat / 2] : 0;
	uint32_t p99 = g->nlat ? g->lat[(size_t)((double)g->nlat * 0.99)] : 0;
	uint32_t p999 = g->nlat ? g->lat[(size_t)((double)g->nlat * 0.999)] : 0;
	uint64_t lost = g->sent - g->answered - g->bad;
	printf("rate=%.0f transport=%s sent=%llu answered=%llu bad=%llu lost=%llu "
	       "answered_per_s=%.0f loss_pct=%.3f p50_us=%u p99_us=%u p999_us=%u\n",
	       g->rate, g->tcp > 0 ? "tcp" : "udp", (unsigned long long)g->sent,
	       (unsigned long long)g->answered, (unsigned long long)g->bad,
	       (unsigned long long)lost, (double)g->answered / g->secs,
	       g->sent ? 100.0 * (double)(g->sent - g->answered) / (double)g->sent : 0.0, p50, p99,
	       p999);
}

static int parse_args(struct gen *g, int argc, char **argv, struct tsig_keyring *ring)
{
	int opt;
	while ((opt = getopt(argc, argv, "a:p:r:d:z:s:T:k:S:L:")) != -1) {
		switch (opt) {
		case 'a': g->addr = optarg; break;
		case 'p': g->port = atoi(optarg); break;
		case 'r': g->rate = atof(optarg); break;
		case 'd': g->secs = atof(optarg); break;
		case 'z': g->zones = atoi(optarg); break;
		case 's': g->sources = atoi(optarg); break;
		case 'T': g->tcp = atoi(optarg); break;
		case 'L':
			if ((g->trace = fopen(optarg, "w")) == NULL) {
				perror(optarg);
				return -1;
			}
			break;
		case 'S': g->serial = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'k': {
			char *c = strchr(optarg, ':');
			if (c == NULL) {
				return -1;
			}
			*c = '\0';
			if (tsig_keyring_add(ring, optarg, "hmac-sha256", c + 1, &g->key) != 0) {
				return -1;
			}
			break;
		}
		default: return -1;
		}
	}
	return g->port > 0 && g->rate > 0 && g->secs > 0 && g->key != NULL ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct gen g = {.addr = "127.0.0.1", .zones = 1000, .sources = 4, .serial = 1};
	struct tsig_keyring *ring = tsig_keyring_new();
	if (ring == NULL || parse_args(&g, argc, argv, ring) != 0) {
		fprintf(stderr, "usage: notify_load -p PORT -r RATE -d SECS -k NAME:SECRET "
		                "[-a ADDR] [-z ZONES] [-s SOURCES] [-T TCPCONNS] [-S SERIAL] "
		                "[-L TRACE_FILE]\n");
		return 2;
	}
	/* IDs from a random start: a message is (ID, zone, second), so two runs within
	 * one second would otherwise send identical signed NOTIFYs, which notifyd
	 * rightly refuses as replays. */
	if (getrandom(&g.next_id, sizeof(g.next_id), 0) != sizeof(g.next_id)) {
		g.next_id = (uint16_t)(getpid() ^ time(NULL));
	}
	g.slots = calloc(65536, sizeof(*g.slots));
	g.caplat = (size_t)(g.rate * g.secs) + 1024;
	g.lat = calloc(g.caplat, sizeof(*g.lat));
	if (g.slots == NULL || g.lat == NULL || open_socks(&g) != 0) {
		return 1;
	}
	run(&g);
	report(&g);
	for (int i = 0; i < 65536; i++) {
		if (g.slots[i].busy) {
			tsig_session_deinit(&g.slots[i].sess);
		}
	}
	free(g.slots);
	free(g.lat);
	tsig_keyring_free(ring);
	if (g.trace != NULL && fclose(g.trace) != 0) {
		perror("trace file");
		return 1;
	}
	return 0;
}
