/* SPDX-License-Identifier: MIT */
/* proto/registry.h -- one zone of the registry (proto/registry.proto): its wire form,
 * its JSON form, and the zone it makes.
 *
 * The JSON form is the REST API's and xfrctl's, with the config file's keys:
 *   {"name": "example.com.", "primaries": ["192.0.2.1@53"], "key": "xfr-key",
 *    "notify-keys": [...], "notify-from": ["192.0.2.0/24"],
 *    "serve": {"allow": [...], "keys": [...]},
 *    "refresh": {"min": "60s", "max": "1h"}, "retry": {...}, "expire": {...},
 *    "limits": {"records": "1000000", "bytes": "100M"},
 *    "notify": ["198.51.100.7@53"], "notify-key": "notify-key"}
 * Only the keys that are set appear; values are text as in the config (numbers are
 * accepted for durations, sizes and counts). registry_from_json() checks the shape
 * (known keys, value types) and says which field is wrong; registry_zone() makes the
 * zone with cfg_zone_parse(), so every other check and message is the config's.
 *
 * Threading: pure functions; messages belong to their caller.
 */
#ifndef ZX_PROTO_REGISTRY_H
#define ZX_PROTO_REGISTRY_H

#include "common/cfg/cfg.h"
#include "common/err.h"
#include "proto/registry.pb-c.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/** The schema version this build writes into every record's `schema` field. */
#define REGISTRY_SCHEMA 1

/**
 * Serialize @p z (its `schema` set to REGISTRY_SCHEMA first).
 * @param[out] out malloc'd bytes, owned by the caller (free()); untouched on error
 * @return 0; ZX_EINVAL no name; ZX_ENOMEM
 */
ZX_MUSTCHECK int registry_pack(Zx__Registry__Zone *z, uint8_t **out, size_t *len);

/**
 * Parse a record.
 * @param[out] out owned by the caller (registry_free()); untouched on error
 * @return 0; ZX_EFORMAT not a Zone, or one without a name
 */
ZX_MUSTCHECK int registry_unpack(const uint8_t *buf, size_t len, Zx__Registry__Zone **out);

/** Free what registry_unpack() returned. NULL ok. */
void registry_free(Zx__Registry__Zone *z);

/**
 * The JSON form of @p z (its settings; "name" included).
 * @return a new reference (json_decref()); NULL when out of memory
 */
json_t *registry_to_json(const Zx__Registry__Zone *z);

/**
 * Fill @p out from the JSON form: known keys only, each with the type it takes
 * (text or number for scalars, a list of text for lists, an object for serve,
 * refresh, retry, expire, limits). @p out's strings and lists live in @p mem.
 * @param[in]  j      borrowed
 * @param[out] out    initialised here; filled on 0, partly on ZX_ECONFIG
 * @param[out] probs  on ZX_ECONFIG, up to @p maxprobs problems, each with its field
 * @param[out] nprobs on ZX_ECONFIG, how many were found
 * @return 0; ZX_ECONFIG a field is unknown or of the wrong type; ZX_ENOMEM
 */
ZX_MUSTCHECK int registry_from_json(const json_t *j, struct arena *mem, Zx__Registry__Zone *out,
                                    struct cfg_problem *probs, size_t maxprobs, size_t *nprobs);

/**
 * The zone @p z describes, made and checked as a zone of @p cfg's file would be
 * (cfg_zone_parse(): the same checks and messages, cfg's zone-defaults, its keys).
 * @return 0; ZX_ECONFIG (@p probs); ZX_ENOMEM
 */
ZX_MUSTCHECK int registry_zone(const struct cfg *cfg, const Zx__Registry__Zone *z,
                               struct arena *mem, struct cfg_zone *out,
                               struct cfg_problem *probs, size_t maxprobs, size_t *nprobs);

#endif
