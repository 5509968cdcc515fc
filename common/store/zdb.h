/* SPDX-License-Identifier: MIT */
/* common/store/zdb.h -- the zone store: zones, their metadata and a journal of diffs in LMDB.
 *
 * What it is: one LMDB environment (a directory) holding every zone xfrd has
 * transferred. xfrd is the one writing process; readers (xfrctl, zone builders,
 * xfrd's own DNS endpoint) are any number of threads and processes, and never
 * block the writer nor see half a transfer: a zone's records, its metadata and
 * the "active version" pointer are always read from one LMDB snapshot
 * (struct zdb_snap), and switching versions is one commit (for a zone that
 * fits in one AXFR chunk, the same commit that writes its records).
 * What it is not: a DNS server, a zone-file parser, or a transfer engine. It
 * checks the shape of what it is given (names inside the zone, one class, each
 * RR's RDATA against its type's wire format (common/rdata.h), the diff applies,
 * the serial moves forward), not DNS semantics (CNAME and other data, glue,
 * DNSSEC).
 *
 * Integrity: each zone version carries, in its zone record, its RR count and an
 * order-independent checksum of its records (XXH3-128 per RRset, summed; an AXFR
 * computes it as it writes, an IXFR adjusts it by what it changes). A reader that
 * walks a whole zone (zdb_iter_zone() to its end) recomputes both and gets
 * ZX_ECORRUPT instead of the end when they differ, so a damaged store never reads
 * as a whole zone. Opening checks the data file against LMDB's meta page, so a
 * truncated file is ZX_ESTORE, not a SIGBUS. A writer told of a corrupt version
 * (zdb_zone_event() CORRUPT) keeps that mark until a new version replaces it, and
 * then never garbage-collects it (its damaged pages stay untouched: rebuild the
 * store to get their space back). The limit: LMDB keeps no checksum of its own
 * pages; damage to a page's header or node offsets can trip LMDB's assertions
 * (abort) or make it read wild pointers, in any process, before any check here
 * runs. What LMDB reads without complaint (the usual case: a page whose records
 * are gone or garbled, read as a shorter zone) is what the checksum catches.
 *
 * Layout (five named databases; byte by byte in zdb_internal.h):
 *   meta      "format" -> store format version, "next_vid", "next_zid" counters
 *   zones     canonical zone key -> metadata (serial, SOA, state, times, error,
 *             primary, record count and checksum, active version, journal range)
 *   versions  vid -> zone and state of versions not active: WRITING (an AXFR in
 *             progress) or DEAD; DEAD and crash-left WRITING versions are deleted
 *             in chunks (zdb_gc(), zdb_open())
 *   rr        vid | owner (labels right to left, lowercased, relative to the zone)
 *             | type  ->  the RRset: [TTL][RDLENGTH][RDATA] per RR, RDATA in
 *             canonical order. memcmp order of keys = DNSSEC canonical order of
 *             owners (RFC 4034 6.1); within an owner the SOA comes first, then
 *             the other types by number.
 *   journal   zid | sequence -> one IXFR changeset (from/to serial, deleted and
 *             added RRs in IXFR order), bounded per zone by count and bytes.
 *
 * RRs across the API (struct zdb_rr): the owner is an uncompressed wire name
 * (any case; the store keeps owners lowercase), the RDATA uncompressed (names
 * decompressed, as dnsmsg_rdata_unpack() writes it; RDATA is kept and compared
 * octet for octet). The SOA is given and returned as an ordinary RR.
 *
 * Errors: MDB_* codes are mapped to ZX_* here and nowhere else. Besides the
 * documented codes, any LMDB call may fail with ZX_ESTORE (LMDB panic, bad
 * transaction), ZX_ECORRUPT (LMDB found a damaged page), ZX_EIO (disk),
 * ZX_ENOSPC (the filesystem is full), ZX_ESTOREFULL (map full: the configured
 * store-size is reached) or ZX_ELIMIT (too many readers). zdb_last_error() then
 * says what exactly failed, in the store's own words, for the log line of the
 * caller that decides.
 *
 * Threading:
 * - struct zdb is shared by every thread of a process; all functions on it are
 *   thread-safe, except zdb_open()/zdb_close(). The environment uses MDB_NOTLS,
 *   so one thread may hold several snapshots.
 * - A struct zdb_snap (one read transaction) is used by one thread at a time;
 *   it may move between threads if the caller synchronises. Snapshots never
 *   block writers; a long-lived snapshot only keeps old pages from reuse.
 * - A struct zdb_axfr or zdb_ixfr is driven by one thread at a time from begin
 *   to commit/abort; it may move to another thread if the caller synchronises,
 *   except an IXFR that holds the write lock (zdb_ixfr_holds_lock()). Several
 *   may run at once for different zones; their write
 *   transactions take LMDB's write lock in turn, each for a short time (an AXFR
 *   chunk, an IXFR commit). The caller runs at most one transfer per zone.
 * - Commits (each one disk sync, see enum zdb_sync) per transfer: an AXFR that
 *   fits in one chunk (chunk_records, chunk_bytes): ONE, records and switch
 *   together; a larger AXFR: one recording the new version, one per chunk, one
 *   for the switch; an IXFR: one.
 * - Group commit: one-chunk AXFRs whose zdb_axfr_commit() calls (from different
 *   threads) overlap are committed together, up to one chunk's worth in one
 *   transaction, so one disk sync serves several zones; each call still returns
 *   only when its zone is committed, with its own result (a group that fails is
 *   retried zone by zone). Store many small zones from several threads.
 * - An AXFR larger than one chunk starts a writer thread of its own (ended by
 *   commit/abort): chunk N is written there while the caller fills chunk N+1.
 * - One writing process per store: a second writable zdb_open() of the same
 *   directory (in any process) fails with ZX_EAGAIN. Never open the same store
 *   twice in one process (LMDB's rule); open it again after fork() instead.
 */
