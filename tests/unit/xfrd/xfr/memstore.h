/* SPDX-License-Identifier: MIT */
/* tests/unit/xfrd/xfr/memstore.h -- an in-memory struct xfr_store_ops for engine tests.
 * Same contract as the zdb one where the engine can tell: AXFR replaces the zone
 * at commit, IXFR applies in order at commit and answers ZX_EDIFF when an SOA's
 * serial is not the zone's, a deleted RR is absent or an added RR present; a
 * commit whose serial the begin's rule does not allow is ZX_ESERIAL.
 * Thread-safe (one mutex). Test code only. */
#ifndef ZX_TESTS_XFRD_MEMSTORE_H
#define ZX_TESTS_XFRD_MEMSTORE_H

#include "xfrd/xfr/xfr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const struct xfr_store_ops memstore_ops;

struct memstore;

struct memstore *memstore_new(void);
void memstore_free(struct memstore *m);

/** A zone's state as the tests check it. */
struct memstore_zone {
	bool loaded;
	uint32_t serial;
	size_t records; /* SOA included */
	int state;      /* 0 none, 1 fresh, 2 failed */
	int last_error;
	char last_text[200];
	char primary[64];
	unsigned commits, fails;
};

/** @return false when the store never heard of @p zone. */
bool memstore_get(struct memstore *m, const uint8_t *zone, struct memstore_zone *out);

/** True when the zone holds an RR owner/type with this RDATA (owner as text). */
bool memstore_has(struct memstore *m, const uint8_t *zone, const char *owner, uint16_t type,
                  const uint8_t *rdata, size_t rdlen);

#endif
