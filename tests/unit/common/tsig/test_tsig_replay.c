/* SPDX-License-Identifier: MIT */
/* tests/unit/common/tsig/test_tsig_replay.c -- the replay memory of signed requests:
 * a repeat is recognised (pending or done), a forgotten request is new again, the
 * window ends with the max fudge, and a full table refuses (horizon) rather than
 * forgetting silently. Requests come from real signed messages (tsig_verify()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "common/tsig/tsig_replay.h"

#include <string.h>

#define T0 1700000000u
#define WINDOW 300u

struct fx {
	struct tsig_keyring *ring;
	const struct tsig_key *key;
	struct tsig_replay *r;
};

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	f.ring = tsig_keyring_new();
	if (f.ring == NULL || tsig_keyring_add(f.ring, "k1", "hmac-sha256",
	                                       "pRP5FapFoJ95JEL06sv4PQ==", &f.key) != 0 ||
	    tsig_replay_new(64, WINDOW, 42, &f.r) != 0) {
		return -1;
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tsig_replay_free(f->r);
	tsig_keyring_free(f->ring);
	return 0;
}

/* A signed query with ID @p id at time @p t, verified: its request as a server sees it. */
static struct tsig_request request(struct fx *f, uint16_t id, uint64_t t)
{
	uint8_t m[512];
	struct wire_wr w = wire_wr_init(m, sizeof(m));
	wire_wr_u16(&w, id);
	wire_wr_u16(&w, 4 << 11);
	wire_wr_u16(&w, 1);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_u16(&w, 0);
	wire_wr_bytes(&w, (const uint8_t *)"\x04test\x00", 6);
	wire_wr_u16(&w, DNS_T_SOA);
	wire_wr_u16(&w, DNS_C_IN);
	assert_int_equal(w.err, 0);
	size_t len = wire_wr_len(&w);
	struct tsig_session s;
	tsig_session_init(&s, f->key, TSIG_FUDGE_DEFAULT);
	assert_int_equal(tsig_session_sign_request(&s, m, &len, sizeof(m), t), 0);
	tsig_session_deinit(&s);
	struct tsig_request req;
	assert_int_equal(tsig_verify(f->ring, m, len, t, &req), 0);
	return req;
}

static void test_tsig_replay_repeat_is_pending_then_done(void **state)
{
	struct fx *f = *state;
	struct tsig_request req = request(f, 1, T0);
	struct tsig_replay_id id = tsig_replay_id(f->r, &req);
	assert_int_not_equal(id.hash, 0);
	assert_int_equal(id.time_signed, T0);
	assert_int_equal(tsig_replay_check(f->r, &id, T0), TSIG_REPLAY_NEW);
	assert_int_equal(tsig_replay_admit(f->r, &id, T0), TSIG_REPLAY_NEW);
	assert_int_not_equal(id.slot, 0);
	assert_int_equal(tsig_replay_check(f->r, &id, T0), TSIG_REPLAY_PENDING);
	struct tsig_replay_id copy = id;
	copy.slot = 0; /* no hint: found through the index */
	assert_int_equal(tsig_replay_admit(f->r, &copy, T0), TSIG_REPLAY_PENDING);
	assert_int_equal(copy.slot, id.slot);
	tsig_replay_confirm(f->r, &id, T0 + 1);
	assert_int_equal(tsig_replay_check(f->r, &id, T0 + 1), TSIG_REPLAY_DONE);
	/* the same bytes are the same request; another ID is another MAC */
	struct tsig_request same = request(f, 1, T0);
	struct tsig_replay_id sid = tsig_replay_id(f->r, &same);
	assert_int_equal(tsig_replay_check(f->r, &sid, T0 + 2), TSIG_REPLAY_DONE);
	struct tsig_request other = request(f, 2, T0);
	struct tsig_replay_id oid = tsig_replay_id(f->r, &other);
	assert_int_not_equal(oid.hash, id.hash);
	assert_int_equal(tsig_replay_check(f->r, &oid, T0 + 2), TSIG_REPLAY_NEW);
	/* the window: still remembered at T0 + 300, dead (and unverifiable) after */
	assert_int_equal(tsig_replay_check(f->r, &id, T0 + WINDOW), TSIG_REPLAY_DONE);
	assert_int_equal(tsig_replay_check(f->r, &id, T0 + WINDOW + 1), TSIG_REPLAY_NEW);
	struct tsig_replay_stats st = tsig_replay_stats(f->r);
	assert_int_equal(st.held, 1);
	assert_int_equal(st.confirmed, 1);
	assert_int_equal(st.evicted, 0);
}

