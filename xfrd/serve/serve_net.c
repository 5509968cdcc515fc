/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve_net.c -- the sockets of xfrd's DNS endpoint on a libevent loop.
 *
 * UDP: one socket per xfrd.listen endpoint, read in batches; the answer leaves
 * from the address the query came to (IP_PKTINFO / IPV6_PKTINFO), so wildcard
 * listeners work on hosts with several addresses.
 * TCP: one listener per endpoint; per connection one query is answered at a
 * time (reading is off meanwhile, so a transfer is not cut by the idle timer).
 * A transfer's messages are produced only while less than serve_opts.tcp_queue
 * bytes wait in the output buffer; the write callback (low watermark at half
 * of it) produces more as the client drains them, so a slow reader costs one
 * bounded buffer and never blocks the loop. When a transfer's client has left
 * the output full for serve_opts.snapshot_hold_ms, the transfer is paused
 * (serve_reply_pause(): its store snapshot goes; the next message takes a new
 * one). A connection that neither sends a query nor drains its output for
 * serve_opts.tcp_idle_ms is closed.
 * TLS (xfrd.serve.tls, RFC 9103): listeners of their own; each connection is the same
 * as a TCP one inside an OpenSSL bufferevent (libevent_openssl), its queries counted
 * as SERVE_TLS, or SERVE_TLS_CERT once the client's certificate verified. A TLS
 * connection that ends before its first query (a failed handshake, mostly) is counted.
 */
#include "xfrd/serve/serve.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/serve/serve_internal.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/** UDP datagrams read per readiness callback before yielding to the loop. */
#define UDP_BATCH 64

struct serve_conn {
	struct serve_net *net;
	struct bufferevent *bev;
	struct event *hold;        /**< the client stalled a transfer: pause it */
	struct sockaddr_storage peer;
	struct serve_reply *reply; /**< the answer being written; NULL between queries */
	bool tls;                  /**< an XoT connection */
	bool queried;              /**< a query came (a TLS one ending before: counted) */
	struct serve_conn *prev, *next;
};

struct serve_udp {
	struct serve_net *net;
	int fd;
	struct event *ev;
};

struct serve_net {
	struct serve *sv;
	struct event_base *base;
	size_t n;                     /**< endpoints */
	struct serve_udp *udp;        /**< n of them */
	struct evconnlistener **tcp;  /**< n of them */
	uint16_t *ports;              /**< n bound ports */
	size_t ntls;                  /**< xfrd.serve.tls endpoints */
	struct evconnlistener **tls;  /**< ntls of them */
	uint16_t *tls_ports;
	struct serve_conn *conns;     /**< open TCP connections */
	size_t nconns;
	uint8_t buf[SERVE_MSG_MAX + 2]; /**< one query in, one message out (2-byte prefix first) */
};

static void set_conn_gauge(struct serve_net *net)
{
	if (net->sv->o.metrics != NULL) {
		metrics_set(net->sv->m.tcp_conns, (int64_t)net->nconns);
	}
}

/* ------------------------------------------------------------ UDP */

/* Receive one datagram with the local address it came to (in @p ctl). */
static ssize_t udp_recv(int fd, uint8_t *buf, size_t size, struct sockaddr_storage *peer,
                        uint8_t *ctl, size_t ctl_size, size_t *ctl_len)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr mh = {.msg_name = peer, .msg_namelen = sizeof(*peer), .msg_iov = &iov,
	                    .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = ctl_size};
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	*ctl_len = mh.msg_controllen;
	return n;
}

/* Answer from the address the query came to: keep only the PKTINFO cmsg. */
static void udp_send(int fd, const uint8_t *buf, size_t len, const struct sockaddr_storage *peer,
                     uint8_t *ctl, size_t ctl_len)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_name = (void *)peer, .msg_iov = &iov, .msg_iovlen = 1};
	mh.msg_namelen = peer->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                              : sizeof(struct sockaddr_in);
	struct msghdr probe = {.msg_control = ctl, .msg_controllen = ctl_len};
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&probe); c != NULL; c = CMSG_NXTHDR(&probe, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)) {
			if (c->cmsg_type == IP_PKTINFO && c->cmsg_level == IPPROTO_IP) {
				struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);
				pi->ipi_ifindex = 0; /* route by the source address alone */
			}
			mh.msg_control = c;
			mh.msg_controllen = c->cmsg_len;
			break;
		}
	}
	(void)sendmsg(fd, &mh, MSG_DONTWAIT); /* UDP: a lost answer is retried by the client */
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve_udp *u = arg;
	struct serve_net *net = u->net;
	uint8_t ctl[256];
	(void)what;
	for (int i = 0; i < UDP_BATCH; i++) {
		struct sockaddr_storage peer;
		size_t ctl_len = 0;
		ssize_t n = udp_recv(fd, net->buf, sizeof(net->buf), &peer, ctl, sizeof(ctl), &ctl_len);
		if (n < 0) {
			break;
		}
		uint64_t now = (uint64_t)clock_wall_s();
		struct serve_reply *r = NULL;
		size_t len = 0;
		if (serve_query(net->sv, net->buf, (size_t)n, (struct sockaddr *)&peer, SERVE_UDP,
		                now, &r) != 0) {
			continue;
		}
		if (serve_reply_next(r, net->buf, sizeof(net->buf), now, &len) == 1) {
			udp_send(fd, net->buf, len, &peer, ctl, ctl_len);
		}
		serve_reply_free(r);
	}
}

