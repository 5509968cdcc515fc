/* SPDX-License-Identifier: MIT */
/* common/rdata.c -- RDATA walked field by field from ldns' RR descriptors.
 *
 * ldns_rr_descript() gives each type its field types; a plan per type turns them
 * into the few shapes the walk knows (fixed size, name, one-byte-length string,
 * two-byte-length data, HIP, the rest of the RDATA, and the rest with an inner
 * check). Plans for the types below PLAN_TYPES are built once; a type above is
 * planned on the stack at each call (TA, DLV and private types: rare). The
 * field sizes follow ldns_wire2rdf() (wire2host.c), which is what xfrctl dump
 * uses to print a stored record, with one difference: bytes after the last
 * field are an error here (ldns drops them silently).
 */
#include "common/rdata.h"

#include "common/dname.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PLAN_TYPES 272
#define PLAN_FIELDS 12

enum shape {
	SH_FIXED = 1, /* size bytes */
	SH_NAME,      /* an uncompressed name */
	SH_STR,       /* u8 length, then that many bytes */
	SH_DATA16,    /* u16 length, then that many bytes */
	SH_HIP,       /* u8 HIT length, u8 algorithm, u16 key length, HIT, key */
	SH_REST,      /* the rest of the RDATA, maybe empty */
	SH_BITMAP,    /* the rest: an NSEC type bitmap (maybe empty) */
	SH_SVCPARAMS, /* the rest: SVCB parameters (maybe empty) */
	SH_APL,       /* the rest: APL items (maybe empty) */
};

struct field {
	uint8_t shape;
	uint8_t size; /* SH_FIXED */
};

struct plan {
	bool known;   /* false: opaque */
	uint8_t min;  /* fields required (a missing SH_REST-like field counts as empty) */
	uint8_t n;    /* fields in f[] */
	bool repeat;  /* the last field repeats (TXT strings, HIP servers, APL items) */
	struct field f[PLAN_FIELDS];
	struct field var;
};

static struct plan plans[PLAN_TYPES];
static pthread_once_t plans_once = PTHREAD_ONCE_INIT;

static struct field field_of(ldns_rdf_type t)
{
	switch (t) {
	case LDNS_RDF_TYPE_DNAME:
		return (struct field){SH_NAME, 0};
	case LDNS_RDF_TYPE_CLASS:
	case LDNS_RDF_TYPE_ALG:
	case LDNS_RDF_TYPE_CERTIFICATE_USAGE:
	case LDNS_RDF_TYPE_SELECTOR:
	case LDNS_RDF_TYPE_MATCHING_TYPE:
	case LDNS_RDF_TYPE_INT8:
		return (struct field){SH_FIXED, 1};
	case LDNS_RDF_TYPE_TYPE:
	case LDNS_RDF_TYPE_INT16:
	case LDNS_RDF_TYPE_CERT_ALG:
		return (struct field){SH_FIXED, 2};
	case LDNS_RDF_TYPE_TIME:
	case LDNS_RDF_TYPE_INT32:
	case LDNS_RDF_TYPE_A:
	case LDNS_RDF_TYPE_PERIOD:
		return (struct field){SH_FIXED, 4};
	case LDNS_RDF_TYPE_TSIGTIME:
	case LDNS_RDF_TYPE_EUI48:
		return (struct field){SH_FIXED, 6};
	case LDNS_RDF_TYPE_ILNP64:
	case LDNS_RDF_TYPE_EUI64:
		return (struct field){SH_FIXED, 8};
	case LDNS_RDF_TYPE_AAAA:
		return (struct field){SH_FIXED, 16};
	case LDNS_RDF_TYPE_STR:
	case LDNS_RDF_TYPE_NSEC3_SALT:
	case LDNS_RDF_TYPE_TAG:
	case LDNS_RDF_TYPE_B32_EXT:
	case LDNS_RDF_TYPE_NSEC3_NEXT_OWNER:
		return (struct field){SH_STR, 0};
	case LDNS_RDF_TYPE_INT16_DATA:
		return (struct field){SH_DATA16, 0};
	case LDNS_RDF_TYPE_HIP:
		return (struct field){SH_HIP, 0};
	case LDNS_RDF_TYPE_NSEC:
		return (struct field){SH_BITMAP, 0};
	case LDNS_RDF_TYPE_SVCPARAMS:
		return (struct field){SH_SVCPARAMS, 0};
	case LDNS_RDF_TYPE_APL:
		return (struct field){SH_APL, 0};
	default:
		return (struct field){SH_REST, 0}; /* B64, HEX, UNKNOWN, LOC, WKS, ... */
	}
}

static void plan_build(uint16_t type, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	/* unassigned types get another type's descriptor (NULL's or type 0's) */
	if (d == NULL || d->_type != type || d->_name == NULL ||
	    d->_maximum > PLAN_FIELDS) {
		return;
	}
	p->known = true;
	p->min = d->_minimum;
	p->n = d->_maximum;
	for (size_t i = 0; i < p->n; i++) {
		p->f[i] = field_of(d->_wireformat[i]);
	}
	if (d->_variable != LDNS_RDF_TYPE_NONE) {
		p->repeat = true;
		p->var = field_of(d->_variable);
	}
}