#ifndef ZX_COMMON_ZDB_H
#define ZX_COMMON_ZDB_H

#include "common/dname.h"
#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zdb;
struct zdb_snap;
struct zdb_iter;
struct zdb_axfr;
struct zdb_ixfr;

/** Longest last-error text kept per zone (longer text is cut), NUL included. */
#define ZDB_ERRTEXT_MAX 256
/** Longest primary text ("192.0.2.1@53", "[2001:db8::1]@53"), NUL included. */
#define ZDB_PRIMARY_MAX 64
/** Longest SOA RDATA: two names and five 32-bit fields. */
#define ZDB_SOA_MAX (2 * DNAME_MAXLEN + 20)

#define ZDB_DEFAULT_MAP_SIZE ((size_t)1 << 30)  /**< 1 GiB */
#define ZDB_DEFAULT_JOURNAL_COUNT 100           /**< changesets kept per zone */
#define ZDB_DEFAULT_JOURNAL_BYTES (1u << 20)    /**< journal bytes kept per zone */
#define ZDB_DEFAULT_CHUNK_RECORDS 50000         /**< AXFR records per chunk commit */
#define ZDB_DEFAULT_CHUNK_BYTES (4u << 20)      /**< AXFR buffered bytes per chunk */

/**
 * When a commit reaches the disk. A process crash never loses a commit (the data
 * is in the page cache); these differ on a crash of the whole system.
 */
enum zdb_sync {
	ZDB_SYNC_FULL = 0, /**< every commit is durable when it returns (data and meta page
	                        synced: ~4 ms per commit on the bench machine) */
	ZDB_SYNC_NOMETA,   /**< the default (MDB_NOMETASYNC): data synced, the meta page with
	                        the next commit; a system crash may lose the last commit, never
	                        corrupts (the zone is then transferred again) */
	ZDB_SYNC_NONE,     /**< MDB_NOSYNC: a system crash may corrupt the store; tests only */
};

/**
 * A zone's state: one state machine, and this store is the only place that moves
 * it. Each event is applied in one commit together with what it records
 * (timestamps, error, primary; a new version for COMMITTED), so a reader never
 * sees an intermediate state:
 *
 *   no record --COMMITTED--> FRESH        no record --FAILED--> FAILED
 *
 *          +------------ COMMITTED, UPTODATE ------------+
 *          v                                             |
 *      [FRESH] ------------ FAILED, CORRUPT ---------> [FAILED] --+
 *       |  ^                                            |   ^     | FAILED,
 *       |  +------------ COMMITTED, UPTODATE ---------+ |   +-----+ CORRUPT
 *       | EXPIRED                                     | | EXPIRED
 *       v                                             | v
 *      [EXPIRED] ------------------------------------>+ (to FRESH)
 *       |   ^
 *       +---+ FAILED, CORRUPT, EXPIRED (it stays EXPIRED)
 *
 * - COMMITTED: a transfer stored a new version (zdb_axfr_commit(),
 *   zdb_ixfr_commit()): FRESH, last success and attempt now, error cleared.
 * - UPTODATE: an SOA check found nothing newer: FRESH, last success and attempt
 *   now, error cleared. Refused for a zone with nothing loaded.
 * - FAILED: an attempt failed: last attempt now, the error and primary recorded;
 *   FAILED, except that an EXPIRED zone stays EXPIRED (only a success revives
 *   it). Creates the record of a zone never loaded.
 * - EXPIRED: the data passed its SOA expire: EXPIRED (again: nothing changes).
 *   Refused for a zone with nothing loaded.
 * - CORRUPT: a reader found the active version corrupt: the version marked,
 *   error ZX_ECORRUPT; FAILED, or EXPIRED when it was.
 *
 * Removal (the zone left the config or the registry) is a state of its own, so
 * that a zone re-added within the grace period keeps its data and journal:
 *
 *   [any state] --REMOVED--> [REMOVED] --RESTORED--> FRESH (data, no error),
 *                              |    ^                 FAILED (otherwise)
 *                              +----+ every other event: it stays REMOVED
 *
 * - REMOVED: removed_at now (kept when it was REMOVED already); the data, the
 *   journal and the rest of the record are kept. Readers must not serve a
 *   REMOVED zone. A commit of a transfer that was running at the removal
 *   stores its version but leaves the zone REMOVED.
 * - RESTORED: removed_at cleared; FRESH when data is loaded and the last attempt
 *   succeeded, else FAILED (the runtime then plans the zone from its times, so an
 *   expired zone becomes EXPIRED at once). Refused (ZX_EINVAL) unless REMOVED.
 * - zdb_zone_delete() purges it (the caller decides when: after the grace).
 *
 * Replicas: one xfrd replica owns a zone (its Kafka partition) and talks to the
 * primaries; every other one follows it, copying from the owner's endpoint:
 *
 *   [any] --FOLLOWED--> [FOLLOWING] --ANNOUNCED--> [BEHIND] --FOLLOWED--> [FOLLOWING]
 *   [FOLLOWING], [BEHIND] --COMMITTED, UPTODATE--> FRESH (this replica became the owner)
 *
 * - FOLLOWED: a follower's commit (zdb_axfr_set_follow(), zdb_ixfr_set_follow()) or
 *   a check against its source that found nothing newer: FOLLOWING, last success
 *   and attempt now, error cleared; the primary text names the source. Refused for
 *   a zone with nothing loaded (a commit loads it first).
 * - ANNOUNCED: the owner announced a serial this copy lacks: BEHIND (EXPIRED and
 *   REMOVED stay), the announcement kept as the error text; not an attempt.
 *   Creates the record of a zone never loaded.
 * FAILED, EXPIRED, CORRUPT apply to followers as to owners.
 * (A transfer running is the runtime's business, not a stored state.)
 */
