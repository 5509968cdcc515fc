/* tests/unit/common/store/test_zdb_state.c -- the zone state machine (common/store/zdb.h, enum
 * zdb_state): every transition of the table, walked through a real store, and a
 * property test of random sequences of outcomes, expiries, corruption marks and
 * restarts against a model written independently of the store's code. */
#include "tests/unit/common/store/test_zdb_util.h"

#define ZONE "state.example."

enum { NONE = -1 }; /* no record */

/* The table, as the header's diagram says it (written out, not computed). */
static int expect(int before, bool loaded, bool last_ok, enum zdb_event ev)
{
	if (ev == ZDB_EV_REMOVED) {
		return before == NONE ? ZX_ENOTFOUND : ZDB_STATE_REMOVED;
	}
	if (ev == ZDB_EV_RESTORED) {
		return before == NONE                ? ZX_ENOTFOUND
		       : before != ZDB_STATE_REMOVED ? ZX_EINVAL
		       : loaded && last_ok           ? ZDB_STATE_FRESH
		                                     : ZDB_STATE_FAILED;
	}
	bool needs_data = ev == ZDB_EV_UPTODATE || ev == ZDB_EV_EXPIRED || ev == ZDB_EV_CORRUPT ||
	                  ev == ZDB_EV_FOLLOWED;
	if (before == ZDB_STATE_REMOVED) { /* sticky, but the loaded rules hold */
		return needs_data && !loaded ? ZX_ENOTFOUND : ZDB_STATE_REMOVED;
	}
	if (ev == ZDB_EV_FOLLOWED) {
		return loaded ? ZDB_STATE_FOLLOWING : ZX_ENOTFOUND;
	}
	if (ev == ZDB_EV_ANNOUNCED) {
		return before == ZDB_STATE_EXPIRED ? ZDB_STATE_EXPIRED : ZDB_STATE_BEHIND;
	}
	switch (ev) {
	case ZDB_EV_COMMITTED:
		return ZDB_STATE_FRESH;
	case ZDB_EV_UPTODATE:
		return loaded ? ZDB_STATE_FRESH : ZX_ENOTFOUND;
	case ZDB_EV_FAILED:
		return before == ZDB_STATE_EXPIRED ? ZDB_STATE_EXPIRED : ZDB_STATE_FAILED;
	case ZDB_EV_EXPIRED:
		return loaded ? ZDB_STATE_EXPIRED : ZX_ENOTFOUND;
	case ZDB_EV_CORRUPT:
		return !loaded ? ZX_ENOTFOUND
		       : before == ZDB_STATE_EXPIRED ? ZDB_STATE_EXPIRED : ZDB_STATE_FAILED;
	case ZDB_EV_REMOVED:
	case ZDB_EV_RESTORED:
	case ZDB_EV_FOLLOWED:
	case ZDB_EV_ANNOUNCED:
		break;
	}
	return ZX_EINVAL;
}

static void test_state_next_every_transition(void **state)
{
	(void)state;
	const int befores[] = {NONE, ZDB_STATE_FRESH, ZDB_STATE_FAILED, ZDB_STATE_EXPIRED,
	                       ZDB_STATE_REMOVED, ZDB_STATE_FOLLOWING, ZDB_STATE_BEHIND};
	int checked = 0;
	for (size_t i = 0; i < 7; i++) {
		for (int loaded = 0; loaded <= 1; loaded++) {
			if (befores[i] == NONE && loaded) {
				continue; /* no record, nothing loaded */
			}
			for (int ev = ZDB_EV_COMMITTED; ev <= ZDB_EV_ANNOUNCED; ev++) {
			for (int ok = 0; ok <= 1; ok++) {
				enum zdb_state after = (enum zdb_state)99;
				int rc = zdb_state_next(befores[i] == NONE ? ZDB_STATE_FRESH
				                                           : (enum zdb_state)befores[i],
				                        befores[i] != NONE, loaded, ok, (enum zdb_event)ev,
				                        &after);
				int want = expect(befores[i], loaded, ok, (enum zdb_event)ev);
				if (want < 0) {
					assert_int_equal(rc, want);
					assert_int_equal(after, 99); /* untouched */
				} else {
					assert_int_equal(rc, 0);
					assert_int_equal(after, want);
				}
				checked++;
			}
			}
		}
	}
	assert_int_equal(checked, 13 * 9 * 2);
	enum zdb_state after;
	assert_int_equal(zdb_state_next(ZDB_STATE_FRESH, true, true, true, (enum zdb_event)42,
	                                &after), ZX_EINVAL);
}