/* Kafka never stored it: the sender's retransmission of the same bytes is new. */
static void test_tsig_replay_forgotten_request_is_new_again(void **state)
{
	struct fx *f = *state;
	struct tsig_request req = request(f, 7, T0);
	struct tsig_replay_id id = tsig_replay_id(f->r, &req);
	assert_int_equal(tsig_replay_admit(f->r, &id, T0), TSIG_REPLAY_NEW);
	tsig_replay_forget(f->r, &id);
	assert_int_equal(tsig_replay_check(f->r, &id, T0), TSIG_REPLAY_NEW);
	tsig_replay_forget(f->r, &id); /* twice: nothing to find */
	assert_int_equal(tsig_replay_stats(f->r).forgotten, 1);
	/* the retry: new, held again, then accepted */
	id.slot = 0;
	assert_int_equal(tsig_replay_admit(f->r, &id, T0), TSIG_REPLAY_NEW);
	tsig_replay_confirm(f->r, &id, T0);
	assert_int_equal(tsig_replay_check(f->r, &id, T0), TSIG_REPLAY_DONE);
	/* confirmed without being held (dropped meanwhile, after the horizon):
	 * remembered all the same */
	struct tsig_request other = request(f, 8, T0);
	struct tsig_replay_id oid = tsig_replay_id(f->r, &other);
	tsig_replay_confirm(f->r, &oid, T0);
	assert_int_equal(tsig_replay_check(f->r, &oid, T0), TSIG_REPLAY_DONE);
}

/* 64 entries, 2000 requests, ten a second: entries get dropped, the horizon
 * rises, and no request that was accepted is ever reported NEW again. */
static void test_tsig_replay_full_table_refuses_instead_of_forgetting(void **state)
{
	struct fx *f = *state;
	enum { N = 2000 };
	static struct tsig_replay_id ids[N];
	for (unsigned i = 0; i < N; i++) {
		uint64_t t = T0 + i / 10; /* ten a second */
		struct tsig_request req = request(f, (uint16_t)i, t);
		ids[i] = tsig_replay_id(f->r, &req);
		enum tsig_replay_seen seen = tsig_replay_admit(f->r, &ids[i], t);
		assert_true(seen == TSIG_REPLAY_NEW || seen == TSIG_REPLAY_HORIZON);
		if (seen == TSIG_REPLAY_NEW) {
			tsig_replay_confirm(f->r, &ids[i], t);
		}
	}
	struct tsig_replay_stats st = tsig_replay_stats(f->r);
	assert_true(st.evicted > 0);
	assert_true(st.horizon >= T0 && st.horizon <= T0 + N / 10);
	uint64_t now = T0 + N / 10;
	for (unsigned i = 0; i < N; i++) {
		if (ids[i].time_signed + WINDOW >= now) { /* could still verify */
			assert_int_not_equal(tsig_replay_check(f->r, &ids[i], now), TSIG_REPLAY_NEW);
		}
	}
	/* a request signed now is still welcome */
	struct tsig_request fresh = request(f, 9999, now + 1);
	struct tsig_replay_id fid = tsig_replay_id(f->r, &fresh);
	assert_int_equal(tsig_replay_check(f->r, &fid, now + 1), TSIG_REPLAY_NEW);
}

/* Steady overload: 100 accepted requests a second into a ring of 1024 (ten
 * seconds of them) for 100 s. Entries are dropped all along, yet the horizon stays
 * about ten seconds behind, so fresh requests keep being accepted. (A table that
 * drops the oldest of a few probed slots pushes its horizon up to "now".) */
static void test_tsig_replay_horizon_trails_under_overload(void **state)
{
	struct fx *f = *state;
	struct tsig_replay *r = NULL;
	assert_int_equal(tsig_replay_new(1024, WINDOW, 5, &r), 0);
	uint16_t id = 0;
	for (uint64_t t = T0; t < T0 + 100; t++) {
		for (int i = 0; i < 100; i++) {
			struct tsig_request req = request(f, id++, t);
			struct tsig_replay_id rid = tsig_replay_id(r, &req);
			assert_int_equal(tsig_replay_admit(r, &rid, t), TSIG_REPLAY_NEW);
			tsig_replay_confirm(r, &rid, t);
			assert_int_equal(tsig_replay_check(r, &rid, t), TSIG_REPLAY_DONE);
		}
		struct tsig_replay_stats st = tsig_replay_stats(r);
		if (t >= T0 + 11) {
			assert_true(st.evicted > 0);
			assert_true(st.horizon + 9 <= t && st.horizon + 12 >= t);
		}
	}
	tsig_replay_free(r);
}

static void test_tsig_replay_bad_sizes(void **state)
{
	(void)state;
	struct tsig_replay *r = (struct tsig_replay *)&r;
	assert_int_equal(tsig_replay_new(0, 300, 1, &r), ZX_EINVAL);
	assert_int_equal(tsig_replay_new((1u << 24) + 1, 300, 1, &r), ZX_EINVAL);
	assert_ptr_equal(r, (struct tsig_replay *)&r);
	assert_int_equal(tsig_replay_new(1, 300, 1, &r), 0);
	tsig_replay_set_window(r, 10);
	tsig_replay_free(r);
	tsig_replay_free(NULL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tsig_replay_repeat_is_pending_then_done),
		T(test_tsig_replay_forgotten_request_is_new_again),
		T(test_tsig_replay_full_table_refuses_instead_of_forgetting),
		T(test_tsig_replay_horizon_trails_under_overload),
		cmocka_unit_test(test_tsig_replay_bad_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