enum zdb_state {
	ZDB_STATE_FRESH = 0,   /**< the last transfer or SOA check succeeded */
	/* 1 was REFRESHING, never written: the number is not reused */
	ZDB_STATE_FAILED = 2,  /**< the last attempt failed (last_error says why); data kept */
	ZDB_STATE_EXPIRED = 3, /**< past SOA expire without a successful refresh */
	ZDB_STATE_REMOVED = 4, /**< no longer configured: not served, purged after a grace */
	ZDB_STATE_FOLLOWING = 5, /**< a copy of the owner replica's, as new as it was at the
	                              last check (this replica does not own the zone) */
	ZDB_STATE_BEHIND = 6,  /**< a follower whose source announced a newer serial that is
	                            not fetched yet (last_error_text says which) */
};

/** What happened to a zone (the state machine's events; see enum zdb_state). */
enum zdb_event {
	ZDB_EV_COMMITTED = 0, /**< a new version (made by the commits themselves) */
	ZDB_EV_UPTODATE,      /**< an SOA check found nothing newer */
	ZDB_EV_FAILED,        /**< an attempt failed */
	ZDB_EV_EXPIRED,       /**< the data passed its expire */
	ZDB_EV_CORRUPT,       /**< a reader found the active version corrupt */
	ZDB_EV_REMOVED,       /**< the zone left the config or the registry */
	ZDB_EV_RESTORED,      /**< a removed zone was configured again */
	ZDB_EV_FOLLOWED,      /**< a follower's copy was made as new as its source's: a commit
	                           from the owner replica, or a check that found nothing newer */
	ZDB_EV_ANNOUNCED,     /**< the zone's owner announced a serial newer than held */
};

/** Options for zdb_open(); start from zdb_opts_init(). */
struct zdb_opts {
	const char *path;           /**< the store's directory; borrowed for the call */
	size_t map_size;            /**< config store-size, bytes; 0 = the file's own (readers) */
	bool readonly;              /**< a reader (xfrctl, zone builders) */
	enum zdb_sync sync;
	uint32_t journal_count;     /**< config journal: changesets per zone; 0 = no journal */
	uint64_t journal_bytes;     /**< config journal: bytes per zone; 0 = no journal */
	uint32_t chunk_records;     /**< AXFR: commit every this many records (>= 1) */
	size_t chunk_bytes;         /**< AXFR: or when this many bytes are buffered (>= 4096) */
	unsigned max_readers;       /**< LMDB reader slots (snapshots at once, all processes;
	                                 default 126); the first process to open the
	                                 environment sets it, see zdb_max_readers() */
	bool gc_thread;             /**< writable: a thread deletes dropped versions in chunks
	                                 by itself (default); off: call zdb_gc() */
};

/**
 * One resource record. As input every pointer is borrowed for the call; as
 * output (iterators) @c owner points into the iterator and @c rdata into the
 * snapshot, valid until the next zdb_iter_next() / zdb_iter_free() and the end
 * of the snapshot respectively.
 */
struct zdb_rr {
	const uint8_t *owner;  /**< uncompressed wire name */
	size_t owner_len;      /**< its length; must match the name's on input */
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata;  /**< uncompressed RDATA */
};

/** A zone's metadata (zdb_zone_get(), zdb_zone_list()). Plain copy; owns nothing. */
struct zdb_zone_info {
	uint8_t name[DNAME_MAXLEN]; /**< lowercase wire form */
	size_t name_len;
	bool loaded;             /**< a version is active: the fields down to records are valid */
	uint16_t rclass;
	uint32_t serial;
	uint32_t soa_ttl;
	uint16_t soa_rdlen;
	uint8_t soa_rdata[ZDB_SOA_MAX];
	uint64_t records;        /**< RRs in the active version, the SOA included */
	uint32_t version;        /**< active version id (0 when not loaded) */
	bool corrupt;            /**< a reader found the active version corrupt
	                              (zdb_zone_event() CORRUPT); a new version clears it */
	enum zdb_state state;
	int64_t removed_at;      /**< REMOVED: seconds since the epoch of the removal; else 0 */
	int64_t last_success;    /**< seconds since the epoch of the last commit; 0 never */
	int64_t last_attempt;    /**< of the last attempt, successful or not; 0 never */
	int64_t refresh_due;     /**< the zone's refresh was due then and could not be asked
	                              for (xfrd: Kafka did not take the request,
	                              zdb_zone_overdue()): overdue since then; 0 none (the
	                              next attempt clears it) */
	int last_error;          /**< ZX_E* code of the last failure; 0 after a success */
	char last_error_text[ZDB_ERRTEXT_MAX]; /**< "" when none */
	char primary[ZDB_PRIMARY_MAX];         /**< last primary used or tried; "" none */
	uint32_t journal_count;  /**< changesets in the journal */
	uint64_t journal_bytes;
	uint32_t journal_first;  /**< serial the oldest changeset starts from (count > 0) */
	uint32_t journal_last;   /**< serial the newest ends at (= serial; count > 0) */
};

/** What a commit changed, for the "zone updated" event. */
struct zdb_commit {
	bool had_serial;     /**< the zone was loaded before */
	uint32_t old_serial; /**< valid when had_serial */
	uint32_t serial;     /**< the serial now active */
	uint64_t records;    /**< RRs now in the zone */
	uint32_t changesets; /**< IXFR: changesets applied; AXFR: 0 */
};

