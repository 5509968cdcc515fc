/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/connpool.c -- idle TCP connections to primaries: a short list per event base. */
#include "xfrd/xfr/connpool.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "xfrd/xfr/connector.h"

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The egress of a kept connection, copied (the settings it came from may go). */
struct via {
	struct cfg_endpoint source; /* len 0: none */
	bool proxied;
	struct cfg_endpoint proxy;
	bool has_user;
	char user[SOCKS5_CRED_MAX + 1];
	const struct xot_client *tls; /* lives as long as the engine's xot table */
};

struct idle {
	struct connpool *p;
	struct idle *next;
	int fd;
	SSL *ssl; /* the socket's TLS session; NULL: plain */
	struct sockaddr_storage sa;
	struct via via;
	struct event *ev; /* readable (closed or unasked bytes) or idle too long */
};

static void via_copy(struct via *v, const struct connector_path *path)
{
	memset(v, 0, sizeof(*v));
	if (path == NULL) {
		return;
	}
	if (path->source != NULL) {
		v->source = *path->source;
	}
	v->tls = path->tls;
	if (path->proxy != NULL) {
		v->proxied = true;
		v->proxy = path->proxy->ep;
		if (path->proxy->user != NULL) {
			v->has_user = true;
			snprintf(v->user, sizeof(v->user), "%s", path->proxy->user);
		}
	}
}

static bool ep_equal(const struct cfg_endpoint *a, const struct cfg_endpoint *b)
{
	if (a->len == 0 || b->len == 0) {
		return a->len == b->len;
	}
	return acl_endpoint_equal((const struct sockaddr *)&a->addr, (const struct sockaddr *)&b->addr);
}

static bool via_equal(const struct via *a, const struct via *b)
{
	return ep_equal(&a->source, &b->source) && a->proxied == b->proxied && a->tls == b->tls &&
	       (!a->proxied || (ep_equal(&a->proxy, &b->proxy) && a->has_user == b->has_user &&
	                        strcmp(a->user, b->user) == 0));
}

struct connpool {
	struct event_base *base;
	size_t per_peer;
	uint64_t idle_ms;
	size_t count;
	struct idle *head; /* most recently put first: the warmest socket is taken */
};

int connpool_new(struct event_base *base, size_t per_peer, uint64_t idle_ms, struct connpool **out)
{
	if (base == NULL || per_peer == 0 || idle_ms == 0) {
		return ZX_EINVAL;
	}
	struct connpool *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->base = base;
	p->per_peer = per_peer;
	p->idle_ms = idle_ms;
	*out = p;
	return 0;
}

/* Close a kept socket and its TLS session (close_notify first). */
static void close_kept(int fd, SSL *ssl)
{
	if (ssl != NULL) {
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
		SSL_free(ssl);
	}
	close(fd);
}

/* Unlink @p it (found through @p link) and free it; its socket (and its TLS session,
 * into @p ssl) are the caller's. */
static int unlink_idle(struct connpool *p, struct idle **link, SSL **ssl)
{
	struct idle *it = *link;
	int fd = it->fd;
	*ssl = it->ssl;
	*link = it->next;
	p->count--;
	event_free(it->ev);
	free(it);
	return fd;
}

static void on_idle_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct idle *it = arg;
	struct connpool *p = it->p;
	for (struct idle **l = &p->head; *l != NULL; l = &(*l)->next) {
		if (*l == it) {
			SSL *ssl = NULL;
			int kfd = unlink_idle(p, l, &ssl);
			close_kept(kfd, ssl);
			return;
		}
	}
}

int connpool_take_tls(struct connpool *p, const struct sockaddr *sa,
                      const struct connector_path *via, struct ssl_st **ssl)
{
	struct via v;
	via_copy(&v, via);
	*ssl = NULL;
	for (struct idle **l = &p->head; *l != NULL; l = &(*l)->next) {
		if (acl_endpoint_equal((const struct sockaddr *)&(*l)->sa, sa) &&
		    via_equal(&(*l)->via, &v)) {
			return unlink_idle(p, l, ssl);
		}
	}
	return -1;
}

int connpool_take(struct connpool *p, const struct sockaddr *sa, const struct connector_path *via)
{
	SSL *ssl = NULL;
	int fd = connpool_take_tls(p, sa, via, &ssl);
	if (ssl != NULL) { /* a TLS path asked for as plain: not usable so */
		close_kept(fd, ssl);
		return -1;
	}
	return fd;
}

void connpool_put(struct connpool *p, const struct sockaddr *sa, socklen_t salen,
                  const struct connector_path *via, int fd)
{
	connpool_put_tls(p, sa, salen, via, fd, NULL);
}

void connpool_put_tls(struct connpool *p, const struct sockaddr *sa, socklen_t salen,
                      const struct connector_path *via, int fd, struct ssl_st *ssl)
{
	size_t same = 0;
	for (struct idle *it = p->head; it != NULL; it = it->next) {
		same += acl_endpoint_equal((const struct sockaddr *)&it->sa, sa);
	}
	struct idle *it = same < p->per_peer && salen <= sizeof(it->sa) ? calloc(1, sizeof(*it))
	                                                                 : NULL;
	if (it == NULL) {
		close_kept(fd, ssl);
		return;
	}
	it->p = p;
	it->fd = fd;
	it->ssl = ssl;
	memcpy(&it->sa, sa, salen);
	via_copy(&it->via, via);
	it->ev = event_new(p->base, fd, EV_READ, on_idle_event, it);
	struct timeval tv = {.tv_sec = (time_t)(p->idle_ms / 1000),
	                     .tv_usec = (suseconds_t)(p->idle_ms % 1000) * 1000};
	if (it->ev == NULL || event_add(it->ev, &tv) != 0) {
		if (it->ev != NULL) {
			event_free(it->ev);
		}
		free(it);
		close_kept(fd, ssl);
		return;
	}
	it->next = p->head;
	p->head = it;
	p->count++;
}

size_t connpool_idle(const struct connpool *p)
{
	return p->count;
}

void connpool_free(struct connpool *p)
{
	if (p == NULL) {
		return;
	}
	while (p->head != NULL) {
		SSL *ssl = NULL;
		int fd = unlink_idle(p, &p->head, &ssl);
		close_kept(fd, ssl);
	}
	free(p);
}
