/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ixfr.c -- libFuzzer target for a transfer answer applied to the
 * store: the XFR stream (proto/xfrstream.c) feeding xfrd's store operations
 * (xfrd/xfr/store.c) on a real LMDB store, as the transfer engine wires them.
 *
 * The store holds example.com at serial 10 (with a journal entry 9 -> 10). Input:
 * byte 0 picks the question (bit 0 set: IXFR from serial 10, else AXFR), bytes
 * 1-2 the query ID, then the TCP stream: 2-byte lengths and messages. The events
 * go to store_ops as in xfrd/xfr/xfr.c (a BEGIN_* starts a transaction, every event
 * is put, the end commits, an error aborts). Besides "no crash, no overread, no
 * leak", it checks the store's promises:
 *   - a commit leaves the zone at the answer's serial, with as many records as
 *     an iteration returns, every owner inside the zone, the SOA first, and a
 *     journal that reaches back to 10 after an IXFR;
 *   - a transfer that fails leaves the zone exactly as it was (same serial,
 *     version and record count), and readable.
 * The zone is put back to serial 10 after every input that changed it.
 */
#include "common/dname.h"
#include "common/dnsmsg.h"
#include "common/store/zdb.h"
#include "tests/fuzz/fuzz_util.h"
#include "xfrd/xfr/store.h"
#include "proto/xfrstream.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zone[] = "\x07" "example" "\x03" "com";

static const char *const v9[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 9 3600 600 86400 300",
	"example.com. 3600 IN NS ns1.example.com.",
	"example.com. 3600 IN NS ns2.example.net.",
	"example.com. 3600 IN MX 10 mail.example.com.",
	"ns1.example.com. 3600 IN A 192.0.2.53",
	"mail.example.com. 3600 IN A 192.0.2.25",
	"www.example.com. 300 IN A 192.0.2.1",
	"www.example.com. 300 IN A 192.0.2.2",
	"a.example.com. 300 IN A 1.2.3.4",
	"old.example.com. 300 IN TXT \"to be deleted\"",
	"sub.example.com. 300 IN NS ns.sub.example.com.",
	"ns.sub.example.com. 300 IN A 192.0.2.99",
};
static const char *const del9[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 9 3600 600 86400 300",
	"www.example.com. 300 IN A 192.0.2.2",
};
static const char *const add10[] = {
	"example.com. 3600 IN SOA ns1.example.com. host.example.com. 10 3600 600 86400 300",
	"www.example.com. 300 IN A 192.0.2.3",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct run {
	struct zdb *db;
	void *txn;
	int events;
};

static void reset(struct zdb *db)
{
	fuzz_zone_load(db, "example.com", v9, N(v9));
	fuzz_zone_ixfr(db, "example.com", del9, N(del9), add10, N(add10));
}

static void info(struct zdb *db, struct zdb_zone_info *out)
{
	struct zdb_snap *s = NULL;
	if (zdb_snap_begin(db, &s) != 0 || zdb_zone_get(s, zone, out) != 0 || !out->loaded) {
		abort();
	}
	zdb_snap_end(s);
}

/* as xfrd/xfr/xfr.c's on_stream() */
static int on_stream(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct run *r = arg;
	int rc = 0;
	if (ev == XFRSTREAM_BEGIN_AXFR || ev == XFRSTREAM_BEGIN_IXFR) {
		if (r->txn != NULL) {
			abort(); /* the stream begins once */
		}
		rc = store_ops.begin(r->db, zone, ev == XFRSTREAM_BEGIN_AXFR, ZDB_SERIAL_NEWER,
		                     &r->txn);
	}
	if (rc == 0 && r->txn != NULL) {
		rc = store_ops.put(r->txn, ev, rr);
	}
	r->events++;
	return rc;
}

/* The committed zone reads back whole and consistent. */
static void check_zone(struct zdb *db, const struct zdb_zone_info *zi, bool ixfr)
{
	struct zdb_snap *s = NULL;
	struct zdb_iter *it = NULL;
	struct zdb_rr rr;
	uint64_t n = 0;
	int rc;
	if (zdb_snap_begin(db, &s) != 0 || zdb_iter_zone(s, zone, &it) != 0) {
		abort();
	}
	while ((rc = zdb_iter_next(it, &rr)) == 1) {
		if (!dname_is_subdomain(rr.owner, zone) || (n == 0 && rr.type != DNS_T_SOA)) {
			abort();
		}
		n++;
	}
	zdb_iter_free(it);
	if (rc != 0 || n != zi->records) {
		abort();
	}
	if (ixfr) {
		if (zdb_iter_journal(s, zone, 10, &it) != 0) {
			abort();
		}
		while ((rc = zdb_iter_next(it, &rr)) == 1) {
		}
		zdb_iter_free(it);
		if (rc != 0) {
			abort();
		}
	}
	zdb_snap_end(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zdb *db;
	static struct xfrstream st;
	if (db == NULL) {
		db = fuzz_store_open("ixfr");
		reset(db);
	}
	if (size < 3) {
		return 0;
	}
	struct zdb_zone_info before, after;
	info(db, &before);
	struct run r = {.db = db};
	struct xfrstream_cfg cfg = {
		.zone = zone, .qtype = (data[0] & 1) ? DNS_T_IXFR : DNS_T_AXFR,
		.id = (uint16_t)(data[1] << 8 | data[2]), .our_serial = 10, .max_records = 20000,
		.max_bytes = 4u << 20, .cb = on_stream, .arg = &r,
	};
	if (xfrstream_init(&st, &cfg) != 0) {
		abort();
	}
	size_t pos = 3;
	int rc = 0;
	while (rc == 0 && size - pos >= 2) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos) {
			break;
		}
		rc = xfrstream_feed(&st, data + pos, len);
		pos += len;
	}
	bool committed = false;
	if (rc == 1 && r.txn != NULL) {
		struct zdb_commit res;
		rc = store_ops.commit(r.txn, FUZZ_NOW, "192.0.2.1@53", &res);
		committed = rc == 0;
		if (committed && (res.serial != st.serial || res.records == 0)) {
			abort();
		}
	} else if (r.txn != NULL) {
		store_ops.abort(r.txn);
		while ((rc = zdb_gc(db, 100000)) == 1) { /* the dropped version's records */
		}
		if (rc != 0) {
			abort();
		}
	}
	info(db, &after);
	if (committed) {
		if (after.serial != st.serial) {
			abort();
		}
		check_zone(db, &after, st.kind == XFRSTREAM_BEGIN_IXFR);
		reset(db);
	} else if (after.serial != before.serial || after.version != before.version ||
	           after.records != before.records) {
		abort(); /* a failed transfer changed the zone */
	}
	return 0;
}