/**
 * Fill @p o with defaults: sync ZDB_SYNC_NOMETA (durable but for the last commit on
 * a system crash; what xfrd uses unless ZX_STORE_SYNC says otherwise), 1 GiB,
 * the journal and chunk defaults above, the gc thread.
 */
void zdb_opts_init(struct zdb_opts *o);

/**
 * Open (writable: create when missing) the store at @p o->path. A writable
 * open takes the writer lock (DIR/writer.lock, flock), checks for stale readers,
 * and deletes every version a crashed writer left behind, in chunks, before it
 * returns; with @c gc_thread it then starts the thread that deletes the versions
 * replaced later (woken by zdb_axfr_commit(), zdb_axfr_abort(), zdb_zone_delete()).
 * @param[in]  o    options; borrowed for the call
 * @param[out] out  the store, owned by the caller (zdb_close()); untouched on error
 * A writable open of a format 1 store (made before checksums) upgrades it in one
 * commit: each zone's checksum is computed from its records (a zone whose record
 * count does not match is marked corrupt); a read-only open of one is ZX_ESTORE.
 * @return 0; ZX_EINVAL bad options (NULL path, chunk_records 0, chunk_bytes < 4096);
 *         ZX_ENOENT readonly and no store at the path; ZX_EAGAIN writable and another
 *         zdb holds the writer lock; ZX_ESTORE not a store of this format (not LMDB,
 *         corrupt, other format version, format 1 opened read-only), or data.mdb
 *         shorter than its meta page says (truncated); ZX_EIO filesystem error
 *         (permissions, mkdir); ZX_ENOMEM
 */
ZX_MUSTCHECK int zdb_open(const struct zdb_opts *o, struct zdb **out);

/**
 * Close the store (the gc thread finishes its chunk and stops; what is left is
 * deleted later). Every snapshot, iterator and transfer must be finished. NULL ok.
 */
void zdb_close(struct zdb *db);

/**
 * What the last failed call in this thread ran into, for a log line: e.g.
 * "mdb_put: MDB_MAP_FULL: Environment mapsize limit reached (store-size 1048576)".
 * @return a thread-local string valid until the next zdb call in this thread; "" if none
 */
const char *zdb_last_error(void);

/** Space in the store (zdb_usage()). */
struct zdb_usage {
	uint64_t used_bytes; /**< up to the last page in use (pages freed below it are reused) */
	uint64_t map_bytes;  /**< the map size: the most the store may use (store-size) */
};

/**
 * How full the store is, from LMDB's meta page (no transaction).
 * @return 0; ZX_ESTORE
 */
ZX_MUSTCHECK int zdb_usage(struct zdb *db, struct zdb_usage *out);

/* ---------------------------------------------------------------- reading */

/**
 * Begin a snapshot: everything read through it is from one commit. A reader
 * whose writer restarted with a larger store-size adopts the new map size here
 * (LMDB allows that only while the process has no other snapshot open; else
 * ZX_EIO: end the snapshots and retry).
 * @param[out] out owned by the caller until zdb_snap_end(); untouched on error
 * @return 0; ZX_ENOMEM; ZX_ELIMIT no free reader slot (max_readers, all processes)
 */
ZX_MUSTCHECK int zdb_snap_begin(struct zdb *db, struct zdb_snap **out);

/** End a snapshot (after freeing its iterators). NULL ok. */
void zdb_snap_end(struct zdb_snap *s);

/**
 * Metadata of one zone.
 * @param zone  wire name, any case; borrowed
 * @param[out] out untouched on error
 * @return 0; ZX_ENOTFOUND the store has no such zone; ZX_EINVAL @p zone not a valid name
 */
ZX_MUSTCHECK int zdb_zone_get(struct zdb_snap *s, const uint8_t *zone,
                              struct zdb_zone_info *out);

/** Called once per zone by zdb_zone_list(); non-zero stops the walk. */
typedef int (*zdb_zone_cb)(const struct zdb_zone_info *zone, void *arg);

/**
 * Call @p cb for every zone, in canonical order of zone names (loaded or not:
 * a zone whose first transfer failed is listed with its error).
 * @return 0; the callback's non-zero value when it stopped the walk; ZX_ESTORE
 *         an unreadable record
 */
ZX_MUSTCHECK int zdb_zone_list(struct zdb_snap *s, zdb_zone_cb cb, void *arg);

/**
 * Iterate over a zone's RRs in canonical order: owners by RFC 4034 6.1, at
 * each owner the SOA first and then the types by number, RDATA in canonical
 * order. The first RR is therefore the SOA (AXFR serving appends it again).
 * At the end, zdb_iter_next() checks the RRs it returned against the version's
 * record count and checksum: a caller that reads to the end has read the whole
 * zone exactly, or gets ZX_ECORRUPT (never a short zone that looks complete).
 * @param[out] out owned by the caller (zdb_iter_free() before zdb_snap_end())
 * @return 0; ZX_ENOTFOUND the zone is unknown or not loaded; ZX_ECORRUPT the
 *         active version is marked corrupt (zdb_zone_event() CORRUPT); ZX_EINVAL bad
 *         name; ZX_ENOMEM
 */
ZX_MUSTCHECK int zdb_iter_zone(struct zdb_snap *s, const uint8_t *zone, struct zdb_iter **out);

/** Which half of a changeset a journal RR belongs to. */
enum zdb_op { ZDB_OP_DEL = 0, ZDB_OP_ADD = 1 };

/**
 * Iterate over the changes from serial @p since to the current serial, in IXFR
 * order: for each changeset, the old SOA, the deleted RRs, the new SOA, the
 * added RRs (zdb_iter_op() tells the half). This is an IXFR answer without its
 * leading and trailing SOA.
 * @param[out] out owned by the caller (zdb_iter_free() before zdb_snap_end())
 * @return 0; ZX_EUPTODATE @p since is the current serial; ZX_ENOTFOUND the zone is
 *         unknown or not loaded, or the journal does not reach back to @p since
 *         (serve AXFR instead); ZX_EINVAL bad name; ZX_ENOMEM; ZX_ESTORE a bad entry
 */
