/* tests/integration/xfr/test_xfr_hostile.c -- the engine against our hostile primary:
 * every failure is recorded and the old zone kept; every fallback lands on AXFR.
 * Runs hostile_primary processes on 127.0.0.1 ports 21100-21199. Label: integration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "tests/unit/xfrd/xfr/memstore.h"
#include "xfrd/xfr/engine.h"
#include "xfrd/zone/zone.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEY_SECRET "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw=="

static const char *hostile_bin;
static struct memstore *store;
static struct engine *eng;
static struct tsig_keyring *ring;
static const struct tsig_key *key;
static uint16_t next_port = 21100;
static pid_t children[64]; /* killed after each test, also when an assert left early */
static size_t nchildren;

struct primary {
	pid_t pid;
	uint16_t port;
};

static struct primary start_primary(const char *zone, uint32_t serial, const char *mode,
                                    bool tsig, const char *records)
{
	struct primary p = {.port = next_port++};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		char port[8], ser[16];
		snprintf(port, sizeof(port), "%u", p.port);
		snprintf(ser, sizeof(ser), "%u", serial);
		const char *argv[20] = {hostile_bin, "-p", port, "-z", zone, "-s", ser, "-S", "3"};
		int n = 9;
		if (mode != NULL) {
			argv[n++] = "-M";
			argv[n++] = mode;
		}
		if (tsig) {
			argv[n++] = "-y";
			argv[n++] = "xfr-key:hmac-sha256:" KEY_SECRET;
		}
		if (records != NULL) {
			argv[n++] = "-n";
			argv[n++] = records;
		}
		dup2(fds[1], 1);
		close(fds[0]);
		execv(hostile_bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	if (nchildren < 64) {
		children[nchildren++] = p.pid;
	}
	char line[64] = {0};
	assert_true(read(fds[0], line, sizeof(line) - 1) > 0);
	assert_non_null(strstr(line, "ready"));
	close(fds[0]);
	return p;
}

static void stop_primary(struct primary p)
{
	kill(p.pid, SIGKILL);
	waitpid(p.pid, NULL, 0);
	for (size_t i = 0; i < nchildren; i++) {
		if (children[i] == p.pid) {
			children[i] = 0; /* reaped: never signal a recycled pid */
		}
	}
}

static int kill_children(void **state)
{
	(void)state;
	for (size_t i = 0; i < nchildren; i++) {
		if (children[i] > 0 && kill(children[i], SIGKILL) == 0) {
			waitpid(children[i], NULL, 0);
		}
	}
	nchildren = 0;
	return 0;
}

static void bump(struct primary p, int times)
{
	for (int i = 0; i < times; i++) {
		kill(p.pid, SIGUSR1);
		struct timespec ts = {0, 20 * 1000 * 1000}; /* each signal handled on its own */
		nanosleep(&ts, NULL);
	}
}

/* A zone of the test: name, one or two primaries. */
struct tzone {
	uint8_t name[DNAME_MAXLEN];
	char text[64];
	struct cfg_endpoint ep[2];
	struct cfg_zone z;
};

static void tzone_init(struct tzone *t, const char *name, uint16_t port1, uint16_t port2,
                       bool tsig, uint64_t max_records)
{
	memset(t, 0, sizeof(*t));
	assert_true(dname_from_text(name, t->name) > 0);
	snprintf(t->text, sizeof(t->text), "%s", name);
	uint16_t ports[2] = {port1, port2};
	size_t n = 0;
	for (size_t i = 0; i < 2; i++) {
		if (ports[i] == 0) {
			continue;
		}
		struct sockaddr_in *sa = (struct sockaddr_in *)&t->ep[n].addr;
		sa->sin_family = AF_INET;
		sa->sin_port = htons(ports[i]);
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		t->ep[n++].len = sizeof(*sa);
	}
	t->z.name = t->name;
	t->z.name_text = t->text;
	t->z.primaries = (struct cfg_endpoints){.v = t->ep, .count = n};
	t->z.key = tsig ? key : NULL;
	t->z.limits.records = max_records;
}

/* engine_request() with @p z's settings, as the zone runtime hands them over. */
static int request(struct engine *e, const struct cfg_zone *z, unsigned flags, engine_cb cb,
                   void *arg)
{
	struct zone_settings *set = NULL;
	assert_int_equal(zone_settings_from_cfg(z, &set), 0);
	int rc = engine_request(e, set, flags, cb, arg); /* the engine takes its own reference */
	zone_settings_unref(set);
	return rc;
}

struct wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	struct engine_result res;
};

