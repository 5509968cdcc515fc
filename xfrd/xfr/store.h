/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/store.h -- the transfer engine's store over common/zdb.
 *
 * store_ops implements struct xfr_store_ops with a struct zdb * as the store:
 * AXFR events go to zdb_axfr_add() (BEGIN_AXFR's SOA included), IXFR events to
 * zdb_ixfr_del()/zdb_ixfr_add() in IXFR order, END commits nothing by itself
 * (the xfr commits after the last message's TSIG was checked). Failures and SOA
 * checks are events of the store's state machine (zdb_zone_event(): an expired
 * zone stays expired through failures, in one commit; only a success revives it).
 *
 * Threading: as common/zdb: one transfer's txn on one thread at a time; movable()
 * says whether commit() may run on another thread; the zdb is shared.
 */
#ifndef ZX_XFRD_STORE_H
#define ZX_XFRD_STORE_H

#include "xfrd/xfr/xfr.h"

/** The operations; pass a struct zdb * (borrowed, must outlive every xfr) as the store.
 *  error() is zdb_last_error(). */
extern const struct xfr_store_ops store_ops;

struct metrics;

/**
 * Register the store's gauges on @p m: xfrd_store_used_bytes and
 * xfrd_store_size_bytes (zdb_usage(), read at scrape time).
 * @param db borrowed; must outlive @p m's last render
 * @return 0; ZX_ENOMEM
 */
ZX_MUSTCHECK int store_metrics(struct metrics *m, struct zdb *db);

#endif