ZX_MUSTCHECK int zdb_iter_journal(struct zdb_snap *s, const uint8_t *zone, uint32_t since,
                                  struct zdb_iter **out);

/**
 * The next RR.
 * @param[out] rr filled with borrowed pointers (see struct zdb_rr); untouched unless 1
 * @return 1 an RR; 0 the end (for a zone iterator: every RR of the version was
 *         returned, count and checksum match); ZX_ECORRUPT (zone iterator) a record
 *         that does not decode, a damaged page, or at the end a count or checksum
 *         that differs from the zone record's (zdb_last_error() names zone,
 *         version, expected and got), and again at every later call; ZX_ESTORE
 *         (journal iterator) a record that does not decode
 */
ZX_MUSTCHECK int zdb_iter_next(struct zdb_iter *it, struct zdb_rr *rr);

/**
 * For a journal iterator, the half of the last RR returned, and the serials of
 * its changeset (@p from, @p to may be NULL). For a zone iterator: ZDB_OP_ADD.
 */
enum zdb_op zdb_iter_op(const struct zdb_iter *it, uint32_t *from, uint32_t *to);

/** Free an iterator (attached or detached; a pin it holds is released). NULL ok. */
void zdb_iter_free(struct zdb_iter *it);

/*
 * Detached iterators: reading a zone over minutes without holding a snapshot.
 *
 * A snapshot held for as long as a slow client takes to read an AXFR keeps one
 * LMDB reader slot and keeps every page freed meanwhile from reuse, so the store
 * grows with each transfer committed during it. Instead, the reader lets go of
 * its snapshot between reads: zdb_iter_detach(), zdb_snap_end(), and later
 * zdb_snap_begin(), zdb_iter_attach(), and the iterator goes on after the last RR
 * it returned, reading the same zone version:
 *   - a zone iterator pins its version in this process at the first detach: the
 *     gc (zdb_gc(), the gc thread) does not delete a pinned version even after an
 *     AXFR replaced it or the zone was removed, until zdb_iter_free(). The pin is
 *     in memory, so only the writing process (xfrd, whose DNS endpoint serves the
 *     AXFRs) can detach; another process's gc would not see it;
 *   - an IXFR changes a version in place: once one has been committed to the
 *     version being read, zdb_iter_attach() fails (ZX_ENOTFOUND) rather than mix
 *     two serials in one answer, as it does when the zone is gone;
 *   - a journal iterator needs no pin (a changeset is never rewritten, only
 *     dropped); it fails to attach when its changeset was dropped (the journal
 *     trimmed, or emptied by an AXFR), and ends at the newest changeset of its
 *     first snapshot even when newer ones exist by then.
 * Threading: as any iterator (one thread at a time); pins are shared with the gc
 * and IXFR commits under a mutex (one lock per detach, attach and IXFR commit).
 */

/**
 * Let go of the iterator's snapshot (the caller may then zdb_snap_end() it).
 * Every RR returned so far becomes invalid (its pointers are into the snapshot).
 * @param again  the RR returned last comes again first after zdb_iter_attach()
 *               (for a caller that could not use it yet)
 * @return 0 (also when detached already); ZX_EINVAL a read-only store (see above);
 *         ZX_ENOTFOUND a zone iterator whose version an AXFR or IXFR replaced or
 *         changed after the iterator began and before this first detach (the
 *         iterator stays attached and usable in its snapshot); ZX_ENOMEM;
 *         ZX_ESTORE
 */
ZX_MUSTCHECK int zdb_iter_detach(struct zdb_iter *it, bool again);

/**
 * Go on with a detached iterator in snapshot @p s (of the same store).
 * @return 0; ZX_EINVAL not detached; ZX_ENOTFOUND the version or changeset being
 *         read is gone or changed (see above): the read cannot go on, free the
 *         iterator; ZX_ENOMEM; ZX_ESTORE. On error the iterator stays detached.
 */
ZX_MUSTCHECK int zdb_iter_attach(struct zdb_iter *it, struct zdb_snap *s);

/**
 * LMDB reader slots of the environment: one per snapshot open at once, in all
 * processes. A writable zdb_open() sets them to zdb_opts.max_readers when it is
 * the first to open the environment; otherwise the size fixed by the process
 * that was (another reader still holding it) stays, and this tells which.
 */
unsigned zdb_max_readers(const struct zdb *db);

/* ---------------------------------------------------------------- point lookups */

/*
 * Point lookups: what an authoritative answer needs (RFC 1034 4.3.2) without
 * walking the zone. A struct zdb_view reads the active version of one zone
 * through a snapshot. Keys are vid | owner (labels right to left) | type, so
 * an owner's RRsets are adjacent and its descendants follow them: whether a
 * name has RRsets, is an empty non-terminal (RFC 8020: it exists because names
 * below it do) or does not exist is one cursor seek (zdb_view_name()), and
 * one RRset is one B-tree lookup (zdb_view_rrset()).
 * Cost (tests/bench/store/bench_zdb `lookup`, 1M-record zone, one thread, warm
 * page cache, Release build on the shared 2-core machine, 2026-12-02): about 270k
 * RRset lookups, 390k name seeks and 460k misses per second; a snapshot, a view
 * and one RRset together about 290k per second. Writing is unchanged by them (the
 * 1M-record AXFR: 0.36-0.41 s before and after, same run).
 * Integrity: a lookup cannot check the version's checksum (that needs the whole
 * zone). It refuses a version marked corrupt (zdb_view_open()) and checks the
 * shape of what it reads (a key or RRset value that does not decode is
 * ZX_ECORRUPT); a record lost from a damaged page reads as absent until a
 * whole-zone reader (an AXFR served, xfrctl dump) finds the version short and
 * marks it (zdb_zone_event() CORRUPT).
 * Threading: a view belongs to its snapshot's thread and ends before it.
 */
