/* SPDX-License-Identifier: MIT */
/* tests/bench/compare/zxpoll.c -- the one poller of the fair benchmarks (tests/bench/compare.sh).
 *
 * Every daemon of a comparison (zx, Knot, BIND, NSD) is timed by this program and by
 * nothing else, the same way: it asks the daemon's serving endpoint for the SOA of each
 * zone over UDP until every zone answers its target serial, and it samples the
 * daemon's memory and CPU from /proc. One process, no forks, no shell in the loop.
 *
 *   zxpoll -s ADDR@PORT -f ZONES [--t0 EPOCH] [-n ADDR@PORT [-k ALG:NAME:SECRET]
 *          [-R ROUNDS] [-r RATE]] [-m PID]... [-C PID]... [-i MS] [-q QPS] [-w N] [-t SECONDS]
 *          [-M MS] [-o FILE]
 *
 *   -s  the serving endpoint polled (zx: xfrd's DNS endpoint; others: the daemon)
 *   -f  "ZONE SERIAL" lines ("-" = stdin): a zone is served once its SOA answer
 *       carries SERIAL or a newer one (RFC 1982)
 *   --t0  the start of the timing, seconds since the epoch with a fraction (bash's
 *       $EPOCHREALTIME taken just before the daemon was started); default: now, or
 *       the first NOTIFY sent with -n
 *   -n  send one NOTIFY (UDP, SOA serial hint) per zone to this endpoint at the
 *       start, all at once or -r per second; t0 = the first send. Unanswered ones are
 *       sent again a second after a round went out, up to -R rounds (default 5),
 *       while the polling goes on. -k signs them (TSIG,
 *       every algorithm of common/tsig); the answers are matched by ID and zone,
 *       their rcode counted, their TSIG not checked.
 *   -m  a daemon process: it and all its descendants (NSD's forks) are sampled every
 *       -M ms (default 100) on a thread of their own: PSS summed over the processes
 *       (/proc/PID/smaps_rollup), the largest VmHWM, and their CPU (utime + stime,
 *       with reaped children's) from the first to the last sample; repeatable
 *       (zx's notifyd and xfrd)
 *   -C  a process whose CPU is reported apart (other_cpu_ms: the Kafka broker)
 *   -i  least time between two queries for one zone (default 1 ms); -q at most
 *       this many queries a second in all (default 10000); -w at most this many in
 *       flight (default 64: more overflow a busy daemon's default UDP receive buffer,
 *       about 200 small datagrams); a query unanswered for 250 ms is given up and
 *       asked again (a late answer is ignored).
 *       Until the daemon first answers, one query at a time, every -i (a refusal
 *       by the kernel, nothing listening yet, is a "not yet" but no answer).
 *   -t  give up after this many seconds (default 600)
 *   -o  one line per zone: "ZONE SERVED_MS GAP_MS"
 *
 * Resolution. For each zone the serving moment lies between the send of the last
 * query answered with something else (or refused by the kernel: nothing listens
 * yet, seen through IP_RECVERR) and the arrival of the first answer with the
 * target serial; served_ms is that arrival, gap_ms the width of the interval. The
 * moment the last zone became servable lies between the largest lower bound over
 * all zones and t_ms (the largest arrival): res_ms is that width, the resolution of
 * t_ms. With one zone it is about -i plus a round trip plus the time the daemon
 * took to answer; with many zones that all become servable at nearly the same
 * moment it approaches the time one round of queries over them takes (zones / -q).
 * With -n, every zone is asked once before the NOTIFYs go out: one that answers the
 * target already is counted in already= (the figure means nothing then). Without -n,
 * already= counts the zones whose first answer had the target.
 *
 * Output, one key=value line on stdout:
 *   served=N/M t_ms= res_ms= first_ms= p50_ms= already= queries= answers=
 *   refused= timeouts= notify_sent= notify_answered= notify_noerror= notify_lost=
 *   notify_lost_first= notify_rounds= pss_peak_mib= hwm_peak_mib= procs_max=
 *   mem_samples= cpu_ms= other_cpu_ms= poller_cpu_ms= t0=
 * Times are milliseconds from t0 (CLOCK_REALTIME); t0 itself in seconds since the epoch. Exit 0 when every zone was
 * served, 1 on timeout or error, 2 on usage. A benchmark tool, not a test.
 */
#include "common/dname.h"
#include "common/dnsmsg.h"
#include "common/serial.h"
#include "common/tsig/tsig.h"
#include "common/wire.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 4096
#define BATCH 64
#define QUERY_TIMEOUT_NS 250000000ull
#define NOTIFY_ROUND_NS 1000000000ull
#define MAX_PIDS 16
#define SLOT_BITS 12 /* DNS ID = generation (4 bits) | slot (12 bits) */
#define MAX_INFLIGHT (1 << SLOT_BITS)

struct zone {
	uint8_t name[DNAME_MAXLEN];
	size_t name_len;
	char text[300]; /* as given */
	uint32_t target;
	bool done, asked, prechecked;
	uint64_t last_send;    /* send time of the query now out or last out */
	uint64_t last_neg;     /* send time of the last query answered "not yet" */
	uint64_t served;       /* arrival of the first answer with the target */
	uint8_t notify_rcode;  /* 255: no answer yet */
};

