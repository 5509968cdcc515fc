/* SPDX-License-Identifier: MIT */
/* common/rdata.h -- RDATA checked against its type's wire format.
 *
 * What it is: the gate every RR passes before it is stored (common/zdb calls
 * it): for a type ldns knows, the RDATA is walked field by field from ldns' RR
 * descriptors (ldns_rr_descript(): fixed sizes, names, character-strings,
 * length-prefixed data, repeated last fields), without allocating; it must end
 * exactly at its last field. Names must be uncompressed (the transfer code has
 * expanded the compressible ones), well formed and inside RDLENGTH. A few fields
 * are checked inside as well: NSEC/NSEC3/CSYNC type bitmaps (windows ascending,
 * 1 to 32 bytes each), SVCB/HTTPS parameters (keys ascending, each inside the
 * RDATA), APL items. Fields ldns reads as "the rest" (keys, hashes, base64 data)
 * may be empty. Types ldns does not know are opaque: any RDATA is taken.
 * What it is not: a check of DNS semantics (a DS digest length that fits its
 * algorithm, an RRSIG that verifies).
 *
 * Why: a record that is malformed for its type cannot be dumped (ldns refuses
 * it) nor served (clients refuse the message), so it must never be stored.
 * Cost, measured on the bench machine (Release build): 5 ns for an A record, 4 for
 * an AAAA, 7 for an MX, 5 for a TXT of two strings: a table lookup and a walk over
 * the fields, names once; about 6 ms for a 1M-record zone.
 *
 * Threading: thread-safe; the per-type plans are built once (pthread_once) from
 * ldns' static descriptors and only read afterwards.
 */
#ifndef ZX_COMMON_RDATA_H
#define ZX_COMMON_RDATA_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/** Room for rdata_type_name(): "TYPE65535" and the longest mnemonic. */
#define RDATA_TYPE_NAMELEN 16

/**
 * Check @p rdata (uncompressed) against the wire format of @p type.
 * @param[in]  rdata borrowed; only read (may be NULL when @p len is 0)
 * @param[out] why   on ZX_EFORMAT: a short static reason ("a fixed-size field is cut
 *                   short"); may be NULL; untouched on 0
 * @return 0 well formed (or an opaque type); ZX_EFORMAT malformed
 */
ZX_MUSTCHECK int rdata_check(uint16_t type, const uint8_t *rdata, size_t len, const char **why);

/**
 * The type's mnemonic ("A", "MX") or "TYPE%u" (RFC 3597) for one ldns does not name.
 * @param buf  at least RDATA_TYPE_NAMELEN bytes
 * @return @p buf
 */
const char *rdata_type_name(uint16_t type, char *buf);

#endif
