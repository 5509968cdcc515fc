/* tests/unit/common/test_dnsmsg.c -- the message walker against ldns-built messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/dnsmsg.h"

#include <ldns/ldns.h>
#include <string.h>

/* Build a compressed message with ldns: question, answer, authority, additional. */
static uint8_t *build(size_t *len)
{
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "Example.COM.", LDNS_RR_TYPE_SOA,
	                                            LDNS_RR_CLASS_IN, 0),
	                 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	const char *an[] = {("Example.COM. 3600 IN SOA ns1.example.com. hostmaster.example.com. "
	                     "2026112601 7200 3600 1209600 300"),
	                    "example.com. 300 IN MX 10 mail.example.com.",
	                    "_sip._tcp.example.com. 60 IN SRV 1 2 5060 sip.example.com.",
	                    "www.example.com. 60 IN A 192.0.2.1"};
	for (size_t i = 0; i < 4; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(ldns_rr_new_frm_str(&rr, an[i], 0, NULL, NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	ldns_rr *ns = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&ns, "example.com. 3600 IN NS ns1.example.com.", 0,
	                                     NULL, NULL),
	                 LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, ns);
	ldns_rr *glue = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&glue, "ns1.example.com. 3600 IN AAAA 2001:db8::53",
	                                     0, NULL, NULL),
	                 LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, glue);
	uint8_t *wire = NULL;
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

static void test_dnsmsg_walks_all_sections(void **state)
{
	(void)state;
	size_t len;
	uint8_t *msg = build(&len);
	struct dns_walk w;
	assert_int_equal(dnsmsg_walk_init(&w, msg, len), 0);
	assert_int_equal(w.hdr.id, 0x1234);
	assert_true(w.hdr.flags & DNS_FLAG_QR);
	assert_int_equal(DNS_OPCODE(w.hdr.flags), DNS_OP_QUERY);
	struct dns_question q;
	assert_int_equal(dnsmsg_walk_question(&w, &q), 1);
	assert_int_equal(q.qtype, DNS_T_SOA);
	assert_true(dname_equal(q.name, (const uint8_t *)"\7example\3com"));
	assert_int_equal(dnsmsg_walk_question(&w, &q), 0);

	struct dns_rr rr;
	int sections[4] = {0};
	uint16_t types[6];
	int n = 0;
	int rc;
	while ((rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		sections[rr.section]++;
		types[n++] = rr.type;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, 6);
	assert_int_equal(sections[DNS_SEC_ANSWER], 4);
	assert_int_equal(sections[DNS_SEC_AUTHORITY], 1);
	assert_int_equal(sections[DNS_SEC_ADDITIONAL], 1);
	assert_int_equal(types[0], DNS_T_SOA);
	assert_int_equal(types[5], DNS_T_AAAA);
	free(msg);
}

static void test_dnsmsg_rdata_decompressed_matches_ldns(void **state)
{
	(void)state;
	size_t len;
	uint8_t *msg = build(&len);
	ldns_pkt *p = NULL;
	assert_int_equal(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	struct dns_walk w;
	assert_int_equal(dnsmsg_walk_init(&w, msg, len), 0);
	struct dns_rr rr;
	size_t i = 0;
	while (dnsmsg_walk_rr(&w, &rr) == 1 && rr.section == DNS_SEC_ANSWER) {
		uint8_t rd[1024];
		int n = dnsmsg_rdata_unpack(&w, &rr, rd, sizeof(rd));
		assert_true(n > 0);
		/* ldns decompresses too: its uncompressed RR wire must carry the same RDATA */
		ldns_rr *lr = ldns_rr_list_rr(ldns_pkt_answer(p), i++);
		ldns_buffer *b = ldns_buffer_new(1024);
		assert_int_equal(ldns_rr_rdata2buffer_wire(b, lr), LDNS_STATUS_OK);
		assert_int_equal((size_t)n, ldns_buffer_position(b));
		assert_memory_equal(rd, ldns_buffer_begin(b), (size_t)n);
		ldns_buffer_free(b);
		if (rr.type == DNS_T_SOA) {
			struct dns_soa soa;
			assert_int_equal(dnsmsg_soa_parse(rd, (size_t)n, &soa), 0);
			assert_int_equal(soa.serial, 2026112601u);
			assert_int_equal(soa.expire, 1209600u);
			assert_int_equal(soa.minimum, 300u);
			assert_int_equal(dnsmsg_soa_parse(rd, (size_t)n - 1, &soa), ZX_EFORMAT);
		}
	}
	assert_int_equal(i, 4);
	ldns_pkt_free(p);
	free(msg);
}

static void test_dnsmsg_rejects_pointer_loops_and_truncation(void **state)
{
	(void)state;
	/* header + a question whose name points at itself */
	uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 6, 0, 1};
	struct dns_walk w;
	struct dns_question q;
	assert_int_equal(dnsmsg_walk_init(&w, loop, sizeof(loop)), 0);
	assert_int_equal(dnsmsg_walk_question(&w, &q), ZX_EFORMAT);
	/* forward pointer */
	uint8_t fwd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0, 0, 6, 0, 1};
	assert_int_equal(dnsmsg_walk_init(&w, fwd, sizeof(fwd)), 0);
	assert_int_equal(dnsmsg_walk_question(&w, &q), ZX_EFORMAT);
	/* question cut short */
	uint8_t cut[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'c', 'o', 'm', 0, 0, 6};
	assert_int_equal(dnsmsg_walk_init(&w, cut, sizeof(cut)), 0);
	assert_int_equal(dnsmsg_walk_question(&w, &q), ZX_ETRUNC);
	/* header short */
	assert_int_equal(dnsmsg_walk_init(&w, cut, 11), ZX_ETRUNC);
	/* an RR counted but missing */
	uint8_t norr[] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct dns_rr rr;
	assert_int_equal(dnsmsg_walk_init(&w, norr, sizeof(norr)), 0);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), ZX_ETRUNC);
	/* trailing garbage after the counted records */
	uint8_t trail[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff};
	assert_int_equal(dnsmsg_walk_init(&w, trail, sizeof(trail)), 0);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), ZX_EFORMAT);
	/* RDATA overrunning the message */
	uint8_t over[] = {0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 9, 1};
	assert_int_equal(dnsmsg_walk_init(&w, over, sizeof(over)), 0);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), ZX_ETRUNC);
}