static struct zdb_zone_info get(struct zdb *db)
{
	struct zdb_snap *s;
	struct zdb_zone_info zi;
	assert_int_equal(zdb_snap_begin(db, &s), 0);
	assert_int_equal(zdb_zone_get(s, tname(ZONE), &zi), 0);
	zdb_snap_end(s);
	return zi;
}

static void commit(struct zdb *db, uint32_t serial, int64_t now)
{
	struct trr z[] = {trr_soa(ZONE, serial), trr_a(ZONE, serial)};
	load_zone(db, ZONE, z, 2, now);
}

/* Each transition through the store, with what it records. */
static void test_state_walk_through_the_store(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct zdb_transition t;
	struct zdb_event_info fail = {.err = ZX_ETIMEDOUT, .text = "no answer",
	                              .primary = "192.0.2.7@53"};
	/* no record: UPTODATE, EXPIRED, CORRUPT refused; FAILED creates it */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 1, NULL, &t),
	                 ZX_ENOTFOUND);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 1, NULL, &t),
	                 ZX_ENOTFOUND);
	assert_int_equal(zone_corrupt(db, tname(ZONE), 1, 1, "x"), ZX_ENOTFOUND);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_FAILED, 10, &fail, &t), 0);
	assert_false(t.existed);
	assert_int_equal(t.after, ZDB_STATE_FAILED);
	struct zdb_zone_info zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_FAILED);
	assert_false(zi.loaded);
	assert_int_equal(zi.last_attempt, 10);
	assert_int_equal(zi.last_success, 0);
	assert_string_equal(zi.last_error_text, "no answer");
	assert_string_equal(zi.primary, "192.0.2.7@53");
	/* FAILED, nothing loaded: UPTODATE and EXPIRED still refused */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 11, NULL, &t),
	                 ZX_ENOTFOUND);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 11, NULL, &t),
	                 ZX_ENOTFOUND);
	/* FAILED --COMMITTED--> FRESH */
	commit(db, 5, 20);
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	assert_int_equal(zi.last_success, 20);
	assert_int_equal(zi.last_error, 0);
	assert_string_equal(zi.last_error_text, "");
	/* FRESH --UPTODATE--> FRESH */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 30, NULL, &t), 0);
	assert_true(t.existed);
	assert_int_equal(t.before, ZDB_STATE_FRESH);
	assert_int_equal(t.after, ZDB_STATE_FRESH);
	assert_int_equal(get(db).last_success, 30);
	/* FRESH --FAILED--> FAILED, data kept */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_FAILED, 40, &fail, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_FAILED);
	zi = get(db);
	assert_int_equal(zi.last_attempt, 40);
	assert_int_equal(zi.last_success, 30);
	assert_int_equal(zi.serial, 5);
	/* FAILED --UPTODATE--> FRESH */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 50, NULL, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_FRESH);
	/* FRESH --EXPIRED--> EXPIRED: an expiry is not an attempt */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 60, NULL, &t), 0);
	assert_int_equal(t.before, ZDB_STATE_FRESH);
	assert_int_equal(t.after, ZDB_STATE_EXPIRED);
	zi = get(db);
	assert_int_equal(zi.last_attempt, 50);
	assert_int_equal(zi.last_success, 50);
	/* EXPIRED --EXPIRED--> EXPIRED (before says so: announced once) */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 61, NULL, &t), 0);
	assert_int_equal(t.before, ZDB_STATE_EXPIRED);
	/* EXPIRED --FAILED--> EXPIRED, in one commit, the error recorded */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_FAILED, 70, &fail, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_EXPIRED);
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_EXPIRED);
	assert_int_equal(zi.last_attempt, 70);
	assert_int_equal(zi.last_error, ZX_ETIMEDOUT);
	/* EXPIRED --CORRUPT--> EXPIRED, the version marked */
	assert_int_equal(zone_corrupt(db, tname(ZONE), zi.version, 80, "short"), 0);
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_EXPIRED);
	assert_true(zi.corrupt);
	assert_int_equal(zi.last_error, ZX_ECORRUPT);
	/* EXPIRED --UPTODATE--> FRESH (the corrupt mark stays: only a new version clears it) */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 90, NULL, &t), 0);
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	assert_true(zi.corrupt);
	/* FRESH --CORRUPT--> FAILED; --COMMITTED--> FRESH clears the mark */
	assert_int_equal(zone_corrupt(db, tname(ZONE), zi.version, 95, "short"), 0);
	assert_int_equal(get(db).state, ZDB_STATE_FAILED);
	commit(db, 5, 100); /* the same serial: the zone was corrupt */
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	assert_false(zi.corrupt);
	/* EXPIRED --COMMITTED--> FRESH */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 110, NULL, &t), 0);
	commit(db, 6, 120);
	assert_int_equal(get(db).state, ZDB_STATE_FRESH);
	/* CORRUPT needs its version; COMMITTED is the commits' */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_CORRUPT, 1, NULL, &t), ZX_EINVAL);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_COMMITTED, 1, NULL, &t),
	                 ZX_EINVAL);
	/* FRESH --REMOVED--> REMOVED: data kept, the time recorded, not an attempt */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_RESTORED, 125, NULL, &t),
	                 ZX_EINVAL);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_REMOVED, 130, NULL, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_REMOVED);
	zi = get(db);
	assert_int_equal(zi.removed_at, 130);
	assert_int_equal(zi.serial, 6);
	assert_int_equal(zi.last_attempt, 120);
	/* sticky: a late commit (a transfer that ran during the removal) keeps it REMOVED;
	 * removing again keeps the first time */
	commit(db, 7, 135);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_REMOVED, 140, NULL, &t), 0);
	zi = get(db);
	assert_int_equal(zi.state, ZDB_STATE_REMOVED);
	assert_int_equal(zi.serial, 7);
	assert_int_equal(zi.removed_at, 130);
	/* --RESTORED--> FRESH (data, no error), and the time is gone */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_RESTORED, 150, NULL, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_FRESH);
	assert_int_equal(get(db).removed_at, 0);
	/* after a failure, RESTORED gives FAILED */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_FAILED, 160, &fail, &t), 0);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_REMOVED, 170, NULL, &t), 0);
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_RESTORED, 180, NULL, &t), 0);
	assert_int_equal(t.after, ZDB_STATE_FAILED);
	/* no record: nothing to remove */
	assert_int_equal(zdb_zone_event(db, tname("other.example."), ZDB_EV_REMOVED, 1, NULL, &t),
	                 ZX_ENOTFOUND);
	zdb_close(db);
	rm_store(dir);
}

