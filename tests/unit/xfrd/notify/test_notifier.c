/* tests/unit/xfrd/notify/test_notifier.c -- NOTIFY to downstream secondaries: the message,
 * the reply check, the retry schedule, and the loop against a small UDP responder
 * on loopback (answered, retried, folded, refused, failed, TSIG-signed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/cfg/cfg.h"
#include "xfrd/zone/zone.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "xfrd/notify/notifier.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const uint8_t zone_com[] = "\7example\3com";

/* ---- pure parts ------------------------------------------------------------------------ */

static void test_notifier_msg_is_a_notify_with_the_serial(void **state)
{
	(void)state;
	uint8_t buf[NOTIFIER_MSG_MAX];
	size_t len = 0;
	assert_int_equal(notifier_msg_build(buf, sizeof(buf), 0x1234, zone_com, 2026112601, &len),
	                 0);
	struct dns_walk w;
	assert_int_equal(dnsmsg_walk_init(&w, buf, len), 0);
	assert_int_equal(w.hdr.id, 0x1234);
	assert_int_equal(DNS_OPCODE(w.hdr.flags), DNS_OP_NOTIFY);
	assert_true(w.hdr.flags & DNS_FLAG_AA);
	assert_false(w.hdr.flags & DNS_FLAG_QR);
	assert_int_equal(w.hdr.qdcount, 1);
	assert_int_equal(w.hdr.ancount, 1);
	struct dns_question q;
	assert_int_equal(dnsmsg_walk_question(&w, &q), 1);
	assert_true(dname_equal(q.name, zone_com));
	assert_int_equal(q.qtype, DNS_T_SOA);
	assert_int_equal(q.qclass, DNS_C_IN);
	struct dns_rr rr;
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), 1);
	assert_int_equal(rr.section, DNS_SEC_ANSWER);
	assert_true(dname_equal(rr.owner, zone_com));
	assert_int_equal(rr.type, DNS_T_SOA);
	uint8_t rdata[64];
	int rl = dnsmsg_rdata_unpack(&w, &rr, rdata, sizeof(rdata));
	assert_true(rl > 0);
	struct dns_soa soa;
	assert_int_equal(dnsmsg_soa_parse(rdata, (size_t)rl, &soa), 0);
	assert_int_equal(soa.serial, 2026112601);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), 0); /* nothing after it */
}

static void test_notifier_msg_errors(void **state)
{
	(void)state;
	uint8_t buf[NOTIFIER_MSG_MAX];
	size_t len = 7;
	assert_int_equal(notifier_msg_build(buf, 40, 1, zone_com, 1, &len), ZX_ELIMIT);
	assert_int_equal(len, 7);
	static const uint8_t bad[] = "\100abc"; /* label length 64 */
	assert_int_equal(notifier_msg_build(buf, sizeof(buf), 1, bad, 1, &len), ZX_EFORMAT);
	assert_int_equal(len, 7);
}

/* Our NOTIFY turned into the reply a secondary sends: QR set, rcode. */
static size_t reply_of(uint8_t *buf, uint16_t id, const uint8_t *zone, uint16_t rcode)
{
	size_t len = 0;
	assert_int_equal(notifier_msg_build(buf, NOTIFIER_MSG_MAX, id, zone, 7, &len), 0);
	uint16_t flags = (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_FLAG_QR | DNS_FLAG_AA | rcode);
	buf[2] = (uint8_t)(flags >> 8);
	buf[3] = (uint8_t)flags;
	return len;
}

