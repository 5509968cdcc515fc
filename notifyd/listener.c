/* SPDX-License-Identifier: MIT */
/* notifyd/listener.c -- UDP and TCP sockets on libevent, PROXY header checks, TCP framing. */
#include "notifyd/listener.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "notifyd/ratelimit.h"
#include "proto/proxy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UDP_BATCH 32
#define UDP_BUF 4096
#define TCP_BACKLOG 1024
#define MAX_SOCKS 64
#define NEED_MORE (-2)
#define CMSG_ROOM CMSG_SPACE(sizeof(struct in6_pktinfo))
/** Buckets of the per-source connection count: enough for the default 1024
 * connections to sit one a bucket; more connections make longer chains, but a
 * chain holds at most tcp max-per-source entries of any one source. */
#define SRC_BUCKETS_MAX 65536

static const char *const drop_names[LISTENER_DROP_COUNT] = {
	[LISTENER_DROP_PROXY_UNTRUSTED] = "proxy_untrusted",
	[LISTENER_DROP_PROXY_MISSING] = "proxy_missing",
	[LISTENER_DROP_PROXY_TRUNCATED] = "proxy_truncated",
	[LISTENER_DROP_PROXY_MALFORMED] = "proxy_malformed",
	[LISTENER_DROP_PROXY_INCONSISTENT] = "proxy_inconsistent",
	[LISTENER_DROP_TCP_LIMIT] = "tcp_limit",
	[LISTENER_DROP_TCP_IDLE] = "tcp_idle",
	[LISTENER_DROP_TCP_SLOW] = "tcp_slow",
	[LISTENER_DROP_TCP_SHORT] = "tcp_short",
	[LISTENER_DROP_TCP_SOURCE] = "tcp_source_limit",
};

const char *listener_drop_name(enum listener_drop d)
{
	return (unsigned)d < LISTENER_DROP_COUNT ? drop_names[d] : "unknown";
}

struct udp_sock {
	struct listener *l;
	int fd;
	struct event *ev;
};

struct listener_conn {
	struct listener *l;
	struct bufferevent *bev; /**< NULL once closed */
	struct event *deadline;  /**< message-timeout */
	struct sockaddr_storage peer;
	struct sockaddr_storage src;
	bool proxy_done;
	bool via_proxy;
	bool closing;  /**< listener_close_after(): not reading; closed once flushed */
	bool counted;  /**< in its source's bucket (srckey) */
	uint8_t srckey_len;
	uint8_t srckey[ACL_PREFIX_KEY_MAX]; /**< acl_prefix_key() of the real source */
	unsigned refs; /**< 1 while open, plus one per held dest */
	struct listener_conn *prev, *next;
	struct listener_conn *src_next; /**< next in its source bucket */
};

struct listener {
	struct event_base *base;
	const struct cfg *cfg;
	listener_msg_cb on_msg;
	listener_drop_cb on_drop;
	void *arg;
	struct udp_sock udp[MAX_SOCKS];
	size_t n_udp;
	struct evconnlistener *tcp[MAX_SOCKS];
	size_t n_tcp;
	uint16_t ports[MAX_SOCKS];
	struct listener_conn *conns; /**< open connections */
	size_t n_conns;
	struct listener_conn **src; /**< counted connections by hash of their source key */
	size_t src_mask;
	uint64_t src_seed;
	/* UDP answers queued by listener_send(), sent by one sendmmsg() per socket once
	 * the current callback is done (flush_ev is made active, not timed) */
	struct event *flush_ev;
	size_t n_out;
	int out_fd[UDP_BATCH];
	uint8_t out_buf[UDP_BATCH][UDP_BUF];
	struct sockaddr_storage out_addr[UDP_BATCH];
	struct iovec out_iov[UDP_BATCH];
	struct mmsghdr out_mm[UDP_BATCH];
	uint8_t out_cmsg[UDP_BATCH][CMSG_ROOM];
	/* recvmmsg batch */
	uint8_t cmsg[UDP_BATCH][CMSG_ROOM];
	uint8_t bufs[UDP_BATCH][UDP_BUF];
	struct sockaddr_storage addrs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct mmsghdr mm[UDP_BATCH];
};

static void dropped(struct listener *l, enum listener_drop d, const struct sockaddr *peer)
{
	if (l->on_drop != NULL) {
		l->on_drop(d, peer, l->arg);
	}
}

