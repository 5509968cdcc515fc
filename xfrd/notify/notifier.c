/* SPDX-License-Identifier: MIT */
/* xfrd/notify/notifier.c -- NOTIFY to downstream secondaries: one entry per (zone, target)
 * with a NOTIFY in flight, found by (zone, target) (a hash) and by DNS ID (by_id).
 *
 *   zone_changed --> entry free? --> build, sign, send, timer(1 s)
 *                    in flight?  --> remember the newest serial (folded)
 *   timer --> tries left? --> send the same bytes again, timer doubled
 *                        `--> done(failed)
 *   reply --> ours (ID, source, question)? --> NOERROR + TSIG good --> done(answered)
 *                                          `-> other rcode --> done(rcode)
 *   done --> log, count --> a newer serial folded? --> send it : free the entry
 */
#include "xfrd/notify/notifier.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/serial.h"
#include "common/tsig/tsig.h"
#include "common/wire.h"
#include "xfrd/zone/zone.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING_CAP 60000
#define BUCKETS_MIN 256

struct target {
	struct cfg_endpoint ep;
	char name[ACL_ADDRSTRLEN];
	struct metrics_val *sent, *answered, *retries, *failed;
};

struct entry {
	struct entry *hnext; /* n->buckets chain */
	struct notifier *n;
	struct zone_settings *set; /* a reference while in flight */
	const struct cfg_zone *zone; /* &set->z */
	uint32_t target;
	uint32_t serial;   /* in flight */
	uint32_t next;     /* newest serial folded while in flight */
	bool has_next;
	bool is_signed;
	uint16_t id;
	unsigned tries;
	int64_t started_ms;
	struct event *timer;
	struct tsig_session ts;
	size_t len;
	uint8_t wire[NOTIFIER_MSG_MAX];
};

struct notifier {
	struct notifier_opts o;
	struct event_base *base;
	struct metrics *own_m;
	struct target *targets;
	size_t ntargets;
	struct entry **buckets; /* by (zone, target): the entry in flight */
	size_t nbuckets;        /* a power of two */
	struct entry **by_id;   /* 65536 */
	size_t pending;
	int fd4, fd6;
	struct event *ev4, *ev6;
	struct metrics_val *dropped, *ignored;
};

static int64_t mono_ms(void)
{
	return clock_mono_ms();
}

/* ---- pure parts ------------------------------------------------------------ */

int notifier_msg_build(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *zone,
                       uint32_t serial, size_t *len)
{
	int zl = dname_wire_len(zone, DNAME_MAXLEN);
	if (zl < 0) {
		return ZX_EFORMAT;
	}
	struct wire_wr wr = wire_wr_init(buf, cap);
	wire_wr_u16(&wr, id);
	wire_wr_u16(&wr, (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_FLAG_AA));
	wire_wr_u16(&wr, 1); /* question */
	wire_wr_u16(&wr, 1); /* answer: the SOA hint */
	wire_wr_u16(&wr, 0);
	wire_wr_u16(&wr, 0);
	wire_wr_bytes(&wr, zone, (size_t)zl);
	wire_wr_u16(&wr, DNS_T_SOA);
	wire_wr_u16(&wr, DNS_C_IN);
	wire_wr_u16(&wr, 0xc000 | DNS_HDR_LEN); /* owner: the question's name */
	wire_wr_u16(&wr, DNS_T_SOA);
	wire_wr_u16(&wr, DNS_C_IN);
	wire_wr_u32(&wr, 0);  /* TTL */
	wire_wr_u16(&wr, 22); /* root mname, root rname, five 32-bit fields */
	wire_wr_u8(&wr, 0);
	wire_wr_u8(&wr, 0);
	wire_wr_u32(&wr, serial);
	for (int i = 0; i < 4; i++) {
		wire_wr_u32(&wr, 0);
	}
	if (wr.err != 0) {
		return wr.err;
	}
	*len = (size_t)(wr.pos - wr.start);
	return 0;
}

