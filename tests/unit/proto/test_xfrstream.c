/* tests/unit/proto/test_xfrstream.c -- the IXFR/AXFR answer state machine, message by message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnsmsg.h"
#include "tests/unit/testutil/msgbuild.h"
#include "proto/xfrstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z "example.com."
#define SOA(n) Z " 3600 IN SOA ns.example.com. host.example.com. " #n " 3600 900 86400 300"
#define ID 0x4242

static const uint8_t zone_wire[] = "\x07" "example" "\x03" "com";

/* Events as text, "begin_axfr 1;add A;end 1;" */
struct log {
	char text[4096];
	int fail_at; /* return ZX_EIO on this event number (1-based); 0 never */
	int n;
};

static int record(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct log *l = arg;
	size_t used = strlen(l->text);
	char item[64];
	if (rr->type == DNS_T_SOA) {
		snprintf(item, sizeof(item), "%s %u;", xfrstream_ev_str(ev), rr->serial);
	} else {
		snprintf(item, sizeof(item), "%s %u;", xfrstream_ev_str(ev), rr->type);
	}
	snprintf(l->text + used, sizeof(l->text) - used, "%s", item);
	return ++l->n == l->fail_at ? ZX_EIO : 0;
}

struct fx {
	struct xfrstream *s;
	struct log log;
	uint8_t msg[65535];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->s = malloc(sizeof(*f->s));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	free(f->s);
	free(f);
	return 0;
}

static void start(struct fx *f, uint16_t qtype, uint32_t ours, uint64_t max_rec, uint64_t max_b)
{
	struct xfrstream_cfg cfg = {
		.zone = zone_wire, .qtype = qtype, .id = ID, .our_serial = ours,
		.max_records = max_rec, .max_bytes = max_b, .cb = record, .arg = &f->log,
	};
	memset(&f->log, 0, sizeof(f->log));
	assert_int_equal(xfrstream_init(f->s, &cfg), 0);
}

/* Feed one message with the given records; returns xfrstream_feed's result. */
static int feed_q(struct fx *f, uint16_t id, uint8_t rcode, const char *qname, uint16_t qtype,
                  int with_q, const char *const *rrs)
{
	size_t len = msgbuild(f->msg, sizeof(f->msg), id, rcode, qname, qtype, with_q, rrs);
	return xfrstream_feed(f->s, f->msg, len);
}

static int feed(struct fx *f, uint16_t qtype, const char *const *rrs)
{
	return feed_q(f, ID, 0, Z, qtype, f->s->messages == 0, rrs);
}

static void test_axfr_one_message(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *rrs[] = {SOA(7), Z " NS ns.example.com.", "ns.example.com. A 192.0.2.1",
	                     "www.example.com. MX 10 mail.example.com.", SOA(7), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, rrs), 1);
	assert_string_equal(f->log.text, "begin_axfr 7;add 2;add 1;add 15;end 7;");
	assert_int_equal(f->s->kind, XFRSTREAM_BEGIN_AXFR);
	assert_int_equal(f->s->serial, 7);
	assert_int_equal(f->s->added, 3);
	assert_int_equal(f->s->records, 5);
}

static void test_axfr_many_messages_question_only_first(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", NULL};
	const char *m2[] = {"b.example.com. AAAA 2001:db8::1", NULL};
	const char *m3[] = {"c.example.com. TXT \"hi\"", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), 0);
	assert_int_equal(feed(f, DNS_T_AXFR, m2), 0);
	/* a later message may repeat the question */
	assert_int_equal(feed_q(f, ID, 0, "EXAMPLE.com.", DNS_T_AXFR, 1, m3), 1);
	assert_string_equal(f->log.text, "begin_axfr 9;add 1;add 28;add 16;end 9;");
	assert_int_equal(f->s->messages, 3);
}

static void test_axfr_without_closing_soa_wants_more(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), 0);
	assert_int_equal(f->s->state, XFRSTREAM_ST_AXFR);
}

static void test_axfr_second_soa_in_the_middle_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), SOA(9), "a.example.com. A 192.0.2.1", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "records after the closing SOA");
	/* once failed, always failed */
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
}

static void test_axfr_closing_soa_other_serial_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", SOA(10), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
}

static void test_axfr_first_not_soa_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {"a.example.com. A 192.0.2.1", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "first record is not the SOA");
}

static void test_record_outside_zone_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.net. A 192.0.2.1", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "record outside the zone");
}

static void test_record_of_other_class_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.com. CH TXT \"x\"", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
}

static void test_soa_off_apex_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "sub.example.com. SOA a. b. 1 2 3 4 5", SOA(9), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "SOA off the zone apex");
}