/* ---- PROXY ------------------------------------------------------------- */

/* Returns the DNS payload offset, NEED_MORE (TCP only), or -1 with *why set. */
static int proxy_stage(const struct listener *l, const uint8_t *buf, size_t len, bool tcp,
                       const struct sockaddr *peer, struct sockaddr_storage *src, bool *via,
                       enum listener_drop *why)
{
	bool trusted = acl_match(&l->cfg->proxy_trusted, peer);
	struct proxy_hdr h;
	int rc = proxy_parse(buf, len, &h);
	*via = false;
	if (!trusted) {
		if (rc == ZX_EPROXY) {
			memcpy(src, peer, sizeof(*src));
			return 0;
		}
		if (rc == ZX_ETRUNC && tcp && len < PROXY_SIG_PEEK) {
			return NEED_MORE;
		}
		*why = LISTENER_DROP_PROXY_UNTRUSTED;
		return -1;
	}
	if (rc == ZX_ETRUNC && tcp) {
		return NEED_MORE;
	}
	if (rc != 0) {
		*why = rc == ZX_EPROXY  ? LISTENER_DROP_PROXY_MISSING
		       : rc == ZX_ETRUNC ? LISTENER_DROP_PROXY_TRUNCATED
		                         : LISTENER_DROP_PROXY_MALFORMED;
		return -1;
	}
	if ((!tcp && h.version == 1) || (tcp && h.transport == PROXY_TRANSPORT_DGRAM) ||
	    (!tcp && h.transport == PROXY_TRANSPORT_STREAM)) {
		*why = LISTENER_DROP_PROXY_INCONSISTENT;
		return -1;
	}
	if (h.local) {
		memcpy(src, peer, sizeof(*src));
	} else {
		memcpy(src, &h.src, sizeof(*src));
		*via = true;
	}
	return (int)h.len;
}

/* ---- UDP --------------------------------------------------------------- */

/* The datagram's destination address from its IP_PKTINFO / IPV6_PKTINFO. */
static void local_addr(const struct msghdr *mh, struct listener_dest *d)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&d->local4, CMSG_DATA(c), sizeof(d->local4));
			d->local_family = AF_INET;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&d->local6, CMSG_DATA(c), sizeof(d->local6));
			d->local_family = AF_INET6;
		}
	}
}

static void udp_one(struct udp_sock *u, const uint8_t *buf, size_t len,
                    const struct sockaddr_storage *peer, const struct msghdr *mh)
{
	socklen_t peer_len = mh->msg_namelen;
	struct listener *l = u->l;
	struct sockaddr_storage src;
	bool via;
	enum listener_drop why;
	int off = proxy_stage(l, buf, len, false, (const struct sockaddr *)peer, &src, &via, &why);
	if (off < 0) {
		dropped(l, why, (const struct sockaddr *)peer);
		return;
	}
	struct listener_msg m = {
		.msg = buf + off,
		.len = len - (size_t)off,
		.src = (const struct sockaddr *)&src,
		.peer = (const struct sockaddr *)peer,
		.via_proxy = via,
		.transport = LISTENER_UDP,
		.dest = {.fd = u->fd, .peer_len = peer_len},
	};
	memcpy(&m.dest.peer, peer, sizeof(*peer));
	local_addr(mh, &m.dest);
	l->on_msg(&m, l->arg);
}

static void udp_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct udp_sock *u = arg;
	struct listener *l = u->l;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			l->iov[i] = (struct iovec){.iov_base = l->bufs[i], .iov_len = UDP_BUF};
			l->mm[i].msg_hdr = (struct msghdr){.msg_name = &l->addrs[i],
			                                   .msg_namelen = sizeof(l->addrs[i]),
			                                   .msg_iov = &l->iov[i],
			                                   .msg_iovlen = 1,
			                                   .msg_control = l->cmsg[i],
			                                   .msg_controllen = CMSG_ROOM};
		}
		int n = recvmmsg(fd, l->mm, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			return;
		}
		for (int i = 0; i < n; i++) {
			udp_one(u, l->bufs[i], l->mm[i].msg_len, &l->addrs[i], &l->mm[i].msg_hdr);
		}
		if (n < UDP_BATCH) {
			return;
		}
	}
}

