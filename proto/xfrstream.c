/* SPDX-License-Identifier: MIT */
/* proto/xfrstream.c -- IXFR/AXFR answer stream: message checks and record events.
 *
 * The states follow the records of the answer (RFC 1995 4, RFC 5936 2.2):
 *
 *   FIRST --SOA(N)--> (AXFR asked) ------------------------------> AXFR
 *     |               (IXFR asked) --> SECOND
 *     |                                 | single SOA, N not newer: UPTODATE (done)
 *     |                                 | SOA(N) again: empty AXFR-style answer (done)
 *     |                                 | SOA(ours) --------------> DEL
 *     |                                 ` other record ------------> AXFR (AXFR-style)
 *   AXFR:  records...  SOA(N) ------------------------------------> DONE
 *   DEL:   records...  SOA(to) -----------------------------------> ADD
 *   ADD:   records...  SOA(N) when to == N -----------------------> DONE
 *                      SOA(to) (the next change set) -------------> DEL
 *   anything unexpected ------------------------------------------> FAILED
 */
#include "proto/xfrstream.h"

#include "common/dnsmsg.h"
#include "common/rdata.h"
#include "common/serial.h"

#include <stdio.h>
#include <string.h>

const char *xfrstream_ev_str(enum xfrstream_ev ev)
{
	switch (ev) {
	case XFRSTREAM_BEGIN_AXFR:
		return "begin_axfr";
	case XFRSTREAM_BEGIN_IXFR:
		return "begin_ixfr";
	case XFRSTREAM_UPTODATE:
		return "uptodate";
	case XFRSTREAM_DEL_SOA:
		return "del_soa";
	case XFRSTREAM_DEL:
		return "del";
	case XFRSTREAM_ADD_SOA:
		return "add_soa";
	case XFRSTREAM_ADD:
		return "add";
	case XFRSTREAM_END:
		return "end";
	}
	return "?";
}

int xfrstream_init(struct xfrstream *s, const struct xfrstream_cfg *cfg)
{
	if (cfg == NULL || cfg->zone == NULL || cfg->cb == NULL ||
	    (cfg->qtype != DNS_T_AXFR && cfg->qtype != DNS_T_IXFR)) {
		return ZX_EINVAL;
	}
	int n = dname_wire_len(cfg->zone, DNAME_MAXLEN);
	if (n < 0) {
		return ZX_EINVAL;
	}
	memset(s, 0, offsetof(struct xfrstream, first_owner));
	s->detail[0] = '\0';
	s->cfg = *cfg;
	memcpy(s->zone, cfg->zone, (size_t)n);
	dname_lower(s->zone);
	s->cfg.zone = s->zone;
	s->state = XFRSTREAM_ST_FIRST;
	return 0;
}

static int fail(struct xfrstream *s, int rc, const char *why)
{
	s->state = XFRSTREAM_ST_FAILED;
	if (s->why == NULL) {
		s->why = why;
	}
	return rc;
}

/* A failure caused by one record: the reason, and the record in @c detail. */
static int fail_rr(struct xfrstream *s, int rc, const char *why, const uint8_t *owner,
                   uint16_t type)
{
	char name[DNAME_TEXTLEN], tn[RDATA_TYPE_NAMELEN];
	if (s->why == NULL) {
		if (dname_to_text(owner, name, sizeof(name)) != 0) {
			snprintf(name, sizeof(name), "?");
		}
		snprintf(s->detail, sizeof(s->detail), "owner %s type %s", name,
		         rdata_type_name(type, tn));
	}
	return fail(s, rc, why);
}

/* Count a record of the answer against the limits (all but the closing SOA). */
static int count(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	s->rec_bytes += rr->owner_len + 10 + rr->rdlen;
	s->rec_count++;
	if (s->cfg.max_records != 0 && s->rec_count > s->cfg.max_records) {
		return fail(s, ZX_ELIMIT, "record limit");
	}
	if (s->cfg.max_bytes != 0 && s->rec_bytes > s->cfg.max_bytes) {
		return fail(s, ZX_ELIMIT, "byte limit");
	}
	return 0;
}

static int emit(struct xfrstream *s, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	int rc = ev == XFRSTREAM_END ? 0 : count(s, rr);
	switch (ev) {
	case XFRSTREAM_ADD:
		s->added++;
		break;
	case XFRSTREAM_DEL:
		s->deleted++;
		break;
	case XFRSTREAM_DEL_SOA:
		s->changesets++;
		break;
	default:
		break;
	}
	if (rc == 0) {
		rc = s->cfg.cb(s->cfg.arg, ev, rr);
		if (rc != 0) {
			fail_rr(s, rc, "store write", rr->owner, rr->type);
		}
	}
	return rc;
}

