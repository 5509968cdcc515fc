/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/connector.c -- egress: direct, from a source address, or through SOCKS5.
 *
 *   start --direct DGRAM--> NOW (socket, bind, connect: done) ------------------> cb
 *         --direct STREAM--> CONNECT (writable) --------------------------------> cb
 *         --proxy--> PCONNECT --> GREET (send, recv 2) --userpass--> AUTH (send, recv 2)
 *                                      |                                |
 *                                      +--------------------------------+
 *                                      v
 *                     REQUEST (CONNECT / UDP ASSOCIATE: send, recv the reply) --> cb
 *
 * Every step that waits re-arms the one event with what is left of the deadline. */
#include "xfrd/xfr/connector.h"

#include "common/cfg/cfg.h"
#include "common/clock.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum step { S_IDLE = 0, S_NOW, S_CONNECT, S_PCONNECT, S_GREET, S_AUTH, S_REQUEST };

/* Socket receive buffer asked for on streams (the same as conn.c's: a transfer runs
 * on the socket once it is connected). */
#define STREAM_RCVBUF (4 * 1024 * 1024)

void connector_init(struct connector *c)
{
	memset(c, 0, offsetof(struct connector, buf));
	c->fd = -1;
}

bool connector_busy(const struct connector *c)
{
	return c->step != S_IDLE;
}

void connector_cancel(struct connector *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->step = S_IDLE;
}

int connector_socket(int family, int type, const struct cfg_endpoint *source)
{
	if (source != NULL && source->len != 0 && source->addr.ss_family != family) {
		return ZX_EINVAL;
	}
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return ZX_EIO;
	}
	if (source == NULL || source->len == 0) {
		return fd;
	}
	const struct sockaddr_in *in = (const struct sockaddr_in *)&source->addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&source->addr;
	in_port_t port = family == AF_INET ? in->sin_port : in6->sin6_port;
	int one = 1;
	if (port == 0 && type == SOCK_STREAM) {
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	} else if (port != 0) {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&source->addr, source->len) != 0) {
		close(fd);
		return ZX_EIO;
	}
	return fd;
}

/* ---- reporting ------------------------------------------------------------ */

static const char *step_name(const struct connector *c, int step)
{
	switch (step) {
	case S_PCONNECT:
		return "proxy connect";
	case S_GREET:
		return "proxy greeting";
	case S_AUTH:
		return "proxy auth";
	case S_REQUEST:
		return "proxy request";
	default:
		return c->path.proxy != NULL ? "proxy connect" : "connect";
	}
}

/* End with @p rc; @p rep: the proxy's reply code when it sent one. */
static void fail(struct connector *c, int rc, uint8_t rep)
{
	struct connector_fail f = {
		.at_proxy = c->path.proxy != NULL && rc != ZX_ESOCKS_UNREACHABLE && rc != ZX_ENOMEM &&
		            !c->local,
		.rep = rep,
		.step = c->local ? "bind source" : step_name(c, c->step),
	};
	connector_cancel(c);
	c->cb(c->arg, rc, NULL, &f);
}

static void succeed(struct connector *c, struct connector_out *out)
{
	c->fd = -1; /* the caller's now */
	connector_cancel(c);
	c->cb(c->arg, 0, out, NULL);
}

/* ---- waiting ---------------------------------------------------------------- */

static void on_event(evutil_socket_t fd, short what, void *arg);

static int watch(struct connector *c, struct event_base *base, int fd, short what)
{
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	c->ev = event_new(base, fd, what, on_event, c);
	if (c->ev == NULL) {
		return ZX_ENOMEM;
	}
	struct timeval tv = {0, 0};
	if (c->deadline_us != 0) {
		uint64_t now = clock_mono_us();
		uint64_t left = c->deadline_us > now ? c->deadline_us - now : 1;
		tv.tv_sec = (time_t)(left / 1000000);
		tv.tv_usec = (suseconds_t)(left % 1000000);
	}
	return event_add(c->ev, c->deadline_us != 0 ? &tv : NULL) == 0 ? 0 : ZX_ENOMEM;
}

/* Go to @p step: send c->buf[0..len) (len 0: nothing), then read @p need bytes. */
static void next(struct connector *c, int step, size_t len, size_t need)
{
	c->step = step;
	c->out_len = len;
	c->out_off = 0;
	c->have = 0;
	c->need = need;
	int rc = watch(c, event_get_base(c->ev), c->fd, len > 0 ? EV_WRITE | EV_PERSIST
	                                                        : EV_READ | EV_PERSIST);
	if (rc != 0) {
		fail(c, rc, 0);
	}
}

/* ---- the SOCKS5 exchange ---------------------------------------------------- */