/* Send the queued UDP answers: one sendmmsg() per run of the same socket. */
static void udp_flush(struct listener *l)
{
	size_t i = 0;
	while (i < l->n_out) {
		size_t j = i;
		while (j < l->n_out && l->out_fd[j] == l->out_fd[i]) {
			j++;
		}
		size_t k = i;
		while (k < j) {
			int n = sendmmsg(l->out_fd[i], &l->out_mm[k], (unsigned)(j - k), MSG_DONTWAIT);
			if (n <= 0) {
				break; /* socket buffer full: UDP answers are best effort */
			}
			k += (size_t)n;
		}
		i = j;
	}
	l->n_out = 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	udp_flush(arg);
}

/* ---- TCP --------------------------------------------------------------- */

/* The source key of @p sa, grouped as the per-source rate limit groups it. */
static uint8_t src_key(const struct listener *l, const struct sockaddr *sa,
                       uint8_t key[ACL_PREFIX_KEY_MAX])
{
	const struct cfg_rate_limit *rl = &l->cfg->notifyd.rate_limit;
	return (uint8_t)acl_prefix_key(sa, rl->ipv4_prefix, rl->ipv6_prefix, key);
}

static struct listener_conn **src_bucket(const struct listener *l, const uint8_t *key, size_t len)
{
	return &l->src[ratelimit_hash(l->src_seed, key, len) & l->src_mask];
}

/* Open connections counted for this source key. */
static size_t src_count(const struct listener *l, const uint8_t *key, size_t len)
{
	size_t n = 0;
	for (const struct listener_conn *c = *src_bucket(l, key, len); c != NULL; c = c->src_next) {
		n += c->srckey_len == len && memcmp(c->srckey, key, len) == 0;
	}
	return n;
}

/* Count @p c for its source, unless the source has max-per-source already. */
static bool src_admit(struct listener_conn *c, const struct sockaddr *sa)
{
	struct listener *l = c->l;
	uint8_t key[ACL_PREFIX_KEY_MAX];
	uint8_t len = src_key(l, sa, key);
	if (len == 0) {
		return true;
	}
	if (src_count(l, key, len) >= l->cfg->notifyd.tcp_max_per_source) {
		return false;
	}
	memcpy(c->srckey, key, len);
	c->srckey_len = len;
	struct listener_conn **b = src_bucket(l, key, len);
	c->src_next = *b;
	*b = c;
	c->counted = true;
	return true;
}

static void src_forget(struct listener_conn *c)
{
	if (!c->counted) {
		return;
	}
	struct listener_conn **p = src_bucket(c->l, c->srckey, c->srckey_len);
	while (*p != c) {
		p = &(*p)->src_next;
	}
	*p = c->src_next;
	c->counted = false;
}

static void conn_unref(struct listener_conn *c)
{
	if (--c->refs == 0) {
		free(c);
	}
}

static void conn_close(struct listener_conn *c)
{
	struct listener *l = c->l;
	if (c->bev == NULL) {
		return;
	}
	src_forget(c);
	bufferevent_free(c->bev);
	c->bev = NULL;
	event_free(c->deadline);
	c->deadline = NULL;
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		l->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	l->n_conns--;
	conn_unref(c);
}

static void conn_drop(struct listener_conn *c, enum listener_drop d)
{
	dropped(c->l, d, (const struct sockaddr *)&c->peer);
	conn_close(c);
}

/* A closing connection goes once its answers are out and none is owed any more. */
static void conn_try_close(struct listener_conn *c)
{
	if (c->bev != NULL && c->closing && c->refs == 1 &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_close(c);
	}
}

static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct listener_conn *c = arg;
	(void)fd;
	(void)what;
	if (c->closing) {
		conn_close(c); /* its reader never took the answer: enough waiting */
		return;
	}
	conn_drop(c, LISTENER_DROP_TCP_SLOW);
}

/* The PROXY header at the start of a connection. 1 done, 0 need more, -1 closed. */
static int conn_proxy(struct listener_conn *c, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t want = avail < PROXY_V2_FIXLEN + 65535 ? avail : PROXY_V2_FIXLEN + 65535;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)want);
	enum listener_drop why;
	int off = proxy_stage(c->l, p, want, true, (const struct sockaddr *)&c->peer, &c->src,
	                      &c->via_proxy, &why);
	if (off == NEED_MORE) {
		return 0;
	}
	if (off < 0) {
		conn_drop(c, why);
		return -1;
	}
	evbuffer_drain(in, (size_t)off);
	c->proxy_done = true;
	/* behind a proxy the real source is known only now (LOCAL: the proxy's own
	 * health check, not counted) */
	if (c->via_proxy && !src_admit(c, (const struct sockaddr *)&c->src)) {
		conn_drop(c, LISTENER_DROP_TCP_SOURCE);
		return -1;
	}
	return 1;
}