static void on_done(void *arg, const struct engine_result *res)
{
	struct wait *w = arg;
	pthread_mutex_lock(&w->mu);
	w->res = *res;
	w->done++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static struct engine_result refresh_on(struct engine *e, struct tzone *t, unsigned flags)
{
	struct wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(request(e, &t->z, flags, on_done, &w), 0);
	pthread_mutex_lock(&w.mu);
	while (w.done == 0) {
		pthread_cond_wait(&w.cv, &w.mu);
	}
	pthread_mutex_unlock(&w.mu);
	return w.res;
}

static struct engine_result refresh(struct tzone *t, unsigned flags)
{
	return refresh_on(eng, t, flags);
}

static struct memstore_zone zone_state(struct tzone *t)
{
	struct memstore_zone z;
	assert_true(memstore_get(store, t->name, &z));
	return z;
}

/* A held zone at serial 10 from a well-behaved primary, then the hostile one. */
static void load_first(struct tzone *t, const char *name, bool tsig)
{
	struct primary good = start_primary(name, 10, NULL, tsig, NULL);
	tzone_init(t, name, good.port, 0, tsig, 0);
	struct engine_result r = refresh(t, 0);
	stop_primary(good);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_int_equal(zone_state(t).serial, 10);
}

static void test_axfr_then_ixfr_then_uptodate(void **state)
{
	(void)state;
	struct primary p = start_primary("a.test.", 5, NULL, true, NULL);
	struct tzone t;
	tzone_init(&t, "a.test.", p.port, 0, true, 0);
	struct engine_result r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_false(r.xfr.had_zone);
	assert_int_equal(r.xfr.commit.serial, 5);
	assert_int_equal(r.xfr.commit.records, 50 + 4);
	r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_UPTODATE);
	bump(p, 1);
	r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_IXFR);
	assert_int_equal(r.xfr.changesets, 1);
	assert_int_equal(r.xfr.commit.serial, 6);
	bump(p, 3);
	r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_IXFR);
	assert_int_equal(r.xfr.changesets, 3);
	assert_int_equal(zone_state(&t).serial, 9);
	assert_true(memstore_has(store, t.name, "ver.a.test.", DNS_T_TXT, (const uint8_t *)"\x01" "9", 2));
	assert_false(memstore_has(store, t.name, "ver.a.test.", DNS_T_TXT, (const uint8_t *)"\x01" "8", 2));
	r = refresh(&t, ENGINE_FORCE_AXFR);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_int_equal(zone_state(&t).records, 54);
	stop_primary(p);
}

/* Transfers back to back reuse the last transfer's connection (RFC 5936 4.1); one
 * the primary closed while it was idle is not used. */
static void test_connection_reuse(void **state)
{
	(void)state;
	/* one worker: the idle connections are a worker's own */
	struct engine_opts o = {
		.workers = 1, .max_transfers = 8, .per_primary = 4, .connect_ms = 1000,
		.read_ms = 700, .soa_ms = 300, .transfer_ms = 5000, .ops = &memstore_ops,
		.store = store,
	};
	struct engine *e = NULL;
	assert_int_equal(engine_new(&o, &e), 0);
	struct primary p = start_primary("reuse.test.", 5, NULL, true, NULL);
	struct tzone t;
	tzone_init(&t, "reuse.test.", p.port, 0, true, 0);
	for (int i = 0; i < 3; i++) {
		struct engine_result r = refresh_on(e, &t, ENGINE_FORCE_AXFR);
		assert_int_equal(r.xfr.outcome, XFR_AXFR);
		assert_int_equal(r.xfr.conn_reused, i > 0);
	}
	/* the primary closes a connection idle for 100 ms; the pool sees it go */
	nanosleep(&(struct timespec){.tv_nsec = 300000000}, NULL);
	struct engine_result r = refresh_on(e, &t, ENGINE_FORCE_AXFR);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_false(r.xfr.conn_reused);
	assert_int_equal(zone_state(&t).serial, 5);
	stop_primary(p);
	/* a primary that keeps the connection but takes no second query: the
	   transfer is tried again at once on a new connection */
	p = start_primary("reuse.test.", 6, "onequery", true, NULL);
	tzone_init(&t, "reuse.test.", p.port, 0, true, 0);
	r = refresh_on(e, &t, ENGINE_FORCE_AXFR);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_false(r.xfr.conn_reused);
	r = refresh_on(e, &t, ENGINE_FORCE_AXFR);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_false(r.xfr.conn_reused); /* taken, found closed, replaced */
	assert_int_equal(zone_state(&t).serial, 6);
	stop_primary(p);
	engine_free(e);
}