static void send_request(struct connector *c)
{
	size_t len = 0;
	int rc;
	if (c->mode == CONNECTOR_STREAM) {
		rc = socks5_request(c->buf, SOCKS5_CMD_CONNECT, (const struct sockaddr *)&c->target,
		                    &len);
	} else {
		/* where we will send from is not known yet: any address, any port */
		struct sockaddr_storage any;
		memset(&any, 0, sizeof(any));
		any.ss_family = c->path.proxy->ep.addr.ss_family;
		rc = socks5_request(c->buf, SOCKS5_CMD_UDP_ASSOCIATE, (const struct sockaddr *)&any,
		                    &len);
	}
	if (rc != 0) {
		fail(c, rc, 0);
		return;
	}
	next(c, S_REQUEST, len, 5);
}

static void greeted(struct connector *c)
{
	uint8_t method = 0;
	bool userpass = c->path.proxy->user != NULL;
	int rc = socks5_method_parse(c->buf, c->have, userpass, &method);
	if (rc != 0) {
		fail(c, rc, 0);
	} else if (method == SOCKS5_METHOD_USERPASS) {
		size_t len = 0;
		rc = socks5_auth_request(c->buf, c->path.proxy->user, c->path.proxy->password, &len);
		if (rc != 0) {
			fail(c, rc, 0);
			return;
		}
		next(c, S_AUTH, len, 2);
	} else {
		send_request(c);
	}
}

/* A UDP association is set: a socket connected to the relay. */
static void associated(struct connector *c, const struct socks5_reply *r)
{
	struct sockaddr_storage relay = r->bnd;
	if (relay.ss_family != AF_INET && relay.ss_family != AF_INET6) {
		fail(c, ZX_ESOCKS, 0); /* a relay named by a domain: we do not resolve */
		return;
	}
	/* an unspecified relay address means "the proxy's own" (dante, ss-local) */
	struct sockaddr_in *in = (struct sockaddr_in *)&relay;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&relay;
	const struct sockaddr_storage *px = &c->path.proxy->ep.addr;
	if (relay.ss_family == AF_INET && in->sin_addr.s_addr == htonl(INADDR_ANY) &&
	    px->ss_family == AF_INET) {
		in->sin_addr = ((const struct sockaddr_in *)px)->sin_addr;
	} else if (relay.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) &&
	           px->ss_family == AF_INET6) {
		in6->sin6_addr = ((const struct sockaddr_in6 *)px)->sin6_addr;
	}
	socklen_t rlen = relay.ss_family == AF_INET ? sizeof(*in) : sizeof(*in6);
	const struct cfg_endpoint *src = c->path.source;
	if (src != NULL && src->len != 0 && src->addr.ss_family != relay.ss_family) {
		src = NULL;
	}
	struct connector_out out = {.ctl_fd = c->fd};
	out.fd = connector_socket(relay.ss_family, SOCK_DGRAM, src);
	int rc = out.fd < 0 ? out.fd : 0;
	if (rc == 0 && connect(out.fd, (const struct sockaddr *)&relay, rlen) != 0) {
		rc = zx_err_from_errno(errno);
		close(out.fd);
	}
	if (rc == 0) {
		rc = socks5_udp_hdr(out.hdr, (const struct sockaddr *)&c->target, &out.hdr_len);
		if (rc != 0) {
			close(out.fd);
		}
	}
	if (rc != 0) {
		fail(c, rc, 0);
		return;
	}
	succeed(c, &out);
}

static void replied(struct connector *c)
{
	struct socks5_reply r;
	size_t need = 0;
	int rc = socks5_reply_parse(c->buf, c->have, &r, &need);
	if (rc == ZX_ETRUNC) {
		c->need = need; /* the address's length is known now: read the rest */
		return;
	}
	if (rc != 0) {
		fail(c, rc, 0);
		return;
	}
	rc = socks5_rep_error(r.rep);
	if (rc != 0) {
		fail(c, rc, r.rep);
	} else if (c->mode == CONNECTOR_DGRAM) {
		associated(c, &r);
	} else {
		struct connector_out out = {.fd = c->fd, .ctl_fd = -1};
		succeed(c, &out);
	}
}

/* c->need bytes are in: act on them. */
static void received(struct connector *c)
{
	int rc;
	switch (c->step) {
	case S_GREET:
		greeted(c);
		break;
	case S_AUTH:
		rc = socks5_auth_parse(c->buf, c->have);
		if (rc != 0) {
			fail(c, rc, 0);
		} else {
			send_request(c);
		}
		break;
	case S_REQUEST:
		replied(c);
		break;
	default:
		break;
	}
}

/* ---- socket events ---------------------------------------------------------- */

static void connected(struct connector *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
		err = errno;
	}
	if (err != 0) {
		fail(c, zx_err_from_errno(err), 0);
		return;
	}
	if (c->path.proxy == NULL) {
		struct connector_out out = {.fd = c->fd, .ctl_fd = -1};
		succeed(c, &out);
		return;
	}
	next(c, S_GREET, socks5_greeting(c->buf, c->path.proxy->user != NULL), 2);
}