/* One framed message if complete: 1 delivered, 0 need more, -1 closed. */
static int conn_message(struct listener_conn *c, struct evbuffer *in)
{
	uint8_t lb[2];
	if (evbuffer_copyout(in, lb, 2) < 2) {
		return 0;
	}
	size_t mlen = (size_t)lb[0] << 8 | lb[1];
	if (mlen < 12) {
		conn_drop(c, LISTENER_DROP_TCP_SHORT);
		return -1;
	}
	if (evbuffer_get_length(in) < 2 + mlen) {
		return 0;
	}
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)(2 + mlen));
	struct listener_msg m = {
		.msg = p + 2,
		.len = mlen,
		.src = (const struct sockaddr *)&c->src,
		.peer = (const struct sockaddr *)&c->peer,
		.via_proxy = c->via_proxy,
		.transport = LISTENER_TCP,
		.dest = {.fd = -1, .conn = c},
	};
	c->l->on_msg(&m, c->l->arg);
	evbuffer_drain(in, 2 + mlen);
	return 1;
}

static void conn_read(struct bufferevent *bev, void *arg)
{
	struct listener_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	int rc = 1;
	if (!c->proxy_done) {
		rc = conn_proxy(c, in);
	}
	while (rc == 1 && c->bev != NULL && !c->closing) {
		rc = conn_message(c, in);
	}
	if (rc < 0 || c->bev == NULL) {
		return;
	}
	if (c->closing) {
		conn_try_close(c);
		return;
	}
	if (evbuffer_get_length(in) == 0) {
		event_del(c->deadline);
	} else if (!event_pending(c->deadline, EV_TIMEOUT, NULL)) {
		uint64_t ms = c->l->cfg->notifyd.tcp_message_timeout_ms;
		struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
		                     .tv_usec = (suseconds_t)(ms % 1000 * 1000)};
		event_add(c->deadline, &tv);
	}
}

static void conn_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_try_close(arg); /* the output drained: a closing connection may go */
}

static void conn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct listener_conn *c = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_drop(c, LISTENER_DROP_TCP_IDLE);
	} else {
		conn_close(c); /* EOF or error: the peer is gone */
	}
}

static void tcp_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                       int salen, void *arg)
{
	(void)lev;
	struct listener *l = arg;
	if (l->n_conns >= l->cfg->notifyd.tcp_max_connections) {
		dropped(l, LISTENER_DROP_TCP_LIMIT, sa);
		close(fd);
		return;
	}
	struct listener_conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->l = l;
	c->refs = 1;
	memcpy(&c->peer, sa, (size_t)salen < sizeof(c->peer) ? (size_t)salen : sizeof(c->peer));
	/* a trusted proxy carries many sources: they are counted after its header */
	if (!acl_match(&l->cfg->proxy_trusted, sa) && !src_admit(c, sa)) {
		dropped(l, LISTENER_DROP_TCP_SOURCE, sa);
		close(fd);
		free(c);
		return;
	}
	c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(l->base, conn_deadline, c);
	if (c->bev == NULL || c->deadline == NULL) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
		} else {
			close(fd);
		}
		if (c->deadline != NULL) {
			event_free(c->deadline);
		}
		src_forget(c);
		free(c);
		return;
	}
	uint64_t ms = l->cfg->notifyd.tcp_idle_timeout_ms;
	struct timeval idle = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000 * 1000)};
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		bufferevent_free(c->bev);
		event_free(c->deadline);
		src_forget(c);
		free(c);
		return;
	}
	c->next = l->conns;
	if (l->conns != NULL) {
		l->conns->prev = c;
	}
	l->conns = c;
	l->n_conns++;
}

/* ---- sockets ----------------------------------------------------------- */