static void test_wrong_id_fails(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), 0);
	assert_int_equal(feed_q(f, ID + 1, 0, Z, DNS_T_AXFR, 0, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "wrong message ID");
}

static void test_wrong_question_fails(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(9), SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 0, 0);
	assert_int_equal(feed_q(f, ID, 0, "example.net.", DNS_T_AXFR, 1, m1), ZX_EXFR);
	start(f, DNS_T_AXFR, 0, 0, 0);
	assert_int_equal(feed_q(f, ID, 0, Z, DNS_T_IXFR, 1, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "wrong question");
	start(f, DNS_T_AXFR, 0, 0, 0);
	assert_int_equal(feed_q(f, ID, 0, Z, DNS_T_AXFR, 0, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "wrong question count");
}

static void test_error_rcodes(void **state)
{
	struct fx *f = *state;
	const uint8_t codes[] = {DNS_RC_FORMERR, DNS_RC_SERVFAIL, DNS_RC_NOTIMP, DNS_RC_REFUSED,
	                         DNS_RC_NOTAUTH};
	for (size_t i = 0; i < sizeof(codes); i++) {
		start(f, DNS_T_IXFR, 5, 0, 0);
		assert_int_equal(feed_q(f, ID, codes[i], Z, DNS_T_IXFR, 1, NULL), ZX_ERCODE);
		assert_int_equal(f->s->rcode, codes[i]);
		assert_string_equal(f->log.text, "");
	}
}

static void test_not_a_response_or_truncated_fails(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(9), SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 0, 0);
	size_t len = msgbuild(f->msg, sizeof(f->msg), ID, 0, Z, DNS_T_AXFR, 1, m1);
	f->msg[2] &= 0x7f; /* QR off */
	assert_int_equal(xfrstream_feed(f->s, f->msg, len), ZX_EXFR);
	start(f, DNS_T_AXFR, 0, 0, 0);
	f->msg[2] |= 0x80 | 0x02; /* QR on, TC on */
	assert_int_equal(xfrstream_feed(f->s, f->msg, len), ZX_EXFR);
	assert_string_equal(f->s->why, "truncated over TCP");
}

static void test_malformed_messages(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 0, 0);
	assert_int_equal(xfrstream_feed(f->s, f->msg, 5), ZX_ETRUNC);
	start(f, DNS_T_AXFR, 0, 0, 0);
	size_t len = msgbuild(f->msg, sizeof(f->msg), ID, 0, Z, DNS_T_AXFR, 1, m1);
	assert_int_equal(xfrstream_feed(f->s, f->msg, len - 3), ZX_ETRUNC);
	start(f, DNS_T_AXFR, 0, 0, 0);
	f->msg[len++] = 0; /* a trailing byte after the last counted record */
	assert_int_equal(xfrstream_feed(f->s, f->msg, len), ZX_EFORMAT);
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(9), "a.example.com. A 192.0.2.1", "b.example.com. A 192.0.2.2",
	                    SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 3, 0);
	assert_int_equal(feed(f, DNS_T_AXFR, m1), 1); /* SOA + 2 = 3 records: fits */
	start(f, DNS_T_AXFR, 0, 2, 0);
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_ELIMIT);
	assert_string_equal(f->s->why, "record limit");
	start(f, DNS_T_AXFR, 0, 0, 100);
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_ELIMIT);
	assert_string_equal(f->s->why, "byte limit (messages)"); /* the message is 140 bytes */
	/* records of 49 bytes uncompressed, 18 on the wire: 567 bytes of records, 318 of
	   message */
	const char *m2[] = {SOA(9), "a.very.long.name.below.example.com. A 192.0.2.1",
	                    "b.very.long.name.below.example.com. A 192.0.2.2",
	                    "c.very.long.name.below.example.com. A 192.0.2.3",
	                    "d.very.long.name.below.example.com. A 192.0.2.3",
	                    "e.very.long.name.below.example.com. A 192.0.2.3",
	                    "f.very.long.name.below.example.com. A 192.0.2.3",
	                    "g.very.long.name.below.example.com. A 192.0.2.3",
	                    "h.very.long.name.below.example.com. A 192.0.2.3",
	                    "i.very.long.name.below.example.com. A 192.0.2.3",
	                    "j.very.long.name.below.example.com. A 192.0.2.3", SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 0, 400);
	assert_int_equal(feed(f, DNS_T_AXFR, m2), ZX_ELIMIT);
	assert_string_equal(f->s->why, "byte limit");
}

/* Issue 11: every record of an IXFR counts, not only additions. 40 changesets that add
 * nothing pass no limit on additions but are 82 records. */
