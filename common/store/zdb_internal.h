/* SPDX-License-Identifier: MIT */
/* common/store/zdb_internal.h -- what the zdb*.c files share: the on-disk layout and helpers.
 *
 * Not an API: only common/zdb*.c include this.
 *
 * On-disk layout (LMDB 0.9, 4 KiB pages, five named databases). Integers in
 * keys are big-endian so that memcmp order is numeric order; integers in
 * values are big-endian where the bytes are DNS wire fields, native elsewhere
 * (an LMDB file is not portable between byte orders anyway).
 *
 *   meta      "format"   -> u32 ZDB_FORMAT (a mismatch refuses to open; format 1,
 *                           without checksums, is upgraded by a writable open)
 *             "next_vid" -> u32 next version id (starts at 1; 0 = none)
 *             "next_zid" -> u32 next zone id (starts at 1)
 *   zones     zone key -> struct zdb_zrec, then name, primary, error text, SOA RDATA
 *             zone key  = the zone's labels right to left, each lowercased,
 *                         escaped (0x00 -> 01 01, 0x01 -> 01 02) and ended by 0x00,
 *                         then one more 0x00 (root zone: a single 0x00)
 *   versions  u32 vid -> u8 state (WRITING, DEAD or CORRUPT), then the zone's wire
 *             name. An active version is named only by its zone record (so this
 *             table stays small however many zones there are); a version being
 *             written is WRITING, one replaced, aborted or left by a crash DEAD,
 *             one replaced after a reader found it corrupt CORRUPT (kept: never
 *             collected)
 *   rr        u32 vid | owner key | u16 type -> RRset
 *             owner key = the owner's labels below the zone apex, encoded as
 *                         for zone keys (the apex: a single 0x00). The escape keeps
 *                         memcmp order equal to RFC 4034 canonical order (a label
 *                         that is a prefix of another sorts first; a parent before
 *                         its children) and the worst name fits LMDB's 511 bytes.
 *             type      = the RR type, except SOA stored as 0 so that it comes
 *                         first at the apex
 *             RRset     = per RR: u32 TTL, u16 RDLENGTH (both big-endian, as on
 *                         the wire), RDATA; sorted by RDATA as unsigned octet
 *                         strings (canonical RR order, RFC 4034 6.3), no duplicates
 *             Per-RRset values rather than one key per RR: RDATA can be 64 KiB,
 *             past LMDB's key and DUPSORT value limit (511 bytes); fewer, shorter
 *             B-tree entries (tests/bench/store, `bench_zdb layout`, 1M RRs of
 *             big.test, sorted, MDB_APPEND, no sync: per-RRset 801k entries,
 *             0.15 s, 40 MB; DUPSORT one RR per duplicate 0.37 s, 46 MB; RDATA in
 *             the key 0.28 s, 60 MB); an IXFR rewrites one RRset per change, which
 *             is small except for huge RRsets. The value carries TTL and RDLENGTH
 *             in wire order so serving copies them.
 *   journal   u32 zid | u64 sequence -> one changeset: struct zdb_jhdr, then
 *             per RR: u8 op (0 del, 1 add), u8 owner length, owner (wire,
 *             lowercase, full), u16 type, u16 class, u32 TTL, u16 RDLENGTH,
 *             RDATA (integers big-endian). The first RR is the old SOA (del), the
 *             first add is the new SOA: IXFR order. Keyed by a sequence, not by
 *             serial: serials wrap (RFC 1982), so their byte order is not history
 *             order. The zone record keeps the oldest sequence and the serial
 *             range; "since S" walks the zone's (bounded) entries to the one from S.
 *
 * Checksum (format 2): the zone record keeps, with the record count, the sum of
 * XXH3-128(RRset value, seed XXH3-64(owner key | type)), as two u64 lanes added
 * mod 2^64, over every RRset of the active version (the key without its version
 * id, so the sum does not depend on which id the version got). A sum is order-independent: an AXFR adds each RRset as it is written, an
 * IXFR subtracts an RRset's old value and adds its new one (work in proportion
 * to the diff), a reader that walks the whole zone recomputes it and compares.
 * Per RRset rather than per RR: the value is hashed where it is written or read
 * anyway, one hash call per B-tree entry (801k for 1M RRs of big.test).
 */
#ifndef ZX_COMMON_ZDB_INTERNAL_H
#define ZX_COMMON_ZDB_INTERNAL_H

#include "common/store/zdb.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#define ZDB_FORMAT 2u
#define ZDB_FORMAT_V1 1u /**< before checksums: upgraded at a writable open */
#define ZDB_KEY_MAX 511
#define ZDB_OWNERKEY_MAX (ZDB_KEY_MAX - 6)

/* Versions not active. A version found corrupt (zdb_zone_event() CORRUPT) is CORRUPT
   once replaced: the garbage collector never walks its damaged pages (a write
   transaction through them could spread the damage, or trip LMDB's assertions). */