/* A store whose commits wait at a gate: memstore, with commit() held until opened. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered;
	bool open;
} gate = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static int gated_commit(void *txn, int64_t now, const char *primary, struct zdb_commit *res)
{
	pthread_mutex_lock(&gate.mu);
	gate.entered++;
	pthread_cond_broadcast(&gate.cv);
	while (!gate.open) {
		pthread_cond_wait(&gate.cv, &gate.mu);
	}
	pthread_mutex_unlock(&gate.mu);
	return memstore_ops.commit(txn, now, primary, res);
}

/* An AXFR waiting for its commit (a disk sync in the real store) no longer holds
 * its primary's slot: with per_primary 1 the next transfer from that primary runs
 * meanwhile, and its commit joins the first (the store groups them: one sync). */
static void test_primary_slot_freed_while_committing(void **state)
{
	(void)state;
	struct xfr_store_ops ops = memstore_ops;
	ops.commit = gated_commit;
	struct engine_opts o = {
		.workers = 1, .commit_threads = 2, .max_transfers = 4, .per_primary = 1,
		.connect_ms = 1000, .read_ms = 700, .soa_ms = 300, .transfer_ms = 10000,
		.ops = &ops, .store = store,
	};
	struct engine *e = NULL;
	assert_int_equal(engine_new(&o, &e), 0);
	struct primary p = start_primary("slot.test.", 7, NULL, true, NULL);
	struct tzone t;
	tzone_init(&t, "slot.test.", p.port, 0, true, 0);
	struct wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	assert_int_equal(request(e, &t.z, ENGINE_FORCE_AXFR, on_done, &w), 0);
	assert_int_equal(request(e, &t.z, ENGINE_FORCE_AXFR, on_done, &w), 0);
	/* both transfers reach their commit while the first commit is held */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&gate.mu);
	while (gate.entered < 2 &&
	       pthread_cond_timedwait(&gate.cv, &gate.mu, &until) == 0) {
	}
	int entered = gate.entered;
	gate.open = true; /* before any assert: the engine must be able to end */
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	pthread_mutex_lock(&w.mu);
	while (w.done < 2) {
		pthread_cond_wait(&w.cv, &w.mu);
	}
	pthread_mutex_unlock(&w.mu);
	engine_free(e);
	stop_primary(p);
	assert_int_equal(entered, 2);
	assert_int_equal(w.res.xfr.outcome, XFR_AXFR);
	assert_int_equal(zone_state(&t).serial, 7);
}

/* IXFR answered with an error rcode, or in a way we cannot use: AXFR follows. */
static void expect_fallback(const char *name, const char *mode, bool axfr_expected_fallback)
{
	struct tzone t;
	load_first(&t, name, false);
	struct primary p = start_primary(name, 12, mode, false, NULL);
	tzone_init(&t, name, p.port, 0, false, 0);
	struct engine_result r = refresh(&t, 0);
	stop_primary(p);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_int_equal(r.xfr.fell_back, axfr_expected_fallback);
	assert_int_equal(r.xfr.commit.serial, 12);
	assert_int_equal(zone_state(&t).serial, 12);
}

static void test_ixfr_error_rcodes_fall_back_to_axfr(void **state)
{
	(void)state;
	expect_fallback("rc1.test.", "rcode:1", true);
	expect_fallback("rc2.test.", "rcode:2", true);
	expect_fallback("rc4.test.", "rcode:4", true);
	expect_fallback("rc5.test.", "rcode:5", true);
	expect_fallback("rc9.test.", "rcode:9", true);
}

static void test_ixfr_unusable_answers_fall_back(void **state)
{
	(void)state;
	expect_fallback("style.test.", "axfrstyle", false); /* stored as AXFR directly */
	expect_fallback("single.test.", "single", true);    /* single newer SOA */
	expect_fallback("diff.test.", "baddiff", true);     /* ZX_EDIFF from the store */
	expect_fallback("dup.test.", "dupadd", true);       /* adds what we hold: ZX_EDIFF */
}

