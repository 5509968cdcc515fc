/* SPDX-License-Identifier: MIT */
/* common/ops/opshttp.c -- /metrics, /health, /ready on libevent's evhttp. */
#include "common/ops/opshttp.h"

#include "common/acl.h"
#include "common/log.h"
#include "common/metrics.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opshttp {
	struct opshttp_opts o;
	struct evhttp *http;
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
	struct opshttp *h = arg;
	char *text = NULL;
	size_t len = 0;
	if (metrics_render(h->o.m, &text, &len) != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	reply(req, HTTP_OK, "OK", "text/plain; version=0.0.4", text, len);
	free(text);
}

static void probe(struct evhttp_request *req, opshttp_probe_fn fn, void *arg)
{
	struct opshttp_answer a = {0};
	fn(arg, &a);
	char line[sizeof(a.text) + 1];
	int n = snprintf(line, sizeof(line), "%s\n", a.text);
	reply(req, a.ok ? HTTP_OK : HTTP_SERVUNAVAIL,
	      a.ok ? "OK" : a.reason != NULL ? a.reason : "Service Unavailable", "text/plain",
	      line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void on_health(struct evhttp_request *req, void *arg)
{
	struct opshttp *h = arg;
	probe(req, h->o.live, h->o.arg);
}

static void on_ready(struct evhttp_request *req, void *arg)
{
	struct opshttp *h = arg;
	probe(req, h->o.ready, h->o.arg);
}

#ifndef ZX_VERSION
#define ZX_VERSION "unknown"
#endif

int64_t opshttp_process_start(void)
{
	char buf[1024];
	unsigned long long ticks = 0, btime = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f != NULL) {
		fclose(f);
	}
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command may hold blanks and parentheses */
	/* after ") ": state (field 3) ... starttime (field 22): skip 19 fields */
	for (int i = 0; p != NULL && i < 20; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1) {
		return 0;
	}
	f = fopen("/proc/stat", "r");
	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
		if (sscanf(buf, "btime %llu", &btime) == 1) {
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	long hz = sysconf(_SC_CLK_TCK);
	return btime > 0 && hz > 0 ? (int64_t)(btime + ticks / (unsigned long long)hz) : 0;
}

static int process_metrics(struct metrics *m, const char *name)
{
	char labels[64];
	snprintf(labels, sizeof(labels), "version=\"%s\"", ZX_VERSION);
	struct metrics_val *info = metrics_gauge(m, name, labels, "1, with the version as a label");
	struct metrics_val *start = metrics_gauge(m, "process_start_time_seconds", NULL,
	                                          "Start time of the process since unix epoch in "
	                                          "seconds.");
	if (info == NULL || start == NULL) {
		return ZX_ENOMEM;
	}
	metrics_set(info, 1);
	metrics_set(start, opshttp_process_start());
	return 0;
}

int opshttp_new(const struct opshttp_opts *o, struct opshttp **out)
{
	if (o->base == NULL || o->addr == NULL || o->m == NULL || o->live == NULL ||
	    o->ready == NULL) {
		return ZX_EINVAL;
	}
	struct opshttp *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		return ZX_ENOMEM;
	}
	h->o = *o;
	char a[ACL_ADDRSTRLEN];
	acl_addr_str(o->addr, false, a, sizeof(a));
	uint16_t port = ntohs(o->addr->sa_family == AF_INET
	                              ? ((const struct sockaddr_in *)o->addr)->sin_port
	                              : ((const struct sockaddr_in6 *)o->addr)->sin6_port);
	int rc = o->build_info != NULL ? process_metrics(o->m, o->build_info) : 0;
	if (rc != 0) {
		goto fail;
	}
	rc = ZX_ENOMEM;
	h->http = evhttp_new(o->base);
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
	opshttp_free(h);
	return rc;
}

void opshttp_free(struct opshttp *h)
{
	if (h != NULL) {
		if (h->http != NULL) {
			evhttp_free(h->http);
		}
		free(h);
	}
}

struct evhttp *opshttp_evhttp(struct opshttp *h)
{
	return h->http;
}
