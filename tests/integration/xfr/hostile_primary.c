/* SPDX-License-Identifier: MIT */
/* tests/integration/xfr/hostile_primary.c -- a fake primary we control, for the
 * failure paths no real primary takes (FIELD-NOTES: none answers IXFR with an
 * error rcode, none resets mid-stream on purpose).
 *
 *   hostile_primary -p PORT [-z ZONE] [-s SERIAL] [-n RECORDS] [-m PER_MESSAGE]
 *                   [-y NAME:ALG:BASE64] [-M MODE[:N]] [-S STALL_SECONDS]
 *
 * Serves ZONE (default example.com.) on 127.0.0.1:PORT, UDP and TCP: SOA
 * queries, AXFR, and IXFR. Version v of the zone is the SOA (serial v), an apex
 * NS, "ns" A, "ver" TXT "v" and RECORDS A records r0..; so IXFR from serial
 * v-k (k <= 16) is k change sets, each swapping the TXT of ver; older serials
 * get the AXFR-style answer. SIGUSR1 adds one to the serial. With -y every
 * answer is TSIG-signed (every message; MODE sparse signs only some).
 *
 * MODE (applies to transfers; SOA queries are answered normally unless said):
 *   normal          behave
 *   reset:N         send N messages, then reset the connection (RST)
 *   stall:N         send N messages, then wait STALL_SECONDS and close
 *   badmac:N        corrupt the TSIG MAC of message N (1-based)
 *   wrongid:N       message N carries another ID
 *   noclose         AXFR/IXFR without the closing SOA, then close
 *   outside         a record outside the zone in the middle
 *   midsoa          AXFR: a second SOA in the middle
 *   wrongq          the question names another zone
 *   rcode:R         IXFR answered with rcode R (1 FORMERR, 2 SERVFAIL, 4 NOTIMP,
 *                   5 REFUSED, 9 NOTAUTH); AXFR served normally
 *   axfrstyle       IXFR answered with the whole zone (AXFR-style)
 *   single          IXFR answered with the single current SOA
 *   baddiff         IXFR deletes a record nobody has
 *   dupadd          IXFR adds a record the zone already holds
 *   sparse          TSIG on the first, every 4th and the last message only
 *   unsignedlast    TSIG on every message but the last
 *   soatc           UDP SOA answers have TC set (forces the TCP retry)
 *   soadrop         UDP SOA queries are ignored (lost)
 *   onequery        a second query on a TCP connection is read, then the
 *                   connection is closed without an answer
 *   oldzone:S       SOA queries say SERIAL, but AXFR and IXFR are answered with the
 *                   whole zone at serial S (a primary gone back in time)
 *   badrdata:K      AXFR (and AXFR-style IXFR) carry one malformed record in the
 *                   middle: K 1 an A of 3 bytes (r-bad A), 2 an MX whose name is cut
 *                   short (mx MX), 3 a TXT whose string runs past its RDATA (txt TXT)
 *   empties         IXFR from any older serial v-k: k change sets that change
 *                   nothing but the serial (no AXFR-style answer however large k)
 *   ixfrstall:N     as stall:N, for IXFR answers only (AXFR is served)
 *
 * Single-threaded; one TCP connection at a time, which serves queries until the
 * client closes it or sends nothing for 100 ms. Test code only.
 */
#include "common/dname.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "common/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG 65535
#define CAP (MAXMSG - TSIG_RR_MAX)

static struct {
	uint8_t zone[DNAME_MAXLEN];
	size_t zlen;
	volatile sig_atomic_t bump;
	uint32_t serial;
	unsigned records, per_msg, stall;
	char mode[32];
	unsigned mode_n;
	struct tsig_keyring *ring;
} g = {.serial = 1, .records = 50, .per_msg = 20, .stall = 30};

/* One answer being written: the current message and its TSIG session. */
struct out {
	int fd;       /* TCP socket, or -1 for UDP */
	int udp;      /* UDP socket */
	const struct sockaddr *peer;
	socklen_t peer_len;
	uint16_t id, qtype;
	bool signing;
	struct tsig_session ts;
	uint8_t msg[MAXMSG + 2];
	struct wire_wr wr;
	unsigned count; /* records in the current message */
	unsigned sent;  /* messages sent */
	int dead;
};

static bool mode_is(const char *m)
{
	return strcmp(g.mode, m) == 0;
}

static void put_name(struct wire_wr *wr, const char *label)
{
	if (label != NULL) {
		wire_wr_u8(wr, (uint8_t)strlen(label));
		wire_wr_bytes(wr, label, strlen(label));
	}
	wire_wr_bytes(wr, g.zone, g.zlen);
}