static void test_ixfr_every_record_counts(void **state)
{
	struct fx *f = *state;
	static char soas[48][128];
	const char *m[48];
	size_t n = 0;
	snprintf(soas[n], sizeof(soas[n]), "%s", SOA(42));
	m[n] = soas[n];
	n++;
	for (int sr = 2; sr < 42; sr++) {
		snprintf(soas[n], sizeof(soas[n]), Z " 3600 IN SOA ns.example.com. host.example.com. "
		         "%d 3600 900 86400 300", sr);
		m[n] = soas[n];
		n++;
	}
	/* each changeset is SOA(s) SOA(s+1); written as a run of serials 2..42 twice */
	static char run[128][128];
	const char *rr[128];
	size_t k = 0;
	rr[k++] = m[0];
	for (int sr = 2; sr < 42; sr++) {
		for (int t = 0; t < 2; t++) {
			snprintf(run[k], sizeof(run[k]), Z " 3600 IN SOA ns.example.com. "
			         "host.example.com. %d 3600 900 86400 300", sr + t);
			rr[k] = run[k];
			k++;
		}
	}
	rr[k++] = m[0];
	rr[k] = NULL;
	start(f, DNS_T_IXFR, 2, 81, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, rr), 1); /* 81 records without the closing SOA */
	assert_int_equal(f->s->added, 0);
	start(f, DNS_T_IXFR, 2, 80, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, rr), ZX_ELIMIT);
	assert_string_equal(f->s->why, "record limit");
}

/* A record the stream or the receiver refuses is named in the detail. */
static void test_failing_record_is_named(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(9), "www.example.com. MX 10 mail.example.com.", SOA(9), NULL};
	start(f, DNS_T_AXFR, 0, 0, 0);
	f->log.fail_at = 2;
	assert_int_equal(feed(f, DNS_T_AXFR, m1), ZX_EIO);
	assert_string_equal(f->s->why, "store write");
	assert_string_equal(f->s->detail, "owner www.example.com. type MX");
	const char *m2[] = {SOA(9), "x.other.test. A 192.0.2.1", NULL};
	start(f, DNS_T_AXFR, 0, 0, 0);
	assert_int_equal(feed(f, DNS_T_AXFR, m2), ZX_EXFR);
	assert_string_equal(f->s->detail, "owner x.other.test. type A");
}

static void test_ixfr_one_change_set(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_IXFR, 2, 0, 0);
	const char *m1[] = {SOA(3), SOA(2), "a.example.com. A 192.0.2.1", SOA(3),
	                    "a.example.com. A 192.0.2.9", SOA(3), NULL};
	assert_int_equal(feed(f, DNS_T_IXFR, m1), 1);
	assert_string_equal(f->log.text,
	                    "begin_ixfr 3;del_soa 2;del 1;add_soa 3;add 1;end 3;");
	assert_int_equal(f->s->kind, XFRSTREAM_BEGIN_IXFR);
	assert_int_equal(f->s->changesets, 1);
	assert_int_equal(f->s->added, 1);
	assert_int_equal(f->s->deleted, 1);
}

static void test_ixfr_several_change_sets_over_messages(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_IXFR, 2, 0, 0);
	const char *m1[] = {SOA(4), NULL};
	const char *m3[] = {"a.example.com. A 192.0.2.3", SOA(3), SOA(4), NULL};
	const char *m4[] = {"b.example.com. A 192.0.2.4", SOA(4), NULL};
	/* the first message holds one SOA only, but it is not the single-SOA answer
	   unless the stream also ends there: a newer serial alone means AXFR wanted */
	start(f, DNS_T_IXFR, 2, 0, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "single newer SOA: primary wants AXFR");
	start(f, DNS_T_IXFR, 2, 0, 0);
	const char *m12[] = {SOA(4), SOA(2), "a.example.com. A 192.0.2.1", SOA(3), NULL};
	assert_int_equal(feed(f, DNS_T_IXFR, m12), 0);
	assert_int_equal(feed(f, DNS_T_IXFR, m3), 0);
	assert_int_equal(feed(f, DNS_T_IXFR, m4), 1);
	assert_string_equal(f->log.text, "begin_ixfr 4;del_soa 2;del 1;add_soa 3;add 1;"
	                                 "del_soa 3;add_soa 4;add 1;end 4;");
	assert_int_equal(f->s->changesets, 2);
}