static void test_notifier_reply_check(void **state)
{
	(void)state;
	uint8_t buf[NOTIFIER_MSG_MAX];
	uint16_t rcode = 99;
	size_t len = reply_of(buf, 77, zone_com, DNS_RC_NOERROR);
	assert_int_equal(notifier_reply_check(buf, len, 77, zone_com, &rcode), 0);
	assert_int_equal(rcode, DNS_RC_NOERROR);
	static const uint8_t upper[] = "\7EXAMPLE\3Com";
	len = reply_of(buf, 77, upper, DNS_RC_REFUSED);
	assert_int_equal(notifier_reply_check(buf, len, 77, zone_com, &rcode), 0);
	assert_int_equal(rcode, DNS_RC_REFUSED);
	rcode = 99;
	assert_int_equal(notifier_reply_check(buf, len, 78, zone_com, &rcode), ZX_EFORMAT);
	static const uint8_t other[] = "\7example\3net";
	assert_int_equal(notifier_reply_check(buf, len, 77, other, &rcode), ZX_EFORMAT);
	assert_int_equal(notifier_reply_check(buf, 11, 77, zone_com, &rcode), ZX_ETRUNC);
	assert_int_equal(notifier_reply_check(buf, 20, 77, zone_com, &rcode), ZX_ETRUNC);
	len = reply_of(buf, 77, zone_com, 0);
	buf[2] &= 0x7f; /* a query, not a reply (our own NOTIFY echoed) */
	assert_int_equal(notifier_reply_check(buf, len, 77, zone_com, &rcode), ZX_EFORMAT);
	len = reply_of(buf, 77, zone_com, 0);
	buf[2] = (uint8_t)((buf[2] & 0x87) | DNS_OP_QUERY << 3);
	assert_int_equal(notifier_reply_check(buf, len, 77, zone_com, &rcode), ZX_EFORMAT);
	assert_int_equal(rcode, 99); /* untouched on error */
}

static void test_notifier_wait_doubles(void **state)
{
	(void)state;
	static const int64_t want[] = {1000, 2000, 4000, 8000, 16000};
	for (unsigned t = 1; t <= NOTIFIER_TRIES; t++) {
		int64_t ms = notifier_wait_ms(NOTIFIER_TIMEOUT_MS, t, NOTIFIER_TRIES);
		assert_int_equal(ms, want[t - 1]);
	}
	assert_int_equal(notifier_wait_ms(1000, 0, 5), -1);
	assert_int_equal(notifier_wait_ms(1000, 6, 5), -1);
	assert_int_equal(notifier_wait_ms(50, 3, 3), 200);
}

/* ---- the loop against a responder ------------------------------------------------------ */

struct responder {
	int fd;
	uint16_t port;
	int drop;           /* requests to ignore before answering */
	uint16_t rcode;     /* header rcode of the answers */
	bool corrupt_sig;   /* flip a byte of the answer's MAC */
	int seen;           /* requests received */
	uint32_t serials[16];
	int signed_ok;      /* requests whose TSIG verified */
	const struct cfg *cfg;
	struct event *ev;
};

static void respond(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct responder *r = arg;
	uint8_t buf[NOTIFIER_MSG_MAX + TSIG_RR_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, NOTIFIER_MSG_MAX, 0, (struct sockaddr *)&from, &fl);
	if (n < DNS_HDR_LEN) {
		return;
	}
	struct dns_walk w;
	struct dns_question q;
	struct dns_rr rr;
	uint8_t rd[64];
	assert_int_equal(dnsmsg_walk_init(&w, buf, (size_t)n), 0);
	assert_int_equal(dnsmsg_walk_question(&w, &q), 1);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), 1);
	struct dns_soa soa;
	int rl = dnsmsg_rdata_unpack(&w, &rr, rd, sizeof(rd));
	assert_int_equal(dnsmsg_soa_parse(rd, (size_t)rl, &soa), 0);
	if (r->seen < 16) {
		r->serials[r->seen] = soa.serial;
	}
	r->seen++;
	struct tsig_request req;
	int trc = tsig_verify(r->cfg->keys, buf, (size_t)n, (uint64_t)time(NULL), &req);
	r->signed_ok += trc == 0;
	if (r->drop > 0) {
		r->drop--;
		return;
	}
	/* the answer: the question only (no SOA), QR, the rcode */
	size_t qend = DNS_HDR_LEN + q.name_len + 4;
	uint16_t flags = (uint16_t)(DNS_OP_NOTIFY << 11 | DNS_FLAG_QR | DNS_FLAG_AA | r->rcode);
	buf[2] = (uint8_t)(flags >> 8);
	buf[3] = (uint8_t)flags;
	memset(buf + 6, 0, 6); /* no answer, authority, additional */
	size_t len = qend;
	if (trc == 0) {
		uint64_t now = (uint64_t)time(NULL);
		assert_int_equal(tsig_sign_reply(&req, buf, &len, sizeof(buf), now), 0);
		if (r->corrupt_sig) {
			buf[len - 10] ^= 0x55;
		}
	}
	(void)sendto(fd, buf, len, 0, (struct sockaddr *)&from, fl);
}