struct slot {
	uint32_t zone; /* UINT32_MAX when free */
	uint8_t gen;
	uint64_t sent;
};

/* Memory and CPU sampling, on its own thread (a smaps_rollup read of a big process
 * takes milliseconds: the polling loop must not wait for it). */
struct sampler {
	pid_t pids[MAX_PIDS], other[MAX_PIDS];
	int npids, nother;
	unsigned interval_ms;
	atomic_bool stop;
	pthread_t th;
	uint64_t pss_peak_kib, hwm_peak_kib;
	unsigned procs_max, samples;
	uint64_t cpu_first, cpu_last, other_first, other_last; /* clock ticks */
};

struct poller {
	struct zone *z;
	size_t nz, ndone;
	uint32_t *queue; /* ring of pending zones waiting for their next query */
	uint32_t *order; /* the zones shuffled: the order of the first round */
	size_t qhead, qlen;
	struct slot slots[MAX_INFLIGHT];
	uint32_t *free_slots;
	size_t nfree;
	unsigned inflight_max;
	uint64_t interval_ns, t0, deadline;
	double qps, tokens;
	uint64_t tokens_at;
	int qfd, nfd;
	struct sockaddr_storage srv, ntgt;
	socklen_t srv_len, ntgt_len;
	bool notify;
	unsigned rounds_max, rounds;
	uint64_t round_at;    /* when the last round was all sent */
	uint64_t round_start; /* when the current round began */
	uint64_t round_sent;  /* NOTIFYs sent in the current round */
	size_t ncursor;       /* next zone of the current round (nz: round done) */
	double nrate;         /* -r: NOTIFYs a second within a round; 0 = at once */
	const struct tsig_key *key;
	uint64_t queries, answers, refused, timeouts, already;
	uint64_t notify_sent, notify_answered, notify_noerror, notify_lost_first;
	bool t0_given;
	bool heard; /* the daemon answered a query */
	bool pre;   /* the check before the NOTIFYs: one answer per zone, before t0 */
	size_t nprechecked;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static int parse_endpoint(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *at = strrchr(text, '@');
	if (at == NULL || (size_t)(at - text) >= sizeof(host)) {
		return -1;
	}
	memcpy(host, text, (size_t)(at - text));
	host[at - text] = '\0';
	int port = atoi(at + 1);
	if (port <= 0 || port > 65535) {
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

static int open_udp(const struct sockaddr_storage *to)
{
	int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -1;
	}
	int one = 1, big = 4 << 20;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	/* ICMP port unreachable (nothing listens yet) comes back as an error-queue
	 * entry carrying our query: a "not yet" answer at once instead of a timeout. */
	if (to->ss_family == AF_INET) {
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	} else {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	}
	return fd;
}

/* ---- zones ---- */

static int load_zones(struct poller *p, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 0;
	char line[512], name[300];
	unsigned long serial;
	int rc = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%299s %lu", name, &serial) != 2) {
			continue;
		}
		if (p->nz == cap) {
			cap = cap ? cap * 2 : 1024;
			struct zone *nzs = realloc(p->z, cap * sizeof(*nzs));
			if (nzs == NULL) {
				rc = -1;
				break;
			}
			p->z = nzs;
		}
		struct zone *z = &p->z[p->nz];
		memset(z, 0, sizeof(*z));
		int n = dname_from_text(name, z->name);
		if (n <= 0) {
			fprintf(stderr, "zxpoll: bad zone name %s\n", name);
			rc = -1;
			break;
		}
		z->name_len = (size_t)n;
		snprintf(z->text, sizeof(z->text), "%s", name);
		z->target = (uint32_t)serial;
		z->notify_rcode = 255;
		p->nz++;
	}
	if (f != stdin) {
		fclose(f);
	}
	if (rc == 0 && p->nz == 0) {
		fprintf(stderr, "zxpoll: no zones in %s\n", path);
		rc = -1;
	}
	return rc;
}

static void queue_push(struct poller *p, uint32_t zi)
{
	p->queue[(p->qhead + p->qlen) % p->nz] = zi;
	p->qlen++;
}

/* ---- SOA queries ---- */

static size_t soa_query(uint8_t *buf, uint16_t id, const struct zone *z)
{
	struct wire_wr w = wire_wr_init(buf, 64 + DNAME_MAXLEN);
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, 0); /* QUERY, no RD */
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, z->name, z->name_len);
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	return wire_wr_len(&w);
}

static void refill_tokens(struct poller *p, uint64_t now)
{
	double burst = p->qps / 200.0 > 8 ? p->qps / 200.0 : 8; /* 5 ms worth */
	p->tokens += (double)(now - p->tokens_at) / 1e9 * p->qps;
	if (p->tokens > burst) {
		p->tokens = burst;
	}
	p->tokens_at = now;
}