/* ------------------------------------------------------------ TCP */

static void conn_free(struct serve_conn *c)
{
	struct serve_net *net = c->net;
	if (c->tls && !c->queried && net->sv->o.metrics != NULL) {
		metrics_add(net->sv->m.tls_hs_failures, 1);
	}
	serve_reply_free(c->reply);
	if (c->hold != NULL) {
		event_free(c->hold);
	}
	bufferevent_free(c->bev);
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		net->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	net->nconns--;
	set_conn_gauge(net);
	free(c);
}

/* Take the next complete query from the input and decide on it.
 * @return 1 a reply started; 0 no complete query yet; < 0 close the connection */
static int conn_query(struct serve_conn *c)
{
	struct serve_net *net = c->net;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t pre[2];
	if (evbuffer_copyout(in, pre, 2) != 2) {
		return 0;
	}
	size_t mlen = (size_t)pre[0] << 8 | pre[1];
	if (evbuffer_get_length(in) < 2 + mlen) {
		return 0;
	}
	if (evbuffer_drain(in, 2) != 0 || evbuffer_remove(in, net->buf, mlen) != (int)mlen) {
		return ZX_EIO;
	}
	enum serve_proto proto = SERVE_TCP;
	if (c->tls) {
		proto = serve_tls_proto(bufferevent_openssl_get_ssl(c->bev));
	}
	c->queried = true;
	int rc = serve_query(net->sv, net->buf, mlen, (struct sockaddr *)&c->peer, proto,
	                     (uint64_t)clock_wall_s(), &c->reply);
	if (rc != 0) {
		return rc; /* garbage or a response on a stream: nothing sensible follows */
	}
	bufferevent_disable(c->bev, EV_READ);
	return 1;
}

/* The output is full with a transfer going on: if the client does not take some
 * within snapshot_hold_ms, the transfer lets go of its snapshot (hold_cb). */
static void conn_stalled(struct serve_conn *c)
{
	uint64_t ms = c->net->sv->o.snapshot_hold_ms;
	if (!serve_reply_is_transfer(c->reply)) {
		return;
	}
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	if (ms > 0 && (event_pending(c->hold, EV_TIMEOUT, NULL) || event_add(c->hold, &tv) == 0)) {
		return;
	}
	if (serve_reply_pause(c->reply) != 0) { /* at once (hold 0, or no timer) */
		conn_free(c); /* the transfer cannot go on: close, it is logged */
	}
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct serve_conn *c = arg;
	(void)fd;
	(void)what;
	if (c->reply != NULL && serve_reply_pause(c->reply) != 0) {
		conn_free(c);
	}
}

/* Answer queries and produce messages until the output is full enough, the
 * input has no complete query, or the connection must close. */
