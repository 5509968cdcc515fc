/* SPDX-License-Identifier: MIT */
/* xfrd/zone/zone.h -- the zone runtime: one record per zone, and the table of them.
 *
 * Every zone xfrd knows has exactly one struct zone, whatever asks for its
 * transfers (Kafka requests, its refresh timers, an operator): its settings,
 * where it is placed (partition, owned by this replica or not), its schedule
 * (xfrd/zone/sched.h: idle, running, running with one more scheduled, and the
 * requests each run will finish), the serial hint of the NOTIFYs read since its
 * last outcome, its timers (xfrd/zone/plan.h, xfrd/zone/timers.h) and its last
 * outcome. Records are created and destroyed while xfrd runs; nothing in a
 * record points into a struct cfg: the settings are a reference-counted copy
 * (struct zone_settings) that a running transfer holds on to, so a zone whose
 * settings change or that is removed mid-transfer is never pulled from under it.
 *
 * The table finds a record by the zone's canonical wire name in O(1) and walks
 * them all. It owns the records it holds; zonetab_unlink() hands one over to the
 * caller (a zone removed while its transfer runs is freed when the transfer ends).
 *
 * Pure bookkeeping: no I/O, no clock, no Kafka, no store.
 * Threading: a table and its records belong to one thread (xfrd's loop). Settings
 * may be shared by any threads once made (read-only, atomic reference count).
 */
#ifndef ZX_XFRD_ZONE_ZONE_H
#define ZX_XFRD_ZONE_ZONE_H

#include "common/cfg/cfg.h"
#include "common/err.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zonetab;

/**
 * A zone's settings: a deep copy of a struct cfg_zone (primaries, keys, ACLs,
 * timers, limits, downstream NOTIFY, egress: sources, proxies and their credentials,
 * a primary's TLS settings), immutable once made, shared by reference. A cfg_zone
 * without primary_egress (made by hand) gives settings without it: every primary then
 * uses z.egress. The TSIG keys it names are borrowed from the keyring they were
 * resolved in: the settings hold a reference to that cfg (z.owner, cfg_ref()), so a
 * config reload never frees keys a transfer still signs with.
 */
struct zone_settings {
	struct cfg_zone z;   /**< every pointer inside owned by the settings (keys borrowed) */
	atomic_uint refs;
	size_t bytes;        /**< memory these settings take, arrays included */
};

/**
 * Copy @p src into new settings, with one reference.
 * @param[in]  src  borrowed for the call
 * @param[out] out  returned owned (zone_settings_unref()); untouched on error
 * @return 0; ZX_EINVAL @p src has no valid name; ZX_ENOMEM
 */
ZX_MUSTCHECK int zone_settings_from_cfg(const struct cfg_zone *src, struct zone_settings **out);

/** One more reference to @p s (any thread). @return @p s */
struct zone_settings *zone_settings_ref(struct zone_settings *s);

/** Drop a reference; the last one frees. NULL ok. Any thread. */
void zone_settings_unref(struct zone_settings *s);

/** Where a zone's transfers stand (xfrd/zone/sched.h moves it). */
enum zone_run {
	ZONE_IDLE = 0,          /**< nothing running */
	ZONE_RUNNING,           /**< one transfer running */
	ZONE_RUNNING_SCHEDULED, /**< one running, one more to start when it ends */
};

/**
 * A request waiting for a zone's transfer to end: where it came from (a Kafka
 * partition and offset; offset -1 for timers and operators without one) and the
 * serial it announced (a NOTIFY's SOA serial).
 */
struct zone_req {
	int32_t partition; /**< the zone's partition, or -1 when unpartitioned */
	int64_t offset;    /**< -1: nothing to finish */
	bool has_serial;
	uint32_t serial;
};

/** A growable list of requests. */
struct zone_reqs {
	struct zone_req *v;
	size_t n, cap;
};

/** Transfer flags a request carries (the engine's flag bits). */
#define ZONE_FORCE_AXFR 0x1u  /**< a full retransfer: no SOA check, no IXFR; the serial
                                   held may be stored again */
#define ZONE_FORCE_OLDER 0x2u /**< with ZONE_FORCE_AXFR: an operator's forced retransfer,
                                   which may store an older serial */

/** A zone's refresh plan (xfrd/zone/plan.h), seconds since the epoch. */
struct zone_plan {
	int64_t due;       /**< when to ask for a refresh */
	int64_t expire_at; /**< when the data expires; INT64_MAX when nothing is held */
	bool expired;      /**< the store says EXPIRED already */
};