static void responder_start(struct responder *r, struct event_base *base)
{
	r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(r->fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(r->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t sl = sizeof(sin);
	assert_int_equal(getsockname(r->fd, (struct sockaddr *)&sin, &sl), 0);
	r->port = ntohs(sin.sin_port);
	r->ev = event_new(base, r->fd, EV_READ | EV_PERSIST, respond, r);
	assert_int_equal(event_add(r->ev, NULL), 0);
}

static void responder_stop(struct responder *r)
{
	event_free(r->ev);
	close(r->fd);
}

struct bed {
	struct event_base *base;
	struct responder r;
	struct cfg *cfg;
	struct zone_settings *zs[2]; /* the zones, as the runtime hands them over */
	struct notifier *n;
};

static void settings_make(struct bed *b)
{
	for (size_t i = 0; i < 2; i++) {
		b->zs[i] = NULL;
		if (i < b->cfg->zone_count) {
			assert_int_equal(zone_settings_from_cfg(&b->cfg->zones[i], &b->zs[i]), 0);
		}
	}
}

static void settings_drop(struct bed *b)
{
	for (size_t i = 0; i < 2; i++) {
		zone_settings_unref(b->zs[i]);
		b->zs[i] = NULL;
	}
}

static void bed_up(struct bed *b, const char *key_line, unsigned tries)
{
	memset(b, 0, sizeof(*b));
	b->base = event_base_new();
	assert_non_null(b->base);
	responder_start(&b->r, b->base);
	char text[1024];
	snprintf(text, sizeof(text),
	         "keys: [ { name: nk, algorithm: hmac-sha256,\n"
	         "          secret: \"c2VjcmV0LXNlY3JldA==\" } ]\n"
	         "zones:\n"
	         "  - { name: example.com, primaries: [ \"192.0.2.1\" ],\n"
	         "      notify: [ \"127.0.0.1@%u\" ] %s }\n"
	         "  - { name: example.net, primaries: [ \"192.0.2.1\" ] }\n",
	         b->r.port, key_line);
	char err[1024];
	assert_int_equal(cfg_load_string("t.yaml", text, &b->cfg, err, sizeof(err)), 0);
	b->r.cfg = b->cfg;
	settings_make(b);
	struct notifier_opts o = {.base = b->base, .timeout_ms = 20, .tries = tries};
	assert_int_equal(notifier_new(&o, &b->n), 0);
}

static void bed_down(struct bed *b)
{
	notifier_free(b->n);
	settings_drop(b);
	responder_stop(&b->r);
	cfg_free(b->cfg);
	event_base_free(b->base);
}

/* Run the loop until nothing is pending (or 2 s). */
static void run_until_idle(struct bed *b)
{
	struct notifier_stats st;
	for (int i = 0; i < 200; i++) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(b->base, &tv);
		event_base_dispatch(b->base);
		notifier_stats(b->n, &st);
		if (st.pending == 0) {
			return;
		}
	}
	fail_msg("notifier still pending");
}

static void test_notifier_answered_after_retries(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, "", 5);
	b.r.drop = 2;
	notifier_zone_changed(b.n, b.zs[0], 42);
	notifier_zone_changed(b.n, b.zs[1], 43); /* no targets: nothing */
	run_until_idle(&b);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 3);
	assert_int_equal(b.r.serials[2], 42);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.answered, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(b.r.signed_ok, 0);
	bed_down(&b);
}

/* Changes while one is in flight fold into the newest serial, sent after the answer. */
static void test_notifier_folds_into_newest(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, "", 5);
	notifier_zone_changed(b.n, b.zs[0], 10);
	notifier_zone_changed(b.n, b.zs[0], 11);
	notifier_zone_changed(b.n, b.zs[0], 13);
	notifier_zone_changed(b.n, b.zs[0], 12); /* older than the folded 13 */
	run_until_idle(&b);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 2);
	assert_int_equal(b.r.serials[0], 10);
	assert_int_equal(b.r.serials[1], 13);
	assert_int_equal(st.answered, 2);
	bed_down(&b);
}

static void test_notifier_refused_and_unanswered_fail(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, "", 3);
	b.r.rcode = DNS_RC_REFUSED;
	notifier_zone_changed(b.n, b.zs[0], 5);
	run_until_idle(&b);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 1); /* refused: no retry */
	assert_int_equal(st.failed, 1);
	b.r.drop = 100;
	notifier_zone_changed(b.n, b.zs[0], 6);
	run_until_idle(&b);
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 4); /* 3 tries */
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.retries, 2);
	bed_down(&b);
}