/* Send the @p n queries prepared in @p mm (slots in @p sis, zones in @p zis) at once. */
static uint64_t flush_queries(struct poller *p, struct mmsghdr *mm, const uint32_t *sis,
                              const uint32_t *zis, int n)
{
	int sent = n > 0 ? sendmmsg(p->qfd, mm, (unsigned)n, 0) : 0;
	sent = sent < 0 ? 0 : sent;
	uint64_t now = now_ns();
	for (int i = 0; i < n; i++) {
		struct slot *s = &p->slots[sis[i]];
		if (i >= sent) { /* send buffer full: the zone goes round again */
			s->zone = UINT32_MAX;
			p->free_slots[p->nfree++] = sis[i];
			queue_push(p, zis[i]);
			continue;
		}
		s->zone = zis[i];
		s->sent = now;
		p->z[zis[i]].last_send = now;
		p->z[zis[i]].asked = true;
		p->queries++;
	}
	return sent < n ? now + 1000000 : 0;
}

/* Send what may go now, in batches of sendmmsg; returns when the next send could be
 * (0: none pending). */
static uint64_t send_queries(struct poller *p, uint64_t now)
{
	static uint8_t bufs[BATCH][64 + DNAME_MAXLEN];
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	uint32_t sis[BATCH], zis[BATCH];
	int n = 0;
	uint64_t next = 0;
	refill_tokens(p, now);
	while (p->qlen > 0) {
		uint32_t zi = p->queue[p->qhead];
		struct zone *z = &p->z[zi];
		uint64_t due = z->asked ? z->last_send + p->interval_ns : 0;
		if (due > now) {
			next = due;
			break;
		}
		/* Until the daemon answers a first query, one probe at a time: a window of
		 * queries to a port nobody reads yet would mostly vanish (the kernel's ICMP
		 * rate limit, 1000/s with a burst of 50, answers few of them; a daemon that
		 * bound its socket but does not read it yet answers none) and each zone
		 * would wait a whole query timeout before it is asked again. */
		unsigned in_flight = p->inflight_max - (unsigned)p->nfree;
		if (p->nfree == 0 || (!p->heard && in_flight > 0)) {
			next = now + 1000000; /* answers or timeouts free slots */
			break;
		}
		if (p->tokens < 1.0) {
			next = now + (uint64_t)((1.0 - p->tokens) / p->qps * 1e9) + 1;
			break;
		}
		uint32_t si = p->free_slots[--p->nfree];
		struct slot *s = &p->slots[si];
		s->gen = (uint8_t)((s->gen + 1) & 0xf);
		s->zone = zi; /* taken: flush_queries() frees it again if it cannot send */
		uint16_t id = (uint16_t)(s->gen << SLOT_BITS | si);
		iov[n] = (struct iovec){.iov_base = bufs[n], .iov_len = soa_query(bufs[n], id, z)};
		mm[n].msg_hdr = (struct msghdr){.msg_iov = &iov[n], .msg_iovlen = 1,
		                                .msg_name = &p->srv, .msg_namelen = p->srv_len};
		sis[n] = si;
		zis[n] = zi;
		n++;
		p->qhead = (p->qhead + 1) % p->nz;
		p->qlen--;
		p->tokens -= 1.0;
		if (n == BATCH || !p->heard) {
			uint64_t w = flush_queries(p, mm, sis, zis, n);
			n = 0;
			if (w != 0) {
				return w;
			}
		}
	}
	uint64_t w = flush_queries(p, mm, sis, zis, n);
	return w != 0 ? w : next;
}

static void slot_free(struct poller *p, uint32_t si)
{
	p->slots[si].zone = UINT32_MAX;
	p->free_slots[p->nfree++] = si;
}

/* The answer's SOA serial for @p z; -1 when it has none. */
static int64_t answer_serial(const uint8_t *m, size_t len, const struct zone *z)
{
	struct dns_walk w;
	struct dns_question q;
	struct dns_rr rr;
	if (dnsmsg_walk_init(&w, m, len) != 0 || dnsmsg_walk_question(&w, &q) != 1 ||
	    !dname_equal(q.name, z->name) || DNS_RCODE(w.hdr.flags) != 0) {
		return -1;
	}
	while (dnsmsg_walk_rr(&w, &rr) == 1 && rr.section == DNS_SEC_ANSWER) {
		uint8_t rd[2 * DNAME_MAXLEN + 20];
		struct dns_soa soa;
		if (rr.type == DNS_T_SOA && dname_equal(rr.owner, z->name)) {
			int n = dnsmsg_rdata_unpack(&w, &rr, rd, sizeof(rd));
			if (n > 0 && dnsmsg_soa_parse(rd, (size_t)n, &soa) == 0) {
				return soa.serial;
			}
		}
	}
	return -1;
}

/* A query of slot @p si ended at @p t: answered with @p serial (-1: not yet / refused). */
static void query_done(struct poller *p, uint32_t si, int64_t serial, uint64_t t)
{
	struct slot *s = &p->slots[si];
	struct zone *z = &p->z[s->zone];
	uint64_t sent = s->sent;
	slot_free(p, si);
	if (z->done) {
		return;
	}
	enum serial_order o = serial < 0 ? SERIAL_UNDEF : serial_cmp((uint32_t)serial, z->target);
	bool hit = o == SERIAL_EQ || o == SERIAL_GT;
	if (p->pre) { /* before the NOTIFYs: one answer per zone, nothing queued again */
		if (!z->prechecked) {
			z->prechecked = true;
			p->nprechecked++;
			if (hit) { /* served before the NOTIFY: the figure would mean nothing */
				z->done = true;
				p->ndone++;
				p->already++;
			}
		}
		return;
	}
	if (hit) {
		z->done = true;
		z->served = t;
		p->ndone++;
		if (z->last_neg == 0 && !p->notify) {
			p->already++;
		}
		return;
	}
	if (sent > z->last_neg) {
		z->last_neg = sent;
	}
	queue_push(p, (uint32_t)(z - p->z));
}