static void conn_run(struct serve_conn *c)
{
	struct serve_net *net = c->net;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	event_del(c->hold); /* the client takes messages again */
	for (;;) {
		if (c->reply == NULL) {
			int rc = conn_query(c);
			if (rc <= 0) {
				if (rc < 0) {
					conn_free(c);
				}
				return;
			}
		}
		if (evbuffer_get_length(out) >= net->sv->o.tcp_queue) {
			conn_stalled(c); /* the write callback comes back when it drains */
			return;
		}
		size_t len = 0;
		int rc = serve_reply_next(c->reply, net->buf + 2, SERVE_MSG_MAX,
		                          (uint64_t)clock_wall_s(), &len);
		if (rc == 1) {
			net->buf[0] = (uint8_t)(len >> 8);
			net->buf[1] = (uint8_t)len;
			if (evbuffer_add(out, net->buf, len + 2) != 0) {
				conn_free(c);
				return;
			}
			continue;
		}
		serve_reply_free(c->reply);
		c->reply = NULL;
		if (rc < 0) {
			conn_free(c); /* a broken transfer must not look complete */
			return;
		}
		bufferevent_enable(c->bev, EV_READ);
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_run(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct serve_conn *c = arg;
	(void)bev;
	if (c->reply != NULL) {
		conn_run(c);
	}
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		conn_free(arg);
	}
}

/* The connection's bufferevent: plain, or TLS accepting (the SSL taken by it). */
static struct bufferevent *conn_bev(struct serve_net *net, evutil_socket_t fd, bool tls)
{
	if (!tls) {
		return bufferevent_socket_new(net->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	SSL *ssl = SSL_new(net->sv->tls_ctx);
	if (ssl == NULL) {
		return NULL;
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
	        net->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1); /* a client that just closes */
	return bev;
}

static int conn_setup(struct serve_net *net, struct serve_conn *c, evutil_socket_t fd)
{
	const struct serve_opts *o = &net->sv->o;
	c->bev = conn_bev(net, fd, c->tls);
	c->hold = evtimer_new(net->base, hold_cb, c);
	if (c->bev == NULL || c->hold == NULL) {
		return ZX_ENOMEM;
	}
	struct timeval idle = {.tv_sec = (time_t)(o->tcp_idle_ms / 1000),
	                       .tv_usec = (suseconds_t)(o->tcp_idle_ms % 1000) * 1000};
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, SERVE_MSG_MAX + 2);
	bufferevent_setwatermark(c->bev, EV_WRITE, o->tcp_queue / 2, 0);
	if (bufferevent_set_timeouts(c->bev, &idle, &idle) != 0 ||
	    bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0) {
		return ZX_EIO;
	}
	return 0;
}

static void accept_any(struct serve_net *net, evutil_socket_t fd, struct sockaddr *sa, int len,
                       bool tls);

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	(void)l;
	accept_any(arg, fd, sa, len, false);
}

static void accept_tls_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                          int len, void *arg)
{
	(void)l;
	accept_any(arg, fd, sa, len, true);
}

static void accept_any(struct serve_net *net, evutil_socket_t fd, struct sockaddr *sa, int len,
                       bool tls)
{
	struct serve_conn *c = NULL;
	if (net->nconns >= net->sv->o.tcp_max || (size_t)len > sizeof(c->peer) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		if (net->sv->o.metrics != NULL) {
			metrics_add(net->sv->m.tcp_rejected, 1);
		}
		evutil_closesocket(fd);
		return;
	}
	c->net = net;
	c->tls = tls;
	memcpy(&c->peer, sa, (size_t)len);
	if (conn_setup(net, c, fd) != 0) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
		} else {
			evutil_closesocket(fd);
		}
		if (c->hold != NULL) {
			event_free(c->hold);
		}
		free(c);
		return;
	}
	c->next = net->conns;
	if (net->conns != NULL) {
		net->conns->prev = c;
	}
	net->conns = c;
	net->nconns++;
	set_conn_gauge(net);
}

/* ------------------------------------------------------------ sockets */

static uint16_t sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static void sa_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6) {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	} else {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	}
}

