/* SPDX-License-Identifier: MIT */
/* common/dnsmsg.c -- in-place DNS message walker; no allocation. */
#include "common/dnsmsg.h"

#include <string.h>

#define MAX_POINTERS 127

int dnsmsg_hdr_parse(const uint8_t *msg, size_t len, struct dns_hdr *out)
{
	struct wire_rd rd = wire_rd_init(msg, len);
	struct dns_hdr h;
	h.id = wire_rd_u16(&rd);
	h.flags = wire_rd_u16(&rd);
	h.qdcount = wire_rd_u16(&rd);
	h.ancount = wire_rd_u16(&rd);
	h.nscount = wire_rd_u16(&rd);
	h.arcount = wire_rd_u16(&rd);
	if (rd.err != 0) {
		return rd.err;
	}
	*out = h;
	return 0;
}

void dnsmsg_hdr_write(uint8_t *buf, const struct dns_hdr *h)
{
	struct wire_wr wr = wire_wr_init(buf, DNS_HDR_LEN);
	wire_wr_u16(&wr, h->id);
	wire_wr_u16(&wr, h->flags);
	wire_wr_u16(&wr, h->qdcount);
	wire_wr_u16(&wr, h->ancount);
	wire_wr_u16(&wr, h->nscount);
	wire_wr_u16(&wr, h->arcount);
}

/*
 * Walk the name at @p start. With @p out, copy labels there. Returns the name's
 * length (in out form) and sets @p *next to the first byte after the name as it
 * stands at @p start.
 */
static int name_walk(const uint8_t *msg, size_t len, size_t start, uint8_t *out, size_t *next)
{
	size_t pos = start;
	size_t olen = 0;
	size_t after = 0; /* 0 until the first pointer is followed */
	int hops = 0;
	for (;;) {
		if (pos >= len) {
			return ZX_ETRUNC;
		}
		uint8_t l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len) {
				return ZX_ETRUNC;
			}
			size_t target = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (target >= pos || ++hops > MAX_POINTERS) {
				return ZX_EFORMAT; /* forward pointers make loops possible */
			}
			if (after == 0) {
				after = pos + 2;
			}
			pos = target;
			continue;
		}
		if (l > 63) {
			return ZX_EFORMAT; /* 0x40/0x80: obsolete extended label types */
		}
		if (pos + 1 + l > len) {
			return ZX_ETRUNC;
		}
		if (olen + 1 + l > DNAME_MAXLEN) {
			return ZX_EFORMAT;
		}
		if (out != NULL) {
			memcpy(out + olen, msg + pos, 1 + (size_t)l);
		}
		olen += 1 + (size_t)l;
		pos += 1 + (size_t)l;
		if (l == 0) {
			*next = after != 0 ? after : pos;
			return (int)olen;
		}
	}
}

int dnsmsg_name_unpack(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out)
{
	uint8_t tmp[DNAME_MAXLEN];
	size_t next;
	int rc = name_walk(msg, len, *pos, tmp, &next);
	if (rc < 0) {
		return rc;
	}
	memcpy(out, tmp, (size_t)rc);
	*pos = next;
	return rc;
}

int dnsmsg_name_skip(const uint8_t *msg, size_t len, size_t *pos)
{
	size_t next;
	int rc = name_walk(msg, len, *pos, NULL, &next);
	if (rc < 0) {
		return rc;
	}
	*pos = next;
	return rc;
}

int dnsmsg_walk_init(struct dns_walk *w, const uint8_t *msg, size_t len)
{
	struct dns_hdr h;
	int rc = dnsmsg_hdr_parse(msg, len, &h);
	if (rc != 0) {
		return rc;
	}
	w->msg = msg;
	w->len = len;
	w->pos = DNS_HDR_LEN;
	w->hdr = h;
	w->section = DNS_SEC_QUESTION;
	w->left = h.qdcount;
	return 0;
}

/* Move to the next non-empty section; false at the end of the message. */
static bool next_section(struct dns_walk *w)
{
	while (w->left == 0) {
		switch (w->section) {
		case DNS_SEC_QUESTION:
			w->section = DNS_SEC_ANSWER;
			w->left = w->hdr.ancount;
			break;
		case DNS_SEC_ANSWER:
			w->section = DNS_SEC_AUTHORITY;
			w->left = w->hdr.nscount;
			break;
		case DNS_SEC_AUTHORITY:
			w->section = DNS_SEC_ADDITIONAL;
			w->left = w->hdr.arcount;
			break;
		case DNS_SEC_ADDITIONAL:
			return false;
		}
	}
	return true;
}

int dnsmsg_walk_question(struct dns_walk *w, struct dns_question *q)
{
	if (w->section != DNS_SEC_QUESTION || w->left == 0) {
		return 0;
	}
	size_t pos = w->pos;
	int n = dnsmsg_name_unpack(w->msg, w->len, &pos, q->name);
	if (n < 0) {
		return n;
	}
	struct wire_rd rd = wire_rd_init(w->msg, w->len);
	rd.pos = w->msg + pos;
	q->name_len = (size_t)n;
	q->qtype = wire_rd_u16(&rd);
	q->qclass = wire_rd_u16(&rd);
	if (rd.err != 0) {
		return rd.err;
	}
	w->pos = wire_rd_offset(&rd);
	w->left--;
	return 1;
}