static void test_notifier_signed(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, ", notify-key: nk", 3);
	notifier_zone_changed(b.n, b.zs[0], 9);
	run_until_idle(&b);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.signed_ok, 1);
	assert_int_equal(st.answered, 1);
	/* a reply whose MAC does not verify is ignored: the retries go on, then fail */
	b.r.corrupt_sig = true;
	notifier_zone_changed(b.n, b.zs[0], 10);
	run_until_idle(&b);
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 4);
	assert_int_equal(b.r.signed_ok, 4);
	assert_int_equal(st.ignored, 3);
	assert_int_equal(st.failed, 1);
	bed_down(&b);
}

/* The cap: two zones with the same target are two pairs; with room for one, the
 * second change is dropped (counted, logged), the first answered. (A zone listing one
 * target twice has one pair: the same target is NOTIFYd once.) */
static void test_notifier_cap_drops(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, "", 3);
	notifier_free(b.n);
	settings_drop(&b);
	cfg_free(b.cfg);
	char text[512], err[512];
	snprintf(text, sizeof(text),
	         "zones: [ { name: example.com, primaries: [ \"192.0.2.1\" ],\n"
	         "           notify: [ \"127.0.0.1@%u\", \"127.0.0.1@%u\" ] },\n"
	         "         { name: example.net, primaries: [ \"192.0.2.1\" ],\n"
	         "           notify: [ \"127.0.0.1@%u\" ] } ]\n",
	         b.r.port, b.r.port, b.r.port);
	assert_int_equal(cfg_load_string("t.yaml", text, &b.cfg, err, sizeof(err)), 0);
	b.r.cfg = b.cfg;
	settings_make(&b);
	struct notifier_opts o = {.base = b.base, .timeout_ms = 2000, .max_pending = 1};
	assert_int_equal(notifier_new(&o, &b.n), 0);
	notifier_zone_changed(b.n, b.zs[0], 3);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(st.pending, 1); /* the target listed twice: one pair */
	assert_int_equal(st.dropped, 0);
	notifier_zone_changed(b.n, b.zs[1], 3);
	notifier_stats(b.n, &st);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.dropped, 1);
	run_until_idle(&b);
	notifier_stats(b.n, &st);
	assert_int_equal(st.answered, 1);
	assert_int_equal(b.r.seen, 1);
	bed_down(&b);
}

/* No descriptors left: the socket for the target's family cannot be made (made at
 * the first NOTIFY); the NOTIFY ends as failed after its tries, logged, counted. */
static void test_notifier_no_fds(void **state)
{
	(void)state;
	struct bed b;
	bed_up(&b, "", 2);
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest = dup(0);
	assert_true(lowest >= 0);
	close(lowest);
	struct rlimit low = {.rlim_cur = (rlim_t)lowest, .rlim_max = old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	notifier_zone_changed(b.n, b.zs[0], 8);
	run_until_idle(&b); /* every try finds no socket */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	struct notifier_stats st;
	notifier_stats(b.n, &st);
	assert_int_equal(b.r.seen, 0);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.answered, 0);
	bed_down(&b);
}

static void test_notifier_new_errors(void **state)
{
	(void)state;
	struct notifier *n = (struct notifier *)&n;
	struct notifier_opts o = {0};
	assert_int_equal(notifier_new(&o, &n), ZX_EINVAL); /* no base */
	struct event_base *base = event_base_new();
	o.base = base;
	o.max_pending = 60001;
	assert_int_equal(notifier_new(&o, &n), ZX_EINVAL);
	assert_ptr_equal(n, (struct notifier *)&n);
	o.max_pending = 0;
	assert_int_equal(notifier_new(&o, &n), 0);
	notifier_free(n);
	notifier_free(NULL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notifier_msg_is_a_notify_with_the_serial),
		cmocka_unit_test(test_notifier_msg_errors),
		cmocka_unit_test(test_notifier_reply_check),
		cmocka_unit_test(test_notifier_wait_doubles),
		cmocka_unit_test(test_notifier_answered_after_retries),
		cmocka_unit_test(test_notifier_folds_into_newest),
		cmocka_unit_test(test_notifier_refused_and_unanswered_fail),
		cmocka_unit_test(test_notifier_signed),
		cmocka_unit_test(test_notifier_cap_drops),
		cmocka_unit_test(test_notifier_no_fds),
		cmocka_unit_test(test_notifier_new_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