/* A transfer that fails: error recorded, zone kept at serial 10. */
static void expect_failure(const char *name, const char *mode, bool tsig, int err, unsigned flags,
                           uint64_t max_records)
{
	struct tzone t;
	load_first(&t, name, tsig);
	unsigned fails = zone_state(&t).fails;
	struct primary p = start_primary(name, 12, mode, tsig, NULL);
	tzone_init(&t, name, p.port, 0, tsig, max_records);
	struct engine_result r = refresh(&t, flags);
	stop_primary(p);
	assert_int_equal(r.xfr.outcome, XFR_FAILED);
	if (err != 0) {
		assert_int_equal(r.xfr.error, err);
	}
	struct memstore_zone z = zone_state(&t);
	assert_int_equal(z.serial, 10); /* the old zone is kept */
	assert_int_equal(z.records, 54);
	assert_int_equal(z.state, 2);
	assert_int_equal(z.fails, fails + 1);
	assert_int_equal(z.last_error, r.xfr.error);
	assert_true(strlen(z.last_text) > 0);
}

static void test_hostile_failures_keep_the_old_zone(void **state)
{
	(void)state;
	expect_failure("reset.test.", "reset:1", false, ZX_ECONNRESET, ENGINE_FORCE_AXFR, 0);
	expect_failure("stall.test.", "stall:1", false, ZX_ETIMEDOUT, ENGINE_FORCE_AXFR, 0);
	expect_failure("badmac.test.", "badmac:2", true, ZX_ETSIG_BADSIG, ENGINE_FORCE_AXFR, 0);
	expect_failure("wrongid.test.", "wrongid:2", false, ZX_EXFR, ENGINE_FORCE_AXFR, 0);
	expect_failure("noclose.test.", "noclose", false, 0, ENGINE_FORCE_AXFR, 0);
	expect_failure("outside.test.", "outside", false, ZX_EXFR, ENGINE_FORCE_AXFR, 0);
	expect_failure("midsoa.test.", "midsoa", false, ZX_EXFR, ENGINE_FORCE_AXFR, 0);
	expect_failure("wrongq.test.", "wrongq", false, ZX_EXFR, ENGINE_FORCE_AXFR, 0);
	expect_failure("limit.test.", NULL, false, ZX_ELIMIT, ENGINE_FORCE_AXFR, 30);
	expect_failure("unsignedlast.test.", "unsignedlast", true, ZX_ENOTSIG, ENGINE_FORCE_AXFR,
	               0);
	/* the same failures reached through SOA check + IXFR, then the AXFR fallback */
	expect_failure("noclose2.test.", "noclose", false, 0, 0, 0);
	expect_failure("badmac2.test.", "badmac:1", true, ZX_ETSIG_BADSIG, 0, 0);
}

static void test_sparse_tsig_is_accepted(void **state)
{
	(void)state;
	struct primary p = start_primary("sparse.test.", 3, "sparse", true, "400");
	struct tzone t;
	tzone_init(&t, "sparse.test.", p.port, 0, true, 0);
	struct engine_result r = refresh(&t, 0);
	stop_primary(p);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_true(r.xfr.messages > 8);
	assert_int_equal(r.xfr.commit.records, 404);
}

static void test_soa_over_tcp_when_truncated_or_lost(void **state)
{
	(void)state;
	const char *modes[] = {"soatc", "soadrop"};
	for (size_t i = 0; i < 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "%s.test.", modes[i]);
		struct tzone t;
		load_first(&t, name, true);
		struct primary p = start_primary(name, 11, modes[i], true, NULL);
		tzone_init(&t, name, p.port, 0, true, 0);
		struct engine_result r = refresh(&t, 0);
		stop_primary(p);
		assert_int_equal(r.xfr.outcome, XFR_IXFR);
		assert_int_equal(r.xfr.commit.serial, 11);
	}
}

static void test_second_primary_used_when_first_is_down(void **state)
{
	(void)state;
	struct primary p = start_primary("two.test.", 4, NULL, false, NULL);
	struct tzone t;
	tzone_init(&t, "two.test.", 21099 /* nothing listens */, p.port, false, 0);
	struct engine_result r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_AXFR);
	assert_int_equal(r.attempts, 2);
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1@%u", p.port);
	assert_string_equal(r.xfr.primary, want);
	assert_string_equal(zone_state(&t).primary, want);
	/* both down: failure recorded, zone kept */
	stop_primary(p);
	r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_FAILED);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(zone_state(&t).serial, 4);
	assert_int_equal(zone_state(&t).state, 2);
}