int dnsmsg_walk_rr(struct dns_walk *w, struct dns_rr *rr)
{
	struct dns_question q;
	int rc;
	while ((rc = dnsmsg_walk_question(w, &q)) == 1) {
	}
	if (rc < 0) {
		return rc;
	}
	if (!next_section(w)) {
		return w->pos == w->len ? 0 : ZX_EFORMAT; /* trailing bytes */
	}
	size_t pos = w->pos;
	int n = dnsmsg_name_unpack(w->msg, w->len, &pos, rr->owner);
	if (n < 0) {
		return n;
	}
	struct wire_rd rd = wire_rd_init(w->msg, w->len);
	rd.pos = w->msg + pos;
	rr->type = wire_rd_u16(&rd);
	rr->rclass = wire_rd_u16(&rd);
	rr->ttl = wire_rd_u32(&rd);
	rr->rdlen = wire_rd_u16(&rd);
	size_t rdata_offset = wire_rd_offset(&rd);
	rr->rdata = wire_rd_bytes(&rd, rr->rdlen);
	if (rd.err != 0) {
		return rd.err;
	}
	rr->section = w->section;
	rr->owner_len = (size_t)n;
	rr->offset = w->pos;
	rr->rdata_offset = rdata_offset;
	w->pos = wire_rd_offset(&rd);
	w->left--;
	return 1;
}

/* RDATA layouts with compressible names: a fixed prefix, then names, then a fixed tail. */
struct rdata_shape {
	uint16_t type;
	uint8_t prefix; /* bytes before the first name */
	uint8_t names;  /* consecutive names */
	uint8_t tail;   /* exact bytes after the names (0xff: none checked) */
};

static const struct rdata_shape shapes[] = {
	{DNS_T_NS, 0, 1, 0},    {3 /* MD */, 0, 1, 0}, {4 /* MF */, 0, 1, 0},
	{DNS_T_CNAME, 0, 1, 0}, {DNS_T_SOA, 0, 2, 20}, {7 /* MB */, 0, 1, 0},
	{8 /* MG */, 0, 1, 0},  {9 /* MR */, 0, 1, 0}, {DNS_T_PTR, 0, 1, 0},
	{14 /* MINFO */, 0, 2, 0}, {DNS_T_MX, 2, 1, 0}, {17 /* RP */, 0, 2, 0},
	{18 /* AFSDB */, 2, 1, 0}, {21 /* RT */, 2, 1, 0}, {26 /* PX */, 2, 2, 0},
	{DNS_T_SRV, 6, 1, 0},   {36 /* KX */, 2, 1, 0},
};

static const struct rdata_shape *shape_of(uint16_t type)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (shapes[i].type == type) {
			return &shapes[i];
		}
	}
	return NULL;
}

int dnsmsg_rdata_unpack(const struct dns_walk *w, const struct dns_rr *rr, uint8_t *out,
                        size_t size)
{
	const struct rdata_shape *s = shape_of(rr->type);
	if (s == NULL) {
		if (rr->rdlen > size) {
			return ZX_ELIMIT;
		}
		memcpy(out, rr->rdata, rr->rdlen);
		return rr->rdlen;
	}
	size_t end = rr->rdata_offset + rr->rdlen;
	size_t pos = rr->rdata_offset;
	size_t o = 0;
	if (rr->rdlen < s->prefix) {
		return ZX_EFORMAT;
	}
	if (s->prefix > size) {
		return ZX_ELIMIT;
	}
	memcpy(out, w->msg + pos, s->prefix);
	o += s->prefix;
	pos += s->prefix;
	for (int i = 0; i < s->names; i++) {
		uint8_t name[DNAME_MAXLEN];
		/* names may point anywhere before them, but must not run past the RDATA */
		int n = dnsmsg_name_unpack(w->msg, end, &pos, name);
		if (n < 0) {
			return ZX_EFORMAT;
		}
		if (o + (size_t)n > size) {
			return ZX_ELIMIT;
		}
		memcpy(out + o, name, (size_t)n);
		o += (size_t)n;
	}
	if (end - pos != s->tail) {
		return ZX_EFORMAT;
	}
	if (o + s->tail > size) {
		return ZX_ELIMIT;
	}
	memcpy(out + o, w->msg + pos, s->tail);
	o += s->tail;
	return (int)o;
}

int dnsmsg_soa_parse(const uint8_t *rdata, size_t len, struct dns_soa *out)
{
	int m = dname_wire_len(rdata, len);
	if (m < 0) {
		return ZX_EFORMAT;
	}
	int r = dname_wire_len(rdata + m, len - (size_t)m);
	if (r < 0 || len - (size_t)m - (size_t)r != 20) {
		return ZX_EFORMAT;
	}
	struct wire_rd rd = wire_rd_init(rdata + m + r, 20);
	out->serial = wire_rd_u32(&rd);
	out->refresh = wire_rd_u32(&rd);
	out->retry = wire_rd_u32(&rd);
	out->expire = wire_rd_u32(&rd);
	out->minimum = wire_rd_u32(&rd);
	return 0;
}
