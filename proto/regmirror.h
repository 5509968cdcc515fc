/* SPDX-License-Identifier: MIT */
/* proto/regmirror.h -- the zone registry as one process holds it: every zone's record,
 * read from the registry topic (proto/ctopic.h) and resolved against the config.
 *
 * Each notifyd and each xfrd replica holds one mirror. It follows the topic from
 * its beginning (caught up once it read what the topic held at start: the process
 * is not ready before) and tells its owner, zone by zone, the settings each zone
 * now has:
 *
 *   record --> registry_zone() with the config (its zone-defaults, its keyring)
 *     valid      --> changed(name, zone)
 *     invalid    --> kept as it was (an unknown key here, say): logged
 *                    registry_zone_invalid with the field and why, shown by the API
 *     file zone  --> ignored (the config file's zone wins): registry_zone_shadowed
 *   tombstone  --> changed(name, NULL)
 *
 * Records stay as written (the packed protobuf: what the REST API shows and what
 * its ETag versions), each with its partition and offset. Resolved zones are flat
 * copies (cfg_zone_copy()), so a zone costs its record, its copy and its entry:
 * regmirror_bytes() says how much.
 *
 * Writing (xfrd's REST API only): regmirror_write() produces a record or a
 * tombstone and reports once this mirror has read it back, so an API answer is
 * only sent when the change is visible here (read-your-writes).
 *
 * Threading: the loop thread of the event_base it was made with; every hook runs
 * on it.
 */
#ifndef ZX_PROTO_REGMIRROR_H
#define ZX_PROTO_REGMIRROR_H

#include "common/err.h"
#include "proto/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct cfg_zone;
struct event_base;
struct metrics;
struct regmirror;

/** Waiting longer than this for a write to be read back reports it anyway. */
#define REGMIRROR_READBACK_MS 5000

struct regmirror_hooks {
	/**
	 * The zone @p name (canonical text) now has the settings @p z (borrowed: valid
	 * until the next call for the same zone, regmirror_set_cfg() or regmirror_free()),
	 * or none: @p z NULL (removed, or its record no longer resolves after a reload).
	 * May be NULL.
	 */
	void (*changed)(void *ctx, const char *name, const struct cfg_zone *z);
	/** The registry was read to its end of the first look (once). May be NULL. */
	void (*caught_up)(void *ctx);
};

struct regmirror_opts {
	const struct cfg *cfg;    /**< registry section, kafka, zones and keys; borrowed until
	                             regmirror_set_cfg() replaces it */
	struct event_base *base;  /**< borrowed */
	struct metrics *m;        /**< series "<prefix>_registry_*"; borrowed; may be NULL */
	const char *prefix;       /**< "notifyd", else the series are xfrd's */
	const char *client_id;    /**< the replica or instance; borrowed for the call */
	bool writer;              /**< also produce (xfrd with its REST API) */
	struct regmirror_hooks hooks; /**< copied */
	void *ctx;
};

/**
 * Start following the registry of opts.cfg (its registry section must be on).
 * @param[out] out  returned owned (regmirror_free()); untouched on error
 * @return 0; ZX_EINVAL registry off or no base; ZX_ECONFIG kafka.settings rejected
 *         (@p err); ZX_EKAFKA; ZX_EIO; ZX_ENOMEM
 */
ZX_MUSTCHECK int regmirror_new(const struct regmirror_opts *o, struct regmirror **out,
                               char *err, size_t errlen);

/** Stop following; writes not reported yet are reported with ZX_ESHUTDOWN. NULL ok. */
void regmirror_free(struct regmirror *m);

/**
 * A new config (a reload): every record is resolved again with it and changed()
 * called for each zone (its settings now point into @p cfg's keyring). @p cfg is
 * borrowed from now on; the old one may be freed after this returns.
 */
void regmirror_set_cfg(struct regmirror *m, const struct cfg *cfg);

/** True once caught up. */
bool regmirror_caught_up(const struct regmirror *m);

/** Why the mirror is not caught up ("" when it is): "topic xfr.zones missing", ... */
void regmirror_why_not(const struct regmirror *m, char *buf, size_t size);

/** One zone's record (regmirror_get()). Pointers borrowed until the mirror changes. */
struct regmirror_rec {
	const char *name;        /**< canonical text */
	const uint8_t *rec;      /**< the packed Zone as stored */
	size_t rec_len;
	int32_t partition;       /**< where it was read: its version (the API's ETag) */
	int64_t offset;
	bool shadowed;           /**< a zone of the config file has the name: ignored */
	const struct cfg_zone *zone; /**< the settings in force; NULL when it never resolved */
	const char *problem;     /**< why the latest record did not resolve ("field: text");
	                            NULL when it did */
};

/**
 * The record of the zone @p name (any case, trailing dot optional).
 * @return 0; ZX_ENOTFOUND none (never written, or removed); ZX_EINVAL not a name
 */
ZX_MUSTCHECK int regmirror_get(const struct regmirror *m, const char *name,
                               struct regmirror_rec *out);

/** The settings of the zone @p name (wire, canonical) when the registry has it; NULL else. */
const struct cfg_zone *regmirror_zone(const struct regmirror *m, const uint8_t *name);

/**
 * Call @p fn for every zone whose settings are in force (resolved, not shadowed by a
 * file zone), in no particular order. The mirror must not change meanwhile.
 * @return how many
 */
size_t regmirror_each(const struct regmirror *m,
                      void (*fn)(void *ctx, const char *name, const struct cfg_zone *z),
                      void *ctx);

/** Zones in the mirror. */
size_t regmirror_count(const struct regmirror *m);

/**
 * Names in order (strcmp of the canonical text), starting after @p after (NULL or
 * "": from the first). @p names receive borrowed pointers, valid until the mirror
 * changes.
 * @return how many were written (at most @p max)
 */
size_t regmirror_list(struct regmirror *m, const char *after, const char **names, size_t max);

/** Memory the records, their settings and the table take, bytes. */
size_t regmirror_bytes(const struct regmirror *m);

/** A write's outcome: @p rc 0 with where it was stored (and read back), or ZX_E*. */
typedef void (*regmirror_written_cb)(void *arg, int rc, int32_t partition, int64_t offset);

/**
 * Write @p rec for its zone (@p rec->name), or with @p rec NULL a tombstone for
 * @p name. @p cb runs once on the loop: after this mirror read the write back, or
 * REGMIRROR_READBACK_MS after it was stored (rc 0 still: it is stored), or with
 * the error.
 * @param name  canonical text with the trailing dot; borrowed
 * @return 0 (cb follows); ZX_EINVAL no writer or no name; ZX_EAGAIN; ZX_EKAFKA;
 *         ZX_ENOMEM (cb does not run)
 */
ZX_MUSTCHECK int regmirror_write(struct regmirror *m, const char *name, Zx__Registry__Zone *rec,
                                 regmirror_written_cb cb, void *arg);

#endif