static void on_writable(struct connector *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->buf + c->out_off, c->out_len - c->out_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		if (n < 0) {
			fail(c, zx_err_from_errno(errno), 0);
			return;
		}
		c->out_off += (size_t)n;
	}
	next(c, c->step, 0, c->need);
}

static void on_readable(struct connector *c)
{
	while (c->step != S_IDLE && c->have < c->need) {
		/* exactly what the reply still needs: the target's bytes stay in the socket */
		ssize_t n = read(c->fd, c->buf + c->have, c->need - c->have);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		if (n <= 0) {
			fail(c, n == 0 ? ZX_ECONNRESET : zx_err_from_errno(errno), 0);
			return;
		}
		c->have += (size_t)n;
		if (c->have == c->need) {
			int step = c->step;
			received(c); /* may raise need (a reply's address), move on, or end */
			if (c->step != step || c->have == c->need) {
				return; /* the next step waits for its own event */
			}
		}
	}
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct connector *c = arg;
	if (c->step == S_NOW) {
		if (c->rc != 0) {
			fail(c, c->rc, 0);
		} else {
			struct connector_out out = {.fd = c->fd, .ctl_fd = -1};
			succeed(c, &out);
		}
	} else if (what & EV_TIMEOUT) {
		fail(c, ZX_ETIMEDOUT, 0);
	} else if (c->step == S_CONNECT || c->step == S_PCONNECT) {
		connected(c);
	} else if (what & EV_WRITE) {
		on_writable(c);
	} else if (what & EV_READ) {
		on_readable(c);
	}
}

/* ---- starting --------------------------------------------------------------- */

/* Socket, bind, and connect to @p to; *step S_NOW when that already settled it (c->rc). */
static void begin(struct connector *c, const struct sockaddr *to, socklen_t tolen, int type)
{
	c->fd = connector_socket(to->sa_family, type, c->path.source);
	if (c->fd < 0) {
		c->local = true; /* our side: no socket, or the source is not this host's */
		c->rc = c->fd;
		c->fd = -1;
		c->step = S_NOW;
		return;
	}
	if (type == SOCK_STREAM) {
		int one = 1, rcvbuf = STREAM_RCVBUF;
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	}
	if (connect(c->fd, to, tolen) == 0 || errno == EINPROGRESS) {
		c->step = type == SOCK_DGRAM ? S_NOW : c->path.proxy != NULL ? S_PCONNECT : S_CONNECT;
		return;
	}
	c->rc = zx_err_from_errno(errno);
	c->rc = c->rc == ZX_EIO ? ZX_ECONNREFUSED : c->rc;
	c->step = S_NOW;
}

int connector_start(struct connector *c, struct event_base *base, enum connector_mode mode,
                    const struct sockaddr *target, socklen_t target_len,
                    const struct connector_path *path, uint64_t timeout_ms, connector_cb cb,
                    void *arg)
{
	if ((target->sa_family != AF_INET && target->sa_family != AF_INET6) ||
	    target_len > sizeof(c->target)) {
		return ZX_EINVAL;
	}
	const struct cfg_proxy *px = path->proxy;
	if (px != NULL && px->user != NULL &&
	    (px->password == NULL || strlen(px->user) == 0 || strlen(px->user) > SOCKS5_CRED_MAX ||
	     strlen(px->password) == 0 || strlen(px->password) > SOCKS5_CRED_MAX)) {
		return ZX_EINVAL;
	}
	connector_cancel(c);
	c->mode = mode;
	c->path = *path;
	memcpy(&c->target, target, target_len);
	c->target_len = target_len;
	c->deadline_us = timeout_ms != 0 ? clock_mono_us() + timeout_ms * 1000 : 0;
	c->cb = cb;
	c->arg = arg;
	c->rc = 0;
	c->local = false;
	if (px != NULL) {
		begin(c, (const struct sockaddr *)&px->ep.addr, px->ep.len, SOCK_STREAM);
	} else {
		begin(c, target, target_len, mode == CONNECTOR_DGRAM ? SOCK_DGRAM : SOCK_STREAM);
	}
	int rc;
	if (c->step == S_NOW) {
		/* settled already: report from the loop, never from within this call */
		c->ev = event_new(base, -1, 0, on_event, c);
		rc = c->ev != NULL ? 0 : ZX_ENOMEM;
		if (rc == 0) {
			event_active(c->ev, EV_TIMEOUT, 0);
		}
	} else {
		rc = watch(c, base, c->fd, EV_WRITE | EV_PERSIST);
	}
	if (rc != 0) {
		connector_cancel(c);
	}
	return rc;
}
