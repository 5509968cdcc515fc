/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/proxies.h -- the SOCKS5 proxies the engine sends egress through: health and
 * counters per proxy, shared by every zone that names it.
 *
 * A proxy is known by its endpoint and user (the same proxy with other credentials
 * is another entry). Its health is "up" until it fails as a proxy (unreachable,
 * auth refused, protocol broken, request refused: struct xfr_result egress_fail
 * XFR_EGRESS_PROXY); it is then "down" for PROXIES_DOWN_MS, doubled after each
 * further failure up to PROXIES_DOWN_MAX_MS, and up again after its first success.
 * proxies_order() puts the proxies that are up first, in the configured order, then
 * the ones that are down, soonest retry first: a zone keeps working through its
 * second proxy without waiting on the first one's timeouts, and a proxy that is down
 * is still tried when nothing else is left (a zone whose every proxy is down fails
 * as for an unreachable primary, keeps its data, and retries on its SOA timers).
 *
 * Metrics (label proxy="addr@port"; registered when a proxy is first seen):
 *   xfrd_proxy_up                  1 up, 0 down
 *   xfrd_proxy_transfers_total     refreshes that went through it to an outcome
 *                                  other than a connection failure
 *   xfrd_proxy_errors_total{error} unreachable (TCP connect or handshake to the
 *                                  proxy failed), auth (credentials or methods
 *                                  refused), protocol (broke RFC 1928/1929), refused
 *                                  (with code="1|2|7|8|other", the reply code),
 *                                  primary_unreachable (reply 3..6, or the
 *                                  connection through it closed before the
 *                                  primary's first byte), connection_lost (the
 *                                  connection through it broke mid-exchange)
 *
 * Threading: none of its own; the engine calls every function under its lock. The
 * metrics series of a proxy are registered on the thread that first names it:
 * engine_request() (xfrd's loop, the thread that renders the metrics).
 */
#ifndef ZX_XFRD_PROXIES_H
#define ZX_XFRD_PROXIES_H

#include "common/cfg/cfg.h"
#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics;
struct proxies;
struct xfr_result;

/** A proxy's first time down; doubled per further failure. */
#define PROXIES_DOWN_MS 5000
#define PROXIES_DOWN_MAX_MS 60000
/** Most proxies one egress may list (proxies_order()'s array; the config's limit). */
#define PROXIES_PER_EGRESS CFG_PROXIES_MAX

/**
 * @param[in]  m   series registered here; borrowed, must outlive the table; NULL: a
 *                 registry of the table's own
 * @param[out] out owned (proxies_free()); untouched on error
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int proxies_new(struct metrics *m, struct proxies **out);

/** NULL ok. */
void proxies_free(struct proxies *t);

/**
 * Know every proxy of @p eg (find or add each, registering its series).
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int proxies_add(struct proxies *t, const struct cfg_egress *eg);

/**
 * The order to try @p eg's proxies in at @p now_ms (monotonic): indexes into
 * eg->proxies, up ones first in configured order, then down ones by retry time.
 * @param[out] order  room for min(eg->proxy_count, PROXIES_PER_EGRESS) entries
 * @return how many entries were written
 */
size_t proxies_order(struct proxies *t, const struct cfg_egress *eg, int64_t now_ms,
                     uint8_t *order);

/** Count an attempt's outcome through @p px and move its health. */
void proxies_note(struct proxies *t, const struct cfg_proxy *px, int64_t now_ms,
                  const struct xfr_result *r);

/** One proxy's state, for tests and logs. */
struct proxies_state {
	bool known;
	bool up;
	unsigned failures;   /**< in a row */
	int64_t down_until;  /**< monotonic ms; when down */
	uint64_t transfers, unreachable, auth, protocol, refused, primary_unreachable,
		connection_lost;
};

void proxies_get(struct proxies *t, const struct cfg_proxy *px, struct proxies_state *out);

/** "addr@port" of @p px into @p buf (ACL_ADDRSTRLEN). */
const char *proxies_name(const struct cfg_proxy *px, char *buf, size_t size);

#endif