static void msg_start(struct out *o)
{
	o->wr = wire_wr_init(o->msg + 2, CAP);
	uint16_t id = o->id;
	if (mode_is("wrongid") && o->sent + 1 == g.mode_n) {
		id ^= 0x5555;
	}
	struct dns_hdr h = {.id = id, .flags = DNS_FLAG_QR | DNS_FLAG_AA, .qdcount = 1};
	o->wr.pos += DNS_HDR_LEN;
	dnsmsg_hdr_write(o->msg + 2, &h);
	if (mode_is("wrongq")) {
		static const uint8_t other[] = "\x05other\x04test";
		wire_wr_bytes(&o->wr, other, sizeof(other));
	} else {
		wire_wr_bytes(&o->wr, g.zone, g.zlen);
	}
	wire_wr_u16(&o->wr, o->qtype);
	wire_wr_u16(&o->wr, DNS_C_IN);
	o->count = 0;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static bool sign_this(const struct out *o, bool last)
{
	if (mode_is("sparse")) {
		return o->sent == 0 || last || (o->sent + 1) % 4 == 0;
	}
	if (mode_is("unsignedlast")) {
		return !last || o->sent == 0;
	}
	return true;
}

static void msg_flush(struct out *o, bool last, uint8_t rcode)
{
	if (o->dead) {
		return;
	}
	uint8_t *m = o->msg + 2;
	m[3] = (uint8_t)((m[3] & 0xf0) | rcode);
	m[6] = (uint8_t)(o->count >> 8);
	m[7] = (uint8_t)o->count;
	size_t len = wire_wr_len(&o->wr);
	if (o->signing && sign_this(o, last)) {
		if (tsig_session_sign(&o->ts, m, &len, MAXMSG, (uint64_t)time(NULL)) != 0) {
			fprintf(stderr, "hostile: sign failed\n");
		}
		if (mode_is("badmac") && o->sent + 1 == g.mode_n) {
			m[len - 7] ^= 0xff; /* last MAC byte: before orig id, error, other len */
		}
	} else if (o->signing && tsig_session_pass(&o->ts, m, len) != 0) {
		fprintf(stderr, "hostile: pass failed\n");
	}
	o->sent++;
	if (o->fd < 0) {
		(void)sendto(o->udp, m, len, 0, o->peer, o->peer_len);
		return;
	}
	o->msg[0] = (uint8_t)(len >> 8);
	o->msg[1] = (uint8_t)len;
	send_all(o->fd, o->msg, len + 2);
	bool stall = mode_is("stall") || (mode_is("ixfrstall") && o->qtype == DNS_T_IXFR);
	if ((mode_is("reset") || stall) && o->sent == g.mode_n && !last) {
		o->dead = 1;
		if (stall) {
			sleep(g.stall);
		}
	}
}

/* Append one record; starts a new message when the current one is full. */
static void rr(struct out *o, const char *label, uint16_t type, uint32_t ttl,
               const uint8_t *rdata, size_t rdlen)
{
	if (o->count >= g.per_msg) {
		msg_flush(o, false, 0);
		msg_start(o);
	}
	put_name(&o->wr, label);
	wire_wr_u16(&o->wr, type);
	wire_wr_u16(&o->wr, DNS_C_IN);
	wire_wr_u32(&o->wr, ttl);
	wire_wr_u16(&o->wr, (uint16_t)rdlen);
	wire_wr_bytes(&o->wr, rdata, rdlen);
	o->count++;
}

static void soa(struct out *o, uint32_t serial)
{
	uint8_t rd[DNAME_MAXLEN * 2 + 20];
	struct wire_wr w = wire_wr_init(rd, sizeof(rd));
	put_name(&w, "ns");
	put_name(&w, "hostmaster");
	wire_wr_u32(&w, serial);
	wire_wr_u32(&w, 3600);
	wire_wr_u32(&w, 600);
	wire_wr_u32(&w, 86400);
	wire_wr_u32(&w, 300);
	rr(o, NULL, DNS_T_SOA, 3600, rd, wire_wr_len(&w));
}

static void a_rec(struct out *o, const char *label, unsigned i)
{
	uint8_t ip[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
	rr(o, label, DNS_T_A, 3600, ip, 4);
}

static void ver_txt(struct out *o, uint32_t v)
{
	uint8_t rd[16];
	int n = snprintf((char *)rd + 1, sizeof(rd) - 1, "%u", v);
	rd[0] = (uint8_t)n;
	rr(o, "ver", DNS_T_TXT, 3600, rd, (size_t)n + 1);
}

/* One malformed record (mode badrdata:K), as a broken primary would send it. */
static void bad_rdata(struct out *o)
{
	if (g.mode_n == 1) {
		static const uint8_t a3[] = {10, 0, 1};
		rr(o, "r-bad", DNS_T_A, 3600, a3, sizeof(a3));
	} else if (g.mode_n == 2) {
		static const uint8_t mx[] = {0, 10, 4, 'm', 'a', 'i', 'l', 7, 'e', 'x'};
		rr(o, "mx", DNS_T_MX, 3600, mx, sizeof(mx));
	} else {
		static const uint8_t txt[] = {9, 'h', 'i'};
		rr(o, "txt", DNS_T_TXT, 3600, txt, sizeof(txt));
	}
}

static void body(struct out *o, uint32_t v)
{
	uint8_t ns[DNAME_MAXLEN];
	struct wire_wr w = wire_wr_init(ns, sizeof(ns));
	put_name(&w, "ns");
	rr(o, NULL, DNS_T_NS, 3600, ns, wire_wr_len(&w));
	a_rec(o, "ns", 1);
	ver_txt(o, v);
	for (unsigned i = 0; i < g.records; i++) {
		char label[16];
		snprintf(label, sizeof(label), "r%u", i);
		if (mode_is("outside") && i == g.records / 2) {
			static const uint8_t other[] = "\x01x\x05other\x04test";
			wire_wr_bytes(&o->wr, other, sizeof(other));
			wire_wr_u16(&o->wr, DNS_T_A);
			wire_wr_u16(&o->wr, DNS_C_IN);
			wire_wr_u32(&o->wr, 60);
			wire_wr_u16(&o->wr, 4);
			wire_wr_u32(&o->wr, 0x0a000001);
			o->count++;
		}
		if (mode_is("midsoa") && i == g.records / 2) {
			soa(o, v);
		}
		if (mode_is("badrdata") && i == g.records / 2) {
			bad_rdata(o);
		}
		a_rec(o, label, i);
	}
}

static void answer_axfr(struct out *o, uint32_t v)
{
	if (mode_is("oldzone")) {
		v = g.mode_n;
	}
	soa(o, v);
	body(o, v);
	if (!mode_is("noclose")) {
		soa(o, v);
	}
	msg_flush(o, true, 0);
}

static void answer_ixfr(struct out *o, uint32_t from)
{
	uint32_t v = g.serial;
	uint32_t k = v - from;
	if (mode_is("rcode")) {
		msg_flush(o, true, (uint8_t)g.mode_n);
		return;
	}
	if (mode_is("single") || k == 0) {
		soa(o, v);
		msg_flush(o, true, 0);
		return;
	}
	if (mode_is("axfrstyle") || mode_is("oldzone") || (k > 16 && !mode_is("empties"))) {
		answer_axfr(o, v);
		return;
	}
	if (mode_is("empties")) {
		soa(o, v);
		for (uint32_t s = from; s != v; s++) {
			soa(o, s);
			soa(o, s + 1);
		}
		soa(o, v);
		msg_flush(o, true, 0);
		return;
	}
	soa(o, v);
	for (uint32_t s = from; s != v; s++) {
		soa(o, s);
		ver_txt(o, s);
		if (mode_is("baddiff")) {
			a_rec(o, "nonexistent", 7);
		}
		soa(o, s + 1);
		ver_txt(o, s + 1);
		if (mode_is("dupadd")) {
			a_rec(o, "r0", 0);
		}
	}
	if (!mode_is("noclose")) {
		soa(o, v);
	}
	msg_flush(o, true, 0);
}

/* Read the IXFR query's authority SOA serial. */
static uint32_t ixfr_serial(const uint8_t *q, size_t len)
{
	struct dns_walk w;
	struct dns_rr r;
	if (dnsmsg_walk_init(&w, q, len) != 0) {
		return 0;
	}
	while (dnsmsg_walk_rr(&w, &r) == 1) {
		uint8_t rd[DNAME_MAXLEN * 2 + 20];
		struct dns_soa s;
		int n;
		if (r.section == DNS_SEC_AUTHORITY && r.type == DNS_T_SOA &&
		    (n = dnsmsg_rdata_unpack(&w, &r, rd, sizeof(rd))) > 0 &&
		    dnsmsg_soa_parse(rd, (size_t)n, &s) == 0) {
			return s.serial;
		}
	}
	return 0;
}

static void handle(struct out *o, const uint8_t *q, size_t len)
{
	struct dns_walk w;
	struct dns_question qu;
	if (dnsmsg_walk_init(&w, q, len) != 0 || dnsmsg_walk_question(&w, &qu) != 1) {
		return;
	}
	o->id = w.hdr.id;
	o->qtype = qu.qtype;
	o->sent = 0;
	o->dead = 0;
	o->signing = false;
	if (g.ring != NULL) {
		struct tsig_request req;
		if (tsig_verify(g.ring, q, len, (uint64_t)time(NULL), &req) != 0) {
			fprintf(stderr, "hostile: request TSIG bad\n");
			return; /* no answer: the client times out */
		}
		tsig_session_init_reply(&o->ts, &req);
		o->signing = true;
	}
	if (g.bump) {
		g.serial += (uint32_t)g.bump;
		g.bump = 0;
	}
	msg_start(o);
	if (qu.qtype == DNS_T_SOA) {
		if (o->fd < 0 && mode_is("soatc")) {
			o->msg[2 + 2] |= DNS_FLAG_TC >> 8;
		} else {
			soa(o, g.serial);
		}
		msg_flush(o, true, 0);
	} else if (qu.qtype == DNS_T_AXFR) {
		answer_axfr(o, g.serial);
	} else if (qu.qtype == DNS_T_IXFR) {
		answer_ixfr(o, ixfr_serial(q, len));
	}
	if (o->signing) {
		tsig_session_deinit(&o->ts);
	}
}

static void serve_tcp(struct out *o, int fd)
{
	uint8_t len2[2];
	static uint8_t q[MAXMSG];
	o->fd = fd;
	for (int queries = 0;; queries++) {
		if (recv(fd, len2, 2, MSG_WAITALL) != 2) {
			break;
		}
		size_t n = (size_t)len2[0] << 8 | len2[1];
		if (recv(fd, q, n, MSG_WAITALL) != (ssize_t)n) {
			break;
		}
		if (queries > 0 && mode_is("onequery")) {
			break; /* read, not answered: closed */
		}
		handle(o, q, n);
		/* the next query on this connection must come soon: a real primary's TCP
		   idle timeout, short, so that one idle connection of the client does not
		   block this single-threaded server for long */
		struct timeval idle = {.tv_sec = 0, .tv_usec = 100000};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
		if (o->dead && mode_is("reset")) {
			struct linger l = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			break;
		}
		if (o->dead || mode_is("noclose")) {
			break;
		}
	}
	close(fd);
}

static void on_usr1(int sig)
{
	(void)sig;
	g.bump++;
}

static int listen_on(int type, uint16_t port)
{
	int fd = socket(AF_INET, type, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		perror("hostile: bind");
		exit(1);
	}
	return fd;
}

static void parse_args(int argc, char **argv, uint16_t *port)
{
	int ch;
	const char *zone = "example.com.";
	while ((ch = getopt(argc, argv, "p:z:s:n:m:y:M:S:")) != -1) {
		char *colon;
		switch (ch) {
		case 'p': *port = (uint16_t)atoi(optarg); break;
		case 'z': zone = optarg; break;
		case 's': g.serial = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': g.records = (unsigned)atoi(optarg); break;
		case 'm': g.per_msg = (unsigned)atoi(optarg); break;
		case 'S': g.stall = (unsigned)atoi(optarg); break;
		case 'M':
			snprintf(g.mode, sizeof(g.mode), "%s", optarg);
			if ((colon = strchr(g.mode, ':')) != NULL) {
				*colon = 0;
				g.mode_n = (unsigned)atoi(colon + 1);
			}
			break;
		case 'y': {
			char *name = strtok(optarg, ":"), *alg = strtok(NULL, ":");
			char *sec = strtok(NULL, "");
			g.ring = tsig_keyring_new();
			if (tsig_keyring_add(g.ring, name, alg, sec, NULL) != 0) {
				fprintf(stderr, "hostile: bad key\n");
				exit(2);
			}
			break;
		}
		default:
			exit(2);
		}
	}
	int n = dname_from_text(zone, g.zone);
	if (n < 0 || *port == 0) {
		fprintf(stderr, "usage: hostile_primary -p PORT [options] (see the source)\n");
		exit(2);
	}
	g.zlen = (size_t)n;
}

int main(int argc, char **argv)
{
	uint16_t port = 0;
	static struct out o;
	parse_args(argc, argv, &port);
	signal(SIGUSR1, on_usr1);
	signal(SIGPIPE, SIG_IGN);
	int udp = listen_on(SOCK_DGRAM, port), tcp = listen_on(SOCK_STREAM, port);
	printf("ready port=%u\n", port);
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = {{.fd = udp, .events = POLLIN}, {.fd = tcp, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			continue;
		}
		if (p[0].revents & POLLIN) {
			static uint8_t q[MAXMSG];
			struct sockaddr_storage peer;
			socklen_t pl = sizeof(peer);
			ssize_t n = recvfrom(udp, q, sizeof(q), 0, (struct sockaddr *)&peer, &pl);
			if (n > 0 && !mode_is("soadrop")) {
				o = (struct out){.fd = -1, .udp = udp, .peer = (struct sockaddr *)&peer,
				                 .peer_len = pl};
				handle(&o, q, (size_t)n);
			}
		}
		if (p[1].revents & POLLIN) {
			int fd = accept(tcp, NULL, NULL);
			if (fd >= 0) {
				o = (struct out){.udp = udp};
				serve_tcp(&o, fd);
			}
		}
	}
}