static void test_ixfr_single_soa_up_to_date(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(5), NULL};
	start(f, DNS_T_IXFR, 5, 0, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, m1), 1);
	assert_string_equal(f->log.text, "uptodate 5;");
	assert_int_equal(f->s->kind, XFRSTREAM_UPTODATE);
	start(f, DNS_T_IXFR, 6, 0, 0); /* the primary is behind us: also nothing to do */
	assert_int_equal(feed(f, DNS_T_IXFR, m1), 1);
	assert_int_equal(f->s->kind, XFRSTREAM_UPTODATE);
	assert_int_equal(feed(f, DNS_T_IXFR, m1), ZX_EXFR);
	assert_string_equal(f->s->why, "message after the end");
}

static void test_ixfr_answered_axfr_style(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_IXFR, 2, 0, 0);
	const char *m1[] = {SOA(3), Z " NS ns.example.com.", NULL};
	const char *m2[] = {"ns.example.com. A 192.0.2.1", SOA(3), NULL};
	assert_int_equal(feed(f, DNS_T_IXFR, m1), 0);
	assert_int_equal(feed(f, DNS_T_IXFR, m2), 1);
	assert_string_equal(f->log.text, "begin_axfr 3;add 2;add 1;end 3;");
	start(f, DNS_T_IXFR, 2, 0, 0);
	const char *only_soa[] = {SOA(3), SOA(3), NULL};
	assert_int_equal(feed(f, DNS_T_IXFR, only_soa), 1);
	assert_string_equal(f->log.text, "begin_axfr 3;end 3;");
}

static void test_ixfr_chain_errors(void **state)
{
	struct fx *f = *state;
	const char *wrong_start[] = {SOA(4), SOA(1), SOA(4), SOA(4), NULL};
	start(f, DNS_T_IXFR, 2, 0, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, wrong_start), ZX_EXFR);
	assert_string_equal(f->s->why, "IXFR does not start at our serial");
	const char *no_chain[] = {SOA(5), SOA(2), SOA(3), SOA(4), SOA(5), SOA(5), NULL};
	start(f, DNS_T_IXFR, 2, 0, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, no_chain), ZX_EXFR);
	assert_string_equal(f->s->why, "change sets do not chain");
	const char *backwards[] = {SOA(5), SOA(2), SOA(1), NULL};
	start(f, DNS_T_IXFR, 2, 0, 0);
	assert_int_equal(feed(f, DNS_T_IXFR, backwards), ZX_EXFR);
}

static void test_callback_error_stops_the_stream(void **state)
{
	struct fx *f = *state;
	const char *m1[] = {SOA(3), SOA(2), "a.example.com. A 192.0.2.1", SOA(3), SOA(3), NULL};
	start(f, DNS_T_IXFR, 2, 0, 0);
	f->log.fail_at = 3; /* the deletion */
	assert_int_equal(feed(f, DNS_T_IXFR, m1), ZX_EIO);
	assert_int_equal(f->s->state, XFRSTREAM_ST_FAILED);
	assert_string_equal(f->log.text, "begin_ixfr 3;del_soa 2;del 1;");
}

static void test_compressed_rdata_is_expanded(void **state)
{
	struct fx *f = *state;
	start(f, DNS_T_AXFR, 0, 0, 0);
	const char *m1[] = {SOA(1), "www.example.com. CNAME example.com.", SOA(1), NULL};
	assert_int_equal(feed(f, DNS_T_AXFR, m1), 1);
	/* the SOA kept from message one carries its own names, not pointers */
	assert_int_equal(f->s->first_rdlen, 16 + 18 + 20);
}

static void test_init_rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct xfrstream_cfg cfg = {.zone = zone_wire, .qtype = DNS_T_A, .cb = record};
	assert_int_equal(xfrstream_init(f->s, &cfg), ZX_EINVAL);
	cfg.qtype = DNS_T_AXFR;
	cfg.cb = NULL;
	assert_int_equal(xfrstream_init(f->s, &cfg), ZX_EINVAL);
	cfg.cb = record;
	cfg.zone = (const uint8_t *)"\x40";
	assert_int_equal(xfrstream_init(f->s, &cfg), ZX_EINVAL);
	assert_string_equal(xfrstream_ev_str(XFRSTREAM_DEL_SOA), "del_soa");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_axfr_one_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_axfr_many_messages_question_only_first, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_axfr_without_closing_soa_wants_more, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_axfr_second_soa_in_the_middle_fails, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_axfr_closing_soa_other_serial_fails, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_axfr_first_not_soa_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_outside_zone_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_of_other_class_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soa_off_apex_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_id_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_question_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_rcodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_response_or_truncated_fails, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_malformed_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_every_record_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_record_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_one_change_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_several_change_sets_over_messages, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_single_soa_up_to_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_answered_axfr_style, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ixfr_chain_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_stops_the_stream, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_compressed_rdata_is_expanded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_rejects_bad_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