/* The model: state, whether something is loaded, the last success, the version. */
struct model {
	int state; /* NONE or enum zdb_state */
	bool loaded;
	int64_t last_success, last_attempt, removed_at;
	bool last_ok;
};

static void test_state_random_sequences(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	struct model m = {.state = NONE};
	uint64_t seed = 20261202;
	uint32_t serial = 1;
	int64_t now = 1000;
	int steps[10] = {0};
	for (int step = 0; step < 3000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int op = (int)((seed >> 33) % 10); /* 0..8 events, 9 restart */
		now += 1 + (int64_t)((seed >> 20) % 5);
		steps[op]++;
		if (op == 9) {
			zdb_close(db); /* a restart: what was committed is what there is */
			db = open_store(dir, 100);
			continue;
		}
		enum zdb_event ev = (enum zdb_event)op;
		int want = expect(m.state, m.loaded, m.last_ok, ev);
		int rc;
		if (ev == ZDB_EV_COMMITTED) {
			commit(db, ++serial, now);
			rc = 0;
		} else if (ev == ZDB_EV_CORRUPT) {
			uint32_t version = 0;
			if (m.state != NONE) {
				version = get(db).version;
			}
			rc = zone_corrupt(db, tname(ZONE), version, now, "random");
		} else {
			struct zdb_event_info fail = {.err = ZX_EIO};
			rc = zdb_zone_event(db, tname(ZONE), ev, now, &fail, NULL);
		}
		if (want < 0) {
			assert_int_equal(rc, want);
			continue;
		}
		assert_int_equal(rc, 0);
		if (ev == ZDB_EV_REMOVED && m.state != ZDB_STATE_REMOVED) {
			m.removed_at = now;
		} else if (ev == ZDB_EV_RESTORED) {
			m.removed_at = 0;
		}
		m.state = want;
		m.loaded = m.loaded || ev == ZDB_EV_COMMITTED;
		if (ev == ZDB_EV_COMMITTED || ev == ZDB_EV_UPTODATE || ev == ZDB_EV_FOLLOWED) {
			m.last_success = now;
			m.last_ok = true;
		} else if (ev == ZDB_EV_FAILED || ev == ZDB_EV_CORRUPT) {
			m.last_ok = false;
		}
		if (ev != ZDB_EV_EXPIRED && ev != ZDB_EV_REMOVED && ev != ZDB_EV_RESTORED &&
		    ev != ZDB_EV_ANNOUNCED) {
			m.last_attempt = now;
		}
		struct zdb_zone_info zi = get(db);
		assert_int_equal(zi.state, m.state);
		assert_int_equal(zi.loaded, m.loaded);
		assert_int_equal(zi.last_success, m.last_success);
		assert_int_equal(zi.last_attempt, m.last_attempt);
		assert_int_equal(zi.removed_at, m.removed_at);
		/* invariants: a success clears the error; FRESH never carries one */
		assert_true(zi.state != ZDB_STATE_FRESH || zi.last_error == 0 || zi.corrupt);
		assert_true(zi.last_success <= zi.last_attempt);
	}
	for (int i = 0; i < 10; i++) {
		assert_true(steps[i] > 200); /* every kind of step was taken */
	}
	zdb_close(db);
	rm_store(dir);
}

