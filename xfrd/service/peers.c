/* SPDX-License-Identifier: MIT */
/* xfrd/service/peers.c -- the replica directory and the announcements, wired to the runtime. */
#include "xfrd/service/peers.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "proto/replicas.h"
#include "xfrd/kafka/announce.h"
#include "xfrd/service/runtime.h"
#include "xfrd/zone/zone.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More partitions than any requests topic we create; a record lists the owned ones. */
#define PEERS_MAX_PARTS 4096

struct peers {
	struct runtime *rt;
	struct replicas *dir;
	struct announce *ann;
	struct event *publish;  /* coalesces ownership changes into one record */
	struct event *wait;     /* PEERS_FOLLOW_WAIT_S after the directory was read */
	bool assigned;          /* the group gave us an assignment (maybe empty) */
	bool following;
	char topic[256];        /* the directory's, for /ready */
	struct metrics_val *m_replicas, *m_announced;
};

static void follow_if_time(struct peers *p)
{
	if (p->following || !replicas_caught_up(p->dir) || !p->assigned) {
		return;
	}
	p->following = true;
	runtime_follow_start(p->rt);
}

static void on_publish(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct peers *p = arg;
	int32_t *parts = malloc(PEERS_MAX_PARTS * sizeof(*parts));
	if (parts == NULL) {
		(void)event_add(p->publish, &(struct timeval){.tv_sec = 1}); /* try again */
		return;
	}
	size_t n = runtime_owned_partitions(p->rt, parts, PEERS_MAX_PARTS);
	replicas_publish(p->dir, parts, n);
	free(parts);
	follow_if_time(p);
}

static void on_wait(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct peers *p = arg;
	if (!p->assigned) {
		log_info("follow_without_assignment", "waited_s=%d hint=\"this replica owns no "
		         "partition (more replicas than partitions?): it copies every zone\"",
		         PEERS_FOLLOW_WAIT_S);
		p->assigned = true;
	}
	follow_if_time(p);
}

static void on_dir_changed(void *ctx)
{
	struct peers *p = ctx;
	if (p->m_replicas != NULL) {
		metrics_set(p->m_replicas, (int64_t)replicas_count(p->dir));
	}
}

static void on_dir_caught_up(void *ctx)
{
	struct peers *p = ctx;
	log_info("replicas_read", "replicas=%zu", replicas_count(p->dir));
	(void)event_add(p->wait, &(struct timeval){.tv_sec = PEERS_FOLLOW_WAIT_S});
	follow_if_time(p);
}

static void on_announce(void *ctx, const char *zone, uint32_t serial, bool expired,
                        const char *replica)
{
	struct peers *p = ctx;
	if (p->m_announced != NULL) {
		metrics_add(p->m_announced, 1);
	}
	runtime_announce(p->rt, zone, serial, expired, replica);
}

void peers_owned_changed(struct peers *p)
{
	if (p == NULL) {
		return; /* not started (a failed start's consumer closing) */
	}
	p->assigned = true;
	follow_if_time(p); /* now: the requests read right after the assignment seed */
	event_active(p->publish, EV_TIMEOUT, 0);
}

/* xfrd.advertise, else the first listen address that others can reach, else "". */
static void advertised(const struct cfg *cfg, char *buf, size_t size)
{
	buf[0] = '\0';
	const struct cfg_endpoint *e = cfg->xfrd.advertise.len > 0 ? &cfg->xfrd.advertise : NULL;
	for (size_t i = 0; e == NULL && i < cfg->xfrd.listen.count; i++) {
		const struct cfg_endpoint *l = &cfg->xfrd.listen.v[i];
		char a[ACL_ADDRSTRLEN];
		acl_addr_str((const struct sockaddr *)&l->addr, false, a, sizeof(a));
		if (strcmp(a, "0.0.0.0") != 0 && strcmp(a, "::") != 0) {
			e = l;
		}
	}
	if (e != NULL) {
		acl_addr_str((const struct sockaddr *)&e->addr, true, buf, size);
	}
}