enum zdb_vstate { ZDB_V_WRITING = 1, ZDB_V_DEAD = 3, ZDB_V_CORRUPT = 4 };

struct zdb {
	MDB_env *env;
	MDB_dbi meta, zones, versions, rr, journal;
	bool readonly;
	int lock_fd;
	size_t map_size;
	uint32_t journal_count;
	uint64_t journal_bytes;
	uint32_t chunk_records;
	size_t chunk_bytes;
	/* the gc thread (writable stores with gc_thread) */
	pthread_mutex_t gc_mu;
	pthread_cond_t gc_cv;
	pthread_t gc;
	bool gc_started, gc_stop, gc_work;
	/* versions pinned by detached iterators of this process (zdb_pin.c) */
	pthread_mutex_t pin_mu;
	struct zdb_pin *pins;
	/* the group commit of one-chunk AXFRs (zdb_axfr.c) */
	pthread_mutex_t grp_mu;
	struct zdb_axfr *grp_head, *grp_tail; /**< waiting to be committed, oldest first */
	bool grp_busy;                        /**< a leader is committing a group */
};

/** The running checksum of RRsets (zdb_sum_*); two lanes mod 2^64. */
struct zdb_sum {
	uint64_t v[2];
};

/** The fixed head of a zone record (native order, memcpy'd: values are 2-aligned). */
struct zdb_zrec {
	uint8_t fmt; /**< ZDB_FORMAT */
	uint8_t state;
	uint8_t loaded;
	uint8_t name_len;
	uint16_t rclass;
	uint16_t soa_rdlen;
	uint16_t primary_len;
	uint16_t errtext_len;
	int32_t last_error;
	uint32_t zid;
	uint32_t vid;
	uint32_t serial;
	uint32_t soa_ttl;
	uint32_t journal_count;
	uint32_t journal_first;
	uint32_t journal_last;
	uint32_t refresh_due;  /**< a refresh due then (seconds since the epoch) could not be
	                            asked for (zdb_zone_overdue()); 0 none. It sits where the
	                            alignment of @c records left 4 bytes of padding, which
	                            every record written before it holds as 0 (records are
	                            made from zeroed memory and copied whole): no format change */
	uint64_t records;
	uint64_t journal_bytes;
	uint64_t journal_head; /**< sequence of the oldest changeset */
	uint64_t journal_next; /**< sequence the next changeset gets */
	int64_t last_success;
	int64_t last_attempt;
	/* format 2 from here (a format 1 record ends above: ZDB_ZREC_V1_SIZE bytes) */
	struct zdb_sum sum;   /**< checksum of the active version (see above) */
	uint32_t corrupt_vid; /**< a reader found this version corrupt; 0 none */
	uint32_t removed_at;  /**< REMOVED: when, seconds since the epoch (0 in stores
	                           written before the state existed: none was REMOVED) */
};

/** Size of a format 1 zone record's fixed head (the fields down to last_attempt). */
#define ZDB_ZREC_V1_SIZE offsetof(struct zdb_zrec, sum)

_Static_assert(offsetof(struct zdb_zrec, records) == 48 && sizeof(struct zdb_zrec) == 120,
               "the zone record's layout is the store's format: refresh_due fills a hole");

/** A hasher for zdb_sum_set(): one per object that hashes (not shared between threads).
 *  XXH3's one-shot calls need no state; kept so that another hash could have one. */
struct zdb_hasher {
	void *ctx;
};

/** A zone record in memory. */
struct zdb_zmeta {
	struct zdb_zrec r;
	uint8_t name[DNAME_MAXLEN];
	char primary[ZDB_PRIMARY_MAX];
	char errtext[ZDB_ERRTEXT_MAX];
	uint8_t soa[ZDB_SOA_MAX];
	uint8_t key[ZDB_KEY_MAX]; /**< zone key (not stored in the value) */
	size_t key_len;
};

/** The head of a journal changeset (native order). */
struct zdb_jhdr {
	uint32_t from, to;
	uint32_t count; /**< RRs that follow, both SOAs included */
	uint32_t ndel;  /**< of which deletions, the old SOA included */
};

/** A zone name checked and prepared for key building. */
struct zdb_zname {
	uint8_t wire[DNAME_MAXLEN]; /**< lowercase */
	size_t len;
	int labels;
};

/* zdb.c */
ZX_MUSTCHECK int zdb_mdb_err(int rc, const char *what);
ZX_MUSTCHECK int zdb_rr_check(const struct zdb_rr *rr);
ZX_MUSTCHECK int zdb_serial_allowed(const struct zdb_zmeta *m, uint32_t next,
                                    enum zdb_serial_rule rule);
