/* SPDX-License-Identifier: MIT */
/* xfrd/service/reload.c -- the fields a reload may not change. */
#include "xfrd/service/reload.h"

#include "common/cfg/cfg.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool ep_eq(const struct cfg_endpoint *a, const struct cfg_endpoint *b)
{
	return a->len == b->len && memcmp(&a->addr, &b->addr, a->len) == 0;
}

static bool eps_eq(const struct cfg_endpoints *a, const struct cfg_endpoints *b)
{
	if (a->count != b->count) {
		return false;
	}
	for (size_t i = 0; i < a->count; i++) {
		if (!ep_eq(&a->v[i], &b->v[i])) {
			return false;
		}
	}
	return true;
}

static bool kafka_eq(const struct cfg_kafka *a, const struct cfg_kafka *b)
{
	if (!str_eq(a->brokers, b->brokers) || !str_eq(a->requests_topic, b->requests_topic) ||
	    !str_eq(a->updates_topic, b->updates_topic) || !str_eq(a->group, b->group) ||
	    a->delivery_timeout_ms != b->delivery_timeout_ms ||
	    a->settings_count != b->settings_count) {
		return false;
	}
	for (size_t i = 0; i < a->settings_count; i++) {
		if (!str_eq(a->settings[i].name, b->settings[i].name) ||
		    !str_eq(a->settings[i].value, b->settings[i].value)) {
			return false;
		}
	}
	return true;
}

struct diff {
	char *buf;
	size_t size, used, n;
};

static void add(struct diff *d, bool same, const char *field)
{
	if (same) {
		return;
	}
	int w = snprintf(d->buf + d->used, d->size - d->used, "%s%s", d->n ? "," : "", field);
	if (w > 0 && d->used + (size_t)w < d->size) {
		d->used += (size_t)w;
	}
	d->n++;
}

size_t reload_restart_fields(const struct cfg *old, const struct cfg *ncfg, char *buf,
                             size_t size)
{
	struct diff d = {.buf = buf, .size = size};
	if (size > 0) {
		buf[0] = '\0';
	}
	const struct cfg_xfrd *a = &old->xfrd, *b = &ncfg->xfrd;
	add(&d, str_eq(a->replica, b->replica), "xfrd.replica");
	add(&d, str_eq(a->store, b->store), "xfrd.store");
	add(&d, a->store_size == b->store_size, "xfrd.store-size");
	add(&d, eps_eq(&a->listen, &b->listen), "xfrd.listen");
	add(&d, a->http.len == b->http.len && (a->http.len == 0 || ep_eq(&a->http, &b->http)),
	    "xfrd.http");
	add(&d, a->serve_transfers == b->serve_transfers &&
	            a->serve_transfers_per_source == b->serve_transfers_per_source &&
	            a->serve_snapshot_hold_ms == b->serve_snapshot_hold_ms &&
	            a->serve_snapshot_max_ms == b->serve_snapshot_max_ms,
	    "xfrd.serve.transfers/snapshot");
	add(&d, a->transfers_max == b->transfers_max &&
	            a->transfers_per_primary == b->transfers_per_primary,
	    "xfrd.transfers");
	add(&d, a->timeout_connect_ms == b->timeout_connect_ms &&
	            a->timeout_read_ms == b->timeout_read_ms &&
	            a->timeout_transfer_ms == b->timeout_transfer_ms &&
	            a->timeout_soa_ms == b->timeout_soa_ms,
	    "xfrd.timeouts");
	add(&d, a->journal_changes == b->journal_changes && a->journal_bytes == b->journal_bytes,
	    "xfrd.journal");
	add(&d, a->health_commit_stall_ms == b->health_commit_stall_ms, "xfrd.health");
	add(&d, (a->api.tokens == NULL) == (b->api.tokens == NULL), "xfrd.api.tokens");
	add(&d, kafka_eq(&old->kafka, &ncfg->kafka), "kafka");
	add(&d, old->registry.enabled == ncfg->registry.enabled &&
	            str_eq(old->registry.topic, ncfg->registry.topic),
	    "registry.topic");
	return d.n;
}
