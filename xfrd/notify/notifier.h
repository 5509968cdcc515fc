/* SPDX-License-Identifier: MIT */
/* xfrd/notify/notifier.h -- NOTIFY (RFC 1996) to xfrd's downstream secondaries.
 *
 * After xfrd commits a new serial of a zone, every endpoint in the zone's
 * `notify:` list gets a NOTIFY over UDP: opcode NOTIFY, AA, the zone's SOA IN
 * question, and an SOA record in the answer section carrying the new serial
 * (RFC 1996 3.7: a hint; its names are the root and its timers zero, since
 * receivers only read the serial). With `notify-key:` set the NOTIFY is
 * TSIG-signed (common/tsig/tsig.h) and the reply must verify with that key.
 *
 * Retries (RFC 1996 3.6): the same bytes are sent again when no reply came
 * within the timeout, which starts at 1 s and doubles (1, 2, 4, 8, 16 s), for at
 * most NOTIFIER_TRIES sends. A NOTIFY is done when a reply from the target with
 * our ID, QR, opcode NOTIFY and the same question arrives: NOERROR (and, when
 * signed, a good TSIG) is "answered"; any other rcode ends it as failed (the
 * target refuses: sending again will not help). A reply that is not ours, or a
 * NOERROR whose TSIG does not verify, is ignored (counted) and the retries go on.
 *
 * Targets come from the zone's settings at each change (xfrd/zone/zone.h), so a
 * zone added or changed at runtime NOTIFYs its current targets; an entry holds a
 * reference to the settings it was started with while it is in flight. Sockets
 * (one UDP socket per address family) and the per-target metric series are made
 * at the first NOTIFY that needs them.
 *
 * Folding: at most one NOTIFY per (zone, target) is in flight. A newer serial
 * arriving meanwhile is remembered (only the newest) and sent once the one in
 * flight is done, so a burst of commits costs one NOTIFY exchange per target,
 * not one per commit. Memory is bounded: at most max_pending (zone, target)
 * pairs are tracked; a change beyond that is dropped (logged, counted) -- the
 * target still follows by its own SOA refresh.
 *
 * Each NOTIFY ends with one log line, event notify_done: zone, serial, target,
 * tries, outcome (answered, failed, refused/notauth/... by rcode, dropped,
 * abandoned at shutdown), rtt_ms. Metrics (per target, label target="addr@port"):
 * xfrd_notify_sent_total, xfrd_notify_answered_total, xfrd_notify_retries_total,
 * xfrd_notify_failed_total; and xfrd_notify_dropped_total, xfrd_notify_ignored_total.
 *
 * Not here: deciding that a serial is new (the caller calls after its commit),
 * TCP NOTIFY, receiving NOTIFYs (notifyd).
 *
 * Threading: a notifier lives on the caller's libevent loop (xfrd's one loop,
 * in every mode); every function is called on that loop's thread.
 */
#ifndef ZX_XFRD_NOTIFIER_H
#define ZX_XFRD_NOTIFIER_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct metrics;
struct notifier;
struct zone_settings;

/** Sends of one NOTIFY at most (the first plus 4 retries). */
#define NOTIFIER_TRIES 5
/** Wait for the reply to the first send; doubled after each further send. */
#define NOTIFIER_TIMEOUT_MS 1000
/** Default cap on (zone, target) pairs with a NOTIFY in flight or waiting. */
#define NOTIFIER_MAX_PENDING 10000
/** Largest NOTIFY we build: header, question, SOA answer, TSIG. */
#define NOTIFIER_MSG_MAX 1024

struct notifier_opts {
	struct event_base *base;  /**< borrowed; the loop; outlives the notifier */
	struct metrics *m;        /**< borrowed; series registered here; NULL: a private one */
	size_t max_pending;       /**< 0: NOTIFIER_MAX_PENDING; at most 60000 */
	uint64_t timeout_ms;      /**< first reply timeout; 0: NOTIFIER_TIMEOUT_MS */
	unsigned tries;           /**< 0: NOTIFIER_TRIES */
};

/**
 * Create a notifier (no socket yet).
 * @param[in]  o   copied
 * @param[out] out returned owned (notifier_free()); untouched on error
 * @return 0; ZX_EINVAL no base, or max_pending above 60000; ZX_ENOMEM
 */
ZX_MUSTCHECK int notifier_new(const struct notifier_opts *o, struct notifier **out);

/**
 * The zone @p set describes now holds @p serial (committed): NOTIFY each of its
 * targets (set->z.notify, signed with set->z.notify_key), or fold the serial into
 * the NOTIFY in flight. Nothing happens for a zone without targets. A change that
 * cannot be queued (cap, memory) or sent (no socket for the target's family) is
 * logged (outcome=dropped, or failed) and counted; it is not the caller's to handle.
 * @param set borrowed; a reference is taken for each NOTIFY started
 */
void notifier_zone_changed(struct notifier *n, struct zone_settings *set, uint32_t serial);

/**
 * Free: NOTIFYs still pending end with outcome=abandoned. Call it before the
 * loop's base is freed. NULL ok.
 */
void notifier_free(struct notifier *n);

/** Counters for tests. */
struct notifier_stats {
	uint64_t sent, answered, retries, failed, dropped, ignored;
	size_t pending; /**< (zone, target) pairs in flight or waiting now */
};

void notifier_stats(struct notifier *n, struct notifier_stats *out);

/* ---- pure parts ---------------------------------------------------------- */

/**
 * Build a NOTIFY for @p zone with @p serial in the answer's SOA (no TSIG).
 * @param[out] buf  room for @p cap bytes; NOTIFIER_MSG_MAX is always enough
 * @param[in]  zone a valid uncompressed wire name; borrowed
 * @param[out] len  on 0, the message length; untouched on error
 * @return 0; ZX_ELIMIT @p cap too small; ZX_EFORMAT @p zone is not a valid name
 */
ZX_MUSTCHECK int notifier_msg_build(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *zone,
                                    uint32_t serial, size_t *len);

/**
 * Is @p msg the reply to our NOTIFY @p id for @p zone (QR set, opcode NOTIFY,
 * one question: the zone, case-insensitive, type SOA, class IN)?
 * @param[out] rcode on 0, the reply's header rcode; untouched otherwise
 * @return 0 it is; ZX_ETRUNC shorter than its header or question; ZX_EFORMAT not
 *         a reply, another ID or opcode, or another question
 */
ZX_MUSTCHECK int notifier_reply_check(const uint8_t *msg, size_t len, uint16_t id,
                                      const uint8_t *zone, uint16_t *rcode);

/**
 * The retry schedule: how long to wait for a reply after send number @p try
 * (1-based) of @p tries, starting at @p first_ms and doubling.
 * @return milliseconds; -1 when @p try is 0 or above @p tries
 */
int64_t notifier_wait_ms(uint64_t first_ms, unsigned try, unsigned tries);

#endif