int notifier_reply_check(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *zone,
                         uint16_t *rcode)
{
	struct dns_walk w;
	struct dns_question q;
	int rc = dnsmsg_walk_init(&w, msg, len);
	if (rc != 0) {
		return rc;
	}
	if (w.hdr.id != id || !(w.hdr.flags & DNS_FLAG_QR) ||
	    DNS_OPCODE(w.hdr.flags) != DNS_OP_NOTIFY || w.hdr.qdcount != 1) {
		return ZX_EFORMAT;
	}
	rc = dnsmsg_walk_question(&w, &q);
	if (rc < 0) {
		return rc;
	}
	if (q.qtype != DNS_T_SOA || q.qclass != DNS_C_IN || !dname_equal(q.name, zone)) {
		return ZX_EFORMAT;
	}
	*rcode = (uint16_t)DNS_RCODE(w.hdr.flags);
	return 0;
}

int64_t notifier_wait_ms(uint64_t first_ms, unsigned try, unsigned tries)
{
	if (try == 0 || try > tries || try > 32) {
		return -1;
	}
	return (int64_t)(first_ms << (try - 1));
}

/* ---- targets and (zone, target) pairs ------------------------------------ */

/* Same family, address and port (flow info and padding ignored). */
static bool same_ep(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static int target_add(struct notifier *n, const struct cfg_endpoint *ep, uint32_t *idx)
{
	for (size_t i = 0; i < n->ntargets; i++) {
		if (same_ep(&n->targets[i].ep.addr, &ep->addr)) {
			*idx = (uint32_t)i;
			return 0;
		}
	}
	struct target *v = realloc(n->targets, (n->ntargets + 1) * sizeof(*v));
	if (v == NULL) {
		return ZX_ENOMEM;
	}
	n->targets = v;
	struct target *t = &v[n->ntargets];
	memset(t, 0, sizeof(*t));
	t->ep = *ep;
	acl_addr_str((const struct sockaddr *)&ep->addr, true, t->name, sizeof(t->name));
	char lab[ACL_ADDRSTRLEN + 16];
	snprintf(lab, sizeof(lab), "target=\"%s\"", t->name);
	struct metrics *m = n->o.m;
	t->sent = metrics_counter(m, "xfrd_notify_sent_total", lab,
	                          "NOTIFY messages sent downstream, retries included");
	t->answered = metrics_counter(m, "xfrd_notify_answered_total", lab,
	                              "NOTIFYs answered NOERROR (TSIG verified when signed)");
	t->retries = metrics_counter(m, "xfrd_notify_retries_total", lab,
	                             "NOTIFY messages sent again after a reply timeout");
	t->failed = metrics_counter(m, "xfrd_notify_failed_total", lab,
	                            "NOTIFYs unanswered after every try, or answered an error");
	if (t->sent == NULL || t->answered == NULL || t->retries == NULL || t->failed == NULL) {
		return ZX_ENOMEM;
	}
	*idx = (uint32_t)n->ntargets++;
	return 0;
}

static uint64_t pair_hash(const uint8_t *zone, uint32_t target)
{
	uint64_t h = 1469598103934665603ull ^ target;
	int len = dname_wire_len(zone, DNAME_MAXLEN);
	for (int i = 0; i < len; i++) {
		h = (h ^ zone[i]) * 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static struct entry **pair_slot(struct notifier *n, const uint8_t *zone, uint32_t target)
{
	struct entry **p = &n->buckets[pair_hash(zone, target) & (n->nbuckets - 1)];
	while (*p != NULL && ((*p)->target != target || !dname_equal((*p)->zone->name, zone))) {
		p = &(*p)->hnext;
	}
	return p;
}

static void grow(struct notifier *n)
{
	size_t nb = n->nbuckets * 2;
	struct entry **b = calloc(nb, sizeof(*b));
	if (b == NULL) {
		return; /* longer chains, still correct */
	}
	for (size_t i = 0; i < n->nbuckets; i++) {
		for (struct entry *e = n->buckets[i], *next; e != NULL; e = next) {
			next = e->hnext;
			size_t k = pair_hash(e->zone->name, e->target) & (nb - 1);
			e->hnext = b[k];
			b[k] = e;
		}
	}
	free(n->buckets);
	n->buckets = b;
	n->nbuckets = nb;
}

static void on_readable(evutil_socket_t fd, short what, void *arg);

/* The UDP socket for @p family, made at first use and watched by the loop. A
 * family the host lacks (IPv6 disabled) is logged: its targets' NOTIFYs fail,
 * transfers go on. */
static int family_socket(struct notifier *n, int family)
{
	int *fd = family == AF_INET6 ? &n->fd6 : &n->fd4;
	struct event **ev = family == AF_INET6 ? &n->ev6 : &n->ev4;
	if (*fd >= 0) {
		return *fd;
	}
	int s = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		log_error("notify_socket_failed", "family=%s error=\"%s\"",
		          family == AF_INET ? "ipv4" : "ipv6", strerror(errno));
		return -1;
	}
	*ev = event_new(n->base, s, EV_READ | EV_PERSIST, on_readable, n);
	if (*ev == NULL || event_add(*ev, NULL) != 0) {
		log_error("notify_socket_failed", "family=%s error=\"event\"",
		          family == AF_INET ? "ipv4" : "ipv6");
		if (*ev != NULL) {
			event_free(*ev);
			*ev = NULL;
		}
		close(s);
		return -1;
	}
	*fd = s;
	return s;
}

/* ---- entries --------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg);

static uint16_t fresh_id(struct notifier *n)
{
	uint16_t id = 0;
	for (int i = 0; i < 64; i++) {
		if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
			id = (uint16_t)(id * 31421u + 6927u + (unsigned)i);
		}
		if (n->by_id[id] == NULL) {
			break;
		}
	}
	return id;
}

static const char *rcode_outcome(uint16_t rc)
{
	switch (rc) {
	case DNS_RC_FORMERR:
		return "formerr";
	case DNS_RC_SERVFAIL:
		return "servfail";
	case DNS_RC_NOTIMP:
		return "notimp";
	case DNS_RC_REFUSED:
		return "refused";
	case DNS_RC_NOTAUTH:
		return "notauth";
	default:
		return "rcode";
	}
}

static void log_done(const struct notifier *n, const struct cfg_zone *z, uint32_t serial,
                     uint32_t target, unsigned tries, const char *outcome, int64_t rtt_ms)
{
	enum log_level lvl = strcmp(outcome, "answered") == 0 ? LOG_LVL_INFO : LOG_LVL_WARN;
	log_write(lvl, "notify_done", "zone=%s serial=%u target=%s tries=%u outcome=%s rtt_ms=%lld",
	          z->name_text, serial, n->targets[target].name, tries, outcome,
	          (long long)rtt_ms);
}

static void entry_free(struct entry *e)
{
	struct notifier *n = e->n;
	if (n->by_id[e->id] == e) {
		n->by_id[e->id] = NULL;
	}
	if (e->timer != NULL) {
		event_free(e->timer);
	}
	if (e->is_signed) {
		tsig_session_deinit(&e->ts);
	}
	struct entry **p = pair_slot(n, e->zone->name, e->target);
	if (*p == e) {
		*p = e->hnext;
	}
	zone_settings_unref(e->set);
	free(e);
	n->pending--;
}

static void entry_send(struct entry *e)
{
	struct notifier *n = e->n;
	struct target *t = &n->targets[e->target];
	int fd = family_socket(n, t->ep.addr.ss_family);
	ssize_t w = fd < 0 ? -1
	                   : sendto(fd, e->wire, e->len, 0, (const struct sockaddr *)&t->ep.addr,
	                            t->ep.len);
	if (w < 0 && fd >= 0) {
		log_debug("notify_send_error", "zone=%s target=%s error=%s", e->zone->name_text,
		          t->name, strerror(errno));
	}
	e->tries++;
	metrics_add(t->sent, 1);
	if (e->tries > 1) {
		metrics_add(t->retries, 1);
	}
	int64_t ms = notifier_wait_ms(n->o.timeout_ms, e->tries, n->o.tries);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	if (event_add(e->timer, &tv) != 0) {
		log_error("notify_timer_failed", "zone=%s target=%s", e->zone->name_text, t->name);
	}
}

/* Build (and sign) the NOTIFY for e->serial with a new ID, then send it. */
static int entry_start(struct entry *e)
{
	struct notifier *n = e->n;
	if (n->by_id[e->id] == e) {
		n->by_id[e->id] = NULL;
	}
	if (e->is_signed) {
		tsig_session_deinit(&e->ts);
		e->is_signed = false;
	}
	e->id = fresh_id(n);
	e->tries = 0;
	e->started_ms = mono_ms();
	int rc = notifier_msg_build(e->wire, sizeof(e->wire), e->id, e->zone->name, e->serial,
	                            &e->len);
	if (rc == 0 && e->zone->notify_key != NULL) {
		tsig_session_init(&e->ts, e->zone->notify_key, TSIG_FUDGE_DEFAULT);
		e->is_signed = true;
		rc = tsig_session_sign_request(&e->ts, e->wire, &e->len, sizeof(e->wire),
		                               (uint64_t)clock_wall_s());
	}
	if (rc != 0) {
		return rc;
	}
	if (n->by_id[e->id] != NULL) {
		return ZX_EAGAIN; /* 64 random IDs taken: cap reached in practice */
	}
	n->by_id[e->id] = e;
	entry_send(e);
	return 0;
}

/* The NOTIFY in flight ended: log and count, then the folded serial or free. */
static void entry_done(struct entry *e, const char *outcome, bool ok)
{
	struct notifier *n = e->n;
	struct target *t = &n->targets[e->target];
	metrics_add(ok ? t->answered : t->failed, 1);
	log_done(n, e->zone, e->serial, e->target, e->tries, outcome, mono_ms() - e->started_ms);
	event_del(e->timer);
	if (e->has_next && serial_newer(e->next, e->serial)) {
		e->serial = e->next;
		e->has_next = false;
		int rc = entry_start(e);
		if (rc == 0) {
			return;
		}
		metrics_add(n->dropped, 1);
		log_done(n, e->zone, e->serial, e->target, 0, "dropped", 0);
	}
	entry_free(e);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct entry *e = arg;
	if (e->tries < e->n->o.tries) {
		entry_send(e);
	} else {
		entry_done(e, "failed", false);
	}
}

static void queue_one(struct notifier *n, struct zone_settings *set, uint32_t target,
                      uint32_t serial)
{
	const struct cfg_zone *z = &set->z;
	struct entry **slot = pair_slot(n, z->name, target);
	struct entry *e = *slot;
	if (e != NULL) {
		bool newest = !e->has_next || serial_newer(serial, e->next);
		if (serial_newer(serial, e->serial) && newest) {
			e->next = serial;
			e->has_next = true;
		}
		return;
	}
	if (n->pending >= n->o.max_pending || (e = calloc(1, sizeof(*e))) == NULL) {
		metrics_add(n->dropped, 1);
		log_done(n, z, serial, target, 0, "dropped", 0);
		return;
	}
	e->n = n;
	e->set = zone_settings_ref(set);
	e->zone = z;
	e->target = target;
	e->serial = serial;
	e->timer = evtimer_new(n->base, on_timer, e);
	e->hnext = *slot;
	*slot = e;
	n->pending++;
	int rc = e->timer != NULL ? entry_start(e) : ZX_ENOMEM;
	if (rc != 0) {
		metrics_add(n->dropped, 1);
		log_done(n, z, serial, target, 0, "dropped", 0);
		entry_free(e);
		return;
	}
	if (n->pending > n->nbuckets) {
		grow(n);
	}
}

void notifier_zone_changed(struct notifier *n, struct zone_settings *set, uint32_t serial)
{
	const struct cfg_endpoints *eps = &set->z.notify;
	for (size_t j = 0; j < eps->count; j++) {
		uint32_t target;
		if (target_add(n, &eps->v[j], &target) != 0) {
			metrics_add(n->dropped, 1);
			log_warn("notify_done", "zone=%s serial=%u outcome=dropped why=no_memory",
			         set->z.name_text, serial);
			continue;
		}
		queue_one(n, set, target, serial);
	}
}

/* ---- replies --------------------------------------------------------------- */

static void on_reply(struct notifier *n, const uint8_t *msg, size_t len,
                     const struct sockaddr_storage *from)
{
	struct dns_hdr h;
	if (dnsmsg_hdr_parse(msg, len, &h) != 0) {
		metrics_add(n->ignored, 1);
		return;
	}
	struct entry *e = n->by_id[h.id];
	uint16_t rcode = 0;
	if (e == NULL || !same_ep(&n->targets[e->target].ep.addr, from) ||
	    notifier_reply_check(msg, len, e->id, e->zone->name, &rcode) != 0) {
		metrics_add(n->ignored, 1);
		return;
	}
	if (rcode != DNS_RC_NOERROR) {
		entry_done(e, rcode_outcome(rcode), false);
		return;
	}
	if (e->is_signed) {
		int rc = tsig_session_verify(&e->ts, msg, len, (uint64_t)clock_wall_s());
		if (rc != 0) {
			metrics_add(n->ignored, 1);
			log_warn("notify_reply_ignored", "zone=%s target=%s error=%s",
			         e->zone->name_text, n->targets[e->target].name, zx_strerror(rc));
			return;
		}
	}
	entry_done(e, "answered", true);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct notifier *n = arg;
	uint8_t buf[4096];
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (r < 0) {
			return; /* EAGAIN, or an ICMP error reported on the socket */
		}
		on_reply(n, buf, (size_t)r, &from);
	}
}

/* ---- life cycle ------------------------------------------------------------ */

static int setup(struct notifier *n)
{
	if (n->o.m == NULL) {
		n->own_m = metrics_new();
		n->o.m = n->own_m;
	}
	n->nbuckets = BUCKETS_MIN;
	n->buckets = calloc(n->nbuckets, sizeof(*n->buckets));
	n->by_id = calloc(65536, sizeof(*n->by_id));
	if (n->o.m == NULL || n->buckets == NULL || n->by_id == NULL) {
		return ZX_ENOMEM;
	}
	n->dropped = metrics_counter(n->o.m, "xfrd_notify_dropped_total", NULL,
	                             "zone changes not notified downstream: pending cap reached");
	n->ignored = metrics_counter(n->o.m, "xfrd_notify_ignored_total", NULL,
	                             "replies to NOTIFYs that were not ours or did not verify");
	return n->dropped == NULL || n->ignored == NULL ? ZX_ENOMEM : 0;
}

int notifier_new(const struct notifier_opts *o, struct notifier **out)
{
	if (o == NULL || o->base == NULL || o->max_pending > MAX_PENDING_CAP) {
		return ZX_EINVAL;
	}
	struct notifier *n = calloc(1, sizeof(*n));
	if (n == NULL) {
		return ZX_ENOMEM;
	}
	n->o = *o;
	n->o.max_pending = o->max_pending ? o->max_pending : NOTIFIER_MAX_PENDING;
	n->o.timeout_ms = o->timeout_ms ? o->timeout_ms : NOTIFIER_TIMEOUT_MS;
	n->o.tries = o->tries ? o->tries : NOTIFIER_TRIES;
	n->base = o->base;
	n->fd4 = n->fd6 = -1;
	int rc = setup(n);
	if (rc != 0) {
		notifier_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

void notifier_stats(struct notifier *n, struct notifier_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n->ntargets; i++) {
		out->sent += metrics_get(n->targets[i].sent);
		out->answered += metrics_get(n->targets[i].answered);
		out->retries += metrics_get(n->targets[i].retries);
		out->failed += metrics_get(n->targets[i].failed);
	}
	out->dropped = metrics_get(n->dropped);
	out->ignored = metrics_get(n->ignored);
	out->pending = n->pending;
}

void notifier_free(struct notifier *n)
{
	if (n == NULL) {
		return;
	}
	for (size_t i = 0; n->buckets != NULL && i < n->nbuckets; i++) {
		while (n->buckets[i] != NULL) {
			struct entry *e = n->buckets[i];
			log_done(n, e->zone, e->serial, e->target, e->tries, "abandoned", 0);
			entry_free(e);
		}
	}
	struct event *evs[] = {n->ev4, n->ev6};
	int fds[] = {n->fd4, n->fd6};
	for (size_t i = 0; i < 2; i++) {
		if (evs[i] != NULL) {
			event_free(evs[i]);
		}
		if (fds[i] >= 0) {
			close(fds[i]);
		}
	}
	metrics_free(n->own_m);
	free(n->buckets);
	free(n->by_id);
	free(n->targets);
	free(n);
}