struct zdb_view;

/** What a name is in a zone (zdb_view_name()). */
enum zdb_name_kind {
	ZDB_NAME_NONE = 0, /**< no RRset at the name nor below it: it does not exist */
	ZDB_NAME_EMPTY,    /**< no RRset at the name, some below it: an empty non-terminal */
	ZDB_NAME_DATA,     /**< one RRset or more at the name */
};

/**
 * One RRset read by a lookup. @c owner is the name the lookup was given
 * (borrowed from the caller: valid as long as the caller's buffer); @c data
 * points into the snapshot (valid until zdb_snap_end()).
 */
struct zdb_rrset {
	const uint8_t *owner;
	size_t owner_len;
	uint16_t type;   /**< its type (the SOA as 6) */
	uint16_t rclass; /**< the zone's class */
	const uint8_t *data; /**< per RR: TTL (u32), RDLENGTH (u16), RDATA; big-endian */
	size_t len;
};

/**
 * Open a view of @p zone's active version in snapshot @p s.
 * @param zone  wire name, any case; borrowed for the call
 * @param[out] out owned by the caller (zdb_view_free() before zdb_snap_end());
 *                 untouched on error
 * @return 0; ZX_ENOTFOUND the zone is unknown or not loaded; ZX_ECORRUPT the
 *         active version is marked corrupt (zdb_zone_event() CORRUPT); ZX_EINVAL
 *         bad name; ZX_ENOMEM
 */
ZX_MUSTCHECK int zdb_view_open(struct zdb_snap *s, const uint8_t *zone, struct zdb_view **out);

/** Free a view. NULL ok. */
void zdb_view_free(struct zdb_view *v);

/**
 * What @p name is in the view's zone: one cursor seek. Afterwards
 * zdb_view_next() walks the name's RRsets.
 * @param name      uncompressed wire name, any case; borrowed for the call
 * @param name_len  its length
 * @param[out] kind untouched on error
 * @return 0; ZX_EFORMAT @p name is not a valid name of that length or lies
 *         outside the zone; ZX_ECORRUPT a key that does not decode
 */
ZX_MUSTCHECK int zdb_view_name(struct zdb_view *v, const uint8_t *name, size_t name_len,
                               enum zdb_name_kind *kind);

/**
 * The next RRset of the name zdb_view_name() looked up last, in type order
 * (at the apex the SOA first). @c owner of @p out is the name given there,
 * which the caller must keep for as long as it uses @p out.
 * @return 1 an RRset in @p out; 0 no more (or the name has none, or no name
 *         was looked up); ZX_ECORRUPT a key that does not decode
 */
ZX_MUSTCHECK int zdb_view_next(struct zdb_view *v, struct zdb_rrset *out);

/**
 * The RRset of @p type at @p name: one B-tree lookup.
 * @param name borrowed; @c owner of @p out points to it
 * @param[out] out untouched unless 0
 * @return 0; ZX_ENOTFOUND no such RRset (type 0, which no RRset has, included);
 *         ZX_EFORMAT as zdb_view_name()
 */
ZX_MUSTCHECK int zdb_view_rrset(struct zdb_view *v, const uint8_t *name, size_t name_len,
                                uint16_t type, struct zdb_rrset *out);

/**
 * Walk the RRs of @p set: start with *@p off = 0.
 * @param[out] rr owner, type and class from @p set, TTL and RDATA from the next RR
 *                (RDATA pointing into the snapshot); untouched unless 1
 * @return 1 an RR; 0 no more; ZX_ECORRUPT the RRset value does not decode
 */
ZX_MUSTCHECK int zdb_rrset_next(const struct zdb_rrset *set, size_t *off, struct zdb_rr *rr);

/* ---------------------------------------------------------------- AXFR */

/**
 * Start writing a new version of @p zone (loaded or not). The records are
 * buffered; a zone that fits in one chunk is written by zdb_axfr_commit() in
 * the commit that switches to it (nothing reaches the store before). When the
 * buffer passes the chunk bound, the new version is recorded and the records go
 * into it in chunks, each its own short write transaction. Readers keep seeing
 * the old version until zdb_axfr_commit(). Memory is bounded by the chunk size
 * whatever the zone size. Writes nothing itself.
 * @param zone wire name, any case; borrowed
 * @param[out] out owned by the caller until zdb_axfr_commit() or zdb_axfr_abort()
 * @return 0; ZX_EINVAL bad name or readonly store; ZX_ENOMEM
 */
ZX_MUSTCHECK int zdb_axfr_begin(struct zdb *db, const uint8_t *zone, struct zdb_axfr **out);