static struct slot *slot_of(struct poller *p, const uint8_t *m, size_t len, uint32_t *si)
{
	if (len < DNS_HDR_LEN) {
		return NULL;
	}
	uint16_t id = (uint16_t)(m[0] << 8 | m[1]);
	*si = id & (MAX_INFLIGHT - 1);
	struct slot *s = &p->slots[*si];
	if (s->zone == UINT32_MAX || s->gen != id >> SLOT_BITS) {
		return NULL; /* given up on already (late), or not ours */
	}
	return s;
}

static void read_answers(struct poller *p)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = MSG_MAX};
			mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int n = recvmmsg(p->qfd, mm, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			return;
		}
		uint64_t t = now_ns();
		for (int i = 0; i < n; i++) {
			uint32_t si;
			struct slot *s = slot_of(p, bufs[i], mm[i].msg_len, &si);
			if (mm[i].msg_len >= DNS_HDR_LEN && (bufs[i][2] & 0x80)) {
				p->heard = true; /* even a late answer: the daemon reads its socket */
			}
			if (s == NULL || !(bufs[i][2] & 0x80)) {
				continue;
			}
			p->answers++;
			query_done(p, si, answer_serial(bufs[i], mm[i].msg_len, &p->z[s->zone]), t);
		}
		if (n < BATCH) {
			return;
		}
	}
}

/* Queries the kernel bounced (ICMP unreachable): nothing listens yet. */
static void read_bounced(struct poller *p)
{
	for (;;) {
		uint8_t buf[MSG_MAX], ctl[512];
		struct iovec v = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl,
		                    .msg_controllen = sizeof(ctl)};
		ssize_t r = recvmsg(p->qfd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (r < 0) {
			break;
		}
		uint32_t si;
		if (slot_of(p, buf, (size_t)r, &si) != NULL) {
			p->refused++;
			if (p->pre) {
				uint32_t zi = p->slots[si].zone;
				slot_free(p, si);
				queue_push(p, zi); /* the daemon must answer before the NOTIFYs */
			} else {
				query_done(p, si, -1, now_ns());
			}
		}
	}
}

static void expire_queries(struct poller *p, uint64_t now)
{
	for (uint32_t si = 0; si < p->inflight_max; si++) {
		struct slot *s = &p->slots[si];
		if (s->zone != UINT32_MAX && now > s->sent && now - s->sent > QUERY_TIMEOUT_NS) {
			uint32_t zi = s->zone;
			slot_free(p, si);
			p->timeouts++;
			if (!p->z[zi].done && !(p->pre && p->z[zi].prechecked)) {
				queue_push(p, zi); /* no information: last_neg stays */
			}
		}
	}
}

/* ---- NOTIFY ---- */

static size_t notify_msg(struct poller *p, uint8_t *buf, uint16_t id, const struct zone *z)
{
	struct wire_wr w = wire_wr_init(buf, MSG_MAX);
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_FLAG_AA));
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, z->name, z->name_len);
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	wire_wr_u16(&w, 0xc00c); /* answer: the zone's SOA with the new serial */
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	wire_wr_u32(&w, 0);
	wire_wr_u16(&w, 24);
	wire_wr_u16(&w, 0xc00c);
	wire_wr_u16(&w, 0xc00c);
	wire_wr_u32(&w, z->target);
	for (int i = 0; i < 4; i++) {
		wire_wr_u32(&w, 3600);
	}
	size_t len = wire_wr_len(&w);
	if (w.err != 0) {
		return 0;
	}
	if (p->key != NULL) {
		struct tsig_session s;
		tsig_session_init(&s, p->key, TSIG_FUDGE_DEFAULT);
		int rc = tsig_session_sign_request(&s, buf, &len, MSG_MAX,
		                                   (uint64_t)time(NULL));
		tsig_session_deinit(&s);
		if (rc != 0) {
			return 0;
		}
	}
	return len;
}

/* Start a round: a NOTIFY for every zone not answered yet, sent by notify_step(). */
static void notify_begin_round(struct poller *p, uint64_t now)
{
	if (p->rounds == 1) {
		p->notify_lost_first = 0;
		for (size_t k = 0; k < p->nz; k++) {
			p->notify_lost_first += p->z[k].notify_rcode == 255;
		}
	}
	p->rounds++;
	p->ncursor = 0;
	p->round_start = now;
	p->round_sent = 0;
}

/* Send the NOTIFYs of the current round that are due (all at once with -r 0, else at
 * -r a second), in batches of sendmmsg. Returns when the next is due (0: round done). */