int peers_new(const struct peers_opts *o, struct peers **out, char *err, size_t errlen)
{
	struct peers *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->rt = o->rt;
	snprintf(p->topic, sizeof(p->topic), "%s", o->cfg->kafka.replicas_topic);
	p->publish = event_new(o->base, -1, 0, on_publish, p);
	p->wait = evtimer_new(o->base, on_wait, p);
	if (p->publish == NULL || p->wait == NULL) {
		peers_free(p, 0);
		return ZX_ENOMEM;
	}
	if (o->m != NULL) {
		p->m_replicas = metrics_gauge(o->m, "xfrd_replicas", NULL,
		                              "xfrd replicas in the replica directory, this one included");
		p->m_announced = metrics_counter(o->m, "xfrd_announcements_total", NULL,
		                                 "Other replicas' ZoneUpdated events read");
	}
	char endpoint[ACL_ADDRSTRLEN];
	advertised(o->cfg, endpoint, sizeof(endpoint));
	if (endpoint[0] == '\0') {
		log_warn("replica_not_advertised", "replica=%s hint=\"xfrd.listen is a wildcard and "
		         "xfrd.advertise is not set: the other replicas cannot copy zones from this "
		         "one\"", o->cfg->xfrd.replica);
	}
	struct replicas_hooks h = {.changed = on_dir_changed, .caught_up = on_dir_caught_up};
	int rc = replicas_new(&o->cfg->kafka, o->cfg->kafka.replicas_topic, o->cfg->xfrd.replica,
	                      endpoint, o->base, &h, p, &p->dir, err, errlen);
	if (rc == 0) {
		rc = announce_new(&o->cfg->kafka, o->cfg->xfrd.replica, o->base, on_announce, p,
		                  &p->ann, err, errlen);
	}
	if (rc != 0) {
		peers_free(p, 0);
		return rc;
	}
	log_info("replica_joined", "replica=%s endpoint=%s directory=%s", o->cfg->xfrd.replica,
	         endpoint[0] != '\0' ? endpoint : "none", o->cfg->kafka.replicas_topic);
	*out = p;
	return 0;
}

void peers_free(struct peers *p, int wait_ms)
{
	if (p == NULL) {
		return;
	}
	announce_free(p->ann);
	replicas_free(p->dir, wait_ms);
	if (p->publish != NULL) {
		event_free(p->publish);
	}
	if (p->wait != NULL) {
		event_free(p->wait);
	}
	free(p);
}

bool peers_ready(const struct peers *p, char *why, size_t whylen)
{
	if (p == NULL) {
		return true;
	}
	if (!replicas_caught_up(p->dir)) {
		snprintf(why, whylen, "replica directory %s not read to its end yet (does the "
		         "topic exist?)", p->topic);
		return false;
	}
	return runtime_follow_caught_up(p->rt, why, whylen);
}

static bool put_source(const struct replica_info *ri, struct cfg_endpoint *out, size_t *n,
                       size_t max)
{
	if (ri == NULL || ri->self || ri->endpoint_len == 0 || *n >= max) {
		return false;
	}
	for (size_t i = 0; i < *n; i++) {
		if (acl_endpoint_equal((const struct sockaddr *)&out[i].addr,
		                       (const struct sockaddr *)&ri->endpoint)) {
			return false;
		}
	}
	memcpy(&out[*n].addr, &ri->endpoint, sizeof(ri->endpoint));
	out[*n].len = ri->endpoint_len;
	(*n)++;
	return true;
}

size_t peers_follow_sources(void *ctx, const struct zone *z, struct cfg_endpoint *out,
                            size_t max, char *owner, size_t owner_len)
{
	struct peers *p = ctx;
	size_t n = 0;
	const struct replica_info *own = replicas_owner(p->dir, z->partition);
	if (put_source(own, out, &n, max)) {
		snprintf(owner, owner_len, "%s", own->name);
	}
	const struct replica_info *others[16];
	size_t k = replicas_others(p->dir, others, sizeof(others) / sizeof(others[0]));
	for (size_t i = 0; i < k; i++) {
		if (put_source(others[i], out, &n, max) && n == 1) {
			snprintf(owner, owner_len, "%s", others[i]->name);
		}
	}
	return n;
}
