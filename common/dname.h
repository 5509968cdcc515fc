/* SPDX-License-Identifier: MIT */
/* common/dname.h -- domain names in uncompressed wire form.
 *
 * A name here is always uncompressed wire format (length-prefixed labels ending
 * in the root label), at most DNAME_MAXLEN bytes. Zone names are kept in
 * canonical form: ASCII lowercase. Text conversion goes through ldns'
 * presentation code (escapes such as \. and \032 included); the hot-path
 * helpers (length, lowercase, compare, subdomain) are our own and never allocate.
 *
 * Threading: pure functions.
 */
#ifndef ZX_COMMON_DNAME_H
#define ZX_COMMON_DNAME_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAXLEN 255
/** Text form, worst case: every byte as \DDD plus dots and NUL. */
#define DNAME_TEXTLEN (DNAME_MAXLEN * 4 + 1)

/**
 * Length of the uncompressed name at @p wire, validated (labels <= 63, total <= 255,
 * no compression pointer, ends within @p max bytes).
 * @return the length in bytes (>= 1); ZX_EFORMAT or ZX_ETRUNC
 */
ZX_MUSTCHECK int dname_wire_len(const uint8_t *wire, size_t max);

/** ASCII-lowercase the name in place. @p wire must be a valid name. */
void dname_lower(uint8_t *wire);

/**
 * Parse presentation text ("Example.COM", "example.com.", "." for the root;
 * relative names are taken as absolute) into canonical (lowercase) wire form.
 * @param[out] wire at least DNAME_MAXLEN bytes; untouched on error
 * @return the wire length; ZX_EFORMAT when ldns rejects the text
 */
ZX_MUSTCHECK int dname_from_text(const char *text, uint8_t *wire);

/**
 * Format a valid wire name as presentation text with the trailing dot.
 * @param buf at least DNAME_TEXTLEN bytes for any name
 * @return 0; ZX_EFORMAT when @p wire is not a valid name; ZX_ELIMIT when @p size is short
 */
ZX_MUSTCHECK int dname_to_text(const uint8_t *wire, char *buf, size_t size);

/** Case-insensitive equality of two valid wire names. */
bool dname_equal(const uint8_t *a, const uint8_t *b);

/** True when @p name equals @p zone or lies below it (case-insensitive). */
bool dname_is_subdomain(const uint8_t *name, const uint8_t *zone);

/** Number of labels, not counting the root ("." is 0, "example.com." is 2). */
int dname_labels(const uint8_t *wire);

/**
 * DNSSEC canonical order (RFC 4034 6.1): labels compared right to left, each as
 * lowercase octets.
 * @return <0, 0, >0 as @p a sorts before, equal to, or after @p b
 */
int dname_canonical_cmp(const uint8_t *a, const uint8_t *b);

#endif
