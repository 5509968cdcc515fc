/* SPDX-License-Identifier: MIT */
/* proto/query.c -- SOA/IXFR/AXFR queries and the SOA answer check. */
#include "proto/query.h"

#include "common/dname.h"
#include "common/dnsmsg.h"
#include "common/wire.h"

#include <string.h>

static int soa_rdata_ok(const uint8_t *rdata, size_t len)
{
	struct dns_soa soa;
	return dnsmsg_soa_parse(rdata, len, &soa) == 0;
}

int query_build(uint8_t *buf, size_t cap, size_t *len, uint16_t id, const uint8_t *zone,
                uint16_t qtype, uint32_t serial, const uint8_t *soa_rdata, size_t soa_rdlen)
{
	int zlen = dname_wire_len(zone, DNAME_MAXLEN);
	if (zlen < 0 || (qtype != DNS_T_SOA && qtype != DNS_T_AXFR && qtype != DNS_T_IXFR)) {
		return ZX_EINVAL;
	}
	uint8_t minimal[22] = {0, 0};
	if (qtype == DNS_T_IXFR && soa_rdata == NULL) {
		struct wire_wr m = wire_wr_init(minimal + 2, 20);
		wire_wr_u32(&m, serial); /* refresh, retry, expire, minimum stay 0 */
		soa_rdata = minimal;
		soa_rdlen = sizeof(minimal);
	}
	if (qtype == DNS_T_IXFR && !soa_rdata_ok(soa_rdata, soa_rdlen)) {
		return ZX_EINVAL;
	}
	struct dns_hdr h = {.id = id, .qdcount = 1, .nscount = qtype == DNS_T_IXFR ? 1 : 0};
	struct wire_wr wr = wire_wr_init(buf, cap);
	if (wire_wr_need(&wr, DNS_HDR_LEN)) {
		dnsmsg_hdr_write(buf, &h);
		wr.pos += DNS_HDR_LEN;
	}
	wire_wr_bytes(&wr, zone, (size_t)zlen);
	wire_wr_u16(&wr, qtype);
	wire_wr_u16(&wr, DNS_C_IN);
	if (qtype == DNS_T_IXFR) {
		wire_wr_u16(&wr, 0xc000 | DNS_HDR_LEN); /* the owner: the question's name */
		wire_wr_u16(&wr, DNS_T_SOA);
		wire_wr_u16(&wr, DNS_C_IN);
		wire_wr_u32(&wr, 0);
		wire_wr_u16(&wr, (uint16_t)soa_rdlen);
		wire_wr_bytes(&wr, soa_rdata, soa_rdlen);
	}
	if (wr.err != 0) {
		return wr.err;
	}
	*len = wire_wr_len(&wr);
	return 0;
}

static int check_soa_header(struct dns_walk *w, uint16_t id, const uint8_t *zone)
{
	const struct dns_hdr *h = &w->hdr;
	if (h->id != id || (h->flags & DNS_FLAG_QR) == 0 ||
	    DNS_OPCODE(h->flags) != DNS_OP_QUERY || h->qdcount != 1) {
		return ZX_EXFR;
	}
	struct dns_question q;
	int rc = dnsmsg_walk_question(w, &q);
	if (rc < 0) {
		return rc;
	}
	if (q.qtype != DNS_T_SOA || q.qclass != DNS_C_IN || !dname_equal(q.name, zone)) {
		return ZX_EXFR;
	}
	return 0;
}

int query_soa_answer(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *zone,
                     struct query_soa *out)
{
	struct dns_walk w;
	int rc = dnsmsg_walk_init(&w, msg, len);
	if (rc == 0) {
		rc = check_soa_header(&w, id, zone);
	}
	if (rc != 0) {
		return rc;
	}
	if (DNS_RCODE(w.hdr.flags) != DNS_RC_NOERROR) {
		*out = (struct query_soa){.rcode = (uint8_t)DNS_RCODE(w.hdr.flags)};
		return ZX_ERCODE;
	}
	if ((w.hdr.flags & DNS_FLAG_TC) != 0) {
		*out = (struct query_soa){.truncated = 1};
		return 0;
	}
	struct dns_rr rr;
	while ((rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		if (rr.section != DNS_SEC_ANSWER || rr.type != DNS_T_SOA ||
		    rr.rclass != DNS_C_IN || !dname_equal(rr.owner, zone)) {
			continue;
		}
		uint8_t rdata[2 * DNAME_MAXLEN + 20];
		struct dns_soa soa;
		int n = dnsmsg_rdata_unpack(&w, &rr, rdata, sizeof(rdata));
		if (n < 0 || dnsmsg_soa_parse(rdata, (size_t)n, &soa) != 0) {
			return ZX_EFORMAT;
		}
		*out = (struct query_soa){.serial = soa.serial};
		return 0;
	}
	return rc < 0 ? rc : ZX_ENOTFOUND;
}