/** The last outcome of a zone's transfer (the runtime's summary for operators). */
struct zone_last {
	int outcome;     /**< enum xfr_outcome; 0 none yet */
	int error;       /**< ZX_E* of a failure */
	int64_t at;      /**< seconds since the epoch */
	bool has_serial; /**< the zone holds @c serial after it */
	uint32_t serial;
};

/** One zone. Fields are the runtime's; read them, change them through the modules. */
struct zone {
	struct zone *hnext;         /**< table chain (private) */
	struct zone_settings *set;  /**< owned reference; zone_set_settings() replaces it */
	/* placement */
	int32_t partition;          /**< of the requests topic; -1 unknown */
	bool owned;                 /**< this process talks to the zone's primaries */
	bool orphan;                /**< not owned, but its partition was lost with Kafka
	                                 (no one got it yet): its refresh timers go on, so a
	                                 refresh due meanwhile is asked for (and shown
	                                 overdue when that fails) until the group places
	                                 it again (runtime_regrouped()) */
	/* schedule: xfrd/zone/sched.h */
	enum zone_run run;
	unsigned next_flags;        /**< flags of the scheduled run */
	struct zone_reqs cur;       /**< requests the running transfer finishes */
	struct zone_reqs next;      /**< requests folded into the scheduled run */
	bool has_hint;              /**< a NOTIFY serial was read since the last outcome */
	uint32_t hint;              /**< the newest such serial (RFC 1982) */
	/* timers: xfrd/zone/plan.h, xfrd/zone/timers.h */
	struct zone_plan plan;
	bool plan_valid;            /**< plan read from the store since the last change */
	int64_t timer_at;           /**< the zone's next timer (seconds); valid in the heap */
	size_t timer_slot;          /**< heap position + 1; 0: no timer (private) */
	int64_t requested_at;       /**< a refresh was asked for then; 0 none out */
	int64_t recheck_at;         /**< a NOTIFY announced a serial the primary lacked:
	                                 refresh again then at the latest; 0 none */
	bool overdue;               /**< a refresh due could not be asked for (Kafka did not
	                                 take it): marked in the store (zdb_zone_overdue())
	                                 until the next outcome */
	bool announced;             /**< an event for the held serial went out since this
	                                 replica took the zone */
	bool seed_tried;            /**< a first copy from another replica was tried since
	                                 this replica took the zone (runtime: seeding) */
	struct zone_last last;
	bool removed;               /**< unlinked from its table; freed when idle */
};

/** The zone's canonical name, wire form. */
static inline const uint8_t *zone_name(const struct zone *z)
{
	return z->set->z.name;
}

/** The zone's canonical name, text with the trailing dot. */
static inline const char *zone_name_text(const struct zone *z)
{
	return z->set->z.name_text;
}

/** Replace the zone's settings (takes the reference @p set; drops the old one). */
void zone_set_settings(struct zone *z, struct zone_settings *set);

/** Free a record that is not in a table (zonetab_unlink()). NULL ok. */
void zone_free(struct zone *z);

/** An empty table. NULL when out of memory. */
struct zonetab *zonetab_new(void);

/** Free the table and every record in it. NULL ok. */
void zonetab_free(struct zonetab *t);

/**
 * Add a record for the zone @p set names.
 * @param set  TAKEN on 0 (the record holds the reference); untouched on error
 * @param[out] out  the record, owned by the table; untouched on error
 * @return 0; ZX_EEXIST the table has the zone already; ZX_ENOMEM
 */
ZX_MUSTCHECK int zonetab_add(struct zonetab *t, struct zone_settings *set, struct zone **out);

/**
 * The record of the zone @p name (an uncompressed wire name, any case).
 * @return borrowed from the table; NULL when the table has no such zone or
 *         @p name is not a valid name
 */
struct zone *zonetab_find(const struct zonetab *t, const uint8_t *name);

/** As zonetab_find() by presentation text ("example.com" or "example.com."). */
struct zone *zonetab_find_text(const struct zonetab *t, const char *name);

/**
 * Take @p z out of the table: finds no longer see it; the caller owns it
 * (zone_free(), or marks it removed and frees it once its transfer ended).
 */
void zonetab_unlink(struct zonetab *t, struct zone *z);

/** Records in the table. */
size_t zonetab_count(const struct zonetab *t);

/**
 * Walk the table: the record after @p prev (NULL: the first), in no particular
 * order; NULL after the last. The table must not change during a walk except by
 * zonetab_unlink() of the record just returned.
 */
struct zone *zonetab_next(const struct zonetab *t, const struct zone *prev);

#endif