/**
 * Add one RR, in any order; an RRset may come in pieces (merged), an RR given
 * twice is kept once. The RR is copied. When the chunk is full it goes to the
 * AXFR's writer thread; the call waits only while the previous chunk is still
 * being written. An error from writing a chunk is returned by a later
 * zdb_axfr_add() or by zdb_axfr_commit(), and leaves @p a usable only for
 * zdb_axfr_abort().
 * @param rr borrowed for the call
 * @return 0; ZX_EFORMAT owner outside the zone or not a valid name, owner_len
 *         wrong, class differing from the first RR's, RDATA malformed for its
 *         type (rdata_check(); zdb_last_error() names owner and type), an apex
 *         SOA that differs from the first apex SOA; ZX_ENOMEM; ZX_ESTOREFULL,
 *         ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_axfr_add(struct zdb_axfr *a, const struct zdb_rr *rr);

/**
 * Switch the zone to the new version: for a zone that fit in one chunk, its
 * records and the switch in ONE commit; else the last chunk, then the switch in
 * one small commit. The switch: metadata (serial and SOA from the apex SOA, record
 * count and checksum, state fresh, last success and attempt = @p now, @p primary,
 * error and corrupt mark cleared), the old version marked for deletion
 * (zdb_gc()), the zone's journal emptied. The new serial is checked against the
 * stored one inside the switch's transaction (zdb_axfr_set_rule()).
 * @p a is freed whatever the result; on error the zone is as it was before.
 * @param primary text such as "192.0.2.1@53"; borrowed; NULL keeps the old one
 * @param[out] res may be NULL; filled on 0
 * @return 0; ZX_EFORMAT no SOA at the apex; ZX_ESERIAL the serial is not allowed by
 *         the rule (zdb_last_error() names both serials); ZX_ENOMEM; ZX_ESTOREFULL,
 *         ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_axfr_commit(struct zdb_axfr *a, int64_t now, const char *primary,
                                 struct zdb_commit *res);

/** Drop the new version (deleted later by zdb_gc()) and free @p a. NULL ok. */
void zdb_axfr_abort(struct zdb_axfr *a);

/**
 * Which serial a commit accepts for a zone that is loaded, compared by RFC 1982
 * with the serial stored at the moment of the commit (in its transaction). A zone
 * not loaded takes any serial.
 */
enum zdb_serial_rule {
	ZDB_SERIAL_NEWER = 0, /**< the default: only a newer serial (the same one too when
	                           the active version is marked corrupt) */
	ZDB_SERIAL_SAME,      /**< newer or the same (an operator's retransfer) */
	ZDB_SERIAL_ANY,       /**< any, older included (an operator's forced retransfer;
	                           the caller logs it) */
};

/** Set the serial rule of @p a's commit (default ZDB_SERIAL_NEWER). */
void zdb_axfr_set_rule(struct zdb_axfr *a, enum zdb_serial_rule rule);

/** @p a is a follower's copy (from another replica): its commit is FOLLOWED, not COMMITTED. */
void zdb_axfr_set_follow(struct zdb_axfr *a);

/* ---------------------------------------------------------------- IXFR */

/**
 * Start applying an IXFR to the loaded @p zone. The diff is applied in ONE
 * write transaction at zdb_ixfr_commit(), so its cost follows the diff, not
 * the zone; until then it is buffered (a diff larger than the journal bound
 * and 1 MiB starts the transaction early and is applied as it comes).
 * Give the RRs exactly in IXFR order, without the leading and trailing SOA of
 * the answer: per changeset zdb_ixfr_del(old SOA), zdb_ixfr_del() of each
 * deleted RR, zdb_ixfr_add(new SOA), zdb_ixfr_add() of each added RR; several
 * changesets follow one another.
 * @param[out] out owned by the caller until zdb_ixfr_commit() or zdb_ixfr_abort()
 * @return 0; ZX_ENOTFOUND zone unknown or not loaded (do an AXFR); ZX_ECORRUPT the
 *         active version is marked corrupt (do an AXFR); ZX_EINVAL bad name or
 *         readonly store; ZX_ENOMEM
 */
ZX_MUSTCHECK int zdb_ixfr_begin(struct zdb *db, const uint8_t *zone, struct zdb_ixfr **out);

/**
 * Delete one RR (TTL ignored), or with an SOA start a changeset.
 * @return 0; ZX_EDIFF an SOA whose serial is not the zone's serial at that point,
 *         or (when applied as it comes) an RR the zone does not hold; ZX_EXFR not
 *         in IXFR order (a non-SOA delete after the adds began); ZX_EFORMAT as
 *         zdb_axfr_add(); ZX_ENOMEM; ZX_ESTOREFULL, ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_ixfr_del(struct zdb_ixfr *x, const struct zdb_rr *rr);

/**
 * Add one RR, or with an SOA end the deletions of the changeset and name its
 * new serial.
 * @return 0; ZX_EDIFF (when applied as it comes) an RR the zone already holds
 *         (same owner, type and RDATA); ZX_EXFR not in IXFR order (no changeset
 *         started, or the new SOA missing); ZX_EFORMAT as zdb_axfr_add();
 *         ZX_ENOMEM; ZX_ESTOREFULL, ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_ixfr_add(struct zdb_ixfr *x, const struct zdb_rr *rr);

/**
 * Apply the diff, append its changesets to the journal (oldest dropped past the
 * bounds), update the metadata (serial, SOA, records, checksum adjusted by the
 * RRsets changed, state fresh, last success and attempt = @p now, @p primary,
 * error cleared) and commit: one transaction. The final serial is checked
 * against the stored one as for zdb_axfr_commit() (zdb_ixfr_set_rule()).
 * @p x is freed whatever the result; on error the zone is exactly as before.
 * @param primary borrowed; NULL keeps the old one
 * @param[out] res may be NULL; filled on 0
 * @return 0; ZX_EDIFF the diff does not apply: an RR to delete is absent, an RR to
 *         add is present, or the zone changed since zdb_ixfr_begin(); ZX_EXFR no
 *         complete changeset (no changeset, or the new SOA missing); ZX_ESERIAL the
 *         final serial is not allowed by the rule; ZX_ENOMEM; ZX_ESTOREFULL,
 *         ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_ixfr_commit(struct zdb_ixfr *x, int64_t now, const char *primary,
                                 struct zdb_commit *res);

/**
 * True when @p x already holds the store's write lock: a diff past 1 MiB (and the
 * journal bound) opened its transaction early. LMDB ties a write transaction to
 * the thread that began it, so such an IXFR must be committed or aborted on the
 * thread whose zdb_ixfr_add()/zdb_ixfr_del() opened it.
 */
