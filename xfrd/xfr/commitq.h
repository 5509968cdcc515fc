/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/commitq.h -- store commits off the workers' event loops.
 *
 * A transfer ends with a store commit, and the commit waits for a disk sync:
 * about 0.2 ms on the bench machine, milliseconds on slow disks. Run on a
 * worker's event loop, the commit stalls every other transfer of that worker.
 * Two workers also seldom commit at the same moment, so zdb's group commit
 * (one sync for every small AXFR whose commits overlap) rarely forms. A commitq
 * runs commits on threads of its own. The worker hands the transaction over and
 * goes on. Commits queued meanwhile overlap, and zdb commits them as a group:
 * 10,000 small zones took 5,218 syncs rather than 10,001 on the bench machine
 * (groups form when commits arrive faster than one sync).
 *
 * Jobs run in submission order as threads come free; jobs of different zones
 * may finish in any order. The caller runs at most one transfer per zone, so a
 * zone never has two commits queued.
 *
 * Threading: commitq_submit() and commitq_wait() may be called from any thread.
 * A job's done() runs on a commitq thread.
 */
#ifndef ZX_XFRD_COMMITQ_H
#define ZX_XFRD_COMMITQ_H

#include "common/err.h"
#include "xfrd/xfr/xfr.h"

#include <stdbool.h>
#include <stdint.h>

struct commitq;
struct commitq_job;

/**
 * Called on a commitq thread once the commit returned, with its ZX_* result,
 * holding the queue's lock: keep it short (hand the result over) and call no
 * commitq function. done() is the queue's last touch of @p j: the owner may
 * reuse or free @p j as soon as it learns of done() (e.g. from an event done()
 * activated), or once commitq_wait() returned.
 */
typedef void (*commitq_done_cb)(struct commitq_job *j, int rc);

/**
 * One commit, embedded in the caller's object (no allocation per commit). Fill
 * the fields above the line, then commitq_submit(). The rest is the queue's.
 */
struct commitq_job {
	const struct xfr_store_ops *ops; /**< borrowed: ops->commit() is run */
	void *txn;                       /**< handed over: gone once done() is called */
	int64_t now;                     /**< as for ops->commit() */
	const char *primary;             /**< borrowed until done() */
	struct zdb_commit *res;          /**< filled on success before done() */
	char *errtext;                   /**< on failure: ops->error()'s text, taken on the
	                                      commit thread; NULL: not wanted */
	size_t errtext_size;
	commitq_done_cb done;
	/* ---- the queue's ---- */
	struct commitq_job *next;
	bool finished; /* set with done(), under the queue's lock */
};

/**
 * Start @p threads commit threads.
 * @param[out] out owned by the caller (commitq_free()); untouched on error
 * @return 0; ZX_EINVAL threads is 0; ZX_ENOMEM (also when a thread cannot start)
 */
ZX_MUSTCHECK int commitq_new(unsigned threads, struct commitq **out);

/** Queue @p j. Never blocks for a commit and never fails. */
void commitq_submit(struct commitq *q, struct commitq_job *j);

/** Block until @p j (submitted to @p q) is finished, done() included. */
void commitq_wait(struct commitq *q, struct commitq_job *j);

/** Run every queued job, stop and join the threads, free. NULL ok. */
void commitq_free(struct commitq *q);

#endif
