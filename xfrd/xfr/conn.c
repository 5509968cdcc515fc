/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/conn.c -- DNS over TCP on libevent: connect, send one query, read frames. */
#include "xfrd/xfr/conn.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

void conn_init(struct conn *c)
{
	memset(c, 0, offsetof(struct conn, out));
	c->fd = -1;
	c->have = 0;
	c->buf = NULL;
}

void conn_close(struct conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->closed_in_cb = 1;
}

static struct timeval ms_tv(uint64_t ms)
{
	return (struct timeval){.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

/* Report a failure once; the conn stops watching its socket. */
static void fail(struct conn *c, int rc)
{
	if (c->ev != NULL) {
		event_del(c->ev);
	}
	(void)c->cb(c->arg, rc, NULL, 0);
}

static void on_event(evutil_socket_t fd, short what, void *arg);

static int watch(struct conn *c, struct event_base *base, short what, uint64_t ms)
{
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	c->ev = event_new(base, c->fd, what, on_event, c);
	if (c->ev == NULL) {
		return ZX_ENOMEM;
	}
	struct timeval tv = ms_tv(ms);
	return event_add(c->ev, ms != 0 ? &tv : NULL) == 0 ? 0 : ZX_ENOMEM;
}

/* Hand every complete frame to the callback. Returns 1 when told to stop or closed. */
static int deliver(struct conn *c)
{
	size_t off = 0;
	int stop = 0;
	while (!stop && c->have - off >= 2) {
		size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
		if (mlen == 0) {
			fail(c, ZX_EXFR);
			return 1;
		}
		if (c->have - off < 2 + mlen) {
			break;
		}
		c->messages++;
		c->closed_in_cb = 0;
		stop = c->cb(c->arg, 0, c->buf + off + 2, mlen) != 0;
		if (c->closed_in_cb) {
			return 1;
		}
		off += 2 + mlen;
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
	if (stop) {
		event_del(c->ev);
	}
	return stop;
}

static void on_readable(struct conn *c)
{
	for (int i = 0; i < 4; i++) {
		ssize_t n = read(c->fd, c->buf + c->have, CONN_BUF - c->have);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			return;
		}
		if (n < 0) {
			fail(c, zx_err_from_errno(errno));
			return;
		}
		if (n == 0) {
			fail(c, c->have > 0 ? ZX_EXFR : ZX_ECONNRESET);
			return;
		}
		c->bytes_in += (uint64_t)n;
		c->have += (size_t)n;
		if (deliver(c)) {
			return;
		}
	}
}

static void on_writable(struct conn *c)
{
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
			err = errno;
		}
		if (err != 0) {
			fail(c, zx_err_from_errno(err));
			return;
		}
		c->connecting = 0;
	}
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		if (n < 0) {
			fail(c, zx_err_from_errno(errno));
			return;
		}
		c->out_off += (size_t)n;
	}
	struct event_base *base = event_get_base(c->ev);
	int rc = watch(c, base, EV_READ | EV_PERSIST, c->read_ms);
	if (rc != 0) {
		fail(c, rc);
	}
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		fail(c, ZX_ETIMEDOUT);
	} else if (what & EV_WRITE) {
		on_writable(c);
	} else if (what & EV_READ) {
		on_readable(c);
	}
}

static int open_socket(const struct sockaddr *sa, socklen_t salen, int *connecting)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return ZX_EIO;
	}
	int one = 1;
	int rcvbuf = CONN_RCVBUF; /* the primary keeps sending while we hand a chunk to the store */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, sa, salen) == 0) {
		*connecting = 0;
		return fd;
	}
	if (errno != EINPROGRESS) {
		int rc = zx_err_from_errno(errno);
		close(fd);
		return rc == ZX_EIO ? ZX_ECONNREFUSED : rc;
	}
	*connecting = 1;
	return fd;
}

/* Take @p fd (connected, or connecting when @p connecting) and send the query;
 * @p write_ms bounds the connect and the send. */
static int start(struct conn *c, struct event_base *base, int fd, int connecting,
                 uint64_t write_ms, uint64_t read_ms, const uint8_t *query, size_t qlen,
                 uint8_t *buf, conn_cb cb, void *arg)
{
	c->fd = fd;
	c->connecting = connecting;
	c->bytes_in = c->messages = 0;
	c->read_ms = read_ms;
	c->cb = cb;
	c->arg = arg;
	c->buf = buf;
	c->have = 0;
	c->out[0] = (uint8_t)(qlen >> 8);
	c->out[1] = (uint8_t)qlen;
	memcpy(c->out + 2, query, qlen);
	c->out_len = qlen + 2;
	c->out_off = 0;
	int rc = watch(c, base, EV_WRITE | EV_PERSIST, write_ms);
	if (rc != 0) {
		conn_close(c);
	}
	return rc;
}

int conn_open(struct conn *c, struct event_base *base, const struct sockaddr *sa, socklen_t salen,
              uint64_t connect_ms, uint64_t read_ms, const uint8_t *query, size_t qlen,
              uint8_t *buf, conn_cb cb, void *arg)
{
	if (qlen > CONN_QUERY_MAX) {
		return ZX_EINVAL;
	}
	int connecting = 0;
	int fd = open_socket(sa, salen, &connecting);
	if (fd < 0) {
		return fd;
	}
	return start(c, base, fd, connecting, connect_ms, read_ms, query, qlen, buf, cb, arg);
}

int conn_open_fd(struct conn *c, struct event_base *base, int fd, uint64_t read_ms,
                 const uint8_t *query, size_t qlen, uint8_t *buf, conn_cb cb, void *arg)
{
	if (qlen > CONN_QUERY_MAX) {
		close(fd);
		return ZX_EINVAL;
	}
	return start(c, base, fd, 0, read_ms, read_ms, query, qlen, buf, cb, arg);
}

int conn_detach(struct conn *c)
{
	if (c->fd < 0 || c->connecting || c->out_off < c->out_len || c->have != 0) {
		return -1;
	}
	int fd = c->fd;
	c->fd = -1;
	conn_close(c);
	return fd;
}