void zdb_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
ZX_MUSTCHECK int zdb_zname_init(struct zdb_zname *z, const uint8_t *zone);
ZX_MUSTCHECK int zdb_zone_key(const uint8_t *name, size_t len, uint8_t *key);
ZX_MUSTCHECK int zdb_owner_key(const struct zdb_zname *z, const uint8_t *owner,
                               size_t owner_len, uint8_t *key);
ZX_MUSTCHECK int zdb_owner_decode(const struct zdb_zname *z, const uint8_t *key, size_t len,
                                  uint8_t *owner);
void zdb_be32(uint8_t *p, uint32_t v);
uint32_t zdb_rd32(const uint8_t *p);
void zdb_be16(uint8_t *p, uint16_t v);
uint16_t zdb_rd16(const uint8_t *p);
void zdb_be64(uint8_t *p, uint64_t v);
int zdb_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
ZX_MUSTCHECK int zdb_wtxn_begin(struct zdb *db, MDB_txn **txn);
ZX_MUSTCHECK int zdb_wtxn_commit(MDB_txn *txn);
ZX_MUSTCHECK int zdb_meta_get(struct zdb *db, MDB_txn *txn, const struct zdb_zname *z,
                              struct zdb_zmeta *m);
ZX_MUSTCHECK int zdb_meta_decode(const MDB_val *v, struct zdb_zmeta *m);
ZX_MUSTCHECK int zdb_meta_put(struct zdb *db, MDB_txn *txn, const struct zdb_zmeta *m);
void zdb_meta_new(struct zdb_zmeta *m, const struct zdb_zname *z);
ZX_MUSTCHECK int zdb_meta_alloc_zid(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m);
void zdb_meta_info(const struct zdb_zmeta *m, struct zdb_zone_info *out);
void zdb_meta_set_text(char *dst, size_t size, const char *src);
ZX_MUSTCHECK int zdb_counter_next(struct zdb *db, MDB_txn *txn, const char *name, uint32_t *out);
ZX_MUSTCHECK int zdb_version_put(struct zdb *db, MDB_txn *txn, uint32_t vid,
                                 enum zdb_vstate st, const struct zdb_zname *z);
ZX_MUSTCHECK int zdb_version_del(struct zdb *db, MDB_txn *txn, uint32_t vid);

ZX_MUSTCHECK int zdb_hasher_init(struct zdb_hasher *h);
void zdb_hasher_deinit(struct zdb_hasher *h);
/* Add (@p sign 1) or subtract (-1) the RRset with rr key @p key (version id included:
   skipped) and value @p val to/from @p sum. */
void zdb_sum_set(struct zdb_hasher *h, struct zdb_sum *sum, int sign, const uint8_t *key,
                 size_t klen, const uint8_t *val, size_t vlen);
void zdb_sum_merge(struct zdb_sum *sum, const struct zdb_sum *d, int sign);
ZX_MUSTCHECK int zdb_upgrade_v1(struct zdb *db, MDB_txn *txn);

/* zdb_read.c */
MDB_txn *zdb_snap_txn(struct zdb_snap *s);
struct zdb *zdb_snap_db(struct zdb_snap *s);

/*
 * zdb_pin.c: a version pinned by a detached zone iterator of this process. The
 * gc skips a pinned DEAD version (zdb_pinned()); an IXFR commit marks the pins of
 * the version it changed in place (zdb_pin_touch()), so that an iterator resumed
 * later knows its records are no longer the ones it started on.
 */
struct zdb_pin {
	uint32_t vid;
	bool changed;          /**< an IXFR changed the version since the pin was taken */
	struct zdb_pin *next;
};
ZX_MUSTCHECK int zdb_pin_take(struct zdb *db, uint32_t vid, struct zdb_pin **out);
void zdb_pin_drop(struct zdb *db, struct zdb_pin *pin);
bool zdb_pin_changed(struct zdb *db, const struct zdb_pin *pin);
bool zdb_pinned(struct zdb *db, uint32_t vid);
void zdb_pin_touch(struct zdb *db, uint32_t vid);

/* zdb_state.c */
/* Apply @p ev to the zone record @p m (state, times, error, primary, corrupt mark):
 * the one place a zone's state moves. @p exists: @p m was read from the store.
 * Returns 0 or what zdb_state_next() refuses with. */
int zdb_meta_apply(struct zdb_zmeta *m, bool exists, enum zdb_event ev, int64_t now,
                   const struct zdb_event_info *info);
ZX_MUSTCHECK int zdb_recover(struct zdb *db);
ZX_MUSTCHECK int zdb_gc_start(struct zdb *db);
void zdb_gc_stop(struct zdb *db);
void zdb_gc_kick(struct zdb *db);

/* zdb_ixfr.c */
ZX_MUSTCHECK int zdb_journal_clear(struct zdb *db, MDB_txn *txn, struct zdb_zmeta *m);

#endif