bool zdb_ixfr_holds_lock(const struct zdb_ixfr *x);

/** Forget the diff and free @p x; the zone is unchanged. NULL ok. */
void zdb_ixfr_abort(struct zdb_ixfr *x);

/** Set the serial rule of @p x's commit (default ZDB_SERIAL_NEWER). */
void zdb_ixfr_set_rule(struct zdb_ixfr *x, enum zdb_serial_rule rule);

/** @p x is a follower's copy: its commit is FOLLOWED, not COMMITTED. */
void zdb_ixfr_set_follow(struct zdb_ixfr *x);

/* ---------------------------------------------------------------- state */

/**
 * The state machine itself (pure; the diagram at enum zdb_state).
 * @param before  the stored state (ignored when @p exists is false)
 * @param exists  the store has a record of the zone
 * @param loaded  a version is active
 * @param[out] after the state after @p ev; untouched on error
 * @param last_ok the last attempt succeeded (RESTORED: FRESH or FAILED)
 * @return 0; ZX_ENOTFOUND @p ev needs a loaded zone (UPTODATE, EXPIRED, CORRUPT,
 *         FOLLOWED) and none is, or a record (REMOVED, RESTORED) and there is none;
 *         ZX_EINVAL not an event, or RESTORED of a zone that is not REMOVED
 */
ZX_MUSTCHECK int zdb_state_next(enum zdb_state before, bool exists, bool loaded,
                                bool last_ok, enum zdb_event ev, enum zdb_state *after);

/** What an event records besides the state (zdb_zone_event()). */
struct zdb_event_info {
	int err;             /**< FAILED: the ZX_E* code of the failure */
	const char *text;    /**< FAILED, CORRUPT, ANNOUNCED: borrowed; cut to ZDB_ERRTEXT_MAX - 1 bytes;
	                          NULL = zx_strerror() of the code */
	const char *primary; /**< FAILED, FOLLOWED: the primary or source replica tried; borrowed;
	                          NULL keeps the old one */
	uint32_t version;    /**< CORRUPT: the version found corrupt */
	bool new_version;    /**< the commits' own: a new version was made (corrupt mark cleared) */
};

/** A transition as it was made. */
struct zdb_transition {
	bool existed;         /**< the zone had a record before */
	enum zdb_state before; /**< valid when existed */
	enum zdb_state after;
};

/**
 * Apply @p ev to @p zone in one commit, with what it records (see enum
 * zdb_state): UPTODATE, FAILED, EXPIRED, CORRUPT, REMOVED, RESTORED, FOLLOWED or
 * ANNOUNCED (COMMITTED is the commits').
 * CORRUPT also marks @p info->version, so that readers get ZX_ECORRUPT at once
 * (zdb_iter_zone()), an IXFR is refused, and the next AXFR may store the same
 * serial again; nothing is marked when the zone moved on to another version.
 * @param now   seconds since the epoch
 * @param info  FAILED: borrowed, may be NULL (no error recorded); CORRUPT: borrowed,
 *              required (the version); ignored otherwise
 * @param[out] out may be NULL; filled on 0
 * @return 0; ZX_ENOTFOUND UPTODATE, EXPIRED or CORRUPT of a zone with nothing
 *         loaded, REMOVED or RESTORED of a zone the store has no record of;
 *         ZX_EAGAIN CORRUPT of a version that is no longer the active one
 *         (a new transfer replaced it: nothing to do); ZX_EINVAL bad name, bad
 *         event (COMMITTED), CORRUPT without @p info, RESTORED of a zone not
 *         REMOVED, or readonly store;
 *         ZX_ESTOREFULL, ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_zone_event(struct zdb *db, const uint8_t *zone, enum zdb_event ev,
                                int64_t now, const struct zdb_event_info *info,
                                struct zdb_transition *out);

/**
 * Record that @p zone's refresh, due at @p due, could not be asked for (xfrd: Kafka
 * did not take the refresh request). Not an event of the state machine: the state
 * and the times stay; the mark (zdb_zone_info.refresh_due, the earliest @p due
 * when marked again) stays until the next attempt is recorded (UPTODATE, FAILED,
 * CORRUPT, a commit), so readers show the zone's refresh as overdue since @p due
 * for as long as nobody refreshed it, whatever the reason.
 * @param due  seconds since the epoch (> 0, < 2^32)
 * @return 0 (also when marked already: nothing is written then); ZX_ENOTFOUND the
 *         store has no record of @p zone; ZX_EINVAL bad name, @p due out of range
 *         or readonly store; ZX_ESTOREFULL, ZX_ENOSPC
 */
ZX_MUSTCHECK int zdb_zone_overdue(struct zdb *db, const uint8_t *zone, int64_t due);

/**
 * Remove a zone: metadata and journal at once (one commit), its records later
 * by zdb_gc().
 * @return 0; ZX_ENOTFOUND no such zone; ZX_EINVAL bad name or readonly store
 */
ZX_MUSTCHECK int zdb_zone_delete(struct zdb *db, const uint8_t *zone);

/**
 * Delete records of dropped versions (replaced by an AXFR, aborted, or left by a
 * crash), at most @p budget records in one short write transaction. The gc
 * thread calls this; without it (gc_thread off) call it after zdb_axfr_commit()
 * and from a timer until it returns 0.
 * @param budget records to delete in this call (>= 1)
 * @return 1 more to delete; 0 nothing left; ZX_EINVAL budget 0 or readonly store
 *         (deleting frees pages: it works on a full map and is how a full store
 *         gets room again)
 */
ZX_MUSTCHECK int zdb_gc(struct zdb *db, size_t budget);

#endif