static uint64_t notify_step(struct poller *p, uint64_t now)
{
	static uint8_t bufs[BATCH][MSG_MAX];
	struct iovec iov[BATCH];
	struct mmsghdr mm[BATCH];
	while (p->ncursor < p->nz) {
		uint64_t allowed = UINT64_MAX;
		if (p->nrate > 0) {
			uint64_t due = (uint64_t)((double)(now - p->round_start) / 1e9 * p->nrate) + 1;
			allowed = due > p->round_sent ? due - p->round_sent : 0;
			if (allowed == 0) {
				return p->round_start +
				       (uint64_t)((double)p->round_sent / p->nrate * 1e9) + 1;
			}
		}
		int n = 0;
		for (; p->ncursor < p->nz && n < BATCH && (uint64_t)n < allowed; p->ncursor++) {
			size_t i = p->ncursor;
			if (p->z[i].notify_rcode != 255) {
				continue;
			}
			size_t len = notify_msg(p, bufs[n], (uint16_t)i, &p->z[i]);
			if (len == 0) {
				continue;
			}
			iov[n] = (struct iovec){.iov_base = bufs[n], .iov_len = len};
			mm[n].msg_hdr = (struct msghdr){.msg_iov = &iov[n], .msg_iovlen = 1,
			                                .msg_name = &p->ntgt,
			                                .msg_namelen = p->ntgt_len};
			n++;
		}
		if (n == 0) {
			break;
		}
		if (p->notify_sent == 0 && !p->t0_given) {
			p->t0 = now_ns(); /* t0 = the first NOTIFY's send */
		}
		int off = 0;
		while (off < n) {
			int sn = sendmmsg(p->nfd, mm + off, (unsigned)(n - off), 0);
			if (sn <= 0) {
				struct pollfd pf = {.fd = p->nfd, .events = POLLOUT};
				(void)poll(&pf, 1, 10);
				continue;
			}
			off += sn;
			p->notify_sent += (uint64_t)sn;
		}
		p->round_sent += (uint64_t)n;
		now = now_ns();
	}
	p->round_at = now; /* the round is out: the next one a second after */
	return 0;
}

static void read_notify_answers(struct poller *p)
{
	uint8_t buf[MSG_MAX];
	for (;;) {
		ssize_t r = recv(p->nfd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0) {
			break;
		}
		if (r < DNS_HDR_LEN || !(buf[2] & 0x80)) {
			continue;
		}
		uint16_t id = (uint16_t)(buf[0] << 8 | buf[1]);
		if (id >= p->nz || p->z[id].notify_rcode != 255) {
			continue;
		}
		struct dns_walk w;
		struct dns_question q;
		if (dnsmsg_walk_init(&w, buf, (size_t)r) != 0 || dnsmsg_walk_question(&w, &q) != 1 ||
		    !dname_equal(q.name, p->z[id].name)) {
			continue;
		}
		p->z[id].notify_rcode = (uint8_t)DNS_RCODE(w.hdr.flags);
		p->notify_answered++;
		p->notify_noerror += p->z[id].notify_rcode == 0;
	}
	/* drain bounced NOTIFYs: they stay unanswered and go again next round */
	uint8_t ctl[512];
	for (;;) {
		struct iovec v = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl,
		                    .msg_controllen = sizeof(ctl)};
		if (recvmsg(p->nfd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			break;
		}
	}
}

/* ---- /proc sampling ---- */

static bool read_field_kib(const char *path, const char *key, uint64_t *out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return false;
	}
	char line[256];
	size_t kl = strlen(key);
	bool found = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0) {
			*out = strtoull(line + kl, NULL, 10);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* utime + stime + cutime + cstime of @p pid in clock ticks; 0 when gone. */
static uint64_t cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		return 0;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 0;
	}
	buf[n] = '\0';
	char *s = strrchr(buf, ')'); /* the command name may hold spaces */
	if (s == NULL) {
		return 0;
	}
	/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt
	 * cmajflt utime(14) stime cutime cstime(17) */
	unsigned long long v[15] = {0};
	int k = 0;
	for (char *tok = strtok(s + 2, " "); tok != NULL && k < 15; tok = strtok(NULL, " ")) {
		v[k++] = strtoull(tok, NULL, 10);
	}
	return k == 15 ? v[11] + v[12] + v[13] + v[14] : 0;
}