static void test_dnsmsg_rdata_shape_checked(void **state)
{
	(void)state;
	/* one answer: ". MX" with RDATA of one byte (no room for the preference) */
	uint8_t mx[] = {0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 15, 0, 1, 0, 0, 0, 0, 0, 1, 7};
	struct dns_walk w;
	struct dns_rr rr;
	uint8_t out[64];
	assert_int_equal(dnsmsg_walk_init(&w, mx, sizeof(mx)), 0);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), 1);
	assert_int_equal(dnsmsg_rdata_unpack(&w, &rr, out, sizeof(out)), ZX_EFORMAT);
	/* an A record is copied as it is, and a short output buffer is ZX_ELIMIT */
	uint8_t a[] = {0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
	assert_int_equal(dnsmsg_walk_init(&w, a, sizeof(a)), 0);
	assert_int_equal(dnsmsg_walk_rr(&w, &rr), 1);
	assert_int_equal(dnsmsg_rdata_unpack(&w, &rr, out, sizeof(out)), 4);
	assert_int_equal(dnsmsg_rdata_unpack(&w, &rr, out, 3), ZX_ELIMIT);
}

static void test_dnsmsg_header_round_trip(void **state)
{
	(void)state;
	struct dns_hdr h = {.id = 0xbeef, .flags = DNS_FLAG_QR | (DNS_OP_NOTIFY << 11) | 9,
	                    .qdcount = 1, .ancount = 2, .nscount = 3, .arcount = 4};
	uint8_t buf[DNS_HDR_LEN];
	dnsmsg_hdr_write(buf, &h);
	struct dns_hdr g;
	assert_int_equal(dnsmsg_hdr_parse(buf, sizeof(buf), &g), 0);
	assert_memory_equal(&h, &g, sizeof(h));
	assert_int_equal(DNS_OPCODE(g.flags), DNS_OP_NOTIFY);
	assert_int_equal(DNS_RCODE(g.flags), DNS_RC_NOTAUTH);
	assert_int_equal(dnsmsg_hdr_parse(buf, 11, &g), ZX_ETRUNC);
}

static void test_dnsmsg_name_skip_and_unpack(void **state)
{
	(void)state;
	uint8_t m[] = {3, 'c', 'o', 'm', 0, 3, 'w', 'w', 'w', 0xc0, 0};
	size_t pos = 5;
	uint8_t out[DNAME_MAXLEN];
	assert_int_equal(dnsmsg_name_unpack(m, sizeof(m), &pos, out), 9);
	assert_int_equal(pos, sizeof(m));
	assert_memory_equal(out, "\3www\3com\0", 9);
	pos = 5;
	assert_int_equal(dnsmsg_name_skip(m, sizeof(m), &pos), 9);
	assert_int_equal(pos, sizeof(m));
	pos = 5;
	assert_int_equal(dnsmsg_name_skip(m, sizeof(m) - 1, &pos), ZX_ETRUNC);
	assert_int_equal(pos, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsmsg_walks_all_sections),
		cmocka_unit_test(test_dnsmsg_rdata_decompressed_matches_ldns),
		cmocka_unit_test(test_dnsmsg_rejects_pointer_loops_and_truncation),
		cmocka_unit_test(test_dnsmsg_rdata_shape_checked),
		cmocka_unit_test(test_dnsmsg_header_round_trip),
		cmocka_unit_test(test_dnsmsg_name_skip_and_unpack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