static struct xfrstream_rr first_rr(const struct xfrstream *s)
{
	return (struct xfrstream_rr){
		.owner = s->first_owner, .owner_len = s->first_owner_len, .type = DNS_T_SOA,
		.rclass = DNS_C_IN, .ttl = s->first_ttl, .rdata = s->first_rdata,
		.rdlen = s->first_rdlen, .serial = s->serial,
	};
}

static void keep_first(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	memcpy(s->first_owner, rr->owner, rr->owner_len);
	s->first_owner_len = rr->owner_len;
	memcpy(s->first_rdata, rr->rdata, rr->rdlen);
	s->first_rdlen = (uint16_t)rr->rdlen;
	s->first_ttl = rr->ttl;
	s->serial = rr->serial;
}

static int begin_axfr(struct xfrstream *s)
{
	struct xfrstream_rr soa = first_rr(s);
	s->kind = XFRSTREAM_BEGIN_AXFR;
	s->state = XFRSTREAM_ST_AXFR;
	return emit(s, XFRSTREAM_BEGIN_AXFR, &soa);
}

static int end(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	s->state = XFRSTREAM_ST_DONE;
	return emit(s, XFRSTREAM_END, rr);
}

static int on_first(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	if (rr->type != DNS_T_SOA) {
		return fail(s, ZX_EXFR, "first record is not the SOA");
	}
	keep_first(s, rr);
	if (s->cfg.qtype == DNS_T_AXFR) {
		return begin_axfr(s);
	}
	s->state = XFRSTREAM_ST_SECOND;
	return 0;
}

static int on_second(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	if (rr->type != DNS_T_SOA) {
		int rc = begin_axfr(s); /* AXFR-style answer to our IXFR */
		return rc != 0 ? rc : emit(s, XFRSTREAM_ADD, rr);
	}
	if (rr->serial == s->serial) {
		int rc = begin_axfr(s); /* a zone of one SOA, AXFR-style */
		return rc != 0 ? rc : end(s, rr);
	}
	if (rr->serial != s->cfg.our_serial) {
		return fail(s, ZX_EXFR, "IXFR does not start at our serial");
	}
	struct xfrstream_rr soa = first_rr(s);
	s->kind = XFRSTREAM_BEGIN_IXFR;
	int rc = emit(s, XFRSTREAM_BEGIN_IXFR, &soa);
	if (rc != 0) {
		return rc;
	}
	s->from = rr->serial;
	s->state = XFRSTREAM_ST_DEL;
	return emit(s, XFRSTREAM_DEL_SOA, rr);
}

static int on_del(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	if (rr->type != DNS_T_SOA) {
		return emit(s, XFRSTREAM_DEL, rr);
	}
	if (!serial_newer(rr->serial, s->from)) {
		return fail(s, ZX_EXFR, "change set does not move the serial forward");
	}
	s->to = rr->serial;
	s->state = XFRSTREAM_ST_ADD;
	return emit(s, XFRSTREAM_ADD_SOA, rr);
}

static int on_add(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	if (rr->type != DNS_T_SOA) {
		return emit(s, XFRSTREAM_ADD, rr);
	}
	if (rr->serial != s->to) {
		return fail(s, ZX_EXFR, "change sets do not chain");
	}
	if (rr->serial == s->serial) {
		return end(s, rr);
	}
	s->from = rr->serial;
	s->state = XFRSTREAM_ST_DEL;
	return emit(s, XFRSTREAM_DEL_SOA, rr);
}

static int on_axfr(struct xfrstream *s, const struct xfrstream_rr *rr)
{
	if (rr->type != DNS_T_SOA) {
		return emit(s, XFRSTREAM_ADD, rr);
	}
	if (rr->serial != s->serial) {
		return fail(s, ZX_EXFR, "closing SOA has another serial");
	}
	return end(s, rr);
}

/* Decompress and check one answer record into the stream's buffers. */
static int take_rr(struct xfrstream *s, const struct dns_walk *w, const struct dns_rr *in,
                   struct xfrstream_rr *out)
{
	if (in->rclass != DNS_C_IN) {
		return fail_rr(s, ZX_EXFR, "record of another class", in->owner, in->type);
	}
	if (!dname_is_subdomain(in->owner, s->zone)) {
		return fail_rr(s, ZX_EXFR, "record outside the zone", in->owner, in->type);
	}
	int n = dnsmsg_rdata_unpack(w, in, s->rdata, sizeof(s->rdata));
	if (n < 0) {
		return fail_rr(s, ZX_EFORMAT, "malformed RDATA", in->owner, in->type);
	}
	memcpy(s->owner, in->owner, in->owner_len);
	dname_lower(s->owner);
	*out = (struct xfrstream_rr){
		.owner = s->owner, .owner_len = in->owner_len, .type = in->type,
		.rclass = in->rclass, .ttl = in->ttl, .rdata = s->rdata, .rdlen = (size_t)n,
	};
	if (in->type == DNS_T_SOA) {
		struct dns_soa soa;
		if (!dname_equal(s->owner, s->zone)) {
			return fail_rr(s, ZX_EXFR, "SOA off the zone apex", s->owner, in->type);
		}
		if (dnsmsg_soa_parse(s->rdata, (size_t)n, &soa) != 0) {
			return fail_rr(s, ZX_EFORMAT, "malformed SOA", s->owner, in->type);
		}
		out->serial = soa.serial;
	}
	return 0;
}

