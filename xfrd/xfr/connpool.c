/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/connpool.c -- idle TCP connections to primaries: a short list per event base. */
#include "xfrd/xfr/connpool.h"

#include "common/acl.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct idle {
	struct connpool *p;
	struct idle *next;
	int fd;
	struct sockaddr_storage sa;
	struct event *ev; /* readable (closed or unasked bytes) or idle too long */
};

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

/* Unlink @p it (found through @p link) and free it; its socket is the caller's. */
static int unlink_idle(struct connpool *p, struct idle **link)
{
	struct idle *it = *link;
	int fd = it->fd;
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
			close(unlink_idle(p, l));
			return;
		}
	}
}

int connpool_take(struct connpool *p, const struct sockaddr *sa)
{
	for (struct idle **l = &p->head; *l != NULL; l = &(*l)->next) {
		if (acl_endpoint_equal((const struct sockaddr *)&(*l)->sa, sa)) {
			return unlink_idle(p, l);
		}
	}
	return -1;
}

void connpool_put(struct connpool *p, const struct sockaddr *sa, socklen_t salen, int fd)
{
	size_t same = 0;
	for (struct idle *it = p->head; it != NULL; it = it->next) {
		same += acl_endpoint_equal((const struct sockaddr *)&it->sa, sa);
	}
	struct idle *it = same < p->per_peer && salen <= sizeof(it->sa) ? calloc(1, sizeof(*it))
	                                                                 : NULL;
	if (it == NULL) {
		close(fd);
		return;
	}
	it->p = p;
	it->fd = fd;
	memcpy(&it->sa, sa, salen);
	it->ev = event_new(p->base, fd, EV_READ, on_idle_event, it);
	struct timeval tv = {.tv_sec = (time_t)(p->idle_ms / 1000),
	                     .tv_usec = (suseconds_t)(p->idle_ms % 1000) * 1000};
	if (it->ev == NULL || event_add(it->ev, &tv) != 0) {
		if (it->ev != NULL) {
			event_free(it->ev);
		}
		free(it);
		close(fd);
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
		close(unlink_idle(p, &p->head));
	}
	free(p);
}
