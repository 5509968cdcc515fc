/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/proxies.c -- SOCKS5 proxies' health and counters: a short list, looked up by
 * endpoint and user (a handful of proxies serve every zone). */
#include "xfrd/xfr/proxies.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/metrics.h"
#include "xfrd/xfr/xfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Refusal reply codes with a series of their own; the rest count as "other". */
static const uint8_t refused_codes[] = {1, 2, 7, 8};
#define NREFUSED (sizeof(refused_codes) / sizeof(refused_codes[0]) + 1)

struct proxy {
	struct proxy *next;
	struct cfg_endpoint ep;
	char *user; /* NULL: none */
	char name[ACL_ADDRSTRLEN];
	bool up;
	unsigned failures;
	int64_t down_until;
	struct metrics_val *m_up, *m_transfers, *m_unreachable, *m_auth, *m_protocol,
		*m_primary_unreachable, *m_lost, *m_refused[NREFUSED];
};

struct proxies {
	struct metrics *m, *own_m;
	struct proxy *head;
};

const char *proxies_name(const struct cfg_proxy *px, char *buf, size_t size)
{
	return acl_addr_str((const struct sockaddr *)&px->ep.addr, true, buf, size);
}

int proxies_new(struct metrics *m, struct proxies **out)
{
	struct proxies *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return ZX_ENOMEM;
	}
	if (m == NULL) {
		t->own_m = metrics_new();
		if (t->own_m == NULL) {
			free(t);
			return ZX_ENOMEM;
		}
		m = t->own_m;
	}
	t->m = m;
	*out = t;
	return 0;
}

void proxies_free(struct proxies *t)
{
	if (t == NULL) {
		return;
	}
	for (struct proxy *p = t->head, *n; p != NULL; p = n) {
		n = p->next;
		free(p->user);
		free(p);
	}
	metrics_free(t->own_m);
	free(t);
}

static struct proxy *find(struct proxies *t, const struct cfg_proxy *px)
{
	for (struct proxy *p = t->head; p != NULL; p = p->next) {
		bool same_user = (p->user == NULL && px->user == NULL) ||
		                 (p->user != NULL && px->user != NULL && strcmp(p->user, px->user) == 0);
		if (same_user && acl_endpoint_equal((const struct sockaddr *)&p->ep.addr,
		                                    (const struct sockaddr *)&px->ep.addr)) {
			return p;
		}
	}
	return NULL;
}

static struct metrics_val *errors(struct proxies *t, const struct proxy *p, const char *error,
                                  const char *code)
{
	char l[ACL_ADDRSTRLEN + 64];
	snprintf(l, sizeof(l), "proxy=\"%s\",error=\"%s\"%s%s%s", p->name, error,
	         code != NULL ? ",code=\"" : "", code != NULL ? code : "", code != NULL ? "\"" : "");
	return metrics_counter(t->m, "xfrd_proxy_errors_total", l,
	                       "SOCKS5 proxy failures by kind (refused: by the proxy's reply code)");
}

static bool register_series(struct proxies *t, struct proxy *p)
{
	char l[ACL_ADDRSTRLEN + 16];
	snprintf(l, sizeof(l), "proxy=\"%s\"", p->name);
	p->m_up = metrics_gauge(t->m, "xfrd_proxy_up", l, "SOCKS5 proxy health: 1 up, 0 down");
	p->m_transfers = metrics_counter(t->m, "xfrd_proxy_transfers_total", l,
	                                 "refreshes carried by a SOCKS5 proxy to their end");
	p->m_unreachable = errors(t, p, "unreachable", NULL);
	p->m_auth = errors(t, p, "auth", NULL);
	p->m_protocol = errors(t, p, "protocol", NULL);
	bool ok = p->m_up && p->m_transfers && p->m_unreachable && p->m_auth && p->m_protocol;
	for (size_t i = 0; i < NREFUSED; i++) {
		char code[8] = "other";
		if (i + 1 < NREFUSED) {
			snprintf(code, sizeof(code), "%u", refused_codes[i]);
		}
		ok &= (p->m_refused[i] = errors(t, p, "refused", code)) != NULL;
	}
	ok &= (p->m_primary_unreachable = errors(t, p, "primary_unreachable", NULL)) != NULL;
	ok &= (p->m_lost = errors(t, p, "connection_lost", NULL)) != NULL;
	if (ok) {
		metrics_set(p->m_up, 1);
	}
	return ok;
}