static int on_answer(struct xfrstream *s, const struct dns_walk *w, const struct dns_rr *in)
{
	struct xfrstream_rr rr;
	int rc = take_rr(s, w, in, &rr);
	if (rc != 0) {
		return rc;
	}
	s->records++;
	switch (s->state) {
	case XFRSTREAM_ST_FIRST:
		return on_first(s, &rr);
	case XFRSTREAM_ST_SECOND:
		return on_second(s, &rr);
	case XFRSTREAM_ST_AXFR:
		return on_axfr(s, &rr);
	case XFRSTREAM_ST_DEL:
		return on_del(s, &rr);
	case XFRSTREAM_ST_ADD:
		return on_add(s, &rr);
	case XFRSTREAM_ST_DONE:
		return fail(s, ZX_EXFR, "records after the closing SOA");
	case XFRSTREAM_ST_FAILED:
		break;
	}
	return fail(s, ZX_EXFR, "stream failed");
}

static int check_header(struct xfrstream *s, const struct dns_hdr *h)
{
	if (h->id != s->cfg.id) {
		return fail(s, ZX_EXFR, "wrong message ID");
	}
	if ((h->flags & DNS_FLAG_QR) == 0 || DNS_OPCODE(h->flags) != DNS_OP_QUERY) {
		return fail(s, ZX_EXFR, "not a query response");
	}
	if (DNS_RCODE(h->flags) != DNS_RC_NOERROR) {
		s->rcode = (uint8_t)DNS_RCODE(h->flags);
		return fail(s, ZX_ERCODE, "error rcode");
	}
	if ((h->flags & DNS_FLAG_TC) != 0) {
		return fail(s, ZX_EXFR, "truncated over TCP");
	}
	if (h->qdcount > 1 || (h->qdcount == 0 && s->messages == 1)) {
		return fail(s, ZX_EXFR, "wrong question count");
	}
	return 0;
}

static int check_question(struct xfrstream *s, struct dns_walk *w)
{
	struct dns_question q;
	int rc = dnsmsg_walk_question(w, &q);
	if (rc < 0) {
		return fail(s, rc, "malformed question");
	}
	if (rc == 1 && (q.qtype != s->cfg.qtype || q.qclass != DNS_C_IN ||
	                !dname_equal(q.name, s->zone))) {
		return fail(s, ZX_EXFR, "wrong question");
	}
	return 0;
}

/* IXFR, end of the first message, one record so far: the single-SOA answer. */
static int single_soa(struct xfrstream *s)
{
	if (serial_newer(s->serial, s->cfg.our_serial)) {
		return fail(s, ZX_EXFR, "single newer SOA: primary wants AXFR");
	}
	struct xfrstream_rr soa = first_rr(s);
	s->kind = XFRSTREAM_UPTODATE;
	s->state = XFRSTREAM_ST_DONE;
	return emit(s, XFRSTREAM_UPTODATE, &soa);
}

int xfrstream_feed(struct xfrstream *s, const uint8_t *msg, size_t len)
{
	if (s->state == XFRSTREAM_ST_FAILED) {
		return ZX_EXFR;
	}
	if (s->state == XFRSTREAM_ST_DONE) {
		return fail(s, ZX_EXFR, "message after the end");
	}
	s->messages++;
	s->wire_bytes += len;
	if (s->cfg.max_bytes != 0 && s->wire_bytes > s->cfg.max_bytes) {
		return fail(s, ZX_ELIMIT, "byte limit (messages)");
	}
	struct dns_walk w;
	int rc = dnsmsg_walk_init(&w, msg, len);
	if (rc != 0) {
		return fail(s, rc, "short message");
	}
	rc = check_header(s, &w.hdr);
	if (rc == 0) {
		rc = check_question(s, &w);
	}
	struct dns_rr rr;
	while (rc == 0 && (rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		rc = rr.section == DNS_SEC_ANSWER ? on_answer(s, &w, &rr) : 0;
	}
	if (rc < 0) {
		return fail(s, rc, "malformed message");
	}
	if (s->state == XFRSTREAM_ST_SECOND && s->messages == 1 && s->records == 1) {
		rc = single_soa(s);
	}
	if (rc != 0) {
		return rc;
	}
	return s->state == XFRSTREAM_ST_DONE ? 1 : 0;
}