/* A primary whose accept queue is full drops our SYN: the connect timeout ends it. */
static void test_connect_timeout(void **state)
{
	(void)state;
	uint16_t port = next_port++;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4];
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0); /* never accepted */
	for (int i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100000);
	struct tzone t;
	tzone_init(&t, "connect.test.", port, 0, false, 0);
	struct engine_result r = refresh(&t, 0);
	assert_int_equal(r.xfr.outcome, XFR_FAILED);
	assert_int_equal(r.xfr.error, ZX_ETIMEDOUT);
	assert_true(r.xfr.duration_us >= 900000 && r.xfr.duration_us < 3000000); /* connect_ms 1000 */
	for (int i = 0; i < 4; i++) {
		close(fill[i]);
	}
	close(lfd);
}

static void test_wrong_key_fails(void **state)
{
	(void)state;
	struct primary p = start_primary("key.test.", 4, NULL, true, NULL);
	struct tsig_keyring *other = tsig_keyring_new();
	const struct tsig_key *k2 = NULL;
	assert_int_equal(tsig_keyring_add(other, "xfr-key", "hmac-sha256",
	                                  "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", &k2), 0);
	struct tzone t;
	tzone_init(&t, "key.test.", p.port, 0, true, 0);
	t.z.key = k2;
	struct engine_result r = refresh(&t, 0);
	stop_primary(p);
	assert_int_equal(r.xfr.outcome, XFR_FAILED); /* our hostile one stays silent */
	tsig_keyring_free(other);
}

static void test_requests_and_limits(void **state)
{
	(void)state;
	struct primary p = start_primary("fold.test.", 4, NULL, false, "2000");
	struct tzone t;
	tzone_init(&t, "fold.test.", p.port, 0, false, 0);
	struct wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct engine_stats before, after;
	engine_stats(eng, &before);
	/* one request is one transfer: folding is the zone runtime's (xfrd/zone/sched.h,
	   tests/unit/xfrd/service/test_runtime.c) */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(request(eng, &t.z, ENGINE_FORCE_AXFR, on_done, &w), 0);
	}
	engine_wait_idle(eng);
	engine_stats(eng, &after);
	assert_int_equal(w.done, 3); /* every request answered */
	assert_int_equal(after.axfr - before.axfr, 3);
	/* per-primary limit: 8 zones at once against one primary, limit 4 */
	struct tzone many[8];
	for (int i = 0; i < 8; i++) {
		tzone_init(&many[i], "fold.test.", p.port, 0, false, 0);
		assert_int_equal(request(eng, &many[i].z, ENGINE_FORCE_AXFR, NULL, NULL), 0);
	}
	engine_wait_idle(eng);
	engine_stats(eng, &after);
	assert_true(after.max_at_primary <= 4);
	assert_true(after.max_at_primary >= 1);
	assert_true(after.max_running <= 8); /* max_transfers: commits waiting count */
	stop_primary(p);
}

int main(int argc, char **argv)
{
	hostile_bin = argc > 1 ? argv[1] : "./hostile_primary";
	signal(SIGPIPE, SIG_IGN);
	ring = tsig_keyring_new();
	assert_int_equal(tsig_keyring_add(ring, "xfr-key", "hmac-sha256", KEY_SECRET, &key), 0);
	store = memstore_new();
	struct engine_opts o = {
		.workers = 2, .max_transfers = 8, .per_primary = 4, .connect_ms = 1000,
		.read_ms = 700, .soa_ms = 300, .transfer_ms = 5000, .ops = &memstore_ops,
		.store = store,
	};
	assert_int_equal(engine_new(&o, &eng), 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_axfr_then_ixfr_then_uptodate, kill_children),
		cmocka_unit_test_teardown(test_connection_reuse, kill_children),
		cmocka_unit_test_teardown(test_primary_slot_freed_while_committing, kill_children),
		cmocka_unit_test_teardown(test_ixfr_error_rcodes_fall_back_to_axfr, kill_children),
		cmocka_unit_test_teardown(test_ixfr_unusable_answers_fall_back, kill_children),
		cmocka_unit_test_teardown(test_hostile_failures_keep_the_old_zone, kill_children),
		cmocka_unit_test_teardown(test_sparse_tsig_is_accepted, kill_children),
		cmocka_unit_test_teardown(test_soa_over_tcp_when_truncated_or_lost, kill_children),
		cmocka_unit_test_teardown(test_second_primary_used_when_first_is_down, kill_children),
		cmocka_unit_test_teardown(test_connect_timeout, kill_children),
		cmocka_unit_test_teardown(test_wrong_key_fails, kill_children),
		cmocka_unit_test_teardown(test_requests_and_limits, kill_children),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	engine_free(eng);
	memstore_free(store);
	tsig_keyring_free(ring);
	return rc;
}