static int open_socket(const struct cfg_endpoint *ep, int type, uint64_t rcvbuf, uint16_t *port,
                       char *err, size_t errlen)
{
	char a[ACL_ADDRSTRLEN];
	const char *what = "socket";
	int one = 1;
	int fd = socket(ep->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		goto fail;
	}
	what = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ep->addr.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)) {
		goto fail;
	}
	if (type == SOCK_DGRAM &&
	    (ep->addr.ss_family == AF_INET
	             ? setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
	             : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))) != 0) {
		goto fail;
	}
	if (type == SOCK_DGRAM && rcvbuf > 0) {
		/* Past net.core.rmem_max only with CAP_NET_ADMIN (SO_RCVBUFFORCE); else the
		 * kernel caps it. Best effort either way: a small buffer is not fatal. */
		int v = rcvbuf > 1u << 30 ? 1 << 30 : (int)rcvbuf;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0) {
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
		}
	}
	what = "bind";
	if (bind(fd, (const struct sockaddr *)&ep->addr, ep->len) != 0) {
		goto fail;
	}
	what = "listen";
	if (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) != 0) {
		goto fail;
	}
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &bl) == 0) {
		*port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
		                                         : ((struct sockaddr_in6 *)&bound)->sin6_port);
	}
	return fd;
fail:
	snprintf(err, errlen, "%s %s %s: %s", type == SOCK_DGRAM ? "udp" : "tcp",
	         acl_addr_str((const struct sockaddr *)&ep->addr, true, a, sizeof(a)), what,
	         strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
	return -1;
}

static int open_endpoint(struct listener *l, const struct cfg_endpoint *ep, char *err,
                         size_t errlen)
{
	uint16_t port = 0;
	int fd = open_socket(ep, SOCK_DGRAM, l->cfg->notifyd.udp_receive_buffer, &port, err, errlen);
	if (fd < 0) {
		return ZX_EIO;
	}
	struct udp_sock *u = &l->udp[l->n_udp];
	u->l = l;
	u->fd = fd;
	u->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, udp_read, u);
	l->ports[l->n_udp++] = port;
	if (u->ev == NULL || event_add(u->ev, NULL) != 0) {
		snprintf(err, errlen, "udp event: out of memory");
		return ZX_ENOMEM;
	}
	/* TCP on the port UDP got, so port 0 gives one port for both. */
	struct cfg_endpoint tep = *ep;
	if (tep.addr.ss_family == AF_INET) {
		((struct sockaddr_in *)&tep.addr)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&tep.addr)->sin6_port = htons(port);
	}
	fd = open_socket(&tep, SOCK_STREAM, 0, &port, err, errlen);
	if (fd < 0) {
		return ZX_EIO;
	}
	l->tcp[l->n_tcp] = evconnlistener_new(l->base, tcp_accept, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (l->tcp[l->n_tcp] == NULL) {
		close(fd);
		snprintf(err, errlen, "tcp listener: out of memory");
		return ZX_ENOMEM;
	}
	l->n_tcp++;
	return 0;
}

int listener_new(struct event_base *base, const struct cfg *cfg, listener_msg_cb on_msg,
                 listener_drop_cb on_drop, void *arg, struct listener **out, char *err,
                 size_t errlen)
{
	size_t n = cfg->notifyd.listen.count;
	if (n == 0 || n > MAX_SOCKS) {
		snprintf(err, errlen, "notifyd.listen: %zu endpoints (1..%d)", n, MAX_SOCKS);
		return ZX_EINVAL;
	}
	struct listener *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return ZX_ENOMEM;
	}
	l->base = base;
	l->cfg = cfg;
	l->on_msg = on_msg;
	l->on_drop = on_drop;
	l->arg = arg;
	size_t nb = 64;
	while (nb < cfg->notifyd.tcp_max_connections && nb < SRC_BUCKETS_MAX) {
		nb <<= 1;
	}
	if (getrandom(&l->src_seed, sizeof(l->src_seed), GRND_NONBLOCK) != sizeof(l->src_seed)) {
		l->src_seed = (uint64_t)(uintptr_t)l ^ (uint64_t)clock_wall_s();
	}
	l->src_mask = nb - 1;
	l->src = calloc(nb, sizeof(*l->src));
	l->flush_ev = event_new(base, -1, 0, on_flush, l);
	if (l->flush_ev == NULL || l->src == NULL) {
		if (l->flush_ev != NULL) {
			event_free(l->flush_ev);
		}
		free(l->src);
		free(l);
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = open_endpoint(l, &cfg->notifyd.listen.v[i], err, errlen);
		if (rc != 0) {
			listener_free(l);
			return rc;
		}
	}
	*out = l;
	return 0;
}

