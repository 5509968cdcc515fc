/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_util.h -- what several fuzz targets share.
 *
 * A scratch store in a temporary directory (removed at exit), zones loaded into
 * it from presentation text, a config from YAML text, the input read as a
 * cursor, and the clock of a signed input. Everything aborts on a setup
 * failure: a target that cannot set up proves nothing, and libFuzzer reports an
 * abort loudly. Not for use outside tests/fuzz.
 *
 * Log lines go to /dev/null once a store or a config is made (still formatted).
 *
 * Threading: one thread (libFuzzer runs inputs one after another).
 */
#ifndef ZX_TESTS_FUZZ_UTIL_H
#define ZX_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct cfg;
struct zdb;

/** The clock of inputs that carry no TSIG (2026-11-26). */
#define FUZZ_NOW 1764140000u

/** An input as a cursor: reads past the end give 0 and change nothing. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/** The next byte, or 0 at the end. */
uint8_t fuzz_u8(struct fuzz_in *in);

/**
 * A private directory under $TMPDIR (or /tmp), made on the first call and
 * removed with what is in it at exit.
 * @return its path; static storage
 */
const char *fuzz_tmpdir(void);

/**
 * Open a writable store in a new subdirectory of fuzz_tmpdir(): no disk syncs,
 * no gc thread (call zdb_gc()), a 256 MiB map.
 * @return the store, owned by the caller (or left open until exit)
 */
struct zdb *fuzz_store_open(const char *name);

/**
 * Replace @p zone by an AXFR of @p n records in presentation form (the first
 * the SOA), then delete the replaced version.
 */
void fuzz_zone_load(struct zdb *db, const char *zone, const char *const *rrs, size_t n);

/**
 * Apply one IXFR changeset: delete @p del (the first the old SOA), add @p add
 * (the first the new SOA).
 */
void fuzz_zone_ixfr(struct zdb *db, const char *zone, const char *const *del, size_t nd,
                    const char *const *add, size_t na);

/** Load a config from YAML text; aborts with the errors printed when it does not load. */
struct cfg *fuzz_cfg(const char *yaml);

/**
 * The "now" to judge a message with: when @p msg ends in a parseable TSIG record,
 * its time signed moved by a skew that @p sel picks (mostly 0, so the MAC of a
 * signed seed verifies; sometimes past the fudge); otherwise FUZZ_NOW.
 */
uint64_t fuzz_now(const uint8_t *msg, size_t len, uint8_t sel);

#endif