static int udp_open(const struct sockaddr_storage *ss, socklen_t sl, uint16_t *port)
{
	int one = 1;
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	bool v6 = ss->ss_family == AF_INET6;
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	if ((v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVPKTINFO : IP_PKTINFO, &one,
	               sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
		close(fd);
		return -1;
	}
	*port = sa_port(&bound);
	return fd;
}

/* Endpoint @p i: UDP first (so port 0 picks one), then TCP on the same port. */
static int open_endpoint(struct serve_net *net, size_t i, const struct cfg_endpoint *ep)
{
	struct sockaddr_storage ss = ep->addr;
	char text[ACL_ADDRSTRLEN];
	struct serve_udp *u = &net->udp[i];
	u->net = net;
	u->fd = udp_open(&ss, ep->len, &net->ports[i]);
	if (u->fd >= 0) {
		sa_set_port(&ss, net->ports[i]);
		u->ev = event_new(net->base, u->fd, EV_READ | EV_PERSIST, udp_cb, u);
		net->tcp[i] = evconnlistener_new_bind(
		        net->base, accept_cb, net,
		        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
		                (ss.ss_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
		        128, (struct sockaddr *)&ss, (int)ep->len);
	}
	if (u->fd < 0 || u->ev == NULL || net->tcp[i] == NULL || event_add(u->ev, NULL) != 0) {
		log_error("serve_listen_failed", "address=%s error=%s",
		          acl_addr_str((const struct sockaddr *)&ss, true, text, sizeof(text)),
		          strerror(errno));
		return ZX_EIO;
	}
	log_info("serve_listening", "address=%s",
	         acl_addr_str((const struct sockaddr *)&ss, true, text, sizeof(text)));
	return 0;
}

/* XoT endpoint @p i (xfrd.serve.tls.listen): a TCP listener whose connections speak TLS. */
static int open_tls_endpoint(struct serve_net *net, size_t i, const struct cfg_endpoint *ep)
{
	struct sockaddr_storage ss = ep->addr;
	char text[ACL_ADDRSTRLEN];
	net->tls[i] = evconnlistener_new_bind(
	        net->base, accept_tls_cb, net,
	        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
	                (ss.ss_family == AF_INET6 ? LEV_OPT_BIND_IPV6ONLY : 0),
	        128, (struct sockaddr *)&ss, (int)ep->len);
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	if (net->tls[i] == NULL ||
	    getsockname(evconnlistener_get_fd(net->tls[i]), (struct sockaddr *)&bound, &bl) != 0) {
		log_error("serve_listen_failed", "address=%s transport=tls error=%s",
		          acl_addr_str((const struct sockaddr *)&ss, true, text, sizeof(text)),
		          strerror(errno));
		return ZX_EIO;
	}
	net->tls_ports[i] = sa_port(&bound);
	log_info("serve_listening", "address=%s transport=tls",
	         acl_addr_str((const struct sockaddr *)&bound, true, text, sizeof(text)));
	return 0;
}

/* The TLS context and the listeners of xfrd.serve.tls, when configured. */
static int open_tls(struct serve_net *net)
{
	struct serve *sv = net->sv;
	const struct cfg_serve_tls *c = &sv->o.cfg->xfrd.serve_tls;
	if (c->listen.count == 0) {
		return 0;
	}
	if (sv->tls_ctx == NULL) {
		char detail[400] = "", q[420];
		int rc = serve_tls_ctx(c, &sv->tls_ctx, detail, sizeof(detail));
		if (rc != 0) {
			log_error("serve_tls_failed", "error=%s detail=%s", zx_strerror(rc),
			          log_quote(detail, q, sizeof(q)));
			return rc;
		}
	}
	net->tls = calloc(c->listen.count, sizeof(*net->tls));
	net->tls_ports = calloc(c->listen.count, sizeof(*net->tls_ports));
	if (net->tls == NULL || net->tls_ports == NULL) {
		return ZX_ENOMEM;
	}
	net->ntls = c->listen.count;
	for (size_t i = 0; i < net->ntls; i++) {
		if (open_tls_endpoint(net, i, &c->listen.v[i]) != 0) {
			return ZX_EIO;
		}
	}
	return 0;
}

static void net_free(struct serve_net *net)
{
	while (net->conns != NULL) {
		conn_free(net->conns);
	}
	for (size_t i = 0; i < net->ntls; i++) {
		if (net->tls[i] != NULL) {
			evconnlistener_free(net->tls[i]);
		}
	}
	free(net->tls);
	free(net->tls_ports);
	for (size_t i = 0; i < net->n; i++) {
		if (net->tcp[i] != NULL) {
			evconnlistener_free(net->tcp[i]);
		}
		if (net->udp[i].ev != NULL) {
			event_free(net->udp[i].ev);
		}
		if (net->udp[i].fd >= 0) {
			close(net->udp[i].fd);
		}
	}
	free(net->udp);
	free(net->tcp);
	free(net->ports);
	free(net);
}

int serve_start(struct serve *sv, struct event_base *base)
{
	const struct cfg_endpoints *eps = &sv->o.cfg->xfrd.listen;
	if (sv->net != NULL || eps->count == 0 || base == NULL) {
		return ZX_EINVAL;
	}
	struct serve_net *net = calloc(1, sizeof(*net));
	if (net == NULL) {
		return ZX_ENOMEM;
	}
	net->sv = sv;
	net->base = base;
	net->n = eps->count;
	net->udp = calloc(eps->count, sizeof(*net->udp));
	net->tcp = calloc(eps->count, sizeof(*net->tcp));
	net->ports = calloc(eps->count, sizeof(*net->ports));
	if (net->udp == NULL || net->tcp == NULL || net->ports == NULL) {
		net->n = 0;
		net_free(net);
		return ZX_ENOMEM;
	}
	for (size_t i = 0; i < net->n; i++) {
		net->udp[i].fd = -1;
	}
	for (size_t i = 0; i < net->n; i++) {
		if (open_endpoint(net, i, &eps->v[i]) != 0) {
			net_free(net);
			return ZX_EIO;
		}
	}
	int rc = open_tls(net);
	if (rc != 0) {
		net_free(net);
		return rc;
	}
	sv->net = net;
	return 0;
}

uint16_t serve_tls_bound_port(const struct serve *sv, size_t i)
{
	return sv->net != NULL && i < sv->net->ntls ? sv->net->tls_ports[i] : 0;
}

uint16_t serve_bound_port(const struct serve *sv, size_t i)
{
	return sv->net != NULL && i < sv->net->n ? sv->net->ports[i] : 0;
}

void serve_stop(struct serve *sv)
{
	if (sv->net != NULL) {
		net_free(sv->net);
		sv->net = NULL;
	}
}
