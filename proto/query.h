/* SPDX-License-Identifier: MIT */
/* proto/query.h -- the queries xfrd sends (SOA, IXFR, AXFR) and the SOA answer check.
 *
 * Pure wire code: no sockets, no TSIG (the caller signs the built query with a
 * tsig_session and verifies answers before calling query_soa_answer()).
 *
 * Threading: pure functions.
 */
#ifndef ZX_XFRD_QUERY_H
#define ZX_XFRD_QUERY_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/** Room for any query built here (header, question, an SOA in authority), before TSIG. */
#define QUERY_MAX (12 + 255 + 4 + 255 + 10 + 2 * 255 + 20)

/**
 * Build a query for @p zone with type @p qtype (SOA, AXFR or IXFR), RD clear.
 * For IXFR the authority section carries our SOA (RFC 1995 3): @p soa_rdata when
 * given (uncompressed SOA RDATA as stored), else a minimal SOA ". . serial 0 0 0 0"
 * with @p serial (only the serial matters to the primary).
 * @param[out] buf       room for @p cap bytes (QUERY_MAX is always enough)
 * @param[out] len       the query's length; untouched on error
 * @param[in]  zone      wire name; borrowed
 * @param[in]  soa_rdata IXFR only; may be NULL; borrowed
 * @return 0; ZX_EINVAL @p zone is not a valid name, @p qtype is not SOA/AXFR/IXFR,
 *         or @p soa_rdata is not SOA RDATA; ZX_ELIMIT @p cap is too small
 */
ZX_MUSTCHECK int query_build(uint8_t *buf, size_t cap, size_t *len, uint16_t id,
                             const uint8_t *zone, uint16_t qtype, uint32_t serial,
                             const uint8_t *soa_rdata, size_t soa_rdlen);

/** What an SOA answer said. */
struct query_soa {
	int truncated;   /**< TC set: ask again over TCP (serial not set) */
	uint32_t serial; /**< the zone's serial on the primary */
	uint8_t rcode;   /**< on ZX_ERCODE: the rcode */
};

/**
 * Check an answer to our SOA query and read the serial from its answer section.
 * @param[in]  msg  the message (TSIG, when any, already verified); borrowed
 * @param[in]  id   our query's ID
 * @param[in]  zone wire name asked for; borrowed
 * @param[out] out  on 0 and ZX_ERCODE; untouched on the other codes
 * @return 0 (out->truncated, or out->serial); ZX_ERCODE the rcode is not NOERROR
 *         (out->rcode); ZX_EXFR wrong ID, not a response, or the question is not
 *         ours; ZX_ENOTFOUND no SOA of the zone in the answer section (e.g. the
 *         primary does not serve the zone); ZX_EFORMAT / ZX_ETRUNC malformed
 */
ZX_MUSTCHECK int query_soa_answer(const uint8_t *msg, size_t len, uint16_t id,
                                  const uint8_t *zone, struct query_soa *out);

#endif