/* zdb_zone_overdue(): a mark beside the state machine, kept until the next attempt. */
static void test_state_overdue_mark(void **state)
{
	(void)state;
	char *dir = mk_store_dir();
	struct zdb *db = open_store(dir, 100);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 50), ZX_ENOTFOUND);
	commit(db, 5, 20);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 0), ZX_EINVAL);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), (int64_t)UINT32_MAX + 1), ZX_EINVAL);
	assert_int_equal(get(db).refresh_due, 0);
	/* marked: the state and the times stay */
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 100), 0);
	struct zdb_zone_info zi = get(db);
	assert_int_equal(zi.refresh_due, 100);
	assert_int_equal(zi.state, ZDB_STATE_FRESH);
	assert_int_equal(zi.last_attempt, 20);
	assert_int_equal(zi.last_success, 20);
	assert_int_equal(zi.serial, 5);
	/* marked again: the earliest due time stays */
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 150), 0);
	assert_int_equal(get(db).refresh_due, 100);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 90), 0);
	assert_int_equal(get(db).refresh_due, 90);
	/* an expiry is no attempt: still overdue */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_EXPIRED, 200, NULL, NULL), 0);
	zi = get(db);
	assert_int_equal(zi.refresh_due, 90);
	assert_int_equal(zi.state, ZDB_STATE_EXPIRED);
	/* every recorded attempt clears it: UPTODATE, FAILED, a commit */
	assert_int_equal(zdb_zone_event(db, tname(ZONE), ZDB_EV_UPTODATE, 210, NULL, NULL), 0);
	assert_int_equal(get(db).refresh_due, 0);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 300), 0);
	assert_int_equal(zone_failed(db, tname(ZONE), 310, ZX_ETIMEDOUT, NULL, NULL), 0);
	assert_int_equal(get(db).refresh_due, 0);
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 400), 0);
	commit(db, 6, 410);
	zi = get(db);
	assert_int_equal(zi.refresh_due, 0);
	assert_int_equal(zi.serial, 6);
	/* a mark survives a reopen (it is in the record) */
	assert_int_equal(zdb_zone_overdue(db, tname(ZONE), 500), 0);
	zdb_close(db);
	db = open_store(dir, 100);
	assert_int_equal(get(db).refresh_due, 500);
	zdb_close(db);
	rm_store(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_next_every_transition),
		cmocka_unit_test(test_state_walk_through_the_store),
		cmocka_unit_test(test_state_random_sequences),
		cmocka_unit_test(test_state_overdue_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