void listener_free(struct listener *l)
{
	if (l == NULL) {
		return;
	}
	while (l->conns != NULL) {
		conn_close(l->conns);
	}
	if (l->flush_ev != NULL) {
		udp_flush(l);
		event_free(l->flush_ev);
	}
	for (size_t i = 0; i < l->n_udp; i++) {
		if (l->udp[i].ev != NULL) {
			event_free(l->udp[i].ev);
		}
		close(l->udp[i].fd);
	}
	for (size_t i = 0; i < l->n_tcp; i++) {
		evconnlistener_free(l->tcp[i]);
	}
	free(l->src);
	free(l);
}

void listener_pause(struct listener *l)
{
	for (size_t i = 0; i < l->n_udp; i++) {
		event_del(l->udp[i].ev);
	}
	for (size_t i = 0; i < l->n_tcp; i++) {
		evconnlistener_disable(l->tcp[i]);
	}
}

void listener_set_cfg(struct listener *l, const struct cfg *cfg)
{
	l->cfg = cfg;
}

void listener_dest_hold(struct listener_dest *d)
{
	if (d->conn != NULL) {
		d->conn->refs++;
	}
}

void listener_dest_release(struct listener_dest *d)
{
	struct listener_conn *c = d->conn;
	if (c == NULL) {
		return;
	}
	d->conn = NULL;
	if (--c->refs == 0) {
		free(c);
	} else {
		conn_try_close(c); /* a closing connection waited for this answer */
	}
}

void listener_close_after(struct listener *l, const struct listener_dest *d)
{
	struct listener_conn *c = d->conn;
	(void)l;
	if (c == NULL || c->bev == NULL || c->closing) {
		return;
	}
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/* bound the wait for a reader that never takes its answer */
	uint64_t ms = c->l->cfg->notifyd.tcp_idle_timeout_ms;
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000 * 1000)};
	event_del(c->deadline);
	event_add(c->deadline, &tv);
}

/* Answer from the address the question went to (matters for wildcard sockets). */
static void set_source(struct msghdr *mh, uint8_t *room, const struct listener_dest *d)
{
	if (d->local_family == 0) {
		return;
	}
	memset(room, 0, CMSG_ROOM);
	mh->msg_control = room;
	mh->msg_controllen = CMSG_ROOM;
	struct cmsghdr *c = CMSG_FIRSTHDR(mh);
	if (d->local_family == AF_INET) {
		struct in_pktinfo pi = {.ipi_spec_dst = d->local4.ipi_addr};
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(d->local6));
		memcpy(CMSG_DATA(c), &d->local6, sizeof(d->local6));
		mh->msg_controllen = CMSG_SPACE(sizeof(d->local6));
	}
}

int listener_send(struct listener *l, const struct listener_dest *d, const uint8_t *buf,
                  size_t len)
{
	if (d->conn != NULL) {
		if (d->conn->bev == NULL) {
			return ZX_ECONNRESET;
		}
		uint8_t lb[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		if (bufferevent_write(d->conn->bev, lb, 2) != 0 ||
		    bufferevent_write(d->conn->bev, buf, len) != 0) {
			return ZX_EIO;
		}
		return 0;
	}
	if (len > UDP_BUF) {
		return ZX_EIO;
	}
	if (l->n_out == UDP_BATCH) {
		udp_flush(l);
	}
	size_t i = l->n_out++;
	l->out_fd[i] = d->fd;
	memcpy(l->out_buf[i], buf, len);
	memcpy(&l->out_addr[i], &d->peer, d->peer_len);
	l->out_iov[i] = (struct iovec){.iov_base = l->out_buf[i], .iov_len = len};
	l->out_mm[i].msg_hdr = (struct msghdr){.msg_name = &l->out_addr[i],
	                                       .msg_namelen = d->peer_len,
	                                       .msg_iov = &l->out_iov[i],
	                                       .msg_iovlen = 1};
	set_source(&l->out_mm[i].msg_hdr, l->out_cmsg[i], d);
	if (i == 0) {
		event_active(l->flush_ev, EV_TIMEOUT, 0);
	}
	return 0;
}

size_t listener_tcp_count(const struct listener *l)
{
	return l->n_conns;
}

uint16_t listener_port(const struct listener *l, size_t i)
{
	return i < l->n_udp ? l->ports[i] : 0;
}