static void plans_build(void)
{
	for (unsigned t = 0; t < PLAN_TYPES; t++) {
		plan_build((uint16_t)t, &plans[t]);
	}
}

static bool rest_shape(uint8_t shape)
{
	return shape == SH_REST || shape == SH_BITMAP || shape == SH_SVCPARAMS || shape == SH_APL;
}

/* NSEC type bitmap (RFC 4034 4.1.2): windows ascending, each 1 to 32 bytes. */
static const char *check_bitmap(const uint8_t *p, size_t len)
{
	int last = -1;
	for (size_t off = 0; off < len;) {
		if (len - off < 2) {
			return "a type bitmap window is cut short";
		}
		uint8_t win = p[off], n = p[off + 1];
		if ((int)win <= last || n == 0 || n > 32 || len - off - 2 < n) {
			return "a type bitmap window is malformed";
		}
		last = win;
		off += 2 + (size_t)n;
	}
	return NULL;
}

/* SVCB parameters (RFC 9460 2.2): keys strictly ascending, values inside. */
static const char *check_svcparams(const uint8_t *p, size_t len)
{
	long last = -1;
	for (size_t off = 0; off < len;) {
		if (len - off < 4) {
			return "an SVCB parameter is cut short";
		}
		unsigned key = (unsigned)(p[off] << 8 | p[off + 1]);
		size_t n = (size_t)(p[off + 2] << 8 | p[off + 3]);
		if ((long)key <= last || len - off - 4 < n) {
			return "SVCB parameters out of order or longer than RDATA";
		}
		last = key;
		off += 4 + n;
	}
	return NULL;
}

/* APL items (RFC 3123 4): family, prefix, N | AFD length, AFD part. */
static const char *check_apl(const uint8_t *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		if (len - off < 4 || len - off - 4 < (size_t)(p[off + 3] & 0x7f)) {
			return "an APL item is cut short";
		}
		off += 4 + (size_t)(p[off + 3] & 0x7f);
	}
	return NULL;
}

/* One field at @p *pos; advances it. Returns NULL or why it is malformed. */
static const char *take(const struct field *f, const uint8_t *rd, size_t len, size_t *pos)
{
	size_t left = len - *pos;
	const uint8_t *p = rd + *pos;
	size_t need = 0;
	const char *why = NULL;
	switch (f->shape) {
	case SH_FIXED:
		need = f->size;
		why = need > left ? "a fixed-size field is cut short" : NULL;
		break;
	case SH_NAME: {
		int n = dname_wire_len(p, left);
		need = n > 0 ? (size_t)n : 0;
		why = n < 0 ? "a name is malformed, compressed or runs past RDATA" : NULL;
		break;
	}
	case SH_STR:
		need = 1 + (size_t)p[0];
		why = need > left ? "a character-string runs past RDATA" : NULL;
		break;
	case SH_DATA16:
		need = left < 2 ? 3 : 2 + (size_t)(p[0] << 8 | p[1]);
		why = need > left ? "a length-prefixed field runs past RDATA" : NULL;
		break;
	case SH_HIP:
		need = left < 4 ? 5 : 4 + (size_t)p[0] + (size_t)(p[2] << 8 | p[3]);
		why = need > left ? "the HIP HIT or key runs past RDATA" : NULL;
		break;
	case SH_BITMAP:
		why = check_bitmap(p, left);
		need = left;
		break;
	case SH_SVCPARAMS:
		why = check_svcparams(p, left);
		need = left;
		break;
	case SH_APL:
		why = check_apl(p, left);
		need = left;
		break;
	default:
		need = left;
		break;
	}
	if (why == NULL) {
		*pos += need;
	}
	return why;
}

static const char *walk(const struct plan *p, const uint8_t *rd, size_t len)
{
	size_t pos = 0, i = 0;
	for (; pos < len; i++) {
		const struct field *f = i < p->n ? &p->f[i] : p->repeat ? &p->var : NULL;
		if (f == NULL) {
			return "RDATA goes on after the type's last field";
		}
		const char *why = take(f, rd, len, &pos);
		if (why != NULL) {
			return why;
		}
	}
	/* fields the RDATA ended before: only those that may be empty */
	for (; i < p->min; i++) {
		const struct field *f = i < p->n ? &p->f[i] : &p->var;
		if (!rest_shape(f->shape)) {
			return "RDATA ends before the type's fields do";
		}
	}
	return NULL;
}

int rdata_check(uint16_t type, const uint8_t *rdata, size_t len, const char **why)
{
	struct plan local;
	const struct plan *p;
	if (type < PLAN_TYPES) {
		pthread_once(&plans_once, plans_build);
		p = &plans[type];
	} else {
		plan_build(type, &local);
		p = &local;
	}
	if (!p->known) {
		return 0;
	}
	const char *w = walk(p, rdata, len);
	if (w == NULL) {
		return 0;
	}
	if (why != NULL) {
		*why = w;
	}
	return ZX_EFORMAT;
}

const char *rdata_type_name(uint16_t type, char *buf)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(type);
	if (d != NULL && d->_type == type && d->_name != NULL &&
	    strlen(d->_name) < RDATA_TYPE_NAMELEN) {
		memcpy(buf, d->_name, strlen(d->_name) + 1);
	} else {
		snprintf(buf, RDATA_TYPE_NAMELEN, "TYPE%u", type);
	}
	return buf;
}