/* @p pid and its descendants into @p out (at most @p cap); returns the count. */
static int descendants(pid_t pid, pid_t *out, int n, int cap)
{
	if (n >= cap) {
		return n;
	}
	out[n++] = pid;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (d == NULL) {
		return n;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		char cp[320];
		snprintf(cp, sizeof(cp), "/proc/%d/task/%s/children", (int)pid, e->d_name);
		FILE *f = fopen(cp, "r");
		if (f == NULL) {
			continue;
		}
		int c;
		while (fscanf(f, "%d", &c) == 1) {
			n = descendants((pid_t)c, out, n, cap);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static void sample_once(struct sampler *sm)
{
	pid_t all[256];
	int n = 0;
	for (int i = 0; i < sm->npids; i++) {
		n = descendants(sm->pids[i], all, n, 256);
	}
	uint64_t pss = 0, hwm = 0, cpu = 0;
	unsigned procs = 0;
	for (int i = 0; i < n; i++) {
		char path[64];
		uint64_t v;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)all[i]);
		if (read_field_kib(path, "Pss:", &v)) {
			pss += v;
			procs++;
		}
		snprintf(path, sizeof(path), "/proc/%d/status", (int)all[i]);
		if (read_field_kib(path, "VmHWM:", &v) && v > hwm) {
			hwm = v;
		}
		cpu += cpu_ticks(all[i]);
	}
	uint64_t other = 0;
	for (int i = 0; i < sm->nother; i++) {
		other += cpu_ticks(sm->other[i]);
	}
	if (sm->samples == 0) {
		sm->cpu_first = cpu;
		sm->other_first = other;
	}
	if (procs > 0) {
		sm->cpu_last = cpu; /* the daemon gone at the end: keep what was seen last */
	}
	sm->other_last = other;
	sm->pss_peak_kib = pss > sm->pss_peak_kib ? pss : sm->pss_peak_kib;
	sm->hwm_peak_kib = hwm > sm->hwm_peak_kib ? hwm : sm->hwm_peak_kib;
	sm->procs_max = procs > sm->procs_max ? procs : sm->procs_max;
	sm->samples++;
}

static void *sampler_main(void *arg)
{
	struct sampler *sm = arg;
	while (!atomic_load(&sm->stop)) {
		sample_once(sm);
		struct timespec ts = {.tv_sec = sm->interval_ms / 1000,
		                      .tv_nsec = (long)(sm->interval_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	sample_once(sm); /* the end state: CPU up to the last answer */
	return NULL;
}

/* ---- main loop and report ---- */

/* Before the NOTIFYs: every zone answered once, so a zone whose target serial is there
 * already (the measurement would be void) is known, and nothing from before t0 can be
 * taken for an answer to the NOTIFY. */
static int precheck(struct poller *p)
{
	uint64_t end = now_ns() + 10000000000ull, last_expire = 0;
	p->pre = true;
	p->tokens_at = now_ns();
	while (p->nprechecked < p->nz) {
		uint64_t now = now_ns();
		if (now >= end) {
			fprintf(stderr, "zxpoll: %zu zones did not answer before the NOTIFYs\n",
			        p->nz - p->nprechecked);
			return 1;
		}
		uint64_t next = send_queries(p, now);
		if (now - last_expire > 10000000ull) {
			expire_queries(p, now);
			last_expire = now;
		}
		struct pollfd pf = {.fd = p->qfd, .events = POLLIN};
		struct timespec ts = {.tv_sec = 0,
		                      .tv_nsec = next > now && next - now < 10000000ull
		                                         ? (long)(next - now) : 10000000L};
		if (ppoll(&pf, 1, &ts, NULL) > 0) {
			if (pf.revents & POLLIN) {
				read_answers(p);
			}
			if (pf.revents & POLLERR) {
				read_bounced(p);
			}
		}
	}
	/* wait for the queries still out (their zones answered already), then start over */
	while (p->nfree < p->inflight_max && now_ns() < end) {
		struct pollfd pf = {.fd = p->qfd, .events = POLLIN};
		if (poll(&pf, 1, 10) > 0) {
			read_answers(p);
		}
		expire_queries(p, now_ns());
	}
	p->pre = false;
	p->qhead = 0;
	p->qlen = 0;
	for (uint32_t k = 0; k < p->nz; k++) {
		uint32_t i = p->order[k];
		p->z[i].asked = false; /* the first query goes with the NOTIFYs */
		if (!p->z[i].done) {
			queue_push(p, i);
		}
	}
	return 0;
}

static int run(struct poller *p)
{
	if (p->notify) {
		if (precheck(p) != 0) {
			return 1;
		}
		notify_begin_round(p, now_ns());
		(void)notify_step(p, now_ns()); /* t0: the first NOTIFY */
		for (size_t i = 0; i < p->nz; i++) {
			if (p->z[i].done) {
				p->z[i].served = p->t0; /* already: 0 ms, flagged by already= */
			}
		}
	}
	p->deadline += p->t0;
	p->tokens_at = now_ns();
	uint64_t last_expire = 0;
	while (p->ndone < p->nz) {
		uint64_t now = now_ns();
		if (now >= p->deadline) {
			return 1;
		}
		uint64_t nnext = 0;
		if (p->notify && p->ncursor < p->nz) {
			nnext = notify_step(p, now);
		} else if (p->notify && p->rounds < p->rounds_max && p->notify_answered < p->nz &&
		           now - p->round_at >= NOTIFY_ROUND_NS) {
			notify_begin_round(p, now);
			nnext = notify_step(p, now);
		}
		uint64_t next = send_queries(p, now);
		if (nnext != 0 && (next == 0 || nnext < next)) {
			next = nnext;
		}
		if (now - last_expire > 10000000ull) {
			expire_queries(p, now);
			last_expire = now;
		}
		now = now_ns();
		uint64_t wait = 10000000ull; /* at most 10 ms: timeouts, NOTIFY rounds */
		if (next != 0) {
			wait = next > now ? (next - now < wait ? next - now : wait) : 0;
		}
		struct pollfd pf[2] = {{.fd = p->qfd, .events = POLLIN},
		                       {.fd = p->notify ? p->nfd : -1, .events = POLLIN}};
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait};
		if (ppoll(pf, 2, &ts, NULL) > 0) {
			if (pf[0].revents & POLLIN) {
				read_answers(p);
			}
			if (pf[0].revents & POLLERR) {
				read_bounced(p);
			}
			if (pf[1].revents & (POLLIN | POLLERR)) {
				read_notify_answers(p);
			}
		}
	}
	if (p->notify) { /* answers still on their way when the last zone was served */
		uint64_t end = now_ns() + 200000000ull;
		while (p->notify_answered < p->nz && now_ns() < end) {
			struct pollfd pf = {.fd = p->nfd, .events = POLLIN};
			if (poll(&pf, 1, 20) > 0) {
				read_notify_answers(p);
			}
		}
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(struct poller *p, const struct sampler *sm, const char *per_zone)
{
	uint64_t *t = calloc(p->nz + 1, sizeof(*t));
	size_t k = 0;
	uint64_t last = 0, first = UINT64_MAX, lo_max = 0;
	FILE *f = per_zone != NULL ? fopen(per_zone, "w") : NULL;
	for (size_t i = 0; i < p->nz; i++) {
		const struct zone *z = &p->z[i];
		if (!z->done) {
			continue;
		}
		uint64_t d = z->served > p->t0 ? z->served - p->t0 : 0;
		uint64_t lo = z->last_neg > p->t0 ? z->last_neg : p->t0;
		uint64_t gap = z->served > lo ? z->served - lo : 0;
		if (t != NULL) {
			t[k++] = d;
		}
		first = d < first ? d : first;
		last = d > last ? d : last;
		lo_max = lo - p->t0 > lo_max ? lo - p->t0 : lo_max;
		if (f != NULL) {
			fprintf(f, "%s %.3f %.3f\n", z->text, ms(d), ms(gap));
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	uint64_t p50 = 0;
	if (t != NULL && k > 0) {
		qsort(t, k, sizeof(*t), cmp_u64);
		p50 = t[(k - 1) / 2];
	}
	free(t);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double self_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);
	uint64_t lost = 0;
	for (size_t i = 0; p->notify && i < p->nz; i++) {
		lost += p->z[i].notify_rcode == 255;
	}
	printf("served=%zu/%zu t_ms=%.3f res_ms=%.3f first_ms=%.3f p50_ms=%.3f already=%llu "
	       "queries=%llu answers=%llu refused=%llu timeouts=%llu interval_ms=%.3f qps_max=%.0f "
	       "notify_sent=%llu notify_answered=%llu notify_noerror=%llu notify_lost=%llu "
	       "notify_lost_first=%llu notify_rounds=%u pss_peak_mib=%.1f hwm_peak_mib=%.1f "
	       "procs_max=%u mem_samples=%u cpu_ms=%.0f other_cpu_ms=%.0f poller_cpu_ms=%.0f "
	       "t0=%llu.%06llu\n",
	       p->ndone, p->nz, p->ndone == p->nz ? ms(last) : -1.0, ms(last - lo_max),
	       k > 0 ? ms(first) : -1.0, ms(p50), (unsigned long long)p->already,
	       (unsigned long long)p->queries, (unsigned long long)p->answers,
	       (unsigned long long)p->refused, (unsigned long long)p->timeouts,
	       ms(p->interval_ns), p->qps, (unsigned long long)p->notify_sent,
	       (unsigned long long)p->notify_answered, (unsigned long long)p->notify_noerror,
	       (unsigned long long)lost,
	       (unsigned long long)(p->rounds > 1 ? p->notify_lost_first : lost), p->rounds,
	       (double)sm->pss_peak_kib / 1024.0, (double)sm->hwm_peak_kib / 1024.0,
	       sm->procs_max, sm->samples, (double)(sm->cpu_last - sm->cpu_first) * tick_ms,
	       (double)(sm->other_last - sm->other_first) * tick_ms, self_ms,
	       (unsigned long long)(p->t0 / 1000000000ull),
	       (unsigned long long)(p->t0 % 1000000000ull / 1000));
}

static int add_key(struct tsig_keyring *ring, char *spec, const struct tsig_key **out)
{
	char *c1 = strchr(spec, ':');
	char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL) {
		return -1;
	}
	*c1 = '\0';
	*c2 = '\0';
	return tsig_keyring_add(ring, c1 + 1, spec, c2 + 1, out) == 0 ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr,
	        "usage: zxpoll -s ADDR@PORT -f ZONES [--t0 EPOCH] [-n ADDR@PORT [-k ALG:NAME:SECRET]"
	        " [-R ROUNDS] [-r RATE]]\n"
	        "              [-m PID]... [-C PID]... [-i MS] [-q QPS] [-w N] [-t SECONDS]"
	        " [-M MS] [-o FILE]\n");
	return 2;
}

static int parse_args(struct poller *p, struct sampler *sm, struct tsig_keyring *ring, int argc,
                      char **argv, const char **zones, const char **per_zone)
{
	static const struct option lo[] = {{"t0", required_argument, NULL, 'T'}, {NULL, 0, NULL, 0}};
	int o;
	bool have_srv = false;
	while ((o = getopt_long(argc, argv, "s:f:n:k:R:r:m:C:i:q:w:t:M:o:", lo, NULL)) != -1) {
		switch (o) {
		case 's':
			if (parse_endpoint(optarg, &p->srv, &p->srv_len) != 0) {
				return -1;
			}
			have_srv = true;
			break;
		case 'f': *zones = optarg; break;
		case 'n':
			if (parse_endpoint(optarg, &p->ntgt, &p->ntgt_len) != 0) {
				return -1;
			}
			p->notify = true;
			break;
		case 'k':
			if (add_key(ring, optarg, &p->key) != 0) {
				fprintf(stderr, "zxpoll: bad key (ALG:NAME:BASE64)\n");
				return -1;
			}
			break;
		case 'R': p->rounds_max = (unsigned)atoi(optarg); break;
		case 'r': p->nrate = atof(optarg); break;
		case 'm':
			if (sm->npids < MAX_PIDS) {
				sm->pids[sm->npids++] = (pid_t)atoi(optarg);
			}
			break;
		case 'C':
			if (sm->nother < MAX_PIDS) {
				sm->other[sm->nother++] = (pid_t)atoi(optarg);
			}
			break;
		case 'i': p->interval_ns = (uint64_t)(atof(optarg) * 1e6); break;
		case 'q': p->qps = atof(optarg); break;
		case 'w': p->inflight_max = (unsigned)atoi(optarg); break;
		case 't': p->deadline = (uint64_t)(atof(optarg) * 1e9); break;
		case 'M': sm->interval_ms = (unsigned)atoi(optarg); break;
		case 'o': *per_zone = optarg; break;
		case 'T':
			p->t0 = (uint64_t)(strtold(optarg, NULL) * 1e9L);
			p->t0_given = true;
			break;
		default: return -1;
		}
	}
	if (!have_srv || *zones == NULL || p->qps <= 0 || p->inflight_max == 0 ||
	    p->inflight_max > MAX_INFLIGHT || p->rounds_max == 0 || sm->interval_ms == 0) {
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct poller p = {.interval_ns = 1000000, .qps = 10000, .inflight_max = 64,
	                          .rounds_max = 5, .deadline = 600000000000ull};
	static struct sampler sm = {.interval_ms = 100};
	const char *zones = NULL, *per_zone = NULL;
	struct tsig_keyring *ring = tsig_keyring_new();
	if (ring == NULL) {
		return 1;
	}
	if (parse_args(&p, &sm, ring, argc, argv, &zones, &per_zone) != 0) {
		tsig_keyring_free(ring);
		return usage();
	}
	int rc = 1;
	p.queue = NULL;
	p.free_slots = calloc(MAX_INFLIGHT, sizeof(*p.free_slots));
	if (p.free_slots == NULL || load_zones(&p, zones) != 0 ||
	    (p.queue = calloc(p.nz, sizeof(*p.queue))) == NULL ||
	    (p.order = calloc(p.nz, sizeof(*p.order))) == NULL) {
		goto out;
	}
	for (uint32_t i = 0; i < MAX_INFLIGHT; i++) {
		p.slots[i].zone = UINT32_MAX;
	}
	for (uint32_t i = p.inflight_max; i > 0; i--) {
		p.free_slots[p.nfree++] = i - 1;
	}
	/* Shuffled, so the poller does not walk the zones in the order a daemon loads
	 * them: slightly ahead of it, it would ask each zone just before it is served
	 * and again only a whole round later. Fixed seed: the same order every run. */
	for (uint32_t i = 0; i < p.nz; i++) {
		p.order[i] = i;
	}
	srand48(18);
	for (uint32_t i = p.nz; i > 1; i--) {
		uint32_t j = (uint32_t)(lrand48() % i), t = p.order[i - 1];
		p.order[i - 1] = p.order[j];
		p.order[j] = t;
	}
	for (uint32_t i = 0; i < p.nz; i++) {
		queue_push(&p, p.order[i]);
	}
	p.qfd = open_udp(&p.srv);
	p.nfd = p.notify ? open_udp(&p.ntgt) : -1;
	if (p.qfd < 0 || (p.notify && p.nfd < 0)) {
		perror("zxpoll: socket");
		goto out;
	}
	bool sampling = sm.npids > 0 || sm.nother > 0;
	if (sampling && pthread_create(&sm.th, NULL, sampler_main, &sm) != 0) {
		goto out;
	}
	if (!p.t0_given && !p.notify) {
		p.t0 = now_ns();
	}
	rc = run(&p);
	if (sampling) {
		atomic_store(&sm.stop, true);
		pthread_join(sm.th, NULL);
	}
	report(&p, &sm, per_zone);
out:
	if (p.qfd > 0) {
		close(p.qfd);
	}
	if (p.nfd > 0) {
		close(p.nfd);
	}
	free(p.queue);
	free(p.order);
	free(p.free_slots);
	free(p.z);
	tsig_keyring_free(ring);
	return rc;
}