static int add_one(struct proxies *t, const struct cfg_proxy *px)
{
	if (find(t, px) != NULL) {
		return 0;
	}
	struct proxy *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return ZX_ENOMEM;
	}
	p->ep = px->ep;
	p->up = true;
	proxies_name(px, p->name, sizeof(p->name));
	if (px->user != NULL && (p->user = strdup(px->user)) == NULL) {
		free(p);
		return ZX_ENOMEM;
	}
	if (!register_series(t, p)) {
		free(p->user);
		free(p);
		return ZX_ENOMEM;
	}
	p->next = t->head;
	t->head = p;
	return 0;
}

int proxies_add(struct proxies *t, const struct cfg_egress *eg)
{
	for (size_t i = 0; i < eg->proxy_count; i++) {
		int rc = add_one(t, &eg->proxies[i]);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

size_t proxies_order(struct proxies *t, const struct cfg_egress *eg, int64_t now_ms,
                     uint8_t *order)
{
	size_t n = eg->proxy_count < PROXIES_PER_EGRESS ? eg->proxy_count : PROXIES_PER_EGRESS;
	int64_t until[PROXIES_PER_EGRESS];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) { /* up (or down long enough: worth a try) first */
		const struct proxy *p = find(t, &eg->proxies[i]);
		until[i] = p != NULL && !p->up && p->down_until > now_ms ? p->down_until : 0;
		if (until[i] == 0) {
			order[k++] = (uint8_t)i;
		}
	}
	size_t first_down = k;
	for (size_t i = 0; i < n; i++) {
		if (until[i] == 0) {
			continue;
		}
		size_t j = k++; /* insertion by retry time, stable */
		while (j > first_down && until[order[j - 1]] > until[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = (uint8_t)i;
	}
	return k;
}

static struct metrics_val *refused(struct proxy *p, uint8_t rep)
{
	for (size_t i = 0; i + 1 < NREFUSED; i++) {
		if (refused_codes[i] == rep) {
			return p->m_refused[i];
		}
	}
	return p->m_refused[NREFUSED - 1];
}

void proxies_note(struct proxies *t, const struct cfg_proxy *px, int64_t now_ms,
                  const struct xfr_result *r)
{
	struct proxy *p = find(t, px);
	if (p == NULL) {
		return;
	}
	switch (r->egress_fail) {
	case XFR_EGRESS_PROXY:
		metrics_add(r->error == ZX_ESOCKS_AUTH ? p->m_auth
		            : r->error == ZX_ESOCKS    ? p->m_protocol
		            : r->error == ZX_ESOCKS_REFUSED ? refused(p, r->socks_rep)
		                                            : p->m_unreachable, 1);
		p->failures++;
		p->up = false;
		int64_t down = (int64_t)PROXIES_DOWN_MS << (p->failures < 5 ? p->failures - 1 : 4);
		p->down_until = now_ms + (down < PROXIES_DOWN_MAX_MS ? down : PROXIES_DOWN_MAX_MS);
		metrics_set(p->m_up, 0);
		return;
	case XFR_EGRESS_UNREACHABLE:
		metrics_add(p->m_primary_unreachable, 1);
		return; /* the proxy answered: its health does not move */
	case XFR_EGRESS_LOST:
		metrics_add(p->m_lost, 1);
		return;
	case XFR_EGRESS_OK:
		break;
	}
	metrics_add(p->m_transfers, 1);
	p->up = true;
	p->failures = 0;
	metrics_set(p->m_up, 1);
}

void proxies_get(struct proxies *t, const struct cfg_proxy *px, struct proxies_state *out)
{
	memset(out, 0, sizeof(*out));
	const struct proxy *p = find(t, px);
	if (p == NULL) {
		return;
	}
	out->known = true;
	out->up = p->up;
	out->failures = p->failures;
	out->down_until = p->down_until;
	out->transfers = metrics_get(p->m_transfers);
	out->unreachable = metrics_get(p->m_unreachable);
	out->auth = metrics_get(p->m_auth);
	out->protocol = metrics_get(p->m_protocol);
	for (size_t i = 0; i < NREFUSED; i++) {
		out->refused += metrics_get(p->m_refused[i]);
	}
	out->primary_unreachable = metrics_get(p->m_primary_unreachable);
	out->connection_lost = metrics_get(p->m_lost);
}
