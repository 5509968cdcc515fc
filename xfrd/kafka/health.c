/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/health.c -- per-partition commit-progress map and the evhttp endpoint. */
#include "xfrd/kafka/health.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hpart {
	int32_t partition;
	int64_t committed;   /* highest confirmed commit; -1 none yet */
	int64_t progress_ms; /* last progress: assignment, a commit moving, a transfer
	                        ending, or no lag seen */
};

struct health_map {
	struct hpart *v;
	size_t n, cap;
};

struct health_map *health_map_new(void)
{
	return calloc(1, sizeof(struct health_map));
}

void health_map_free(struct health_map *m)
{
	if (m != NULL) {
		free(m->v);
		free(m);
	}
}

static struct hpart *find(const struct health_map *m, int32_t partition)
{
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].partition == partition) {
			return &m->v[i];
		}
	}
	return NULL;
}

int health_map_assign(struct health_map *m, int32_t partition, int64_t now_ms)
{
	if (find(m, partition) != NULL) {
		return ZX_EEXIST;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap == 0 ? 16 : m->cap * 2;
		struct hpart *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL) {
			return ZX_ENOMEM;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (struct hpart){.partition = partition, .committed = -1,
	                              .progress_ms = now_ms};
	return 0;
}

int health_map_revoke(struct health_map *m, int32_t partition)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	*p = m->v[--m->n];
	return 0;
}

int health_map_committed(struct health_map *m, int32_t partition, int64_t offset,
                         int64_t now_ms)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	if (offset > p->committed) {
		p->committed = offset;
		p->progress_ms = now_ms;
	}
	return 0;
}

int health_map_progress(struct health_map *m, int32_t partition, int64_t now_ms)
{
	struct hpart *p = find(m, partition);
	if (p == NULL) {
		return ZX_ENOENT;
	}
	p->progress_ms = now_ms > p->progress_ms ? now_ms : p->progress_ms;
	return 0;
}

int health_map_check(struct health_map *m, int64_t now_ms, uint64_t stall_ms, health_lag_fn lag,
                     void *arg, char *why, size_t whylen)
{
	int rc = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct hpart *p = &m->v[i];
		int64_t l = lag(arg, p->partition);
		if (l == 0) {
			p->progress_ms = now_ms;
			continue;
		}
		int64_t idle = now_ms - p->progress_ms;
		if (idle > (int64_t)stall_ms && rc == 0) {
			rc = ZX_ETIMEDOUT;
			if (why != NULL && whylen > 0) {
				snprintf(why, whylen, "partition %" PRId32 " lag %" PRId64
				         " no commit for %" PRId64 " ms", p->partition, l, idle);
			}
		}
	}
	return rc;
}

size_t health_map_size(const struct health_map *m)
{
	return m->n;
}

/* ---- HTTP --------------------------------------------------------------- */

struct health_http {
	struct evhttp *http;
	struct metrics *m;
	health_live_fn live;
	health_ready_fn ready;
	void *arg;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                  const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evbuffer_add(b, text, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct health_http *h = arg;
	char *text = NULL;
	size_t len = 0;
	if (metrics_render(h->m, &text, &len) != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4", text, len);
	free(text);
}

static void on_health(struct evhttp_request *req, void *arg)
{
	struct health_http *h = arg;
	char why[200] = "";
	char text[256];
	int rc = h->live(h->arg, why, sizeof(why));
	int n = snprintf(text, sizeof(text), rc == 0 ? "ok\n" : "stalled: %s\n", why);
	reply(req, rc == 0 ? HTTP_OK : 503, rc == 0 ? "OK" : "Service Unavailable", "text/plain",
	      text, (size_t)n);
}

static void on_ready(struct evhttp_request *req, void *arg)
{
	struct health_http *h = arg;
	char why[300] = "", text[320];
	bool ok = h->ready(h->arg, why, sizeof(why));
	int n = snprintf(text, sizeof(text), ok ? "ready\n" : why[0] != '\0' ? "not ready: %s\n"
	                                                                       : "not ready\n", why);
	reply(req, ok ? HTTP_OK : 503, ok ? "OK" : "Service Unavailable", "text/plain", text,
	      (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

int health_http_new(struct event_base *base, const struct cfg_endpoint *ep, struct metrics *m,
                    health_live_fn live, health_ready_fn ready, void *arg,
                    struct health_http **out)
{
	struct health_http *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return ZX_ENOMEM;
	}
	*h = (struct health_http){.m = m, .live = live, .ready = ready, .arg = arg};
	char a[ACL_ADDRSTRLEN];
	acl_addr_str((const struct sockaddr *)&ep->addr, false, a, sizeof(a));
	uint16_t port = ntohs(ep->addr.ss_family == AF_INET
	                              ? ((const struct sockaddr_in *)&ep->addr)->sin_port
	                              : ((const struct sockaddr_in6 *)&ep->addr)->sin6_port);
	int rc = ZX_ENOMEM;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		goto fail;
	}
	if (evhttp_bind_socket(h->http, a, port) != 0) {
		log_error("http_failed", "addr=%s port=%u", a, port);
		rc = ZX_EIO;
		goto fail;
	}
	if (evhttp_set_cb(h->http, "/metrics", on_metrics, h) != 0 ||
	    evhttp_set_cb(h->http, "/health", on_health, h) != 0 ||
	    evhttp_set_cb(h->http, "/ready", on_ready, h) != 0) {
		goto fail;
	}
	log_info("http_listening", "addr=%s port=%u", a, port);
	*out = h;
	return 0;
fail:
	health_http_free(h);
	return rc;
}

void health_http_free(struct health_http *h)
{
	if (h != NULL) {
		if (h->http != NULL) {
			evhttp_free(h->http);
		}
		free(h);
	}
}
