/* SPDX-License-Identifier: MIT */
/* xfrd/kafka/announce.c -- the other replicas' ZoneUpdated events, from now on. */
#include "xfrd/kafka/announce.h"

#include "common/cfg/cfg.h"
#include "common/log.h"
#include "proto/ctopic.h"
#include "proto/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct announce {
	struct ctopic_follow *f;
	announce_cb cb;
	void *ctx;
	char *self;
	uint64_t used, skipped;
};

static void on_record(void *ctx, const char *key, const uint8_t *value, size_t len,
                      int32_t partition, int64_t offset)
{
	(void)key;
	(void)partition;
	(void)offset;
	struct announce *a = ctx;
	Zx__Events__ZoneUpdated *up = NULL;
	if (value == NULL || events_update_unpack(value, len, &up) != 0) {
		a->skipped++;
		return;
	}
	bool other = up->replica != NULL && strcmp(up->replica, a->self) != 0;
	bool committed = up->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED;
	bool expired = up->kind == ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_EXPIRED;
	if (other && (committed || expired)) {
		a->used++;
		a->cb(a->ctx, up->zone, up->new_serial, expired, up->replica);
	} else {
		a->skipped++;
	}
	events_update_free(up);
}

int announce_new(const struct cfg_kafka *kc, const char *self, struct event_base *base,
                 announce_cb cb, void *ctx, struct announce **out, char *err, size_t errlen)
{
	struct announce *a = calloc(1, sizeof(*a));
	if (a == NULL || (a->self = strdup(self)) == NULL) {
		free(a);
		return ZX_ENOMEM;
	}
	a->cb = cb;
	a->ctx = ctx;
	char id[300];
	snprintf(id, sizeof(id), "%s-announce", self);
	struct ctopic_hooks h = {.record = on_record, .from_end = true};
	int rc = ctopic_follow_new(kc, kc->updates_topic, id, base, &h, a, &a->f, err, errlen);
	if (rc != 0) {
		announce_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void announce_free(struct announce *a)
{
	if (a == NULL) {
		return;
	}
	ctopic_follow_free(a->f);
	free(a->self);
	free(a);
}

void announce_stats(const struct announce *a, uint64_t *used, uint64_t *skipped)
{
	*used = a->used;
	*skipped = a->skipped;
}
