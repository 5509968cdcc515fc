/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/conn.c -- DNS over TCP on libevent: connect, send one query, read frames. */
#include "xfrd/xfr/conn.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <unistd.h>

void conn_init(struct conn *c)
{
	memset(c, 0, offsetof(struct conn, out));
	c->fd = -1;
	c->have = 0;
	c->buf = NULL;
}

static void tls_close(struct conn *c)
{
	if (c->ssl == NULL) {
		return;
	}
	if (!c->ssl_fatal && c->fd >= 0) {
		(void)SSL_shutdown(c->ssl); /* close_notify, as far as the socket takes it */
	}
	ERR_clear_error();
	SSL_free(c->ssl);
	c->ssl = NULL;
}

void conn_close(struct conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	tls_close(c);
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

/* SSL_read/SSL_write's result as read()/write() would give it: bytes, 0 closed, -1
 * with errno EAGAIN (wait for the socket), or ZX_ETLS-worthy failure (errno EPROTO). */
static ssize_t tls_io(struct conn *c, int n)
{
	if (n > 0) {
		return n;
	}
	int err = SSL_get_error(c->ssl, n);
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN: /* close_notify */
		return 0;
	case SSL_ERROR_SYSCALL:
		c->ssl_fatal = 1;
		if (ERR_peek_error() == 0 && errno == 0) {
			return 0; /* EOF without close_notify */
		}
		errno = errno != 0 ? errno : EIO;
		return -1;
	default:
		c->ssl_fatal = 1;
		c->tls_err = ERR_peek_error();
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

static ssize_t rd(struct conn *c, uint8_t *p, size_t n)
{
	if (c->ssl == NULL) {
		return read(c->fd, p, n);
	}
	ERR_clear_error();
	errno = 0;
	return tls_io(c, SSL_read(c->ssl, p, (int)n));
}

static ssize_t wr(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->ssl == NULL) {
		return write(c->fd, p, n);
	}
	ERR_clear_error();
	errno = 0;
	return tls_io(c, SSL_write(c->ssl, p, (int)n));
}

static int io_err(int e)
{
	return e == EPROTO ? ZX_ETLS : zx_err_from_errno(e);
}

static void on_readable(struct conn *c)
{
	for (int i = 0; i < 4; i++) {
		ssize_t n = rd(c, c->buf + c->have, CONN_BUF - c->have);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			return;
		}
		if (n < 0) {
			fail(c, io_err(errno));
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
	if (c->ssl != NULL && SSL_pending(c->ssl) > 0) {
		/* decrypted already: the socket may never wake us for it */
		event_active(c->ev, EV_READ, 0);
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
		ssize_t n = wr(c, c->out + c->out_off, c->out_len - c->out_off);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			return;
		}
		if (n <= 0) {
			fail(c, n == 0 ? ZX_ECONNRESET : io_err(errno));
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

int conn_open_tls(struct conn *c, struct event_base *base, int fd, struct ssl_st *ssl,
                  uint64_t read_ms, const uint8_t *query, size_t qlen, uint8_t *buf, conn_cb cb,
                  void *arg)
{
	if (qlen > CONN_QUERY_MAX) {
		SSL_free(ssl);
		close(fd);
		return ZX_EINVAL;
	}
	c->ssl = ssl;
	c->ssl_fatal = 0;
	c->tls_err = 0;
	return start(c, base, fd, 0, read_ms, read_ms, query, qlen, buf, cb, arg);
}

int conn_detach(struct conn *c, struct ssl_st **ssl)
{
	if (c->fd < 0 || c->connecting || c->out_off < c->out_len || c->have != 0 ||
	    (c->ssl != NULL && (c->ssl_fatal || SSL_pending(c->ssl) > 0))) {
		return -1;
	}
	int fd = c->fd;
	*ssl = c->ssl;
	c->ssl = NULL;
	c->fd = -1;
	conn_close(c);
	return fd;
}
